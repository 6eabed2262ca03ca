package dpop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// decodeObject decodes one JSON object into its members, refusing
// duplicate member names (RFC 7515 §4 lets a parser reject them; we do, so
// that no two readers of a proof can disagree on alg, jwk, htu or jti).
// Names are compared after unescaping, so "\u0061lg" duplicates "alg".
// Unlike decoding into a struct, names are matched exactly: "HTU" is not
// "htu".
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	var out map[string]json.RawMessage
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

// stringMember returns member name of m when it is present; present, it
// must be a JSON string.
func stringMember(m map[string]json.RawMessage, name string) (s string, present bool, err error) {
	v, ok := m[name]
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
	if err := json.Unmarshal(v, &s); err != nil {
		return "", true, fmt.Errorf("%q is not a string", name)
	}
	return s, true, nil
}

// maxNumericDate bounds iat: year 5138, far enough for any clock and small
// enough that time arithmetic on it cannot overflow.
const maxNumericDate = 1e11

// numericDate returns member name of m as whole seconds since the epoch
// (RFC 7519 §2: a JSON number, possibly fractional; the fraction is
// dropped).
func numericDate(m map[string]json.RawMessage, name string) (int64, bool, error) {
	v, ok := m[name]
	if !ok {
		return 0, false, nil
	}
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, true, fmt.Errorf("%q is not a number", name)
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		return 0, true, fmt.Errorf("%q is not a number", name)
	}
	if math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return 0, true, fmt.Errorf("%q is out of range", name)
	}
	return int64(f), true, nil
}
