// Package faultproxy is a TCP proxy for tests, put between a client and a
// real server (PostgreSQL, Redis), that makes the faults of a network and
// of a server on demand:
//
//   - Freeze: nothing more is forwarded, in either direction, on the open
//     connections and on new ones, and nothing is closed: a server that
//     stopped answering (SIGSTOP, a full CPU, a lost lock) or a network
//     partition, as the client sees it. Connections are still accepted,
//     as the kernel accepts them for a stopped process.
//   - Thaw: what was held is delivered, in order, closes included, and
//     forwarding goes on: a partition that heals, TCP retransmitting what
//     was sent meanwhile.
//   - FreezeWhen: Freeze at the moment the client sends bytes that match,
//     those bytes held: a fault at an exact point of a protocol exchange.
//   - Kill: every connection is closed and new ones are refused: a server
//     that died. Revive listens again on the same address.
//
// It is for tests only.
package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards the connections made to Addr to the target.
type Proxy struct {
	target string
	addr   string

	mu         sync.Mutex
	thawed     *sync.Cond // signalled when frozen turns false
	frozen     bool
	held       int // copies waiting with bytes or an end to pass on
	freezeWhen func([]byte) bool
	ln         net.Listener
	conns      map[net.Conn]struct{}
	ended      int // client connections that ended
	wg         sync.WaitGroup
}

// Start starts a proxy to target (host:port) on a free loopback port; it
// is closed when tb ends.
func Start(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faultproxy: %v", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.thawed = sync.NewCond(&p.mu)
	p.serve(ln)
	tb.Cleanup(p.Close)
	return p
}

// Addr is the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.addr }

// Freeze stops forwarding until Thaw.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

// FreezeWhen makes the proxy freeze when match reports true for bytes the
// client sends, before they are forwarded (they are held with the rest).
// It matches once: the proxy forgets match when it fires. nil forgets it.
// The bytes are what one read returned, as the client wrote them: a
// protocol message is usually whole in one.
func (p *Proxy) FreezeWhen(match func([]byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.freezeWhen = match
}

// Frozen reports whether the proxy is frozen (by Freeze or FreezeWhen).
func (p *Proxy) Frozen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frozen
}

// Held returns how many chunks of bytes (or connection ends) the frozen
// proxy holds back, one at most per connection and direction: a test
// waits for it to know that what it sent is held, not on its way.
func (p *Proxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

// Ended returns how many client connections have ended (both sides
// closed, everything held passed on): after Thaw, a test waits for it to
// know that the server has seen the end of a connection its client gave up.
func (p *Proxy) Ended() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended
}

// Thaw delivers what was held and forwards again.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = false
	p.thawed.Broadcast()
}

// Kill closes every connection at once and refuses new ones, until Revive.
// It thaws the proxy: what was held is lost, as a dead server loses it.
func (p *Proxy) Kill() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.frozen = false
	p.thawed.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

// Revive listens again on the proxy's address after Kill.
func (p *Proxy) Revive(tb testing.TB) {
	tb.Helper()
	var ln net.Listener
	var err error
	// The port was just released; it may take a moment to be free.
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("faultproxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() { p.Kill() }

// serve accepts connections on ln until it is closed.
func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.track(c) {
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
}

// track records an open connection; false (and c closed) after Kill.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// forward connects a client to the target and copies both ways.
func (p *Proxy) forward(client net.Conn) {
	defer func() {
		client.Close()
		p.mu.Lock()
		delete(p.conns, client)
		p.ended++
		p.mu.Unlock()
	}()
	// A frozen server does not take the connection further either.
	if !p.wait() {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	defer server.Close()
	var wg sync.WaitGroup
	wg.Go(func() { p.copy(server, client, true) })
	wg.Go(func() { p.copy(client, server, false) })
	wg.Wait()
}

// copy forwards src to dst chunk by chunk, each chunk (and the end)
// waiting while the proxy is frozen; fromClient chunks may trigger
// FreezeWhen.
func (p *Proxy) copy(dst, src net.Conn, fromClient bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if fromClient {
				p.match(buf[:n])
			}
			if !p.hold() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			if !p.hold() {
				return
			}
			// Pass the end on: a half close for a clean EOF, else a close.
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				tc.CloseWrite()
			} else {
				dst.Close()
			}
			return
		}
	}
}

// match freezes the proxy if b matches FreezeWhen's function.
func (p *Proxy) match(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.freezeWhen != nil && p.freezeWhen(b) {
		p.freezeWhen = nil
		p.frozen = true
	}
}

// hold is wait for a copy with something to pass on, counted in held.
func (p *Proxy) hold() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.held++
		defer func() { p.held-- }()
	}
	for p.frozen {
		p.thawed.Wait()
	}
	return p.ln != nil
}

// wait blocks while the proxy is frozen; false once it was killed.
func (p *Proxy) wait() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.frozen {
		p.thawed.Wait()
	}
	return p.ln != nil
}
