package storetest

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/store"
)

// ProcessCPU is the CPU time this process has used: benchmarks report it
// per operation, which depends less on other processes on the machine
// than the wall time does.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Backends is the CPU time used so far by each PostgreSQL server process
// behind a connection of a pool, by process id.
type Backends map[int]time.Duration

// ServerCPU reads the CPU time of the server processes of every
// connection db's write pool holds (taking them all at once, so that each
// is seen), from /proc: the benchmarks run the server on this machine.
// On SQLite it is empty: the database's work is the process's own.
func ServerCPU(tb testing.TB, db *store.DB) Backends {
	out := Backends{}
	if db.Dialect != store.Postgres {
		return out
	}
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range db.WritePool().Stats().OpenConnections {
		c, err := db.WritePool().Conn(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			tb.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			tb.Fatal(err)
		}
		// utime and stime, in clock ticks (100 a second), after the
		// command's closing parenthesis.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}

// Since is the CPU time the processes used after before was read (a
// connection opened meanwhile counts whole).
func (now Backends) Since(before Backends) time.Duration {
	var d time.Duration
	for pid, t := range now {
		d += t - before[pid]
	}
	return d
}
