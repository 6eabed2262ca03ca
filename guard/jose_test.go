package guard

import (
	"encoding/json"
	"testing"
)

// countMembers is what detects duplicate header names: it must count only
// top-level members, whatever strings and nested values hold.
func TestCountMembers(t *testing.T) {
	for _, tc := range []struct {
		json string
		want int
	}{
		{`{}`, 0},
		{` { } `, 0},
		{`{"a":1}`, 1},
		{`{"a":1,"b":2}`, 2},
		{`{"a":1,"a":2}`, 2},
		{`{"a":"x,y","b":"}{,"}`, 2},
		{`{"a":"\",\"","b":[1,2,{"c":3,"d":4}]}`, 2},
		{`{"a":{"b":1,"b":2}}`, 1},
		{"{\n\t\"a\" : 1 ,\r\n \"b\" : \"\\\\\" }", 2},
	} {
		if !json.Valid([]byte(tc.json)) {
			t.Fatalf("%s is not JSON", tc.json)
		}
		if got := countMembers([]byte(tc.json)); got != tc.want {
			t.Errorf("countMembers(%s) = %d, want %d", tc.json, got, tc.want)
		}
	}
}

// FuzzParseJWS: whatever the input, parseJWS neither panics nor accepts a
// header with duplicate names.
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
	})
}
