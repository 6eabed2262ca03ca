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
	"net/http"
	"net/http/httptest"
	"regexp"
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
	digest    string
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

// placeholder matches #{...}.
var placeholder = regexp.MustCompile(`#\{([^}]*)\}`)

// Parse reads a kickstart file and replaces its placeholders: #{name} by
// the variable name, #{UUID()} by a fresh id, #{ENV.NAME} by the
// environment variable NAME (looked up with getenv). Variables may use
// UUID() and ENV themselves. The variable defaultTenantId, if set, is the
// default tenant's id.
func Parse(data []byte, getenv func(string) (string, bool)) (*File, error) {
	var raw struct {
		Variables map[string]json.RawMessage `json:"variables"`
		APIKeys   []json.RawMessage          `json:"apiKeys"`
		Requests  []json.RawMessage          `json:"requests"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("kickstart: the file is not valid JSON: %w", err)
	}
	vars := map[string]string{}
	for name, v := range raw.Variables {
		s, err := variableText(v)
		if err != nil {
			return nil, fmt.Errorf("kickstart: variable %q: %w", name, err)
		}
		val, err := expand(s, nil, getenv)
		if err != nil {
			return nil, fmt.Errorf("kickstart: variable %q: %w", name, err)
		}
		vars[name] = val
	}
	f := &File{Variables: make(map[string]any, len(vars))}
	for k, v := range vars {
		f.Variables[k] = v
	}
	for i, k := range raw.APIKeys {
		var key APIKey
		if err := decodeExpanded(k, vars, getenv, &key); err != nil {
			return nil, fmt.Errorf("kickstart: apiKeys[%d]: %w", i, err)
		}
		if key.Key == "" {
			return nil, fmt.Errorf("kickstart: apiKeys[%d]: the key is blank", i)
		}
		f.APIKeys = append(f.APIKeys, key)
	}
	for i, r := range raw.Requests {
		var req Request
		if err := decodeExpanded(r, vars, getenv, &req); err != nil {
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
	sum := sha256.Sum256(data)
	f.digest = hex.EncodeToString(sum[:])
	return f, nil
}

// variableText is a variable's value as it replaces its placeholders: a
// string as it is, a number or a boolean as written in the file (not
// reformatted: 2592000 stays 2592000).
func variableText(v json.RawMessage) (string, error) {
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

// decodeExpanded replaces placeholders in every string of a JSON value
// and decodes the result into dst. Numbers pass through as written.
func decodeExpanded(msg json.RawMessage, vars map[string]string, getenv func(string) (string, bool), dst any) error {
	var v any
	d := json.NewDecoder(bytes.NewReader(msg))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	v, err := walk(v, vars, getenv)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

func walk(v any, vars map[string]string, getenv func(string) (string, bool)) (any, error) {
	switch x := v.(type) {
	case string:
		return expand(x, vars, getenv)
	case []any:
		for i := range x {
			var err error
			if x[i], err = walk(x[i], vars, getenv); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k := range x {
			var err error
			if x[k], err = walk(x[k], vars, getenv); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// expand replaces the placeholders of one string. vars nil: only UUID()
// and ENV are allowed (inside the variables themselves).
func expand(s string, vars map[string]string, getenv func(string) (string, bool)) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		switch {
		case name == "UUID()":
			return uuid.NewString()
		case strings.HasPrefix(name, "ENV."):
			v, ok := getenv(strings.TrimPrefix(name, "ENV."))
			if !ok && err == nil {
				err = fmt.Errorf("the environment variable %s is not set", strings.TrimPrefix(name, "ENV."))
			}
			return v
		case vars != nil:
			if v, ok := vars[name]; ok {
				return v
			}
		}
		if err == nil {
			err = fmt.Errorf("unknown placeholder %s", m)
		}
		return m
	})
	return out, err
}

// Apply sets up an uninitialised database from f in one transaction:
// the default tenant, the API keys, then every request through the handler
// that handler builds over the transaction's service. A request answered
// with anything but 2xx aborts and rolls back everything, naming the
// request and the answer.
func Apply(ctx context.Context, f *File, svc *identity.Service, handler func(*identity.Service) http.Handler) error {
	tenantID, _ := f.Variables["defaultTenantId"].(string)
	return svc.Tx(ctx, func(tx *identity.Service) error {
		if _, err := tx.Initialize(ctx, tenantID); err != nil {
			return fmt.Errorf("kickstart: create the default tenant: %w", err)
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
			if err := replay(ctx, h, f.APIKeys[0].Key, req); err != nil {
				return fmt.Errorf("kickstart: requests[%d] (%s %s): %w", i, req.Method, req.URL, err)
			}
		}
		return tx.MarkKickstarted(ctx, f.digest)
	})
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
