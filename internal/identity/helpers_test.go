package identity

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
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

// hashedPassword is testPassword's argon2id hash with the current
// parameters, made once for the test binary: a user imported with it
// costs no hashing, and its login costs one verification and no rehash.
var hashedPassword = sync.OnceValues(func() (password.Stored, error) { return password.Hash(testPassword) })

// mustImport stores u (active, with testPassword unless u brings a
// password of its own) in the tenant ("" for the only one) without
// hashing a password, and returns its id.
func (e *env) mustImport(t *testing.T, tenantID string, u api.User) string {
	t.Helper()
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.Password == "" {
		h, err := hashedPassword()
		if err != nil {
			t.Fatal(err)
		}
		u.EncryptionScheme, u.Password = h.Scheme, h.Hash
	}
	u.Active = true
	if err := e.ImportUsers(e.ctx, tenantID, api.ImportRequest{Users: []api.User{u}}); err != nil {
		t.Fatalf("import %s%s: %v", u.Email, u.Username, err)
	}
	return u.ID
}

// registered is a registration for an application, as an import takes it.
func registered(appID string, roles ...string) []api.UserRegistration {
	return []api.UserRegistration{{ApplicationID: appID, Roles: roles}}
}

// mustTenant creates a tenant that signs with the default tenant's key,
// changed by edit when it is not nil, and returns it.
func (e *env) mustTenant(t *testing.T, name string, edit func(*api.Tenant)) api.Tenant {
	t.Helper()
	def := e.defaultTenant(t)
	tn := DefaultTenant()
	tn.Name = name
	tn.JWTConfiguration.AccessTokenKeyID = def.JWTConfiguration.AccessTokenKeyID
	tn.JWTConfiguration.IDTokenKeyID = def.JWTConfiguration.IDTokenKeyID
	if edit != nil {
		edit(&tn)
	}
	tn, err := e.CreateTenant(e.ctx, "", tn)
	if err != nil {
		t.Fatalf("create tenant %s: %v", name, err)
	}
	return tn
}

// defaultTenant returns the tenant Bootstrap made.
func (e *env) defaultTenant(t *testing.T) api.Tenant {
	t.Helper()
	tn, err := e.GetTenant(e.ctx, e.app.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// editTenant changes the default tenant with edit and stores it.
func (e *env) editTenant(t *testing.T, edit func(*api.Tenant)) {
	t.Helper()
	tn := e.defaultTenant(t)
	edit(&tn)
	if _, err := e.UpdateTenant(e.ctx, tn.ID, tn); err != nil {
		t.Fatal(err)
	}
}

// wantCodes checks that err is an *api.Errors holding exactly the codes
// (field and general errors together; none for a nil err).
func wantCodes(t *testing.T, what string, err error, codes ...string) {
	t.Helper()
	var got []string
	if err != nil {
		var ae *api.Errors
		if !errors.As(err, &ae) {
			t.Fatalf("%s: %v, want *api.Errors %v", what, err, codes)
		}
		got = errorCodes(ae)
	}
	want := slices.Clone(codes)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: codes %v, want %v", what, got, want)
	}
}

// wantNotFound checks that err is storage.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("%s: %v, want storage.ErrNotFound", what, err)
	}
}
