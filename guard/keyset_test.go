package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/latchtest"
)

// jwksServer serves a JWKS document that a test can change, or fail.
type jwksServer struct {
	mu      sync.Mutex
	doc     []byte
	status  int
	fetches int
	hold    chan struct{} // when set, each fetch waits for it to close
	arrived chan struct{} // when set, gets a value as each fetch arrives (if none is pending)
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.fetches++
	doc, status, hold := s.doc, s.status, s.hold
	s.mu.Unlock()
	if s.arrived != nil {
		select {
		case s.arrived <- struct{}{}:
		default:
		}
	}
	if hold != nil {
		<-hold
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}

func (s *jwksServer) set(doc []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc, s.status = doc, status
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// jwksOf marshals keys as a JWK Set; raw members are taken as they are.
func jwksOf(t testing.TB, keys ...any) []byte {
	t.Helper()
	var list []json.RawMessage
	for _, k := range keys {
		var b []byte
		var err error
		switch k := k.(type) {
		case string:
			b = []byte(k)
		case jose.JSONWebKey:
			b, err = k.MarshalJSON()
		}
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, b)
	}
	b, err := json.Marshal(map[string]any{"keys": list})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newRemote(t testing.TB, s *jwksServer, clock *latchtest.Clock) *guard.RemoteKeySet {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return guard.NewRemoteKeySet(srv.URL+"/.well-known/jwks.json", guard.RemoteKeySetConfig{Now: clock.Now})
}

// Only usable signature keys are taken from the document.
func TestRemoteKeySet_Filter(t *testing.T) {
	t.Parallel()
	ecPub := jose.JSONWebKey{Key: &testKeys.ec.PublicKey, KeyID: "ec", Algorithm: "ES256", Use: "sig"}
	doc := jwksOf(t,
		ecPub,
		jose.JSONWebKey{Key: testKeys.ed.Public(), KeyID: "ed", Algorithm: "EdDSA"},
		jose.JSONWebKey{Key: &testKeys.rsa.PublicKey, KeyID: "rsa", Algorithm: "RS256", Use: "sig"},
		jose.JSONWebKey{Key: testKeys.ec, KeyID: "private", Algorithm: "ES256"}, // private material: public half only
		jose.JSONWebKey{Key: testKeys.secret, KeyID: "oct", Algorithm: "HS256"},
		jose.JSONWebKey{Key: &testKeys.ec.PublicKey, KeyID: "enc", Algorithm: "ES256", Use: "enc"},
		jose.JSONWebKey{Key: &testKeys.ec.PublicKey, KeyID: "noalg"},
		jose.JSONWebKey{Key: &testKeys.ec.PublicKey, KeyID: "mismatch", Algorithm: "RS256"},
		jose.JSONWebKey{Key: &testKeys.ec.PublicKey, Algorithm: "ES256"},               // no kid
		jose.JSONWebKey{Key: &testKeys.rsa.PublicKey, KeyID: "ec", Algorithm: "RS256"}, // duplicate kid
		`{"kty":"EC","kid":"broken","crv":"P-256","x":"AAAA","y":"AAAA"}`,
	)
	clock := newClock()
	ks := newRemote(t, &jwksServer{doc: doc}, clock)
	var got []string
	for _, kid := range []string{"ec", "ed", "rsa", "private", "oct", "enc", "noalg", "mismatch", "", "broken"} {
		k, err := ks.Key(context.Background(), kid)
		switch {
		case err == nil:
			got = append(got, kid+":"+k.Algorithm)
		case !errors.Is(err, guard.ErrUnknownKey):
			t.Errorf("Key(%q) = %v, want nil or ErrUnknownKey", kid, err)
		}
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"ec:ES256", "ed:EdDSA", "private:ES256", "rsa:RS256"}, got); diff != "" {
		t.Errorf("usable keys (-want +got):\n%s", diff)
	}
	if k, _ := ks.Key(context.Background(), "private"); !cmp.Equal(k.Key, &testKeys.ec.PublicKey) {
		t.Errorf("a private JWK yielded %T, want its public key", k.Key)
	}
}

// When Latch fails, the last good set stays in use; an unknown kid is then
// ErrKeySetUnavailable rather than ErrUnknownKey.
func TestRemoteKeySet_KeepsLastGoodSet(t *testing.T) {
	t.Parallel()
	s := &jwksServer{doc: jwksOf(t, jose.JSONWebKey{Key: &testKeys.ec.PublicKey, KeyID: "ec", Algorithm: "ES256"})}
	clock := newClock()
	ks := newRemote(t, s, clock)
	ctx := context.Background()
	if _, err := ks.Key(ctx, "ec"); err != nil {
		t.Fatal(err)
	}
	for _, fail := range []func(){
		func() { s.set(nil, http.StatusInternalServerError) },
		func() { s.set([]byte(`<html>`), 0) },
		func() { s.set([]byte(`{"keys":[]}`), 0) },
	} {
		fail()
		clock.Advance(guard.DefaultMinJWKSRefetchInterval)
		if _, err := ks.Key(ctx, "new"); !errors.Is(err, guard.ErrKeySetUnavailable) {
			t.Errorf("unknown kid with Latch failing: %v, want ErrKeySetUnavailable", err)
		}
		if _, err := ks.Key(ctx, "ec"); err != nil {
			t.Errorf("cached kid with Latch failing: %v", err)
		}
		// Inside the floor the failure is remembered, not retried.
		n := s.count()
		if _, err := ks.Key(ctx, "new"); !errors.Is(err, guard.ErrKeySetUnavailable) || s.count() != n {
			t.Errorf("inside the floor: %v after %d fetches", err, s.count()-n)
		}
	}
}

// A set older than ten minutes is refetched in the background on use, so
// that a key Latch withdrew stops verifying.
func TestRemoteKeySet_MaxAge(t *testing.T) {
	t.Parallel()
	ec := jose.JSONWebKey{Key: &testKeys.ec.PublicKey, KeyID: "ec", Algorithm: "ES256"}
	ed := jose.JSONWebKey{Key: testKeys.ed.Public(), KeyID: "ed", Algorithm: "EdDSA"}
	s := &jwksServer{doc: jwksOf(t, ec, ed)}
	clock := newClock()
	ks := newRemote(t, s, clock)
	ctx := context.Background()
	if _, err := ks.Key(ctx, "ed"); err != nil {
		t.Fatal(err)
	}
	s.set(jwksOf(t, ec), 0) // "ed" withdrawn
	clock.Advance(9 * time.Minute)
	if _, err := ks.Key(ctx, "ed"); err != nil || s.count() != 1 {
		t.Fatalf("a young set: %v, %d fetches", err, s.count())
	}
	clock.Advance(time.Minute)
	if _, err := ks.Key(ctx, "ed"); err != nil {
		t.Fatalf("the stale set still answers while it is refetched: %v", err)
	}
	ks.AwaitFetch() // the background fetch that use started
	if _, err := ks.Key(ctx, "ed"); !errors.Is(err, guard.ErrUnknownKey) {
		t.Fatalf("the withdrawn key still verifies after the background fetch: %v", err)
	}
	if n := s.count(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

// Waiters share one fetch; one giving up does not fail the others.
func TestRemoteKeySet_SharedFetch(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	s := &jwksServer{doc: jwksOf(t, jose.JSONWebKey{Key: &testKeys.ec.PublicKey, KeyID: "ec", Algorithm: "ES256"}), hold: hold,
		arrived: make(chan struct{}, 1)}
	clock := newClock()
	ks := newRemote(t, s, clock)

	impatient, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 11)
	go func() { _, err := ks.Key(impatient, "ec"); errc <- err }()
	for range 10 {
		go func() { _, err := ks.Key(context.Background(), "ec"); errc <- err }()
	}
	<-s.arrived // the one fetch is under way, and held
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the impatient waiter: %v, want context.Canceled", err)
	}
	close(hold)
	for range 10 {
		if err := <-errc; err != nil {
			t.Errorf("a waiter: %v", err)
		}
	}
	if n := s.count(); n != 1 {
		t.Errorf("%d fetches for 11 waiters, want 1", n)
	}
}
