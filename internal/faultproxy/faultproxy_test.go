package faultproxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/faultproxy"
)

// echo starts a server that sends back every line it gets, and reports
// on got every line it received, and "EOF" when a client closed.
func echo(t *testing.T) (addr string, got chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						got <- "EOF"
						return
					}
					got <- strings.TrimSpace(line)
					c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String(), got
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, line string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	back, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(back) != line {
		t.Fatalf("echo of %q: %q, %v", line, back, err)
	}
}

// sendHeld sends a line through the frozen proxy, waits until the proxy
// holds it (held reaches want), and checks that no answer came.
func sendHeld(t *testing.T, p *faultproxy.Proxy, c net.Conn, r *bufio.Reader, line string, want int) {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	waitHeld(t, p, want)
	c.SetReadDeadline(time.Now())
	if back, err := r.ReadString('\n'); err == nil {
		t.Fatalf("frozen, %q was answered %q", line, back)
	}
	c.SetReadDeadline(time.Time{})
}

// waitUntil waits until cond holds, checking it every millisecond, and
// fails the test with what when it does not within 5s.
func waitUntil(t *testing.T, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what())
		}
		<-tick.C
	}
}

// waitHeld waits until the proxy holds n chunks.
func waitHeld(t *testing.T, p *faultproxy.Proxy, n int) {
	t.Helper()
	waitUntil(t, func() string { return fmt.Sprintf("the proxy holds %d chunks, want %d", p.Held(), n) },
		func() bool { return p.Held() >= n })
}

func TestFreezeAndThaw(t *testing.T) {
	addr, got := echo(t)
	p := faultproxy.Start(t, addr)
	c, r := dial(t, p.Addr())
	roundTrip(t, c, r, "one")
	<-got

	p.Freeze()
	sendHeld(t, p, c, r, "two", 1)
	// A new connection is accepted, and frozen too (before it reaches
	// the server: the proxy does not dial it while frozen).
	c2, r2 := dial(t, p.Addr())
	if _, err := io.WriteString(c2, "three\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-got:
		t.Fatalf("frozen, the server got %q", line)
	default:
	}
	c.Close() // the client gives up while frozen: the close is held too
	p.Thaw()
	// What was held arrives, in order, the close after the data.
	want := map[string]bool{"two": true, "three": true, "EOF": true}
	for len(want) > 0 {
		select {
		case line := <-got:
			if !want[line] {
				t.Fatalf("after Thaw, the server got %q", line)
			}
			delete(want, line)
		case <-time.After(5 * time.Second):
			t.Fatalf("after Thaw, still missing %v", want)
		}
	}
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if back, err := r2.ReadString('\n'); err != nil || back != "three\n" {
		t.Fatalf("held answer: %q, %v", back, err)
	}
	roundTrip(t, c2, r2, "four")
	// The first connection's end reached the server, which closed it too.
	waitUntil(t, func() string { return "the closed connection never ended" }, func() bool { return p.Ended() >= 1 })
}

func TestFreezeWhen(t *testing.T) {
	addr, got := echo(t)
	p := faultproxy.Start(t, addr)
	p.FreezeWhen(func(b []byte) bool { return bytes.Contains(b, []byte("stop")) })
	c, r := dial(t, p.Addr())
	roundTrip(t, c, r, "go on")
	<-got
	sendHeld(t, p, c, r, "stop here", 1)
	if !p.Frozen() {
		t.Fatal("not frozen after the match")
	}
	select {
	case line := <-got:
		t.Fatalf("the matching bytes reached the server: %q", line)
	default:
	}
	p.Thaw()
	if line := <-got; line != "stop here" {
		t.Fatalf("after Thaw: %q", line)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if back, err := r.ReadString('\n'); err != nil || back != "stop here\n" {
		t.Fatalf("held answer: %q, %v", back, err)
	}
	roundTrip(t, c, r, "stop again") // FreezeWhen fires once
}

func TestKillAndRevive(t *testing.T) {
	addr, _ := echo(t)
	p := faultproxy.Start(t, addr)
	c, r := dial(t, p.Addr())
	roundTrip(t, c, r, "one")
	p.Kill()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("a connection survived Kill")
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("a connection was accepted after Kill")
	}
	p.Revive(t)
	c2, r2 := dial(t, p.Addr())
	roundTrip(t, c2, r2, "two")
}
