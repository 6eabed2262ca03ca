package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/internal/identity"
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

func TestWithoutMembers(t *testing.T) {
	in := []byte(`{"event":{"id":"e","type":"jwt.refresh","token":"a.b.c","original":"d.e.f","userId":"u"}}`)
	out, err := withoutMembers(in, "token", "original")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{"event": {"id": "e", "type": "jwt.refresh", "userId": "u"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := withoutMembers([]byte("not json"), "token"); err == nil {
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
