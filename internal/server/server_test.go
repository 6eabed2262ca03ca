package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
)

const testPassword = latchtest.Password

// newTestClock returns an injected clock that moves only when told.
func newTestClock() *latchtest.Clock {
	return latchtest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

// testLatch is a Latch serving on a loopback port.
type testLatch struct{ *latchtest.Latch }

// openLatch opens a server on dir with cfg's other fields, without
// serving; the error is server.Open's.
func openLatch(t *testing.T, dir string, cfg server.Config) (*server.Server, *latchtest.LogBuffer, error) {
	t.Helper()
	cfg.DataDir = dir
	l, err := latchtest.Open(t, latchtest.Options{Config: cfg})
	return l.Server, l.Logs, err
}

// startLatch opens a server on dir and serves; it is shut down at the
// end of the test.
func startLatch(t *testing.T, dir string, cfg server.Config) *testLatch {
	t.Helper()
	cfg.DataDir = dir
	return &testLatch{latchtest.Start(t, latchtest.Options{Config: cfg})}
}

// kids returns the key ids of the JWKS, sorted.
func (l *testLatch) kids(t *testing.T) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	l.Do(t, "", "GET", "/.well-known/jwks.json", nil, 200, &set)
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	slices.Sort(out)
	return out
}

// validate returns the status of GET /api/jwt/validate for a JWT.
func (l *testLatch) validate(t *testing.T, jwt string) int {
	t.Helper()
	code, _ := l.Call(t, "Bearer "+jwt, "GET", "/api/jwt/validate", nil)
	return code
}

// jwtHeader decodes a JWT's protected header.
func jwtHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// mode returns a file's permission bits.
func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFirstStartBootstraps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "latch-data") // Open creates it
	l := startLatch(t, dir, server.Config{})
	keyFile := filepath.Join(dir, server.BootstrapKeyFile)
	masterFile := filepath.Join(dir, server.MasterKeyFile)

	for _, f := range []struct {
		path string
		want fs.FileMode
	}{{dir, 0o700}, {keyFile, 0o600}, {masterFile, 0o600}, {filepath.Join(dir, server.DatabaseFile), 0}} {
		got := mode(t, f.path)
		if f.want != 0 && got != f.want {
			t.Errorf("%s has mode %v, want %v", f.path, got, f.want)
		}
	}
	if len(l.APIKey) < 32 {
		t.Fatalf("bootstrap API key %q is too short", l.APIKey)
	}
	appID := l.DefaultApplication(t).ID
	l.Do(t, "", "GET", "/api/application", nil, 401, nil)
	l.Do(t, l.APIKey+"x", "GET", "/api/application", nil, 401, nil)

	// The admin key can do admin work: a user who logs in.
	l.Register(t, appID, "ana@example.org")
	login := l.Login(t, appID, "ana@example.org")
	if l.validate(t, login.Token) != 200 {
		t.Error("a fresh token does not validate")
	}

	// The log names the file, never the key.
	logs := l.Logs.String()
	if !strings.Contains(logs, keyFile) {
		t.Errorf("the log does not name %s:\n%s", keyFile, logs)
	}
	if strings.Contains(logs, l.APIKey) {
		t.Errorf("the log shows the bootstrap API key:\n%s", logs)
	}
	master, err := os.ReadFile(masterFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs, strings.TrimSpace(string(master))) {
		t.Errorf("the log shows the master key")
	}
	l.Stop()

	// A second start reuses the database: the same application, key and
	// master key, no new bootstrap.
	keyBefore, _ := os.ReadFile(keyFile)
	l2 := startLatch(t, dir, server.Config{})
	if got := l2.DefaultApplication(t).ID; got != appID {
		t.Errorf("second start: application %s, want %s", got, appID)
	}
	keyAfter, _ := os.ReadFile(keyFile)
	if !bytes.Equal(keyBefore, keyAfter) {
		t.Error("second start rewrote the bootstrap API key file")
	}
	if m, _ := os.ReadFile(masterFile); !bytes.Equal(m, master) {
		t.Error("second start rewrote the master key")
	}
	if strings.Contains(l2.Logs.String(), "first start") {
		t.Errorf("second start logged a first start:\n%s", l2.Logs)
	}
	if l2.validate(t, login.Token) != 200 {
		t.Error("a token of the first run does not validate after the restart")
	}
	l2.Login(t, appID, "ana@example.org")
}

// randomKey returns a fresh 32-byte master key.
func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestMasterKeyEncodings: a configured master key in hex or base64 works,
// is not written to the data directory, and names the same key in every
// encoding.
func TestMasterKeyEncodings(t *testing.T) {
	key := randomKey(t)
	encodings := []struct{ name, value string }{
		{"hex", hex.EncodeToString(key)},
		{"HEX", strings.ToUpper(hex.EncodeToString(key))},
		{"base64", base64.StdEncoding.EncodeToString(key)},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(key)},
		{"base64url", base64.URLEncoding.EncodeToString(key)},
		{"base64url raw", base64.RawURLEncoding.EncodeToString(key)},
	}
	dir := t.TempDir()
	l := startLatch(t, dir, server.Config{MasterKey: encodings[0].value})
	appID := l.DefaultApplication(t).ID
	l.Register(t, appID, "ana@example.org")
	token := l.Login(t, appID, "ana@example.org").Token
	l.Stop()
	if _, err := os.Stat(filepath.Join(dir, server.MasterKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a configured master key was written to the data directory (stat: %v)", err)
	}
	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			l := startLatch(t, dir, server.Config{MasterKey: enc.value})
			defer l.Stop()
			l.APIKey = latchtest.BootstrapKey(t, dir)
			if l.validate(t, token) != 200 {
				t.Error("a token signed before the restart does not validate")
			}
			if l.validate(t, l.Login(t, appID, "ana@example.org").Token) != 200 {
				t.Error("a new token does not validate")
			}
		})
	}
}

// TestMasterKeyRefused: a master key of the wrong length, or another key
// than the database's, stops the start with a clear error (and no panic),
// and does not hold the port.
func TestMasterKeyRefused(t *testing.T) {
	keyA, keyB := randomKey(t), randomKey(t)
	fileDir := t.TempDir() // set up with a generated master.key
	startLatch(t, fileDir, server.Config{}).Stop()
	configDir := t.TempDir() // set up with key A configured
	startLatch(t, configDir, server.Config{MasterKey: hex.EncodeToString(keyA)}).Stop()
	tamperedDir := t.TempDir() // set up, then master.key replaced
	startLatch(t, tamperedDir, server.Config{}).Stop()
	if err := os.WriteFile(filepath.Join(tamperedDir, server.MasterKeyFile), []byte(hex.EncodeToString(keyB)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		dir       string
		masterKey string
	}{
		{"hex too short", t.TempDir(), hex.EncodeToString(keyA[:31])},
		{"hex too long", t.TempDir(), hex.EncodeToString(append(keyA, 0))},
		{"base64 of 16 bytes", t.TempDir(), base64.StdEncoding.EncodeToString(keyA[:16])},
		{"not an encoding", t.TempDir(), "this is not a key"},
		{"wrong length on an existing database", configDir, base64.StdEncoding.EncodeToString(keyA[:24])},
		{"key B on a database of key A", configDir, hex.EncodeToString(keyB)},
		{"key B on a database of master.key", fileDir, base64.StdEncoding.EncodeToString(keyB)},
		{"master.key replaced", tamperedDir, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			srv, logs, err := openLatch(t, tc.dir, server.Config{Addr: addr, MasterKey: tc.masterKey})
			if err == nil {
				srv.Close()
				t.Fatalf("server.Open succeeded\nlogs:\n%s", logs)
			}
			if !strings.Contains(err.Error(), "master key") {
				t.Errorf("error %q does not say the master key is at fault", err)
			}
			for _, secret := range []string{hex.EncodeToString(keyA), hex.EncodeToString(keyB), tc.masterKey} {
				if len(secret) >= 16 && strings.Contains(err.Error()+logs.String(), secret) {
					t.Errorf("the error or log shows a master key: %v\n%s", err, logs)
				}
			}
			// The port is free again.
			ln, err = net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("the failed Open holds %s: %v", addr, err)
			} else {
				ln.Close()
			}
		})
	}
	// The refused starts changed nothing: the right key still works.
	l := startLatch(t, configDir, server.Config{MasterKey: hex.EncodeToString(keyA)})
	l.APIKey = latchtest.BootstrapKey(t, configDir)
	appID := l.DefaultApplication(t).ID
	l.Register(t, appID, "ana@example.org")
	l.Login(t, appID, "ana@example.org")
	if got := l.kids(t); len(got) != 1 {
		t.Errorf("JWKS %v after refused starts, want the one key", got)
	}
}

func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	srv, _, err := openLatch(t, t.TempDir(), server.Config{Addr: ln.Addr().String()})
	if err == nil {
		srv.Close()
		t.Fatal("server.Open succeeded on a busy port")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("server.Open took %v to fail on a busy port", d)
	}
	if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}

func TestStatus(t *testing.T) {
	l := startLatch(t, t.TempDir(), server.Config{})
	code, body := l.Call(t, "", "GET", "/api/status", nil)
	if code != 200 {
		t.Fatalf("GET /api/status: %d %s", code, body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("GET /api/status: %v in %s", err, body)
	}
	if diff := cmp.Diff(map[string]any{"status": "ok"}, got); diff != "" {
		t.Errorf("GET /api/status (-want +got):\n%s", diff)
	}
}

// TestShutdownWaitsForInFlight: Shutdown stops accepting connections at
// once, lets a request in flight finish, then returns nil; Serve returns
// nil and the port is closed.
func TestShutdownWaitsForInFlight(t *testing.T) {
	l := startLatch(t, t.TempDir(), server.Config{})
	appID := l.DefaultApplication(t).ID
	l.Register(t, appID, "ana@example.org")
	addr := l.Server.Addr()

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	body, _ := json.Marshal(api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: appID})
	// The headers, asking to continue: the server answers 100 Continue
	// when the handler starts reading the body, which is then in flight.
	if _, err := fmt.Fprintf(conn, "POST /api/login HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		addr, l.APIKey, len(body)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("the handler did not ask for the body: %q, %v", line, err)
	}
	if line, err := br.ReadString('\n'); err != nil || line != "\r\n" {
		t.Fatalf("after 100 Continue: %q, %v", line, err)
	}

	// Stop fails the test unless Shutdown returns nil and Serve then nil.
	shutdown := make(chan struct{})
	go func() {
		l.Stop()
		close(shutdown)
	}()
	// Shutdown closes the listener first, then waits for the request.
	latchtest.WaitUntil(t, 10*time.Second, "Shutdown to stop accepting connections", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case <-shutdown:
		t.Fatal("Shutdown returned while a request was in flight")
	default:
	}
	// A Shutdown that had not waited would have closed the store under
	// the request: its answer would not be a 200 with a token.
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var login api.LoginResponse
	if resp.StatusCode != 200 || json.Unmarshal(b, &login) != nil || login.Token == "" {
		t.Errorf("the request in flight: %d %s, want 200 with a token", resp.StatusCode, b)
	}

	select {
	case <-shutdown:
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return after the request finished")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the port is still open after Shutdown")
	}
}

// TestCloseWithoutServe: a server opened but never served releases its
// port and database on Close, and a late Serve neither serves nor starts
// the reaper.
func TestCloseWithoutServe(t *testing.T) {
	dir := t.TempDir()
	srv, logs, err := openLatch(t, dir, server.Config{GCInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("Close did not release %s: %v", addr, err)
	} else {
		ln.Close()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve after Close did not return")
	}
	if srv.ReaperRunning() {
		t.Error("Serve after Close started the reaper")
	}
	if strings.Contains(logs.String(), "garbage collection") {
		t.Errorf("the reaper ran after Close:\n%s", logs)
	}
	// The database was released: another server opens it.
	startLatch(t, dir, server.Config{}).Stop()
}

// TestReaper: the reaper deletes, by the injected clock, the sessions that
// expired more than a day ago, and keeps the others.
func TestReaper(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	l := startLatch(t, dir, server.Config{Now: clock.Now, GCInterval: 10 * time.Millisecond})
	appID := l.DefaultApplication(t).ID
	oldUser := l.Register(t, appID, "old@example.org")
	newUser := l.Register(t, appID, "new@example.org")
	t0 := clock.Now()
	old := l.Login(t, appID, "old@example.org") // expires at t0 + 30 days

	// A day and a bit after the old session expired.
	clock.Advance(30*24*time.Hour + 24*time.Hour + 2*time.Minute)
	fresh := l.Login(t, appID, "new@example.org")

	side, err := sqlite.Open(context.Background(), filepath.Join(dir, server.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer side.Close()
	sessions := func(userID string) int {
		t.Helper()
		list, err := side.ListSessions(context.Background(), storage.SessionFilter{UserID: userID})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	latchtest.WaitUntil(t, 10*time.Second, "the reaper to delete a session expired over a day ago by the injected clock", func() bool {
		return sessions(oldUser) == 0
	})
	if n := sessions(newUser); n != 1 {
		t.Errorf("the live session: %d rows, want 1", n)
	}
	if !strings.Contains(l.Logs.String(), "garbage collection") {
		t.Errorf("the reaper did not log what it deleted:\n%s", l.Logs)
	}

	// Seen through the API with the clock set back to when the old
	// session was live: it is gone, not merely expired.
	clock.Set(t0.Add(time.Hour))
	var list api.RefreshTokensResponse
	l.Do(t, l.APIKey, "GET", "/api/jwt/refresh?userId="+oldUser, nil, 200, &list)
	if len(list.RefreshTokens) != 0 {
		t.Errorf("GET /api/jwt/refresh?userId= lists reaped sessions: %+v", list.RefreshTokens)
	}
	l.Do(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: old.RefreshToken}, 400, nil)
	l.Do(t, l.APIKey, "GET", "/api/jwt/refresh?userId="+newUser, nil, 200, &list)
	if len(list.RefreshTokens) != 1 || list.RefreshTokens[0].ID != fresh.RefreshTokenID {
		t.Errorf("the live session: %+v, want %s", list.RefreshTokens, fresh.RefreshTokenID)
	}
}

// TestKeyRotation: after RotateKey, tokens of the old key keep validating
// and the JWKS holds both keys until the longest access-token lifetime
// (plus a minute) has passed; new tokens carry the new kid.
func TestKeyRotation(t *testing.T) {
	clock := newTestClock()
	l := startLatch(t, t.TempDir(), server.Config{Now: clock.Now})
	appID := l.DefaultApplication(t).ID
	l.Register(t, appID, "ana@example.org")
	jwtConfig := func(ttl int) map[string]any {
		return map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{
			"enabled": true, "timeToLiveInSeconds": ttl, "refreshTokenTimeToLiveInMinutes": 600,
			"refreshTokenUsagePolicy": api.RefreshReusable, "refreshTokenExpirationPolicy": "Fixed",
		}}}
	}
	// A token that lives an hour, then the application's tokens shortened
	// to 5 minutes: the longest lifetime is the tenant's 900 s.
	l.Do(t, l.APIKey, "PATCH", "/api/application/"+appID, jwtConfig(3600), 200, nil)
	before := l.Login(t, appID, "ana@example.org")
	oldKid, _ := jwtHeader(t, before.Token)["kid"].(string)
	l.Do(t, l.APIKey, "PATCH", "/api/application/"+appID, jwtConfig(300), 200, nil)
	if got := l.kids(t); !cmp.Equal(got, []string{oldKid}) {
		t.Fatalf("JWKS %v before rotation, want [%s]", got, oldKid)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, err := l.Server.Identity().RotateKey(ctx, "")
	if err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if k.Kid == "" || k.Kid == oldKid || k.Algorithm != "ES256" {
		t.Fatalf("RotateKey made %+v (old kid %s), want a new ES256 key", k, oldKid)
	}
	both := []string{oldKid, k.Kid}
	slices.Sort(both)

	if l.validate(t, before.Token) != 200 {
		t.Error("a token signed before the rotation does not validate")
	}
	if got := l.kids(t); !cmp.Equal(got, both) {
		t.Errorf("JWKS %v after rotation, want both %v", got, both)
	}
	after := l.Login(t, appID, "ana@example.org")
	if kid := jwtHeader(t, after.Token)["kid"]; kid != k.Kid {
		t.Errorf("a token made after the rotation has kid %v, want %s", kid, k.Kid)
	}
	if l.validate(t, after.Token) != 200 {
		t.Error("a token of the new key does not validate")
	}
	var refreshed api.JWTRefreshResponse
	l.Do(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: before.RefreshToken}, 200, &refreshed)
	if kid := jwtHeader(t, refreshed.Token)["kid"]; kid != k.Kid {
		t.Errorf("a refreshed token has kid %v, want %s", kid, k.Kid)
	}

	// Just before the old key expires (900 s + 1 min after the rotation).
	clock.Advance(900*time.Second + time.Minute - time.Second)
	if got := l.kids(t); !cmp.Equal(got, both) {
		t.Errorf("JWKS %v a second before the old key expires, want both %v", got, both)
	}
	if l.validate(t, before.Token) != 200 {
		t.Error("a token of the old key stopped validating before the key expired")
	}
	// Past it: the old key is gone, and with it its tokens, even one whose
	// own exp has not come.
	clock.Advance(2 * time.Second)
	if got := l.kids(t); !cmp.Equal(got, []string{k.Kid}) {
		t.Errorf("JWKS %v after the old key expired, want [%s]", got, k.Kid)
	}
	if code := l.validate(t, before.Token); code != 401 {
		t.Errorf("a token of the expired key: validate %d, want 401", code)
	}
	if l.validate(t, l.Login(t, appID, "ana@example.org").Token) != 200 {
		t.Error("a token of the new key does not validate after the old key expired")
	}
}

// TestShutdownRightAfterServe: Shutdown racing a Serve that has only just
// been started stops everything: Serve returns, and no reaper is left
// running over the closed store.
func TestShutdownRightAfterServe(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		srv, logs, err := openLatch(t, dir, server.Config{GCInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve() }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatalf("round %d: Shutdown: %v", i, err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Fatalf("round %d: Serve: %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Serve did not return", i)
		}
		if srv.ReaperRunning() {
			t.Fatalf("round %d: the reaper outlived Shutdown", i)
		}
		if strings.Contains(logs.String(), "database is closed") {
			t.Fatalf("round %d: the reaper outlived Shutdown:\n%s", i, logs)
		}
	}
}
