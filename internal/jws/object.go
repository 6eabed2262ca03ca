package jws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Object is a JSON object decoded by DecodeObject: its members, each
// value still encoded.
type Object map[string]json.RawMessage

// DecodeObject decodes b, one JSON object, into its members, refusing
// invalid UTF-8 (RFC 8259 §8.1) and duplicate member names (RFC 7515 §4
// lets a parser reject them; we do, so that no two readers of a header or
// payload can disagree on alg, kid, jwk or any claim). Names are compared after unescaping, so "\u0061lg"
// duplicates "alg", and exactly: "ALG" is not "alg".
func DecodeObject(b []byte) (Object, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not UTF-8")
	}
	var out Object
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("not a JSON object")
	}
	// Unmarshal keeps the last of duplicate names: fewer names than
	// members means duplicates.
	if n := countMembers(b); n != len(out) {
		return nil, errors.New("duplicate member names")
	}
	return out, nil
}

// countMembers counts the members of the valid JSON object b: the commas
// at its top level, plus one unless it is empty.
func countMembers(b []byte) int {
	n, depth, inString, escaped, empty := 0, 0, false, false, true
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inString = true
		case '{', '[':
			depth++
			continue
		case '}', ']':
			depth--
			continue
		case ',':
			if depth == 1 {
				n++
			}
		}
		if depth == 1 {
			empty = false
		}
	}
	if empty {
		return 0
	}
	return n + 1
}

// String returns member name of o, and whether it is present; present,
// it must be a JSON string (null is not one), or err says it is not.
func (o Object) String(name string) (value string, present bool, err error) {
	v, ok := o[name]
	if !ok {
		return "", false, nil
	}
	// The common case, a string without escapes, needs no decoder.
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true, nil
	}
	if len(v) == 0 || v[0] != '"' {
		return "", true, fmt.Errorf("%q is not a string", name)
	}
	// Only here, so that the fast path does not allocate s.
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", true, fmt.Errorf("%q is not a string", name)
	}
	return s, true, nil
}

// StringOrNull is String, except that a JSON null is present and empty,
// as json.Unmarshal into a string leaves it: JWT verifiers read a null
// kid as no kid and a null typ as an empty one.
func (o Object) StringOrNull(name string) (value string, present bool, err error) {
	if string(o[name]) == "null" {
		return "", true, nil
	}
	return o.String(name)
}

// FirstOf returns the first of names that is a member of o, if any: a
// caller's check for header parameters it refuses.
func (o Object) FirstOf(names ...string) (name string, found bool) {
	for _, name := range names {
		if _, ok := o[name]; ok {
			return name, true
		}
	}
	return "", false
}
