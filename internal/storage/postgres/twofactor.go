package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/internal/storage"
)

var _ storage.TwoFactorStore = (*Store)(nil)

// CreateTwoFactorMethod implements storage.TwoFactorStore.
func (s *Store) CreateTwoFactorMethod(ctx context.Context, m storage.TwoFactorMethod) error {
	if len(m.SecretSealed) == 0 {
		return fmt.Errorf("postgres: create two-factor method %s: no sealed secret", m.ID)
	}
	_, err := s.write(ctx, `INSERT INTO two_factor_methods (user_id, id, method, secret_sealed, inserted)
		VALUES ($1, $2, $3, $4, $5)`, []any{m.UserID, m.ID, m.Method, m.SecretSealed, ts(m.Inserted)})
	return wrapf(err, "create two-factor method %s of user %s", m.ID, m.UserID)
}

// scanTwoFactorMethod reads a two_factor_methods row.
func scanTwoFactorMethod(r pgx.Row) (storage.TwoFactorMethod, error) {
	var m storage.TwoFactorMethod
	err := r.Scan(&m.UserID, &m.ID, &m.Method, blobCol{&m.SecretSealed}, timeCol{&m.Inserted})
	return m, err
}

// ListTwoFactorMethods implements storage.TwoFactorStore.
func (s *Store) ListTwoFactorMethods(ctx context.Context, userID string) ([]storage.TwoFactorMethod, error) {
	ms, err := list(ctx, s, `SELECT user_id, id, method, secret_sealed, inserted FROM two_factor_methods
		WHERE user_id = $1 ORDER BY inserted, id`, []any{userID}, scanTwoFactorMethod)
	return ms, wrapf(err, "list two-factor methods of user %s", userID)
}

// DeleteTwoFactorMethod implements storage.TwoFactorStore.
func (s *Store) DeleteTwoFactorMethod(ctx context.Context, userID, id string) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM two_factor_methods WHERE user_id = $1 AND id = $2", userID, id)),
		"delete two-factor method %s of user %s", id, userID)
}

// ReplaceRecoveryCodes implements storage.TwoFactorStore: one transaction
// (a savepoint inside one), which locks the user's row first so that
// concurrent replacements run one after another.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	err := s.Tx(ctx, func(st storage.Store) error {
		tx := st.(*Store)
		var one int
		if err := tx.read(func(q querier) error {
			return q.QueryRow(ctx, "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", userID).Scan(&one)
		}); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM recovery_codes WHERE user_id = $1", userID); err != nil {
			return err
		}
		if len(hashes) == 0 {
			return nil
		}
		_, err := tx.write(ctx, "INSERT INTO recovery_codes (user_id, hash) SELECT $1, unnest($2::bytea[])", []any{userID, hashes})
		return err
	})
	return wrapf(err, "replace recovery codes of user %s", userID)
}

// CountRecoveryCodes implements storage.TwoFactorStore.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	n, err := get(ctx, s, "SELECT count(*) FROM recovery_codes WHERE user_id = $1", []any{userID}, func(r pgx.Row) (int, error) {
		var n int
		err := r.Scan(&n)
		return n, err
	})
	return n, wrapf(err, "count recovery codes of user %s", userID)
}

// UseRecoveryCode implements storage.TwoFactorStore: one DELETE, which
// of concurrent ones on any node only one finds the row for.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error) {
	err := execOne(s.exec(ctx, "DELETE FROM recovery_codes WHERE user_id = $1 AND hash = $2", userID, hash))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, wrapf(err, "use recovery code of user %s", userID)
}

// useTwoFactorCodeSQL records a code's use, or takes over an expired
// record of it, in one statement (as useDPoPProofSQL): exactly one of
// concurrent uses, on any node, changes a row.
const useTwoFactorCodeSQL = `INSERT INTO two_factor_codes (user_id, method_id, step, expires) VALUES ($1, $2, $3, $4)
	ON CONFLICT (user_id, method_id, step) DO UPDATE SET expires = EXCLUDED.expires WHERE two_factor_codes.expires <= $5`

// UseTwoFactorCode implements storage.TwoFactorStore.
func (s *Store) UseTwoFactorCode(ctx context.Context, userID, methodID string, step int64, now, expires time.Time) (bool, error) {
	tag, err := s.write(ctx, useTwoFactorCodeSQL, []any{userID, methodID, step, ts(expires), ts(now)})
	if err != nil {
		return false, wrapf(err, "use two-factor code of user %s", userID)
	}
	return tag.RowsAffected() == 1, nil
}

// CreateTwoFactorLogin implements storage.TwoFactorStore.
func (s *Store) CreateTwoFactorLogin(ctx context.Context, l storage.TwoFactorLogin) error {
	_, err := s.write(ctx, `INSERT INTO two_factor_logins (hash, tenant_id, user_id, application_id, login_key,
		address, dpop_jkt, inserted, expires) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		[]any{l.Hash, l.TenantID, l.UserID, l.ApplicationID, l.LoginKey, l.Address, l.DPoPJKT, ts(l.Inserted), ts(l.Expires)})
	return wrapf(err, "create two-factor login of user %s", l.UserID)
}

// GetTwoFactorLogin implements storage.TwoFactorStore.
func (s *Store) GetTwoFactorLogin(ctx context.Context, hash []byte) (storage.TwoFactorLogin, error) {
	l, err := get(ctx, s, `SELECT hash, tenant_id, user_id, application_id, login_key, address, dpop_jkt, inserted, expires
		FROM two_factor_logins WHERE hash = $1`, []any{hash}, func(r pgx.Row) (storage.TwoFactorLogin, error) {
		var l storage.TwoFactorLogin
		err := r.Scan(blobCol{&l.Hash}, &l.TenantID, &l.UserID, &l.ApplicationID, &l.LoginKey, &l.Address, &l.DPoPJKT,
			timeCol{&l.Inserted}, timeCol{&l.Expires})
		return l, err
	})
	return l, wrapf(err, "get two-factor login")
}

// DeleteTwoFactorLogin implements storage.TwoFactorStore.
func (s *Store) DeleteTwoFactorLogin(ctx context.Context, hash []byte) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM two_factor_logins WHERE hash = $1", hash)), "delete two-factor login")
}

// CreateTwoFactorTrust implements storage.TwoFactorStore.
func (s *Store) CreateTwoFactorTrust(ctx context.Context, t storage.TwoFactorTrust) error {
	_, err := s.write(ctx, "INSERT INTO two_factor_trusts (hash, user_id, inserted, expires) VALUES ($1, $2, $3, $4)",
		[]any{t.Hash, t.UserID, ts(t.Inserted), ts(t.Expires)})
	return wrapf(err, "create two-factor trust of user %s", t.UserID)
}

// GetTwoFactorTrust implements storage.TwoFactorStore.
func (s *Store) GetTwoFactorTrust(ctx context.Context, hash []byte) (storage.TwoFactorTrust, error) {
	t, err := get(ctx, s, "SELECT hash, user_id, inserted, expires FROM two_factor_trusts WHERE hash = $1", []any{hash},
		func(r pgx.Row) (storage.TwoFactorTrust, error) {
			var t storage.TwoFactorTrust
			err := r.Scan(blobCol{&t.Hash}, &t.UserID, timeCol{&t.Inserted}, timeCol{&t.Expires})
			return t, err
		})
	return t, wrapf(err, "get two-factor trust")
}

// DeleteTwoFactorTrusts implements storage.TwoFactorStore.
func (s *Store) DeleteTwoFactorTrusts(ctx context.Context, userID string) error {
	_, err := s.exec(ctx, "DELETE FROM two_factor_trusts WHERE user_id = $1", userID)
	return wrapf(err, "delete two-factor trusts of user %s", userID)
}

// CollectTwoFactor implements storage.TwoFactorStore: one statement.
func (s *Store) CollectTwoFactor(ctx context.Context, before time.Time) (int64, error) {
	n, err := get(ctx, s, `WITH c AS (DELETE FROM two_factor_codes WHERE expires < $1 RETURNING 1),
		l AS (DELETE FROM two_factor_logins WHERE expires < $1 RETURNING 1),
		t AS (DELETE FROM two_factor_trusts WHERE expires < $1 RETURNING 1)
		SELECT (SELECT count(*) FROM c) + (SELECT count(*) FROM l) + (SELECT count(*) FROM t)`,
		[]any{ts(before)}, func(r pgx.Row) (int64, error) {
			var n int64
			err := r.Scan(&n)
			return n, err
		})
	return n, wrapf(err, "collect two-factor records")
}
