package totp_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/latchid/latch/internal/totp/totptest"

	"github.com/latchid/latch/internal/totp"
)

// TestRFC6238Vectors checks the SHA-1 rows of RFC 6238 Appendix B (8
// digits there), with the RFC's seed "12345678901234567890".
func TestRFC6238Vectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		got, err := totp.CodeAt(seed, totp.Step(time.Unix(c.unix, 0)), 8)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("T=%d: code %s, want %s", c.unix, got, c.want)
		}
	}
}

func TestVerify(t *testing.T) {
	secret, err := totp.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 5, 0, 10, 0, time.UTC)
	step := totp.Step(now)
	for _, c := range []struct {
		name     string
		codeAt   time.Time
		ok       bool
		wantStep int64
	}{
		{"current step", now, true, step},
		{"previous step", now.Add(-30 * time.Second), true, step - 1},
		{"next step", now.Add(30 * time.Second), true, step + 1},
		{"two steps before", now.Add(-60 * time.Second), false, 0},
		{"two steps after", now.Add(60 * time.Second), false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			code := totptest.RawCode(secret, c.codeAt)
			got, ok := totp.Verify(secret, code, now)
			if ok != c.ok || (ok && got != c.wantStep) {
				t.Errorf("Verify(%s) = %d, %v; want %d, %v", code, got, ok, c.wantStep, c.ok)
			}
		})
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := totp.Verify(secret, bad, now); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
	if got, _ := totp.Code(secret, now); got != totptest.RawCode(secret, now) {
		t.Errorf("Code = %s, independent = %s", got, totptest.RawCode(secret, now))
	}
}

func TestStepEnd(t *testing.T) {
	now := time.Date(2026, 12, 7, 5, 0, 10, 0, time.UTC)
	step := totp.Step(now)
	// A code of step is accepted until the end of step+1.
	end := totp.StepEnd(step)
	if got, want := end, time.Date(2026, 12, 7, 5, 1, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("StepEnd = %v, want %v", got, want)
	}
}

func mustSecret(t *testing.T) []byte {
	t.Helper()
	s, err := totp.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParse(t *testing.T) {
	secret := mustSecret(t)
	for _, c := range []struct {
		name  string
		parse func(string) ([]byte, error)
		in    string
		ok    bool
	}{
		{"base64", totp.ParseBase64, totp.Base64(secret), true},
		{"base32", totp.ParseBase32, totp.Base32(secret), true},
		{"base32 lower case with spaces", totp.ParseBase32, spaced(totp.Base32(secret)), true},
		{"base32 padded", totp.ParseBase32, totp.Base32(secret) + "====", true},
		{"not base64", totp.ParseBase64, "not base64!", false},
		{"not base32", totp.ParseBase32, "01890189", false},
		{"too short", totp.ParseBase64, totp.Base64(secret[:10]), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.parse(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
			if c.ok && string(got) != string(secret) {
				t.Errorf("parsed %x, want %x", got, secret)
			}
		})
	}
}

func spaced(s string) string {
	out := ""
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			out += " "
		}
		out += string(r | 0x20)
	}
	return out
}

func TestURI(t *testing.T) {
	secret := mustSecret(t)
	raw, err := totp.URI("Latch Shop", "ana@example.org", secret)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Latch Shop:ana@example.org" {
		t.Errorf("URI %s: wrong scheme, type or label", raw)
	}
	want := map[string]string{"secret": totp.Base32(secret), "issuer": "Latch Shop", "algorithm": "SHA1", "digits": "6", "period": "30"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("URI %s: %s = %q, want %q", raw, k, q.Get(k), v)
		}
	}
}
