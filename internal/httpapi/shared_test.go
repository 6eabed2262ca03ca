package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// shared is the one Latch of the tests that need no server of their own.
var shared struct {
	once sync.Once
	e    *env
	dir  string
	err  error
}

// TestMain stops the shared server, if a test started it, once every test
// has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.e != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := shared.e.srv.Shutdown(ctx); err != nil && code == 0 {
			fmt.Fprintf(os.Stderr, "shut the shared server down: %v\n", err)
			code = 1
		}
		cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedEnv returns the Latch that the package's tests share when they
// need no server of their own: tests that change no tenant, move no
// clock, count nothing server-wide, and use users, applications and login
// IDs of their own (mustUser's random emails, or fixed ones no other
// shared test uses). Its clock never moves. It starts at the first call;
// TestMain stops it.
func sharedEnv(t *testing.T) *env {
	t.Helper()
	shared.once.Do(func() { shared.e, shared.err = startShared() })
	if shared.err != nil {
		t.Fatalf("start the shared server: %v", shared.err)
	}
	return shared.e
}

// startShared starts the shared server: newEnv's, outliving any one test.
func startShared() (*env, error) {
	dir, err := os.MkdirTemp("", "latch-httpapi-")
	if err != nil {
		return nil, err
	}
	shared.dir = dir
	clock := latchtest.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	logs := new(latchtest.LogBuffer)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Open(ctx, server.Config{Now: clock.Now, Addr: "127.0.0.1:0", DataDir: dir, Logger: logs.Logger()})
	if err != nil {
		return nil, err
	}
	go srv.Serve()
	key, err := os.ReadFile(filepath.Join(dir, server.BootstrapKeyFile))
	if err != nil {
		srv.Close()
		return nil, err
	}
	e := &env{srv: srv, url: srv.URL(), key: strings.TrimSpace(string(key)), clock: clock, logs: logs,
		client: &http.Client{Timeout: 30 * time.Second}}
	req, err := http.NewRequestWithContext(ctx, "GET", e.url+"/api/application", nil)
	if err != nil {
		srv.Close()
		return nil, err
	}
	req.Header.Set("Authorization", e.key)
	res, err := e.client.Do(req)
	if err != nil {
		srv.Close()
		return nil, err
	}
	defer res.Body.Close()
	var apps api.ApplicationResponse
	if err := json.NewDecoder(res.Body).Decode(&apps); err != nil || len(apps.Applications) != 1 {
		srv.Close()
		return nil, fmt.Errorf("bootstrap applications: %+v, %v; want one", apps.Applications, err)
	}
	e.appID, e.tenantID = apps.Applications[0].ID, apps.Applications[0].TenantID
	return e, nil
}
