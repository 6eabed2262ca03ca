// Package jwstest holds what the tests of jws's importers, guard and dpop,
// share: the check that a package depends on nothing but the standard
// library and the few packages it may (CheckDeps), and the bare ES256
// verification their benchmarks measure a verifier against (RawES256).
// Only tests import it.
package jwstest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/jws"
)

// CheckDeps fails t unless pkg and every package it depends on, built
// without cgo, is pkg itself, in the standard library or allowed; none is
// banned, standard or not; and none has cgo files. A path in allowed or
// banned matches itself, or, ending in "/...", itself and every package
// below it. CheckDeps skips t when the go command is not on PATH.
func CheckDeps(t *testing.T, pkg string, allowed, banned []string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	// CGO_ENABLED=0: with cgo on, package net (of net/http, for
	// http.Header) brings in runtime/cgo for its DNS resolver; what must
	// hold is that pkg builds without it, and has no cgo of its own.
	cmd := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}`, pkg)
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	list, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, list)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("go list: %q", line)
		}
		path, std, cgoFiles := fields[0], fields[1], fields[2]
		n++
		if path == "C" || path == "runtime/cgo" || cgoFiles != "0" {
			t.Errorf("%s needs cgo: %s", pkg, line)
		}
		if matchAny(path, banned) {
			t.Errorf("%s depends on %s, which is banned", pkg, path)
		}
		if std != "true" && path != pkg && !matchAny(path, allowed) {
			t.Errorf("%s depends on %s, which is not on the allowed list", pkg, path)
		}
	}
	// Even errors and fmt bring in more than this: fewer means go list
	// did not list what it was asked to.
	if n < 10 {
		t.Fatalf("go list -deps listed only %d packages:\n%s", n, list)
	}
}

// matchAny reports whether path matches one of patterns (see CheckDeps).
func matchAny(path string, patterns []string) bool {
	for _, p := range patterns {
		if prefix, tree := strings.CutSuffix(p, "/..."); tree {
			if path == prefix || strings.HasPrefix(path, prefix+"/") {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}

// RawES256 is the floor a verifier's cost is measured against: one ECDSA
// P-256 verification of a JWS's signing input, hash included, with
// nothing parsed and the signature already in the ASN.1 form
// crypto/ecdsa reads (ecdsa.Verify would build it from two big.Ints on
// each call).
type RawES256 struct {
	pub   *ecdsa.PublicKey
	input []byte
	der   []byte
}

// NewRawES256 takes compact, an ES256 JWS signed with the key of pub,
// apart; it fails tb unless its signature is one of 64 bytes that
// verifies.
func NewRawES256(tb testing.TB, pub *ecdsa.PublicKey, compact string) *RawES256 {
	tb.Helper()
	j, err := jws.Parse(compact)
	if err != nil {
		tb.Fatalf("not a JWS: %v", err)
	}
	if len(j.Signature) != 64 {
		tb.Fatalf("signature of %d bytes, not ES256's 64", len(j.Signature))
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(j.Signature[:32]), new(big.Int).SetBytes(j.Signature[32:]),
	})
	if err != nil {
		tb.Fatal(err)
	}
	v := &RawES256{pub: pub, input: []byte(j.SigningInput), der: der}
	if !v.Verify() {
		tb.Fatal("the signature does not verify with the key")
	}
	return v
}

// Verify verifies the signature: the work no verifier can skip.
func (v *RawES256) Verify() bool {
	h := sha256.Sum256(v.input)
	return ecdsa.VerifyASN1(v.pub, h[:], v.der)
}

// Ratio measures verify's cost over Verify's, robust to a busy machine:
// many short rounds, each timing n calls of verify, 2n of Verify and n
// of verify again (an A-B-B-A order, so that a machine getting busier or
// quieter within a round slows both alike), and the median of the
// rounds' ratios, so that the rounds another process's time slice fell
// into do not count. It fails b if either fails.
func (v *RawES256) Ratio(b *testing.B, verify func() error) float64 {
	b.Helper()
	const rounds, n = 301, 4
	timeVerify := func() time.Duration {
		start := time.Now()
		for range n {
			if err := verify(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	timeRaw := func() time.Duration {
		start := time.Now()
		for range 2 * n {
			if !v.Verify() {
				b.Fatal("raw verify failed")
			}
		}
		return time.Since(start)
	}
	ratios := make([]float64, 0, rounds)
	for range rounds {
		a := timeVerify()
		raw := timeRaw()
		a += timeVerify()
		ratios = append(ratios, float64(a)/float64(raw))
	}
	slices.Sort(ratios)
	return ratios[rounds/2]
}
