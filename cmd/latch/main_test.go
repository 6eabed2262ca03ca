package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage/sqlite"
)

const testPassword = latchtest.Password

// clearEnv unsets, for the test, every environment twin of a flag.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{"LATCH_ADDR", "LATCH_DATA_DIR", "LATCH_DATABASE_URL", "LATCH_KICKSTART",
		"LATCH_ISSUER", "LATCH_LOG_FORMAT", "LATCH_MASTER_KEY", "LATCH_DATABASE_TIMEOUT", "LATCH_KICKSTART_SKIP_UNSUPPORTED"} {
		t.Setenv(name, "")
	}
}

// runLatch runs the command line and returns its outputs.
func runLatch(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut latchtest.LogBuffer
	err = run(ctx, args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustRun is runLatch that must succeed.
func mustRun(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := runLatch(t, args...)
	if err != nil {
		t.Fatalf("latch %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout, stderr
}

// startServer starts Latch on dir (setting it up if new) and serves until
// Stop or the end of the test.
func startServer(t *testing.T, dir string) *latchtest.Latch {
	t.Helper()
	return latchtest.Start(t, latchtest.Options{Config: server.Config{DataDir: dir}})
}

// initDir sets up a data directory as a first `latch serve` does.
func initDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	startServer(t, dir).Stop()
	return dir
}

// jwksKids returns the sorted kids of a server's JWKS.
func jwksKids(t *testing.T, base string) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	latchtest.Do(t, base, "", "GET", "/.well-known/jwks.json", nil, 200, &set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	slices.Sort(kids)
	return kids
}

func TestVersion(t *testing.T) {
	stdout, stderr := mustRun(t, "version")
	if !strings.HasPrefix(stdout, "latch ") || strings.Count(stdout, "\n") != 1 || len(strings.TrimSpace(stdout)) <= len("latch") {
		t.Errorf("latch version printed %q, want one line \"latch <version>\"", stdout)
	}
	if stderr != "" {
		t.Errorf("latch version wrote to stderr: %q", stderr)
	}
}

func TestVersionLine(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	const rev = "7041ee3a1b2c3d4e5f60718293a4b5c6d7e8f901"
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build information", nil, "latch (unknown version: built without module information)"},
		{"module version, no VCS", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "latch v1.4.0"},
		{"development build, no VCS", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "latch (devel)"},
		{"empty version", &debug.BuildInfo{}, "latch (devel)"},
		{"VCS revision and time",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207021206-7041ee3a1b2c"},
				Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-07T02:12:06Z", "vcs.modified", "false")},
			"latch v0.0.0-20261207021206-7041ee3a1b2c revision " + rev + " (2026-12-07T02:12:06Z)"},
		{"modified work tree",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
				Settings: settings("vcs.revision", rev, "vcs.modified", "true")},
			"latch (devel) revision " + rev + " modified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(tc.bi); got != tc.want {
				t.Errorf("versionLine() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTerminalWidth(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
	}{
		{"a buffer", new(bytes.Buffer)},
		{"a file", f},
	} {
		if got := terminalWidth(tc.w); got != 80 {
			t.Errorf("terminalWidth(%s) = %d, want 80", tc.name, got)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantErr    string // "" : success
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, flag.ErrHelp.Error(), "", "Usage: latch"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`, "", "Usage: latch"},
		{"help", []string{"help"}, "", "Usage: latch", ""},
		{"-h", []string{"-h"}, "", "Usage: latch", ""},
		{"--help", []string{"--help"}, "", "Usage: latch", ""},
		{"serve --help", []string{"serve", "--help"}, "", "Usage: latch serve [flags]", ""},
		{"serve -h names the master key", []string{"serve", "-h"}, "", "LATCH_MASTER_KEY", ""},
		{"help serve", []string{"help", "serve"}, "", "-kickstart", ""},
		{"demo --help", []string{"demo", "--help"}, "", "Usage: latch demo", ""},
		{"apikey create --help", []string{"apikey", "create", "--help"}, "", "-description", ""},
		{"help apikey create", []string{"help", "apikey", "create"}, "", "Usage: latch apikey create", ""},
		{"key rotate -help", []string{"key", "rotate", "-help"}, "", "LATCH_MASTER_KEY", ""},
		{"backup -h", []string{"backup", "-h"}, "", "Usage: latch backup [flags] FILE", ""},
		{"help help", []string{"help", "help"}, "", "Usage: latch <command>", ""},
		{"apikey --help", []string{"apikey", "--help"}, "", "Usage: latch apikey create", ""},
		{"key -h", []string{"key", "-h"}, "", "Usage: latch key rotate", ""},
		{"apikey help", []string{"apikey", "help"}, "", "-tenant", ""},
		{"--version", []string{"--version"}, "", "latch ", ""},
		{"version with an argument", []string{"version", "x"}, `unexpected argument "x"`, "", ""},
		{"serve with a bad flag", []string{"serve", "--bogus"}, "bogus", "", "Usage: latch serve"},
		{"demo with a negative width", []string{"demo", "--width", "-2"}, "want 0 or more columns", "", "-width"},
		{"demo -h names --width", []string{"demo", "-h"}, "", "-width columns", ""},
		{"apikey without create", []string{"apikey"}, "latch apikey create", "", ""},
		{"apikey delete", []string{"apikey", "delete"}, "latch apikey create", "", ""},
		{"key without rotate", []string{"key"}, "latch key rotate", "", ""},
		{"backup without a file", []string{"backup", "--data", t.TempDir()}, "FILE", "", ""},
		{"backup with two files", []string{"backup", "--data", t.TempDir(), "a.db", "b.db"}, "FILE", "", ""},
		{"apikey create with an argument", []string{"apikey", "create", "--data", t.TempDir(), "x"}, `unexpected argument "x"`, "", ""},
		{"key rotate with an argument", []string{"key", "rotate", "--data", t.TempDir(), "x"}, `unexpected argument "x"`, "", ""},
		{"migrate with an argument", []string{"migrate", "--data", t.TempDir(), "x"}, `unexpected argument "x"`, "", ""},
		{"apikey create with a bad flag", []string{"apikey", "create", "--bogus"}, "bogus", "", "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runLatch(t, tc.args...)
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
			if tc.wantErr == "" && stderr != "" {
				t.Errorf("a succeeding command wrote to stderr: %q", stderr)
			}
		})
	}
}

// TestAdminBeforeServe: the admin commands refuse a database that was
// never set up, and say what to do.
func TestAdminBeforeServe(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"apikey", "create"},
		{"apikey", "create", "--description", "x"},
		{"key", "rotate"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			stdout, _, err := runLatch(t, append(args, "--data", dir)...)
			if err == nil || !strings.Contains(err.Error(), "run 'latch serve' once first") {
				t.Errorf("error %v, want one saying to run 'latch serve' once first", err)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			// The refusal set nothing up: serve still bootstraps.
			if startServer(t, dir).APIKey == "" {
				t.Error("the data directory was set up by a refused command")
			}
		})
	}
}

func TestAPIKeyCreate(t *testing.T) {
	clearEnv(t)
	dir := initDir(t)
	stdout, stderr := mustRun(t, "apikey", "create", "--data", dir, "--description", "ci deploys")
	key := strings.TrimSpace(stdout)
	if strings.Count(stdout, "\n") != 1 || len(key) < 32 || strings.ContainsAny(key, " \t") {
		t.Fatalf("stdout %q, want the key alone on one line", stdout)
	}
	if strings.Contains(stderr, key) {
		t.Errorf("stderr shows the key: %q", stderr)
	}
	second, _ := mustRun(t, "apikey", "create", "--data", dir)
	if strings.TrimSpace(second) == key {
		t.Error("two apikey create printed the same key")
	}

	in := startServer(t, dir)
	in.Do(t, key, "GET", "/api/application", nil, 200, nil)
	in.Do(t, strings.TrimSpace(second), "GET", "/api/application", nil, 200, nil)
	in.Do(t, key+"x", "GET", "/api/application", nil, 401, nil)
	var keys api.APIKeyResponse
	in.Do(t, in.APIKey, "GET", "/api/api-key", nil, 200, &keys)
	var descriptions []string
	for _, k := range keys.APIKeys {
		if k.Key != "" {
			t.Errorf("GET /api/api-key shows a key's secret")
		}
		descriptions = append(descriptions, k.MetaData.Attributes["description"])
	}
	if !slices.Contains(descriptions, "ci deploys") {
		t.Errorf("descriptions %q, want one \"ci deploys\"", descriptions)
	}
}

func TestAPIKeyCreateTenant(t *testing.T) {
	clearEnv(t)
	dir := initDir(t)
	in := startServer(t, dir)
	var tenants api.TenantResponse
	in.Do(t, in.APIKey, "GET", "/api/tenant", nil, 200, &tenants)
	in.Stop()
	tenantID := tenants.Tenants[0].ID

	if _, _, err := runLatch(t, "apikey", "create", "--data", dir, "--tenant", "0f6c8f9e-1f7b-4c52-9a43-6b1f1f0a0001"); err == nil {
		t.Error("apikey create --tenant with an unknown tenant succeeded")
	}
	stdout, _ := mustRun(t, "apikey", "create", "--data", dir, "--tenant", tenantID)
	in = startServer(t, dir)
	var keys api.APIKeyResponse
	in.Do(t, in.APIKey, "GET", "/api/api-key", nil, 200, &keys)
	locked := 0
	for _, k := range keys.APIKeys {
		if k.TenantID == tenantID {
			locked++
		}
	}
	if locked != 1 {
		t.Errorf("%d keys locked to the tenant, want 1: %+v", locked, keys.APIKeys)
	}
	in.Do(t, strings.TrimSpace(stdout), "GET", "/api/user?email=nobody@example.org", nil, 404, nil)
}

var rotated = regexp.MustCompile(`^new signing key ([0-9a-f-]{36}) \(ES256, kid (\S+)\)`)

func TestKeyRotate(t *testing.T) {
	clearEnv(t)
	dir := initDir(t)
	in := startServer(t, dir)
	before := jwksKids(t, in.URL)
	in.Stop()
	if len(before) != 1 {
		t.Fatalf("JWKS %v before rotation, want one key", before)
	}

	stdout, _ := mustRun(t, "key", "rotate", "--data", dir)
	m := rotated.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("key rotate printed %q, want \"new signing key <id> (ES256, kid <kid>) ...\"", stdout)
	}
	id, kid := m[1], m[2]

	in = startServer(t, dir)
	base := in.URL
	want := []string{before[0], kid}
	slices.Sort(want)
	if diff := cmp.Diff(want, jwksKids(t, base)); diff != "" {
		t.Errorf("JWKS after key rotate (-want +got):\n%s", diff)
	}
	var key api.KeyResponse
	in.Do(t, in.APIKey, "GET", "/api/key/"+id, nil, 200, &key)
	if key.Key == nil || key.Key.Kid != kid {
		t.Errorf("GET /api/key/%s: %+v, want kid %s", id, key.Key, kid)
	}
	// New tokens are signed with the new key.
	appID := in.DefaultApplication(t).ID
	in.Register(t, appID, "ana@example.org")
	login := in.Login(t, appID, "ana@example.org")
	if !strings.Contains(jwtHeaderJSON(t, login.Token), `"kid":"`+kid+`"`) {
		t.Errorf("a token after key rotate has header %s, want kid %s", jwtHeaderJSON(t, login.Token), kid)
	}
}

func jwtHeaderJSON(t *testing.T, jwt string) string {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWrongMasterKey: an admin command run with another master key than
// the database's refuses, and leaves the database usable.
func TestWrongMasterKey(t *testing.T) {
	clearEnv(t)
	dir := initDir(t)
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LATCH_MASTER_KEY", hex.EncodeToString(k))
	if _, _, err := runLatch(t, "key", "rotate", "--data", dir); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Errorf("key rotate with a wrong master key: %v, want an error about the master key", err)
	}
	t.Setenv("LATCH_MASTER_KEY", "")
	in := startServer(t, dir)
	if kids := jwksKids(t, in.URL); len(kids) != 1 {
		t.Errorf("JWKS %v after a refused rotation, want the one key", kids)
	}
}

func TestMigrate(t *testing.T) {
	clearEnv(t)
	fresh := filepath.Join(t.TempDir(), "data")
	stdout, _ := mustRun(t, "migrate", "--data", fresh)
	if !strings.Contains(stdout, "schema up to date") {
		t.Errorf("migrate printed %q", stdout)
	}
	if _, err := os.Stat(filepath.Join(fresh, server.DatabaseFile)); err != nil {
		t.Errorf("migrate made no database: %v", err)
	}

	dir := initDir(t)
	in := startServer(t, dir)
	var before api.ApplicationResponse
	in.Do(t, in.APIKey, "GET", "/api/application", nil, 200, &before)
	in.Stop()
	mustRun(t, "migrate", "--data", dir)
	mustRun(t, "migrate", "--data", dir)
	in = startServer(t, dir)
	var after api.ApplicationResponse
	in.Do(t, in.APIKey, "GET", "/api/application", nil, 200, &after)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("applications changed by migrate (-before +after):\n%s", diff)
	}

	if _, _, err := runLatch(t, "migrate", "--database", "mysql://localhost/latch"); err == nil {
		t.Error("migrate with a mysql:// URL succeeded")
	}
}

// TestBackup: an online backup, taken while the server runs, is a
// database that a server opens, with the data of the original.
func TestBackup(t *testing.T) {
	clearEnv(t)
	dir := initDir(t)
	in := startServer(t, dir)
	appID := in.DefaultApplication(t).ID
	in.Register(t, appID, "ana@example.org")

	file := filepath.Join(t.TempDir(), "backup.db")
	stdout, _ := mustRun(t, "backup", "--data", dir, file)
	if !strings.Contains(stdout, file) {
		t.Errorf("backup printed %q, want the file named", stdout)
	}
	in.Stop()

	// The file is a SQLite database.
	st, err := sqlite.Open(context.Background(), file)
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	got, err := st.ListApplications(context.Background(), "")
	st.Close()
	if err != nil || len(got) != 1 || got[0].ID != appID {
		t.Errorf("applications in the backup: %+v (%v), want %s", got, err, appID)
	}

	// Restored with the master key, it serves the same data.
	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, file, filepath.Join(restored, server.DatabaseFile))
	copyFile(t, filepath.Join(dir, server.MasterKeyFile), filepath.Join(restored, server.MasterKeyFile))
	in = startServer(t, restored)
	if in.APIKey != "" {
		t.Fatal("the restored database was set up afresh")
	}
	key := latchtest.BootstrapKey(t, dir)
	in.Do(t, key, "POST", "/api/login", api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: appID}, 200, nil)

	if _, _, err := runLatch(t, "backup", "--data", dir, filepath.Join(t.TempDir(), "no", "such", "dir", "b.db")); err == nil {
		t.Error("backup into a missing directory succeeded")
	}
}

// copyFile copies the file from to the file to, readable by its owner only.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeFlags(t *testing.T) {
	clearEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	themed := filepath.Join(t.TempDir(), "kickstart.json")
	if err := os.WriteFile(themed, []byte(`{"apiKeys": [{"key": "flags-admin-key-0123456789abcdefghijklmn"}],
	  "requests": [{"method": "POST", "url": "/api/theme", "body": {"theme": {"name": "Shop"}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"stray argument", []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "extra"}, "extra"},
		{"missing value", []string{"--addr"}, "addr"},
		{"busy port", []string{"--data", t.TempDir(), "--addr", ln.Addr().String()}, ln.Addr().String()},
		{"missing kickstart", []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--kickstart", filepath.Join(t.TempDir(), "nope.json")}, "nope.json"},
		{"kickstart with an API Latch does not implement", []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--kickstart", themed},
			"requests[0] (POST /api/theme) calls FusionAuth's Themes API (/api/theme), which Latch does not implement; --kickstart-skip-unsupported (LATCH_KICKSTART_SKIP_UNSUPPORTED) skips such requests"},
		{"bad log format", []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--log-format", "xml"}, "xml"},
		{"database timeout too long", []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--database-timeout", "30s"}, "database timeout 30s"},
		{"bad database timeout", []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--database-timeout", "soon"}, "database-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stdout, stderr latchtest.LogBuffer
			done := make(chan error, 1)
			go func() { done <- run(ctx, append([]string{"serve"}, tc.args...), nil, &stdout, &stderr) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
					t.Errorf("latch serve %s: %v\nstderr: %s\nwant an error naming %q", strings.Join(tc.args, " "), err, stderr.String(), tc.want)
				}
			case <-time.After(10 * time.Second):
				cancel()
				<-done
				t.Errorf("latch serve %s is serving, want it to fail", strings.Join(tc.args, " "))
			}
		})
	}
}

var listening = regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`)

// listenAddr waits until `latch serve`, logging in JSON to stderr, logs
// its address, and returns it; done receives run's result.
func listenAddr(t *testing.T, stderr *latchtest.LogBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("latch serve did not log its address in JSON:\n%s", stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("latch serve ended: %v\n%s", err, stderr.String())
		case <-tick.C:
		}
	}
}

// TestServeEnvironment: `latch serve` takes its configuration from the
// environment twins of its flags, serves, and shuts down gracefully when
// its context ends.
func TestServeEnvironment(t *testing.T) {
	clearEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	kickstartFile := filepath.Join(t.TempDir(), "kickstart.json")
	adminKey := "environment-admin-key-0123456789abcdefghij"
	if err := os.WriteFile(kickstartFile, []byte(`{"apiKeys": [{"key": "`+adminKey+`"}],
	  "requests": [{"method": "POST", "url": "/api/application", "body": {"application": {"name": "Store"}}},
	               {"method": "POST", "url": "/api/theme", "body": {"theme": {"name": "Shop"}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LATCH_DATA_DIR", dir)
	t.Setenv("LATCH_ADDR", "127.0.0.1:0")
	t.Setenv("LATCH_ISSUER", "https://issuer.example.org")
	t.Setenv("LATCH_LOG_FORMAT", "json")
	t.Setenv("LATCH_KICKSTART", kickstartFile)
	t.Setenv("LATCH_KICKSTART_SKIP_UNSUPPORTED", "true")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr latchtest.LogBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, nil, &stdout, &stderr) }()
	addr := listenAddr(t, &stderr, done)
	base := "http://" + addr

	latchtest.Do(t, base, "", "GET", "/api/status", nil, 200, nil)
	var apps api.ApplicationResponse
	latchtest.Do(t, base, adminKey, "GET", "/api/application", nil, 200, &apps)
	if len(apps.Applications) != 2 || !slices.ContainsFunc(apps.Applications, func(a api.Application) bool { return a.Name == "Store" }) {
		t.Errorf("applications %+v, want the kickstart's Store and FusionAuth's", apps.Applications)
	}
	if !strings.Contains(stderr.String(), `"msg":"kickstart: request skipped: Latch does not implement its API","request":1`) {
		t.Errorf("LATCH_KICKSTART_SKIP_UNSUPPORTED: the theme was not skipped:\n%s", stderr.String())
	}
	var discovery struct {
		Issuer string `json:"issuer"`
	}
	latchtest.Do(t, base, "", "GET", "/.well-known/openid-configuration", nil, 200, &discovery)
	if discovery.Issuer != "https://issuer.example.org" {
		t.Errorf("issuer %q, want LATCH_ISSUER's", discovery.Issuer)
	}
	if _, err := os.Stat(filepath.Join(dir, server.DatabaseFile)); err != nil {
		t.Errorf("no database in LATCH_DATA_DIR: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, server.BootstrapKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LATCH_KICKSTART was not used: a bootstrap key was written (%v)", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("latch serve after its context ended: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("latch serve did not shut down")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown logged:\n%s", stderr.String())
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the port is open after latch serve returned")
	}
	if stdout.String() != "" {
		t.Errorf("latch serve wrote to stdout: %q", stdout.String())
	}
}

// TestDataDirEnvironment: LATCH_DATA_DIR locates the database for every
// command, and --data overrides it.
func TestDataDirEnvironment(t *testing.T) {
	clearEnv(t)
	dir := initDir(t)
	t.Setenv("LATCH_DATA_DIR", dir)
	key, _ := mustRun(t, "apikey", "create")
	mustRun(t, "key", "rotate")
	mustRun(t, "migrate")
	mustRun(t, "backup", filepath.Join(t.TempDir(), "b.db"))

	// --data wins over the environment: that directory was never set up.
	other := filepath.Join(t.TempDir(), "other")
	if _, _, err := runLatch(t, "apikey", "create", "--data", other); err == nil || !strings.Contains(err.Error(), "latch serve") {
		t.Errorf("apikey create --data <new dir> with LATCH_DATA_DIR set: %v, want the not-set-up error", err)
	}

	t.Setenv("LATCH_DATA_DIR", "")
	in := startServer(t, dir)
	in.Do(t, strings.TrimSpace(key), "GET", "/api/application", nil, 200, nil)
	if kids := jwksKids(t, in.URL); len(kids) != 2 {
		t.Errorf("JWKS %v, want 2 keys after key rotate through LATCH_DATA_DIR", kids)
	}
}

// latch serve on a database SQLite cannot open exits with status 1 and
// an error that names the path and the cause, not a panic. The test
// binary runs main itself, in a child process, to see the exit status.
func TestServeUnopenableDatabase(t *testing.T) {
	if os.Getenv("LATCH_TEST_MAIN") == "1" {
		args := os.Args[slices.Index(os.Args, "--")+1:] // the test binary's own flags come before
		os.Args = append([]string{"latch"}, args...)
		main()
		os.Exit(0)
	}
	clearEnv(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path the error must name
		cause string
		root  bool // whether the case holds for root
	}{
		{"DatabaseIsADirectory", func(t *testing.T, dir string) string {
			db := filepath.Join(dir, server.DatabaseFile)
			if err := os.MkdirAll(db, 0o700); err != nil {
				t.Fatal(err)
			}
			return db
		}, "is a directory", true},
		{"DataDirNotWritable", func(t *testing.T, dir string) string {
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
			return filepath.Join(dir, server.DatabaseFile)
		}, "permission denied", false},
		{"DataDirIsAFile", func(t *testing.T, dir string) string {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "not a directory", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.root && os.Geteuid() == 0 {
				t.Skip("root writes where permissions say no")
			}
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := tt.setup(t, dir)
			args := []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestServeUnopenableDatabase$", "--"}, args...)...)
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "LATCH_") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, "LATCH_TEST_MAIN=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("latch serve: %v, want exit status 1\n%s", err, stderr.String())
			}
			msg := stderr.String()
			if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine ") {
				t.Errorf("latch serve panicked:\n%s", msg)
			}
			if !strings.HasPrefix(msg, "latch: ") || !strings.Contains(msg, path) || !strings.Contains(msg, tt.cause) {
				t.Errorf("stderr %q, want an error naming %s and %q", msg, path, tt.cause)
			}
		})
	}
}

// TestDatabaseTimeoutEnvironment: LATCH_DATABASE_TIMEOUT is --database-timeout's
// twin for every command that opens the database; a value that is no
// duration is refused.
func TestDatabaseTimeoutEnvironment(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	t.Setenv("LATCH_DATABASE_TIMEOUT", "30s")
	if _, _, err := runLatch(t, "migrate", "--data", dir); err == nil || !strings.Contains(err.Error(), "database timeout 30s") {
		t.Errorf("migrate with LATCH_DATABASE_TIMEOUT=30s: %v, want the timeout refused", err)
	}
	mustRun(t, "migrate", "--data", dir, "--database-timeout", "2s") // the flag wins
	t.Setenv("LATCH_DATABASE_TIMEOUT", "soon")
	if _, _, err := runLatch(t, "migrate", "--data", dir); err == nil || !strings.Contains(err.Error(), "LATCH_DATABASE_TIMEOUT") {
		t.Errorf("migrate with LATCH_DATABASE_TIMEOUT=soon: %v, want it named", err)
	}
	t.Setenv("LATCH_DATABASE_TIMEOUT", "2s")
	mustRun(t, "migrate", "--data", dir)
}
