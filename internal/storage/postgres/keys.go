package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/internal/storage"
)

const keyCols = "id, kid, algorithm, name, private, public_pem, inserted, retired_at, expires_at"

// scanKey reads keyCols.
func scanKey(r pgx.Row) (storage.SigningKey, error) {
	var k storage.SigningKey
	err := r.Scan(&k.ID, &k.Kid, &k.Algorithm, &k.Name, blobCol{&k.Private}, &k.PublicPEM,
		timeCol{&k.Inserted}, timeCol{&k.RetiredAt}, timeCol{&k.ExpiresAt})
	return k, err
}

// CreateKey stores a signing key. ErrConflict if the id or kid exists.
func (s *Store) CreateKey(ctx context.Context, k storage.SigningKey) error {
	_, err := s.write(ctx, "INSERT INTO signing_keys ("+keyCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		[]any{k.ID, k.Kid, k.Algorithm, k.Name, blob(k.Private), k.PublicPEM,
			ts(k.Inserted), ts(k.RetiredAt), ts(k.ExpiresAt)})
	return wrapf(err, "create key %s", k.ID)
}

// GetKey returns a signing key by id. ErrNotFound if none has the id.
// Inside a Tx the key's row stays locked until the transaction ends.
func (s *Store) GetKey(ctx context.Context, id string) (storage.SigningKey, error) {
	k, err := get(ctx, s, "SELECT "+keyCols+" FROM signing_keys WHERE id = $1"+s.forUpdate(), []any{id}, scanKey)
	return k, wrapf(err, "get key %s", id)
}

// ListKeys returns every signing key, oldest (by Inserted) first.
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	ks, err := list(ctx, s, "SELECT "+keyCols+" FROM signing_keys ORDER BY inserted NULLS FIRST, seq", nil, scanKey)
	return ks, wrapf(err, "list keys")
}

// UpdateKey replaces a signing key's mutable fields (name, retirement,
// expiry); the others are left as they are. ErrNotFound if none has the id.
func (s *Store) UpdateKey(ctx context.Context, k storage.SigningKey) error {
	err := execOne(s.exec(ctx, "UPDATE signing_keys SET name = $1, retired_at = $2, expires_at = $3 WHERE id = $4",
		k.Name, ts(k.RetiredAt), ts(k.ExpiresAt), k.ID))
	return wrapf(err, "update key %s", k.ID)
}

// DeleteKey deletes a signing key. ErrNotFound if there is none.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM signing_keys WHERE id = $1", id)), "delete key %s", id)
}

const apiKeyCols = "id, hash, tenant_id, description, endpoints, inserted"

// scanAPIKey reads apiKeyCols.
func scanAPIKey(r pgx.Row) (storage.APIKey, error) {
	var k storage.APIKey
	err := r.Scan(&k.ID, blobCol{&k.Hash}, strCol{&k.TenantID}, &k.Description, jsonCol{&k.Endpoints}, timeCol{&k.Inserted})
	return k, err
}

// CreateAPIKey stores an API key. ErrConflict if the id or hash exists;
// ErrNotFound if its tenant does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k storage.APIKey) error {
	endpoints, err := jsonDoc(k.Endpoints)
	if err == nil {
		_, err = s.write(ctx, "INSERT INTO api_keys ("+apiKeyCols+") VALUES ($1, $2, $3, $4, $5, $6)",
			[]any{k.ID, blob(k.Hash), nullString(k.TenantID), k.Description, endpoints, ts(k.Inserted)})
	}
	return wrapf(err, "create api key %s", k.ID)
}

// GetAPIKey returns an API key by id. ErrNotFound if none has the id.
func (s *Store) GetAPIKey(ctx context.Context, id string) (storage.APIKey, error) {
	k, err := get(ctx, s, "SELECT "+apiKeyCols+" FROM api_keys WHERE id = $1", []any{id}, scanAPIKey)
	return k, wrapf(err, "get api key %s", id)
}

// GetAPIKeyByHash returns the API key whose secret hashes to hash.
// ErrNotFound if none does.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash []byte) (storage.APIKey, error) {
	k, err := get(ctx, s, "SELECT "+apiKeyCols+" FROM api_keys WHERE hash = $1", []any{blob(hash)}, scanAPIKey)
	return k, wrapf(err, "get api key by hash")
}

// ListAPIKeys returns every API key, oldest (by Inserted) first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]storage.APIKey, error) {
	ks, err := list(ctx, s, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY inserted NULLS FIRST, seq", nil, scanAPIKey)
	return ks, wrapf(err, "list api keys")
}

// DeleteAPIKey deletes an API key. ErrNotFound if there is none.
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM api_keys WHERE id = $1", id)), "delete api key %s", id)
}

// GetMeta returns a server-wide setting. ErrNotFound if unset.
func (s *Store) GetMeta(ctx context.Context, key string) (string, error) {
	v, err := get(ctx, s, "SELECT value FROM meta WHERE key = $1", []any{key}, func(r pgx.Row) (string, error) {
		var v string
		err := r.Scan(&v)
		return v, err
	})
	return v, wrapf(err, "get meta %q", key)
}

// PutMeta creates a server-wide setting. ErrConflict if it is set.
func (s *Store) PutMeta(ctx context.Context, key, value string) error {
	_, err := s.write(ctx, "INSERT INTO meta (key, value) VALUES ($1, $2)", []any{key, value})
	return wrapf(err, "put meta %q", key)
}
