package guard_test

import (
	"testing"

	"github.com/latchid/latch/internal/jws/jwstest"
)

// guard is imported by app backends: it must not drag in the server's
// internals or any database driver (DESIGN.md, "Dependencies point
// inwards"), nor cgo. Outside the standard library it may use only the
// wire types, package dpop, singleflight and, of the server's internal
// packages, internal/jws alone, which is itself stdlib-only (its own
// TestDeps) and is guard's one JOSE parser: no JOSE library either.
func TestDeps(t *testing.T) {
	jwstest.CheckDeps(t, "github.com/latchid/latch/guard",
		[]string{
			"github.com/latchid/latch/api",
			"github.com/latchid/latch/dpop",
			"github.com/latchid/latch/internal/jws",
			"golang.org/x/sync/singleflight",
		},
		// Not allowed anyway; named so that a slip says what it is. No
		// internal package but internal/jws is allowed either.
		[]string{
			"github.com/latchid/latch/client/...",
			"database/sql/...",
			"modernc.org/sqlite/...",
			"github.com/jackc/pgx/...",
			"github.com/lib/pq/...",
			"github.com/mattn/go-sqlite3/...",
			"github.com/go-jose/go-jose/v4/...",
		})
}
