package sqlite

import (
	"context"
	"time"

	"github.com/latchid/latch/internal/storage"
)

const codeCols = `hash, tenant_id, application_id, user_id, redirect_uri, code_challenge, nonce, scopes, dpop_jkt,
	sso_session_id, auth_time, created, expires_at, used_at, session_id`

func scanCode(r rowScanner) (storage.AuthorizationCode, error) {
	var c storage.AuthorizationCode
	err := r.Scan(blobCol{&c.Hash}, &c.TenantID, &c.ApplicationID, &c.UserID, &c.RedirectURI, &c.CodeChallenge, &c.Nonce,
		jsonCol{&c.Scopes}, &c.DPoPJKT, &c.SSOSessionID, timeCol{&c.AuthTime}, timeCol{&c.Created}, timeCol{&c.ExpiresAt},
		timeCol{&c.UsedAt}, strCol{&c.SessionID})
	return c, err
}

// CreateAuthorizationCode implements storage.AuthorizationStore.
func (s *Store) CreateAuthorizationCode(ctx context.Context, c storage.AuthorizationCode) error {
	scopes, err := jsonText(c.Scopes)
	if err != nil {
		return wrapf(err, "create authorization code")
	}
	_, err = s.w().ExecContext(ctx, "INSERT INTO authorization_codes ("+codeCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.TenantID, c.ApplicationID, c.UserID, c.RedirectURI, c.CodeChallenge, c.Nonce, scopes, c.DPoPJKT,
		c.SSOSessionID, micros(c.AuthTime), micros(c.Created), micros(c.ExpiresAt), micros(c.UsedAt), nullString(c.SessionID))
	return wrapf(err, "create authorization code")
}

// RedeemAuthorizationCode implements storage.AuthorizationStore: one
// UPDATE ... WHERE used_at IS NULL, on the one write connection, decides
// which of concurrent redemptions is the first.
func (s *Store) RedeemAuthorizationCode(ctx context.Context, hash []byte, at time.Time) (storage.AuthorizationCode, error) {
	var c storage.AuthorizationCode
	err := s.atomic(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "UPDATE authorization_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL", micros(at), hash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if c, err = scanCode(q.QueryRowContext(ctx, "SELECT "+codeCols+" FROM authorization_codes WHERE hash = ?", hash)); err != nil {
			return err
		}
		if n == 1 {
			c.UsedAt = time.Time{} // as it was before
		}
		return nil
	})
	return c, wrapf(err, "redeem authorization code")
}

// SetAuthorizationCodeSession implements storage.AuthorizationStore.
func (s *Store) SetAuthorizationCodeSession(ctx context.Context, hash []byte, sessionID string) error {
	err := execOne(ctx, s.w(), "UPDATE authorization_codes SET session_id = ? WHERE hash = ?", nullString(sessionID), hash)
	return wrapf(err, "set authorization code session")
}

const ssoCols = "id, tenant_id, user_id, hash, auth_time, last_used, expires_at"

func scanSSO(r rowScanner) (storage.SSOSession, error) {
	var x storage.SSOSession
	err := r.Scan(&x.ID, &x.TenantID, &x.UserID, blobCol{&x.Hash}, timeCol{&x.AuthTime}, timeCol{&x.LastUsed}, timeCol{&x.ExpiresAt})
	return x, err
}

// CreateSSOSession implements storage.AuthorizationStore.
func (s *Store) CreateSSOSession(ctx context.Context, x storage.SSOSession) error {
	_, err := s.w().ExecContext(ctx, "INSERT INTO sso_sessions ("+ssoCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		x.ID, x.TenantID, x.UserID, x.Hash, micros(x.AuthTime), micros(x.LastUsed), micros(x.ExpiresAt))
	return wrapf(err, "create SSO session %s", x.ID)
}

// GetSSOSession implements storage.AuthorizationStore.
func (s *Store) GetSSOSession(ctx context.Context, hash []byte) (storage.SSOSession, error) {
	x, err := scanSSO(s.r().QueryRowContext(ctx, "SELECT "+ssoCols+" FROM sso_sessions WHERE hash = ?", hash))
	return x, wrapf(err, "get SSO session")
}

// TouchSSOSession implements storage.AuthorizationStore.
func (s *Store) TouchSSOSession(ctx context.Context, id string, lastUsed, expiresAt time.Time) error {
	err := execOne(ctx, s.w(), "UPDATE sso_sessions SET last_used = ?, expires_at = ? WHERE id = ?", micros(lastUsed), micros(expiresAt), id)
	return wrapf(err, "touch SSO session %s", id)
}

// DeleteSSOSession implements storage.AuthorizationStore.
func (s *Store) DeleteSSOSession(ctx context.Context, hash []byte) (storage.SSOSession, error) {
	x, err := scanSSO(s.w().QueryRowContext(ctx, "DELETE FROM sso_sessions WHERE hash = ? RETURNING "+ssoCols, hash))
	return x, wrapf(err, "delete SSO session")
}

// CollectAuthorizations implements storage.AuthorizationStore.
func (s *Store) CollectAuthorizations(ctx context.Context, before time.Time) (codes, ssoSessions int64, err error) {
	err = s.atomic(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM authorization_codes WHERE expires_at < ?", micros(before))
		if err != nil {
			return err
		}
		if codes, err = res.RowsAffected(); err != nil {
			return err
		}
		res, err = q.ExecContext(ctx, "DELETE FROM sso_sessions WHERE expires_at < ?", micros(before))
		if err != nil {
			return err
		}
		ssoSessions, err = res.RowsAffected()
		return err
	})
	return codes, ssoSessions, wrapf(err, "collect authorizations")
}
