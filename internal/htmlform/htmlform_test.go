package htmlform_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/latchid/latch/internal/htmlform"
)

const page = `<!doctype html><html lang="en"><title>Log in</title>
<p><input name="outside" value="not in a form"></p>
<form method="post" action="/login?step=1">
  <input type="hidden" name="csrf" value="tok&amp;1">
  <label for="e">Email or <b>username</b></label><input id="e" name="loginId" type="EMAIL" value="hint@example.org">
  <label for="p">Password</label><input id="p" name="password" type="password">
  <input type="checkbox" name="remember" value="on">
  <button type="submit" name="go" value="1">Log in</button>
</form>`

func TestBrowser_LogIn(t *testing.T) {
	var got url.Values
	var cookie string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/start":
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "v1", Path: "/"})
			http.Redirect(w, r, "/page", http.StatusFound)
		case r.Method == http.MethodGet && r.URL.Path == "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page)
		case r.Method == http.MethodPost && r.URL.Path == "/login" && r.URL.RawQuery == "step=1":
			r.ParseForm()
			got = r.PostForm
			if c, err := r.Cookie("s"); err == nil {
				cookie = c.Value
			}
			if r.Header.Get("Origin") == "" {
				http.Error(w, "no Origin", http.StatusForbidden)
				return
			}
			http.Redirect(w, r, "/done", http.StatusSeeOther)
		case r.URL.Path == "/done":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "done")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	b := htmlform.New()
	p, err := b.Get(t.Context(), srv.URL+"/start")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL.Path != "/page" || len(p.Forms) != 1 {
		t.Fatalf("page %s with %d forms, want /page with one", p.URL, len(p.Forms))
	}
	f, err := p.Form("password")
	if err != nil {
		t.Fatal(err)
	}
	login, err := f.ByLabel("EMAIL")
	if err != nil || login.Name != "loginId" || login.Type != "email" || login.Value != "hint@example.org" {
		t.Fatalf("ByLabel(EMAIL) = %+v, %v", login, err)
	}
	if err := f.Fill("email or username", "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := f.Fill("password", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := f.Fill("remember me", "x"); err == nil {
		t.Errorf("Fill found a field with no such label")
	}
	done, err := b.Submit(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	if done.URL.Path != "/done" || string(done.Body) != "done" || done.Forms != nil {
		t.Errorf("after submit: %s %q, want /done", done.URL, done.Body)
	}
	want := url.Values{"csrf": {"tok&1"}, "loginId": {"ana@example.org"}, "password": {"secret"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("posted %v, want %v", got, want)
	}
	if cookie != "v1" {
		t.Errorf("cookie %q, want the one set before the redirect", cookie)
	}
}
