// Package reliability holds the scale-out and fault tests of issue 13,
// run against the real binary (internal/apptest), most on PostgreSQL:
//
//   - two instances on one database, under load through both: a staff
//     step sent through both at once is taken once, a catalog change made
//     on one is found by a search on the other within the poll, each job
//     runs once, a holiday added on one moves deadlines on the other, and
//     every acknowledged case reads the same through either;
//   - PostgreSQL restarted under load: requests during the outage are
//     answered 503 with 请稍后重试, the instance recovers by itself, and
//     nothing acknowledged is lost or half-written;
//   - an instance killed (SIGKILL) while it delivers webhooks: the other
//     instance takes its jobs over, and every delivery is made, none twice
//     except one cut off mid-request by the kill;
//   - an instance killed mid-burst of submissions, or while it moves
//     staged files, and started again (on SQLite too): nothing
//     acknowledged is lost or half-written, and the drain is rescued and
//     finishes.
//
// The package has only tests; it runs beside internal/app in the suite.
// docs/ARCHITECTURE.md (Scale-out) says what the tests prove.
package reliability
