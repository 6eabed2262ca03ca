package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/postgres"
	"github.com/latchid/latch/internal/storage/sqlite"
)

// A refresh records its DPoP proof only once the refresh token has proved
// to be a live session's: a flood of proofs with unknown, expired,
// revoked or foreign-key tokens, on the Refresh API or the refresh_token
// grant, writes no proof record, on SQLite and on PostgreSQL; a live
// refresh writes one, and its proof replayed is refused as ever.
func TestRefresh_DPoPProofRecordedOnlyForLiveSession(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name string
		// open configures the server, and returns how to open a second
		// store on its database, to count what it holds.
		open func(t *testing.T, c *server.Config) func(context.Context) (storage.Store, error)
	}{
		{"SQLite", func(t *testing.T, c *server.Config) func(context.Context) (storage.Store, error) {
			c.DataDir = t.TempDir()
			return func(ctx context.Context) (storage.Store, error) {
				return sqlite.Open(ctx, filepath.Join(c.DataDir, server.DatabaseFile))
			}
		}},
		{"PostgreSQL", func(t *testing.T, c *server.Config) func(context.Context) (storage.Store, error) {
			c.DatabaseURL = postgresSchema(t)
			return func(ctx context.Context) (storage.Store, error) { return postgres.Open(ctx, c.DatabaseURL) }
		}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			var openStore func(context.Context) (storage.Store, error)
			e := newEnvWith(t, func(c *server.Config) { openStore = backend.open(t, c) })
			// recorded counts the proof records written since it last
			// looked: it collects every record that expires within five
			// minutes, which each proof's record does.
			recorded := func(t *testing.T) int64 {
				t.Helper()
				ctx := t.Context()
				st, err := openStore(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				res, err := st.GarbageCollect(ctx, e.clock.Now().Add(5*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				return res.DPoPProofs
			}
			dev, thief := newDeviceKey(t), newDeviceKey(t)
			refreshProof := func(d deviceKey) reqOpt { return withDPoP(d.proof(t, e, "POST", "/api/jwt/refresh")) }
			tokenProof := func(d deviceKey) reqOpt { return withDPoP(d.proof(t, e, "POST", "/oauth2/token")) }

			// Tokens of every kind but live: a session that expires (a
			// 60-minute refresh token), one revoked, one bound to dev.
			shortApp, shortEmail := e.policyApp(t, nil)
			expired := e.mustLogin(t, shortEmail, shortApp).RefreshToken
			appID := e.mustAppWithRoles(t)
			_, email := e.mustUser(t, appID)
			revoked := e.mustLogin(t, email, appID).RefreshToken
			e.do(t, "POST", "/api/logout", withJSON(map[string]any{"refreshToken": revoked})).wantStatus(t, 200)
			var bound api.LoginResponse
			e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID},
				withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, &bound)
			a := e.mustOAuthApp(t, map[string]any{"generateRefreshTokens": true})
			e.clock.Advance(61 * time.Minute)
			if n := recorded(t); n != 1 {
				t.Fatalf("%d proof records after one login with a proof, want 1", n)
			}

			unknown := func() string {
				b := make([]byte, 32)
				rand.Read(b)
				return hex.EncodeToString(b)
			}
			for i := range 10 {
				e.refresh(t, unknown(), refreshProof(dev)).wantErrors(t, "[invalid]refreshToken")
				e.refresh(t, unknown(), refreshProof(newDeviceKey(t))).wantErrors(t, "[invalid]refreshToken")
				e.token(t, refreshForm(unknown()), withBasic(a.id, a.secret), tokenProof(dev)).wantOAuthError(t, 400, api.OAuthInvalidGrant)
				if i == 0 {
					for name, rt := range map[string]string{"expired": expired, "revoked": revoked} {
						if r := e.refresh(t, rt, refreshProof(dev)); r.Status != 400 {
							t.Errorf("the %s token: %s", name, r)
						}
					}
					// The bound session's token with another key's proof:
					// refused, and nothing written either.
					e.refresh(t, bound.RefreshToken, refreshProof(thief)).wantErrors(t, "[invalid]refreshToken")
				}
			}
			if n := recorded(t); n != 0 {
				t.Fatalf("%d proof records after a flood of refreshes with tokens of no live session, want none", n)
			}

			// A live session: one record, and the proof replayed is refused,
			// with the session's new value as with the old.
			p := dev.proof(t, e, "POST", "/api/jwt/refresh")
			var ref api.JWTRefreshResponse
			e.refresh(t, bound.RefreshToken, withDPoP(p)).wantJSON(t, 200, &ref)
			e.refresh(t, bound.RefreshToken, withDPoP(p)).wantDPoPError(t, api.OAuthInvalidDPoPProof)
			e.refresh(t, ref.RefreshToken, withDPoP(p)).wantDPoPError(t, api.OAuthInvalidDPoPProof)
			// The grant alike.
			var tok api.AccessTokenResponse
			e.token(t, passwordForm(a), withBasic(a.id, a.secret)).wantJSON(t, 200, &tok)
			gp := dev.proof(t, e, "POST", "/oauth2/token")
			e.token(t, refreshForm(tok.RefreshToken), withBasic(a.id, a.secret), withDPoP(gp)).wantJSON(t, 200, nil)
			e.token(t, refreshForm(tok.RefreshToken), withBasic(a.id, a.secret), withDPoP(gp)).wantDPoPError(t, api.OAuthInvalidDPoPProof)
			if n := recorded(t); n != 2 {
				t.Errorf("%d proof records after two live refreshes with a proof, want 2", n)
			}
		})
	}
}

// The test PostgreSQL, as internal/storage/postgres's tests find it.
var (
	pgOnce sync.Once
	pgURL  string
	pgErr  error
)

// postgresSchema returns the URL of the test PostgreSQL
// (LATCH_TEST_POSTGRES_URL, else the local one) with search_path set to a
// new schema, dropped when the test ends. When PostgreSQL does not answer
// the test is skipped, or fails under CI=true.
func postgresSchema(t *testing.T) string {
	t.Helper()
	pgOnce.Do(func() {
		pgURL = os.Getenv("LATCH_TEST_POSTGRES_URL")
		if pgURL == "" {
			pgURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			pgErr = err
			return
		}
		defer conn.Close(ctx)
		pgErr = conn.Ping(ctx)
	})
	if pgErr != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable (set LATCH_TEST_POSTGRES_URL): %v", pgErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(pgURL)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("LATCH_TEST_POSTGRES_URL %q: want a postgres:// URL", pgURL)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Concurrent refreshes of one one-time-use token, each with a proof of
// its own: the losers of the rotation race look the session up again and
// get the winner's successor, their proofs recorded once, not refused as
// replays of themselves.
func TestRefresh_DPoPConcurrentOneSuccessor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenUsagePolicy":             "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 30},
	})
	dev := newDeviceKey(t)
	var login api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID},
		withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, &login)

	const n = 16
	proofs := make([]string, n)
	for i := range proofs {
		proofs[i] = dev.proof(t, e, "POST", "/api/jwt/refresh")
	}
	results := make([]*response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = e.refresh(t, login.RefreshToken, withDPoP(proofs[i]))
		})
	}
	close(start)
	wg.Wait()
	successors := map[string]int{}
	for i, r := range results {
		var res api.JWTRefreshResponse
		if r.Status != 200 {
			t.Errorf("request %d: %s, want 200", i, r)
			continue
		}
		r.wantJSON(t, 200, &res)
		successors[res.RefreshToken]++
	}
	if len(successors) != 1 {
		t.Errorf("%d distinct successors, want 1", len(successors))
	}
}
