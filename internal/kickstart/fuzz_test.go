package kickstart

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzEnv is the environment of FuzzParse: a key, a number that could be
// a secret, and values that try to break out of the strings they land in.
var fuzzEnv = map[string]string{
	"KEY":  "0123456789abcdef0123456789abcdef",
	"NUM":  "31415926535897932384",
	"EVIL": `", "admin": true, "x": "`,
	"ESC":  `\`,
	"OBJ":  `}, "x": {`,
	"NUL":  "\x00\u2028<&>",
}

// FuzzParse: any file either parses or is refused with an error that says
// it is the kickstart's and shows no secret of the environment; a parsed
// file's requests all have a method and a path, and at least one API key
// when there are requests; and replacing placeholders changes no request
// body's structure: the same objects, arrays and keys, strings where there
// were strings, and scalars where there were scalars or placeholders
// outside quotes.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"variables":{"id":"#{UUID()}","k":"#{ENV.KEY}"},"apiKeys":[{"key":"#{k}"}],"requests":[{"method":"post","url":"/api/application/#{id}","body":{"application":{"name":"#{id}"}}}]}`,
		`{"variables":{"n":2592000,"b":true},"apiKeys":[{"key":"k"}],"requests":[{"method":"PATCH","url":"/api/tenant/x","body":{"n":"#{n}"}}]}`,
		`{"variables":{"n":2592000,"b":true,"s":"x"},"apiKeys":[{"key":"k"}],"requests":[{"method":"PATCH","url":"/api/tenant/x","body":{"n":#{n},"b":[#{b},#{ENV.NUM}],"s":#{s}}}]}`,
		`{"variables":{"e":"#{ENV.EVIL}"},"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/x/#{e}","body":{"a":"#{e}","#{e}":"#{ENV.OBJ}#{ENV.NUL}","b":["\\#{e}\u0023{e}"]}}]}`,
		`{"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/x","body":{"user":{"name":"#{ENV.EVIL}","data":[#{ENV.NUM}]}}}]}`,
		`{"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/x","body":{"data":["#{ENV.ESC}","x"]}}]}`,
		`{"variables":{"v":"1, \"admin\": true"},"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/x","body":{"n":#{v}}}]}`,
		`{"apiKeys":[{"key":#{ENV.NUM}}]}`, `{"variables":{"t":#{ENV.NUM}},"requests":[#{t}]}`, `{"a":#{x}#{y}}`, `{"a":1#{x}}`,
		`{"requests":[{"method":"GET","url":"/x"}]}`, `{"variables":{"a":"#{a}"}}`, `{"apiKeys":[{"key":""}]}`,
		`{"variables":{"x":null}}`, `#{`, `[]`, `{}`,
	} {
		f.Add([]byte(seed))
	}
	env := func(name string) (string, bool) {
		v, ok := fuzzEnv[name]
		return v, ok
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, env)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "kickstart: ") {
				t.Fatalf("error %q does not say it is the kickstart's", err)
			}
			for _, name := range []string{"KEY", "NUM"} {
				if v := fuzzEnv[name]; strings.Contains(err.Error(), v) && !bytes.Contains(data, []byte(v)) {
					t.Fatalf("error %q shows the value of %s", err, name)
				}
			}
			return
		}
		if len(file.Requests) > 0 && len(file.APIKeys) == 0 {
			t.Fatal("requests without an API key were accepted")
		}
		for i, k := range file.APIKeys {
			if k.Key == "" {
				t.Fatalf("apiKeys[%d] accepted without a key", i)
			}
		}
		for i, r := range file.Requests {
			if r.Method == "" || len(r.URL) == 0 || r.URL[0] != '/' {
				t.Fatalf("requests[%d] accepted without a method or a path: %+v", i, r)
			}
		}

		// The requests as written, placeholders outside quotes masked.
		masked, _ := mask(data)
		var written struct {
			Requests []struct {
				Body json.RawMessage `json:"body"`
			} `json:"requests"`
		}
		if err := json.Unmarshal(masked, &written); err != nil || len(written.Requests) != len(file.Requests) {
			t.Fatalf("the masked file has requests %d (%v), Parse found %d", len(written.Requests), err, len(file.Requests))
		}
		for i, r := range file.Requests {
			if len(r.Body) > 0 && !json.Valid(r.Body) {
				t.Fatalf("requests[%d]: the body is not JSON: %s", i, r.Body)
			}
			want, err := shape(written.Requests[i].Body)
			if err != nil {
				t.Fatalf("requests[%d]: the body as written: %v", i, err)
			}
			got, err := shape(r.Body)
			if err != nil {
				t.Fatalf("requests[%d]: the body: %v", i, err)
			}
			if !slices.Equal(want, got) {
				t.Fatalf("requests[%d]: replacing placeholders changed the body's structure:\nwritten %s\nsent    %s\n%q\n%q",
					i, written.Requests[i].Body, r.Body, want, got)
			}
		}
	})
}

// shape is the structure of a JSON value: its delimiters and keys, every
// string as "string" and every other scalar as "scalar".
func shape(raw []byte) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var out []string
	var inObject, wantKey []bool // one per open object or array
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		n := len(inObject) - 1
		if n >= 0 && inObject[n] && wantKey[n] {
			if tok == json.Delim('}') {
				out = append(out, "}")
				inObject, wantKey = inObject[:n], wantKey[:n]
				valueDone(inObject, wantKey)
				continue
			}
			out = append(out, "key "+tok.(string))
			wantKey[n] = false
			continue
		}
		switch tok := tok.(type) {
		case json.Delim:
			out = append(out, tok.String())
			switch tok {
			case '{', '[':
				inObject, wantKey = append(inObject, tok == '{'), append(wantKey, tok == '{')
				continue
			default:
				inObject, wantKey = inObject[:n], wantKey[:n]
			}
		case string:
			out = append(out, "string")
		default:
			out = append(out, "scalar")
		}
		valueDone(inObject, wantKey)
	}
}

// valueDone notes that a value ended: in an object, a key comes next.
func valueDone(inObject, wantKey []bool) {
	if n := len(inObject) - 1; n >= 0 && inObject[n] {
		wantKey[n] = true
	}
}

// FuzzIncludes: whatever a file includes, from a folder that holds text,
// JSON and links that lead out of it, nothing outside the folder reaches
// the parsed file or an error; a parsed file's bodies are JSON; an error
// says it is the kickstart's.
func FuzzIncludes(f *testing.F) {
	top := f.TempDir()
	dir := filepath.Join(top, "ks")
	const outside = "OUTSIDE-THE-FOLDER-4d1f"
	for name, content := range map[string]string{
		"t.txt":     "text \" \\ \n #{KEY} @{t.txt} &{j.json}",
		"j.json":    `{"a": "@{t.txt}", "n": #{n}, "k": "#{ENV.KEY}", "j": ["&{k.json}"]}`,
		"k.json":    `[1, "x", null]`,
		"self.json": `"&{self.json}"`,
		"../o.txt":  outside,
		"../o.json": `"` + outside + `"`,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	for link, target := range map[string]string{"out.txt": "../o.txt", "out.json": filepath.Join(top, "o.json"), "up": ".."} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			f.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { root.Close() })
	for _, seed := range []string{
		`{"variables":{"n":3},"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/x","body":{"a":"@{t.txt}","b":"&{j.json}"}}]}`,
		`{"variables":{"n":3},"apiKeys":[{"key":"k"}],"requests":["&{j.json}"]}`,
		`{"apiKeys":[{"key":"@{t.txt}"}],"requests":[{"method":"POST","url":"/x","body":["@{../o.txt}","@{out.txt}","@{up/o.txt}","&{out.json}"]}]}`,
		`{"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/x","body":"&{self.json}"}]}`,
		`{"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/x","body":{"a":&{k.json}}}]}`,
		`{"variables":{"v":"@{t.txt}"},"apiKeys":[{"key":"k"}],"requests":[{"method":"POST","url":"/@{t.txt}","body":"x &{k.json}"}]}`,
	} {
		f.Add([]byte(seed))
	}
	env := func(name string) (string, bool) {
		v, ok := fuzzEnv[name]
		return v, ok
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte(outside)) {
			return
		}
		file, err := parse(data, &includer{root: root}, env)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "kickstart: ") {
				t.Fatalf("error %q does not say it is the kickstart's", err)
			}
			if strings.Contains(err.Error(), outside) {
				t.Fatalf("error %q shows a file outside the folder", err)
			}
			return
		}
		out, err := json.Marshal(file)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte(outside)) {
			t.Fatalf("a file outside the folder was included: %s", out)
		}
		for i, r := range file.Requests {
			if len(r.Body) > 0 && !json.Valid(r.Body) {
				t.Fatalf("requests[%d]: the body is not JSON: %s", i, r.Body)
			}
		}
	})
}
