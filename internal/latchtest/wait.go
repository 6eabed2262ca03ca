package latchtest

import (
	"testing"
	"time"
)

// Poll reports whether cond holds within timeout, checking it every few
// milliseconds: for a positive condition the code under test gives no
// signal of, never to prove that something did not happen.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// WaitUntil waits until cond holds (see Poll), and fails the test with
// what when it does not within timeout.
func WaitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
