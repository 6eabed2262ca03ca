package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/faultproxy"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
)

// Faults of the database, made for real: a PostgreSQL behind a proxy that
// freezes or dies (internal/faultproxy). Every request that needs the
// database is answered 503 with Retry-After, in time, in the shape of its
// API; the outage is logged in a few lines, not one per request.

// faultDatabaseTimeout is the deadline of a store call in these tests:
// the default, which a transaction that hashes a password (creating a
// user) must not outlast on a loaded machine.
const faultDatabaseTimeout = storage.DefaultTimeout

// newFaultEnv starts a Latch on PostgreSQL through a proxy.
func newFaultEnv(t *testing.T) (*env, *faultproxy.Proxy) {
	t.Helper()
	u := pgtest.Schema(t)
	p := faultproxy.Start(t, pgtest.Addr(t, u))
	e := newEnvWith(t, func(c *server.Config) {
		c.DatabaseURL = pgtest.Via(t, u, p.Addr())
		c.DatabaseTimeout = faultDatabaseTimeout
	})
	return e, p
}

// outageCase is a request made while the database is down, and the
// answer it must get: 503 with Retry-After, and a body of the route's kind.
type outageCase struct {
	name  string
	do    func(t *testing.T) *response
	shape string // "fusionauth", "oauth" or "empty"
}

// outageCases are requests of every kind, each needing the database.
func outageCases(e *env, login api.LoginResponse, appID, email, userID string, oa oauthApp) []outageCase {
	return []outageCase{
		{"login", func(t *testing.T) *response {
			return e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID})
		}, "fusionauth"},
		{"refresh", func(t *testing.T) *response { return e.refresh(t, login.RefreshToken) }, "fusionauth"},
		// The proof's URL needs the tenant's issuer: one deadline, not one
		// for the tenant and one more for the replay cache.
		{"refresh with a DPoP proof", func(t *testing.T) *response {
			return e.refresh(t, login.RefreshToken, withDPoP(newDeviceKey(t).proof(t, e, "POST", "/api/jwt/refresh")))
		}, "fusionauth"},
		{"get user", func(t *testing.T) *response { return e.do(t, "GET", "/api/user/"+userID, withKey(e.key)) }, "fusionauth"},
		{"logout", func(t *testing.T) *response {
			return e.do(t, "POST", "/api/logout?refreshToken="+url.QueryEscape(login.RefreshToken))
		}, "empty"},
		{"token", func(t *testing.T) *response {
			return e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, withBasic(oa.id, oa.secret))
		}, "oauth"},
		{"introspect", func(t *testing.T) *response {
			return e.do(t, "POST", "/oauth2/introspect", withForm(url.Values{"client_id": {oa.id}, "token": {login.Token}}))
		}, "oauth"},
		{"userinfo", func(t *testing.T) *response { return e.do(t, "GET", "/oauth2/userinfo", withBearer(login.Token)) }, "oauth"},
		{"discovery", func(t *testing.T) *response { return e.do(t, "GET", "/.well-known/openid-configuration") }, "empty"},
	}
}

// checkUnavailable asserts the 503 answer of a shape.
func checkUnavailable(t *testing.T, r *response, shape string) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable {
		t.Errorf("%s: want 503", r)
		return
	}
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", r)
	}
	switch shape {
	case "empty":
		if len(r.Body) != 0 {
			t.Errorf("%s: want an empty body", r)
		}
	case "oauth":
		var oe api.OAuthError
		r.wantJSON(t, 503, &oe)
		if oe.Code != "temporarily_unavailable" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: want error temporarily_unavailable and Cache-Control: no-store", r)
		}
	default:
		var errs api.Errors
		r.wantJSON(t, 503, &errs)
		if len(errs.GeneralErrors) != 1 || errs.GeneralErrors[0].Code != "[ServiceUnavailable]" || errs.GeneralErrors[0].Message == "" {
			t.Errorf("%s: want one general error [ServiceUnavailable]", r)
		}
	}
}

// runOutage makes every request of cases at once and checks each answer
// and that it came within limit.
func runOutage(t *testing.T, cases []outageCase, limit time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() {
			start := time.Now()
			r := c.do(t)
			if d := time.Since(start); d > limit {
				t.Errorf("%s: answered after %v, want within %v", c.name, d, limit)
			}
			checkUnavailable(t, r, c.shape)
		})
	}
	wg.Wait()
}

// outageLogs checks what the log says of an outage that refused n
// requests and is over: one error when it started, none per request, and
// its end with the count.
func outageLogs(t *testing.T, e *env, refused int) {
	t.Helper()
	logs := e.logs.String()
	var errs []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") {
			errs = append(errs, line)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "storage unavailable") {
		t.Errorf("error lines: %d, want 1 (the outage's start):\n%s", len(errs), strings.Join(errs, "\n"))
	}
	if want := fmt.Sprintf("refused=%d", refused); !strings.Contains(logs, "storage available again") || !strings.Contains(logs, want) {
		t.Errorf("log lacks the outage's end with %s:\n%s", want, logs)
	}
}

// waitStatusOK polls GET /api/status until it answers 200 (its result is
// reused for 2 s by Latch's clock, which the test moves).
func waitStatusOK(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e.clock.Advance(3 * time.Second)
		r := e.do(t, "GET", "/api/status")
		if r.Status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after the outage: %s", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A PostgreSQL that stops answering: every request that needs it is
// answered 503 once its store call reaches the deadline, long before
// guard (10 s) or the HTTP server (30 s) would give up; the status
// endpoint says so within its own deadline; the log has one error.
func TestUnavailable_FrozenDatabase(t *testing.T) {
	t.Parallel()
	e, p := newFaultEnv(t)
	appID := e.mustAppWithRoles(t)
	userID, email := e.mustUser(t, appID, "user")
	login := e.mustLogin(t, email, appID)
	oa := e.mustOAuthApp(t, nil)
	e.do(t, "GET", "/api/status").wantStatus(t, 200)

	p.Freeze()
	e.clock.Advance(3 * time.Second) // past the status check's reuse
	cases := outageCases(e, login, appID, email, userID, oa)
	runOutage(t, cases, faultDatabaseTimeout+5*time.Second)
	start := time.Now()
	r := e.do(t, "GET", "/api/status")
	if r.Status != 503 || r.Header.Get("Retry-After") == "" || !bytes.Contains(r.Body, []byte("database unreachable")) {
		t.Errorf("status while frozen: %s", r)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("status answered after %v", d)
	}

	p.Thaw()
	waitStatusOK(t, e)
	e.mustRefresh(t, login.RefreshToken)
	outageLogs(t, e, len(cases))
}

// TestUnavailable_KeysServeTheOutage: while the database is frozen or
// dead, the key ring read last keeps verifying access tokens
// (/api/jwt/validate) and making the JWKS, at once, for
// identity.KeyRingOutageGrace after it was read; past that they answer
// 503 as the rest does.
func TestUnavailable_KeysServeTheOutage(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{"frozen", "dead"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			e, p := newFaultEnv(t)
			appID := e.mustAppWithRoles(t)
			_, email := e.mustUser(t, appID, "user")
			login := e.mustLogin(t, email, appID)
			jwks := e.do(t, "GET", "/.well-known/jwks.json")
			jwks.wantStatus(t, 200)

			if fault == "frozen" {
				p.Freeze()
			} else {
				p.Kill()
			}
			e.clock.Advance(3 * time.Second) // past the ring's cache time
			start := time.Now()
			e.do(t, "GET", "/api/jwt/validate", withBearer(login.Token)).wantStatus(t, 200)
			if r := e.do(t, "GET", "/.well-known/jwks.json"); r.Status != 200 || !bytes.Equal(r.Body, jwks.Body) {
				t.Errorf("JWKS during the outage: %s, want the keys as before", r)
			}
			// The frozen store's read is still held: no answer waited for it.
			if d := time.Since(start); d >= faultDatabaseTimeout {
				t.Errorf("answered after %v, the store's deadline", d)
			}

			e.clock.Advance(identity.KeyRingOutageGrace)
			checkUnavailable(t, e.do(t, "GET", "/api/jwt/validate", withBearer(login.Token)), "empty")
			checkUnavailable(t, e.do(t, "GET", "/.well-known/jwks.json"), "empty")

			if fault == "frozen" {
				p.Thaw()
			} else {
				p.Revive(t)
			}
			waitStatusOK(t, e)
			e.clock.Advance(2 * time.Second) // past a failed read's backoff
			e.do(t, "GET", "/api/jwt/validate", withBearer(login.Token)).wantStatus(t, 200)
		})
	}
}

// A PostgreSQL that died: the same answers, at once (the connection is
// refused), and Latch serves again when it is back.
func TestUnavailable_DeadDatabase(t *testing.T) {
	t.Parallel()
	e, p := newFaultEnv(t)
	appID := e.mustAppWithRoles(t)
	userID, email := e.mustUser(t, appID, "user")
	login := e.mustLogin(t, email, appID)
	oa := e.mustOAuthApp(t, nil)

	p.Kill()
	e.clock.Advance(3 * time.Second)
	cases := outageCases(e, login, appID, email, userID, oa)
	runOutage(t, cases, 3*time.Second)
	runOutage(t, cases, 3*time.Second) // again: still one error line
	if r := e.do(t, "GET", "/api/status"); r.Status != 503 {
		t.Errorf("status while dead: %s", r)
	}
	p.Revive(t)
	waitStatusOK(t, e)
	e.mustRefresh(t, login.RefreshToken)
	outageLogs(t, e, 2*len(cases))
}

// A one-time-use refresh whose rotation is held in the network when Latch
// gives up: Latch answers 503, and the rotation does not commit when the
// network delivers it later, so the client's retry with the same value,
// after the outage, is a refresh and not reuse, even without a grace
// period.
func TestRefresh_FrozenDuringRotation(t *testing.T) {
	t.Parallel()
	e, p := newFaultEnv(t)
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenUsagePolicy":             "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 0},
		"refreshTokenRevocationPolicy":        map[string]any{"onOneTimeTokenReuse": true},
	})
	login := e.mustLogin(t, email, appID)
	hash := sha256.Sum256([]byte(login.RefreshToken))
	// The refresh looks the session up by the token's hash, then rotates
	// it (the hash again, in the UPDATE): freeze when the UPDATE goes out.
	seen := 0
	p.FreezeWhen(func(b []byte) bool {
		if bytes.Contains(b, hash[:]) {
			seen++
		}
		return seen == 2
	})
	ended := p.Ended()
	start := time.Now()
	checkUnavailable(t, e.refresh(t, login.RefreshToken), "fusionauth")
	if d := time.Since(start); d > faultDatabaseTimeout+5*time.Second {
		t.Errorf("refresh answered after %v", d)
	}
	if !p.Frozen() {
		t.Fatal("the rotation never went out")
	}
	// The partition heals: what was held reaches PostgreSQL, and the end
	// of the connection Latch gave up.
	p.Thaw()
	deadline := time.Now().Add(10 * time.Second)
	for p.Ended() == ended {
		if time.Now().After(deadline) {
			t.Fatal("PostgreSQL never saw the end of the abandoned connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The client retries with the value it has.
	res := e.mustRefresh(t, login.RefreshToken)
	if res.RefreshToken == login.RefreshToken || res.RefreshTokenID != login.RefreshTokenID {
		t.Fatalf("the retry: %+v, want a rotation of the same session", res)
	}
	e.mustRefresh(t, res.RefreshToken)
}

// The status endpoint sees a database that refuses writes (it commits a
// small probe), and an anonymous caller cannot make it write at any rate:
// a check's result is reused for 2 s.
func TestStatus_WriteProbe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvWith(t, func(c *server.Config) { c.DataDir = dir })
	probe := func() string {
		t.Helper()
		s, err := sqlite.Open(t.Context(), filepath.Join(dir, server.DatabaseFile))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		v, _ := s.GetMeta(t.Context(), storage.ProbeKey)
		return v
	}
	e.clock.Advance(time.Minute)
	first := e.clock.Now()
	e.do(t, "GET", "/api/status").wantStatus(t, 200)
	if got, want := probe(), first.Format(time.RFC3339Nano); got != want {
		t.Fatalf("probe record after a status check: %q, want %q", got, want)
	}
	for range 20 {
		e.clock.Advance(50 * time.Millisecond)
		e.do(t, "GET", "/api/status").wantStatus(t, 200)
	}
	if got := probe(); got != first.Format(time.RFC3339Nano) {
		t.Errorf("probe record after 20 checks within 1 s: %q, want the first check's", got)
	}
	e.clock.Advance(2 * time.Second)
	e.do(t, "GET", "/api/status").wantStatus(t, 200)
	if got, want := probe(), e.clock.Now().Format(time.RFC3339Nano); got != want {
		t.Errorf("probe record after 2 s more: %q, want %q", got, want)
	}
}
