package client

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

var (
	// ErrNotSet reports a required field left empty: Client.BaseURL or
	// FileStore.Path. It comes wrapped in a *ConfigError naming the field.
	ErrNotSet = errors.New("client: not set")

	// ErrInsecureHTTP reports an http:// Client.BaseURL for a host that is
	// not loopback while AllowInsecureHTTP is not set: the backend receives
	// the user's password, which must not cross a network in the clear. It
	// comes wrapped in a *ConfigError; test for it with errors.Is.
	ErrInsecureHTTP = errors.New("client: http:// to a host that is not loopback")
)

// ConfigError reports a field of a Client, or of its Store, that cannot
// work. Client.Validate and FileStore.Validate return it, and so does
// every method of a Client so configured (see Client.Validate). Test for
// the reason with errors.Is (ErrNotSet, ErrInsecureHTTP) and for the field
// with errors.As.
type ConfigError struct {
	// Field names the field: "BaseURL", "HTTPClient.Transport", "Store",
	// "FileStore.Path" or "FileStore.KeyPath".
	Field string
	// Value is the field's value when it helps to show it (a BaseURL,
	// with any password redacted, or a path), else "".
	Value string
	// Err says what is wrong: ErrNotSet, ErrInsecureHTTP (wrapped, with
	// advice), an error of the store's own Validate, or another error.
	Err error
}

// Error names the field, its value if any, and what is wrong with it.
func (e *ConfigError) Error() string {
	s := "client: " + e.Field
	if e.Value != "" {
		s += " " + strconv.Quote(e.Value)
	}
	if e.Err == nil {
		return s + ": invalid"
	}
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "client: ")
}

// Unwrap returns Err, so that errors.Is finds ErrNotSet and
// ErrInsecureHTTP.
func (e *ConfigError) Unwrap() error { return e.Err }

// validator is a TokenStore that can check its configuration without
// reading or writing anything, as FileStore does.
type validator interface {
	Validate() error
}

// Validate checks the Client's configuration without touching Store or
// the network, and returns what the Client's methods would fail with, or
// nil when they would not fail for their configuration:
//
//   - BaseURL must be set, parse as scheme://host[:port][/path] without
//     user information, query or fragment, and be https, or http for a
//     loopback host unless AllowInsecureHTTP is set (ErrInsecureHTTP);
//   - HTTPClient's Transport must not be this Client's own Transport,
//     which would loop;
//   - Store is checked with its own Validate method, if it has one (as
//     FileStore has).
//
// Each problem is a *ConfigError; several come joined (errors.Join), in
// the order above: errors.Is finds the reason of each, errors.As the
// first. Unlike the other methods, Validate does not freeze the
// configuration: the fields may still be changed after it. The first call
// of another method checks the configuration the same way, once; from
// then on every method fails with that error, Transport's RoundTrip
// included.
func (c *Client) Validate() error {
	_, _, err := c.check()
	return err
}

// check validates the configuration and returns BaseURL, parsed, with its
// origin.
func (c *Client) check() (base *url.URL, origin string, err error) {
	var errs []error
	base, origin, err = parseBaseURL(c.BaseURL, c.AllowInsecureHTTP)
	if err != nil {
		errs = append(errs, err)
	}
	if c.HTTPClient != nil {
		if t, ok := c.HTTPClient.Transport.(transport); ok && t.c == c {
			errs = append(errs, &ConfigError{Field: "HTTPClient.Transport", Err: errors.New("is this Client's own Transport, which would send every request back to itself")})
		}
	}
	if v, ok := c.Store.(validator); ok {
		if err := v.Validate(); err != nil {
			if ce := (*ConfigError)(nil); !errors.As(err, &ce) {
				err = &ConfigError{Field: "Store", Err: err}
			}
			errs = append(errs, err)
		}
	}
	switch len(errs) {
	case 0:
		return base, origin, nil
	case 1:
		return nil, "", errs[0]
	}
	return nil, "", errors.Join(errs...)
}

// parseBaseURL checks a BaseURL and returns it, with its path trimmed of
// trailing slashes, and its origin.
func parseBaseURL(raw string, allowInsecure bool) (*url.URL, string, error) {
	shown := raw
	bad := func(reason error) (*url.URL, string, error) {
		return nil, "", &ConfigError{Field: "BaseURL", Value: shown, Err: reason}
	}
	if raw == "" {
		return bad(ErrNotSet)
	}
	u, err := url.Parse(raw)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return bad(err)
	}
	if u.User != nil {
		shown = u.Redacted()
		return bad(errors.New("must not hold user information"))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme == "":
		return bad(errors.New("no scheme: want https://host[:port][/path]"))
	case u.Scheme != "https" && u.Scheme != "http":
		return bad(errors.New("scheme must be https or http"))
	case u.Host == "" || u.Hostname() == "":
		return bad(errors.New("no host: want scheme://host[:port][/path]"))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return bad(errors.New("must not have a query or fragment: want scheme://host[:port][/path]"))
	case u.Scheme == "http" && !allowInsecure && !isLoopback(u.Hostname()):
		return bad(fmt.Errorf("%w: refusing it, since the backend receives passwords (use https, or set AllowInsecureHTTP)", ErrInsecureHTTP))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, originOf(u), nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
