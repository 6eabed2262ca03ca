package latchtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	c := latchtest.NewClock(start)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("after Advance: %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after Set: %v", got)
	}
}

// TestStart: a started Latch is set up (bootstrap key, application
// Default), runs on the injected clock, logs into Logs, and stops once.
func TestStart(t *testing.T) {
	clock := latchtest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	l := latchtest.Start(t, latchtest.Options{Clock: clock})
	if l.APIKey == "" || l.APIKey != latchtest.BootstrapKey(t, l.Dir) {
		t.Fatalf("APIKey %q, want the bootstrap key of %s", l.APIKey, l.Dir)
	}
	app := l.DefaultApplication(t)
	l.Register(t, app.ID, "ana@example.org")
	login := l.Login(t, app.ID, "ana@example.org")
	if want := clock.Now().Add(15 * time.Minute).UnixMilli(); login.TokenExpirationInstant != want {
		t.Errorf("tokenExpirationInstant %d, want %d (by the injected clock)", login.TokenExpirationInstant, want)
	}
	if code, b := latchtest.Call(t, l.URL, "Bearer "+login.Token, "GET", "/api/jwt/validate", nil); code != http.StatusOK {
		t.Errorf("validate: %d %s", code, b)
	}
	if strings.Contains(l.Logs.String(), latchtest.Password) || !strings.Contains(l.Logs.String(), "level=") {
		t.Errorf("log:\n%s", l.Logs)
	}
	l.Close()
	l.Stop() // does nothing after Close
	if res, err := http.Get(l.URL + "/api/status"); err == nil {
		res.Body.Close()
		t.Error("Latch still serves after Close")
	}
}

func TestOpenFails(t *testing.T) {
	l, err := latchtest.Open(t, latchtest.Options{Config: server.Config{Addr: "127.0.0.1:-1"}})
	if err == nil {
		l.Close()
		t.Fatal("Open on a bad address succeeded")
	}
}

func TestTLSCert(t *testing.T) {
	certFile, keyFile, pool := latchtest.TLSCert(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}
