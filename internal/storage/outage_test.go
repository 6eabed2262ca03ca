package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/fakeclock"
)

// logLines is a log sink that keeps its records, one text line each.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the records that contain every one of parts.
func (l *logLines) lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

func newTestOutage(t *testing.T) (*Outage, *logLines, *fakeclock.Clock) {
	t.Helper()
	logs := new(logLines)
	clock := fakeclock.New(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	return NewOutage(slog.New(slog.NewTextHandler(logs, nil)), clock.Now, time.Minute), logs, clock
}

var errDown = fmt.Errorf("%w: connection refused", ErrUnavailable)

// An outage is logged once when it starts, then at most once a minute with
// the count of refused requests, then once when it ends, with its
// duration and counts: thousands of failed requests make four lines.
func TestOutage_FewLines(t *testing.T) {
	o, logs, clock := newTestOutage(t)
	o.observe(reading, nil) // up: nothing to say
	if o.Down() || len(logs.lines()) != 0 {
		t.Fatalf("before any failure: down %v, logs %q", o.Down(), logs.lines())
	}
	for range 5000 {
		o.observe(writing, errDown)
		o.Refused()
	}
	if got := logs.lines(); len(got) != 1 || !strings.Contains(got[0], "level=ERROR") ||
		!strings.Contains(got[0], "storage unavailable") || !strings.Contains(got[0], "connection refused") {
		t.Fatalf("after 5000 failures in the same instant: logs %q, want one ERROR with the cause", got)
	}
	clock.Advance(30 * time.Second)
	o.observe(reading, errDown)
	o.Refused()
	if n := len(logs.lines()); n != 1 {
		t.Errorf("after 30 s: %d lines, want still 1", n)
	}
	clock.Advance(31 * time.Second)
	o.Refused()
	sum := logs.lines("storage still unavailable")
	if len(sum) != 1 || !strings.Contains(sum[0], "refused=5002") || !strings.Contains(sum[0], "for=1m1s") ||
		!strings.Contains(sum[0], "level=ERROR") {
		t.Errorf("summary after a minute: %q, want one with refused=5002 for=1m1s", sum)
	}
	for range 100 {
		o.observe(writing, errDown)
	}
	clock.Advance(9 * time.Second)
	o.observe(writing, nil)
	if o.Down() {
		t.Error("Down after a successful write")
	}
	end := logs.lines("storage available again")
	if len(end) != 1 || !strings.Contains(end[0], "after=1m10s") || !strings.Contains(end[0], "refused=5002") ||
		!strings.Contains(end[0], "failedCalls=5101") {
		t.Errorf("end of the outage: %q, want after=1m10s refused=5002 failedCalls=5101", end)
	}
	if n := len(logs.lines()); n != 3 {
		t.Errorf("%d lines in all, want 3:\n%s", n, strings.Join(logs.lines(), "\n"))
	}
	o.Refused() // after the end: nothing
	o.observe(reading, nil)
	if n := len(logs.lines()); n != 3 {
		t.Errorf("after the end: %d lines, want still 3", n)
	}
	// A second outage is logged afresh, with counts of its own.
	o.observe(reading, errDown)
	o.observe(reading, errors.Join(ErrNotFound)) // the database answered
	if got := logs.lines("storage available again"); len(got) != 2 || !strings.Contains(got[1], "failedCalls=1") {
		t.Errorf("second outage's end: %q", got)
	}
}

// While writes fail, successful reads do not end the outage (a full disk
// serves reads); a successful write ends it. A failed read outage ends
// with a read.
func TestOutage_ReadsAndWrites(t *testing.T) {
	o, logs, _ := newTestOutage(t)
	o.observe(writing, errDown)
	for range 100 {
		o.observe(reading, nil)
		o.observe(writing, errDown)
	}
	if !o.Down() || len(logs.lines()) != 1 {
		t.Fatalf("writes failing, reads working: down %v, logs %q; want down, one line", o.Down(), logs.lines())
	}
	o.observe(writing, nil)
	if o.Down() || len(logs.lines("storage available again")) != 1 {
		t.Fatalf("after a write: down %v, logs %q", o.Down(), logs.lines())
	}
	o.observe(reading, errDown)
	o.observe(writing, errDown)
	o.observe(reading, nil)
	if !o.Down() {
		t.Error("reads and writes failed, a read worked: not down; want down until a write works")
	}
	o.observe(writing, nil)
	if o.Down() {
		t.Error("down after a write worked")
	}
}

// Errors that say nothing about the database (a cancelled request, a
// caller's own error) neither start nor end an outage.
func TestOutage_OtherErrors(t *testing.T) {
	o, logs, _ := newTestOutage(t)
	o.observe(reading, errors.New("context canceled"))
	if o.Down() || len(logs.lines()) != 0 {
		t.Fatal("an unrelated error started an outage")
	}
	o.observe(reading, errDown)
	o.observe(writing, errors.New("the caller's own error"))
	if !o.Down() {
		t.Error("an unrelated error ended an outage")
	}
	var nilOutage *Outage
	nilOutage.observe(reading, errDown) // does nothing, does not panic
	nilOutage.Refused()
	if nilOutage.Down() {
		t.Error("a nil Outage is down")
	}
}
