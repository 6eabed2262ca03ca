package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/diskfull"
	"github.com/latchid/latch/internal/latchtest"
)

// A SQLite database whose writes the kernel refuses, as on a full disk
// (a file size limit of one byte: RLIMIT_FSIZE, what `ulimit -f` sets, in
// a child process since it holds for the whole process): the status
// endpoint says so (it probes a write), requests that write are answered
// 503, reads are served, the log has one error; when writes go through
// again, so does Latch.
func TestSQLiteWriteOutage(t *testing.T) {
	if diskfull.InChild(t) {
		sqliteWriteOutageChild(t)
	}
}

func sqliteWriteOutageChild(t *testing.T) {
	clock := newTestClock()
	l := latchtest.Start(t, latchtest.Options{Clock: clock})
	app := l.DefaultApplication(t)
	userID := l.Register(t, app.ID, "ana@example.org")
	login := l.Login(t, app.ID, "ana@example.org")
	l.Do(t, "", "GET", "/api/status", nil, 200, nil)

	lift := diskfull.Limit(t, 1)
	// A login writes its session; a refresh rotates or touches it.
	code, body := l.Call(t, l.APIKey, "POST", "/api/login",
		api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: app.ID})
	if code != http.StatusServiceUnavailable || !bytes.Contains(body, []byte("[ServiceUnavailable]")) {
		t.Errorf("login with writes refused: %d %s, want 503 [ServiceUnavailable]", code, body)
	}
	code, body = l.Call(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: login.RefreshToken})
	if code != http.StatusServiceUnavailable {
		t.Errorf("refresh with writes refused: %d %s, want 503", code, body)
	}
	// A DPoP proof is recorded in the replay cache (a write) before it is
	// accepted: RFC 9449's error JSON, and no error line of its own.
	res := dpopLogin(t, l, app.ID)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(res.body, `"error":"temporarily_unavailable"`) {
		t.Errorf("login with a DPoP proof with writes refused: %d %s, want 503 temporarily_unavailable", res.StatusCode, res.body)
	}
	// Reads go on.
	l.Do(t, l.APIKey, "GET", "/api/user/"+userID, nil, 200, nil)
	// The status endpoint's last check (a moment ago) is reused for 2 s;
	// then it probes a write, which fails.
	clock.Advance(3 * time.Second)
	code, body = l.Call(t, "", "GET", "/api/status", nil)
	if code != http.StatusServiceUnavailable || !bytes.Contains(body, []byte("database refuses writes")) {
		t.Errorf("status with writes refused: %d %s, want 503 database refuses writes", code, body)
	}

	lift()
	clock.Advance(3 * time.Second)
	l.Do(t, "", "GET", "/api/status", nil, 200, nil)
	l.Login(t, app.ID, "ana@example.org")
	logs := l.Logs.String()
	if errs := errorLines(logs); len(errs) != 1 || !strings.Contains(errs[0], "storage unavailable") {
		t.Errorf("error lines %q, want one: the outage's start", errs)
	}
	if !strings.Contains(logs, "storage available again") || !strings.Contains(logs, "refused=3") {
		t.Errorf("the log lacks the outage's end with refused=3:\n%s", logs)
	}
}

// dpopResponse is an answer, its body read.
type dpopResponse struct {
	*http.Response
	body string
}

// dpopLogin logs ana@example.org in with a DPoP proof of a new key.
func dpopLogin(t *testing.T, l *latchtest.Latch, appID string) dpopResponse {
	t.Helper()
	key, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	proof, err := dpop.NewProof(key, "POST", l.URL+"/api/login", dpop.ProofOptions{Now: l.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: appID})
	req, err := http.NewRequest("POST", l.URL+"/api/login", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", l.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(dpop.Header, proof)
	res, err := l.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return dpopResponse{res, string(body)}
}
