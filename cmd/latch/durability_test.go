package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
)

// buildLatch builds the latch binary into a temporary directory.
func buildLatch(t testing.TB) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "latch")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// child is a `latch serve` process.
type child struct {
	cmd    *exec.Cmd
	base   string
	log    string // its stdout and stderr
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// startChild runs `latch serve` on addr and dir, with the further flags
// given, and waits until it answers GET /api/status.
func startChild(t testing.TB, bin, addr, dir string, flags ...string) *child {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "latch.log")
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", dir}, flags...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCH_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, base: "http://" + addr, log: logFile, exited: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("log of latch serve on %s:\n%s", addr, tail(string(b), 40))
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(c.base + "/api/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("latch serve on %s did not become ready", addr)
		}
		select {
		case <-c.exited:
			b, _ := os.ReadFile(logFile)
			t.Fatalf("latch serve exited: %v\n%s", c.err, b)
		case <-tick.C:
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// post sends a JSON request; it returns the status and the body, or the
// transport error.
func post(ctx context.Context, client *http.Client, method, url, auth string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, rb, nil
}

// chain is one login's refresh-token family as the client saw it.
type chain struct {
	login     string // the login's refresh token
	latest    string // the last acknowledged refresh token
	refreshes int    // acknowledged refreshes
}

// TestKillDurability: every login and one-time-use refresh that Latch
// acknowledged survives kill -9 in the middle of the load.
func TestKillDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the latch binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL and SIGTERM")
	}
	bin := buildLatch(t)
	dir := filepath.Join(t.TempDir(), "data")
	first := startChild(t, bin, freeAddr(t), dir)
	key := latchtest.BootstrapKey(t, dir)

	// The Default application, one-time-use refresh tokens with a grace
	// period: a refresh in flight at the kill may have committed, and the
	// retry of its predecessor must then get the same successor.
	var apps api.ApplicationResponse
	latchtest.Do(t, first.base, key, "GET", "/api/application", nil, 200, &apps)
	appID := apps.Applications[0].ID
	var patched api.ApplicationResponse
	latchtest.Do(t, first.base, key, "PATCH", "/api/application/"+appID, map[string]any{"application": map[string]any{
		"jwtConfiguration": map[string]any{
			"enabled": true, "timeToLiveInSeconds": 300, "refreshTokenTimeToLiveInMinutes": 600,
			"refreshTokenUsagePolicy": api.RefreshOneTimeUse, "refreshTokenExpirationPolicy": "Fixed",
			"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 600},
		},
	}}, 200, &patched)
	if patched.Application.JWTConfiguration.RefreshTokenUsagePolicy != api.RefreshOneTimeUse {
		t.Fatalf("the application is not OneTimeUse: %+v", patched.Application.JWTConfiguration)
	}
	latchtest.Do(t, first.base, key, "POST", "/api/user/registration", map[string]any{
		"user": map[string]any{"email": "ana@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": appID},
	}, 200, nil)

	// The load: 4 workers, each logging in and then refreshing its chain
	// (every other chain not at all), recording what was acknowledged.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var (
		mu                  sync.Mutex
		chains              []*chain
		logins, refreshes   atomic.Int64
		unexpected          []string
		killed              atomic.Bool
		wg                  sync.WaitGroup
		loadStart           = time.Now()
		loadEnd             = loadStart.Add(8 * time.Second)
		refreshesPerOddLoop = 8
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		unexpected = append(unexpected, fmt.Sprintf(format, args...))
	}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(loadEnd) && ctx.Err() == nil; i++ {
				code, body, err := post(ctx, client, "POST", first.base+"/api/login", key,
					api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: appID})
				if err != nil {
					return // the server is gone
				}
				var login api.LoginResponse
				if code != 200 || json.Unmarshal(body, &login) != nil || login.RefreshToken == "" {
					if !killed.Load() {
						fail("worker %d: login: %d %s", w, code, body)
					}
					return
				}
				c := &chain{login: login.RefreshToken, latest: login.RefreshToken}
				mu.Lock()
				chains = append(chains, c)
				mu.Unlock()
				logins.Add(1)
				if i%2 == 0 {
					continue
				}
				for range refreshesPerOddLoop {
					code, body, err := post(ctx, client, "POST", first.base+"/api/jwt/refresh", "", api.RefreshRequest{RefreshToken: c.latest})
					if err != nil {
						return
					}
					var r api.JWTRefreshResponse
					if code != 200 || json.Unmarshal(body, &r) != nil || r.RefreshToken == "" {
						if !killed.Load() {
							fail("worker %d: refresh: %d %s", w, code, body)
						}
						return
					}
					if r.RefreshToken == c.latest {
						fail("worker %d: a OneTimeUse refresh returned the same token", w)
					}
					mu.Lock()
					c.latest = r.RefreshToken
					c.refreshes++
					mu.Unlock()
					refreshes.Add(1)
				}
			}
		})
	}

	// kill -9 once the load is well under way: a second of it, and enough
	// logins and refreshes acknowledged (or a second before its end).
	tick := time.NewTicker(5 * time.Millisecond)
	for (time.Since(loadStart) < time.Second || logins.Load() < 6 || refreshes.Load() < 20) && time.Now().Before(loadEnd.Add(-time.Second)) {
		<-tick.C
	}
	tick.Stop()
	killed.Store(true)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("latch serve did not die of SIGKILL")
	}
	wg.Wait()
	mu.Lock()
	for _, u := range unexpected {
		t.Error(u)
	}
	mu.Unlock()
	t.Logf("acknowledged before the kill: %d logins, %d refreshes", logins.Load(), refreshes.Load())
	if logins.Load() == 0 || refreshes.Load() == 0 {
		t.Fatal("no load was acknowledged before the kill: nothing to check")
	}

	// Restart on the same data; every acknowledged latest token refreshes.
	second := startChild(t, bin, freeAddr(t), dir)
	loginOnly, refreshed := 0, 0
	for i, c := range chains {
		code, body, err := post(ctx, client, "POST", second.base+"/api/jwt/refresh", "", api.RefreshRequest{RefreshToken: c.latest})
		if err != nil {
			t.Fatal(err)
		}
		if code != 200 {
			t.Errorf("chain %d (%d acknowledged refreshes): its latest acknowledged token after the restart: %d %s", i, c.refreshes, code, body)
			continue
		}
		if c.refreshes == 0 {
			loginOnly++
		} else {
			refreshed++
		}
	}
	t.Logf("after the restart: %d login tokens and %d refreshed chains still refresh", loginOnly, refreshed)
	if loginOnly == 0 {
		t.Error("no login-only chain was checked")
	}

	// SIGTERM shuts the second process down gracefully.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.exited:
		if second.err != nil {
			t.Errorf("latch serve after SIGTERM: %v, want exit status 0", second.err)
		}
	case <-time.After(20 * time.Second):
		t.Error("latch serve did not exit after SIGTERM")
	}
}
