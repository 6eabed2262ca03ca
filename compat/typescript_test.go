package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/server"
)

// Known values of the kickstart of kickstartFile, which the TypeScript and
// Go tests (golang_test.go) share.
const (
	tsTenantID      = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
	tsApplicationID = "8e2d4c6b-1a3f-4e5d-9c7b-6a5f4e3d2c1b"
	tsAPIKey        = "compat-typescript-api-key-0123456789abcdef"
	tsClientSecret  = "compat-typescript-client-secret-0123456789"
	tsRole          = "customer"
	tsUserID        = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	tsUserEmail     = "kickstart.user@example.org"
	tsUserPassword  = "kickstart user passphrase 1234"
)

// Timeouts: npm ci fetches from the registry; the node tests take seconds.
const (
	npmTimeout   = 5 * time.Minute
	startTimeout = time.Minute
	nodeTimeout  = 3 * time.Minute
)

// TestTypeScriptClient runs compat/typescript/compat.test.mjs, which drives
// an in-process Latch with FusionAuth's official TypeScript client. It
// needs node and npm; without them, or when npm ci fails, it is skipped,
// except under CI=true where that is a failure.
func TestTypeScriptClient(t *testing.T) {
	unavailable := t.Skipf
	if os.Getenv("CI") == "true" {
		unavailable = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("node not found: %v", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable("npm not found: %v", err)
	}
	dir, err := filepath.Abs("typescript")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); errors.Is(err, os.ErrNotExist) {
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			os.RemoveAll(filepath.Join(dir, "node_modules")) // no half install left to skip the next npm ci
			unavailable("npm ci failed: %v\n%s", err, out)
		}
	} else if err != nil {
		t.Fatal(err)
	}

	srv := startLatch(t, kickstartFile(t), server.Config{})

	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "compat.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"LATCH_URL="+srv.URL(),
		"LATCH_API_KEY="+tsAPIKey,
		"LATCH_APPLICATION_ID="+tsApplicationID,
		"LATCH_CLIENT_SECRET="+tsClientSecret,
		"LATCH_ROLE="+tsRole,
		"LATCH_TENANT_ID="+tsTenantID,
		"LATCH_KICKSTART_LOGIN_ID="+tsUserEmail,
		"LATCH_KICKSTART_PASSWORD="+tsUserPassword,
		"NO_COLOR=1",
	)
	out := &lineLogger{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	out.flush()
	if ctx.Err() != nil {
		t.Fatalf("node --test did not finish within %v", nodeTimeout)
	}
	if err != nil {
		t.Fatalf("node --test compat.test.mjs: %v", err)
	}
}

// startLatch starts Latch in-process on a free port with a temporary data
// directory, the given kickstart file and cfg's other settings, and stops
// it at cleanup.
func startLatch(t *testing.T, kickstart []byte, cfg server.Config) *server.Server {
	t.Helper()
	dir := t.TempDir()
	ks := filepath.Join(dir, "kickstart.json")
	if err := os.WriteFile(ks, kickstart, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.DataDir, cfg.Kickstart = "127.0.0.1:0", filepath.Join(dir, "data"), ks
	cfg.Logger = slog.New(slog.NewTextHandler(&lineLogger{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start latch: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitReady(t, srv.URL())
	return srv
}

// waitReady waits until the server answers its status API.
func waitReady(t *testing.T, base string) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := hc.Get(base + "/api/status")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("latch at %s is not ready: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kickstartFile is a FusionAuth kickstart: an API key, an application for
// the password and refresh_token grants with a known client secret and
// one-time-use refresh tokens, and a registered user.
func kickstartFile(t *testing.T) []byte {
	t.Helper()
	type obj = map[string]any
	f := obj{
		"variables": obj{
			"defaultTenantId": tsTenantID,
			"applicationId":   tsApplicationID,
			"apiKey":          tsAPIKey,
			"clientSecret":    tsClientSecret,
			"userId":          tsUserID,
			"userEmail":       tsUserEmail,
			"userPassword":    tsUserPassword,
		},
		"apiKeys": []obj{{"key": "#{apiKey}", "description": "compat: TypeScript client"}},
		"requests": []obj{
			{
				"method": "POST",
				"url":    "/api/application/#{applicationId}",
				"body": obj{"application": obj{
					"name":  "TypeScript compat",
					"roles": []obj{{"name": tsRole, "isDefault": false}},
					"jwtConfiguration": obj{
						"enabled":                         true,
						"timeToLiveInSeconds":             300,
						"refreshTokenTimeToLiveInMinutes": 60,
						"refreshTokenUsagePolicy":         "OneTimeUse",
						"refreshTokenExpirationPolicy":    "Fixed",
						// FusionAuth's defaults: a rotated value is refused at
						// once, and its reuse does not revoke the session.
						"refreshTokenOneTimeUseConfiguration": obj{"gracePeriodInSeconds": 0},
						"refreshTokenRevocationPolicy":        obj{"onOneTimeTokenReuse": false},
					},
					"loginConfiguration": obj{
						"allowTokenRefresh":     true,
						"generateRefreshTokens": true,
						"requireAuthentication": true,
					},
					"oauthConfiguration": obj{
						"clientSecret":               "#{clientSecret}",
						"clientAuthenticationPolicy": "Required",
						"enabledGrants":              []string{"password", "refresh_token"},
						"generateRefreshTokens":      true,
					},
				}},
			},
			{
				"method": "POST",
				"url":    "/api/user/registration/#{userId}",
				"body": obj{
					"user":                         obj{"email": "#{userEmail}", "password": "#{userPassword}"},
					"registration":                 obj{"applicationId": "#{applicationId}", "roles": []string{tsRole}},
					"skipVerification":             true,
					"skipRegistrationVerification": true,
				},
			},
		},
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lineLogger is an io.Writer that logs each complete line with t.Log.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err == io.EOF {
			l.buf.WriteString(line) // an incomplete line waits for the rest
			return len(p), nil
		}
		l.t.Log(strings.TrimRight(line, "\r\n"))
	}
}

// flush logs what is left after the last newline.
func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.t.Log(l.buf.String())
		l.buf.Reset()
	}
}
