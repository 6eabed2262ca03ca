package password

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// knownAnswers are hashes made outside this package, each with where it came
// from. Every row is checked with the right password (want true) and a wrong
// one (want false).
var knownAnswers = []struct {
	name   string
	plain  string
	stored Stored
}{
	// argon2id: the phc-winner-argon2 reference implementation's src/test.c
	// (the same lines are repeated in libar2's test.c).
	{"argon2id ref m=256 p=1", "password", Stored{Scheme: "argon2id",
		Hash: "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"}},
	{"argon2id ref m=256 p=2", "password", Stored{Scheme: "argon2id",
		Hash: "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"}},
	{"argon2id ref m=65536", "password", Stored{Scheme: "argon2id",
		Hash: "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"}},

	// salted-pbkdf2-hmac-sha256 from FusionAuth's own test vectors:
	// fusionauth-example-password-encryptor,
	// src/test/java/.../ExamplePBDKF2HMACSHA256Keylength512PasswordHasherTest.java
	// ("password", factor 27500, a 512-bit key). PBKDF2's output is
	// T1 || T2 || ..., so the first 32 bytes of that 512-bit key are the
	// 256-bit key FusionAuth's salted-pbkdf2-hmac-sha256 stores; the hashes
	// below are those 32 bytes re-encoded in base64.
	{"pbkdf2 FusionAuth vector 1", "password", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 27500,
		Salt: "jVqbuA9k2Mlo37OWXBMKLw==", Hash: "LjFqvhPuUHJdQvWIwVQfqxjeujAWqG/DVQRFoOv62/c="}},
	{"pbkdf2 FusionAuth vector 2", "password", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 27500,
		Salt: "XnYZtiSCmFE5HF/ZplNCow==", Hash: "OFb32+cOm0sgtEcmNiGC83A27Sk1gb0fynv0RUXBfFU="}},
	// Computed once with OpenJDK 17 exactly as FusionAuth's pseudocode says:
	// SecretKeyFactory "PBKDF2WithHmacSHA256", new PBEKeySpec(pw.toCharArray(),
	// Base64.getDecoder().decode(salt), factor, 256), Base64 of the key; and
	// cross-checked with python3 hashlib.pbkdf2_hmac("sha256", pw.encode(),
	// b64decode(salt), factor, 32).
	{"pbkdf2 default factor 24000", "correct horse battery staple", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 24000,
		Salt: "c2FsdHNhbHRzYWx0c2FsdA==", Hash: "pUNFJAEqvWbGay1Gd5nq4uhfmNAGSXGNYVaZq+sQP4Y="}},
	{"pbkdf2 non-ASCII password", "p\u00e4ssw\u00f6rd \u2713", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1,
		Salt: "AAECAwQFBgcICQoLDA0ODw==", Hash: "AjzDOdMSq5EB47ul2JxeyJ9Wv7Ge4csesbnwX58d1iQ="}},
	{"pbkdf2 unpadded salt", "password", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1000,
		Salt: "bHVrZQ", Hash: "oeTjq6QPyReHKcZokwQHiuCN0aWpbUD9ujfZblqoacg="}},

	// salted-sha256: computed once with OpenJDK 17 following FusionAuth's
	// pseudocode (MessageDigest "SHA-256" applied factor times to
	// pw.getBytes(UTF_8) || Base64.getDecoder().decode(salt), then Base64),
	// and cross-checked with python3 hashlib.sha256 in the same loop.
	// The first salt is the one in FusionAuth's ExampleSaltedSHA512PasswordEncryptorTest.
	{"salted-sha256 factor 1", "password", Stored{Scheme: "salted-sha256", Factor: 1,
		Salt: "4MTVxbvk8swI0ys2Lf4saeR3swRvn0f2", Hash: "wLAU6Ma/KdGKjOhvQaKD6G3NSlpzDUxj8iJjA6FdjsA="}},
	{"salted-sha256 factor 20000", "password", Stored{Scheme: "salted-sha256", Factor: 20000,
		Salt: "c2FsdHNhbHRzYWx0c2FsdA==", Hash: "EdOytni3/7NamEpnru6ai7f7eeAVBXievUELs/q2B38="}},
	{"salted-sha256 empty salt non-ASCII", "p\u00e4ssw\u00f6rd \u2713", Stored{Scheme: "salted-sha256", Factor: 3,
		Salt: "", Hash: "yNswGdjYevtPNnOo8SDxsOUAIcNNaG9d/HZ6gWa0VyM="}},

	// bcrypt: "$2y$10$wisIVhmjWjm/lkujDJVAXuuYDXiGU/c9HK3mMzqFbfk45PXA527ui"
	// for "test", from FusionAuth/fusionauth-issues#2495, split as the Import
	// Users docs say (confirmed with libxcrypt via perl crypt()).
	{"bcrypt issue 2495", "test", Stored{Scheme: "bcrypt", Factor: 10,
		Salt: "wisIVhmjWjm/lkujDJVAXu", Hash: "uYDXiGU/c9HK3mMzqFbfk45PXA527ui"}},
	// Computed once with libxcrypt (perl crypt()), then split the same way:
	// "$2b$05$Ro0CUfOqk6cXEKf3dyaM7OQRA/Wr35kvmC80TtU8yxrltIh0JVGT2" for the
	// UTF-8 bytes of "pässwörd ✓", "$2a$04$Ro0CUfOqk6cXEKf3dyaM7OYRHXi1ra5lHU2sBmG5pcZrSzea72ahC"
	// for "", and "$2a$04$Ro0CUfOqk6cXEKf3dyaM7O6AazhCRwI.dLCUewnl3mmqrshUnWUoW"
	// for 72 × "a" followed by "X" (and by "Y": bytes past 72 do not count).
	{"bcrypt non-ASCII", "p\u00e4ssw\u00f6rd \u2713", Stored{Scheme: "bcrypt", Factor: 5,
		Salt: "Ro0CUfOqk6cXEKf3dyaM7O", Hash: "QRA/Wr35kvmC80TtU8yxrltIh0JVGT2"}},
	{"bcrypt empty password", "", Stored{Scheme: "bcrypt", Factor: 4,
		Salt: "Ro0CUfOqk6cXEKf3dyaM7O", Hash: "YRHXi1ra5lHU2sBmG5pcZrSzea72ahC"}},
	{"bcrypt 73 bytes", strings.Repeat("a", 72) + "X", Stored{Scheme: "bcrypt", Factor: 4,
		Salt: "Ro0CUfOqk6cXEKf3dyaM7O", Hash: "6AazhCRwI.dLCUewnl3mmqrshUnWUoW"}},
	{"bcrypt 73 bytes, other 73rd", strings.Repeat("a", 72) + "Y", Stored{Scheme: "bcrypt", Factor: 4,
		Salt: "Ro0CUfOqk6cXEKf3dyaM7O", Hash: "6AazhCRwI.dLCUewnl3mmqrshUnWUoW"}},
}

// knownAnswer returns the stored hash and plain text of the named row.
func knownAnswer(name string) (string, Stored) {
	for _, tc := range knownAnswers {
		if tc.name == name {
			return tc.plain, tc.stored
		}
	}
	panic("no known answer " + name)
}

func stored(name string) Stored {
	_, s := knownAnswer(name)
	return s
}

func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range knownAnswers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateImport(tc.stored); err != nil {
				t.Fatalf("ValidateImport: %v", err)
			}
			for _, c := range []struct {
				plain string
				want  bool
			}{
				{tc.plain, true},
				{"!" + tc.plain, false}, // a prefix: bcrypt ignores bytes past 72
				{strings.ToUpper(tc.plain) + "x", false},
			} {
				got, err := Verify(c.plain, tc.stored)
				if err != nil {
					t.Fatalf("Verify(%q): %v", c.plain, err)
				}
				if got != c.want {
					t.Errorf("Verify(%q) = %v, want %v", c.plain, got, c.want)
				}
			}
		})
	}
}

// TestFusionAuthDocBcryptExample checks the bcrypt example in FusionAuth's
// Import Users docs (apis/users/import.mdx, "Bcrypt"), split as they say:
// "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy" is factor
// 10, salt "N9qo8uLOickgx2ZMRZoMye", password "IjZAgcfl7p92ldGxad68LJZdL17lhWy".
// The docs do not give its plain text, so only the shape is checked.
func TestFusionAuthDocBcryptExample(t *testing.T) {
	t.Parallel()
	s := Stored{Scheme: "bcrypt", Factor: 10, Salt: "N9qo8uLOickgx2ZMRZoMye", Hash: "IjZAgcfl7p92ldGxad68LJZdL17lhWy"}
	if err := ValidateImport(s); err != nil {
		t.Fatalf("ValidateImport: %v", err)
	}
	b, err := parseBcrypt(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b.mcf), "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"; got != want {
		t.Errorf("rebuilt %q, want %q", got, want)
	}
	if ok, err := Verify("password", s); ok || err != nil {
		t.Errorf("Verify(password) = %v, %v; want false, nil", ok, err)
	}
}

var phcDefault = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	t.Parallel()
	for _, plain := range []string{"correct horse battery staple", "", "p\u00e4ssw\u00f6rd \u2713", strings.Repeat("x", 1000)} {
		t.Run(fmt.Sprintf("len%d", len(plain)), func(t *testing.T) {
			t.Parallel()
			s, err := Hash(plain)
			if err != nil {
				t.Fatal(err)
			}
			if s.Scheme != Default || s.Factor != 0 || s.Salt != "" {
				t.Errorf("Hash = %+v, want scheme %q, factor 0, empty salt", s, Default)
			}
			if !phcDefault.MatchString(s.Hash) {
				t.Errorf("Hash = %q, want the default PHC form", s.Hash)
			}
			if err := ValidateImport(s); err != nil {
				t.Errorf("ValidateImport: %v", err)
			}
			if NeedsRehash(s) {
				t.Error("NeedsRehash of a fresh hash = true")
			}
			if ok, err := Verify(plain, s); !ok || err != nil {
				t.Errorf("Verify(right) = %v, %v; want true, nil", ok, err)
			}
			if ok, err := Verify(plain+"\x00", s); ok || err != nil {
				t.Errorf("Verify(wrong) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	t.Parallel()
	a, err := Hash("same")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash("same")
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash == b.Hash {
		t.Errorf("two hashes of the same password are equal: %q", a.Hash)
	}
}

// phc builds an argon2id PHC string with the given parameters and a salt and
// key of the given lengths (the key is not derived from anything).
func phc(m, t uint32, p uint8, saltLen, keyLen int) string {
	return argon2idHash{
		params: argon2Params{memory: m, time: t, threads: p},
		salt:   make([]byte, saltLen),
		key:    make([]byte, keyLen),
	}.encode()
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    Stored
		want bool
	}{
		{"current argon2id", Stored{Scheme: "argon2id", Hash: phc(19456, 2, 1, 16, 32)}, false},
		{"more memory", Stored{Scheme: "argon2id", Hash: phc(65536, 2, 1, 16, 32)}, false},
		{"more passes", Stored{Scheme: "argon2id", Hash: phc(19456, 3, 1, 16, 32)}, false},
		{"more lanes", Stored{Scheme: "argon2id", Hash: phc(19456, 2, 4, 16, 32)}, false},
		{"longer salt and key", Stored{Scheme: "argon2id", Hash: phc(19456, 2, 1, 32, 64)}, false},
		{"less memory", Stored{Scheme: "argon2id", Hash: phc(19455, 2, 1, 16, 32)}, true},
		{"fewer passes", Stored{Scheme: "argon2id", Hash: phc(65536, 1, 1, 16, 32)}, true},
		{"short salt", Stored{Scheme: "argon2id", Hash: phc(19456, 2, 1, 8, 32)}, true},
		{"short key", Stored{Scheme: "argon2id", Hash: phc(19456, 2, 1, 16, 16)}, true},
		{"reference vector", stored("argon2id ref m=256 p=1"), true},
		{"malformed argon2id", Stored{Scheme: "argon2id", Hash: "garbage"}, true},
		{"hostile argon2id", Stored{Scheme: "argon2id", Hash: phc(1<<21, 2, 1, 16, 32)}, true},
		{"pbkdf2", stored("pbkdf2 FusionAuth vector 1"), true},
		{"bcrypt", Stored{Scheme: "bcrypt", Factor: 16, Salt: "N9qo8uLOickgx2ZMRZoMye", Hash: "IjZAgcfl7p92ldGxad68LJZdL17lhWy"}, true},
		{"salted-sha256", Stored{Scheme: "salted-sha256", Factor: 1, Salt: "", Hash: "yNswGdjYevtPNnOo8SDxsOUAIcNNaG9d/HZ6gWa0VyM="}, true},
		{"unknown", Stored{Scheme: "salted-md5"}, true},
		{"empty", Stored{}, true},
	}
	for _, tc := range tests {
		if got := NeedsRehash(tc.s); got != tc.want {
			t.Errorf("%s: NeedsRehash = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestHostileArgon2idRefused checks that parameters a stored hash could use
// to exhaust the server are refused before any work is done.
func TestHostileArgon2idRefused(t *testing.T) {
	t.Parallel()
	salt, key := "c29tZXNhbHRzb21lc2FsdA", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	tests := []struct {
		name, params, salt, key, wantErr string
	}{
		{"memory over 1 GiB", "m=1048577,t=2,p=1", salt, key, "m=1048577 is out of the accepted range"},
		{"memory 4 GiB", "m=4194304,t=1,p=1", salt, key, "out of the accepted range"},
		{"memory overflowing uint32", "m=4294967296,t=1,p=1", salt, key, "out of the accepted range"},
		{"memory huge", "m=99999999999999999999,t=1,p=1", salt, key, "not a canonical decimal"},
		{"passes over 10", "m=19456,t=11,p=1", salt, key, "t=11 is out of the accepted range"},
		{"passes 0", "m=19456,t=0,p=1", salt, key, "t=0 is out of the accepted range"},
		{"lanes over 16", "m=19456,t=2,p=17", salt, key, "p=17 is out of the accepted range"},
		{"lanes 255", "m=19456,t=2,p=255", salt, key, "out of the accepted range"},
		{"lanes 0", "m=19456,t=2,p=0", salt, key, "p=0 is out of the accepted range"},
		{"memory below 8 per lane", "m=63,t=2,p=8", salt, key, "m=63 is out of the accepted range [64,"},
		{"negative", "m=-1,t=2,p=1", salt, key, "not a canonical decimal"},
		{"plus sign", "m=+19456,t=2,p=1", salt, key, "not a canonical decimal"},
		{"leading zero", "m=019456,t=2,p=1", salt, key, "not a canonical decimal"},
		{"key 129 bytes", "m=19456,t=2,p=1", salt, strings.Repeat("A", 172), "key is 129 bytes, want 16 to 128"},
		{"salt 65 bytes", "m=19456,t=2,p=1", strings.Repeat("A", 87), key, "salt is 65 bytes, want 8 to 64"},
		{"key 1 MiB", "m=19456,t=2,p=1", salt, strings.Repeat("A", 1<<20), "longer than any accepted PHC string"},
		{"salt 1 MiB", "m=19456,t=2,p=1", strings.Repeat("A", 1<<20), key, "longer than any accepted PHC string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := Stored{Scheme: "argon2id", Hash: "$argon2id$v=19$" + tc.params + "$" + tc.salt + "$" + tc.key}
			start := time.Now()
			ok, err := Verify("password", s)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("refusing took %v; the work should not have started", elapsed)
			}
			if ok || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Verify = %v, %v; want false and an error containing %q", ok, err, tc.wantErr)
			}
			if err := ValidateImport(s); err == nil {
				t.Error("ValidateImport accepted it")
			}
		})
	}
}

// TestLimitsAccepted checks the edges of the accepted ranges parse.
func TestLimitsAccepted(t *testing.T) {
	t.Parallel()
	for _, s := range []Stored{
		{Scheme: "argon2id", Hash: phc(1<<20, 10, 16, 64, 128)},
		{Scheme: "argon2id", Hash: "$argon2id$v=19$m=1048576,t=10,p=16$" + strings.Repeat("A", 86) + "$" + strings.Repeat("A", 171)},
		{Scheme: "argon2id", Hash: phc(8, 1, 1, 8, 16)},
		{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 10_000_000, Salt: "AA==", Hash: strings.Repeat("A", 43) + "="},
		{Scheme: "salted-sha256", Factor: 10_000_000, Salt: "", Hash: strings.Repeat("A", 43) + "="},
		{Scheme: "bcrypt", Factor: 4, Salt: "N9qo8uLOickgx2ZMRZoMye", Hash: "IjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{Scheme: "bcrypt", Factor: 16, Salt: "N9qo8uLOickgx2ZMRZoMye", Hash: "IjZAgcfl7p92ldGxad68LJZdL17lhWy"},
	} {
		if err := ValidateImport(s); err != nil {
			t.Errorf("ValidateImport(%+v): %v", s, err)
		}
	}
}

func TestValidateImport(t *testing.T) {
	t.Parallel()
	const (
		goodB64Salt = "c2FsdHNhbHRzYWx0c2FsdA=="
		good32      = "pUNFJAEqvWbGay1Gd5nq4uhfmNAGSXGNYVaZq+sQP4Y="
		bcSalt      = "N9qo8uLOickgx2ZMRZoMye"
		bcHash      = "IjZAgcfl7p92ldGxad68LJZdL17lhWy"
	)
	current := phc(19456, 2, 1, 16, 32)
	tests := []struct {
		name    string
		s       Stored
		wantErr string // "" means valid
	}{
		// Valid.
		{"argon2id", Stored{Scheme: "argon2id", Hash: current}, ""},
		{"pbkdf2", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 24000, Salt: goodB64Salt, Hash: good32}, ""},
		{"pbkdf2 unpadded", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: "bHVrZQ", Hash: strings.TrimSuffix(good32, "=")}, ""},
		{"bcrypt", Stored{Scheme: "bcrypt", Factor: 10, Salt: bcSalt, Hash: bcHash}, ""},
		{"salted-sha256", Stored{Scheme: "salted-sha256", Factor: 20000, Salt: goodB64Salt, Hash: good32}, ""},
		{"salted-sha256 empty salt", Stored{Scheme: "salted-sha256", Factor: 1, Salt: "", Hash: good32}, ""},

		// Scheme.
		{"unknown scheme", Stored{Scheme: "salted-md5", Factor: 1, Hash: good32}, "unknown encryption scheme \"salted-md5\""},
		{"empty scheme", Stored{}, "unknown encryption scheme \"\""},
		{"scheme case", Stored{Scheme: "BCRYPT", Factor: 10, Salt: bcSalt, Hash: bcHash}, "unknown encryption scheme"},

		// argon2id.
		{"argon2id factor", Stored{Scheme: "argon2id", Factor: 1, Hash: current}, "factor must be 0"},
		{"argon2id salt", Stored{Scheme: "argon2id", Salt: "c29tZXNhbHQ", Hash: current}, "salt must be empty"},
		{"argon2id empty", Stored{Scheme: "argon2id"}, "is not a PHC string"},
		{"argon2i", Stored{Scheme: "argon2id", Hash: strings.Replace(current, "argon2id", "argon2i", 1)}, "algorithm is \"argon2i\""},
		{"argon2id v=16", Stored{Scheme: "argon2id", Hash: strings.Replace(current, "v=19", "v=16", 1)}, "version \"v=16\""},
		{"argon2id no version", Stored{Scheme: "argon2id", Hash: "$argon2id$m=19456,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"}, "is not a PHC string"},
		{"argon2id params order", Stored{Scheme: "argon2id", Hash: strings.Replace(current, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1)}, "want m=<number>"},
		{"argon2id extra param", Stored{Scheme: "argon2id", Hash: strings.Replace(current, "p=1", "p=1,keyid=x", 1)}, "must be exactly"},
		{"argon2id padded salt", Stored{Scheme: "argon2id", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"}, "salt is not unpadded standard base64"},
		{"argon2id url-safe key", Stored{Scheme: "argon2id", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR_uIPnA4rEsF5h7TKyQwu9U1bMCHGi_4"}, "key is not unpadded standard base64"},
		{"argon2id newline", Stored{Scheme: "argon2id", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c29tZX\nNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"}, "line break"},
		{"argon2id short salt", Stored{Scheme: "argon2id", Hash: phc(19456, 2, 1, 7, 32)}, "salt is 7 bytes"},
		{"argon2id short key", Stored{Scheme: "argon2id", Hash: phc(19456, 2, 1, 16, 15)}, "key is 15 bytes"},
		{"argon2id trailing $", Stored{Scheme: "argon2id", Hash: current + "$"}, "is not a PHC string"},

		// salted-pbkdf2-hmac-sha256.
		{"pbkdf2 factor 0", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 0, Salt: goodB64Salt, Hash: good32}, "factor 0 is out of the accepted range [1, 10000000]"},
		{"pbkdf2 factor negative", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: -5, Salt: goodB64Salt, Hash: good32}, "factor -5"},
		{"pbkdf2 factor huge", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 10_000_001, Salt: goodB64Salt, Hash: good32}, "factor 10000001"},
		{"pbkdf2 empty salt", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: "", Hash: good32}, "salt is empty"},
		{"pbkdf2 salt not base64", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: "not base64!", Hash: good32}, "salt is not valid standard base64"},
		{"pbkdf2 salt leading space", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: " dGhpcy5pcy5teS5zYWx0", Hash: good32}, "salt is not valid standard base64"},
		{"pbkdf2 salt url-safe", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: "ab-_", Hash: good32}, "salt is not valid standard base64"},
		{"pbkdf2 salt bad padding", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: "bHVrZQ=", Hash: good32}, "salt is not valid standard base64"},
		{"pbkdf2 salt newline", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: "bHVr\nZQ==", Hash: good32}, "line break"},
		{"pbkdf2 hash hex", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: goodB64Salt, Hash: "a53c4524012abd66c66b2d467799eae2e85f98d00649718d615699abeb103f86"}, "hash decodes to 48 bytes, want 32"},
		{"pbkdf2 hash 512-bit", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 27500, Salt: "jVqbuA9k2Mlo37OWXBMKLw==",
			Hash: "LjFqvhPuUHJdQvWIwVQfqxjeujAWqG/DVQRFoOv62/cTznl9ob4jwWwY6i1RrwGviu5iNPU5VIp03SxDyetyfw=="}, "hash decodes to 64 bytes, want 32"},
		{"pbkdf2 empty hash", Stored{Scheme: "salted-pbkdf2-hmac-sha256", Factor: 1, Salt: goodB64Salt}, "hash decodes to 0 bytes"},

		// bcrypt.
		{"bcrypt whole MCF in hash", Stored{Scheme: "bcrypt", Factor: 10, Salt: "", Hash: "$2a$10$" + bcSalt + bcHash}, "whole modular-crypt string"},
		{"bcrypt whole MCF no factor", Stored{Scheme: "bcrypt", Hash: "$2y$10$" + bcSalt + bcHash}, "whole modular-crypt string"},
		{"bcrypt salt and hash together", Stored{Scheme: "bcrypt", Factor: 10, Salt: "", Hash: bcSalt + bcHash}, "salt is 0 characters, want 22"},
		{"bcrypt factor 3", Stored{Scheme: "bcrypt", Factor: 3, Salt: bcSalt, Hash: bcHash}, "factor 3 is out of the accepted range [4, 16]"},
		{"bcrypt factor 17", Stored{Scheme: "bcrypt", Factor: 17, Salt: bcSalt, Hash: bcHash}, "factor 17"},
		{"bcrypt factor 31", Stored{Scheme: "bcrypt", Factor: 31, Salt: bcSalt, Hash: bcHash}, "factor 31"},
		{"bcrypt salt std base64", Stored{Scheme: "bcrypt", Factor: 10, Salt: "N9qo8uLOickgx2ZMRZoMy+", Hash: bcHash}, "salt has a character at offset 21 outside bcrypt's base64 alphabet"},
		{"bcrypt salt padded", Stored{Scheme: "bcrypt", Factor: 10, Salt: bcSalt + "==", Hash: bcHash}, "salt is 24 characters"},
		{"bcrypt hash short", Stored{Scheme: "bcrypt", Factor: 10, Salt: bcSalt, Hash: bcHash[:30]}, "hash is 30 characters, want 31"},
		{"bcrypt hash non-ASCII", Stored{Scheme: "bcrypt", Factor: 10, Salt: bcSalt, Hash: "\u00e9" + bcHash[2:]}, "outside bcrypt's base64 alphabet"},

		// salted-sha256.
		{"sha256 factor 0", Stored{Scheme: "salted-sha256", Factor: 0, Salt: goodB64Salt, Hash: good32}, "factor 0 is out of the accepted range [1, 10000000]"},
		{"sha256 factor huge", Stored{Scheme: "salted-sha256", Factor: 1 << 40, Salt: goodB64Salt, Hash: good32}, "out of the accepted range"},
		{"sha256 salt not base64", Stored{Scheme: "salted-sha256", Factor: 1, Salt: "%%%", Hash: good32}, "salt is not valid standard base64"},
		{"sha256 hash hex", Stored{Scheme: "salted-sha256", Factor: 1, Salt: "", Hash: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}, "hash decodes to 48 bytes, want 32"},
		{"sha256 hash short", Stored{Scheme: "salted-sha256", Factor: 1, Salt: "", Hash: "AAAA"}, "hash decodes to 3 bytes"},
	}
	// Verify ignores the argon2id fields that only ValidateImport checks.
	importOnly := map[string]bool{"argon2id factor": true, "argon2id salt": true}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateImport(tc.s)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ValidateImport: %v", err)
			case tc.wantErr == "":
				return
			case err == nil:
				t.Fatalf("ValidateImport accepted it; want an error containing %q", tc.wantErr)
			case !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("ValidateImport = %q; want it to contain %q", err, tc.wantErr)
			}
			// Verify refuses what ValidateImport refuses, with no panic.
			ok, verr := Verify("password", tc.s)
			if importOnly[tc.name] {
				if verr != nil {
					t.Errorf("Verify: %v; want the unused fields ignored", verr)
				}
				return
			}
			if ok || verr == nil {
				t.Errorf("Verify = %v, %v; want false and an error", ok, verr)
			}
			unknown := strings.Contains(tc.wantErr, "unknown encryption scheme")
			if got := errors.Is(err, ErrUnknownScheme); got != unknown {
				t.Errorf("errors.Is(ValidateImport, ErrUnknownScheme) = %v, want %v", got, unknown)
			}
			if got := errors.Is(verr, ErrUnknownScheme); got != unknown {
				t.Errorf("errors.Is(Verify, ErrUnknownScheme) = %v, want %v", got, unknown)
			}
		})
	}
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	// The dummy must cost what verifying a default-scheme hash costs: the
	// same scheme and parameters as Hash produces.
	if !phcDefault.MatchString(dummy.Hash) || dummy.Scheme != Default {
		t.Fatalf("dummy = %+v, want a default-scheme hash with the default parameters", dummy)
	}
	for _, plain := range []string{"", "password", "correct horse battery staple"} {
		if VerifyDummy(plain) {
			t.Errorf("VerifyDummy(%q) = true", plain)
		}
	}
}

func TestSchemes(t *testing.T) {
	t.Parallel()
	got := Schemes()
	want := []string{"argon2id", "salted-pbkdf2-hmac-sha256", "bcrypt", "salted-sha256"}
	if !slices.Equal(got, want) {
		t.Errorf("Schemes() = %q, want %q", got, want)
	}
	if !slices.Contains(got, Default) {
		t.Errorf("Schemes() does not contain Default %q", Default)
	}
	got[0] = "mutated"
	if Schemes()[0] != "argon2id" {
		t.Error("Schemes() returns a shared slice")
	}
	for _, name := range want {
		if err := ValidateImport(Stored{Scheme: name}); errors.Is(err, ErrUnknownScheme) {
			t.Errorf("scheme %q is listed but unknown: %v", name, err)
		}
	}
}

// cheap reports whether verifying s costs little, so the fuzzer does not
// spend its time in legitimately expensive (but bounded) hashes.
func cheap(s Stored) bool {
	switch s.Scheme {
	case schemeArgon2id:
		a, err := parseArgon2id(s.Hash)
		return err != nil || (a.params.memory <= 1024 && a.params.time <= 2)
	case schemeBcrypt:
		return s.Factor <= 5
	default:
		return s.Factor <= 5000
	}
}

func FuzzVerify(f *testing.F) {
	for _, tc := range knownAnswers {
		if cheap(tc.stored) {
			f.Add(tc.plain, tc.stored.Scheme, tc.stored.Factor, tc.stored.Salt, tc.stored.Hash)
		}
	}
	f.Add("password", "argon2id", 0, "", "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu")
	f.Add("password", "argon2id", 0, "", "$argon2id$v=19$m=1048577,t=2,p=1$$")
	f.Add("x", "argon2id", 0, "", "$$$$$")
	f.Add("x", "bcrypt", 10, "", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
	f.Add("x", "bcrypt", 4, "N9qo8uLOickgx2ZMRZoMy\x00", "IjZAgcfl7p92ldGxad68LJZdL17lhW\xff")
	f.Add("x", "salted-sha256", 1, "====", "")
	f.Add("x", "salted-pbkdf2-hmac-sha256", -1, "\n", "\r")
	f.Add("", "", 0, "", "")
	f.Fuzz(func(t *testing.T, plain, scheme string, factor int, salt, hash string) {
		s := Stored{Scheme: scheme, Factor: factor, Salt: salt, Hash: hash}
		verr := ValidateImport(s)
		_ = NeedsRehash(s)
		if !cheap(s) {
			return
		}
		ok, err := Verify(plain, s)
		if ok && err != nil {
			t.Fatalf("Verify = true with error %v", err)
		}
		// ValidateImport is Verify's parsing plus, for argon2id, a check
		// that the unused factor and salt fields are empty.
		if scheme == schemeArgon2id {
			verr = ValidateImport(Stored{Scheme: scheme, Hash: hash})
		}
		if verr != nil && err == nil {
			t.Fatalf("ValidateImport refused (%v) but Verify did not", verr)
		}
	})
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	argon, err := Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	benches := []struct {
		name, plain string
		s           Stored
	}{
		{"argon2id", "correct horse battery staple", argon},
		// FusionAuth's default scheme at its tenant default factor, 24,000.
		{"salted-pbkdf2-hmac-sha256", "correct horse battery staple", stored("pbkdf2 default factor 24000")},
		// Cost 10.
		{"bcrypt", "test", stored("bcrypt issue 2495")},
		// FusionAuth's recommended minimum factor, 20,000.
		{"salted-sha256", "password", stored("salted-sha256 factor 20000")},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := Verify(bb.plain, bb.s); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
	b.Run("dummy", func(b *testing.B) {
		for b.Loop() {
			VerifyDummy("correct horse battery staple")
		}
	})
}
