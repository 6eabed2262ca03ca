package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/latchtest"
)

// TestServeDPoPNonces: --dpop-nonces and LATCH_DPOP_NONCES turn server
// nonces on; without them a proof needs none; a LATCH_DPOP_NONCES that
// is no boolean is refused.
func TestServeDPoPNonces(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		name   string
		env    string
		args   []string
		nonces bool
	}{
		{"off", "", nil, false},
		{"flag", "", []string{"--dpop-nonces"}, true},
		{"environment", "true", nil, true},
		{"flag over environment", "true", []string{"--dpop-nonces=false"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LATCH_DPOP_NONCES", tc.env)
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr latchtest.LogBuffer
			done := make(chan error, 1)
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-format", "json"}, tc.args...)
			go func() { done <- run(ctx, args, nil, &stdout, &stderr) }()
			defer func() {
				cancel()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Error("latch serve did not shut down")
				}
			}()
			addr := listenAddr(t, &stderr, done)
			key := latchtest.BootstrapKey(t, dir)
			k, err := dpop.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + addr
			proof, err := dpop.NewProof(k, "POST", base+"/api/login", dpop.ProofOptions{})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(api.LoginRequest{LoginID: "nobody@example.org", Password: testPassword})
			req, _ := http.NewRequest("POST", base+"/api/login", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", key)
			req.Header.Set(dpop.Header, proof)
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var oe api.OAuthError
			_ = json.NewDecoder(resp.Body).Decode(&oe)
			if tc.nonces {
				if resp.StatusCode != 400 || oe.Code != api.OAuthUseDPoPNonce || resp.Header.Get(dpop.NonceHeader) == "" {
					t.Errorf("a proof without a nonce: %d %q, DPoP-Nonce %q; want 400 use_dpop_nonce with a nonce",
						resp.StatusCode, oe.Code, resp.Header.Get(dpop.NonceHeader))
				}
			} else if resp.StatusCode != 404 || resp.Header.Get(dpop.NonceHeader) != "" {
				// The proof passed; the credentials did not.
				t.Errorf("a proof with nonces off: %d %q, DPoP-Nonce %q; want 404 (an unknown user)", resp.StatusCode, oe.Code, resp.Header.Get(dpop.NonceHeader))
			}
		})
	}

	t.Run("not a boolean", func(t *testing.T) {
		t.Setenv("LATCH_DPOP_NONCES", "maybe")
		err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, nil, &latchtest.LogBuffer{}, &latchtest.LogBuffer{})
		if err == nil || !strings.Contains(err.Error(), "LATCH_DPOP_NONCES") {
			t.Errorf("latch serve with LATCH_DPOP_NONCES=maybe: %v, want an error naming it", err)
		}
	})
}
