package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// latchSetup is what every Latch in a run shares: the binary, the
// kickstart's application, user and secrets.
type latchSetup struct {
	bin       string
	kickstart string // path of the kickstart file
	apiKey    string
	appID     string
	secret    string // the application's OAuth client secret
	users     int    // bench-0@example.org … bench-<users-1>@example.org
	password  string
	masterKey string // hex; several nodes on one database share it
}

// newLatchSetup builds Latch from the repository (with its own go.mod,
// so the server is built as it ships) and writes a kickstart that
// creates an application with one-time-use refresh tokens and users, one
// per worker: Latch's lockout counts a login ID's password checks in
// flight, so parallel logins of one user are refused by design.
func newLatchSetup(ctx context.Context, tmp string, users int) (*latchSetup, error) {
	s := &latchSetup{
		bin:       filepath.Join(tmp, "bin", "latch"),
		kickstart: filepath.Join(tmp, "kickstart.json"),
		apiKey:    randomHex(32),
		appID:     uuid.NewString(),
		secret:    randomHex(24),
		users:     users,
		password:  "bench-" + randomHex(8),
		masterKey: randomHex(32),
	}
	if err := runCommand(ctx, "..", nil, "go", "build", "-o", s.bin, "./cmd/latch"); err != nil {
		return nil, err
	}
	app := map[string]any{"application": map[string]any{
		"name": "Bench",
		"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 300,
			"refreshTokenTimeToLiveInMinutes": 43200, "refreshTokenUsagePolicy": "OneTimeUse"},
		"loginConfiguration": map[string]any{"generateRefreshTokens": true},
		"oauthConfiguration": map[string]any{"clientSecret": s.secret,
			"enabledGrants": []string{"password", "refresh_token"}},
	}}
	requests := []any{map[string]any{"method": "POST", "url": "/api/application/" + s.appID, "body": app}}
	for i := range users {
		requests = append(requests, map[string]any{"method": "POST", "url": "/api/user/registration", "body": map[string]any{
			"user":         map[string]any{"email": s.email(i), "password": s.password},
			"registration": map[string]any{"applicationId": s.appID},
		}})
	}
	ks := map[string]any{
		"apiKeys":  []any{map[string]any{"key": s.apiKey, "description": "bench"}},
		"requests": requests,
	}
	b, _ := json.Marshal(ks)
	return s, os.WriteFile(s.kickstart, b, 0o600)
}

// email is the login ID of user i (taken modulo the users there are).
func (s *latchSetup) email(i int) string {
	return fmt.Sprintf("bench-%d@example.org", i%s.users)
}

// latch is one running `latch serve`.
type latch struct {
	*child
	base string
	data string
}

// startLatch starts `latch serve` with its data in dir, without rate
// limits. database is "" for SQLite in dir, else a postgres:// URL;
// kickstart says whether to apply the kickstart (the first node of a
// database only).
func (s *latchSetup) startLatch(ctx context.Context, name, dir, database string, kickstart bool) (*latch, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", addr, "--data", dir, "--log-format", "json",
		"--login-rate", "0", "--token-rate", "0", "--refresh-rate", "0"}
	if database != "" {
		args = append(args, "--database", database)
	}
	if kickstart {
		args = append(args, "--kickstart", s.kickstart)
	}
	base := "http://" + addr
	c, err := start(ctx, filepath.Dir(dir), name, s.bin, args, []string{"LATCH_MASTER_KEY=" + s.masterKey}, base+"/api/status")
	if err != nil {
		return nil, err
	}
	return &latch{child: c, base: base, data: dir}, nil
}

// login logs the bench user in through /api/login, with the API key as a
// backend logs its users in, and returns the refresh token.
func (s *latchSetup) login(ctx context.Context, hc *http.Client, base string, user int) (string, error) {
	var out struct {
		RefreshToken string `json:"refreshToken"`
	}
	err := postJSONKey(ctx, hc, base+"/api/login", s.apiKey, map[string]any{
		"loginId": s.email(user), "password": s.password, "applicationId": s.appID}, &out)
	if err == nil && out.RefreshToken == "" {
		err = fmt.Errorf("login answered no refresh token")
	}
	return out.RefreshToken, err
}

// refresh exchanges a refresh token at /api/jwt/refresh and returns the
// next one.
func refreshLatchAPI(ctx context.Context, hc *http.Client, base, rt string) (string, error) {
	var out struct {
		Token        string `json:"token"`
		RefreshToken string `json:"refreshToken"`
	}
	if err := postJSON(ctx, hc, base+"/api/jwt/refresh", map[string]string{"refreshToken": rt}, &out); err != nil {
		return "", err
	}
	if out.Token == "" || out.RefreshToken == "" {
		return "", fmt.Errorf("refresh answered no token")
	}
	return out.RefreshToken, nil
}

// oauthToken gets a refresh token through /oauth2/token's password grant
// (scope offline_access), for the refresh_token grant's chains.
func (s *latchSetup) oauthToken(ctx context.Context, hc *http.Client, base string, user int) (string, error) {
	return postToken(ctx, hc, base+"/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {s.email(user)}, "password": {s.password},
		"client_id": {s.appID}, "client_secret": {s.secret}, "scope": {"offline_access"}})
}

// oauthRefresh is /oauth2/token's refresh_token grant (client_secret_post).
func (s *latchSetup) oauthRefresh(ctx context.Context, hc *http.Client, base, rt string) (string, error) {
	return postToken(ctx, hc, base+"/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {s.appID}, "client_secret": {s.secret}})
}

// postToken posts an OAuth 2.0 token request and returns the refresh token
// of the answer.
func postToken(ctx context.Context, hc *http.Client, endpoint string, form url.Values) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := do(hc, req, &out); err != nil {
		return "", err
	}
	if out.AccessToken == "" || out.RefreshToken == "" {
		return "", fmt.Errorf("%s answered no access or refresh token", endpoint)
	}
	return out.RefreshToken, nil
}

func postJSON(ctx context.Context, hc *http.Client, endpoint string, in, out any) error {
	return postJSONKey(ctx, hc, endpoint, "", in, out)
}

// postJSONKey posts in as JSON, with an API key in the Authorization
// header unless key is "", and decodes the answer into out.
func postJSONKey(ctx context.Context, hc *http.Client, endpoint, key string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	return do(hc, req, out)
}

// do sends req and decodes a 2xx answer's JSON into out; any other status
// is an error naming it and the start of the body.
func do(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &statusError{code: resp.StatusCode, retryAfter: time.Duration(max(retry, 0)) * time.Second,
			msg: fmt.Sprintf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(body[:min(len(body), 200)]))}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

// statusError is an answer outside 2xx, with its Retry-After in seconds,
// if it had one.
type statusError struct {
	code       int
	retryAfter time.Duration
	msg        string
}

func (e *statusError) Error() string { return e.msg }

// backOff waits as long as err's Retry-After asks, or until ctx ends, as a
// client told to come back later does; it returns err.
func backOff(ctx context.Context, err error) error {
	var se *statusError
	if errors.As(err, &se) && se.retryAfter > 0 {
		t := time.NewTimer(se.retryAfter)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return err
}

// newHTTPClient returns a client that keeps a connection per worker.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
