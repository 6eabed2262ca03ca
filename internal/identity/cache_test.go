package identity

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/fakeclock"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/postgres"
	"github.com/latchid/latch/internal/storage/sqlite"
	"github.com/latchid/latch/internal/token"
)

// nodes are two Services on one database, as two Latch nodes are, on one
// fake clock: a is the node where changes are made, b the other.
type nodes struct {
	a, b   *Service
	clock  *fakeclock.Clock
	ctx    context.Context
	app    api.Application
	userID string
}

// backends open a store of each kind on one database, for each node.
var backends = []struct {
	name string
	// db names a new database; open opens a store on it.
	db   func(t *testing.T) string
	open func(ctx context.Context, db string) (storage.Store, error)
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "latch.db") },
		func(ctx context.Context, db string) (storage.Store, error) { return sqlite.Open(ctx, db) }},
	{"postgres", func(t *testing.T) string { return pgtest.Schema(t) },
		func(ctx context.Context, db string) (storage.Store, error) { return postgres.Open(ctx, db) }},
}

// newNodes returns two Services, each with a store of its own, on one
// database of backend b: bootstrapped by a, with one user registered for
// the Default application.
func newNodes(t *testing.T, b int) *nodes {
	t.Helper()
	ctx := t.Context()
	path := backends[b].db(t)
	clock := fakeclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	sealer, err := token.NewSealer(bytes.Repeat([]byte{7}, token.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	node := func() *Service {
		st, err := backends[b].open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s, err := New(Config{Store: st, Sealer: sealer, Issuer: "https://latch.test", Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	n := &nodes{a: node(), b: node(), clock: clock, ctx: ctx}
	if n.app, _, err = n.a.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	err = n.a.ImportUsers(ctx, "", api.ImportRequest{Users: []api.User{{
		Email: "ana@example.org", Password: testPassword, Active: true, Registrations: []api.UserRegistration{{ApplicationID: n.app.ID}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := n.a.FindUser(ctx, "", "ana@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	n.userID = u.ID
	return n
}

// session starts a session for the user on s and returns its value.
func (n *nodes) session(t *testing.T, s *Service) string {
	t.Helper()
	u, err := s.store.GetUser(n.ctx, n.userID)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := s.store.GetTenant(n.ctx, n.app.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := s.newSession(n.ctx, tn, n.app, u, api.AuthPassword, nil, Client{})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// kid returns the kid in a JWT's header.
func kid(t *testing.T, jwt string) string {
	t.Helper()
	head, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(head, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// TestCache_ChangeOnOneNode checks the bound of the caches: a change made
// on node a is in force on a at once, and on node b, whose cache holds the
// record from before, once DefaultCacheTTL has passed since b read it, and
// not before.
func TestCache_ChangeOnOneNode(t *testing.T) {
	// Each case changes something on a; seen tells whether s, refreshing
	// the value it is given (or logging in), works under the change, and
	// returns the value to use next.
	cases := []struct {
		name   string
		change func(t *testing.T, n *nodes)
		seen   func(t *testing.T, n *nodes, s *Service, value string) (bool, string)
	}{
		{
			name: "application no longer allows refresh",
			change: func(t *testing.T, n *nodes) {
				app, err := n.a.GetApplication(n.ctx, "", n.app.ID)
				if err != nil {
					t.Fatal(err)
				}
				app.LoginConfiguration.AllowTokenRefresh = false
				if _, err := n.a.UpdateApplication(n.ctx, "", app.ID, app); err != nil {
					t.Fatal(err)
				}
			},
			seen: func(t *testing.T, n *nodes, s *Service, value string) (bool, string) {
				_, err := s.Refresh(n.ctx, RefreshInput{RefreshToken: value})
				if err != nil && !errors.Is(err, ErrRefreshTokenInvalid) {
					t.Fatal(err)
				}
				return err != nil, value
			},
		},
		{
			name: "application deactivated",
			change: func(t *testing.T, n *nodes) {
				if err := n.a.DeleteApplication(n.ctx, "", n.app.ID, false); err != nil {
					t.Fatal(err)
				}
			},
			seen: func(t *testing.T, n *nodes, s *Service, value string) (bool, string) {
				_, err := s.Login(n.ctx, LoginInput{Request: api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: n.app.ID}})
				return err != nil, value
			},
		},
		{
			name: "tenant's refresh tokens become one-time-use",
			change: func(t *testing.T, n *nodes) {
				tn, err := n.a.GetTenant(n.ctx, n.app.TenantID)
				if err != nil {
					t.Fatal(err)
				}
				tn.JWTConfiguration.RefreshTokenUsagePolicy = api.RefreshOneTimeUse
				if _, err := n.a.UpdateTenant(n.ctx, tn.ID, tn); err != nil {
					t.Fatal(err)
				}
			},
			seen: func(t *testing.T, n *nodes, s *Service, value string) (bool, string) {
				res, err := s.Refresh(n.ctx, RefreshInput{RefreshToken: value})
				if err != nil {
					t.Fatal(err)
				}
				return res.Rotated, res.RefreshToken
			},
		},
		{
			name: "tenant's signing key rotated",
			change: func(t *testing.T, n *nodes) {
				if _, err := n.a.RotateKey(n.ctx, n.app.TenantID); err != nil {
					t.Fatal(err)
				}
			},
			seen: func(t *testing.T, n *nodes, s *Service, value string) (bool, string) {
				res, err := s.Refresh(n.ctx, RefreshInput{RefreshToken: value})
				if err != nil {
					t.Fatal(err)
				}
				// Signed by the key RotateKey made, or by the one before.
				keys, err := n.a.store.ListKeys(n.ctx)
				if err != nil {
					t.Fatal(err)
				}
				signer := kid(t, res.Token)
				for _, k := range keys {
					if k.Kid == signer {
						return strings.Contains(k.Name, "(rotated"), res.RefreshToken
					}
				}
				t.Fatalf("signed by %s, no key of the store", signer)
				return false, ""
			},
		},
	}
	for b := range backends {
		for _, c := range cases {
			t.Run(backends[b].name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				n := newNodes(t, b)
				va, vb := n.session(t, n.a), n.session(t, n.b)
				var seen bool
				// Both nodes read what rules a refresh, before the change.
				if seen, va = c.seen(t, n, n.a, va); seen {
					t.Fatal("a: the change is in force before it is made")
				}
				if seen, vb = c.seen(t, n, n.b, vb); seen {
					t.Fatal("b: the change is in force before it is made")
				}
				n.clock.Advance(DefaultCacheTTL / 2)
				c.change(t, n)
				if seen, _ = c.seen(t, n, n.a, va); !seen {
					t.Error("a: the change is not in force on the node that made it")
				}
				n.clock.Advance(DefaultCacheTTL/2 - time.Microsecond)
				if seen, vb = c.seen(t, n, n.b, vb); seen {
					t.Errorf("b: the change is in force before the cache expired: the cache did not serve")
				}
				n.clock.Advance(time.Microsecond)
				if seen, _ = c.seen(t, n, n.b, vb); !seen {
					t.Errorf("b: the change is not in force %v after b read the records", DefaultCacheTTL)
				}
			})
		}
	}
}

// TestCache_DeletedKeyVerifiesNothing checks that a key deleted on node a
// no longer verifies a token on a at once, and on b within the bound.
func TestCache_DeletedKeyVerifiesNothing(t *testing.T) {
	for b := range backends {
		t.Run(backends[b].name, func(t *testing.T) { deletedKeyVerifiesNothing(t, newNodes(t, b)) })
	}
}

func deletedKeyVerifiesNothing(t *testing.T, n *nodes) {
	k, err := n.a.GenerateKey(n.ctx, "", api.Key{Algorithm: "ES256", Name: "spare"})
	if err != nil {
		t.Fatal(err)
	}
	// The application signs with the spare key for one refresh, then no more.
	app, err := n.a.GetApplication(n.ctx, "", n.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	app.JWTConfiguration.AccessTokenKeyID = k.ID
	if _, err := n.a.UpdateApplication(n.ctx, "", app.ID, app); err != nil {
		t.Fatal(err)
	}
	res, err := n.a.Refresh(n.ctx, RefreshInput{RefreshToken: n.session(t, n.a)})
	if err != nil {
		t.Fatal(err)
	}
	if got := kid(t, res.Token); got != k.Kid {
		t.Fatalf("signed with %s, want the spare key %s", got, k.Kid)
	}
	app.JWTConfiguration.AccessTokenKeyID = ""
	if _, err := n.a.UpdateApplication(n.ctx, "", app.ID, app); err != nil {
		t.Fatal(err)
	}
	if _, err := n.b.ValidateToken(n.ctx, res.Token); err != nil {
		t.Fatalf("b, before the deletion: %v", err)
	}
	n.clock.Advance(DefaultCacheTTL / 2)
	if err := n.a.DeleteKey(n.ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.a.ValidateToken(n.ctx, res.Token); err == nil {
		t.Error("a: a token of the key it deleted still verifies")
	}
	n.clock.Advance(DefaultCacheTTL / 2)
	if _, err := n.b.ValidateToken(n.ctx, res.Token); err == nil {
		t.Errorf("b: a token of a key deleted on a still verifies %v after b read its keys", DefaultCacheTTL)
	}
}

// TestCache_RolledBackWrite checks that a write whose transaction rolls
// back leaves nothing stale behind: the cache serves the record as stored.
func TestCache_RolledBackWrite(t *testing.T) {
	n := newNodes(t, 0)
	v := n.session(t, n.a)
	if _, err := n.a.Refresh(n.ctx, RefreshInput{RefreshToken: v}); err != nil {
		t.Fatal(err)
	}
	errBack := errors.New("roll back")
	err := n.a.Tx(n.ctx, func(tx *Service) error {
		a, err := tx.store.GetApplication(n.ctx, n.app.ID)
		if err != nil {
			return err
		}
		a.LoginConfiguration.AllowTokenRefresh = false
		if err := tx.store.UpdateApplication(n.ctx, a); err != nil {
			return err
		}
		// Outside the transaction, the refresh still reads the stored record.
		return errBack
	})
	if !errors.Is(err, errBack) {
		t.Fatal(err)
	}
	if _, err := n.a.Refresh(n.ctx, RefreshInput{RefreshToken: v}); err != nil {
		t.Errorf("refresh after a rolled-back change: %v", err)
	}
}
