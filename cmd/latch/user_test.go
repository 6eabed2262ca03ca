package main

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// The passwords of these tests: none may ever appear in an output or a log.
const (
	anaPassword  = "ana's first password, long enough"
	newPassword  = "ana's second password, also long"
	bobPassword  = "bob-pw-with-trailing-cr"
	weakPassword = "Qz7#"
)

var allPasswords = []string{anaPassword, newPassword, bobPassword, weakPassword, testPassword}

var uuidLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$`)

// runUser runs `latch user ...` with stdin, and fails the test if an
// output shows a password.
func runUser(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut latchtest.LogBuffer
	err = run(ctx, append([]string{"user"}, args...), strings.NewReader(stdin), &out, &errOut)
	stdout, stderr = out.String(), errOut.String()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	noPassword(t, "latch user "+strings.Join(args, " "), stdout+stderr+msg)
	return stdout, stderr, err
}

// mustUser is runUser that must succeed.
func mustUser(t *testing.T, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := runUser(t, stdin, args...)
	if err != nil {
		t.Fatalf("latch user %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout, stderr
}

// noPassword fails the test if s shows one of the tests' passwords.
func noPassword(t *testing.T, what, s string) {
	t.Helper()
	for _, pw := range allPasswords {
		if strings.Contains(s, pw) {
			t.Errorf("%s shows the password %q:\n%s", what, pw, s)
		}
	}
}

// userLatch is a Latch serving a data directory set up by a first start,
// with an application Store (roles customer, the default, and admin) next
// to Default. The commands under test work on the same SQLite database
// while it serves.
type userLatch struct {
	*latchtest.Latch
	dir      string
	tenantID string
	def, app api.Application // Default, Store
}

func startUserLatch(t *testing.T, cfg server.Config) *userLatch {
	t.Helper()
	clearEnv(t)
	dir := initDir(t)
	cfg.DataDir = dir
	in := latchtest.Start(t, latchtest.Options{Config: cfg})
	l := &userLatch{Latch: in, dir: dir, def: in.DefaultApplication(t)}
	var app api.ApplicationResponse
	in.Do(t, in.APIKey, "POST", "/api/application", map[string]any{"application": map[string]any{
		"name":  "Store",
		"roles": []map[string]any{{"name": "customer", "isDefault": true}, {"name": "admin"}},
	}}, 200, &app)
	l.app = *app.Application
	var tenants api.TenantResponse
	in.Do(t, in.APIKey, "GET", "/api/tenant", nil, 200, &tenants)
	l.tenantID = tenants.Tenants[0].ID
	t.Cleanup(func() {
		in.Stop()
		noPassword(t, "Latch's log", in.Logs.String())
	})
	return l
}

// args returns the arguments of `latch user verb` on l's data directory.
func (l *userLatch) args(verb string, rest ...string) []string {
	return append([]string{verb, "--data", l.dir}, rest...)
}

// login logs in through the Login API and returns the status and answer.
func (l *userLatch) login(t *testing.T, email, password, appID string) (int, api.LoginResponse) {
	t.Helper()
	code, b := l.Call(t, l.APIKey, "POST", "/api/login", api.LoginRequest{LoginID: email, Password: password, ApplicationID: appID})
	var res api.LoginResponse
	if code == 200 || code == 202 {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("login: %v in %s", err, b)
		}
	}
	return code, res
}

// mustLogin is login that insists on 200.
func (l *userLatch) mustLogin(t *testing.T, email, password, appID string) api.LoginResponse {
	t.Helper()
	code, res := l.login(t, email, password, appID)
	if code != 200 {
		t.Fatalf("login of %s to %s: %d, want 200", email, appID, code)
	}
	return res
}

// refreshes reports whether the refresh token still refreshes.
func (l *userLatch) refreshes(t *testing.T, rt string) bool {
	t.Helper()
	code, b := l.Call(t, "", "POST", "/api/jwt/refresh", map[string]string{"refreshToken": rt})
	switch code {
	case 200:
		return true
	case 400:
		return false
	}
	t.Fatalf("refresh: %d %s", code, b)
	return false
}

func rolesClaim(t *testing.T, jwt string) []string {
	t.Helper()
	var roles []string
	raw, _ := latchtest.Claims[map[string]any](t, jwt)["roles"].([]any)
	for _, r := range raw {
		roles = append(roles, r.(string))
	}
	slices.Sort(roles)
	return roles
}

func TestUserUsage(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name       string
		args       []string
		wantErr    string // "": success
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, flag.ErrHelp.Error(), "", "latch user create"},
		{"unknown command", []string{"delete"}, `unknown command "delete"`, "", "latch user <command>"},
		{"help", []string{"help"}, "", "revoke --email E", ""},
		{"-h", []string{"-h"}, "", "password --email E", ""},
		{"create -h", []string{"create", "-h"}, "", "-application", ""},
		{"revoke --help", []string{"revoke", "--help"}, "", "Usage: latch user revoke", ""},
		{"create without --email", []string{"create", "--data", dir}, "--email is required", "", ""},
		{"password without --email", []string{"password", "--data", dir}, "--email is required", "", ""},
		{"revoke without --email", []string{"revoke", "--data", dir}, "--email is required", "", ""},
		{"--role without --application", []string{"create", "--data", dir, "--email", "a@example.org", "--role", "admin"}, "--role needs --application", "", ""},
		{"no password flag", []string{"create", "--data", dir, "--email", "a@example.org", "--password", "x"}, "password", "", "flag provided but not defined: -password"},
		{"stray argument", []string{"revoke", "--data", dir, "--email", "a@example.org", "x"}, `unexpected argument "x"`, "", ""},
		{"before serve", []string{"revoke", "--data", filepath.Join(dir, "new"), "--email", "a@example.org"}, "run 'latch serve' once first", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runUser(t, "", tc.args...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.wantStderr)
			}
			if tc.wantErr != "" && stdout != "" {
				t.Errorf("a failing command wrote to stdout: %q", stdout)
			}
		})
	}
	// The usage of `latch user` names its commands, and `latch` names them.
	stdout, _ := mustRun(t, "help")
	for _, verb := range []string{"user create", "user password", "user revoke"} {
		if !strings.Contains(stdout, verb) {
			t.Errorf("latch help does not name %q:\n%s", verb, stdout)
		}
	}
}

// TestUserCreate: `latch user create` against a serving Latch; the user it
// makes logs in through the Login API with the password given on stdin.
func TestUserCreate(t *testing.T) {
	l := startUserLatch(t, server.Config{})
	// Two applications named Twin, for the ambiguous name.
	for range 2 {
		l.Do(t, l.APIKey, "POST", "/api/application", map[string]any{"application": map[string]any{"name": "Twin"}}, 200, nil)
	}
	mustUser(t, anaPassword+"\n", l.args("create", "--email", "taken@example.org")...)

	for _, tc := range []struct {
		name     string
		stdin    string
		args     []string
		password string   // logs in with it, unless wantErr
		appID    string   // logs in to it ("": no application)
		roles    []string // the JWT's roles, with appID
		wantErr  []string // the error says all these
	}{
		{name: "no application", stdin: anaPassword + "\n", args: []string{"--email", "ana@example.org"}, password: anaPassword},
		{name: "username", stdin: anaPassword + "\n", args: []string{"--email", "ann@example.org", "--username", "ann"}, password: anaPassword},
		{name: "CRLF", stdin: bobPassword + "\r\n", args: []string{"--email", "bob@example.org"}, password: bobPassword},
		{name: "no line ending", stdin: bobPassword, args: []string{"--email", "bob2@example.org"}, password: bobPassword},
		{name: "first line only", stdin: anaPassword + "\n" + newPassword + "\n", args: []string{"--email", "first@example.org"}, password: anaPassword},
		{name: "application by name with roles", stdin: anaPassword + "\n",
			args:     []string{"--email", "cara@example.org", "--application", "Store", "--role", "admin", "--role", "customer"},
			password: anaPassword, appID: l.app.ID, roles: []string{"admin", "customer"}},
		{name: "application by name, default roles", stdin: anaPassword + "\n",
			args:     []string{"--email", "dan@example.org", "--application", "Store"},
			password: anaPassword, appID: l.app.ID, roles: []string{"customer"}},
		{name: "application by id", stdin: anaPassword + "\n",
			args:     []string{"--email", "eve@example.org", "--application", l.app.ID, "--role", "admin"},
			password: anaPassword, appID: l.app.ID, roles: []string{"admin"}},
		{name: "Default", stdin: anaPassword + "\n",
			args:     []string{"--email", "fay@example.org", "--application", "Default"},
			password: anaPassword, appID: l.def.ID},
		{name: "duplicate email", stdin: anaPassword + "\n", args: []string{"--email", "taken@example.org"},
			wantErr: []string{"user not created", "[duplicate]user.email", "A User with email = [taken@example.org] already exists."}},
		{name: "duplicate email, other case, with an application", stdin: anaPassword + "\n", args: []string{"--email", "Taken@example.org", "--application", "Store"},
			wantErr: []string{"[duplicate]user.email", "already exists"}},
		{name: "short password", stdin: weakPassword + "\n", args: []string{"--email", "gus@example.org"},
			wantErr: []string{"[tooShort]user.password", "shorter than the minimum of [8] characters"}},
		{name: "invalid email", stdin: anaPassword + "\n", args: []string{"--email", "not an address"},
			wantErr: []string{"[notEmail]user.email", "not a valid email address"}},
		{name: "no password", stdin: "", args: []string{"--email", "hal@example.org"},
			wantErr: []string{"no password on standard input"}},
		{name: "empty line", stdin: "\nsecond line\n", args: []string{"--email", "hal@example.org"},
			wantErr: []string{"no password on standard input"}},
		{name: "unknown application", stdin: anaPassword + "\n", args: []string{"--email", "ian@example.org", "--application", "Shop"},
			wantErr: []string{"--application Shop: no such application", `"Default" (` + l.def.ID + ")", `"Store" (` + l.app.ID + ")"}},
		{name: "ambiguous application", stdin: anaPassword + "\n", args: []string{"--email", "ian@example.org", "--application", "Twin"},
			wantErr: []string{"--application Twin: 2 applications have that name"}},
		{name: "unknown role", stdin: anaPassword + "\n", args: []string{"--email", "ian@example.org", "--application", "Store", "--role", "root"},
			wantErr: []string{"[invalid]registration.roles", "The role [root] is not defined on the application."}},
		{name: "unknown tenant", stdin: anaPassword + "\n", args: []string{"--email", "ian@example.org", "--tenant", "0f6c8f9e-1f7b-4c52-9a43-6b1f1f0a0001"},
			wantErr: []string{"no such tenant"}},
		{name: "the tenant", stdin: anaPassword + "\n", args: []string{"--email", "jo@example.org", "--tenant", l.tenantID}, password: anaPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runUser(t, tc.stdin, l.args("create", tc.args...)...)
			email := tc.args[slices.Index(tc.args, "--email")+1]
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; stdout %q", stdout)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if strings.Contains(err.Error(), "&{") || strings.Contains(err.Error(), "map[") {
					t.Errorf("error %q dumps a Go value", err)
				}
				if stdout != "" {
					t.Errorf("a failing create wrote to stdout: %q", stdout)
				}
				if email != "taken@example.org" && email != "Taken@example.org" {
					l.Do(t, l.APIKey, "GET", "/api/user?email="+url.QueryEscape(email), nil, 404, nil)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v\nstderr: %s", err, stderr)
			}
			if !uuidLine.MatchString(stdout) {
				t.Fatalf("stdout %q, want the user's id alone on a line", stdout)
			}
			id := strings.TrimSpace(stdout)
			if !strings.Contains(stderr, "created") {
				t.Errorf("stderr %q, want a line saying the user was created", stderr)
			}
			res := l.mustLogin(t, email, tc.password, tc.appID)
			if res.User == nil || res.User.ID != id {
				t.Errorf("login answered user %+v, want id %s", res.User, id)
			}
			if tc.appID != "" {
				claims := latchtest.Claims[map[string]any](t, res.Token)
				if claims["applicationId"] != tc.appID {
					t.Errorf("applicationId claim %v, want %s", claims["applicationId"], tc.appID)
				}
				if diff := cmp.Diff(tc.roles, rolesClaim(t, res.Token)); diff != "" {
					t.Errorf("roles claim (-want +got):\n%s", diff)
				}
			}
			if code, _ := l.login(t, email, tc.password+"x", tc.appID); code != 404 {
				t.Errorf("login with a wrong password: %d, want 404", code)
			}
			if i := slices.Index(tc.args, "--username"); i >= 0 {
				l.mustLogin(t, tc.args[i+1], tc.password, tc.appID)
			}
		})
	}
}

// TestUserPassword: a new password replaces the old one, and the tenant's
// onPasswordChanged policy revokes the user's refresh tokens.
func TestUserPassword(t *testing.T) {
	l := startUserLatch(t, server.Config{})
	mustUser(t, anaPassword+"\n", l.args("create", "--email", "ana@example.org", "--application", "Store")...)
	rt := l.mustLogin(t, "ana@example.org", anaPassword, l.app.ID).RefreshToken
	if rt == "" || !l.refreshes(t, rt) {
		t.Fatal("no refresh token that refreshes before the password change")
	}

	// A password the rules refuse changes nothing.
	_, _, err := runUser(t, weakPassword+"\n", l.args("password", "--email", "ana@example.org")...)
	if err == nil || !strings.Contains(err.Error(), "[tooShort]user.password") {
		t.Errorf("a short password: %v, want [tooShort]user.password", err)
	}
	l.mustLogin(t, "ana@example.org", anaPassword, l.app.ID)

	for _, tc := range []struct {
		name, email, want string
	}{
		{"unknown user", "nobody@example.org", "no user with email nobody@example.org"},
		{"no password", "ana@example.org", "no password on standard input"},
	} {
		if _, _, err := runUser(t, "", l.args("password", "--email", tc.email)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}

	stdout, _ := mustUser(t, newPassword+"\n", l.args("password", "--email", "Ana@example.org")...)
	if !strings.Contains(stdout, "password of ana@example.org changed") || !strings.Contains(stdout, "revoked") {
		t.Errorf("stdout %q, want the change and the revocation told", stdout)
	}
	if code, _ := l.login(t, "ana@example.org", anaPassword, l.app.ID); code != 404 {
		t.Errorf("login with the old password: %d, want 404", code)
	}
	l.mustLogin(t, "ana@example.org", newPassword, l.app.ID)
	if l.refreshes(t, rt) {
		t.Error("a refresh token from before the password change still refreshes")
	}
}

// TestUserRevoke: `latch user revoke` ends the user's sessions, one
// application's or all, and says when there is nothing to revoke.
func TestUserRevoke(t *testing.T) {
	l := startUserLatch(t, server.Config{})
	mustUser(t, anaPassword+"\n", l.args("create", "--email", "ana@example.org", "--application", "Store")...)
	mustUser(t, anaPassword+"\n", l.args("create", "--email", "bob@example.org", "--application", "Store")...)
	id := l.Register(t, l.def.ID, "cat@example.org")
	l.Do(t, l.APIKey, "POST", "/api/user/registration/"+id, map[string]any{"registration": map[string]any{"applicationId": l.app.ID}}, 200, nil)

	ana := l.mustLogin(t, "ana@example.org", anaPassword, l.app.ID).RefreshToken
	bob := l.mustLogin(t, "bob@example.org", anaPassword, l.app.ID).RefreshToken
	catStore := l.mustLogin(t, "cat@example.org", testPassword, l.app.ID).RefreshToken
	catDefault := l.mustLogin(t, "cat@example.org", testPassword, l.def.ID).RefreshToken

	stdout, _ := mustUser(t, "", l.args("revoke", "--email", "ana@example.org")...)
	if !strings.HasPrefix(stdout, "revoked ") || !strings.Contains(stdout, "ana@example.org") {
		t.Errorf("stdout %q, want \"revoked N refresh tokens of ana@example.org\"", stdout)
	}
	if l.refreshes(t, ana) {
		t.Error("ana's refresh token refreshes after latch user revoke")
	}
	if !l.refreshes(t, bob) {
		t.Error("revoking ana's refresh tokens revoked bob's")
	}
	stdout, _ = mustUser(t, "", l.args("revoke", "--email", "ana@example.org")...)
	if !strings.Contains(stdout, "nothing to revoke") {
		t.Errorf("a second revoke printed %q, want \"nothing to revoke\"", stdout)
	}

	// One application's.
	stdout, _ = mustUser(t, "", l.args("revoke", "--email", "cat@example.org", "--application", "Store")...)
	// (Registering cat for Store made a session too: the API's answer
	// carried its refresh token.)
	if !regexp.MustCompile(`^revoked [1-9]\d* refresh tokens? of cat@example\.org for Store\n$`).MatchString(stdout) {
		t.Errorf("stdout %q, want \"revoked N refresh tokens of cat@example.org for Store\"", stdout)
	}
	if l.refreshes(t, catStore) {
		t.Error("cat's Store refresh token refreshes after revoke --application Store")
	}
	if !l.refreshes(t, catDefault) {
		t.Error("revoke --application Store revoked cat's Default refresh token")
	}
	stdout, _ = mustUser(t, "", l.args("revoke", "--email", "cat@example.org", "--application", l.app.ID)...)
	if !strings.Contains(stdout, "nothing to revoke") {
		t.Errorf("stdout %q, want \"nothing to revoke\"", stdout)
	}
	// A later login is a new session, untouched.
	again := l.mustLogin(t, "ana@example.org", anaPassword, l.app.ID).RefreshToken
	if !l.refreshes(t, again) {
		t.Error("a login after the revocation does not refresh")
	}

	for _, tc := range []struct{ name, want string }{
		{"unknown user", "no user with email"},
		{"unknown application", "no such application"},
	} {
		args := l.args("revoke", "--email", "cat@example.org", "--application", "Shop")
		if tc.name == "unknown user" {
			args = l.args("revoke", "--email", "nobody@example.org")
		}
		if _, _, err := runUser(t, "", args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

// receiver records the events POSTed to it.
type receiver struct {
	mu     sync.Mutex
	events []api.JWTRefreshTokenRevokeEvent
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body api.EventRequest[api.JWTRefreshTokenRevokeEvent]
	if err := json.NewDecoder(r.Body).Decode(&body); err == nil && body.Event.Type == api.EventJWTRefreshTokenRevoke {
		rc.mu.Lock()
		rc.events = append(rc.events, body.Event)
		rc.mu.Unlock()
	}
}

// waitFor waits for a revoke event about the user with the reason.
func (rc *receiver) waitFor(t *testing.T, userID, reason string) api.JWTRefreshTokenRevokeEvent {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); <-tick.C {
		rc.mu.Lock()
		for _, ev := range rc.events {
			if ev.UserID == userID && ev.Reason == reason {
				rc.mu.Unlock()
				return ev
			}
		}
		rc.mu.Unlock()
	}
	t.Fatalf("no %s event about user %s with reason %q", api.EventJWTRefreshTokenRevoke, userID, reason)
	return api.JWTRefreshTokenRevokeEvent{}
}

// TestUserEvents: what the commands revoke is announced as the API's
// revocations are: the serving Latch delivers the events they commit.
func TestUserEvents(t *testing.T) {
	l := startUserLatch(t, server.Config{Events: events.Config{PollInterval: 50 * time.Millisecond}})
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	l.Do(t, l.APIKey, "PATCH", "/api/tenant/"+l.tenantID, map[string]any{"tenant": map[string]any{
		"eventConfiguration": map[string]any{"events": map[string]any{api.EventJWTRefreshTokenRevoke: map[string]any{"enabled": true}}},
	}}, 200, nil)
	l.Do(t, l.APIKey, "POST", "/api/webhook", map[string]any{"webhook": map[string]any{
		"url": hook.URL, "global": true, "eventsEnabled": map[string]bool{api.EventJWTRefreshTokenRevoke: true},
	}}, 200, nil)

	stdout, _ := mustUser(t, anaPassword+"\n", l.args("create", "--email", "ana@example.org", "--application", "Store")...)
	id := strings.TrimSpace(stdout)

	login := l.mustLogin(t, "ana@example.org", anaPassword, l.app.ID)
	mustUser(t, "", l.args("revoke", "--email", "ana@example.org", "--application", "Store")...)
	ev := rc.waitFor(t, id, "revoked")
	if ev.ApplicationID != l.app.ID || !slices.Contains(ev.SessionIDs, login.RefreshTokenID) {
		t.Errorf("revoke event %+v, want application %s and session %s", ev, l.app.ID, login.RefreshTokenID)
	}

	login = l.mustLogin(t, "ana@example.org", anaPassword, l.app.ID)
	mustUser(t, newPassword+"\n", l.args("password", "--email", "ana@example.org")...)
	ev = rc.waitFor(t, id, "password changed")
	if !slices.Contains(ev.SessionIDs, login.RefreshTokenID) {
		t.Errorf("password-change event %+v, want session %s", ev, login.RefreshTokenID)
	}
}

// TestUserList: `latch user list` shows the users, once the identity
// service can list them.
func TestUserList(t *testing.T) {
	l := startUserLatch(t, server.Config{})
	mustUser(t, anaPassword+"\n", l.args("create", "--email", "zoe@example.org", "--application", "Store")...)
	mustUser(t, anaPassword+"\n", l.args("create", "--email", "ana@example.org", "--username", "ana", "--application", "Store")...)
	stdout, _ := mustUser(t, "", l.args("list")...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 3 || !strings.Contains(lines[0], "EMAIL") {
		t.Fatalf("latch user list:\n%s", stdout)
	}
	ana := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "ana@example.org") })
	zoe := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "zoe@example.org") })
	if ana < 0 || zoe < ana || !strings.Contains(lines[ana], "Store") || !strings.Contains(lines[ana], "true") {
		t.Errorf("latch user list:\n%s\nwant ana, then zoe, registered for Store", stdout)
	}
	if strings.Contains(stdout, anaPassword) {
		t.Error("latch user list prints a password")
	}
}

func TestWriteUsers(t *testing.T) {
	apps := []api.Application{{ID: "a1", Name: "Store"}, {ID: "a2", Name: "Default"}}
	users := []api.User{
		{ID: "u2", Email: "zoe@example.org", Active: true},
		{ID: "u1", Email: "ana@example.org", Username: "ana", Active: true,
			Registrations: []api.UserRegistration{{ApplicationID: "a1"}, {ApplicationID: "a2"}, {ApplicationID: "gone"}}},
		{ID: "u3", Username: "nomail", Active: false},
	}
	var b strings.Builder
	if err := writeUsers(&b, users, apps); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ID  EMAIL            USERNAME  ACTIVE  REGISTRATIONS\n" +
		"u2  zoe@example.org  -         true    -\n" +
		"u1  ana@example.org  ana       true    Store, Default, gone\n" +
		"u3  -                nomail    false   -\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestReadPassword(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, wantErr string
	}{
		{"line", "pw\n", "pw", ""},
		{"CRLF", "pw\r\n", "pw", ""},
		{"no line ending", "pw", "pw", ""},
		{"spaces kept", "  pw  \n", "  pw  ", ""},
		{"first line", "one\ntwo\n", "one", ""},
		{"empty", "", "", "no password"},
		{"empty line", "\n", "", "no password"},
		{"too long", strings.Repeat("x", maxPasswordLine+1), "", "longer than"},
		{"longest", strings.Repeat("x", maxPasswordLine) + "\n", strings.Repeat("x", maxPasswordLine), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			got, err := readPassword(strings.NewReader(tc.in), &stderr, "Password")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("password %q, want %q", got, tc.want)
			}
			if stderr.Len() != 0 {
				t.Errorf("a password from a pipe prompted: %q", stderr.String())
			}
		})
	}
}

// TestUserTenants: with several tenants, --tenant picks one, and without
// it the error lists them.
func TestUserTenants(t *testing.T) {
	l := startUserLatch(t, server.Config{})
	var other api.TenantResponse
	l.Do(t, l.APIKey, "POST", "/api/tenant", map[string]any{"tenant": map[string]any{"name": "Other"}}, 200, &other)
	otherID := other.Tenant.ID

	_, _, err := runUser(t, anaPassword+"\n", l.args("create", "--email", "ana@example.org")...)
	if err == nil || !strings.Contains(err.Error(), "name one with --tenant") || !strings.Contains(err.Error(), otherID+" (Other)") || !strings.Contains(err.Error(), l.tenantID) {
		t.Errorf("create without --tenant among 2 tenants: %v, want an error listing both", err)
	}
	stdout, _ := mustUser(t, anaPassword+"\n", l.args("create", "--email", "ana@example.org", "--tenant", otherID)...)
	var got api.UserResponse
	l.Do(t, l.APIKey, "GET", "/api/user/"+strings.TrimSpace(stdout), nil, 200, &got)
	if got.User == nil || got.User.TenantID != otherID {
		t.Errorf("user %+v, want one of tenant %s", got.User, otherID)
	}
	// The same email in the first tenant is another user.
	mustUser(t, anaPassword+"\n", l.args("create", "--email", "ana@example.org", "--tenant", l.tenantID, "--application", "Store")...)
	if _, _, err := runUser(t, "", l.args("revoke", "--email", "ana@example.org")...); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Errorf("revoke without --tenant among 2 tenants: %v, want an error asking for --tenant", err)
	}
	stdout, _ = mustUser(t, "", l.args("revoke", "--email", "ana@example.org", "--tenant", otherID)...)
	if !strings.Contains(stdout, "nothing to revoke") {
		t.Errorf("revoke in tenant Other: %q, want nothing to revoke", stdout)
	}
	// Store is the first tenant's: the other tenant does not know it.
	if _, _, err := runUser(t, "", l.args("revoke", "--email", "ana@example.org", "--tenant", otherID, "--application", "Store")...); err == nil || !strings.Contains(err.Error(), "no such application") {
		t.Errorf("revoke --application of another tenant: %v, want no such application", err)
	}
}
