package kickstart_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/internal/kickstart"
)

// substVars are the variables of the substitution tests, as JSON members.
const substVars = `"ttl": 3600, "ratio": -1.5e3, "big": 9007199254740993, "on": true, "off": false,
	"sttl": "3600", "name": "Store", "method": "post", "tenant": "d7d09513-a3f5-401c-9685-34ab6c552453",
	"quote": "\"", "slash": "\\", "nul": "\u0000", "break": "}, \"x\": ",
	"inject": "\", \"admin\": true, \"x\": \"", "id": "#{UUID()}"`

// substEnv is the environment of the substitution tests.
var substEnv = map[string]string{
	"TTL":    "900",
	"TRUE":   "true",
	"NULL":   "null",
	"QUOTE":  `"`,
	"SLASH":  `\`,
	"BREAK":  `}, "x": `,
	"INJECT": `", "admin": true, "x": "`,
	"LIST":   `1, "admin": true`,
	"SPACED": " 1",
	"HTML":   `<a href="x">&amp;</a>`,
	"LOOP":   "#{name}",
	"SECRET": "31415926535897932384",
}

// withBody is a kickstart file of the substitution tests with one request
// whose body is body, as written.
func withBody(body string) string {
	return `{"variables": {` + substVars + `}, "apiKeys": [{"key": "` + adminKey + `"}],
	  "requests": [{"method": "POST", "url": "/api/user", "body": ` + body + `}]}`
}

// TestSubstituteBody: a placeholder in a request body stands for a whole
// value outside quotes, or for all or part of a string inside them; a
// value put into a string stays in that string, whatever it holds.
func TestSubstituteBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want any
	}{
		{"number", `{"t": #{ttl}}`, map[string]any{"t": json.Number("3600")}},
		{"numbers without spaces", `{"t":#{ttl},"u":#{ttl}}`, map[string]any{"t": json.Number("3600"), "u": json.Number("3600")}},
		{"number as written", `{"r": #{ratio}, "b": #{big}}`, map[string]any{"r": json.Number("-1.5e3"), "b": json.Number("9007199254740993")}},
		{"string that is a number", `{"t": #{sttl}}`, map[string]any{"t": json.Number("3600")}},
		{"environment number", `{"t": #{ENV.TTL}}`, map[string]any{"t": json.Number("900")}},
		{"booleans", `{"on": #{on}, "off": #{off}, "env": #{ENV.TRUE}}`, map[string]any{"on": true, "off": false, "env": true}},
		{"null", `{"n": #{ENV.NULL}}`, map[string]any{"n": nil}},
		{"array elements", `[#{ttl}, #{on} ,#{ENV.TTL}]`, []any{json.Number("3600"), true, json.Number("900")}},
		{"the whole body", `#{ttl}`, json.Number("3600")},
		{"spaces inside the braces", `{"t": #{ ttl }, "n": "#{ name }"}`, map[string]any{"t": json.Number("3600"), "n": "Store"}},
		{"whole string", `{"name": "#{name}"}`, map[string]any{"name": "Store"}},
		{"number in quotes stays a string", `{"t": "#{ttl}", "on": "#{on}"}`, map[string]any{"t": "3600", "on": "true"}},
		{"partial strings", `{"s": "#{name} lives #{ttl}s (#{ratio}, #{on}) at #{ENV.TTL}"}`,
			map[string]any{"s": "Store lives 3600s (-1.5e3, true) at 900"}},
		{"escapes around a placeholder", `{"s": "tab\t#{name}\u00e9\\"}`, map[string]any{"s": "tab\tStore\u00e9\\"}},
		{"quote", `{"v": "a#{quote}b", "w": "#{ENV.QUOTE}"}`, map[string]any{"v": `a"b`, "w": `"`}},
		{"backslash", `{"v": "#{slash}", "w": "#{ENV.SLASH}x"}`, map[string]any{"v": `\`, "w": `\x`}},
		{"NUL", `{"v": "[#{nul}]"}`, map[string]any{"v": "[\x00]"}},
		{"closing the object", `{"v": "#{break}", "w": "#{ENV.BREAK}", "n": 1}`,
			map[string]any{"v": `}, "x": `, "w": `}, "x": `, "n": json.Number("1")}},
		{"adding members", `{"user": {"name": "#{inject}", "email": "#{ENV.INJECT}"}}`,
			map[string]any{"user": map[string]any{"name": `", "admin": true, "x": "`, "email": `", "admin": true, "x": "`}}},
		{"a list in quotes", `{"v": "#{ENV.LIST}"}`, map[string]any{"v": `1, "admin": true`}},
		{"HTML", `{"h": "#{ENV.HTML}"}`, map[string]any{"h": `<a href="x">&amp;</a>`}},
		{"values are not scanned again", `{"v": "#{ENV.LOOP}"}`, map[string]any{"v": "#{name}"}},
		{"placeholders are read in the decoded string", `{"v": "\u0023{name}"}`, map[string]any{"v": "Store"}},
		{"keys are left as written", `{"#{name}": "#{name}", "#{nope}": 1}`,
			map[string]any{"#{name}": "Store", "#{nope}": json.Number("1")}},
		{"no placeholder", `{"v": "#1 #{ and x", "w": "#{", "n": -0.5}`,
			map[string]any{"v": "#1 #{ and x", "w": "#{", "n": json.Number("-0.5")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parse(t, withBody(tc.body), substEnv)
			if diff := cmp.Diff(tc.want, bodyOf(t, f.Requests[0].Body)); diff != "" {
				t.Errorf("body (-want +got):\n%s\nsent: %s", diff, f.Requests[0].Body)
			}
		})
	}
}

// TestSubstituteBodyText: the body is sent as written but for its
// placeholders: numbers keep their digits, strings their escapes, and only
// a string with a placeholder is encoded again (without HTML escapes).
func TestSubstituteBodyText(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"b": 9007199254740993,  "s": "\u00e9 <&>", "t": #{ttl}}`, `{"b": 9007199254740993,  "s": "\u00e9 <&>", "t": 3600}`},
		{`{"h": "<#{name}&#{quote}>", "n": [ #{on} ]}`, `{"h": "<Store&\">", "n": [ true ]}`},
	} {
		f := parse(t, withBody(tc.body), substEnv)
		if got := string(f.Requests[0].Body); got != tc.want {
			t.Errorf("body %s sent as %s, want %s", tc.body, got, tc.want)
		}
	}
}

// TestSubstituteErrors: a placeholder that cannot be replaced safely
// refuses the file, naming where and which; the error never shows the
// value.
func TestSubstituteErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		want    []string // substrings of the error
		notWant []string
	}{
		{"unknown outside quotes", withBody(`{"t": #{nope}}`), []string{"requests[0]", "unknown placeholder #{nope}"}, nil},
		{"unknown in a string", withBody(`{"t": "x #{nope}"}`), []string{"requests[0]", "unknown placeholder #{nope}"}, nil},
		{"unknown in a later request", `{"apiKeys": [{"key": "` + adminKey + `"}], "requests": [
			{"method": "POST", "url": "/api/user"}, {"method": "POST", "url": "/api/user", "body": {"n": #{nope}}}]}`,
			[]string{"requests[1]", "#{nope}"}, nil},
		{"unset environment variable", withBody(`{"t": #{ENV.LATCH_TEST_UNSET}}`), []string{"requests[0]", "LATCH_TEST_UNSET", "not set"}, nil},
		{"string outside quotes", withBody(`{"name": #{name}}`),
			[]string{"requests[0]", "#{name}", "outside quotes", `"#{name}"`}, []string{"Store"}},
		{"UUID() outside quotes", withBody(`{"id": #{UUID()}}`), []string{"requests[0]", "#{UUID()}", "outside quotes"}, nil},
		{"id variable outside quotes", withBody(`{"id": #{id}}`), []string{"requests[0]", "#{id}", "outside quotes"}, nil},
		{"members outside quotes", withBody(`{"n": #{ENV.LIST}}`), []string{"requests[0]", "#{ENV.LIST}", "outside quotes"}, []string{"admin"}},
		{"closing the object outside quotes", withBody(`{"n": #{break}, "m": 1}`), []string{"requests[0]", "#{break}"}, []string{`"x"`}},
		{"adding members outside quotes", withBody(`{"n": #{ENV.INJECT}}`), []string{"requests[0]", "#{ENV.INJECT}"}, []string{"admin"}},
		{"value with a space", withBody(`{"n": #{ENV.SPACED}}`), []string{"requests[0]", "#{ENV.SPACED}", "outside quotes"}, nil},
		{"glued to a number", withBody(`{"n": 1#{ttl}}`), []string{"requests[0]", "#{ttl}", "whole value"}, nil},
		{"glued to a minus", withBody(`{"n": -#{ttl}}`), []string{"requests[0]", "#{ttl}", "whole value"}, nil},
		{"glued to a fraction", withBody(`{"n": 1.#{ttl}}`), []string{"requests[0]", "#{ttl}", "whole value"}, nil},
		{"two in a row", withBody(`{"n": #{ttl}#{on}}`), []string{"not valid JSON", "#{on}", "line "}, nil},
		{"after a string", withBody(`{"n": "a"#{ttl}}`), []string{"not valid JSON", "#{ttl}"}, nil},
		{"as a key", withBody(`{#{name}: 1}`), []string{"not valid JSON", "#{name}"}, nil},
		{"in a url outside quotes", `{"apiKeys": [{"key": "` + adminKey + `"}], "requests": [{"method": "POST", "url": #{ENV.TTL}}]}`,
			[]string{"requests[0]", "url must be a string, not a number"}, []string{"900"}},
		{"a secret number for a key", `{"apiKeys": [{"key": #{ENV.SECRET}}]}`,
			[]string{"apiKeys[0]", "key must be a string, not a number"}, []string{substEnv["SECRET"]}},
		{"a variable made with UUID() outside quotes", `{"variables": {"id": #{UUID()}}}`, []string{`variable "id"`, "#{UUID()}", "outside quotes"}, nil},
		{"a variable from another outside quotes", `{"variables": {"a": 1, "b": #{a}}}`, []string{`variable "b"`, "#{a}"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := kickstart.Parse([]byte(tc.file), envOf(substEnv))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want an error", f)
			}
			if !strings.HasPrefix(err.Error(), "kickstart: ") {
				t.Errorf("error %q does not say it is the kickstart's", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q shows %q", err, w)
				}
			}
		})
	}
}

// TestSubstituteNotJSONNumbers: outside quotes, a value must be a number
// as JSON writes them, true, false or null; anything else is refused.
func TestSubstituteNotJSONNumbers(t *testing.T) {
	for _, v := range []string{"", "01", "1.", ".5", "+1", "1e", "0x10", "NaN", "Infinity", "True", "nil", "1 ", "[1]", "{}", `"x"`} {
		_, err := kickstart.Parse([]byte(withBody(`{"n": #{ENV.V}}`)), envOf(map[string]string{"V": v}))
		if err == nil || !strings.Contains(err.Error(), "requests[0]") || !strings.Contains(err.Error(), "#{ENV.V}") {
			t.Errorf("value %q outside quotes: error %v, want one naming requests[0] and #{ENV.V}", v, err)
		}
	}
	for _, v := range []string{"0", "-0", "12", "-1.25", "1e9", "2E-3", "1.5e+10", "true", "false", "null"} {
		if _, err := kickstart.Parse([]byte(withBody(`{"n": #{ENV.V}}`)), envOf(map[string]string{"V": v})); err != nil {
			t.Errorf("value %q outside quotes: %v", v, err)
		}
	}
}

// TestSubstituteRequestFields: the method, url and tenantId of a request
// and the fields of an API key take placeholders as the body does; in a
// url the value is put in as it is.
func TestSubstituteRequestFields(t *testing.T) {
	f := parse(t, `{"variables": {`+substVars+`},
	  "apiKeys": [{"key": "#{ENV.KEY}", "description": "#{inject}", "tenantId": "#{tenant}"}],
	  "requests": [{"method": "#{method}", "url": "/api/application/#{id}?q=#{quote}#{name}", "tenantId": "#{tenant}"}]}`,
		map[string]string{"KEY": adminKey})
	id, _ := f.Variables["id"].(string)
	mustUUID(t, "variable id", id)
	k := f.APIKeys[0]
	if k.Key != adminKey || k.Description != `", "admin": true, "x": "` || k.TenantID != "d7d09513-a3f5-401c-9685-34ab6c552453" {
		t.Errorf("API key %+v", k)
	}
	r := f.Requests[0]
	if r.Method != "POST" || r.URL != `/api/application/`+id+`?q="Store` || r.TenantID != "d7d09513-a3f5-401c-9685-34ab6c552453" {
		t.Errorf("request %s %s (tenant %q)", r.Method, r.URL, r.TenantID)
	}
}

// TestSubstituteVariables: a variable's value may be a placeholder outside
// quotes too, of the environment; it is then a number, true, false or
// null as the others.
func TestSubstituteVariables(t *testing.T) {
	f := parse(t, `{
	  "variables": {"ttl": #{ENV.TTL}, "on": #{ENV.TRUE}},
	  "apiKeys": [{"key": "`+adminKey+`"}],
	  "requests": [{"method": "POST", "url": "/api/application",
	    "body": {"application": {"jwtConfiguration": {"enabled": #{on}, "timeToLiveInSeconds": #{ttl}}}}}]
	}`, substEnv)
	if f.Variables["ttl"] != "900" || f.Variables["on"] != "true" {
		t.Errorf("variables %v, want ttl 900 and on true", f.Variables)
	}
	want := map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": json.Number("900")}}}
	if diff := cmp.Diff(want, bodyOf(t, f.Requests[0].Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}
