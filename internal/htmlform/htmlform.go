// Package htmlform walks HTML pages as a browser without JavaScript does,
// for tests that log in on Latch's hosted login page with net/http: a
// cookie jar, redirects followed, forms parsed from the page (hidden
// fields included), fields found by their labels, and a form submitted
// as the browser submits it (application/x-www-form-urlencoded, to its
// action resolved against the page).
package htmlform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxPage bounds the pages a Browser reads.
const maxPage = 4 << 20

// Browser is an HTTP client with a cookie jar. Its zero value is not
// usable: make one with New.
type Browser struct {
	// Client sends the requests; it has the jar and follows redirects.
	Client *http.Client
}

// New returns a Browser with an empty cookie jar that follows up to ten
// redirects, as browsers do.
func New() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Client: &http.Client{Jar: jar}}
}

// Page is a page the Browser ended on, after redirects.
type Page struct {
	URL    *url.URL // where the page came from, after redirects
	Status int
	Header http.Header
	Body   []byte
	Forms  []*Form
}

// Form is a form of a page: its method, its action resolved against the
// page's URL, and its fields in document order.
type Form struct {
	Method string // GET or POST
	Action *url.URL
	Fields []*Field
}

// Field is an input, select, textarea or named button of a form.
type Field struct {
	Tag   string // input, select, textarea, button
	Type  string // the input's type attribute, lower case ("text" when absent)
	Name  string
	ID    string
	Value string
	Label string // the text of the label for the field, if any
}

// Get fetches rawURL and follows redirects.
func (b *Browser) Get(ctx context.Context, rawURL string) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	return b.do(req)
}

// Submit sends the form with its fields' values, as a browser does on
// submit: its named fields, save buttons, checkboxes and radios (which
// this package never checks).
func (b *Browser) Submit(ctx context.Context, f *Form) (*Page, error) {
	vals := url.Values{}
	for _, fl := range f.Fields {
		if fl.Name == "" || fl.Tag == "button" || fl.Type == "submit" || fl.Type == "checkbox" || fl.Type == "radio" {
			continue
		}
		vals.Add(fl.Name, fl.Value)
	}
	var req *http.Request
	var err error
	if f.Method == http.MethodGet {
		u := *f.Action
		u.RawQuery = vals.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, f.Action.String(), strings.NewReader(vals.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			// Browsers send Origin with every POST.
			req.Header.Set("Origin", f.Action.Scheme+"://"+f.Action.Host)
		}
	}
	if err != nil {
		return nil, err
	}
	return b.do(req)
}

func (b *Browser) do(req *http.Request) (*Page, error) {
	req.Header.Set("Accept", "text/html")
	resp, err := b.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, err
	}
	p := &Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.Forms, err = parseForms(body, p.URL); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Form returns the page's first form that has a field of type typ (say,
// "password"), or an error that quotes the page.
func (p *Page) Form(typ string) (*Form, error) {
	for _, f := range p.Forms {
		for _, fl := range f.Fields {
			if fl.Type == typ {
				return f, nil
			}
		}
	}
	return nil, fmt.Errorf("htmlform: %s (%d) has no form with a %s field:\n%s", p.URL, p.Status, typ, p.Body)
}

// ByLabel returns the field whose label contains text, in any case.
func (f *Form) ByLabel(text string) (*Field, error) {
	text = strings.ToLower(text)
	for _, fl := range f.Fields {
		if fl.Label != "" && strings.Contains(strings.ToLower(fl.Label), text) {
			return fl, nil
		}
	}
	return nil, fmt.Errorf("htmlform: no field labelled %q", text)
}

// ByType returns the first field of type typ.
func (f *Form) ByType(typ string) (*Field, error) {
	for _, fl := range f.Fields {
		if fl.Type == typ {
			return fl, nil
		}
	}
	return nil, fmt.Errorf("htmlform: no field of type %q", typ)
}

// Fill sets the field labelled label (in any case) to value.
func (f *Form) Fill(label, value string) error {
	fl, err := f.ByLabel(label)
	if err != nil {
		return err
	}
	fl.Value = value
	return nil
}

// parseForms returns the forms of an HTML document, their actions
// resolved against base.
func parseForms(body []byte, base *url.URL) ([]*Form, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("htmlform: parse %s: %w", base, err)
	}
	labels := map[string]string{} // id → label text
	var forms []*Form
	var walk func(n *html.Node, form *Form)
	walk = func(n *html.Node, form *Form) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Form:
				action, err := base.Parse(attr(n, "action"))
				if err != nil {
					action = base
				}
				method := strings.ToUpper(attr(n, "method"))
				if method != http.MethodPost {
					method = http.MethodGet
				}
				form = &Form{Method: method, Action: action}
				forms = append(forms, form)
			case atom.Label:
				if id := attr(n, "for"); id != "" {
					labels[id] = strings.Join(strings.Fields(text(n)), " ")
				}
			case atom.Input, atom.Select, atom.Textarea, atom.Button:
				if form != nil {
					fl := &Field{Tag: n.Data, Name: attr(n, "name"), ID: attr(n, "id"), Value: attr(n, "value")}
					if n.DataAtom == atom.Input {
						fl.Type = strings.ToLower(attr(n, "type"))
						if fl.Type == "" {
							fl.Type = "text"
						}
					}
					if n.DataAtom == atom.Textarea {
						fl.Value = text(n)
					}
					form.Fields = append(form.Fields, fl)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form)
		}
	}
	walk(doc, nil)
	for _, f := range forms {
		for _, fl := range f.Fields {
			if fl.ID != "" {
				fl.Label = labels[fl.ID]
			}
		}
	}
	if len(forms) == 0 && bytes.Contains(bytes.ToLower(body), []byte("<form")) {
		return nil, errors.New("htmlform: the page has a <form> that did not parse")
	}
	return forms, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
