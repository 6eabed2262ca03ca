package postgres

import (
	"bytes"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/storage"
)

// Migration 0006 adds the sealed client secret and loses no client secret
// hash: an application stored before keeps its hash (and so its secret
// authenticates as before), with no sealed secret, until one is written.
func TestMigration0006KeepsClientSecretHashes(t *testing.T) {
	ctx := t.Context()
	u := pgtest.Schema(t)
	s := openAt(t, u)
	hash := bytes.Repeat([]byte{0xab}, 32)
	w := mustWorld(t, s, "migration")
	before := storage.Application{Application: api.Application{ID: testID("old-app"), TenantID: w.tenant.ID, Name: "Old"}, ClientSecretHash: hash}
	if err := s.CreateApplication(ctx, before); err != nil {
		t.Fatal(err)
	}
	// The database as it was before 0006.
	for _, q := range []string{"ALTER TABLE applications DROP COLUMN client_secret_sealed", "DELETE FROM schema_migrations WHERE version = 6"} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s = openAt(t, u)
	got, err := s.GetApplication(ctx, before.ID)
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
	if again, err := s.GetApplication(ctx, before.ID); err != nil || string(again.ClientSecretSealed) != "sealed" || !bytes.Equal(again.ClientSecretHash, hash) {
		t.Errorf("a sealed secret written after the migration: %+v, %v", again, err)
	}
}
