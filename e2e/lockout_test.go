package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/demo"
	pw "github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storefront"
)

// passwordChecks reads Latch's count of the passwords logins checked.
func passwordChecks(t *testing.T, ctx context.Context, env *demo.Env) int {
	t.Helper()
	r := send(t, ctx, "GET", env.LatchURL+"/api/prometheus/metrics", nil, "Authorization", env.APIKey)
	if r.status != http.StatusOK {
		t.Fatalf("metrics: %d", r.status)
	}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "latch_password_checks_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatal("no latch_password_checks_total in the metrics")
	return 0
}

// TestAttack_ParallelGuesses: a guesser sends 50 wrong passwords at once
// through the Store. Latch checks as many as the lockout's threshold (3
// here, to keep the test quick under the race detector: each check is an
// argon2id hash) and refuses the rest, as busy (503) while those checks
// run, as locked (409) once they failed; then the right password gets
// exactly the answer a wrong one gets, and none is checked. The user's
// device stays logged in.
func TestAttack_ParallelGuesses(t *testing.T) {
	ctx := testContext(t)
	// Room for every check to wait for a hashing slot: under the race
	// detector a hash takes long, and the default wait would shed some.
	env := startEnv(t, demo.Options{Latch: func(c *server.Config) { c.Hashing = pw.NewGate(2, 50, time.Minute) }})
	mobile := newDevice(env, "Mobile", nil)
	mobile.login(t, ctx)
	const threshold = 3
	var tenants api.TenantResponse
	admin(t, ctx, env, "GET", "/api/tenant", nil, &tenants)
	admin(t, ctx, env, "PATCH", "/api/tenant/"+tenants.Tenants[0].ID, map[string]any{"tenant": map[string]any{
		"failedAuthenticationConfiguration": map[string]any{"tooManyAttempts": threshold}}}, nil)
	before := passwordChecks(t, ctx, env)

	const guesses = 50
	statuses := make([]int, guesses)
	// A client that waits for the slow answers: the checks wait for a
	// hashing slot, a few at a time.
	patient := &http.Client{Timeout: 45 * time.Second}
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			body, _ := json.Marshal(storefront.LoginRequest{LoginID: demo.Email, Password: "guess " + strconv.Itoa(i)})
			res, err := patient.Post(env.StoreURL+"/api/login", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Errorf("guess %d: %v", i, err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	checked := passwordChecks(t, ctx, env) - before
	t.Logf("%d parallel guesses: %d passwords checked; answers %v", guesses, checked, count)
	if checked != threshold || count[http.StatusUnauthorized] != threshold ||
		count[http.StatusConflict]+count[http.StatusServiceUnavailable] != guesses-threshold {
		t.Fatalf("%d passwords checked, answers %v; want %d checked, %d × 401 and %d × 409 or 503",
			checked, count, threshold, threshold, guesses-threshold)
	}

	wrong := send(t, ctx, "POST", env.StoreURL+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: "one more guess"})
	right := send(t, ctx, "POST", env.StoreURL+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: password})
	if right.status != http.StatusConflict || right.status != wrong.status || !bytes.Equal(right.body, wrong.body) ||
		right.header.Get("Retry-After") != wrong.header.Get("Retry-After") {
		t.Errorf("while locked, the right password got %d %s (Retry-After %q), a wrong one %d %s (%q): want the same 409",
			right.status, right.body, right.header.Get("Retry-After"), wrong.status, wrong.body, wrong.header.Get("Retry-After"))
	}
	if n := passwordChecks(t, ctx, env) - before; n != threshold {
		t.Errorf("%d passwords checked after the lock, want still %d", n, threshold)
	}
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "the user's device is still logged in")
	env.Clock.Advance(demo.PastJWT)
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "and refreshes: the lock revoked nothing")
}

// TestParallelLogins_RightPasswordsNotLocked: a user logs in from ten
// devices at once, all with the right password, through the Store, with
// the lockout's threshold at 3. Each logs in or is told to retry (503),
// none is locked out (409), and the user is not locked afterwards.
func TestParallelLogins_RightPasswordsNotLocked(t *testing.T) {
	ctx := testContext(t)
	env := startEnv(t, demo.Options{Latch: func(c *server.Config) { c.Hashing = pw.NewGate(2, 50, time.Minute) }})
	const threshold = 3
	var tenants api.TenantResponse
	admin(t, ctx, env, "GET", "/api/tenant", nil, &tenants)
	admin(t, ctx, env, "PATCH", "/api/tenant/"+tenants.Tenants[0].ID, map[string]any{"tenant": map[string]any{
		"failedAuthenticationConfiguration": map[string]any{"tooManyAttempts": threshold}}}, nil)

	const logins = 10
	statuses := make([]int, logins)
	patient := &http.Client{Timeout: 45 * time.Second}
	var wg sync.WaitGroup
	for i := range logins {
		wg.Go(func() {
			body, _ := json.Marshal(storefront.LoginRequest{LoginID: demo.Email, Password: password})
			res, err := patient.Post(env.StoreURL+"/api/login", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Errorf("login %d: %v", i, err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	t.Logf("%d parallel logins with the right password: answers %v", logins, count)
	if count[http.StatusOK] == 0 || count[http.StatusOK]+count[http.StatusServiceUnavailable] != logins {
		t.Errorf("answers %v; want logins (200) and retries (503) only, no 409", count)
	}
	again := send(t, ctx, "POST", env.StoreURL+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: password})
	if again.status != http.StatusOK {
		t.Errorf("a login afterwards: %d %s; want 200", again.status, again.body)
	}
}
