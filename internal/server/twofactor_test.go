package server_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
)

// TestReaper_TwoFactor: the reaper deletes the waiting two-factor logins
// that expired, by the injected clock, and keeps the others.
func TestReaper_TwoFactor(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	l := startLatch(t, dir, server.Config{Now: clock.Now, GCInterval: 10 * time.Millisecond})
	userID := l.Register(t, l.DefaultApplication(t).ID, "reaped@example.org")
	side, err := sqlite.Open(context.Background(), filepath.Join(dir, server.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer side.Close()
	u, err := side.GetUser(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	waiting := func(name string, expires time.Time) storage.TwoFactorLogin {
		return storage.TwoFactorLogin{Hash: []byte(name), TenantID: u.TenantID, UserID: u.ID, Inserted: now, Expires: expires}
	}
	for _, x := range []storage.TwoFactorLogin{waiting("expired", now.Add(-time.Second)), waiting("live", now.Add(time.Hour))} {
		if err := side.CreateTwoFactorLogin(t.Context(), x); err != nil {
			t.Fatal(err)
		}
	}
	latchtest.WaitUntil(t, 10*time.Second, "the reaper to delete an expired two-factor login", func() bool {
		_, err := side.GetTwoFactorLogin(t.Context(), []byte("expired"))
		return errors.Is(err, storage.ErrNotFound)
	})
	if _, err := side.GetTwoFactorLogin(t.Context(), []byte("live")); err != nil {
		t.Errorf("the live two-factor login: %v", err)
	}
}
