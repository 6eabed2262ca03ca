// Package latchtest holds what the tests of several packages share: a
// real Latch started in-process (Start, Open) with its bootstrap API key
// (BootstrapKey), JSON requests to Latch's API (Call, Do), a JWT's claims
// unverified (Claims), a clock that moves only when a test advances it
// (Clock), a log sink that the servers' goroutines may write to
// (LogBuffer), a transport that counts a Latch client's calls (Counter),
// self-signed TLS certificates (TLSCert), and waits with a deadline for a
// condition nothing signals (Poll, WaitUntil).
//
// It is for tests only. In-package tests of the packages internal/server
// depends on cannot import it; external test packages (package foo_test)
// can.
package latchtest

import (
	"bytes"
	"log/slog"
	"sync"
	"time"

	"github.com/latchid/latch/internal/fakeclock"
)

// Password satisfies Latch's default password rules. Tests that check
// what is logged look for it: it must never appear in a log.
const Password = "correct horse battery staple"

// Clock is the fake clock of a test: it moves only when Advance or Set
// moves it.
type Clock = fakeclock.Clock

// NewClock returns a Clock that reads start.
func NewClock(start time.Time) *Clock { return fakeclock.New(start) }

// LogBuffer is an io.Writer that collects what is written to it, safe
// for concurrent writers. The zero value is ready to use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a logger that writes text records of every level,
// debug included, to b.
func (b *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
