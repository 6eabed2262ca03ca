// Package loginpage renders Latch's hosted login page and its messages:
// HTML from templates embedded in the binary, with no external asset and
// no script, its one inline style allowed by a nonce made for each
// response, and the headers that keep the page from being framed, cached
// or leaking its URL.
package loginpage

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

var (
	loginTemplate   = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/login.html"))
	messageTemplate = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/message.html"))
	codeTemplate    = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/code.html"))
)

// Field is a hidden form field: a parameter of the authorization request
// the form carries back.
type Field struct{ Name, Value string }

// Login is the login form.
type Login struct {
	// Title heads the page ("Log in").
	Title string
	// AppName is the application the user logs in to.
	AppName string
	// Action is the URL the form posts to.
	Action string
	// Hidden are the fields the form carries back as they are.
	Hidden []Field
	// FormToken is the token that proves the form came from this page.
	FormToken string
	// LoginID fills the login ID field (a login_hint, or what was typed).
	LoginID string
	// Error, when set, says why the last attempt failed; it is announced
	// to screen readers and tied to the fields with aria-describedby.
	Error string
}

// Code is the second step of a login: the form that asks for a
// two-factor code (an authenticator's, or a recovery code).
type Code struct {
	Title     string
	AppName   string
	Action    string
	Hidden    []Field
	FormToken string
	// Error, when set, says why the last code was refused.
	Error string
}

// Message is a page that only says something: an error, or that the user
// logged out.
type Message struct {
	Title string
	Text  string
	// Error makes the text an alert rather than a status.
	Error bool
}

// Options are the per-response settings of a page.
type Options struct {
	// FormTargets are origins (https://app.example) or schemes
	// (com.example.app:) the page's form may lead to besides its own
	// origin: where a successful login redirects the browser, which
	// form-action governs too.
	FormTargets []string
}

// WriteLogin writes the login form with status code.
func WriteLogin(w http.ResponseWriter, code int, l Login, o Options) error {
	return write(w, code, loginTemplate, l, o)
}

// WriteCode writes the two-factor code form with status code.
func WriteCode(w http.ResponseWriter, code int, c Code, o Options) error {
	return write(w, code, codeTemplate, c, o)
}

// WriteMessage writes a message page with status code.
func WriteMessage(w http.ResponseWriter, code int, m Message, o Options) error {
	return write(w, code, messageTemplate, m, o)
}

func write(w http.ResponseWriter, code int, t *template.Template, data any, o Options) error {
	nonce := newNonce()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, templateName(t), withNonce(data, nonce)); err != nil {
		return err
	}
	SetHeaders(w.Header(), nonce, o)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.Write(buf.Bytes())
	return err
}

func templateName(t *template.Template) string {
	switch t {
	case loginTemplate:
		return "login.html"
	case codeTemplate:
		return "code.html"
	}
	return "message.html"
}

// withNonce returns the template data with the style nonce added.
func withNonce(data any, nonce string) any {
	switch d := data.(type) {
	case Login:
		return struct {
			Login
			Nonce string
		}{d, nonce}
	case Message:
		return struct {
			Message
			Nonce string
		}{d, nonce}
	case Code:
		return struct {
			Code
			Nonce string
		}{d, nonce}
	}
	return data
}

// newNonce returns 128 random bits, base64url: nothing in it that
// html/template would escape in the style tag's attribute.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SetHeaders sets the headers of every page (and, with no nonce, of
// every redirect): a Content-Security-Policy
// that allows nothing but the page's own nonce-bearing style, and its
// form posting to its own origin (and o.FormTargets); no framing, by CSP
// and X-Frame-Options; no caching; no Referer sent with anything.
func SetHeaders(h http.Header, nonce string, o Options) {
	formAction := "'self'"
	for _, t := range o.FormTargets {
		if t != "" && !strings.ContainsAny(t, " ;,'\"\r\n") {
			formAction += " " + t
		}
	}
	style := ""
	if nonce != "" { // a redirect has no body, and no style
		style = "; style-src 'nonce-" + nonce + "'"
	}
	h.Set("Content-Security-Policy", "default-src 'none'"+style+"; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
}
