package compat_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeouts: npm ci fetches from the registry; the node tests take seconds.
const (
	npmTimeout  = 5 * time.Minute
	nodeTimeout = 3 * time.Minute
)

// node is a Node project under compat/ whose packages are installed.
type node struct {
	bin, dir string
}

// nodeProject returns the Node project in dir, running `npm ci` first
// unless node_modules already holds the package installed. Without node
// or npm, or when npm ci fails, the test is skipped, except under CI=true
// where that is a failure.
func nodeProject(t *testing.T, dir, installed string) node {
	t.Helper()
	unavailable := t.Skipf
	if os.Getenv("CI") == "true" {
		unavailable = t.Fatalf
	}
	bin, err := exec.LookPath("node")
	if err != nil {
		unavailable("node not found: %v", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable("npm not found: %v", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(abs, "node_modules", filepath.FromSlash(installed)))
	switch {
	case errors.Is(err, os.ErrNotExist):
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(filepath.Join(abs, "node_modules")) // no half install left to skip the next npm ci
			unavailable("npm ci failed: %v\n%s", err, out)
		}
	case err != nil:
		t.Fatal(err)
	}
	return node{bin: bin, dir: abs}
}

// test runs `node --test` on script with env added to the environment,
// logging its output line by line, and fails t if a test fails or it does
// not finish within nodeTimeout.
func (n node) test(t *testing.T, script string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.bin, "--test", "--test-reporter=spec", script)
	cmd.Dir = n.dir
	cmd.Env = append(append(os.Environ(), env...), "NO_COLOR=1")
	out := &lineLogger{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	out.flush()
	if ctx.Err() != nil {
		t.Fatalf("node --test did not finish within %v", nodeTimeout)
	}
	if err != nil {
		t.Fatalf("node --test %s: %v", script, err)
	}
}

// lineLogger is an io.Writer that logs each complete line with t.Log.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err == io.EOF {
			l.buf.WriteString(line) // an incomplete line waits for the rest
			return len(p), nil
		}
		l.t.Log(strings.TrimRight(line, "\r\n"))
	}
}

// flush logs what is left after the last newline.
func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.t.Log(l.buf.String())
		l.buf.Reset()
	}
}
