package kickstart_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/internal/kickstart"
)

// includedCSS is a text file to include: quotes, backslashes, line breaks,
// a tab, non-ASCII, and directives that must reach the request as they
// are, since an included text is not read for placeholders.
const includedCSS = ":root { --x: \"a\\\\b\"; }\r\n\tbody { content: '\u2026 é'; }\n/* #{name} @{css/styles.css} &{json/body.json} */\n</style>"

// secret is the content of a file beside the kickstart's folder, which no
// include may read.
const secret = "TOP-SECRET-CONTENT-0123456789"

// includeTree writes a kickstart's folder with files to include, and a
// secret beside it, and returns the folder.
func includeTree(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	dir := filepath.Join(top, "ks")
	files := map[string]string{
		"css/styles.css":    includedCSS,
		"empty.txt":         "",
		"json/body.json":    `{"user": {"email": "#{email}", "data": {"css": "@{css/styles.css}", "ttl": #{ttl}}}}` + "\n",
		"json/unknown.json": `{"x": "#{nope}"}`,
		"json/partial.json": `{"x": "see &{json/body.json}"}`,
		"requests/req.json": `{"method": "post", "url": "/api/user/#{id}", "body": "&{json/body.json}"}`,
		"bad.json":          `{"a": `,
		"bare.json":         `{"a": &{json/body.json}}`,
		"self.json":         `"&{self.json}"`,
		"a.json":            `{"b": "&{b.json}"}`,
		"b.json":            `{"a": "&{./a.json}"}`,
		"bad-utf8.txt":      "caf\xe9",
		"big.txt":           strings.Repeat("x", 1<<20+1),
		"max.txt":           strings.Repeat("x", 1<<20),
	}
	for i := range 10 {
		files[fmt.Sprintf("deep/%d.json", i)] = fmt.Sprintf(`{"next": "&{deep/%d.json}"}`, i+1)
	}
	files["deep/10.json"] = `{}`
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(top, "secret.txt"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"secret-link.txt": "../secret.txt",                  // a file outside
		"top":             "..",                             // a folder outside
		"abs-link.txt":    filepath.Join(top, "secret.txt"), // an absolute target outside
		"inner-link.css":  "css/styles.css",                 // a file inside: allowed
		"css/up.css":      "../css/styles.css",              // up and back in: allowed
		"loop.txt":        "loop.txt",                       // a link to itself
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// includeFile is a kickstart with the variables of the include tests and
// the requests given, as JSON.
func includeFile(requests string) string {
	return `{"variables": {"email": "ana@example.org", "ttl": 300, "name": "Store", "id": "#{UUID()}"},
	  "apiKeys": [{"key": "` + adminKey + `"}], "requests": [` + requests + `]}`
}

// readKickstart writes file as dir/kickstart.json and reads it.
func readKickstart(t *testing.T, dir, file string) (*kickstart.File, error) {
	t.Helper()
	p := filepath.Join(dir, "kickstart.json")
	if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	return kickstart.ReadFile(p, envOf(nil))
}

// nested is the JSON of deep/{10-n}.json: n objects nested in "next".
func nested(n int) map[string]any {
	if n == 0 {
		return map[string]any{}
	}
	return map[string]any{"next": nested(n - 1)}
}

// TestReadFileIncludes: @{name} puts a file's text into a string, escaped
// as JSON, whole or in part; "&{name}" puts a file's JSON in place of the
// string, a body or a whole request, with its own placeholders and
// includes replaced, paths read from the kickstart file's folder.
func TestReadFileIncludes(t *testing.T) {
	dir := includeTree(t)
	body := map[string]any{"user": map[string]any{"email": "ana@example.org", "data": map[string]any{"css": includedCSS, "ttl": json.Number("300")}}}
	for _, tc := range []struct {
		name, request string
		want          any
	}{
		{"text, the whole string", `{"method": "POST", "url": "/api/x", "body": {"css": "@{css/styles.css}"}}`,
			map[string]any{"css": includedCSS}},
		{"text, part of a string", `{"method": "POST", "url": "/api/x", "body": {"s": "[@{css/styles.css}] #{name} [@{empty.txt}]"}}`,
			map[string]any{"s": "[" + includedCSS + "] Store []"}},
		{"text in an array, twice", `{"method": "POST", "url": "/api/x", "body": ["@{css/styles.css}@{css/styles.css}"]}`,
			[]any{includedCSS + includedCSS}},
		{"text through a link inside the folder", `{"method": "POST", "url": "/api/x", "body": {"a": "@{inner-link.css}", "b": "@{css/up.css}"}}`,
			map[string]any{"a": includedCSS, "b": includedCSS}},
		{"text by a path that stays inside", `{"method": "POST", "url": "/api/x", "body": {"a": "@{json/../css/styles.css}", "b": "@{./css/styles.css}"}}`,
			map[string]any{"a": includedCSS, "b": includedCSS}},
		{"JSON body", `{"method": "POST", "url": "/api/x", "body": "&{json/body.json}"}`, body},
		{"JSON in a body", `{"method": "POST", "url": "/api/x", "body": {"list": ["&{json/body.json}", 1]}}`,
			map[string]any{"list": []any{body, json.Number("1")}}},
		{"a whole request", `"&{requests/req.json}"`, body},
		{"JSON eight deep", `{"method": "POST", "url": "/api/x", "body": {"n": "&{deep/3.json}"}}`, map[string]any{"n": nested(7)}},
		{"a key is left as written", `{"method": "POST", "url": "/api/x", "body": {"@{css/styles.css}": 1}}`,
			map[string]any{"@{css/styles.css}": json.Number("1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readKickstart(t, dir, includeFile(tc.request))
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if diff := cmp.Diff(tc.want, bodyOf(t, f.Requests[0].Body)); diff != "" {
				t.Errorf("body (-want +got):\n%s\nsent: %s", diff, f.Requests[0].Body)
			}
			if tc.name == "a whole request" {
				id, _ := f.Variables["id"].(string)
				if r := f.Requests[0]; r.Method != "POST" || r.URL != "/api/user/"+id {
					t.Errorf("request %s %s, want POST /api/user/%s", r.Method, r.URL, id)
				}
			}
		})
	}

	// Variables and API keys may include text too.
	f, err := readKickstart(t, dir, `{"variables": {"css": "@{css/styles.css}"}, "apiKeys": [{"key": "`+adminKey+`", "description": "@{css/styles.css}"}],
	  "requests": [{"method": "POST", "url": "/api/x", "body": {"v": "#{css}"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if f.Variables["css"] != includedCSS || f.APIKeys[0].Description != includedCSS {
		t.Errorf("variable %q, key description %q, want the file's text", f.Variables["css"], f.APIKeys[0].Description)
	}

}

// TestReadFileIncludeErrors: an include that leads out of the kickstart
// file's folder (absolute, .., a symbolic link), that names no regular
// file, that is too large or not UTF-8, that is no JSON where JSON is
// included, or that includes itself refuses the file, naming the request
// and the include, never showing what a file holds.
func TestReadFileIncludeErrors(t *testing.T) {
	dir := includeTree(t)
	top := filepath.Dir(dir)
	req := func(body string) string { return `{"method": "POST", "url": "/api/x", "body": ` + body + `}` }
	many := make([]string, 17)
	for i := range many {
		many[i] = `"@{max.txt}"`
	}
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"absolute path", includeFile(req(`{"a": "@{` + filepath.Join(top, "secret.txt") + `}"}`)), []string{"requests[0]", "stay inside its folder"}},
		{"parent", includeFile(req(`{"a": "@{../secret.txt}"}`)), []string{"requests[0]", "@{../secret.txt}", "stay inside its folder"}},
		{"down and out", includeFile(req(`{"a": "@{css/../../secret.txt}"}`)), []string{"requests[0]", "stay inside its folder"}},
		{"JSON from the parent", includeFile(req(`"&{../secret.txt}"`)), []string{"requests[0]", "&{../secret.txt}", "stay inside its folder"}},
		{"a link to a file outside", includeFile(req(`{"a": "@{secret-link.txt}"}`)), []string{"requests[0]", "@{secret-link.txt}", "cannot be read inside"}},
		{"a link to a folder outside", includeFile(req(`{"a": "@{top/secret.txt}"}`)), []string{"requests[0]", "@{top/secret.txt}", "cannot be read inside"}},
		{"an absolute link outside", includeFile(req(`{"a": "@{abs-link.txt}"}`)), []string{"requests[0]", "cannot be read inside"}},
		{"a link to itself", includeFile(req(`{"a": "@{loop.txt}"}`)), []string{"requests[0]", "@{loop.txt}"}},
		{"no such file", includeFile(req(`{"a": "@{nope.css}"}`)), []string{"requests[0]", "@{nope.css}", "no such file"}},
		{"empty name", includeFile(req(`{"a": "@{}"}`)), []string{"requests[0]", "@{}"}},
		{"a folder", includeFile(req(`{"a": "@{sub}"}`)), []string{"requests[0]", "@{sub}", "not a regular file"}},
		{"too large", includeFile(req(`{"a": "@{big.txt}"}`)), []string{"requests[0]", "@{big.txt}", "larger than 1048576 bytes"}},
		{"too much in all", includeFile(req(`[` + strings.Join(many, ",") + `]`)), []string{"requests[0]", "add up to more than"}},
		{"not UTF-8", includeFile(req(`{"a": "@{bad-utf8.txt}"}`)), []string{"requests[0]", "@{bad-utf8.txt}", "not UTF-8"}},
		{"not JSON", includeFile(req(`"&{bad.json}"`)), []string{"requests[0]", "&{bad.json}", "not valid JSON", "line 1"}},
		{"text as JSON", includeFile(req(`"&{css/styles.css}"`)), []string{"requests[0]", "&{css/styles.css}", "not valid JSON"}},
		{"JSON in part of a string", includeFile(req(`{"a": "x &{json/body.json}"}`)), []string{"requests[0]", "&{json/body.json}", "whole string"}},
		{"JSON in part of a string, included", includeFile(req(`"&{json/partial.json}"`)), []string{"requests[0]", "&{json/partial.json}", "whole string"}},
		{"JSON outside quotes", includeFile(req(`{"a": &{json/body.json}}`)), []string{"not valid JSON", "outside quotes", `"&{name}"`}},
		{"JSON outside quotes, included", includeFile(req(`"&{bare.json}"`)), []string{"requests[0]", "&{bare.json}", "outside quotes"}},
		{"text outside quotes", includeFile(req(`{"a": @{css/styles.css}}`)), []string{"not valid JSON", "outside quotes", `"@{name}"`}},
		{"unknown placeholder in an included file", includeFile(req(`"&{json/unknown.json}"`)),
			[]string{"requests[0]", "&{json/unknown.json}", "unknown placeholder #{nope}"}},
		{"itself", includeFile(req(`"&{self.json}"`)), []string{"requests[0]", "&{self.json} includes itself"}},
		{"a cycle", includeFile(req(`"&{a.json}"`)), []string{"requests[0]", "&{a.json}: &{b.json}", "includes itself"}},
		{"too deep", includeFile(req(`"&{deep/0.json}"`)), []string{"requests[0]", "nest more than 8 deep"}},
		{"in a later request", includeFile(req(`{}`) + "," + req(`{"a": "@{../secret.txt}"}`)), []string{"requests[1]", "@{../secret.txt}"}},
		{"in an API key", `{"apiKeys": [{"key": "` + adminKey + `", "description": "@{../secret.txt}"}]}`, []string{"apiKeys[0]", "@{../secret.txt}"}},
		{"in a variable", `{"variables": {"v": "@{secret-link.txt}"}}`, []string{`variable "v"`, "@{secret-link.txt}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readKickstart(t, dir, tc.file)
			if err == nil {
				t.Fatalf("ReadFile succeeded (%+v), want an error", f)
			}
			if !strings.HasPrefix(err.Error(), "kickstart: ") {
				t.Errorf("error %q does not say it is the kickstart's", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "xxxxxxxx") {
				t.Errorf("error %q shows what a file holds", err)
			}
		})
	}
}

// TestParseRefusesIncludes: without a kickstart file, there is no folder
// to include from; an include is refused, not left as text.
func TestParseRefusesIncludes(t *testing.T) {
	for _, body := range []string{`{"a": "@{css/styles.css}"}`, `"&{json/body.json}"`} {
		_, err := kickstart.Parse([]byte(withBody(body)), envOf(nil))
		if err == nil || !strings.Contains(err.Error(), "requests[0]") || !strings.Contains(err.Error(), "folder of a kickstart file") {
			t.Errorf("Parse with %s: %v, want an error naming requests[0] and the missing folder", body, err)
		}
	}
}
