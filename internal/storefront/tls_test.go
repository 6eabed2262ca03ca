package storefront_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/storefront"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// to dir and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "storefront test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With a certificate the storefront serves HTTPS: TLS 1.3 when the client
// has it, 1.2 at least; its URLs say https.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
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
	certFile, keyFile, _ := selfSigned(t, dir)
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

// standaloneWith starts a storefront with cfg in front of no Latch, with
// the issuer given so that it looks nothing up.
func standaloneWith(t *testing.T, cfg storefront.Config) (*storefront.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Addr, cfg.LatchURL, cfg.ApplicationID = "127.0.0.1:0", "http://127.0.0.1:1", "6b1f0e3a-2c4d-4e8f-9a1b-3c5d7e9f1a2b"
	cfg.APIKey, cfg.DataDir, cfg.Issuer = "the-api-key", t.TempDir(), "http://latch.test"
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sf, err := storefront.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	go sf.Serve()
	t.Cleanup(func() {
		sf.Close()
		if t.Failed() {
			t.Logf("storefront log:\n%s", logs)
		}
	})
	return sf, logs
}
