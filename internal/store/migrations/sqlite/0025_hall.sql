-- The hall (internal/hall): appointments (预约) and queue numbers (取号叫号).
--
-- A hall is a department of kind 'center' (the district's 政务服务中心) or
-- 'street_center' (a street's 便民服务中心): it has no table of its own.
-- Its window groups (窗口组) each take numbers with a letter prefix, serve
-- a list of items at a list of windows, and offer booking slots of
-- slot_minutes within hours (office periods, "09:00-12:00,13:30-17:30")
-- on the calendar's working days, capacity bookings a slot.
CREATE TABLE hall_groups (
    id            INTEGER PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    windows       TEXT NOT NULL,
    hours         TEXT NOT NULL,
    slot_minutes  INTEGER NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
    capacity      INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 100),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    UNIQUE (department_id, prefix),
    UNIQUE (department_id, name)
);

CREATE TABLE hall_group_items (
    group_id INTEGER NOT NULL REFERENCES hall_groups (id),
    item_id  INTEGER NOT NULL REFERENCES items (id),
    PRIMARY KEY (group_id, item_id)
);
CREATE INDEX hall_group_items_item ON hall_group_items (item_id);

-- Places taken per slot: a booking adds one with a conditional UPDATE
-- (booked < capacity), which holds under concurrent booking on both
-- databases; a cancellation gives it back.
CREATE TABLE hall_slots (
    group_id  INTEGER NOT NULL REFERENCES hall_groups (id),
    starts_at TIMESTAMP NOT NULL,
    booked    INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0),
    PRIMARY KEY (group_id, starts_at)
);

-- One row per person who ever booked: a booking locks it first, so that
-- one person's bookings are checked against each other one at a time.
CREATE TABLE hall_people (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    bookings   INTEGER NOT NULL DEFAULT 0
);

-- A booking is 'booked' until it is cancelled or checked in at the kiosk;
-- one still 'booked' after its slot ended is a no-show (read, not stored).
CREATE TABLE hall_bookings (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    group_id      INTEGER NOT NULL REFERENCES hall_groups (id),
    item_id       INTEGER NOT NULL REFERENCES items (id),
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    day           TEXT NOT NULL,
    starts_at     TIMESTAMP NOT NULL,
    ends_at       TIMESTAMP NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'checked_in')),
    created_at    TIMESTAMP NOT NULL,
    cancelled_at  TIMESTAMP,
    checked_in_at TIMESTAMP,
    ticket_id     INTEGER
);
-- Once per person, item and day (a cancelled booking does not count).
CREATE UNIQUE INDEX hall_bookings_once ON hall_bookings (account_id, item_id, day) WHERE status <> 'cancelled';
CREATE INDEX hall_bookings_account ON hall_bookings (account_id, starts_at);
CREATE INDEX hall_bookings_group ON hall_bookings (group_id, day);

-- The last number given per group and day.
CREATE TABLE hall_counters (
    group_id INTEGER NOT NULL REFERENCES hall_groups (id),
    day      TEXT NOT NULL,
    last     INTEGER NOT NULL,
    PRIMARY KEY (group_id, day)
);

-- A queue number. Taken by a booking's check-in (priority 1), at the
-- kiosk by 身份证号码 or by a clerk (priority 0). The ID number is sealed
-- and found by its keyed index; the screen shows only numbers and windows.
CREATE TABLE hall_tickets (
    id               INTEGER PRIMARY KEY,
    group_id         INTEGER NOT NULL REFERENCES hall_groups (id),
    day              TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    number           TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source IN ('booking', 'kiosk', 'clerk')),
    priority         INTEGER NOT NULL,
    booking_id       INTEGER REFERENCES hall_bookings (id),
    item_id          INTEGER REFERENCES items (id),
    id_number_sealed TEXT NOT NULL DEFAULT '',
    id_number_index  TEXT NOT NULL DEFAULT '',
    id_number_masked TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'served', 'no_show')),
    taken_at         TIMESTAMP NOT NULL,
    called_at        TIMESTAMP,
    announced_at     TIMESTAMP,
    finished_at      TIMESTAMP,
    window_name      TEXT NOT NULL DEFAULT '',
    called_by        INTEGER REFERENCES accounts (id),
    recalls          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, day, seq)
);
CREATE INDEX hall_tickets_queue ON hall_tickets (group_id, day, status, priority, seq);
CREATE INDEX hall_tickets_person ON hall_tickets (id_number_index, day);

-- Waiting figures per group and day, added in the transaction that calls
-- (taken → called) and the one that serves (called → served) a ticket.
CREATE TABLE hall_waits (
    group_id      INTEGER NOT NULL REFERENCES hall_groups (id),
    day           TEXT NOT NULL,
    called        INTEGER NOT NULL DEFAULT 0,
    wait_seconds  INTEGER NOT NULL DEFAULT 0,
    wait_max      INTEGER NOT NULL DEFAULT 0,
    served        INTEGER NOT NULL DEFAULT 0,
    serve_seconds INTEGER NOT NULL DEFAULT 0,
    serve_max     INTEGER NOT NULL DEFAULT 0,
    no_shows      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, day)
);
