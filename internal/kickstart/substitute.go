package kickstart

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// Placeholders are replaced in the text of the file, value by value, in
// one of two ways:
//
//   - Inside a string value, a placeholder is replaced in the string's
//     decoded text and the string is encoded again, so that whatever the
//     value holds (a quote, a backslash, a control character) stays inside
//     that string: a value never adds members or ends the string.
//   - Outside quotes, a placeholder is a whole JSON value of its own, set
//     apart by spaces or , : [ ] { }; its value is put in as it is, and
//     must be a number (JSON's grammar), true, false or null. A string must
//     be written in quotes: "#{name}".
//
// Object keys are left as they are, and a replaced value is never scanned
// again for placeholders.

// placeholder matches #{...} and @{...} in a string's decoded text.
var placeholder = regexp.MustCompile(`[#@]\{([^}]*)\}`)

// jsonNumber is JSON's grammar of a number.
var jsonNumber = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)

// resolver gives the values of placeholders and the content of includes.
// vars nil: only UUID() and ENV are known (inside the variables
// themselves); otherwise the variables and FusionAuth's own values
// (builtins) are too. inc nil: includes are refused.
type resolver struct {
	vars     map[string]string
	builtins map[string]string
	getenv   func(string) (string, bool)
	inc      *includer
}

// value is the value of the placeholder m, written #{...}: a fresh id for
// every UUID(), an environment variable, a variable, or one of
// FusionAuth's own values.
func (r resolver) value(m string) (string, error) {
	name := strings.TrimSpace(m[2 : len(m)-1])
	switch {
	case name == "UUID()":
		return uuid.NewString(), nil
	case strings.HasPrefix(name, "ENV."):
		env := strings.TrimPrefix(name, "ENV.")
		v, ok := r.getenv(env)
		if !ok {
			return "", fmt.Errorf("the environment variable %s is not set", env)
		}
		return v, nil
	case r.vars != nil:
		if v, ok := r.vars[name]; ok {
			return v, nil
		}
		if v, ok := builtinValue(r.builtins, name); ok {
			return v, nil
		}
	case isBuiltin(name):
		return "", fmt.Errorf("%s is FusionAuth's own value: apiKeys and requests may use it, variables may not", m)
	}
	return "", fmt.Errorf("unknown placeholder %s", m)
}

// expand replaces the placeholders and the text includes of a string's
// decoded text.
func (r resolver) expand(s string) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		if err != nil {
			return m
		}
		var v string
		var e error
		if m[0] == '@' {
			v, e = r.includeText(m)
		} else {
			v, e = r.value(m)
		}
		if e != nil {
			err = e
			return m
		}
		return v
	})
	return out, err
}

// substitute replaces the placeholders of text, one JSON value of the file
// (an API key, a request, a variable's value), as the comment at the top
// of this file says. The errors name the placeholder, never its value.
func (r resolver) substitute(text []byte) ([]byte, error) {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case c == '"':
			j := stringEnd(text, i)
			if j < 0 { // not JSON; decoding says so
				return append(out, text[i:]...), nil
			}
			lit := text[i:j]
			if !isKey(text, j) {
				var err error
				if lit, err = r.expandLiteral(lit); err != nil {
					return nil, err
				}
			}
			out = append(out, lit...)
			i = j
		case c == '#':
			end, ok := bareAt(text, i)
			if !ok {
				out = append(out, c)
				i++
				continue
			}
			m := string(text[i:end])
			if (i > 0 && !isDelim(text[i-1], "[{,:")) || (end < len(text) && !isDelim(text[end], "]},")) {
				return nil, fmt.Errorf("%s is outside quotes, so it must be a whole value, set apart by spaces or , : [ ] { }", m)
			}
			v, err := r.value(m)
			if err != nil {
				return nil, err
			}
			if !isScalar(v) {
				return nil, fmt.Errorf("%s is outside quotes, so its value must be a number, true, false or null; write \"%s\" for a string", m, m)
			}
			out = append(out, v...)
			i = end
		default:
			out = append(out, c)
			i++
		}
	}
	return out, nil
}

// expandLiteral replaces the placeholders and includes of the string
// literal lit (with its quotes) and returns it encoded again, or, for a
// string that is a JSON include, the included JSON; a literal without
// either comes back as it was written.
func (r resolver) expandLiteral(lit []byte) ([]byte, error) {
	if !bytes.Contains(lit, []byte("{")) && !bytes.Contains(lit, []byte(`\`)) {
		return lit, nil
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return lit, nil
	}
	if m := wholeJSONInclude.FindStringSubmatch(s); m != nil {
		return r.includeJSON(m[1])
	}
	if m := jsonInclude.FindString(s); m != "" {
		return nil, fmt.Errorf("%s includes JSON, so it must be the whole string: write \"%s\"; @{...} includes text into a string", m, m)
	}
	if !strings.Contains(s, "#{") && !strings.Contains(s, "@{") {
		return lit, nil
	}
	s, err := r.expand(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// stringEnd returns the index just past the string literal that starts at
// text[i] (a quote), or -1 if it does not end.
func stringEnd(text []byte, i int) int {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// isKey reports whether the string literal ending at text[j] is an object
// key: the next character but spaces is a colon.
func isKey(text []byte, j int) bool {
	for ; j < len(text); j++ {
		switch text[j] {
		case ' ', '\t', '\r', '\n':
		case ':':
			return true
		default:
			return false
		}
	}
	return false
}

// bareAt reports whether a placeholder written outside quotes starts at
// text[i]: #{, a name without quotes, braces, backslashes or control
// characters, and }. It returns the index just past it.
func bareAt(text []byte, i int) (int, bool) {
	if i+1 >= len(text) || text[i] != '#' || text[i+1] != '{' {
		return 0, false
	}
	for j := i + 2; j < len(text); j++ {
		switch c := text[j]; {
		case c == '}':
			return j + 1, true
		case c == '"' || c == '{' || c == '\\' || c < 0x20 || c == 0x7f:
			return 0, false
		}
	}
	return 0, false
}

// isDelim reports whether c is JSON whitespace or one of the structural
// characters of also.
func isDelim(c byte, also string) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || strings.IndexByte(also, c) >= 0
}

// isScalar reports whether v is a JSON number, true, false or null, as it
// must be to stand outside quotes.
func isScalar(v string) bool {
	return v == "true" || v == "false" || v == "null" || jsonNumber.MatchString(v)
}

// span is the place of a JSON value in the file: data[start:end].
type span struct{ start, end int }

// mask returns data with every placeholder outside quotes replaced by 0
// and spaces to its length, so that a file using them can be parsed as
// JSON and its values found at the same places in data. It also returns
// where the placeholders were, in order.
func mask(data []byte) ([]byte, []span) {
	masked := bytes.Clone(data)
	var spots []span
	for i := 0; i < len(masked); {
		switch masked[i] {
		case '"':
			j := stringEnd(masked, i)
			if j < 0 {
				return masked, spots
			}
			i = j
		case '#':
			end, ok := bareAt(masked, i)
			if !ok {
				i++
				continue
			}
			masked[i] = '0'
			for k := i + 1; k < end; k++ {
				masked[k] = ' '
			}
			spots = append(spots, span{i, end})
			i = end
		default:
			i++
		}
	}
	return masked, spots
}

// syntaxError explains a JSON error of the masked file: where it is, and
// when it is at a placeholder outside quotes, which one.
func syntaxError(err error, data []byte, spots []span) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset <= 0 || int(se.Offset) > len(data) {
		return err
	}
	at := int(se.Offset) - 1
	line := 1 + bytes.Count(data[:at], []byte("\n"))
	col := at - bytes.LastIndexByte(data[:at], '\n')
	for _, s := range spots {
		if s.start <= at && at < s.end {
			return fmt.Errorf("%s at line %d, column %d is outside quotes where no value can stand", data[s.start:s.end], line, col)
		}
	}
	if (data[at] == '@' || data[at] == '&') && at+1 < len(data) && data[at+1] == '{' {
		return fmt.Errorf("an include at line %d, column %d is outside quotes: write it in a string, \"%c{name}\"", line, col, data[at])
	}
	return fmt.Errorf("%w (line %d, column %d)", err, line, col)
}

// doc is a file masked: masked is data with its placeholders outside
// quotes masked, and valid JSON; spots maps the start of each of those
// placeholders to its end.
type doc struct {
	data, masked []byte
	spots        map[int]int
}

// member is a member of a JSON object: its name and where its value is.
type member struct {
	name string
	span
}

// members lists the members of the JSON object at s.
func (d doc) members(s span) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(d.masked[s.start:s.end]))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		v, err := d.valueSpan(dec, s.start)
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{name, v})
	}
	return ms, nil
}

// elements lists where the elements of the JSON array at s are.
func (d doc) elements(s span) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(d.masked[s.start:s.end]))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errors.New("not an array")
	}
	var es []span
	for dec.More() {
		v, err := d.valueSpan(dec, s.start)
		if err != nil {
			return nil, err
		}
		es = append(es, v)
	}
	return es, nil
}

// valueSpan decodes the next value of dec, which reads masked from base,
// and returns where it is: a placeholder outside quotes, all of it.
func (d doc) valueSpan(dec *json.Decoder, base int) (span, error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return span{}, err
	}
	end := base + int(dec.InputOffset())
	s := span{end - len(raw), end}
	if s.start < base || !bytes.Equal(d.masked[s.start:s.end], raw) {
		return span{}, errors.New("internal error: a value was not found where it was read")
	}
	if e, ok := d.spots[s.start]; ok {
		s.end = e
	}
	return s, nil
}

// kind is the JSON kind of the value at s: '{', '[', 'n' (null) or
// another first character.
func (d doc) kind(s span) byte {
	return d.masked[s.start]
}

// text is the value at s as written, placeholders and all.
func (d doc) text(s span) []byte {
	return d.data[s.start:s.end]
}
