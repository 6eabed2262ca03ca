package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/internal/storage"
)

const codeCols = `hash, tenant_id, application_id, user_id, redirect_uri, code_challenge, nonce, scopes, dpop_jkt,
	sso_session_id, auth_time, created, expires_at, used_at, session_id`

func scanCode(r pgx.Row) (storage.AuthorizationCode, error) {
	var c storage.AuthorizationCode
	err := r.Scan(blobCol{&c.Hash}, &c.TenantID, &c.ApplicationID, &c.UserID, &c.RedirectURI, &c.CodeChallenge, &c.Nonce,
		jsonCol{&c.Scopes}, &c.DPoPJKT, &c.SSOSessionID, timeCol{&c.AuthTime}, timeCol{&c.Created}, timeCol{&c.ExpiresAt},
		timeCol{&c.UsedAt}, strCol{&c.SessionID})
	return c, err
}

// CreateAuthorizationCode implements storage.AuthorizationStore.
func (s *Store) CreateAuthorizationCode(ctx context.Context, c storage.AuthorizationCode) error {
	scopes, err := jsonDoc(c.Scopes)
	if err != nil {
		return wrapf(err, "create authorization code")
	}
	_, err = s.write(ctx, "INSERT INTO authorization_codes ("+codeCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		[]any{c.Hash, c.TenantID, c.ApplicationID, c.UserID, c.RedirectURI, c.CodeChallenge, c.Nonce, scopes, c.DPoPJKT,
			c.SSOSessionID, ts(c.AuthTime), ts(c.Created), ts(c.ExpiresAt), ts(c.UsedAt), nullString(c.SessionID)})
	return wrapf(err, "create authorization code")
}

// RedeemAuthorizationCode implements storage.AuthorizationStore: the
// UPDATE ... WHERE used_at IS NULL of one redemption blocks the others on
// the row, which then re-check used_at on the winner's version and change
// nothing, on any node.
func (s *Store) RedeemAuthorizationCode(ctx context.Context, hash []byte, at time.Time) (storage.AuthorizationCode, error) {
	var c storage.AuthorizationCode
	var n int64
	tag, err := s.write(ctx, "UPDATE authorization_codes SET used_at = $2 WHERE hash = $1 AND used_at IS NULL", []any{hash, ts(at)})
	if err == nil {
		n = tag.RowsAffected()
		c, err = get(ctx, s, "SELECT "+codeCols+" FROM authorization_codes WHERE hash = $1", []any{hash}, scanCode)
	}
	if err == nil && n == 1 {
		c.UsedAt = time.Time{} // as it was before
	}
	return c, wrapf(err, "redeem authorization code")
}

// SetAuthorizationCodeSession implements storage.AuthorizationStore.
func (s *Store) SetAuthorizationCodeSession(ctx context.Context, hash []byte, sessionID string) error {
	err := execOne(s.write(ctx, "UPDATE authorization_codes SET session_id = $2 WHERE hash = $1", []any{hash, nullString(sessionID)}))
	return wrapf(err, "set authorization code session")
}

const ssoCols = "id, tenant_id, user_id, hash, auth_time, last_used, expires_at"

func scanSSO(r pgx.Row) (storage.SSOSession, error) {
	var x storage.SSOSession
	err := r.Scan(&x.ID, &x.TenantID, &x.UserID, blobCol{&x.Hash}, timeCol{&x.AuthTime}, timeCol{&x.LastUsed}, timeCol{&x.ExpiresAt})
	return x, err
}

// CreateSSOSession implements storage.AuthorizationStore.
func (s *Store) CreateSSOSession(ctx context.Context, x storage.SSOSession) error {
	_, err := s.write(ctx, "INSERT INTO sso_sessions ("+ssoCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		[]any{x.ID, x.TenantID, x.UserID, x.Hash, ts(x.AuthTime), ts(x.LastUsed), ts(x.ExpiresAt)})
	return wrapf(err, "create SSO session %s", x.ID)
}

// GetSSOSession implements storage.AuthorizationStore.
func (s *Store) GetSSOSession(ctx context.Context, hash []byte) (storage.SSOSession, error) {
	x, err := get(ctx, s, "SELECT "+ssoCols+" FROM sso_sessions WHERE hash = $1", []any{hash}, scanSSO)
	return x, wrapf(err, "get SSO session")
}

// TouchSSOSession implements storage.AuthorizationStore.
func (s *Store) TouchSSOSession(ctx context.Context, id string, lastUsed, expiresAt time.Time) error {
	err := execOne(s.write(ctx, "UPDATE sso_sessions SET last_used = $2, expires_at = $3 WHERE id = $1", []any{id, ts(lastUsed), ts(expiresAt)}))
	return wrapf(err, "touch SSO session %s", id)
}

// DeleteSSOSession implements storage.AuthorizationStore.
func (s *Store) DeleteSSOSession(ctx context.Context, hash []byte) (storage.SSOSession, error) {
	var x storage.SSOSession
	_, err := s.write(ctx, "DELETE FROM sso_sessions WHERE hash = $1 RETURNING "+ssoCols, []any{hash},
		&x.ID, &x.TenantID, &x.UserID, blobCol{&x.Hash}, timeCol{&x.AuthTime}, timeCol{&x.LastUsed}, timeCol{&x.ExpiresAt})
	return x, wrapf(err, "delete SSO session")
}

// CollectAuthorizations implements storage.AuthorizationStore.
func (s *Store) CollectAuthorizations(ctx context.Context, before time.Time) (codes, ssoSessions int64, err error) {
	b := before.UTC().Truncate(time.Microsecond)
	tag, err := s.exec(ctx, "DELETE FROM authorization_codes WHERE expires_at < $1", b)
	if err != nil {
		return 0, 0, wrapf(err, "collect authorization codes")
	}
	codes = tag.RowsAffected()
	if tag, err = s.exec(ctx, "DELETE FROM sso_sessions WHERE expires_at < $1", b); err != nil {
		return codes, 0, wrapf(err, "collect SSO sessions")
	}
	return codes, tag.RowsAffected(), nil
}
