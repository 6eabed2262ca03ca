package server_test

// Benchmarks of the hot paths through the HTTP handler, each beside the
// cost of its irreducible core measured in the same run, so the overhead
// shows as a ratio ("x-core") that does not depend on the machine:
//
//	login     ~ one password hash verification (argon2id)
//	refresh   ~ one signature plus one durable write, from 64 clients at once
//	validate  ~ one signature verification
//	jwks      ~ encoding the key set
//
// Run: go test -run '^$' -bench . -benchtime 200x ./internal/server/

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/server"
	_ "github.com/latchid/latch/internal/storage/sqlite" // the floor's driver
	"github.com/latchid/latch/internal/token"
)

// benchLatch is a Latch set up for benchmarks: one application, one user.
type benchLatch struct {
	srv   *server.Server
	h     http.Handler
	key   string
	appID string
	dir   string
}

func newBenchLatch(b *testing.B, policy string) *benchLatch {
	return newBenchLatchOn(b, policy, "")
}

// newBenchLatchOn is newBenchLatch on the database at databaseURL (SQLite
// in a temporary directory when "").
func newBenchLatchOn(b *testing.B, policy, databaseURL string) *benchLatch {
	b.Helper()
	dir := b.TempDir()
	srv, err := server.Open(context.Background(), server.Config{
		Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: databaseURL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	key, err := os.ReadFile(filepath.Join(dir, server.BootstrapKeyFile))
	if err != nil {
		b.Fatal(err)
	}
	l := &benchLatch{srv: srv, h: srv.Handler(), key: strings.TrimSpace(string(key)), dir: dir}
	var apps api.ApplicationResponse
	l.do(b, "GET", "/api/application", nil, 200, &apps)
	l.appID = apps.Applications[0].ID
	patch := map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{
		"enabled": true, "timeToLiveInSeconds": 300, "refreshTokenTimeToLiveInMinutes": 600,
		"refreshTokenUsagePolicy": policy, "refreshTokenExpirationPolicy": "SlidingWindow",
	}}}
	l.do(b, "PATCH", "/api/application/"+l.appID, patch, 200, nil)
	reg := map[string]any{
		"user":         map[string]any{"email": "bench@example.org", "password": "correct horse battery"},
		"registration": map[string]any{"applicationId": l.appID},
	}
	l.do(b, "POST", "/api/user/registration", reg, 200, nil)
	return l
}

func (l *benchLatch) do(b *testing.B, method, path string, body any, want int, out any) {
	b.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Authorization", l.key)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	l.h.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			b.Fatal(err)
		}
	}
}

func (l *benchLatch) login(b *testing.B) api.LoginResponse {
	var resp api.LoginResponse
	l.do(b, "POST", "/api/login", map[string]any{"loginId": "bench@example.org", "password": "correct horse battery", "applicationId": l.appID}, 200, &resp)
	return resp
}

// ratio times core and full, each b.N times, and reports full/core.
func ratio(b *testing.B, core, full func()) {
	b.Helper()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		core()
	}
	coreDur := time.Since(start)
	start = time.Now()
	for i := 0; i < b.N; i++ {
		full()
	}
	fullDur := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(coreDur.Nanoseconds())/float64(b.N), "core-ns/op")
	b.ReportMetric(float64(fullDur.Nanoseconds())/float64(b.N), "full-ns/op")
	b.ReportMetric(float64(fullDur)/float64(coreDur), "x-core")
}

// BenchmarkLogin: POST /api/login against one argon2id verification.
func BenchmarkLogin(b *testing.B) {
	l := newBenchLatch(b, api.RefreshReusable)
	stored, err := password.Hash("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	ratio(b, func() {
		if ok, _ := password.Verify("correct horse battery", stored); !ok {
			b.Fatal("verify")
		}
	}, func() { l.login(b) })
}

// refreshClients is how many clients refresh at once in BenchmarkRefresh:
// a backend's worth of users whose access tokens expire together.
const refreshClients = 64

// BenchmarkRefresh: POST /api/jwt/refresh under each usage policy, from
// refreshClients goroutines at once, each refreshing its own session,
// against the floor of a refresh measured in the same run: one ES256
// signature plus one durable single-row write (an UPDATE committed on
// its own, one fsync, on one SQLite writer with Latch's settings) from as
// many goroutines. It reports refreshes/s of both, their ratio (x-floor,
// above 1 when Latch refreshes faster than one fsync per refresh allows)
// and Latch's p50 and p99 latency.
func BenchmarkRefresh(b *testing.B) {
	for _, policy := range []string{api.RefreshReusable, api.RefreshOneTimeUse} {
		b.Run(policy, func(b *testing.B) { benchRefresh(b, newBenchLatch(b, policy)) })
	}
}

// BenchmarkRefreshPostgres is BenchmarkRefresh/OneTimeUse on PostgreSQL
// (pgtest's database), against the same SQLite floor.
func BenchmarkRefreshPostgres(b *testing.B) {
	benchRefresh(b, newBenchLatchOn(b, api.RefreshOneTimeUse, pgtest.Schema(b)))
}

// benchRefresh is BenchmarkRefresh on l.
func benchRefresh(b *testing.B, l *benchLatch) {
	procs := runtime.GOMAXPROCS(0)
	par := (refreshClients + procs - 1) / procs
	goroutines := par * procs
	tokens := make(chan string, goroutines)
	for range goroutines {
		tokens <- l.login(b).RefreshToken
	}
	fl := newRefreshFloor(b, goroutines)
	b.SetParallelism(par)

	b.ResetTimer()
	floorDur, _ := timeParallel(b, func() func() {
		row := fl.next.Add(1)
		return func() { fl.refresh(b, row) }
	})
	fullDur, lat := timeParallel(b, func() func() {
		rt := <-tokens
		return func() {
			var resp api.JWTRefreshResponse
			l.post(b, "/api/jwt/refresh", map[string]any{"refreshToken": rt}, &resp)
			rt = resp.RefreshToken
		}
	})
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/floorDur.Seconds(), "floor-refreshes/s")
	b.ReportMetric(float64(b.N)/fullDur.Seconds(), "refreshes/s")
	b.ReportMetric(float64(floorDur)/float64(fullDur), "x-floor")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// timeParallel runs b.N operations over b.RunParallel's goroutines, each
// making its operation with setup, and returns how long they took and
// the latency of each.
func timeParallel(b *testing.B, setup func() func()) (time.Duration, []time.Duration) {
	var mu sync.Mutex
	all := make([]time.Duration, 0, b.N)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		op := setup()
		var lat []time.Duration
		for pb.Next() {
			t := time.Now()
			op()
			lat = append(lat, time.Since(t))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	return time.Since(start), all
}

// post is do for a POST that must answer 200, safe for concurrent use.
func (l *benchLatch) post(b *testing.B, path string, body, out any) {
	j, err := json.Marshal(body)
	if err != nil {
		b.Error(err)
		return
	}
	r := httptest.NewRequest("POST", path, bytes.NewReader(j))
	r.Header.Set("Authorization", l.key)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	l.h.ServeHTTP(w, r)
	if w.Code != 200 {
		b.Errorf("POST %s: %d %s", path, w.Code, w.Body)
		return
	}
	if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
		b.Error(err)
	}
}

// refreshFloor is the least a durable refresh costs: an ES256 signature
// and a single-row UPDATE committed on its own (one fsync) on one SQLite
// writer with Latch's settings (WAL, synchronous=FULL), nothing else.
type refreshFloor struct {
	key  *token.Key
	db   *sql.DB
	next atomic.Int64 // the row the next goroutine updates
}

func newRefreshFloor(b *testing.B, rows int) *refreshFloor {
	b.Helper()
	k, err := token.GenerateKey("bench", token.ES256)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "floor.db")+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE sessions (id INTEGER PRIMARY KEY, last_used INTEGER)"); err != nil {
		b.Fatal(err)
	}
	for i := range rows {
		if _, err := db.Exec("INSERT INTO sessions VALUES (?, 0)", i+1); err != nil {
			b.Fatal(err)
		}
	}
	return &refreshFloor{key: k, db: db}
}

func (f *refreshFloor) refresh(b *testing.B, row int64) {
	claims := api.Claims{Issuer: "x", Subject: "y", Expiry: time.Now().Add(time.Hour).Unix()}
	if _, err := token.Sign(f.key, token.TypeAccessToken, claims); err != nil {
		b.Error(err)
	}
	if _, err := f.db.Exec("UPDATE sessions SET last_used = ? WHERE id = ?", time.Now().UnixMicro(), row); err != nil {
		b.Error(err)
	}
}

// BenchmarkValidate: GET /api/jwt/validate against one ES256 verification.
func BenchmarkValidate(b *testing.B) {
	l := newBenchLatch(b, api.RefreshReusable)
	jwt := l.login(b).Token
	var set struct {
		Keys []struct{ X, Y string } `json:"keys"`
	}
	l.do(b, "GET", "/.well-known/jwks.json", nil, 200, &set)
	pub := ecdsaKey(b, set.Keys[0].X, set.Keys[0].Y)
	parts := strings.Split(jwt, ".")
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	ratio(b, func() {
		if !ecdsaVerify(pub, digest[:], sig) {
			b.Fatal("verify")
		}
	}, func() {
		r := httptest.NewRequest("GET", "/api/jwt/validate", nil)
		r.Header.Set("Authorization", "Bearer "+jwt)
		w := httptest.NewRecorder()
		l.h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	})
}

// BenchmarkJWKS: GET /.well-known/jwks.json against encoding the set.
func BenchmarkJWKS(b *testing.B) {
	l := newBenchLatch(b, api.RefreshReusable)
	set, err := l.srv.Identity().JWKS(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ratio(b, func() {
		if _, err := json.Marshal(set); err != nil {
			b.Fatal(err)
		}
	}, func() {
		w := httptest.NewRecorder()
		l.h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	})
}
