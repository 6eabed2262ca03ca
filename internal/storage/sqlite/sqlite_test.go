package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/storagetest"
)

// openTemp opens a store on a new file in t.TempDir and closes it at cleanup.
func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) })
}

func TestConcurrency(t *testing.T) {
	storagetest.RunConcurrency(t, func(t *testing.T) storage.Store { return openTemp(t) })
}
