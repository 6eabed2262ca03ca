package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

func TestBackoff(t *testing.T) {
	d := New(Config{MinBackoff: time.Second, MaxBackoff: 5 * time.Minute})
	for n, want := range map[int]time.Duration{
		0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 256 * time.Second,
		10: 5 * time.Minute, 64: 5 * time.Minute, 1000: 5 * time.Minute,
	} {
		for range 50 {
			got := d.backoff(n)
			lo := want * 4 / 5
			hi := min(want*6/5, 5*time.Minute)
			if got < lo || got > hi {
				t.Fatalf("backoff(%d) = %v, want %v ±20%% (at most the cap)", n, got, want)
			}
		}
	}
}

// The body a webhook gets: a jwt.refresh event without its access tokens
// unless the URL may receive them; anything else verbatim.
func TestWebhookBody(t *testing.T) {
	refresh := []byte(`{"event":{"id":"e","type":"jwt.refresh","token":"a.b.c","original":"d.e.f","userId":"u"}}`)
	revoke := []byte(`{"event": {"type":"jwt.refresh-token.revoke", "token":"kept", "z":1}}`)
	for _, c := range []struct {
		name       string
		e          storage.Event
		bearerSafe bool
		want       map[string]map[string]any // nil: the payload verbatim
	}{
		{"RefreshToUnsafe", storage.Event{Type: api.EventJWTRefresh, Payload: refresh}, false,
			map[string]map[string]any{"event": {"id": "e", "type": "jwt.refresh", "userId": "u"}}},
		{"RefreshToSafe", storage.Event{Type: api.EventJWTRefresh, Payload: refresh}, true, nil},
		{"OtherTypeToUnsafe", storage.Event{Type: api.EventJWTRefreshTokenRevoke, Payload: revoke}, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := identity.WebhookBody(c.e, c.bearerSafe)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if string(out) != string(c.e.Payload) {
					t.Errorf("body %s, want the payload verbatim", out)
				}
				return
			}
			var got map[string]map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if _, err := identity.WebhookBody(storage.Event{Type: api.EventJWTRefresh, Payload: []byte("not json")}, false); err == nil {
		t.Error("no error for a body that is not JSON")
	}
}

func TestBearerSafeURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://example.org/hook":      true,
		"http://127.0.0.1:8080/hook":    true,
		"http://[::1]:8080/hook":        true,
		"http://localhost/hook":         true,
		"http://LOCALHOST:9/hook":       true,
		"http://example.org/hook":       false,
		"http://10.0.0.7/hook":          false,
		"http://localhost.example/hook": false,
		"ftp://example.org/":            false,
		"::":                            false,
	} {
		if got := identity.BearerSafeURL(u); got != want {
			t.Errorf("BearerSafeURL(%q) = %v, want %v", u, got, want)
		}
	}
}
