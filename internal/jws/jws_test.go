package jws

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// part encodes s as a compact JWS part.
func part(s string) string { return Encoding.EncodeToString([]byte(s)) }

// compact is a JWS of header and payload as given, and signature "sig".
func compact(header, payload string) string {
	return part(header) + "." + part(payload) + "." + part("sig")
}

// isZero reports whether j is the zero JWS, Parse's on error.
func isZero(j JWS) bool {
	return j.Header == nil && j.Payload == nil && j.Signature == nil && j.SigningInput == ""
}

func TestParse(t *testing.T) {
	t.Parallel()
	const hdr = `{"alg":"ES256","kid":"k"}`
	valid := compact(hdr, `{"sub":"s"}`)
	for _, tc := range []struct {
		name, compact string
		want          string // "": accepted; else part of the error
	}{
		{"valid", valid, ""},
		{"empty signature", part(hdr) + "." + part("x") + ".", ""},
		{"payload not JSON", compact(hdr, "not JSON"), ""},
		{"empty", "", "not a compact JWS"},
		{"two parts", part(hdr) + "." + part("x"), "not a compact JWS"},
		{"four parts", valid + ".", "not a compact JWS"},
		{"five parts, a JWE", part(`{"alg":"RSA-OAEP"}`) + ".a.b.c.d", "not a compact JWS"},
		{"dots only", "..", "not a compact JWS"},
		{"line break in the signature", valid[:len(valid)-2] + "\r\n" + valid[len(valid)-2:], "line break"},
		{"line break in the header", valid[:4] + "\n" + valid[4:], "line break"},
		{"empty header", "." + part("x") + ".c2ln", "not a compact JWS"},
		{"empty payload", part(hdr) + "..c2ln", "not a compact JWS"},
		{"header padded", part(hdr) + "=." + part("x") + ".c2ln", "header is not base64url"},
		{"header with a space", " " + valid, "header is not base64url"},
		{"header in standard base64", "eyJ+" + valid, "header is not base64url"},
		// "{}" is e30; e31 has stray bits set, a second encoding of it.
		{"header with stray bits", "e31." + part("x") + ".c2ln", "header is not base64url"},
		{"payload with stray bits", part(hdr) + ".e31.c2ln", "payload is not base64url"},
		{"payload in standard base64", part(hdr) + ".a+/b.c2ln", "payload is not base64url"},
		{"signature padded", part(hdr) + "." + part("x") + ".c2lnbg==", "signature is not base64url"},
		// "si" is c2k.
		{"signature with stray bits", part(hdr) + "." + part("x") + ".c2l", "signature is not base64url"},
		{"header not JSON", compact("alg", "{}"), "header: "},
		{"header an array", compact(`[{"alg":"ES256"}]`, "{}"), "header: "},
		{"header null", compact("null", "{}"), "header: not a JSON object"},
		{"header with trailing data", compact(hdr+"{}", "{}"), "header: "},
		{"duplicate alg", compact(`{"alg":"ES256","kid":"k","alg":"none"}`, "{}"), "header: duplicate member names"},
		{"duplicate alg, escaped", compact(`{"alg":"ES256","kid":"k","\u0061lg":"none"}`, "{}"), "header: duplicate member names"},
	} {
		j, err := Parse(tc.compact)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q, want %q", tc.name, err, tc.want)
		case err != nil && !isZero(j):
			t.Errorf("%s: a JWS and an error", tc.name)
		}
	}

	j, err := Parse(valid)
	if err != nil {
		t.Fatal(err)
	}
	alg, _, _ := j.Header.String("alg")
	if alg != "ES256" || len(j.Header) != 2 || string(j.Payload) != `{"sub":"s"}` || string(j.Signature) != "sig" ||
		j.SigningInput != valid[:strings.LastIndexByte(valid, '.')] {
		t.Errorf("Parse(%s) = %+v", valid, j)
	}
}

// ParseWithHeader gives what Parse gives, given the header Parse decoded
// from the same header part, and refuses what Parse refuses for the
// other parts.
func TestParseWithHeader(t *testing.T) {
	t.Parallel()
	const hdr = `{"alg":"ES256","kid":"k"}`
	known, err := Parse(compact(hdr, "{}"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, compact string
		want          string // "": accepted; else part of the error
	}{
		{"valid", compact(hdr, `{"sub":"s"}`), ""},
		{"empty signature", part(hdr) + "." + part("x") + ".", ""},
		{"two parts", part(hdr) + "." + part("x"), "not a compact JWS"},
		{"four parts", compact(hdr, "{}") + ".", "not a compact JWS"},
		{"empty payload", part(hdr) + "..c2ln", "not a compact JWS"},
		{"line break in the payload", part(hdr) + ".e3\n0.c2ln", "line break"},
		{"payload with stray bits", part(hdr) + ".e31.c2ln", "payload is not base64url"},
		{"signature padded", part(hdr) + "." + part("x") + ".c2lnbg==", "signature is not base64url"},
	} {
		want, wantErr := Parse(tc.compact)
		got, err := ParseWithHeader(tc.compact, known.Header)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		case (err == nil) != (wantErr == nil):
			t.Errorf("%s: error %v, and %v from Parse", tc.name, err, wantErr)
		case err == nil && (got.SigningInput != want.SigningInput || string(got.Payload) != string(want.Payload) ||
			string(got.Signature) != string(want.Signature) || len(got.Header) != len(want.Header)):
			t.Errorf("%s: %+v, and %+v from Parse", tc.name, got, want)
		}
	}
	if _, err := ParseWithHeader(compact(hdr, "{}"), nil); err == nil {
		t.Error("accepted a nil header")
	}
}

func TestDecodeObject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json string
		want string // "": accepted; else part of the error
	}{
		{`{}`, ""},
		{` {"a":1, "b":{"a":1}} `, ""},
		{`{"a":1,"A":2}`, ""},       // names are matched exactly
		{`{"a":{"b":1,"b":2}}`, ""}, // only the top level is read
		{`{"a":"\"","b":"\\"}`, ""}, // escapes inside strings
		{`{"a":1,"a":1}`, "duplicate member names"},
		{`{"a":1,"\u0061":2}`, "duplicate member names"},
		{`{"a\"":1,"a\u0022":2}`, "duplicate member names"},
		{`{"a":1,"b":[1,{"c":2}],"a":3}`, "duplicate member names"},
		{`null`, "not a JSON object"},
		{`[]`, "cannot unmarshal"},
		{`"{}"`, "cannot unmarshal"},
		{`{"a":1}x`, "invalid character"},
		{`{"a":1,}`, "invalid character"},
		{``, "unexpected end"},
		{"{\"a\":\"\xff\"}", "not UTF-8"},
		{"{\"\xff\":1,\"\xfe\":2}", "not UTF-8"},
	} {
		o, err := DecodeObject([]byte(tc.json))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.json, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: accepted as %v", tc.json, o)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q, want %q", tc.json, err, tc.want)
		}
	}
}

// countMembers is what detects duplicate names: it must count only
// top-level members, whatever strings and nested values hold.
func TestCountMembers(t *testing.T) {
	t.Parallel()
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

func TestObjectString(t *testing.T) {
	t.Parallel()
	o, err := DecodeObject([]byte(`{"plain":"v","escaped":"\u0076\"","empty":"","null":null,"number":1,"bool":true,"object":{"a":"v"},"array":["v"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want     string
		present, isErr bool
	}{
		{"plain", "v", true, false},
		{"escaped", `v"`, true, false},
		{"empty", "", true, false},
		{"absent", "", false, false},
		{"null", "", true, true},
		{"number", "", true, true},
		{"bool", "", true, true},
		{"object", "", true, true},
		{"array", "", true, true},
	} {
		s, present, err := o.String(tc.name)
		if s != tc.want || present != tc.present || (err != nil) != tc.isErr {
			t.Errorf("String(%q) = %q, %v, %v", tc.name, s, present, err)
		}
		if err != nil && err.Error() != `"`+tc.name+`" is not a string` {
			t.Errorf("String(%q): error %q", tc.name, err)
		}
	}
}

func TestFirstOf(t *testing.T) {
	t.Parallel()
	o := Object{"alg": nil, "jku": nil, "x5u": nil}
	if name, found := o.FirstOf("crit", "x5u", "jku"); !found || name != "x5u" {
		t.Errorf("FirstOf = %q, %v", name, found)
	}
	if name, found := o.FirstOf("crit", "b64"); found || name != "" {
		t.Errorf("FirstOf = %q, %v", name, found)
	}
	if _, found := o.FirstOf(); found {
		t.Error("FirstOf() found a name")
	}
}

func TestTypeIs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ, want string
		is        bool
	}{
		{"JWT", "JWT", true},
		{"jwt", "JWT", true},
		{"application/jwt", "JWT", true},
		{"Application/JWT", "JWT", true},
		{"at+jwt", "at+jwt", true},
		{"application/at+JWT", "at+jwt", true},
		{"dpop+jwt", "dpop+jwt", true},
		{"application/dpop+jwt", "dpop+jwt", true},
		{"", "JWT", false},
		{"application/", "JWT", false},
		{"application/", "", false},
		{"JWT ", "JWT", false},
		{"text/jwt", "JWT", false},
		{"application/application/jwt", "JWT", false},
		{"at+jwt", "JWT", false},
		{"jwt", "dpop+jwt", false},
	} {
		if got := TypeIs(tc.typ, tc.want); got != tc.is {
			t.Errorf("TypeIs(%q, %q) = %v", tc.typ, tc.want, got)
		}
	}
}

// members returns the top-level member names of b, read with a decoder of
// their own, and whether b is one valid JSON object.
func members(b []byte) ([]string, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		names = append(names, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
	}
	return names, true
}

// unique reports whether names holds no name twice.
func unique(names []string) bool {
	s := slices.Clone(names)
	slices.Sort(s)
	return len(slices.Compact(s)) == len(names)
}

// FuzzDecodeObject: DecodeObject accepts exactly the valid JSON objects
// whose top-level names, as another decoder reads them, are unique.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1,"b":[1,{"a":2}]}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`,
		`{"a\\":"\"","b":"}{,"}`, `{"a":{"b":1,"b":2}}`, `null`, `[1,2]`, `{"a":1}{}`,
		"{\"\xff\":1,\"\xfe\":2}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeObject(b)
		names, isObject := members(b)
		want := isObject && unique(names) && utf8.Valid(b)
		if (err == nil) != want {
			t.Fatalf("DecodeObject(%q): %v; another decoder reads names %q (object: %v)", b, err, names, isObject)
		}
		if err == nil && len(o) != len(names) {
			t.Fatalf("DecodeObject(%q): %d members, another decoder reads %d", b, len(o), len(names))
		}
	})
}

// FuzzParse: Parse accepts a JWS only as three parts in canonical
// base64url, header and payload not empty, the header a JSON object with
// unique names, and returns its parts and signing input as sent.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		compact(`{"alg":"ES256","kid":"k"}`, `{"sub":"s"}`),
		compact(`{"alg":"ES256","alg":"none"}`, `{}`),
		compact(`{"alg":"ES256","\u0061lg":"none"}`, `{}`),
		"e30.e30.", "e31.e30.c2ln", "..", "a.b", "a.b.c.d.e", "e30.e30.c2ln=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := Parse(s)
		if err != nil {
			if !isZero(j) {
				t.Fatal("a JWS and an error")
			}
			return
		}
		parts := strings.Split(s, ".")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
			t.Fatalf("accepted %q", s)
		}
		if j.SigningInput != parts[0]+"."+parts[1] {
			t.Fatalf("signing input %q of %q", j.SigningInput, s)
		}
		header, err := Encoding.DecodeString(parts[0])
		if err != nil {
			t.Fatal(err)
		}
		if names, isObject := members(header); !isObject || !unique(names) || len(names) != len(j.Header) {
			t.Fatalf("accepted header %q", header)
		}
		// Canonical: decoding and encoding again gives the parts as sent.
		if part(string(header)) != parts[0] || part(string(j.Payload)) != parts[1] || part(string(j.Signature)) != parts[2] {
			t.Fatalf("%q is not canonical base64url", s)
		}
	})
}
