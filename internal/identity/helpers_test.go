package identity

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/fakeclock"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
	"github.com/latchid/latch/internal/token"
)

// testPassword is every test user's password.
const testPassword = "correct horse battery"

// env is a Service on a real SQLite database in a temporary directory,
// bootstrapped (a tenant, the Default application), with a clock that
// moves only when told.
type env struct {
	*Service
	store storage.Store
	clock *fakeclock.Clock
	app   api.Application
	ctx   context.Context
}

// envOption changes the Config of newEnv's Service.
type envOption func(*Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := token.NewSealer(bytes.Repeat([]byte{7}, token.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	clock := fakeclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	cfg := Config{Store: st, Sealer: sealer, Issuer: "https://latch.test", Now: clock.Now,
		Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := s.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &env{Service: s, store: st, clock: clock, app: app, ctx: ctx}
}

// mustUser creates a user with testPassword, registered for the Default
// application, and returns its id.
func (e *env) mustUser(t *testing.T, email string) string {
	t.Helper()
	res, err := e.Register(e.ctx, "", "", e.app.ID, api.RegistrationRequest{
		User:         &api.User{Email: email, Password: testPassword},
		Registration: api.UserRegistration{ApplicationID: e.app.ID},
	}, Client{NoTokens: true})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return res.User.ID
}

// login logs in to the Default application.
func (e *env) login(loginID, pw string) (LoginResult, error) {
	return e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: loginID, Password: pw, ApplicationID: e.app.ID}})
}

// withHashing gives the Service a hashing gate of its own.
func withHashing(g *password.Gate) envOption { return func(c *Config) { c.Hashing = g } }
