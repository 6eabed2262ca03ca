package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/redistest"
	"github.com/latchid/latch/internal/storefront"
)

// envOf returns a lookupEnv over a map.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseFlags(t *testing.T) {
	ignore := cmpopts.IgnoreFields(storefront.Config{}, "Logger")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want storefront.Config
	}{
		{
			name: "Defaults",
			args: []string{"--application-id", "app", "--api-key", "key"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data", ApplicationID: "app", APIKey: "key", LatchWait: 30 * time.Second},
		},
		{
			name: "Environment",
			env: map[string]string{
				"STOREFRONT_ADDR": "0.0.0.0:9090", "STOREFRONT_LATCH_URL": "https://latch.example.com", "STOREFRONT_APPLICATION_ID": "app",
				"STOREFRONT_API_KEY": "key", "STOREFRONT_DATA_DIR": "/var/lib/storefront", "STOREFRONT_ISSUER": "https://id.example.com",
			},
			want: storefront.Config{Addr: "0.0.0.0:9090", LatchURL: "https://latch.example.com", DataDir: "/var/lib/storefront",
				ApplicationID: "app", APIKey: "key", Issuer: "https://id.example.com", LatchWait: 30 * time.Second},
		},
		{
			name: "FlagsWin",
			args: []string{"--addr", ":1", "--latch", "http://l:1", "--application-id", "a2", "--api-key", "k2", "--data", "d2", "--issuer", "i2"},
			env: map[string]string{
				"STOREFRONT_ADDR": "0.0.0.0:9090", "STOREFRONT_LATCH_URL": "https://latch.example.com", "STOREFRONT_APPLICATION_ID": "app",
				"STOREFRONT_API_KEY": "key", "STOREFRONT_DATA_DIR": "/var/lib/storefront", "STOREFRONT_ISSUER": "https://id.example.com",
			},
			want: storefront.Config{Addr: ":1", LatchURL: "http://l:1", DataDir: "d2", ApplicationID: "a2", APIKey: "k2", Issuer: "i2", LatchWait: 30 * time.Second},
		},
		{
			name: "DPoPWebhookTLS",
			args: []string{"--application-id", "app", "--api-key", "key", "--public-url", "https://shop.example.com",
				"--require-dpop", "--register-webhook", "--tls-cert", "c.pem", "--tls-key", "k.pem"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data",
				ApplicationID: "app", APIKey: "key", PublicURL: "https://shop.example.com", RequireDPoP: true, RegisterWebhook: true,
				TLSCertFile: "c.pem", TLSKeyFile: "k.pem", LatchWait: 30 * time.Second},
		},
		{
			name: "DPoPWebhookTLSEnvironment",
			env: map[string]string{"STOREFRONT_APPLICATION_ID": "app", "STOREFRONT_API_KEY": "key",
				"STOREFRONT_PUBLIC_URL": "https://shop.example.com", "STOREFRONT_REQUIRE_DPOP": "true", "STOREFRONT_REGISTER_WEBHOOK": "1",
				"STOREFRONT_TLS_CERT": "c.pem", "STOREFRONT_TLS_KEY": "k.pem"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data",
				ApplicationID: "app", APIKey: "key", PublicURL: "https://shop.example.com", RequireDPoP: true, RegisterWebhook: true,
				TLSCertFile: "c.pem", TLSKeyFile: "k.pem", LatchWait: 30 * time.Second},
		},
		{
			name: "Redis",
			args: []string{"--application-id", "app", "--api-key", "key", "--redis", "redis://redis.internal:6379/2"},
			env:  map[string]string{"STOREFRONT_REDIS_URL": "redis://other:6379"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data",
				ApplicationID: "app", APIKey: "key", RedisURL: "redis://redis.internal:6379/2", LatchWait: 30 * time.Second},
		},
		{
			name: "RedisEnvironment",
			env:  map[string]string{"STOREFRONT_APPLICATION_ID": "app", "STOREFRONT_API_KEY": "key", "STOREFRONT_REDIS_URL": "rediss://:pw@redis.internal"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data",
				ApplicationID: "app", APIKey: "key", RedisURL: "rediss://:pw@redis.internal", LatchWait: 30 * time.Second},
		},
		{
			name: "LatchWait",
			args: []string{"--application-id", "app", "--api-key", "key", "--latch-wait", "2m"},
			env:  map[string]string{"STOREFRONT_LATCH_WAIT": "5s"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data",
				ApplicationID: "app", APIKey: "key", LatchWait: 2 * time.Minute},
		},
		{
			name: "LatchWaitEnvironment",
			env:  map[string]string{"STOREFRONT_APPLICATION_ID": "app", "STOREFRONT_API_KEY": "key", "STOREFRONT_LATCH_WAIT": "0"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data",
				ApplicationID: "app", APIKey: "key"},
		},
		{
			name: "FlagWinsOverBooleanTwin",
			args: []string{"--application-id", "app", "--api-key", "key", "--require-dpop=false"},
			env:  map[string]string{"STOREFRONT_REQUIRE_DPOP": "true"},
			want: storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data",
				ApplicationID: "app", APIKey: "key", LatchWait: 30 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, envOf(tt.env), io.Discard, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("parseFlags: %v", err)
			}
			if got.Logger == nil {
				t.Errorf("no logger")
			}
			if diff := cmp.Diff(tt.want, got, ignore); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFlags_Errors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"NothingGiven", nil, nil, []string{"--application-id", "STOREFRONT_APPLICATION_ID", "--api-key", "STOREFRONT_API_KEY"}},
		{"NoAPIKey", []string{"--application-id", "app"}, nil, []string{"--api-key"}},
		{"EmptyEnvironment", nil, map[string]string{"STOREFRONT_APPLICATION_ID": "", "STOREFRONT_API_KEY": "key"}, []string{"--application-id"}},
		{"LogFormat", []string{"--application-id", "a", "--api-key", "k", "--log-format", "xml"}, nil, []string{"log-format"}},
		{"UnknownFlag", []string{"--nope"}, nil, []string{"nope"}},
		{"Arguments", []string{"--application-id", "a", "--api-key", "k", "serve"}, nil, []string{"unexpected"}},
		{"CertWithoutKey", []string{"--application-id", "a", "--api-key", "k", "--tls-cert", "c.pem"}, nil, []string{"--tls-key"}},
		{"BooleanTwin", []string{"--application-id", "a", "--api-key", "k"}, map[string]string{"STOREFRONT_REQUIRE_DPOP": "maybe"},
			[]string{"STOREFRONT_REQUIRE_DPOP"}},
		{"RedisScheme", []string{"--application-id", "a", "--api-key", "k", "--redis", "http://127.0.0.1:6379"}, nil,
			[]string{"--redis", "STOREFRONT_REDIS_URL", "scheme"}},
		{"RedisTwin", []string{"--application-id", "a", "--api-key", "k"}, map[string]string{"STOREFRONT_REDIS_URL": "redis://h/x/y"},
			[]string{"--redis", "STOREFRONT_REDIS_URL", "path"}},
		{"LatchWait", []string{"--application-id", "a", "--api-key", "k", "--latch-wait", "soon"}, nil, []string{"latch-wait"}},
		{"NegativeLatchWait", []string{"--application-id", "a", "--api-key", "k", "--latch-wait", "-1s"}, nil, []string{"--latch-wait"}},
		{"LatchWaitTwin", []string{"--application-id", "a", "--api-key", "k"}, map[string]string{"STOREFRONT_LATCH_WAIT": "30"},
			[]string{"STOREFRONT_LATCH_WAIT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, envOf(tt.env), io.Discard, &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// fakeLatch plays a Latch that takes apiKey and knows every application,
// enough for the check the storefront makes as it starts. It stops when
// the test ends.
func fakeLatch(t *testing.T, apiKey string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/api/application/")
		switch {
		case !ok || r.Method != http.MethodGet || id == "unknown":
			http.NotFound(w, r)
		case r.Header.Get("Authorization") != apiKey:
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(api.ApplicationResponse{Application: &api.Application{ID: id, Active: true}})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A wrong --api-key or --application-id stops the storefront at start,
// with an error that names the flag to check and never the key.
func TestRun_LatchRefuses(t *testing.T) {
	latch := fakeLatch(t, "the-right-key")
	tests := []struct {
		name, appID, key string
		want             []string
	}{
		{"WrongKey", "app", "a-wrong-key", []string{"refuses the API key", "--api-key", "STOREFRONT_API_KEY"}},
		{"UnknownApplication", "unknown", "the-right-key", []string{"no such application", `"unknown"`, "--application-id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := &latchtest.LogBuffer{}
			args := []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--latch", latch, "--application-id", tt.appID}
			err := run(context.Background(), args, envOf(map[string]string{"STOREFRONT_API_KEY": tt.key}), io.Discard, stderr,
				func(*storefront.Server) { t.Error("the storefront started") })
			if err == nil {
				t.Fatal("run succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tt.key) || strings.Contains(stderr.String(), tt.key) {
				t.Errorf("the API key shows: %v\n%s", err, stderr)
			}
		})
	}
}

// run serves until its context ends, then shuts down gracefully.
func TestRun(t *testing.T) {
	stderr := &latchtest.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *storefront.Server, 1)
	done := make(chan error, 1)
	args := []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--issuer", "http://latch.test", "--log-format", "json",
		"--latch", fakeLatch(t, "secret-key")}
	env := envOf(map[string]string{"STOREFRONT_APPLICATION_ID": "app", "STOREFRONT_API_KEY": "secret-key"})
	go func() { done <- run(ctx, args, env, io.Discard, stderr, func(s *storefront.Server) { ready <- s }) }()
	var srv *storefront.Server
	select {
	case srv = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	res, err := http.Get(srv.URL() + "/api/products")
	if err != nil {
		t.Fatal(err)
	}
	var ps storefront.ProductsResponse
	if err := json.NewDecoder(res.Body).Decode(&ps); err != nil || res.StatusCode != http.StatusOK || len(ps.Products) == 0 {
		t.Errorf("GET /api/products: %d, %+v, %v", res.StatusCode, ps, err)
	}
	res.Body.Close()
	res, err = http.Get(srv.URL() + "/api/cart")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/cart without a JWT: %d, want 401", res.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	logs := stderr.String()
	if strings.Contains(logs, "secret-key") {
		t.Errorf("the API key was logged")
	}
	if !strings.Contains(logs, `"msg":"storefront listening"`) || !strings.Contains(logs, "shutting down") {
		t.Errorf("log lacks the start and the stop:\n%s", logs)
	}
}

func TestRun_BusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	args := []string{"--addr", ln.Addr().String(), "--data", t.TempDir(), "--application-id", "a", "--api-key", "k", "--issuer", "http://latch.test"}
	err = run(context.Background(), args, envOf(nil), io.Discard, &latchtest.LogBuffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("run on a busy port: %v, want a listen error", err)
	}
	if got := errorLine(err); !strings.HasPrefix(got, "storefront: listen on ") || strings.Count(got, "storefront:") != 1 {
		t.Errorf("main prints %q, want one \"storefront: \" prefix before \"listen on\"", got)
	}
}

// Asked for help, the storefront prints its usage on stdout, starts
// nothing and succeeds; a bad flag still fails, on stderr.
func TestRun_Help(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantErr    bool
		wantStdout []string
		wantStderr []string
	}{
		{"--help", []string{"--help"}, false, []string{"Usage: storefront", "-application-id", "STOREFRONT_API_KEY", "-latch-wait"}, nil},
		{"-h", []string{"-h"}, false, []string{"Usage: storefront"}, nil},
		{"-help with other flags", []string{"--addr", "127.0.0.1:1", "-help"}, false, []string{"-redis"}, nil},
		{"unknown flag", []string{"--nope"}, true, nil, []string{"flag provided but not defined: -nope", "Usage: storefront"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, envOf(nil), &stdout, &stderr, func(*storefront.Server) { t.Error("the storefront started") })
			if (err != nil) != tc.wantErr {
				t.Errorf("run(%q) = %v, want error %v", tc.args, err, tc.wantErr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if tc.wantErr && stdout.Len() > 0 {
				t.Errorf("a failing run wrote to stdout: %q", stdout.String())
			}
			if !tc.wantErr && stderr.Len() > 0 {
				t.Errorf("help wrote to stderr: %q", stderr.String())
			}
		})
	}
}

func TestErrorLine(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("storefront: listen on 127.0.0.1:8080: address already in use"), "storefront: listen on 127.0.0.1:8080: address already in use"},
		{errors.New("--api-key (or STOREFRONT_API_KEY) is required"), "storefront: --api-key (or STOREFRONT_API_KEY) is required"},
		{fmt.Errorf("%w; check --api-key", storefront.ErrAPIKeyRefused), "storefront: Latch refuses the API key; check --api-key"},
	} {
		if got := errorLine(tc.err); got != tc.want {
			t.Errorf("errorLine(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// With --tls-cert and --tls-key the storefront serves HTTPS.
func TestRun_TLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := latchtest.TLSCert(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *storefront.Server, 1)
	done := make(chan error, 1)
	args := []string{"--addr", "127.0.0.1:0", "--data", dir, "--issuer", "http://latch.test", "--tls-cert", certFile}
	env := envOf(map[string]string{"STOREFRONT_APPLICATION_ID": "app", "STOREFRONT_API_KEY": "k", "STOREFRONT_TLS_KEY": keyFile,
		"STOREFRONT_LATCH_URL": fakeLatch(t, "k")})
	go func() {
		done <- run(ctx, args, env, io.Discard, &latchtest.LogBuffer{}, func(s *storefront.Server) { ready <- s })
	}()
	var srv *storefront.Server
	select {
	case srv = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := c.Get(srv.URL() + "/api/products")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.TLS == nil || res.TLS.Version != tls.VersionTLS13 || !strings.HasPrefix(srv.URL(), "https://") {
		t.Errorf("GET over TLS: %d, %+v, URL %s", res.StatusCode, res.TLS, srv.URL())
	}
	c.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// --redis: a URL that does not parse, or a Redis that does not answer,
// stops the storefront from starting, with an error that names the flag
// or the address and never the password.
func TestRun_RedisErrors(t *testing.T) {
	const password = "hunter2-s3cret"
	tests := []struct {
		name, url string
		want      []string
	}{
		{"BadURL", "redis://:" + password + "@127.0.0.1:port/0", []string{"--redis", "port"}},
		{"BadScheme", "tcp://:" + password + "@127.0.0.1:6379", []string{"--redis", "scheme"}},
		{"Unreachable", "redis://:" + password + "@127.0.0.1:1/0", []string{"Redis at 127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := &latchtest.LogBuffer{}
			args := []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--application-id", "a", "--api-key", "k",
				"--issuer", "http://latch.test", "--redis", tt.url}
			err := run(context.Background(), args, envOf(nil), io.Discard, stderr, func(*storefront.Server) { t.Error("the storefront started") })
			if err == nil {
				t.Fatal("run succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), password) || strings.Contains(stderr.String(), password) {
				t.Errorf("the password shows: %v\n%s", err, stderr)
			}
		})
	}
}

// With STOREFRONT_REDIS_URL the storefront says, without the password,
// that it shares revocations and DPoP replay in Redis, and closes its
// client when it stops.
func TestRun_Redis(t *testing.T) {
	addr := redistest.Addr(t)
	const password = "hunter2-s3cret" // a Redis without a password takes any
	var b [8]byte
	rand.Read(b[:])
	name := "storefront-test-" + hex.EncodeToString(b[:])
	url := "redis://:" + password + "@" + addr + "/0?client_name=" + name
	stderr := &latchtest.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *storefront.Server, 1)
	done := make(chan error, 1)
	args := []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--issuer", "http://latch.test", "--latch", fakeLatch(t, "k")}
	env := envOf(map[string]string{"STOREFRONT_APPLICATION_ID": "app-" + name, "STOREFRONT_API_KEY": "k", "STOREFRONT_REDIS_URL": url})
	go func() { done <- run(ctx, args, env, io.Discard, stderr, func(s *storefront.Server) { ready <- s }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	clients := func() int {
		list, err := rdb.ClientList(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(list, " name="+name+" ")
	}
	if n := clients(); n == 0 {
		t.Errorf("no connection of the storefront to Redis")
	}
	// go-redis's own lines (here, of a client of a port where no Redis
	// listens) go through the storefront's log.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialerRetries: 1, MaxRetries: -1})
	dead.Ping(context.Background())
	dead.Close()
	if logs := stderr.String(); !strings.Contains(logs, `level=WARN msg="redis: connection pool: failed to dial`) {
		t.Errorf("go-redis's log line is not the storefront's:\n%s", logs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	// Redis notices the closed connections a moment later.
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for n := clients(); n != 0; n = clients() {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections of the storefront to Redis 5s after it stopped", n)
		}
		<-tick.C
	}
	logs := stderr.String()
	if !strings.Contains(logs, "revocations and DPoP replay are shared in Redis") || !strings.Contains(logs, "redis="+addr) {
		t.Errorf("the log does not say that Redis is shared:\n%s", logs)
	}
	if strings.Contains(logs, password) {
		t.Errorf("the Redis password was logged:\n%s", logs)
	}
}
