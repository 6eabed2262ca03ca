package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchid/latch/internal/storage"
)

var _ storage.TwoFactorStore = (*Store)(nil)

// CreateTwoFactorMethod implements storage.TwoFactorStore.
func (s *Store) CreateTwoFactorMethod(ctx context.Context, m storage.TwoFactorMethod) error {
	if len(m.SecretSealed) == 0 {
		return fmt.Errorf("sqlite: create two-factor method %s: no sealed secret", m.ID)
	}
	_, err := s.w().ExecContext(ctx, `INSERT INTO two_factor_methods (user_id, id, method, secret_sealed, inserted)
		VALUES (?, ?, ?, ?, ?)`, m.UserID, m.ID, m.Method, m.SecretSealed, m.Inserted.UnixMicro())
	return wrapf(err, "create two-factor method %s of user %s", m.ID, m.UserID)
}

// ListTwoFactorMethods implements storage.TwoFactorStore.
func (s *Store) ListTwoFactorMethods(ctx context.Context, userID string) ([]storage.TwoFactorMethod, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT user_id, id, method, secret_sealed, inserted FROM two_factor_methods
		WHERE user_id = ? ORDER BY inserted, id`, userID)
	ms, err := collect(rows, err, func(r rowScanner) (storage.TwoFactorMethod, error) {
		var m storage.TwoFactorMethod
		err := r.Scan(&m.UserID, &m.ID, &m.Method, blobCol{&m.SecretSealed}, timeCol{&m.Inserted})
		return m, err
	})
	return ms, wrapf(err, "list two-factor methods of user %s", userID)
}

// DeleteTwoFactorMethod implements storage.TwoFactorStore.
func (s *Store) DeleteTwoFactorMethod(ctx context.Context, userID, id string) error {
	return wrapf(execOne(ctx, s.w(), "DELETE FROM two_factor_methods WHERE user_id = ? AND id = ?", userID, id),
		"delete two-factor method %s of user %s", id, userID)
}

// ReplaceRecoveryCodes implements storage.TwoFactorStore: one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	err := s.atomic(ctx, func(q querier) error {
		if ok, err := exists(ctx, q, "SELECT 1 FROM users WHERE id = ?", userID); err != nil {
			return err
		} else if !ok {
			return storage.ErrNotFound
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := q.ExecContext(ctx, "INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)", userID, h); err != nil {
				return err
			}
		}
		return nil
	})
	return wrapf(err, "replace recovery codes of user %s", userID)
}

// CountRecoveryCodes implements storage.TwoFactorStore.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, "SELECT count(*) FROM recovery_codes WHERE user_id = ?", userID).Scan(&n)
	return n, wrapf(err, "count recovery codes of user %s", userID)
}

// UseRecoveryCode implements storage.TwoFactorStore: one DELETE, on the
// one write connection.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error) {
	err := execOne(ctx, s.w(), "DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?", userID, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, wrapf(err, "use recovery code of user %s", userID)
}

// useTwoFactorCodeSQL records a code's use, or takes over an expired
// record of it, in one statement (as useDPoPProofSQL).
const useTwoFactorCodeSQL = `INSERT INTO two_factor_codes (user_id, method_id, step, expires) VALUES (?1, ?2, ?3, ?4)
	ON CONFLICT (user_id, method_id, step) DO UPDATE SET expires = excluded.expires WHERE two_factor_codes.expires <= ?5`

// UseTwoFactorCode implements storage.TwoFactorStore.
func (s *Store) UseTwoFactorCode(ctx context.Context, userID, methodID string, step int64, now, expires time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, useTwoFactorCodeSQL, userID, methodID, step, expires.UnixMicro(), now.UnixMicro())
	if err != nil {
		return false, wrapf(err, "use two-factor code of user %s", userID)
	}
	n, err := res.RowsAffected()
	return n == 1, wrapf(err, "use two-factor code of user %s", userID)
}

// CreateTwoFactorLogin implements storage.TwoFactorStore.
func (s *Store) CreateTwoFactorLogin(ctx context.Context, l storage.TwoFactorLogin) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO two_factor_logins (hash, tenant_id, user_id, application_id, login_key,
		address, dpop_jkt, inserted, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.Hash, l.TenantID, l.UserID, l.ApplicationID, l.LoginKey, l.Address, l.DPoPJKT, l.Inserted.UnixMicro(), l.Expires.UnixMicro())
	return wrapf(err, "create two-factor login of user %s", l.UserID)
}

// GetTwoFactorLogin implements storage.TwoFactorStore.
func (s *Store) GetTwoFactorLogin(ctx context.Context, hash []byte) (storage.TwoFactorLogin, error) {
	var l storage.TwoFactorLogin
	err := s.r().QueryRowContext(ctx, `SELECT hash, tenant_id, user_id, application_id, login_key, address, dpop_jkt,
		inserted, expires FROM two_factor_logins WHERE hash = ?`, hash).
		Scan(blobCol{&l.Hash}, &l.TenantID, &l.UserID, &l.ApplicationID, &l.LoginKey, &l.Address, &l.DPoPJKT,
			timeCol{&l.Inserted}, timeCol{&l.Expires})
	return l, wrapf(err, "get two-factor login")
}

// DeleteTwoFactorLogin implements storage.TwoFactorStore.
func (s *Store) DeleteTwoFactorLogin(ctx context.Context, hash []byte) error {
	return wrapf(execOne(ctx, s.w(), "DELETE FROM two_factor_logins WHERE hash = ?", hash), "delete two-factor login")
}

// CreateTwoFactorTrust implements storage.TwoFactorStore.
func (s *Store) CreateTwoFactorTrust(ctx context.Context, t storage.TwoFactorTrust) error {
	_, err := s.w().ExecContext(ctx, "INSERT INTO two_factor_trusts (hash, user_id, inserted, expires) VALUES (?, ?, ?, ?)",
		t.Hash, t.UserID, t.Inserted.UnixMicro(), t.Expires.UnixMicro())
	return wrapf(err, "create two-factor trust of user %s", t.UserID)
}

// GetTwoFactorTrust implements storage.TwoFactorStore.
func (s *Store) GetTwoFactorTrust(ctx context.Context, hash []byte) (storage.TwoFactorTrust, error) {
	var t storage.TwoFactorTrust
	err := s.r().QueryRowContext(ctx, "SELECT hash, user_id, inserted, expires FROM two_factor_trusts WHERE hash = ?", hash).
		Scan(blobCol{&t.Hash}, &t.UserID, timeCol{&t.Inserted}, timeCol{&t.Expires})
	return t, wrapf(err, "get two-factor trust")
}

// DeleteTwoFactorTrusts implements storage.TwoFactorStore.
func (s *Store) DeleteTwoFactorTrusts(ctx context.Context, userID string) error {
	_, err := s.w().ExecContext(ctx, "DELETE FROM two_factor_trusts WHERE user_id = ?", userID)
	return wrapf(err, "delete two-factor trusts of user %s", userID)
}

// CollectTwoFactor implements storage.TwoFactorStore: one transaction.
func (s *Store) CollectTwoFactor(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.atomic(ctx, func(q querier) error {
		for _, table := range []string{"two_factor_codes", "two_factor_logins", "two_factor_trusts"} {
			res, err := q.ExecContext(ctx, "DELETE FROM "+table+" WHERE expires < ?", before.UnixMicro())
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, wrapf(err, "collect two-factor records")
}
