package token

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func TestSealer(t *testing.T) {
	master := bytes.Repeat([]byte{0x42}, 32)
	s, err := NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	plaintext := []byte("-----PKCS#8 private key bytes-----")
	ad := []byte("key-id-1")

	sealed, err := s.Seal(plaintext, ad)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 12+len(plaintext)+16 {
		t.Fatalf("sealed length = %d, want nonce+plaintext+tag = %d", len(sealed), 12+len(plaintext)+16)
	}
	if bytes.Contains(sealed, plaintext) {
		t.Fatal("plaintext visible in sealed output")
	}
	got, err := s.Open(sealed, ad)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plaintext) {
		t.Fatalf("Open = %q", got)
	}

	again, _ := s.Seal(plaintext, ad)
	if bytes.Equal(sealed[:12], again[:12]) || bytes.Equal(sealed, again) {
		t.Fatal("two seals share a nonce")
	}

	// Empty plaintext and nil additional data round-trip too.
	empty, _ := s.Seal(nil, nil)
	if out, err := s.Open(empty, nil); err != nil || len(out) != 0 {
		t.Fatalf("empty round trip: %q, %v", out, err)
	}

	other, _ := NewSealer(bytes.Repeat([]byte{0x43}, 32))
	fail := []struct {
		name       string
		sealer     *Sealer
		ciphertext []byte
		ad         []byte
	}{
		{"wrong additional data", s, sealed, []byte("key-id-2")},
		{"missing additional data", s, sealed, nil},
		{"wrong master key", other, sealed, ad},
		{"tampered nonce", s, flip(sealed, 0), ad},
		{"tampered ciphertext", s, flip(sealed, 12), ad},
		{"tampered tag", s, flip(sealed, len(sealed)-1), ad},
		{"truncated", s, sealed[:len(sealed)-1], ad},
		{"nonce only", s, sealed[:12], ad},
		{"shorter than the overhead", s, sealed[:27], ad},
		{"empty", s, nil, ad},
		{"appended byte", s, append(append([]byte(nil), sealed...), 0), ad},
	}
	for _, tt := range fail {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := tt.sealer.Open(tt.ciphertext, tt.ad); err == nil {
				t.Fatalf("Open = %q, want error", out)
			}
		})
	}
}

func TestNewSealerKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer(%d bytes) succeeded", n)
		}
	}
	if _, err := NewSealer(make([]byte, 32)); err != nil {
		t.Errorf("NewSealer(32 bytes): %v", err)
	}
}

// TestSealPrivateKey is the intended use: private key material sealed with
// its key id as additional data.
func TestSealPrivateKey(t *testing.T) {
	s, err := NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for alg, k := range fixedKeys(t) {
		der, err := k.MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := s.Seal(der, []byte(k.ID))
		if err != nil {
			t.Fatal(err)
		}
		opened, err := s.Open(sealed, []byte(k.ID))
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseKey(k.ID, alg, opened)
		if err != nil {
			t.Fatal(err)
		}
		if back.Thumbprint() != k.Thumbprint() {
			t.Fatalf("%s: key changed across Seal/Open", alg)
		}
	}
}

func TestRefreshTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		raw, err := NewRefreshToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 43 {
			t.Fatalf("len(%q) = %d, want 43", raw, len(raw))
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(raw)
		if err != nil || len(b) != 32 {
			t.Fatalf("%q is not 32 bytes of base64url: %v", raw, err)
		}
		if seen[raw] {
			t.Fatal("duplicate refresh token")
		}
		seen[raw] = true
	}
	key, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(key); err != nil || len(b) != 32 {
		t.Fatalf("API key %q is not 32 bytes of base64url: %v", key, err)
	}
}

func TestHashes(t *testing.T) {
	want := sha256.Sum256([]byte("abc"))
	if !bytes.Equal(HashRefreshToken("abc"), want[:]) || !bytes.Equal(HashSecret("abc"), want[:]) {
		t.Fatal("hash is not SHA-256 of the raw string")
	}
	tests := []struct {
		a, b []byte
		want bool
	}{
		{HashSecret("a"), HashSecret("a"), true},
		{HashSecret("a"), HashSecret("b"), false},
		{HashSecret("a"), HashSecret("a")[:31], false},
		{HashSecret("a"), nil, false},
		{nil, nil, false},
		{[]byte{}, []byte{}, false},
	}
	for i, tt := range tests {
		if got := EqualHash(tt.a, tt.b); got != tt.want {
			t.Errorf("%d: EqualHash = %v, want %v", i, got, tt.want)
		}
	}
}

func TestSuccessor(t *testing.T) {
	prev, _ := NewRefreshToken()
	next, _ := NewRefreshToken()
	sealed, err := SealSuccessor(prev, next)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(next)) {
		t.Fatal("successor visible in sealed output")
	}
	got, err := OpenSuccessor(prev, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got != next {
		t.Fatalf("OpenSuccessor = %q, want %q", got, next)
	}

	// What is stored (the previous token's hash) must not open it.
	other, _ := NewRefreshToken()
	for name, try := range map[string]func() (string, error){
		"wrong previous":        func() (string, error) { return OpenSuccessor(other, sealed) },
		"stored hash as secret": func() (string, error) { return OpenSuccessor(string(HashRefreshToken(prev)), sealed) },
		"hash as base64url": func() (string, error) {
			return OpenSuccessor(base64.RawURLEncoding.EncodeToString(HashRefreshToken(prev)), sealed)
		},
		"successor itself": func() (string, error) { return OpenSuccessor(next, sealed) },
		"empty previous":   func() (string, error) { return OpenSuccessor("", sealed) },
		"tampered":         func() (string, error) { return OpenSuccessor(prev, flip(sealed, len(sealed)/2)) },
		"truncated":        func() (string, error) { return OpenSuccessor(prev, sealed[:20]) },
		"empty":            func() (string, error) { return OpenSuccessor(prev, nil) },
	} {
		if out, err := try(); err == nil {
			t.Errorf("%s: OpenSuccessor = %q, want error", name, out)
		}
	}
	if _, err := SealSuccessor("", next); err == nil {
		t.Error("SealSuccessor with empty previous succeeded")
	}

	// The derived key is not the stored hash.
	key, err := hkdf.Key(sha256.New, []byte(prev), nil, successorInfo, 32)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(key, HashRefreshToken(prev)) {
		t.Fatal("successor key equals the stored hash")
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x80
	return c
}

func TestSealerMAC(t *testing.T) {
	s, err := NewSealer(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSealer(bytes.Repeat([]byte{0x43}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a := s.MAC("login-id", []byte("ana@example.org"))
	if len(a) != sha256.Size {
		t.Fatalf("MAC length %d, want %d", len(a), sha256.Size)
	}
	if !bytes.Equal(a, s.MAC("login-id", []byte("ana@example.org"))) {
		t.Error("MAC is not deterministic")
	}
	for name, b := range map[string][]byte{
		"other data":       s.MAC("login-id", []byte("ana@example.com")),
		"other label":      s.MAC("login-idx", []byte("ana@example.org")),
		"label/data split": s.MAC("login-id\x00ana", []byte("@example.org")),
		"other master key": other.MAC("login-id", []byte("ana@example.org")),
	} {
		if bytes.Equal(a, b) {
			t.Errorf("%s: same MAC", name)
		}
	}
	// Not the plain hash: whoever reads the database cannot test guesses.
	plain := sha256.Sum256([]byte("ana@example.org"))
	if bytes.Equal(a, plain[:]) {
		t.Error("MAC is the unkeyed SHA-256")
	}
}
