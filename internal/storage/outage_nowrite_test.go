package storage_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storage"
)

// A call that may write but finds nothing to (the dispatcher's claim with
// no delivery due, a garbage collection with nothing to delete) proves
// only that the database answers: during an outage of writes it does not
// end the outage, so the log has one start and one end, not one pair per
// poll.
func TestWithDeadlines_NothingWrittenProvesNoWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	other := openSQLite(t, path)
	logs := new(latchtest.LogBuffer)
	outage := storage.NewOutage(logs.Logger(), nil, 0)
	s := storage.WithDeadlines(openSQLite(t, path), 300*time.Millisecond, outage)
	ctx := t.Context()

	// Another process takes the write lock and keeps it until released.
	release := holdWriteLock(t, other)
	if err := s.PutMeta(ctx, "blocked", "x"); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("a write with the write lock held elsewhere: %v, want ErrUnavailable", err)
	}
	now := time.Now()
	for name, call := range map[string]func() error{
		"ClaimDeliveries": func() error {
			claimed, err := s.ClaimDeliveries(ctx, now, 10, now.Add(time.Minute))
			if len(claimed) != 0 {
				t.Errorf("claimed %d deliveries, want none", len(claimed))
			}
			return err
		},
		"CollectLoginAttempts": func() error { _, err := s.CollectLoginAttempts(ctx, now); return err },
		"GetMeta":              func() error { _, err := s.GetMeta(ctx, "other"); return err },
	} {
		if err := call(); err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s: %v", name, err)
		}
		if !outage.Down() {
			t.Errorf("%s, which wrote nothing, ended the outage of writes", name)
		}
	}
	release()
	if err := s.PutMeta(ctx, "after", "x"); err != nil {
		t.Fatalf("a write once the lock is released: %v", err)
	}
	text := logs.String()
	if n, m := strings.Count(text, "storage unavailable"), strings.Count(text, "storage available again"); n != 1 || m != 1 {
		t.Errorf("log has %d starts and %d ends of outages, want 1 and 1:\n%s", n, m, text)
	}
}
