package sqlite

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchid/latch/internal/diskfull"
	"github.com/latchid/latch/internal/storage"
)

// TestWriteOutage runs, in a child process, a store whose writes the
// kernel refuses, as it refuses them on a full disk: a file size limit of
// one byte (what `ulimit -f` sets, process-wide, hence the child) makes
// every write into the database, its WAL and its shared-memory index fail.
// Writes and ProbeWrite are ErrUnavailable; reads go on; once the limit
// is lifted, writes go through again and nothing written during the
// outage is there.
func TestWriteOutage(t *testing.T) {
	if diskfull.InChild(t) {
		writeOutageChild(t)
	}
}

func writeOutageChild(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	seed(t, s)
	if err := s.PutMeta(ctx, "before", "x"); err != nil {
		t.Fatal(err)
	}

	lift := diskfull.Limit(t, 1)
	start := time.Now()
	for name, call := range map[string]func() error{
		"PutMeta":    func() error { return s.PutMeta(ctx, "during", "x") },
		"ProbeWrite": func() error { return s.ProbeWrite(ctx, time.Now()) },
		"Tx": func() error {
			return s.Tx(ctx, func(tx storage.Store) error { return tx.PutMeta(ctx, "during-tx", "x") })
		},
		"DeleteUser": func() error { return s.DeleteUser(ctx, "u-1") },
		"CreateSession": func() error { // committed in a group
			return s.CreateSession(ctx, storage.Session{ID: "s-during", TenantID: "t-1", UserID: "u-1", TokenHash: []byte("during")})
		},
	} {
		if err := call(); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s with writes refused: %v, want ErrUnavailable", name, err)
		} else {
			t.Logf("%s with writes refused: %v", name, err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refused writes took %v: they should fail at once", d)
	}
	if v, err := s.GetMeta(ctx, "before"); err != nil || v != "x" {
		t.Errorf("a read with writes refused: %q, %v", v, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping with writes refused: %v (it checks that the database answers, not that it writes)", err)
	}

	lift()
	if err := s.ProbeWrite(ctx, time.Now()); err != nil {
		t.Fatalf("ProbeWrite once writes are allowed again: %v", err)
	}
	if err := s.PutMeta(ctx, "after", "x"); err != nil {
		t.Fatalf("PutMeta once writes are allowed again: %v", err)
	}
	for _, key := range []string{"during", "during-tx"} {
		if _, err := s.GetMeta(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetMeta(%q), written during the outage: %v, want ErrNotFound", key, err)
		}
	}
	if _, err := s.GetSession(ctx, "s-during"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetSession of the session created during the outage: %v, want ErrNotFound", err)
	}
	if _, err := s.GetUser(ctx, "u-1"); err != nil {
		t.Errorf("the user deleted during the outage: %v, want still there", err)
	}
	integrityCheck(t, s)
}
