package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// device is one installation of the app: a state directory.
type device struct {
	t     *testing.T
	store *fakeStore
	state string
}

func newDevice(t *testing.T, f *fakeStore) *device {
	t.Helper()
	for _, k := range []string{"MOBILE_BACKEND", "MOBILE_STATE_DIR", "MOBILE_PASSWORD", "MOBILE_LOGIN_ID"} {
		t.Setenv(k, "")
	}
	return &device{t: t, store: f, state: t.TempDir()}
}

// result is what one run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the program on this device with args, and stdin.
func (d *device) runIn(stdin string, args ...string) result {
	d.t.Helper()
	var stdout, stderr bytes.Buffer
	all := append([]string{"--backend", d.store.srv.URL, "--state", d.state}, args...)
	code := run(context.Background(), all, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func (d *device) run(args ...string) result {
	d.t.Helper()
	return d.runIn("", args...)
}

// mustRun runs args and fails the test unless they exit with want.
func (d *device) mustRun(want int, args ...string) result {
	d.t.Helper()
	r := d.run(args...)
	if r.code != want {
		d.t.Fatalf("mobile %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

func (d *device) login() {
	d.t.Helper()
	r := d.runIn(testPassword+"\n", "login", "--login-id", testLogin, "--password-stdin")
	if r.code != exitOK {
		d.t.Fatalf("login: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return v
}

func TestRun_ShoppingSession(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)

	r := d.runIn(testPassword+"\n", "login", "--login-id", testLogin, "--password-stdin")
	if r.code != exitOK || r.stdout != "logged in as "+testLogin+"\n" {
		t.Fatalf("login: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = d.mustRun(exitOK, "products")
	for _, want := range []string{"SKU", "MUG-1", "Coffee mug", "12.00", "PEN-3", "49.99"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("products: no %q in\n%s", want, r.stdout)
		}
	}
	ps := decode[struct{ Products []Product }](t, d.mustRun(exitOK, "products", "--json").stdout)
	if !slices.Equal(ps.Products, catalogue) {
		t.Errorf("products --json = %+v, want %+v", ps.Products, catalogue)
	}

	if r := d.mustRun(exitOK, "cart"); r.stdout != "the cart is empty\n" {
		t.Errorf("empty cart: %q", r.stdout)
	}
	d.mustRun(exitOK, "add", "MUG-1", "2")
	// Flags may follow the arguments.
	c := decode[Cart](t, d.mustRun(exitOK, "add", "PEN-3", "--json").stdout)
	want := Cart{Items: []CartItem{
		{SKU: "MUG-1", Name: "Coffee mug", Quantity: 2, PriceCents: 1200},
		{SKU: "PEN-3", Name: "Fountain pen", Quantity: 1, PriceCents: 4999},
	}, TotalCents: 7399}
	if !cartEqual(c, want) {
		t.Errorf("add --json = %+v, want %+v", c, want)
	}
	r = d.mustRun(exitOK, "cart")
	for _, want := range []string{"Coffee mug", "24.00", "Fountain pen", "TOTAL", "73.99"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("cart: no %q in\n%s", want, r.stdout)
		}
	}

	// The storefront answers DELETE with 204: the app loads the cart.
	c = decode[Cart](t, d.mustRun(exitOK, "--json", "remove", "MUG-1").stdout)
	want = Cart{Items: []CartItem{{SKU: "PEN-3", Name: "Fountain pen", Quantity: 1, PriceCents: 4999}}, TotalCents: 4999}
	if !cartEqual(c, want) {
		t.Errorf("remove --json = %+v, want %+v", c, want)
	}

	r = d.mustRun(exitFailure, "remove", "MUG-1")
	if !strings.Contains(r.stderr, "404") || !strings.Contains(r.stderr, "No MUG-1 in the cart.") {
		t.Errorf("remove missing item: stderr %q", r.stderr)
	}
	r = d.mustRun(exitFailure, "--json", "add", "NOPE")
	if e := decode[map[string]any](t, r.stdout); e["status"] != float64(404) || e["loginRequired"] != false {
		t.Errorf("add unknown --json: %s", r.stdout)
	}

	if r := d.mustRun(exitOK, "logout"); r.stdout != "logged out\n" {
		t.Errorf("logout: %q", r.stdout)
	}
	if n := len(f.liveRefreshTokens()); n != 0 {
		t.Errorf("after logout the backend holds %d refresh tokens, want 0", n)
	}
	r = d.mustRun(exitLoginRequired, "tokens")
	if !strings.Contains(r.stdout, "logged in:  no") {
		t.Errorf("tokens after logout: %q", r.stdout)
	}
	d.mustRun(exitLoginRequired, "cart")
}

func cartEqual(a, b Cart) bool {
	return a.TotalCents == b.TotalCents && slices.Equal(a.Items, b.Items)
}

func TestRun_NotLoggedIn(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)
	for _, args := range [][]string{{"cart"}, {"add", "MUG-1"}, {"remove", "MUG-1"}} {
		r := d.mustRun(exitLoginRequired, args...)
		if !strings.Contains(r.stderr, "mobile login") {
			t.Errorf("%v: stderr %q does not say how to log in", args, r.stderr)
		}
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests to the backend without a session, want 0", n)
	}
	r := d.mustRun(exitLoginRequired, "--json", "cart")
	if e := decode[map[string]any](t, r.stdout); e["loginRequired"] != true {
		t.Errorf("cart --json: %s", r.stdout)
	}
	s := decode[Session](t, d.mustRun(exitLoginRequired, "tokens", "--json").stdout)
	if s.LoggedIn {
		t.Errorf("tokens --json: %+v", s)
	}
	// Products are public.
	d.mustRun(exitOK, "products")
	// Logging out without a session is fine.
	if r := d.mustRun(exitOK, "logout"); r.stdout != "not logged in\n" {
		t.Errorf("logout: %q", r.stdout)
	}
}

// The article's steps 13-17: the refresh token is revoked, the JWT
// expires, the backend answers 401 and the app must show the login form.
func TestRun_LoginRequiredAfterRevocation(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)
	d.login()
	d.mustRun(exitOK, "cart")

	f.revoke(testLogin)
	r := d.mustRun(exitLoginRequired, "cart")
	if want := "mobile cart: the backend ended the session: log in again (run: mobile login)\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	// The SDK cleared the store: the app knows it is logged out.
	d.mustRun(exitLoginRequired, "tokens")

	// And logging in again works (back to step 2).
	d.login()
	d.mustRun(exitOK, "add", "TEE-2")

	// An expired JWT with a revoked refresh token: the SDK sends the
	// refresh token, the backend refuses, the session ends.
	f.expireJWTs()
	f.revoke(testLogin)
	r = d.mustRun(exitLoginRequired, "--json", "add", "MUG-1")
	if e := decode[map[string]any](t, r.stdout); e["loginRequired"] != true {
		t.Errorf("add --json: %s", r.stdout)
	}
	d.mustRun(exitLoginRequired, "tokens")
}

// The article's steps 9-12: the JWT is about to expire, the SDK sends the
// refresh token, the backend refreshes and answers with Access-Token and
// Refresh-Token, which the app adopts and keeps across runs.
func TestRun_RefreshAdoption(t *testing.T) {
	f := newFakeStore(t)
	f.ttl = 30 * time.Second // within the SDK's refresh window: every request refreshes
	d := newDevice(t, f)
	d.login()
	before := decode[Session](t, d.mustRun(exitOK, "tokens", "--json", "--show-secrets").stdout)

	d.mustRun(exitOK, "cart")
	d.mustRun(exitOK, "add", "MUG-1")
	after := decode[Session](t, d.mustRun(exitOK, "tokens", "--json", "--show-secrets").stdout)

	f.mu.Lock()
	refreshes, sent := f.refreshs, slices.Clone(f.sentRT)
	f.mu.Unlock()
	if refreshes != 2 {
		t.Fatalf("%d refreshes, want 2", refreshes)
	}
	// Each request presented the refresh token the previous one brought
	// back (a rotated one would have been refused).
	if len(sent) != 2 || sent[0] != before.RefreshTokenValue || sent[1] == sent[0] {
		t.Errorf("refresh tokens sent: %q (first login's: %q)", sent, before.RefreshTokenValue)
	}
	live := f.liveRefreshTokens()
	if len(live) != 1 || after.RefreshTokenValue != live[0] {
		t.Errorf("stored refresh token %q, the backend's live ones %q", after.RefreshTokenValue, live)
	}
	if after.AccessTokenValue == before.AccessTokenValue {
		t.Error("the access token was not replaced")
	}
}

func TestRun_StatePersists(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)
	d.login()

	// A second run (a restart of the app) finds the session.
	r := d.mustRun(exitOK, "tokens")
	for _, want := range []string{"logged in:", "yes", "user:", testLogin, "jwt expires:", "refresh token:", "stored"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("tokens: no %q in\n%s", want, r.stdout)
		}
	}
	d.mustRun(exitOK, "add", "MUG-1")
	d.mustRun(exitOK, "cart")
	f.mu.Lock()
	logins := f.logins
	f.mu.Unlock()
	if logins != 1 {
		t.Errorf("%d logins, want 1", logins)
	}

	// The token file is encrypted; its key is private.
	entries, _ := os.ReadDir(d.state)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	tok := decode[Session](t, d.mustRun(exitOK, "tokens", "--json", "--show-secrets").stdout)
	var tokenFiles int
	for _, n := range names {
		if !strings.HasPrefix(n, "tokens-") {
			continue
		}
		tokenFiles++
		data, err := os.ReadFile(filepath.Join(d.state, n))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(tok.RefreshTokenValue)) || bytes.Contains(data, []byte(testLogin)) {
			t.Errorf("%s holds the refresh token or the user in clear", n)
		}
	}
	if tokenFiles != 1 {
		t.Errorf("state directory holds %q, want one token file", names)
	}
	if fi, err := os.Stat(filepath.Join(d.state, "tokens.key")); err != nil {
		t.Error(err)
	} else if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}

	// Another backend does not see this one's session.
	other := newFakeStore(t)
	d2 := &device{t: t, store: other, state: d.state}
	d2.mustRun(exitLoginRequired, "tokens")
	d2.mustRun(exitLoginRequired, "cart")
	d.mustRun(exitOK, "tokens")
}

func TestRun_LogoutEverywhere(t *testing.T) {
	f := newFakeStore(t)
	phone, tablet := newDevice(t, f), newDevice(t, f)
	phone.login()
	tablet.login()
	tablet.mustRun(exitOK, "add", "MUG-1")

	r := phone.mustRun(exitOK, "logout", "--everywhere")
	if r.stdout != "logged out everywhere\n" {
		t.Errorf("logout --everywhere: %q", r.stdout)
	}
	phone.mustRun(exitLoginRequired, "tokens")
	tablet.mustRun(exitLoginRequired, "cart")
	tablet.mustRun(exitLoginRequired, "tokens")

	out := decode[map[string]any](t, func() string {
		tablet.login()
		return tablet.mustRun(exitOK, "--json", "logout").stdout
	}())
	if out["loggedOut"] != true || out["everywhere"] != false {
		t.Errorf("logout --json: %v", out)
	}
}

func TestRun_LoginFailures(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)

	r := d.runIn("wrong password\n", "login", "--login-id", testLogin, "--password-stdin")
	if r.code != exitFailure || !strings.Contains(r.stderr, "wrong email or password") {
		t.Errorf("bad password: exit %d, stderr %q", r.code, r.stderr)
	}
	r = d.runIn(testPassword+"\n", "login", "--login-id", lockedLogin, "--password-stdin")
	if r.code != exitFailure || !strings.Contains(r.stderr, "Too many failed logins") {
		t.Errorf("locked: exit %d, stderr %q", r.code, r.stderr)
	}
	r = d.runIn(testPassword+"\n", "--json", "login", "--login-id", lockedLogin, "--password-stdin")
	if e := decode[map[string]any](t, r.stdout); e["status"] != float64(409) {
		t.Errorf("locked --json: %s", r.stdout)
	}
	d.mustRun(exitLoginRequired, "tokens")
}

func TestRun_PasswordSources(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)

	// MOBILE_PASSWORD and MOBILE_LOGIN_ID.
	t.Setenv("MOBILE_PASSWORD", testPassword)
	t.Setenv("MOBILE_LOGIN_ID", testLogin)
	out := d.mustRun(exitOK, "login", "--json").stdout
	s := decode[loginJSON](t, out)
	if s.User.Email != testLogin || s.User.ID != "u-ana" || !s.RefreshToken || s.JWTExpiresAt.IsZero() {
		t.Errorf("login --json: %+v", s)
	}
	if tok := decode[Session](t, d.mustRun(exitOK, "tokens", "--json", "--show-secrets").stdout); strings.Contains(out, tok.RefreshTokenValue) || strings.Contains(out, tok.AccessTokenValue) {
		t.Errorf("login --json printed token values: %s", out)
	}
	// --password-stdin wins over the environment; a CRLF line works.
	t.Setenv("MOBILE_PASSWORD", "not it")
	if r := d.runIn(testPassword+"\r\nmore\n", "login", "--password-stdin"); r.code != exitOK {
		t.Errorf("--password-stdin with CRLF: exit %d, %s", r.code, r.stderr)
	}
	// The login id may be an argument.
	t.Setenv("MOBILE_LOGIN_ID", "")
	if r := d.runIn(testPassword, "login", testLogin, "--password-stdin"); r.code != exitOK {
		t.Errorf("login id as argument: exit %d, %s", r.code, r.stderr)
	}

	// No password at all: a usage error (stdin is no terminal to prompt on).
	t.Setenv("MOBILE_PASSWORD", "")
	d.mustRun(exitUsage, "login", "--login-id", testLogin)
	if r := d.runIn("", "login", "--login-id", testLogin, "--password-stdin"); r.code != exitUsage {
		t.Errorf("empty stdin: exit %d", r.code)
	}
	// There is no --password flag.
	r := d.run("login", "--login-id", testLogin, "--password="+testPassword)
	if r.code != exitUsage {
		t.Errorf("--password: exit %d", r.code)
	}
	if strings.Contains(r.stdout+r.stderr, testPassword) {
		t.Errorf("--password's value echoed: %q %q", r.stdout, r.stderr)
	}
}

// The password never appears in what the program prints, and the tokens
// only with --show-secrets.
func TestRun_NoSecretsInOutput(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)
	var all strings.Builder
	record := func(r result) { all.WriteString(r.stdout + r.stderr) }

	record(d.runIn("wrong password\n", "login", "--login-id", testLogin, "--password-stdin"))
	record(d.runIn("wrong password\n", "--json", "login", "--login-id", testLogin, "--password-stdin"))
	record(d.runIn(testPassword+"\n", "login", "--login-id", testLogin, "--password-stdin"))
	record(d.runIn(testPassword+"\n", "--json", "login", "--login-id", testLogin, "--password-stdin"))
	for _, args := range [][]string{{"tokens"}, {"tokens", "--json"}, {"cart"}, {"--json", "cart"}, {"add", "MUG-1"}} {
		record(d.run(args...))
	}
	if strings.Contains(all.String(), testPassword) || strings.Contains(all.String(), "wrong password") {
		t.Errorf("a password appears in the output:\n%s", all.String())
	}
	secrets := decode[Session](t, d.mustRun(exitOK, "tokens", "--json", "--show-secrets").stdout)
	if secrets.AccessTokenValue == "" || secrets.RefreshTokenValue == "" {
		t.Fatalf("tokens --show-secrets: %+v", secrets)
	}
	for _, v := range []string{secrets.AccessTokenValue, secrets.RefreshTokenValue} {
		if strings.Contains(all.String(), v) {
			t.Errorf("a token value appears without --show-secrets:\n%s", all.String())
		}
	}
	r := d.mustRun(exitOK, "tokens", "--show-secrets")
	if !strings.Contains(r.stdout, secrets.RefreshTokenValue) || !strings.Contains(r.stdout, secrets.AccessTokenValue) {
		t.Errorf("tokens --show-secrets: %s", r.stdout)
	}
}

func TestRun_Usage(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)
	for _, args := range [][]string{
		{},      // no command, and stdin is no terminal
		{"ui"},  // the app needs a terminal
		{"fly"}, // unknown command
		{"add"}, // no SKU
		{"add", "MUG-1", "0"},
		{"add", "MUG-1", "two"},
		{"remove"},
		{"cart", "extra"},
		{"--nope", "cart"},
		{"login", "--password-stdin"}, // no login id
	} {
		if r := d.run(args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d\nstderr: %s", args, r.code, exitUsage, r.stderr)
		}
	}
	if r := d.mustRun(exitOK, "help"); !strings.Contains(r.stdout, "usage: mobile") {
		t.Errorf("help: %q", r.stdout)
	}
	if r := d.mustRun(exitOK, "--help"); !strings.Contains(r.stdout, "usage: mobile") {
		t.Errorf("--help: %q", r.stdout)
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests for usage errors", n)
	}
}

func TestRun_Backend(t *testing.T) {
	d := newDevice(t, newFakeStore(t))
	run1 := func(args ...string) result {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"--state", d.state}, args...), strings.NewReader(""), &stdout, &stderr)
		return result{code, stdout.String(), stderr.String()}
	}
	// http:// to a host that is not loopback is refused...
	r := run1("--backend", "http://shop.example.com", "tokens")
	if r.code != exitFailure || !strings.Contains(r.stderr, "insecure") && !strings.Contains(r.stderr, "loopback") {
		t.Errorf("http to a remote host: exit %d, stderr %q", r.code, r.stderr)
	}
	// ...unless --insecure-http (tokens asks no backend).
	if r := run1("--backend", "http://shop.example.com", "--insecure-http", "tokens"); r.code != exitLoginRequired {
		t.Errorf("--insecure-http: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run1("--backend", "ftp://shop.example.com", "tokens"); r.code != exitFailure {
		t.Errorf("ftp: exit %d", r.code)
	}
	// MOBILE_BACKEND.
	t.Setenv("MOBILE_BACKEND", d.store.srv.URL)
	if r := run1("products"); r.code != exitOK {
		t.Errorf("MOBILE_BACKEND: exit %d, stderr %q", r.code, r.stderr)
	}
	// An unreachable backend is a plain failure, not "log in again".
	d.store.srv.Close()
	if r := run1("products"); r.code != exitFailure {
		t.Errorf("backend down: exit %d", r.code)
	}
}

func TestRun_UnreadableSession(t *testing.T) {
	f := newFakeStore(t)
	d := newDevice(t, f)
	d.login()
	entries, _ := filepath.Glob(filepath.Join(d.state, "tokens-*"))
	if len(entries) != 1 {
		t.Fatalf("token files %q", entries)
	}
	if err := os.WriteFile(entries[0], []byte("LCT1 tampered with, or another key"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := d.mustRun(exitFailure, "tokens")
	if !strings.Contains(r.stderr, "cannot be read") {
		t.Errorf("tokens: stderr %q", r.stderr)
	}
	d.mustRun(exitFailure, "cart")
	// Logging out deletes it; logging in replaces it.
	d.mustRun(exitOK, "logout")
	d.mustRun(exitLoginRequired, "tokens")
	os.WriteFile(entries[0], []byte("garbage"), 0o600)
	d.login()
	d.mustRun(exitOK, "cart")
}

func TestDescribeExpiry(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		exp  time.Time
		want string
	}{
		{time.Time{}, "unknown"},
		{now.Add(90 * time.Second), "2026-01-02T03:05:35Z (in 1m30s)"},
		{now.Add(-time.Minute), "2026-01-02T03:03:05Z (expired 1m0s ago)"},
	} {
		if got := describeExpiry(tc.exp, now); got != tc.want {
			t.Errorf("describeExpiry(%v) = %q, want %q", tc.exp, got, tc.want)
		}
	}
}

// A backend that is not running is named, with the flag that points the
// app elsewhere, rather than as the dialer's error.
func TestRun_BackendUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: the connection is refused
	d := newDevice(t, newFakeStore(t))
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"products", "", []string{"products"}},
		{"login", testPassword + "\n", []string{"login", "--login-id", "ana@example.org", "--password-stdin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"--backend", down, "--state", d.state}, tc.args...),
				strings.NewReader(tc.stdin), &stdout, &stderr)
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			want := "the backend at " + down + " is not reachable (connection refused)"
			if got := stderr.String(); !strings.Contains(got, want) || !strings.Contains(got, "--backend") || strings.Contains(got, "dial tcp") {
				t.Errorf("stderr %q, want %q, the --backend flag, and no dialer error", got, want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	const backend = "https://shop.example.com"
	refused := &url.Error{Op: "Get", URL: backend, Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}}
	noHost := &url.Error{Op: "Get", URL: backend, Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "shop.example.com", IsNotFound: true}}}
	reset := &url.Error{Op: "Get", URL: backend, Err: &net.OpError{Op: "read", Net: "tcp",
		Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}}
	for _, tc := range []struct {
		name string
		err  error
		want string // "": err passes unchanged
	}{
		{"refused", refused, "the backend at https://shop.example.com is not reachable (connection refused)"},
		{"no such host", noHost, "the backend at https://shop.example.com is not reachable (no such host shop.example.com)"},
		{"reset after connecting", reset, ""},
		{"an answer", errBadCredentials, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := unreachable(backend, tc.err)
			if tc.want == "" {
				if got != tc.err {
					t.Errorf("unreachable(%v) = %v, want it unchanged", tc.err, got)
				}
				return
			}
			if !strings.HasPrefix(got.Error(), tc.want) || !errors.Is(got, tc.err) {
				t.Errorf("unreachable(%v) = %q, want %q… wrapping the cause", tc.err, got, tc.want)
			}
		})
	}
}
