package server_test

// Benchmarks of the hot paths through the HTTP handler, each beside the
// cost of its irreducible core measured in the same run, so the overhead
// shows as a ratio ("x-core") that does not depend on the machine:
//
//	login     ~ one password hash verification (argon2id)
//	refresh   ~ one signature plus one durable write
//	validate  ~ one signature verification
//	jwks      ~ encoding the key set
//
// Run: go test -run '^$' -bench . -benchtime 200x ./internal/server/

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
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
	b.Helper()
	dir := b.TempDir()
	srv, err := server.Open(context.Background(), server.Config{
		Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
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

// BenchmarkRefresh: POST /api/jwt/refresh under each usage policy against
// one ES256 signature plus one durable single-row write.
func BenchmarkRefresh(b *testing.B) {
	for _, policy := range []string{api.RefreshReusable, api.RefreshOneTimeUse} {
		b.Run(policy, func(b *testing.B) {
			l := newBenchLatch(b, policy)
			rt := l.login(b).RefreshToken
			st, sess := benchSession(b)
			k, err := token.GenerateKey("bench", token.ES256)
			if err != nil {
				b.Fatal(err)
			}
			claims := api.Claims{Issuer: "x", Subject: "y", Expiry: time.Now().Add(time.Hour).Unix()}
			ratio(b, func() {
				if _, err := token.Sign(k, token.TypeAccessToken, claims); err != nil {
					b.Fatal(err)
				}
				now := time.Now()
				if err := st.TouchSession(context.Background(), sess, storage.Touch{StartInstant: now, ExpiresAt: now.Add(time.Hour), LastUsed: now}); err != nil {
					b.Fatal(err)
				}
			}, func() {
				var resp api.JWTRefreshResponse
				l.do(b, "POST", "/api/jwt/refresh", map[string]any{"refreshToken": rt}, 200, &resp)
				rt = resp.RefreshToken
			})
		})
	}
}

// benchSession opens a separate SQLite store (same settings as Latch's)
// holding one session to touch: the durable write of the refresh core.
func benchSession(b *testing.B) (storage.Store, string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "core.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.Now().UTC()
	t := api.Tenant{ID: "00000000-0000-4000-8000-000000000001", Name: "t"}
	a := storage.Application{Application: api.Application{ID: "00000000-0000-4000-8000-000000000002", TenantID: t.ID, Name: "a"}}
	u := storage.User{ID: "00000000-0000-4000-8000-000000000003", TenantID: t.ID, Email: "c@example.org", Inserted: now, Updated: now}
	s := storage.Session{ID: "00000000-0000-4000-8000-000000000004", TenantID: t.ID, UserID: u.ID, ApplicationID: a.ID,
		TokenHash: token.HashRefreshToken("core"), Inserted: now, StartInstant: now, ExpiresAt: now.Add(time.Hour), AuthTime: now, LastUsed: now}
	for _, err := range []error{st.CreateTenant(ctx, t), st.CreateApplication(ctx, a), st.CreateUser(ctx, u), st.CreateSession(ctx, s)} {
		if err != nil {
			b.Fatal(err)
		}
	}
	return st, s.ID
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
