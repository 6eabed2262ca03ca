package storefront_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storefront"
)

// With a certificate the storefront serves HTTPS: TLS 1.3 when the client
// has it, 1.2 at least; its URLs say https.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := latchtest.TLSCert(t, dir)
	sf, _ := standaloneWith(t, storefront.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	if !strings.HasPrefix(sf.URL(), "https://127.0.0.1:") || sf.PublicURL() != sf.URL() {
		t.Fatalf("URL %q, PublicURL %q", sf.URL(), sf.PublicURL())
	}
	get := func(max uint16) (*http.Response, error) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: max}}}
		defer c.CloseIdleConnections()
		res, err := c.Get(sf.URL() + "/api/products")
		if err == nil {
			res.Body.Close()
		}
		return res, err
	}
	for _, tc := range []struct {
		max, want uint16
	}{{0, tls.VersionTLS13}, {tls.VersionTLS12, tls.VersionTLS12}} {
		res, err := get(tc.max)
		if err != nil || res.StatusCode != http.StatusOK || res.TLS == nil || res.TLS.Version != tc.want {
			t.Errorf("client max %x: %v, %v", tc.max, res, err)
		}
	}
	if _, err := get(tls.VersionTLS11); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	// Plain HTTP to the TLS port gets nowhere.
	if res, err := http.Get("http://" + sf.Addr() + "/api/products"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP served")
		}
	}
}

func TestTLS_Errors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := latchtest.TLSCert(t, dir)
	for name, cfg := range map[string]storefront.Config{
		"CertOnly":  {TLSCertFile: certFile},
		"KeyOnly":   {TLSKeyFile: keyFile},
		"NoSuch":    {TLSCertFile: filepath.Join(dir, "nope.pem"), TLSKeyFile: keyFile},
		"Swapped":   {TLSCertFile: keyFile, TLSKeyFile: certFile},
		"PublicURL": {PublicURL: "shop.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Addr, cfg.LatchURL, cfg.ApplicationID, cfg.DataDir, cfg.Issuer = "127.0.0.1:0", "http://127.0.0.1:1", "app", t.TempDir(), "http://latch.test"
			if s, err := storefront.Open(context.Background(), cfg); err == nil {
				s.Close()
				t.Error("Open succeeded")
			}
		})
	}
}
