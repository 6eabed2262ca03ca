package latchtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/server"
)

// Options configures Start and Open.
type Options struct {
	// Config is the server's configuration, with these defaults: Addr
	// 127.0.0.1:0 when empty, a new temporary directory when DataDir is
	// empty. Logger is always replaced: Latch logs to Latch.Logs.
	Config server.Config
	// Clock, when set, is the server's clock: it replaces Config.Now.
	Clock *Clock
}

// Latch is a Latch opened in this process for one test.
type Latch struct {
	Server *server.Server // the server itself
	URL    string         // the server's base URL
	Dir    string         // the data directory
	// APIKey is the bootstrap API key, read from the data directory; ""
	// when it holds none (a kickstarted Latch).
	APIKey string
	Clock  *Clock     // Options.Clock
	Logs   *LogBuffer // Latch's log, debug level included
	// Client is an HTTP client for the test's requests; Stop and Close
	// close its idle connections.
	Client *http.Client

	t      testing.TB
	served chan error // Serve's result; nil unless Start served
	once   sync.Once
}

// Open opens a Latch as Start does, but does not serve it, and returns
// server.Open's error (with l.Logs holding what it logged). Unless the
// caller serves it (Serve), the caller closes it: Close, Stop or
// l.Server's own methods.
func Open(t testing.TB, opts Options) (*Latch, error) {
	t.Helper()
	cfg := opts.Config
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if opts.Clock != nil {
		cfg.Now = opts.Clock.Now
	}
	l := &Latch{Dir: cfg.DataDir, Clock: opts.Clock, Logs: new(LogBuffer), Client: &http.Client{Timeout: 30 * time.Second}, t: t}
	cfg.Logger = l.Logs.Logger()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return l, err
	}
	l.Server, l.URL = srv, srv.URL()
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, server.BootstrapKeyFile))
	switch {
	case err == nil:
		l.APIKey = strings.TrimSpace(string(b))
	case !errors.Is(err, fs.ErrNotExist):
		srv.Close()
		t.Fatalf("read bootstrap key: %v", err)
	}
	return l, nil
}

// Start opens a Latch, which must succeed, and serves it (see Serve).
func Start(t testing.TB, opts Options) *Latch {
	t.Helper()
	l, err := Open(t, opts)
	if err != nil {
		t.Fatalf("server.Open: %v\nlogs:\n%s", err, l.Logs)
	}
	l.Serve()
	return l
}

// Serve serves a Latch that Open opened until Stop, Close or the end of
// the test; then, if the test failed, it logs Latch's log.
func (l *Latch) Serve() {
	l.served = make(chan error, 1)
	go func() { l.served <- l.Server.Serve() }()
	l.t.Cleanup(func() {
		l.Stop()
		if l.t.Failed() {
			l.t.Logf("Latch log:\n%s", l.Logs)
		}
	})
}

// Stop shuts the server down gracefully (waiting up to 10 s for the
// requests in flight) and waits for Serve to return; it fails the test if
// either reports an error. Only the first Stop or Close does anything.
func (l *Latch) Stop() {
	l.stop("Shutdown", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return l.Server.Shutdown(ctx)
	})
}

// Close stops the server at once (server.Server.Close: requests in
// flight are cut off, as when Latch goes down) and waits for Serve to
// return; it fails the test if either reports an error. Only the first
// Stop or Close does anything.
func (l *Latch) Close() { l.stop("Close", l.Server.Close) }

func (l *Latch) stop(name string, stop func() error) {
	l.once.Do(func() {
		if err := stop(); err != nil {
			l.t.Errorf("%s: %v", name, err)
		}
		if l.served != nil {
			select {
			case err := <-l.served:
				if err != nil {
					l.t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				l.t.Errorf("Serve did not return after %s", name)
			}
		}
		l.Client.CloseIdleConnections()
	})
}

// Call is the package function Call to l.URL, sent with l.Client.
func (l *Latch) Call(t testing.TB, auth, method, path string, body any) (int, []byte) {
	t.Helper()
	return call(t, l.Client, l.URL, auth, method, path, body)
}

// Do is the package function Do to l.URL, sent with l.Client.
func (l *Latch) Do(t testing.TB, auth, method, path string, body any, want int, out any) {
	t.Helper()
	do(t, l.Client, l.URL, auth, method, path, body, want, out)
}

// DefaultApplication returns the application Default, which Latch's first
// start creates; it fails the test unless Latch has a bootstrap API key
// and that application only.
func (l *Latch) DefaultApplication(t testing.TB) api.Application {
	t.Helper()
	if l.APIKey == "" {
		t.Fatalf("no %s in %s", server.BootstrapKeyFile, l.Dir)
	}
	var apps api.ApplicationResponse
	l.Do(t, l.APIKey, "GET", "/api/application", nil, http.StatusOK, &apps)
	if len(apps.Applications) != 1 || apps.Applications[0].Name != "Default" {
		t.Fatalf("applications %+v, want one named Default", apps.Applications)
	}
	return apps.Applications[0]
}

// Register creates a user with the email and Password, registered for the
// application appID with roles (the application's default roles when
// none), and returns the user's id.
func (l *Latch) Register(t testing.TB, appID, email string, roles ...string) string {
	t.Helper()
	reg := map[string]any{"applicationId": appID}
	if roles != nil {
		reg["roles"] = roles
	}
	var res api.RegistrationResponse
	l.Do(t, l.APIKey, "POST", "/api/user/registration", map[string]any{
		"user":         map[string]any{"email": email, "password": Password},
		"registration": reg,
	}, http.StatusOK, &res)
	if res.User == nil {
		t.Fatalf("register %s: no user in the answer", email)
	}
	return res.User.ID
}

// Login logs the user with the email and Password in to the application
// appID through the Login API, with the API key, and insists on 200.
func (l *Latch) Login(t testing.TB, appID, email string) api.LoginResponse {
	t.Helper()
	var res api.LoginResponse
	l.Do(t, l.APIKey, "POST", "/api/login", api.LoginRequest{LoginID: email, Password: Password, ApplicationID: appID}, http.StatusOK, &res)
	return res
}

// BootstrapKey returns the bootstrap API key that Latch's first start
// wrote into the data directory dir; it fails the test if there is none.
func BootstrapKey(t testing.TB, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, server.BootstrapKeyFile))
	if err != nil {
		t.Fatalf("read bootstrap key: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// client sends the requests of Call and Do.
var client = &http.Client{Timeout: 30 * time.Second}

// Call sends method base+path with the Authorization header auth (none
// when "") and body marshalled as JSON (none when nil), and returns the
// status and the body. It fails the test if no answer comes.
func Call(t testing.TB, base, auth, method, path string, body any) (int, []byte) {
	t.Helper()
	return call(t, client, base, auth, method, path, body)
}

// Do is Call that insists on the status want, and decodes the body into
// out unless out is nil.
func Do(t testing.TB, base, auth, method, path string, body any, want int, out any) {
	t.Helper()
	do(t, client, base, auth, method, path, body, want, out)
}

func call(t testing.TB, c *http.Client, base, auth, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res.StatusCode, b
}

func do(t testing.TB, c *http.Client, base, auth, method, path string, body any, want int, out any) {
	t.Helper()
	code, b := call(t, c, base, auth, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}
