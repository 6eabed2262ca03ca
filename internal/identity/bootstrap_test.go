package identity

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage/sqlite"
	"github.com/latchid/latch/internal/token"
)

// newEmpty is a Service on a new SQLite database that nothing set up.
func newEmpty(t *testing.T) *Service {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := token.NewSealer(bytes.Repeat([]byte{7}, token.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Sealer: sealer, Issuer: "https://latch.test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestInitialize_Setup: the default tenant and its signing key get the
// ids asked for (a kickstart names them before they exist), or fresh
// ones; an id that is no UUID is refused.
func TestInitialize_Setup(t *testing.T) {
	const tenantID, keyID = "d7d09513-a3f5-401c-9685-34ab6c552453", "5c5e0b8c-0f3b-4c46-9d0e-0a4e1f9b7a11"
	for _, tc := range []struct {
		name string
		ids  Setup
	}{
		{"chosen", Setup{TenantID: tenantID, SigningKeyID: keyID}},
		{"fresh", Setup{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newEmpty(t)
			ten, err := s.Initialize(t.Context(), tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ids.TenantID != "" && ten.ID != tc.ids.TenantID {
				t.Errorf("tenant id %s, want %s", ten.ID, tc.ids.TenantID)
			}
			kid := ten.JWTConfiguration.AccessTokenKeyID
			if !ValidID(kid) || (tc.ids.SigningKeyID != "" && kid != tc.ids.SigningKeyID) || ten.JWTConfiguration.IDTokenKeyID != kid {
				t.Errorf("signing keys %s, %s; want both %q (or fresh)", kid, ten.JWTConfiguration.IDTokenKeyID, tc.ids.SigningKeyID)
			}
			if _, err := s.store.GetKey(t.Context(), kid); err != nil {
				t.Errorf("the tenant's key %s: %v", kid, err)
			}
		})
	}
	s := newEmpty(t)
	_, err := s.Initialize(t.Context(), Setup{SigningKeyID: "not-a-uuid"})
	var errs *api.Errors
	if !errors.As(err, &errs) || len(errs.FieldErrors["signingKeyId"]) == 0 {
		t.Errorf("Initialize with a key id that is no UUID: %v, want a field error", err)
	}
}
