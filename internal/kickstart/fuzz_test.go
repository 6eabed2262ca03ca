package kickstart

import "testing"

// FuzzParse: any file either parses or is refused with an error; a parsed
// file's requests all have a method and a path, and at least one API key
// when there are requests.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"variables":{"id":"#{UUID()}","k":"#{ENV.KEY}"},"apiKeys":[{"key":"#{k}"}],"requests":[{"method":"post","url":"/api/application/#{id}","body":{"application":{"name":"#{id}"}}}]}`,
		`{"variables":{"n":2592000,"b":true},"apiKeys":[{"key":"k"}],"requests":[{"method":"PATCH","url":"/api/tenant/x","body":{"n":"#{n}"}}]}`,
		`{"requests":[{"method":"GET","url":"/x"}]}`, `{"variables":{"a":"#{a}"}}`, `{"apiKeys":[{"key":""}]}`,
		`{"variables":{"x":null}}`, `#{`, `[]`, `{}`,
	} {
		f.Add([]byte(seed))
	}
	env := func(name string) (string, bool) {
		if name == "KEY" {
			return "0123456789abcdef0123456789abcdef", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, env)
		if err != nil {
			return
		}
		if len(file.Requests) > 0 && len(file.APIKeys) == 0 {
			t.Fatal("requests without an API key were accepted")
		}
		for i, r := range file.Requests {
			if r.Method == "" || len(r.URL) == 0 || r.URL[0] != '/' {
				t.Fatalf("requests[%d] accepted without a method or a path: %+v", i, r)
			}
		}
	})
}
