package guard

import (
	"testing"

	"github.com/latchid/latch/internal/jws"
)

// FuzzParseJWS: whatever the input, parseJWS neither panics nor accepts a
// token without kid, with a refused header, or over maxTokenSize. That it
// refuses duplicate header names is package jws's FuzzParse.
func FuzzParseJWS(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.e30.c2ln")
	f.Add("eyJhbGciOiJFUzI1NiIsImFsZyI6IkhTMjU2Iiwia2lkIjoiayJ9.e30.c2ln")
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := parseJWS(raw)
		if err != nil {
			return
		}
		if tok.kid == "" {
			t.Errorf("accepted without kid")
		}
		if len(raw) > maxTokenSize {
			t.Errorf("accepted %d bytes", len(raw))
		}
		j, err := jws.Parse(raw)
		if err != nil {
			t.Fatalf("accepted what jws.Parse refuses: %v", err)
		}
		if name, refused := j.Refused(false); refused {
			t.Errorf("accepted a %q header", name)
		}
	})
}
