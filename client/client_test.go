package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/dpop"
)

// mustLogin logs c in as the test user.
func mustLogin(t *testing.T, c *client.Client) {
	t.Helper()
	if _, err := c.Login(t.Context(), testLogin, testPassword); err != nil {
		t.Fatalf("Login: %v", err)
	}
}

// send sends req through c's HTTP client and returns the status.
func send(t *testing.T, c *client.Client, req *http.Request) int {
	t.Helper()
	resp, err := c.HTTP().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// get sends GET path through c's HTTP client and returns the status.
func get(t *testing.T, c *client.Client, b *backend, path string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, c, req)
}

// post sends POST path with body through c's HTTP client and returns the
// status. Unless replayable, the request has no GetBody, so that the
// Client cannot send it again.
func post(t *testing.T, c *client.Client, b *backend, path, body string, replayable bool) int {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if !replayable {
		rd = io.NopCloser(rd)
	}
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return send(t, c, req)
}

// mustStored returns what c's store holds.
func mustStored(t *testing.T, c *client.Client) client.Tokens {
	t.Helper()
	tok, err := c.Store.Load(t.Context())
	if err != nil {
		t.Fatalf("Store.Load: %v", err)
	}
	return tok
}

// wantStored checks that c's store holds the tokens b issued last.
func wantStored(t *testing.T, c *client.Client, b *backend) {
	t.Helper()
	access, refresh := b.issued()
	got := mustStored(t, c)
	want := client.Tokens{AccessToken: access, RefreshToken: refresh}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(client.Tokens{}, "Expiry", "User", "DPoPKey")); diff != "" {
		t.Errorf("stored tokens (-want +got):\n%s", diff)
	}
}

// wantLoggedOut checks that c holds no session and that its store holds
// the device key alone, the tokens gone.
func wantLoggedOut(t *testing.T, c *client.Client) {
	t.Helper()
	if _, err := c.Tokens(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
		t.Errorf("Tokens: %v, want ErrLoginRequired", err)
	}
	got := mustStored(t, c)
	if len(got.DPoPKey) == 0 {
		t.Errorf("the store lost the device key")
	}
	got.DPoPKey = nil
	if diff := cmp.Diff(client.Tokens{}, got); diff != "" {
		t.Errorf("store after the session ended (-want +got):\n%s", diff)
	}
}

func TestClient_Login(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	user, err := c.Login(t.Context(), testLogin, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	wantUser := &api.User{ID: testUserID, Email: testLogin, Active: true}
	if diff := cmp.Diff(wantUser, user); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	access, refresh := b.issued()
	stored := mustStored(t, c)
	want := client.Tokens{
		AccessToken:  access,
		RefreshToken: refresh,
		Expiry:       b.clock.Now().Add(b.ttl),
		User:         wantUser,
		DPoPKey:      stored.DPoPKey,
	}
	if len(stored.DPoPKey) == 0 {
		t.Errorf("no device key stored")
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	got, err := c.Tokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tokens (-want +got):\n%s", diff)
	}
	// The returned user is the caller's to modify.
	user.Email = "changed"
	if got, _ := c.Tokens(t.Context()); got.User.Email != testLogin {
		t.Errorf("modifying the returned user changed the session")
	}
}

func TestClient_Login_Errors(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	tests := []struct {
		name, login, password string
		want                  *client.APIError
	}{
		{"BadCredentials", testLogin, "wrong", &client.APIError{Status: 401}},
		{"Locked", "locked@example.org", "x", &client.APIError{Status: 423, Message: "account locked"}},
		{"Prevented", "prevented@example.org", "x", &client.APIError{Status: 409, Message: "Too many attempts"}},
		{"Invalid", "", "x", &client.APIError{Status: 400, Errors: api.FieldError("loginId", "blank", "loginId is required")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := b.newClient()
			user, err := c.Login(t.Context(), tt.login, tt.password)
			if user != nil {
				t.Errorf("user = %v, want nil", user)
			}
			var got *client.APIError
			if !errors.As(err, &got) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(client.APIError{}, "Body")); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			if tt.want.Errors != nil {
				var errs *api.Errors
				if !errors.As(err, &errs) {
					t.Errorf("errors.As(%v, *api.Errors) = false", err)
				}
			}
			if _, err := c.Store.Load(t.Context()); !errors.Is(err, client.ErrNoTokens) {
				t.Errorf("store after failed login: %v, want ErrNoTokens", err)
			}
			if _, err := c.Tokens(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
				t.Errorf("Tokens after failed login: %v, want ErrLoginRequired", err)
			}
		})
	}
}

func TestTransport_FreshJWT(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	mustLogin(t, c)
	access, _ := b.issued()

	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/api/cart", nil)
	req.Header.Set(api.HeaderRefreshToken, "set-by-the-app")
	if got := send(t, c, req); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	want := []seen{{Path: "/api/cart", Access: access}}
	if diff := cmp.Diff(want, b.seen()); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	// The caller's request is not modified.
	if diff := cmp.Diff(http.Header{api.HeaderRefreshToken: {"set-by-the-app"}}, req.Header); diff != "" {
		t.Errorf("request headers changed (-want +got):\n%s", diff)
	}
	if n, _ := b.counts(); n != 0 {
		t.Errorf("%d refreshes, want 0", n)
	}
}

func TestTransport_Refresh(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		advance time.Duration
	}{
		{"Expiring", 9*time.Minute + 30*time.Second},
		{"Expired", 11 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			c := b.newClient()
			mustLogin(t, c)
			old := mustStored(t, c)
			b.clock.Advance(tt.advance)

			if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
				t.Fatalf("status %d", got)
			}
			access, refresh := b.issued()
			want := []seen{{Path: "/api/cart", Access: old.AccessToken, RefreshToken: old.RefreshToken}}
			if diff := cmp.Diff(want, b.seen()); diff != "" {
				t.Errorf("backend saw (-want +got):\n%s", diff)
			}
			wantTok := client.Tokens{
				AccessToken:  access,
				RefreshToken: refresh,
				Expiry:       b.clock.Now().Add(b.ttl),
				User:         old.User,
				DPoPKey:      old.DPoPKey,
			}
			if diff := cmp.Diff(wantTok, mustStored(t, c)); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}

			// The new JWT is fresh: no refresh token on the next request.
			if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
				t.Fatalf("status %d", got)
			}
			want = append(want, seen{Path: "/api/cart", Access: access})
			if diff := cmp.Diff(want, b.seen()); diff != "" {
				t.Errorf("backend saw (-want +got):\n%s", diff)
			}
		})
	}
}

// A backend whose guard refreshes only expired JWTs: the Client stops
// offering the refresh token until the JWT has expired.
func TestTransport_RefreshDeclined(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.early = 0 })
	c := b.newClient()
	mustLogin(t, c)
	old := mustStored(t, c)

	b.clock.Advance(9*time.Minute + 30*time.Second)
	get(t, c, b, "/api/cart") // offers the refresh token; declined
	get(t, c, b, "/api/cart") // does not offer it again
	b.clock.Advance(time.Minute)
	get(t, c, b, "/api/cart") // expired: offers it; refreshed

	access, _ := b.issued()
	want := []seen{
		{Path: "/api/cart", Access: old.AccessToken, RefreshToken: old.RefreshToken},
		{Path: "/api/cart", Access: old.AccessToken},
		{Path: "/api/cart", Access: old.AccessToken, RefreshToken: old.RefreshToken},
	}
	if diff := cmp.Diff(want, b.seen()); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	if got := mustStored(t, c).AccessToken; got != access {
		t.Errorf("stored JWT is not the refreshed one")
	}
}

func TestTransport_ConcurrentRefresh(t *testing.T) {
	// Not parallel: waitParked counts the goroutines of the whole test binary.
	const n = 8
	b := newBackend(t)
	c := b.newClient()
	mustLogin(t, c)

	for round := range 5 {
		b.clock.Advance(9*time.Minute + 30*time.Second)
		before := len(b.seen())
		arrived, release := b.holdRefreshes(t)
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() {
				resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		// One request refreshes; the others pile up behind it (or, wrongly,
		// carry the refresh token too) before it ends.
		arrived()
		waitParked(t, n-1, false, func() bool { return carriedRefresh(b.seen()[before:]) > 1 })
		release()
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("round %d: request %d: status %d", round, i, s)
			}
		}
		refreshes, reused := b.counts()
		if refreshes != round+1 {
			t.Errorf("round %d: %d refreshes at the backend, want %d", round, refreshes, round+1)
		}
		if reused != 0 {
			t.Errorf("round %d: %d requests presented a rotated refresh token", round, reused)
		}
		if carried := carriedRefresh(b.seen()[before:]); carried != 1 {
			t.Errorf("round %d: %d requests carried the refresh token, want 1", round, carried)
		}
		wantStored(t, c, b)
	}
}

func TestTransport_LoginRequired(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	var calls atomic.Int32
	c.OnLoginRequired = func() { calls.Add(1) }

	for session := range 2 {
		mustLogin(t, c)
		b.revokeAll()
		b.clock.Advance(11 * time.Minute)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", resp.StatusCode)
				}
			})
		}
		wg.Wait()
		if got := int(calls.Load()); got != session+1 {
			t.Errorf("session %d: OnLoginRequired called %d times in all, want %d", session, got, session+1)
		}
		wantLoggedOut(t, c)
	}
	if _, reused := b.counts(); reused != 0 {
		t.Errorf("%d requests presented a rotated refresh token", reused)
	}
	// Logged out, requests go without credentials.
	before := len(b.seen())
	get(t, c, b, "/api/cart")
	if diff := cmp.Diff([]seen{{Path: "/api/cart"}}, b.seen()[before:]); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("OnLoginRequired called %d times, want 2", got)
	}
}

// skewedSession logs a Client in to a backend whose clock runs ahead, so
// that it refuses a JWT the device thinks fresh, and returns the tokens
// stored. The session must survive: OnLoginRequired fails the test.
func skewedSession(t *testing.T) (*backend, *client.Client, client.Tokens) {
	t.Helper()
	b := newBackend(t)
	b.set(func(b *backend) { b.skew = 10 * time.Minute })
	c := b.newClient()
	c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
	mustLogin(t, c)
	return b, c, mustStored(t, c)
}

// A request refused for a JWT the device thinks fresh is sent again at
// once with the refresh token.
func TestTransport_RetryRejectedJWT(t *testing.T) {
	t.Parallel()
	b, c, old := skewedSession(t)
	if got := post(t, c, b, "/api/cart/items", `{"sku":"apple"}`, true); got != http.StatusCreated {
		t.Fatalf("status %d, want 201", got)
	}
	want := []seen{
		{Path: "/api/cart/items", Access: old.AccessToken, Body: `{"sku":"apple"}`},
		{Path: "/api/cart/items", Access: old.AccessToken, RefreshToken: old.RefreshToken, Body: `{"sku":"apple"}`},
	}
	if diff := cmp.Diff(want, b.seen()); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	wantStored(t, c, b)
}

// A request whose body cannot be replayed is not retried; the next one
// carries the refresh token.
func TestTransport_RejectedJWTUnreplayableBody(t *testing.T) {
	t.Parallel()
	b, c, old := skewedSession(t)
	if got := post(t, c, b, "/api/cart/items", `{"sku":"apple"}`, false); got != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", got)
	}
	if got := mustStored(t, c); got.AccessToken != old.AccessToken {
		t.Errorf("session changed after a refused JWT")
	}
	get(t, c, b, "/api/cart")
	want := []seen{
		{Path: "/api/cart/items", Access: old.AccessToken, Body: `{"sku":"apple"}`},
		{Path: "/api/cart", Access: old.AccessToken, RefreshToken: old.RefreshToken},
	}
	if diff := cmp.Diff(want, b.seen()); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	wantStored(t, c, b)
}

func TestTransport_OtherOrigin(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	mustLogin(t, c)
	b.clock.Advance(time.Hour) // expired: would carry the refresh token

	var (
		mu  sync.Mutex
		got http.Header
	)
	received := func() http.Header {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
	}))
	defer other.Close()
	resp, err := c.HTTP().Get(other.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"Authorization", api.HeaderRefreshToken, dpop.Header} {
		if v := received().Get(h); v != "" {
			t.Errorf("another origin received %s: %q", h, v)
		}
	}

	// Nor do tokens follow a redirect to another origin.
	redirect := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusFound))
	defer redirect.Close()
	mu.Lock()
	got = nil
	mu.Unlock()
	c2 := &client.Client{BaseURL: redirect.URL, Store: c.Store, Now: b.clock.Now}
	resp, err = c2.HTTP().Get(redirect.URL + "/api/cart")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if received() == nil {
		t.Fatal("redirect not followed")
	}
	for _, h := range []string{"Authorization", api.HeaderRefreshToken, dpop.Header} {
		if v := received().Get(h); v != "" {
			t.Errorf("redirect target received %s: %q", h, v)
		}
	}
}

func TestClient_Logout(t *testing.T) {
	t.Parallel()
	for _, global := range []bool{false, true} {
		t.Run(map[bool]string{false: "Local", true: "Global"}[global], func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			c := b.newClient()
			mustLogin(t, c)
			other := b.newClient() // a second device of the same user
			mustLogin(t, other)
			tok := mustStored(t, c)

			if err := c.Logout(t.Context(), global); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]api.LogoutRequest{{Global: global, RefreshToken: tok.RefreshToken}}, b.logoutsSeen()); diff != "" {
				t.Errorf("backend logouts (-want +got):\n%s", diff)
			}
			wantLoggedOut(t, c)
			// Global logout ends the other device's session too.
			b.clock.Advance(time.Hour)
			wantOther := http.StatusOK
			if global {
				wantOther = http.StatusUnauthorized
			}
			if got := get(t, other, b, "/api/cart"); got != wantOther {
				t.Errorf("other device: status %d, want %d", got, wantOther)
			}
			// Logged out, Logout only clears.
			if err := c.Logout(t.Context(), global); err != nil {
				t.Errorf("second Logout: %v", err)
			}
			if len(b.logoutsSeen()) != 1 {
				t.Errorf("second Logout called the backend")
			}
		})
	}
}

func TestClient_Logout_Fails(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.logoutStatus = http.StatusInternalServerError })
	c := b.newClient()
	mustLogin(t, c)
	var apiErr *client.APIError
	if err := c.Logout(t.Context(), true); !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Errorf("Logout = %v, want APIError 500", err)
	}
	wantLoggedOut(t, c)
}

// Logout waits for a refresh in flight and presents the new refresh token.
func TestClient_Logout_DuringRefresh(t *testing.T) {
	// Not parallel: waitParked counts the goroutines of the whole test binary.
	b := newBackend(t)
	arrived, release := b.holdRefreshes(t)
	c := b.newClient()
	c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
	mustLogin(t, c)
	b.clock.Advance(11 * time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
	}()
	arrived()
	loggedOut := make(chan error, 1)
	go func() { loggedOut <- c.Logout(t.Context(), false) }()
	// Logout waits for the refresh in flight (or, wrongly, reaches the
	// backend with the refresh token being rotated).
	waitParked(t, 1, true, func() bool { return len(b.logoutsSeen()) > 0 })
	release()
	if err := <-loggedOut; err != nil {
		t.Fatal(err)
	}
	<-done
	_, refresh := b.issued()
	if len(b.logoutsSeen()) != 1 || b.logoutsSeen()[0].RefreshToken != refresh {
		t.Errorf("logout presented %+v, want the refreshed token", b.logoutsSeen())
	}
	if _, reused := b.counts(); reused != 0 {
		t.Errorf("a rotated refresh token was presented")
	}
	wantLoggedOut(t, c)
}

// carriedRefresh counts the requests that carried a refresh token.
func carriedRefresh(seen []seen) int {
	n := 0
	for _, s := range seen {
		if s.RefreshToken != "" {
			n++
		}
	}
	return n
}

// A session saved by one Client is picked up by the next, as when the app
// restarts.
func TestClient_FileStoreSession(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	dir := t.TempDir()
	c := b.newClient()
	c.Store = &client.FileStore{Path: dir + "/tokens"}
	mustLogin(t, c)
	b.clock.Advance(11 * time.Minute)
	get(t, c, b, "/api/cart")

	restarted := b.newClient()
	restarted.Store = &client.FileStore{Path: dir + "/tokens"}
	got, err := restarted.Tokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	access, refresh := b.issued()
	if got.AccessToken != access || got.RefreshToken != refresh || got.User == nil || got.User.ID != testUserID {
		t.Errorf("restarted client has %+v", got)
	}
	if status := get(t, restarted, b, "/api/cart"); status != http.StatusOK {
		t.Errorf("status %d", status)
	}
}

// failingStore fails every Save after the first.
type failingStore struct {
	client.MemoryStore
	saves atomic.Int32
}

func (s *failingStore) Save(ctx context.Context, t client.Tokens) error {
	if s.saves.Add(1) > 1 {
		return errors.New("disk full")
	}
	return s.MemoryStore.Save(ctx, t)
}

func TestTransport_SaveFails(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	c.Store = new(failingStore)
	mustLogin(t, c)
	b.clock.Advance(11 * time.Minute)
	_, err := c.HTTP().Get(b.srv.URL + "/api/cart")
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the save error", err)
	}
	// The refreshed tokens stay in use in memory.
	access, _ := b.issued()
	if got, _ := c.Tokens(t.Context()); got.AccessToken != access {
		t.Errorf("in-memory session lost the refreshed JWT")
	}
	if status := get(t, c, b, "/api/cart"); status != http.StatusOK {
		t.Errorf("status %d", status)
	}
	if _, reused := b.counts(); reused != 0 {
		t.Errorf("a rotated refresh token was presented")
	}
}

// The refresh token travels only when needed, with the RefreshWindow given.
func TestTransport_RefreshWindow(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.early = 5 * time.Minute })
	c := b.newClient()
	c.RefreshWindow = 5 * time.Minute
	mustLogin(t, c)
	b.clock.Advance(4 * time.Minute)
	get(t, c, b, "/api/cart")
	b.clock.Advance(2 * time.Minute)
	get(t, c, b, "/api/cart")
	s := b.seen()
	if len(s) != 2 || s[0].RefreshToken != "" || s[1].RefreshToken == "" {
		t.Errorf("backend saw %+v, want the refresh token on the second request only", s)
	}
}

// Without a refresh token, a refused JWT ends the session at once.
func TestTransport_NoRefreshToken(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	if err := c.Store.Save(t.Context(), client.Tokens{AccessToken: "not-a-jwt"}); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	c.OnLoginRequired = func() { calls.Add(1) }
	if status := get(t, c, b, "/api/cart"); status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", status)
	}
	if diff := cmp.Diff([]seen{{Path: "/api/cart", Access: "not-a-jwt"}}, b.seen()); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	if calls.Load() != 1 {
		t.Errorf("OnLoginRequired called %d times, want 1", calls.Load())
	}
	if _, err := c.Store.Load(t.Context()); !errors.Is(err, client.ErrNoTokens) {
		t.Errorf("store: %v, want ErrNoTokens", err)
	}
}
