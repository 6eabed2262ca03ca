package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/client"
)

// anyConfigError stands for "some *ConfigError, whatever its reason" in
// the tables below.
var anyConfigError = errors.New("any *ConfigError")

// configFields returns the Field of every *ConfigError in err, which may
// be several joined.
func configFields(err error) []string {
	var fields []string
	var walk func(error)
	walk = func(err error) {
		var ce *client.ConfigError
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		default:
			if errors.As(err, &ce) {
				fields = append(fields, ce.Field)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return fields
}

// wantConfigError checks that err is a *ConfigError for field, or
// several joined with the given fields, and that errors.Is finds is
// (unless it is anyConfigError).
func wantConfigError(t *testing.T, what string, err error, fields []string, is error) {
	t.Helper()
	if diff := cmp.Diff(fields, configFields(err)); diff != "" {
		t.Errorf("%s: err = %v: fields of *ConfigError (-want +got):\n%s", what, err, diff)
	}
	if is != anyConfigError && !errors.Is(err, is) {
		t.Errorf("%s: err = %v, want errors.Is %v", what, err, is)
	}
}

// wantMethodsFail checks that every method of c fails with err, before
// touching the network.
func wantMethodsFail(t *testing.T, c *client.Client, err error) {
	t.Helper()
	ctx := context.Background()
	_, errTokens := c.Tokens(ctx)
	_, errLogin := c.Login(ctx, "a", "b")
	errLogout := c.Logout(ctx, false)
	req := httptest.NewRequest(http.MethodGet, "https://shop.example.com/api/cart", nil)
	req.RequestURI = ""
	_, errRT := c.Transport().RoundTrip(req)
	for name, got := range map[string]error{"Tokens": errTokens, "Login": errLogin, "Logout": errLogout, "RoundTrip": errRT} {
		if got == nil || got.Error() != err.Error() {
			t.Errorf("%s: err = %v, want %v", name, got, err)
		}
	}
}

func TestClient_Validate_BaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url      string
		insecure bool
		want     error // nil for a valid BaseURL
	}{
		{"https://shop.example.com", false, nil},
		{"https://shop.example.com/store/", false, nil},
		{"http://127.0.0.1:8080", false, nil},
		{"http://127.9.8.7", false, nil},
		{"http://[::1]:8080", false, nil},
		{"http://[::ffff:127.0.0.1]:8080", false, nil},
		{"http://localhost:8080", false, nil},
		{"http://LOCALHOST", false, nil},
		{"http://example.com", true, nil},
		{"http://example.com", false, client.ErrInsecureHTTP},
		{"http://localhost.example.com", false, client.ErrInsecureHTTP},
		{"http://10.0.0.1:8080", false, client.ErrInsecureHTTP},
		{"http://[::2]", false, client.ErrInsecureHTTP},
		{"HTTP://example.com", false, client.ErrInsecureHTTP},
		{"", false, client.ErrNotSet},
		{"", true, client.ErrNotSet},
		{"ftp://example.com", false, anyConfigError},
		{"ftp://example.com", true, anyConfigError},
		{"example.com", false, anyConfigError},
		{"//example.com", false, anyConfigError},
		{"https://", false, anyConfigError},
		{"https://:443", false, anyConfigError},
		{"https://user:pw@example.com", false, anyConfigError},
		{"https://example.com/?a=b", false, anyConfigError},
		{"https://example.com/?", false, anyConfigError},
		{"https://example.com/#top", false, anyConfigError},
		{"https://example.com:port", false, anyConfigError},
		{"http://[::1", false, anyConfigError},
	}
	for _, tt := range tests {
		what := "BaseURL " + tt.url
		if tt.insecure {
			what += " with AllowInsecureHTTP"
		}
		c := &client.Client{BaseURL: tt.url, AllowInsecureHTTP: tt.insecure}
		err := c.Validate()
		if tt.want == nil {
			if err != nil {
				t.Errorf("%s: Validate = %v, want nil", what, err)
			}
			if _, err := c.Tokens(context.Background()); !errors.Is(err, client.ErrLoginRequired) {
				t.Errorf("%s: Tokens = %v, want ErrLoginRequired", what, err)
			}
			continue
		}
		wantConfigError(t, what, err, []string{"BaseURL"}, tt.want)
		if err != nil {
			wantMethodsFail(t, c, err)
		}
	}
}

// The errors say what is wrong and how to fix it, without a password.
func TestClient_Validate_Messages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    *client.Client
		want string
	}{
		{&client.Client{}, `client: BaseURL: not set`},
		{&client.Client{BaseURL: "http://shop.example.com"}, `client: BaseURL "http://shop.example.com": http:// to a host that is not loopback: refusing it, since the backend receives passwords (use https, or set AllowInsecureHTTP)`},
		{&client.Client{BaseURL: "shop.example.com"}, `client: BaseURL "shop.example.com": no scheme: want https://host[:port][/path]`},
		{&client.Client{BaseURL: "https://ana:secret@shop.example.com"}, `client: BaseURL "https://ana:xxxxx@shop.example.com": must not hold user information`},
		{&client.Client{BaseURL: "https://shop.example.com", Store: &client.FileStore{}}, `client: FileStore.Path: not set`},
		{&client.Client{BaseURL: "https://shop.example.com", Store: &client.FileStore{Path: "state/"}}, `client: FileStore.Path "state/": names a directory: want the path of a file`},
		{&client.Client{BaseURL: "https://shop.example.com", Store: &checkedStore{err: errors.New("no keychain")}}, `client: Store: no keychain`},
		{&client.Client{Store: &client.FileStore{}}, "client: BaseURL: not set\nclient: FileStore.Path: not set"},
	}
	for _, tt := range tests {
		if err := tt.c.Validate(); err == nil || err.Error() != tt.want {
			t.Errorf("Validate = %v, want %s", err, tt.want)
		}
	}
}

// checkedStore is a TokenStore with a Validate method that returns err,
// and that counts its other calls.
type checkedStore struct {
	client.MemoryStore
	err  error
	used atomic.Int32
}

func (s *checkedStore) Validate() error { return s.err }

func (s *checkedStore) Load(ctx context.Context) (client.Tokens, error) {
	s.used.Add(1)
	return s.MemoryStore.Load(ctx)
}

func (s *checkedStore) Save(ctx context.Context, t client.Tokens) error {
	s.used.Add(1)
	return s.MemoryStore.Save(ctx, t)
}

func (s *checkedStore) Clear(ctx context.Context) error {
	s.used.Add(1)
	return s.MemoryStore.Clear(ctx)
}

func TestClient_Validate(t *testing.T) {
	t.Parallel()
	const base = "https://shop.example.com"
	dir := t.TempDir()
	storeErr := errors.New("no keychain")
	tests := []struct {
		name   string
		client func() *client.Client
		fields []string // of the *ConfigErrors; nil when valid
		is     error
	}{
		{"Valid", func() *client.Client {
			return &client.Client{BaseURL: base, Store: &client.FileStore{Path: filepath.Join(dir, "tokens")}}
		}, nil, nil},
		{"ValidStore", func() *client.Client {
			return &client.Client{BaseURL: base, Store: new(checkedStore)}
		}, nil, nil},
		{"ValidHTTPClient", func() *client.Client {
			other := &client.Client{BaseURL: base}
			// Another Client's Transport is fine: it does not loop.
			return &client.Client{BaseURL: base, HTTPClient: &http.Client{Transport: other.Transport()}}
		}, nil, nil},
		{"NoBaseURL", func() *client.Client {
			return &client.Client{Store: new(client.MemoryStore)}
		}, []string{"BaseURL"}, client.ErrNotSet},
		{"FileStoreNoPath", func() *client.Client {
			return &client.Client{BaseURL: base, Store: &client.FileStore{KeyPath: filepath.Join(dir, "key")}}
		}, []string{"FileStore.Path"}, client.ErrNotSet},
		{"FileStoreDirectory", func() *client.Client {
			return &client.Client{BaseURL: base, Store: &client.FileStore{Path: dir + string(filepath.Separator)}}
		}, []string{"FileStore.Path"}, anyConfigError},
		{"FileStoreKeyIsTokenFile", func() *client.Client {
			p := filepath.Join(dir, "tokens")
			return &client.Client{BaseURL: base, Store: &client.FileStore{Path: p, KeyPath: p}}
		}, []string{"FileStore.KeyPath"}, anyConfigError},
		{"NilFileStore", func() *client.Client {
			return &client.Client{BaseURL: base, Store: (*client.FileStore)(nil)}
		}, []string{"Store"}, anyConfigError},
		{"StoreRefuses", func() *client.Client {
			return &client.Client{BaseURL: base, Store: &checkedStore{err: storeErr}}
		}, []string{"Store"}, storeErr},
		{"OwnTransport", func() *client.Client {
			c := &client.Client{BaseURL: base}
			c.HTTPClient = &http.Client{Transport: c.Transport()}
			return c
		}, []string{"HTTPClient.Transport"}, anyConfigError},
		{"Several", func() *client.Client {
			c := &client.Client{BaseURL: "http://shop.example.com", Store: &client.FileStore{}}
			c.HTTPClient = &http.Client{Transport: c.Transport()}
			return c
		}, []string{"BaseURL", "HTTPClient.Transport", "FileStore.Path"}, client.ErrInsecureHTTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.client()
			err := c.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
			} else {
				wantConfigError(t, "Validate", err, tt.fields, tt.is)
			}
			// Validate is a pure check: calling it again gives the same.
			if again := c.Validate(); (again == nil) != (err == nil) || again != nil && again.Error() != err.Error() {
				t.Errorf("second Validate = %v, want %v", again, err)
			}
			if cs, ok := c.Store.(*checkedStore); ok && cs.used.Load() != 0 {
				t.Errorf("Validate used the store %d times", cs.used.Load())
			}
			if err != nil {
				wantMethodsFail(t, c, err)
				if cs, ok := c.Store.(*checkedStore); ok && cs.used.Load() != 0 {
					t.Errorf("the methods used a store that Validate refused, %d times", cs.used.Load())
				}
			}
		})
	}
}

// Validate does not fix the configuration: the fields may still change
// after it, until another method is called.
func TestClient_Validate_BeforeFirstUse(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	c.BaseURL = "http://shop.example.com"
	if err := c.Validate(); !errors.Is(err, client.ErrInsecureHTTP) {
		t.Fatalf("Validate = %v, want ErrInsecureHTTP", err)
	}
	c.BaseURL = b.srv.URL
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after the fix = %v", err)
	}
	mustLogin(t, c)
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Errorf("status %d", got)
	}
}

func TestFileStore_Validate(t *testing.T) {
	// Not parallel: it changes the working directory, to see that the
	// refused paths create nothing.
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		path, keyPath string
		field         string // of the *ConfigError; "" when valid
		is            error
	}{
		{"tokens", "", "", nil},
		{"tokens", "tokens.key", "", nil},
		{filepath.Join("sub", "tokens"), filepath.Join("..", "key"), "", nil},
		{"", "", "FileStore.Path", client.ErrNotSet},
		{"", "key", "FileStore.Path", client.ErrNotSet},
		{"state" + string(filepath.Separator), "", "FileStore.Path", anyConfigError},
		{".", "key", "FileStore.Path", anyConfigError},
		{"..", "key", "FileStore.Path", anyConfigError},
		{filepath.Join("a", ".."), "key", "FileStore.Path", anyConfigError},
		{"tok\x00ens", "", "FileStore.Path", anyConfigError},
		{"tokens", "keys" + string(filepath.Separator), "FileStore.KeyPath", anyConfigError},
		{"tokens", ".", "FileStore.KeyPath", anyConfigError},
		{"tokens", "tokens", "FileStore.KeyPath", anyConfigError},
		{"tokens", "." + string(filepath.Separator) + "tokens", "FileStore.KeyPath", anyConfigError},
	}
	ctx := context.Background()
	for _, tt := range tests {
		what := "FileStore{Path: " + tt.path + ", KeyPath: " + tt.keyPath + "}"
		s := &client.FileStore{Path: tt.path, KeyPath: tt.keyPath}
		err := s.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: Validate = %v, want nil", what, err)
			}
			continue
		}
		wantConfigError(t, what, err, []string{tt.field}, tt.is)
		if err == nil {
			continue
		}
		_, errLoad := s.Load(ctx)
		errSave := s.Save(ctx, sampleTokens())
		errClear := s.Clear(ctx)
		for name, got := range map[string]error{"Load": errLoad, "Save": errSave, "Clear": errClear} {
			if got == nil || got.Error() != err.Error() {
				t.Errorf("%s: %s = %v, want %v", what, name, got, err)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the refused stores created %s", strings.Join(names, ", "))
	}
}
