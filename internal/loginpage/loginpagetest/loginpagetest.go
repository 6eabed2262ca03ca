// Package loginpagetest drives the hosted login page as a browser does,
// for tests: a cookie jar, redirects seen one at a time, and the login
// form read from the page's HTML and submitted with what a user types.
package loginpagetest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Form is an HTML form: where it posts, and the fields a browser would
// send (inputs with a name, with their value).
type Form struct {
	Action *url.URL
	Method string
	Fields url.Values
}

// ParseForm returns the first form of an HTML page served at base.
func ParseForm(base *url.URL, page io.Reader) (Form, error) {
	doc, err := html.Parse(page)
	if err != nil {
		return Form{}, err
	}
	var form *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if form != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" {
			form = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		return Form{}, fmt.Errorf("loginpagetest: no form on the page")
	}
	f := Form{Method: strings.ToUpper(attr(form, "method")), Fields: url.Values{}}
	if f.Method == "" {
		f.Method = http.MethodGet
	}
	if f.Action, err = base.Parse(attr(form, "action")); err != nil {
		return Form{}, err
	}
	var inputs func(*html.Node)
	inputs = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			f.Fields.Add(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			inputs(c)
		}
	}
	inputs(form)
	return f, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// Browser is an HTTP client with a cookie jar that does not follow
// redirects, so that a test sees each one.
type Browser struct {
	Client *http.Client
}

// NewBrowser returns a Browser over transport (http.DefaultTransport when nil).
func NewBrowser(transport http.RoundTripper) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Client: &http.Client{Jar: jar, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Page is a response, read.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   []byte
}

// Location is the page's redirect target, resolved; nil when it has none.
func (p *Page) Location() *url.URL {
	loc := p.Header.Get("Location")
	if loc == "" {
		return nil
	}
	u, err := p.URL.Parse(loc)
	if err != nil {
		return nil
	}
	return u
}

// Get fetches a URL.
func (b *Browser) Get(ctx context.Context, u string) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return b.do(req)
}

// Submit sends a form with its fields, set changed to the given values.
func (b *Browser) Submit(ctx context.Context, f Form, set url.Values) (*Page, error) {
	vals := url.Values{}
	for k, v := range f.Fields {
		vals[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		vals[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, f.Method, f.Action.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *Browser) do(req *http.Request) (*Page, error) {
	res, err := b.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &Page{URL: req.URL, Status: res.StatusCode, Header: res.Header, Body: body}, nil
}

// Authorize opens an authorization URL and, when the login page answers,
// logs in with loginID and password as a user types them. It returns the
// redirect to the client (its URL carries the code, or the error), or
// the page that answered instead.
func (b *Browser) Authorize(ctx context.Context, authorizeURL, loginID, password string) (*url.URL, *Page, error) {
	p, err := b.Get(ctx, authorizeURL)
	if err != nil {
		return nil, nil, err
	}
	if loc := p.Location(); loc != nil {
		return loc, p, nil
	}
	if p.Status != http.StatusOK {
		return nil, p, fmt.Errorf("loginpagetest: GET %s: %d", authorizeURL, p.Status)
	}
	f, err := ParseForm(p.URL, strings.NewReader(string(p.Body)))
	if err != nil {
		return nil, p, err
	}
	p, err = b.Submit(ctx, f, url.Values{"loginId": {loginID}, "password": {password}})
	if err != nil {
		return nil, nil, err
	}
	if loc := p.Location(); loc != nil {
		return loc, p, nil
	}
	return nil, p, fmt.Errorf("loginpagetest: the login form answered %d", p.Status)
}
