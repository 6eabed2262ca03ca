package sqlite

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// Migration 0006 adds the sealed client secret and loses no client secret
// hash: an application stored before keeps its hash (and so its secret
// authenticates as before), with no sealed secret, until one is written.
func TestMigration0006KeepsClientSecretHashes(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	hash := bytes.Repeat([]byte{0xab}, 32)
	before := storage.Application{Application: api.Application{ID: "a-old", TenantID: "t-1", Name: "Old"}, ClientSecretHash: hash}
	if err := s.CreateTenant(ctx, api.Tenant{ID: "t-1", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApplication(ctx, before); err != nil {
		t.Fatal(err)
	}
	// The database as it was before 0006.
	for _, q := range []string{"ALTER TABLE applications DROP COLUMN client_secret_sealed", "DELETE FROM schema_migrations WHERE version = 6"} {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open, migrating: %v", err)
	}
	defer s.Close()
	got, err := s.GetApplication(ctx, "a-old")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.ClientSecretHash, hash) || got.ClientSecretSealed != nil {
		t.Errorf("after the migration: hash %x, sealed %x; want the hash kept, nothing sealed", got.ClientSecretHash, got.ClientSecretSealed)
	}
	got.ClientSecretSealed = []byte("sealed")
	if err := s.UpdateApplication(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, err := s.GetApplication(ctx, "a-old"); err != nil || string(again.ClientSecretSealed) != "sealed" || !bytes.Equal(again.ClientSecretHash, hash) {
		t.Errorf("a sealed secret written after the migration: %+v, %v", again, err)
	}
}
