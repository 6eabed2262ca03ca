package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
)

// hydraVersion is the Hydra the bench builds, as go.mod's tool line names it.
const hydraVersion = "v2.3.0"

// hydra is a running `hydra serve all` with a public client that may use
// the authorization_code and refresh_token grants.
type hydra struct {
	*child
	public, admin string // base URLs
	clientID      string
	redirect      string
}

// buildHydra builds Hydra from the module proxy, with SQLite.
func buildHydra(ctx context.Context, tmp string) (string, error) {
	bin := filepath.Join(tmp, "bin", "hydra")
	err := runCommand(ctx, ".", nil, "go", "build", "-tags", "sqlite,sqlite_omit_load_extension", "-o", bin, "github.com/ory/hydra/v2")
	return bin, err
}

// startHydra migrates a SQLite file in dir and serves Hydra on loopback.
// jwt selects JWT access tokens (Hydra signs them with RS256) instead of
// Hydra's default opaque ones.
func startHydra(ctx context.Context, bin, dir string, jwt bool) (*hydra, error) {
	pub, err := freeAddr()
	if err != nil {
		return nil, err
	}
	adm, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, pubPort, _ := net.SplitHostPort(pub)
	_, admPort, _ := net.SplitHostPort(adm)
	// DSN=memory fails under concurrent refreshes; a file in WAL mode
	// with immediate transactions is what a SQLite deployment runs.
	dsn := "sqlite://" + filepath.Join(dir, "hydra.db") + "?_fk=true&_journal_mode=WAL&_txlock=immediate&_busy_timeout=10000"
	env := []string{
		"DSN=" + dsn,
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT=" + pubPort,
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT=" + admPort,
		"URLS_SELF_ISSUER=http://" + pub,
		"URLS_LOGIN=http://127.0.0.1:9/login", // never followed: the bench accepts over the admin API
		"URLS_CONSENT=http://127.0.0.1:9/consent",
		"SECRETS_SYSTEM=" + randomHex(16),
		"LOG_LEVEL=warn",
	}
	if jwt {
		env = append(env, "STRATEGIES_ACCESS_TOKEN=jwt")
	}
	if err := runCommand(ctx, dir, env, bin, "migrate", "sql", "up", "-e", "--yes"); err != nil {
		return nil, err
	}
	c, err := start(ctx, dir, "hydra", bin, []string{"serve", "all", "--dev"}, env, "http://"+adm+"/health/ready")
	if err != nil {
		return nil, err
	}
	h := &hydra{child: c, public: "http://" + pub, admin: "http://" + adm,
		redirect: "http://127.0.0.1:9/callback"}
	// A public client (no secret): its refresh grant is, like Latch's
	// /api/jwt/refresh, no client authentication plus the rotation.
	var client struct {
		ClientID string `json:"client_id"`
	}
	err = postJSON(ctx, http.DefaultClient, h.admin+"/admin/clients", map[string]any{
		"client_name":                "bench",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"scope":                      "offline_access",
		"redirect_uris":              []string{h.redirect},
		"token_endpoint_auth_method": "none",
	}, &client)
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("hydra: create client: %w", err)
	}
	h.clientID = client.ClientID
	return h, nil
}

// token runs Hydra's authorization code flow for a subject, accepting the
// login and consent requests over the admin API, and returns the refresh
// token.
func (h *hydra) token(ctx context.Context, subject string) (string, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	// get fetches u and returns where it redirects to.
	get := func(u string) (*url.URL, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 3 {
			return nil, fmt.Errorf("GET %s: %d, want a redirect", req.URL.Path, resp.StatusCode)
		}
		return resp.Location()
	}
	accept := func(kind, challenge string, body any) (string, error) {
		req, err := http.NewRequestWithContext(ctx, "PUT",
			h.admin+"/admin/oauth2/auth/requests/"+kind+"/accept?"+kind+"_challenge="+url.QueryEscape(challenge),
			strings.NewReader(mustJSON(body)))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		var out struct {
			RedirectTo string `json:"redirect_to"`
		}
		return out.RedirectTo, do(http.DefaultClient, req, &out)
	}

	auth := h.public + "/oauth2/auth?" + url.Values{
		"client_id": {h.clientID}, "response_type": {"code"}, "scope": {"offline_access"},
		"redirect_uri": {h.redirect}, "state": {randomHex(8)},
	}.Encode()
	loc, err := get(auth)
	if err != nil {
		return "", err
	}
	next, err := accept("login", loc.Query().Get("login_challenge"), map[string]any{"subject": subject})
	if err != nil {
		return "", err
	}
	if loc, err = get(next); err != nil {
		return "", err
	}
	next, err = accept("consent", loc.Query().Get("consent_challenge"), map[string]any{
		"grant_scope": []string{"offline_access"}})
	if err != nil {
		return "", err
	}
	if loc, err = get(next); err != nil {
		return "", err
	}
	code := loc.Query().Get("code")
	if code == "" {
		return "", errors.New("hydra: the flow ended without a code: " + loc.String())
	}
	return postToken(ctx, http.DefaultClient, h.public+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {h.redirect},
		"client_id": {h.clientID}})
}

// refresh is Hydra's refresh_token grant.
func (h *hydra) refresh(ctx context.Context, hc *http.Client, rt string) (string, error) {
	return postToken(ctx, hc, h.public+"/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {h.clientID}})
}
