package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/latchid/latch/bench/proc"
)

// child is a server process the bench started.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string // path of its combined output
	done chan struct{}
	err  error
	// peak is the process's VmHWM, read just before it was stopped.
	peak int64
}

// start runs bin with args and env (added to the bench's own), its output
// in dir/name.log, and waits until GET ready answers 200.
func start(ctx context.Context, dir, name, bin string, args, env []string, ready string) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the bench
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	if err := waitReady(ctx, c, ready); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// waitReady polls url until it answers 200, the process exits, or a
// minute passes.
func waitReady(ctx context.Context, c *child, url string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was ready (%v): %s", c.name, c.err, tail(c.log))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w: %s", c.name, url, ctx.Err(), tail(c.log))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pid is the process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// stop records the peak RSS, then stops the process (SIGTERM, then
// SIGKILL after ten seconds) and waits for it.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	if p, err := proc.PeakRSS(c.pid()); err == nil {
		c.peak = p
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// alive reports an error if the process has exited.
func (c *child) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited (%v): %s", c.name, c.err, tail(c.log))
	default:
		return nil
	}
}

// tail returns the last lines of a log file, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-8):], "\n")
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// runCommand runs a command to completion, its output in the error if it fails.
func runCommand(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

var errChainBroken = errors.New("refresh token chain broken")
