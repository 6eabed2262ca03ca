package postgres

import (
	"testing"

	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/storage/storagetest"
)

// TestTwoFactorTwoNodes races the one-time uses of two-factor records
// over two Stores on one schema, as two Latch nodes on one database.
func TestTwoFactorTwoNodes(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	a := openAt(t, u)
	b := openAt(t, u)
	storagetest.RunTwoFactorNodes(t, a, b)
}
