package server_test

import (
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/internal/faultproxy"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/server"
)

// errorLines returns the ERROR records of a log.
func errorLines(logs string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") {
			out = append(out, line)
		}
	}
	return out
}

// waitLog waits until the log holds s.
func waitLog(t *testing.T, logs *latchtest.LogBuffer, s string) string {
	t.Helper()
	if !latchtest.Poll(30*time.Second, func() bool { return strings.Contains(logs.String(), s) }) {
		t.Fatalf("the log never said %q:\n%s", s, logs)
	}
	return logs.String()
}

// While the database is down, the background work (the event dispatcher
// polling the outbox, the reaper) fails quietly: the outage is logged
// once, however many polls fail, and its end says how many calls failed.
func TestOutage_BackgroundWorkQuiet(t *testing.T) {
	u := pgtest.Schema(t)
	p := faultproxy.Start(t, pgtest.Addr(t, u))
	// Every pass of the reaper and of the dispatcher reads the clock, then
	// makes a store call: the clock's readings count the passes.
	var passes atomic.Int64
	cfg := server.Config{DatabaseURL: pgtest.Via(t, u, p.Addr()), GCInterval: 10 * time.Millisecond,
		Now: func() time.Time { passes.Add(1); return time.Now() }}
	cfg.Events.PollInterval = 10 * time.Millisecond
	l := latchtest.Start(t, latchtest.Options{Config: cfg})

	p.Kill()
	waitLog(t, l.Logs, "storage unavailable")
	// Let the dispatcher and the reaper fail a while: 12 more passes, of
	// which at most two (one each) are still in their store call; the end
	// of the outage counts the failed calls.
	from := passes.Load()
	latchtest.WaitUntil(t, 30*time.Second, "12 passes of the background work during the outage", func() bool {
		return passes.Load()-from >= 12
	})
	p.Revive(t)
	// The background work finds nothing to write, which proves reads
	// only; the status endpoint's probe is a write, and ends the outage.
	latchtest.WaitUntil(t, 30*time.Second, "GET /api/status answers 200", func() bool {
		code, _ := l.Call(t, "", "GET", "/api/status", nil)
		return code == 200
	})
	logs := waitLog(t, l.Logs, "storage available again")
	m := regexp.MustCompile(`storage available again.* failedCalls=(\d+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no count in the outage's end:\n%s", logs)
	}
	if n, _ := strconv.Atoi(m[1]); n < 10 {
		t.Errorf("failedCalls=%d: the background work did not run during the outage", n)
	}
	if errs := errorLines(logs); len(errs) != 1 {
		t.Errorf("%d error lines, want 1 (the outage's start):\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// The deadlines are the configuration's: a store call that gets no
// answer fails at DatabaseTimeout; within a request, the request's
// deadline (RequestTimeout) ends it too, whichever comes first. Timeouts
// that do not fit the HTTP server's write timeout are refused.
func TestTimeouts(t *testing.T) {
	for _, c := range []struct {
		database, request time.Duration
		want              time.Duration // when the 503 is due
	}{
		{database: time.Second, want: time.Second},
		{database: 20 * time.Second, request: time.Second, want: time.Second},
	} {
		u := pgtest.Schema(t)
		p := faultproxy.Start(t, pgtest.Addr(t, u))
		l := latchtest.Start(t, latchtest.Options{Config: server.Config{
			DatabaseURL: pgtest.Via(t, u, p.Addr()), DatabaseTimeout: c.database, RequestTimeout: c.request,
		}})
		l.Do(t, l.APIKey, "GET", "/api/user?email=ana@example.org", nil, 404, nil)
		p.Freeze()
		start := time.Now()
		code, body := l.Call(t, l.APIKey, "GET", "/api/user?email=ana@example.org", nil)
		if d := time.Since(start); code != 503 || d > c.want+3*time.Second {
			t.Errorf("database timeout %v, request timeout %v: a request over a frozen database: %d %s after %v, want 503 after %v",
				c.database, c.request, code, body, d, c.want)
		}
		p.Thaw()
		l.Stop()
	}
	for _, c := range []server.Config{
		{DatabaseTimeout: -time.Second},
		{DatabaseTimeout: server.DefaultRequestTimeout},
		{RequestTimeout: -time.Second},
		{RequestTimeout: time.Minute},
	} {
		if _, _, err := openLatch(t, t.TempDir(), c); err == nil {
			t.Errorf("server.Open with database timeout %v and request timeout %v: no error", c.DatabaseTimeout, c.RequestTimeout)
		}
	}
}
