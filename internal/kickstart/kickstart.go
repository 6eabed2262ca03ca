// Package kickstart applies a FusionAuth kickstart file to a new database:
// its API keys are created and its requests replayed through the server's
// own handlers, all in one transaction, so that a kickstart either sets up
// everything or leaves the database untouched.
package kickstart

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
)

// File is a kickstart file: FusionAuth's variables, apiKeys and requests.
type File struct {
	Variables map[string]any `json:"variables"`
	APIKeys   []APIKey       `json:"apiKeys"`
	Requests  []Request      `json:"requests"`
	// DefaultTenantID is the default tenant's id, as
	// #{FUSIONAUTH_TENANT_ID} gives it: the variable defaultTenantId, or
	// one made for the file.
	DefaultTenantID string `json:"-"`
	// SigningKeyID is the id of the default tenant's signing key, as
	// #{FUSIONAUTH_DEFAULT_SIGNING_KEY_ID} gives it, made for the file.
	SigningKeyID string `json:"-"`
	digest       string
}

// APIKey is an API key the kickstart creates. The first one authenticates
// the requests.
type APIKey struct {
	ID          string                `json:"id,omitempty"`
	Key         string                `json:"key"`
	Description string                `json:"description,omitempty"`
	TenantID    string                `json:"tenantId,omitempty"`
	Permissions api.APIKeyPermissions `json:"permissions"`
}

// Request is one API call of the kickstart.
type Request struct {
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body,omitempty"`
	TenantID string          `json:"tenantId,omitempty"`
}

// Parse reads a kickstart file and replaces its placeholders: #{name} by
// the variable name, #{UUID()} by a fresh id (every occurrence its own),
// #{ENV.NAME} by the environment variable NAME (looked up with getenv),
// and FusionAuth's own values (#{FUSIONAUTH_APPLICATION_ID},
// #{FUSIONAUTH_TENANT_ID} ...; see isBuiltin). Variables may use UUID()
// and ENV themselves; the API keys and the requests (method, url,
// tenantId and body) may use them all. Inside a string value a
// placeholder may be all or part of the string, and its value is
// JSON-escaped there; outside quotes it is a whole value, and its value
// must be a number, true, false or null (so a variable 3600 may set
// "timeToLiveInSeconds": #{ttl}). The variable defaultTenantId, if set,
// is the default tenant's id. Parse refuses includes (@{file}, &{file}),
// which need the folder of a kickstart file: see ReadFile.
func Parse(data []byte, getenv func(string) (string, bool)) (*File, error) {
	return parse(data, nil, getenv)
}

// ReadFile reads the kickstart file at path and parses it as Parse does,
// with its includes: "@{name}" in a string puts in the text of the file
// name, JSON-escaped, and a string "&{name}" is replaced by the JSON of
// the file name, its own placeholders and includes replaced (see
// include.go). name is relative to path's folder, and may not lead out of
// it.
func ReadFile(path string, getenv func(string) (string, bool)) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kickstart: %w", err)
	}
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("kickstart: the folder of the kickstart file: %w", err)
	}
	defer root.Close()
	return parse(data, &includer{root: root}, getenv)
}

// parse is Parse with the includes of inc (nil: refused).
func parse(data []byte, inc *includer, getenv func(string) (string, bool)) (*File, error) {
	digest := sha256.New()
	digest.Write(data)
	if inc != nil {
		inc.digest = digest
	}
	masked, spots := mask(data)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(masked, &top); err != nil {
		return nil, fmt.Errorf("kickstart: the file is not valid JSON: %w", syntaxError(err, data, spots))
	}
	d := doc{data: data, masked: masked, spots: make(map[int]int, len(spots))}
	for _, s := range spots {
		d.spots[s.start] = s.end
	}
	var varMembers []member
	var keySpans, reqSpans []span
	if top != nil {
		var err error
		if varMembers, keySpans, reqSpans, err = d.sections(); err != nil {
			return nil, err
		}
	}

	vars := map[string]string{}
	for _, m := range varMembers {
		v, err := resolver{getenv: getenv, inc: inc}.substitute(d.text(m.span))
		if err == nil {
			vars[m.name], err = variableText(v)
		}
		if err != nil {
			return nil, fmt.Errorf("kickstart: variable %q: %w", m.name, err)
		}
	}
	f := &File{Variables: make(map[string]any, len(vars)), DefaultTenantID: vars["defaultTenantId"], SigningKeyID: uuid.NewString()}
	for k, v := range vars {
		f.Variables[k] = v
	}
	if f.DefaultTenantID == "" {
		f.DefaultTenantID = uuid.NewString()
	} else if id, err := uuid.Parse(f.DefaultTenantID); err == nil && len(f.DefaultTenantID) == 36 {
		f.DefaultTenantID = id.String() // as the tenant will have it
	}
	r := resolver{vars: vars, builtins: builtins(f.DefaultTenantID, f.SigningKeyID, vars["tenantManagerApplicationId"]),
		getenv: getenv, inc: inc}
	for i, s := range keySpans {
		var key APIKey
		if err := r.decode(d.text(s), &key); err != nil {
			return nil, fmt.Errorf("kickstart: apiKeys[%d]: %w", i, err)
		}
		if key.Key == "" {
			return nil, fmt.Errorf("kickstart: apiKeys[%d]: the key is blank", i)
		}
		f.APIKeys = append(f.APIKeys, key)
	}
	for i, s := range reqSpans {
		var req Request
		if err := r.decode(d.text(s), &req); err != nil {
			return nil, fmt.Errorf("kickstart: requests[%d]: %w", i, err)
		}
		req.Method = strings.ToUpper(req.Method)
		if req.Method == "" || !strings.HasPrefix(req.URL, "/") {
			return nil, fmt.Errorf("kickstart: requests[%d]: a request needs a method and a url starting with /", i)
		}
		f.Requests = append(f.Requests, req)
	}
	if len(f.Requests) > 0 && len(f.APIKeys) == 0 {
		return nil, errors.New("kickstart: requests need at least one entry in apiKeys")
	}
	f.digest = hex.EncodeToString(digest.Sum(nil))
	return f, nil
}

// sections finds the variables, the API keys and the requests of the file,
// an object, as encoding/json decodes an object into a struct: names match
// in any case, a later member replaces an earlier one, null empties.
func (d doc) sections() (vars []member, keys, reqs []span, err error) {
	ms, err := d.members(span{0, len(d.masked)})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kickstart: the file is not valid JSON: %w", err)
	}
	at := map[string]int{} // index of a variable in vars
	for _, m := range ms {
		switch {
		case strings.EqualFold(m.name, "variables"):
			if d.kind(m.span) == 'n' {
				vars, at = nil, map[string]int{}
				continue
			}
			vs, err := d.members(m.span)
			if err != nil {
				return nil, nil, nil, errors.New("kickstart: variables must be an object")
			}
			for _, v := range vs {
				if i, ok := at[v.name]; ok {
					vars[i] = v
					continue
				}
				at[v.name] = len(vars)
				vars = append(vars, v)
			}
		case strings.EqualFold(m.name, "apiKeys"), strings.EqualFold(m.name, "requests"):
			var es []span
			if d.kind(m.span) != 'n' {
				if es, err = d.elements(m.span); err != nil {
					return nil, nil, nil, fmt.Errorf("kickstart: %s must be an array", m.name)
				}
			}
			if strings.EqualFold(m.name, "apiKeys") {
				keys = es
			} else {
				reqs = es
			}
		}
	}
	return vars, keys, reqs, nil
}

// variableText is a variable's value as it replaces its placeholders: a
// string as it is, a number or a boolean as written in the file (not
// reformatted: 2592000 stays 2592000).
func variableText(v []byte) (string, error) {
	v = bytes.TrimSpace(v)
	var x any
	if err := json.Unmarshal(v, &x); err == nil {
		switch x := x.(type) {
		case string:
			return x, nil
		case float64, bool:
			return string(v), nil
		}
	}
	return "", errors.New("a variable must be a string, a number or a boolean")
}

// decode replaces the placeholders of text, one JSON value of the file,
// and decodes it into dst. A value of the wrong type is named by its kind
// only: a number may have come from a placeholder, and be a secret.
func (r resolver) decode(text []byte, dst any) error {
	b, err := r.substitute(text)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			got, _, _ := strings.Cut(te.Value, " ")
			if te.Field == "" {
				return fmt.Errorf("want a %s, not a %s", te.Type, got)
			}
			return fmt.Errorf("%s must be a %s, not a %s", te.Field, te.Type, got)
		}
		return err
	}
	return nil
}

// Options are Apply's choices about requests to APIs Latch does not
// implement.
type Options struct {
	// Implements reports whether the server serves a request's method and
	// path (its route table says so); nil: every request is run.
	Implements func(method, path string) bool
	// SkipUnsupported skips the requests that Implements refuses, each
	// logged at WARN, instead of refusing the whole kickstart: a file
	// written for FusionAuth (themes, email templates, lambdas ...) can
	// then be used unchanged.
	SkipUnsupported bool
	// Logger receives the skips; slog.Default when nil.
	Logger *slog.Logger
}

// UnsupportedError refuses a kickstart with a request to an API Latch
// does not implement, when such requests are not skipped.
type UnsupportedError struct {
	Index        int    // the first such request's index in requests
	Method, Path string // its method and path (no query string)
	API          string // its API, named for an operator
	Count        int    // how many requests of the file are such
}

// Error names the first such request, its API, and how many there are.
func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("kickstart: requests[%d] (%s %s) calls %s, which Latch does not implement", e.Index, e.Method, e.Path, e.API)
	if e.Count > 1 {
		msg += fmt.Sprintf("; %d requests of the file call APIs Latch does not implement", e.Count)
	}
	return msg
}

// Apply sets up an uninitialised database from f in one transaction:
// the default tenant, FusionAuth's application (AdminApplicationID), the
// API keys, then every request through the handler that handler builds
// over the transaction's service. A request answered with anything but
// 2xx aborts and rolls back everything, naming the request and the
// answer. A request to an API Latch does not implement (opts.Implements)
// refuses the kickstart before anything is written, with an
// *UnsupportedError, or, with opts.SkipUnsupported, is skipped.
func Apply(ctx context.Context, f *File, svc *identity.Service, handler func(*identity.Service) http.Handler, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	var unsupported []int
	for i, req := range f.Requests {
		if opts.Implements != nil && !opts.Implements(req.Method, req.path()) {
			unsupported = append(unsupported, i)
		}
	}
	if len(unsupported) > 0 && !opts.SkipUnsupported {
		req := f.Requests[unsupported[0]]
		return &UnsupportedError{Index: unsupported[0], Method: req.Method, Path: req.path(), API: apiName(req.path()), Count: len(unsupported)}
	}
	return svc.Tx(ctx, func(tx *identity.Service) error {
		t, err := tx.Initialize(ctx, identity.Setup{TenantID: f.DefaultTenantID, SigningKeyID: f.SigningKeyID})
		if err != nil {
			return fmt.Errorf("kickstart: create the default tenant: %w", err)
		}
		if err := createAdminApplication(ctx, tx, t.ID); err != nil {
			return err
		}
		for i, k := range f.APIKeys {
			in := api.APIKey{Key: k.Key, TenantID: k.TenantID, Permissions: k.Permissions}
			if k.Description != "" {
				in.MetaData.Attributes = map[string]string{"description": k.Description}
			}
			if _, err := tx.CreateAPIKey(ctx, k.ID, in); err != nil {
				return fmt.Errorf("kickstart: apiKeys[%d]: %w", i, err)
			}
		}
		h := handler(tx)
		for i, req := range f.Requests {
			if slices.Contains(unsupported, i) {
				log.Warn("kickstart: request skipped: Latch does not implement its API",
					"request", i, "method", req.Method, "path", req.path(), "api", apiName(req.path()))
				continue
			}
			if err := replay(ctx, h, f.APIKeys[0].Key, req); err != nil {
				return fmt.Errorf("kickstart: requests[%d] (%s %s): %w", i, req.Method, req.URL, err)
			}
		}
		return tx.MarkKickstarted(ctx, f.digest)
	})
}

// path is the request's path, without its query string.
func (r Request) path() string {
	if u, err := url.Parse(r.URL); err == nil {
		return u.Path
	}
	p, _, _ := strings.Cut(r.URL, "?")
	return p
}

func replay(ctx context.Context, h http.Handler, key string, req Request) error {
	r, err := http.NewRequestWithContext(ctx, req.Method, "http://kickstart"+req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return err
	}
	r.RemoteAddr = "127.0.0.1:0"
	r.Header.Set("Authorization", key)
	if len(req.Body) > 0 {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.TenantID != "" {
		r.Header.Set(api.HeaderTenantID, req.TenantID)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code < 200 || w.Code > 299 {
		body := strings.TrimSpace(w.Body.String())
		if body == "" {
			return fmt.Errorf("answered %d", w.Code)
		}
		return fmt.Errorf("answered %d: %s", w.Code, body)
	}
	return nil
}
