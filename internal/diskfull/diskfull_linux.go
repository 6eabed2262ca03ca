package diskfull

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// childEnv marks the child process that InChild starts.
const childEnv = "LATCH_DISKFULL_CHILD"

// InChild runs the calling test again in a child process of the test
// binary, and fails t unless it passes there; it returns false. In that
// child it returns true at once: the caller then runs the outage, and may
// call Limit. Skipped with -short.
func InChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child process: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("the child process did not pass:\n%s", out)
	}
	t.Logf("the child process:\n%s", out)
	return false
}

// Limit sets the process's file size limit to n bytes and returns the
// function that lifts it (again, at the test's end, it does nothing).
func Limit(t *testing.T, n uint64) (lift func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	lifted := false
	lift = func() {
		if !lifted {
			lifted = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(lift)
	return lift
}
