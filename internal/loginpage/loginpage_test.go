package loginpage

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestWriteLogin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		login Login
		want  []string
		not   []string
	}{
		{
			name:  "first view",
			login: Login{Title: "Log in", AppName: "Store", Action: "/oauth2/authorize", FormToken: "tok", Hidden: []Field{{"state", "s1"}}},
			want: []string{`<html lang="en">`, `<label for="loginId">`, `<label for="password">`, `id="loginId" name="loginId"`,
				`id="password" name="password"`, `autocomplete="current-password"`, `name="form_token" value="tok"`,
				`name="state" value="s1"`, `autofocus`, `method="post" action="/oauth2/authorize"`},
			not: []string{`<script`, `aria-describedby`, `role="alert"`, `http://`, `https://`},
		},
		{
			name:  "after a failure",
			login: Login{Title: "Log in", AppName: "Store", Action: "/oauth2/authorize", FormToken: "tok", LoginID: "ann@example.org", Error: "Invalid login credentials."},
			want: []string{`id="login-error" role="alert">Invalid login credentials.</p>`, `aria-describedby="login-error"`,
				`aria-invalid="true"`, `value="ann@example.org"`},
		},
		{
			name: "escapes what it echoes",
			login: Login{Title: "Log in", AppName: `<b>Store</b>`, Action: "/oauth2/authorize", LoginID: `"><script>alert(1)</script>`,
				Hidden: []Field{{"state", `"><img src=x onerror=alert(1)>`}}},
			want: []string{`&lt;b&gt;Store&lt;/b&gt;`, `&#34;&gt;&lt;script&gt;`},
			not:  []string{`<script>`, `<img`, `<b>`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := WriteLogin(rec, 200, tc.login, Options{FormTargets: []string{"https://app.example"}}); err != nil {
				t.Fatal(err)
			}
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("page has %q:\n%s", n, body)
				}
			}
			checkHeaders(t, rec)
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "form-action 'self' https://app.example;") {
				t.Errorf("CSP %q does not let the form lead to the client", csp)
			}
		})
	}
}

// checkHeaders checks the headers of every page, and that the page's one
// style carries the nonce its CSP names.
func checkHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	for name, want := range map[string]string{
		"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %s", csp, d)
		}
	}
	m := regexp.MustCompile(`style-src 'nonce-([A-Za-z0-9_-]{22})'`).FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("CSP %q has no style nonce", csp)
	}
	if n := strings.Count(rec.Body.String(), "<style"); n != 1 || !strings.Contains(rec.Body.String(), `<style nonce="`+m[1]+`">`) {
		t.Errorf("the page's style does not carry the CSP's nonce %s", m[1])
	}
}

func TestNonceIsPerResponse(t *testing.T) {
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	_ = WriteMessage(a, 400, Message{Title: "Error", Text: "x", Error: true}, Options{})
	_ = WriteMessage(b, 400, Message{Title: "Error", Text: "x", Error: true}, Options{})
	checkHeaders(t, a)
	if a.Header().Get("Content-Security-Policy") == b.Header().Get("Content-Security-Policy") {
		t.Fatal("two responses share a CSP nonce")
	}
	if !strings.Contains(a.Body.String(), `role="alert">x</p>`) || a.Code != 400 {
		t.Fatalf("message page: %d %s", a.Code, a.Body)
	}
}

func TestFormTargetsCannotInjectDirectives(t *testing.T) {
	rec := httptest.NewRecorder()
	_ = WriteMessage(rec, 200, Message{Title: "t", Text: "x"}, Options{FormTargets: []string{"https://a.example; script-src *", "com.example.app:"}})
	csp := rec.Header().Get("Content-Security-Policy")
	if strings.Contains(csp, "script-src") || !strings.Contains(csp, "form-action 'self' com.example.app:;") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestWriteCode(t *testing.T) {
	rec := httptest.NewRecorder()
	err := WriteCode(rec, 401, Code{Title: "Two-factor authentication", AppName: "Store", Action: "authorize", FormToken: "tok",
		Hidden: []Field{{"two_factor_id", "tf1"}}, Error: "Invalid code."}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	for _, w := range []string{`<label for="code">`, `autocomplete="one-time-code"`, `name="two_factor_id" value="tf1"`,
		`aria-describedby="code-help code-error"`, `id="code-error" role="alert">Invalid code.</p>`, `name="form_token" value="tok"`} {
		if !strings.Contains(body, w) {
			t.Errorf("code page lacks %q:\n%s", w, body)
		}
	}
	checkHeaders(t, rec)
}
