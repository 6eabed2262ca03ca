package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchid/latch/internal/storage"
)

const userCols = `id, tenant_id, email, username, password_scheme, password_factor, password_salt, password_hash,
	active, verified, password_change_required, password_change_reason, expiry, profile,
	inserted, updated, last_login, password_updated`

// scanUser reads userCols.
func scanUser(r rowScanner) (storage.User, error) {
	var u storage.User
	err := r.Scan(userDest(&u)...)
	return u, err
}

// userDest is where the columns of userCols are read into u.
func userDest(u *storage.User) []any {
	return []any{&u.ID, &u.TenantID, strCol{&u.Email}, strCol{&u.Username},
		&u.Password.Scheme, &u.Password.Factor, &u.Password.Salt, &u.Password.Hash,
		&u.Active, &u.Verified, &u.PasswordChangeRequired, &u.PasswordChangeReason,
		timeCol{&u.Expiry}, jsonCol{&u.Profile},
		timeCol{&u.Inserted}, timeCol{&u.Updated}, timeCol{&u.LastLogin}, timeCol{&u.PasswordUpdated}}
}

// userArgs are the values of every users column but id, in userCols order.
func userArgs(u storage.User) ([]any, error) {
	profile, err := jsonText(u.Profile)
	if err != nil {
		return nil, err
	}
	return []any{u.TenantID, nullString(u.Email), fold(u.Email), nullString(u.Username), fold(u.Username),
		u.Password.Scheme, u.Password.Factor, u.Password.Salt, u.Password.Hash,
		u.Active, u.Verified, u.PasswordChangeRequired, u.PasswordChangeReason,
		micros(u.Expiry), profile,
		micros(u.Inserted), micros(u.Updated), micros(u.LastLogin), micros(u.PasswordUpdated)}, nil
}

// CreateUser stores a new user. ErrConflict if the id, or the email or
// username (compared case-insensitively) within the tenant, exists;
// ErrNotFound if the tenant does not exist.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	args, err := userArgs(u)
	if err == nil {
		_, err = s.w().ExecContext(ctx, `INSERT INTO users (id, tenant_id, email, email_folded, username, username_folded,
			password_scheme, password_factor, password_salt, password_hash,
			active, verified, password_change_required, password_change_reason, expiry, profile,
			inserted, updated, last_login, password_updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{u.ID}, args...)...)
	}
	return wrapf(err, "create user %s", u.ID)
}

// GetUser returns a user. ErrNotFound if none has the id.
func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	u, err := scanUser(s.r().QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
	return u, wrapf(err, "get user %s", id)
}

// GetUserByEmail finds a user of a tenant by email, case-insensitively.
// ErrNotFound if there is none.
func (s *Store) GetUserByEmail(ctx context.Context, tenantID, email string) (storage.User, error) {
	u, err := scanUser(s.r().QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE tenant_id = ? AND email_folded = ?",
		tenantID, fold(email)))
	return u, wrapf(err, "get user by email in tenant %s", tenantID)
}

// GetUserByUsername finds a user of a tenant by username,
// case-insensitively. ErrNotFound if there is none.
func (s *Store) GetUserByUsername(ctx context.Context, tenantID, username string) (storage.User, error) {
	u, err := scanUser(s.r().QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE tenant_id = ? AND username_folded = ?",
		tenantID, fold(username)))
	return u, wrapf(err, "get user by username in tenant %s", tenantID)
}

// ListUsers returns the users of a tenant, ordered by email (folded),
// then username, then id.
func (s *Store) ListUsers(ctx context.Context, tenantID string) ([]storage.User, error) {
	rows, err := s.r().QueryContext(ctx, "SELECT "+userCols+
		" FROM users WHERE tenant_id = ? ORDER BY email_folded IS NULL, email_folded, username_folded IS NULL, username_folded, id", tenantID)
	us, err := collect(rows, err, scanUser)
	return us, wrapf(err, "list users of tenant %s", tenantID)
}

// UpdateUser replaces a user. ErrNotFound if none has the id; ErrConflict
// if the new email or username is taken in the tenant.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	args, err := userArgs(u)
	if err == nil {
		err = execOne(ctx, s.w(), `UPDATE users SET tenant_id = ?, email = ?, email_folded = ?, username = ?, username_folded = ?,
			password_scheme = ?, password_factor = ?, password_salt = ?, password_hash = ?,
			active = ?, verified = ?, password_change_required = ?, password_change_reason = ?, expiry = ?, profile = ?,
			inserted = ?, updated = ?, last_login = ?, password_updated = ?
			WHERE id = ?`, append(args, u.ID)...)
	}
	return wrapf(err, "update user %s", u.ID)
}

// DeleteUser deletes a user with its registrations, sessions and login
// failures. ErrNotFound if none has the id.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return wrapf(execOne(ctx, s.w(), "DELETE FROM users WHERE id = ?", id), "delete user %s", id)
}

const regCols = "id, user_id, application_id, tenant_id, roles, username, verified, data, inserted, updated, last_login"

// scanRegistration reads regCols.
func scanRegistration(r rowScanner) (storage.Registration, error) {
	var g storage.Registration
	err := r.Scan(registrationDest(&g)...)
	return g, err
}

// registrationDest is where the columns of regCols are read into g.
func registrationDest(g *storage.Registration) []any {
	return []any{&g.ID, &g.UserID, &g.ApplicationID, &g.TenantID, jsonCol{&g.Roles}, &g.Username, &g.Verified,
		jsonCol{&g.Data}, timeCol{&g.Inserted}, timeCol{&g.Updated}, timeCol{&g.LastLogin}}
}

// CreateRegistration stores a registration. ErrConflict if the user is
// already registered for the application or the id exists; ErrNotFound if
// the user or the application does not exist.
func (s *Store) CreateRegistration(ctx context.Context, g storage.Registration) error {
	roles, err := jsonText(g.Roles)
	if err != nil {
		return wrapf(err, "create registration %s", g.ID)
	}
	data, err := jsonText(g.Data)
	if err != nil {
		return wrapf(err, "create registration %s", g.ID)
	}
	_, err = s.w().ExecContext(ctx, "INSERT INTO registrations ("+regCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.UserID, g.ApplicationID, g.TenantID, roles, g.Username, g.Verified, data,
		micros(g.Inserted), micros(g.Updated), micros(g.LastLogin))
	return wrapf(err, "create registration %s", g.ID)
}

// GetRegistration returns a user's registration for an application.
// ErrNotFound if there is none.
func (s *Store) GetRegistration(ctx context.Context, userID, applicationID string) (storage.Registration, error) {
	g, err := scanRegistration(s.r().QueryRowContext(ctx, "SELECT "+regCols+
		" FROM registrations WHERE user_id = ? AND application_id = ?", userID, applicationID))
	return g, wrapf(err, "get registration of user %s for application %s", userID, applicationID)
}

// ListRegistrations returns a user's registrations, oldest (by Inserted) first.
func (s *Store) ListRegistrations(ctx context.Context, userID string) ([]storage.Registration, error) {
	rows, err := s.r().QueryContext(ctx, "SELECT "+regCols+
		" FROM registrations WHERE user_id = ? ORDER BY inserted, rowid", userID)
	gs, err := collect(rows, err, scanRegistration)
	return gs, wrapf(err, "list registrations of user %s", userID)
}

// UpdateRegistration replaces a registration, found by user and
// application; its id stays. ErrNotFound if there is none.
func (s *Store) UpdateRegistration(ctx context.Context, g storage.Registration) error {
	roles, err := jsonText(g.Roles)
	if err != nil {
		return wrapf(err, "update registration of user %s for application %s", g.UserID, g.ApplicationID)
	}
	data, err := jsonText(g.Data)
	if err == nil {
		err = execOne(ctx, s.w(), `UPDATE registrations SET tenant_id = ?, roles = ?, username = ?, verified = ?, data = ?,
			inserted = ?, updated = ?, last_login = ? WHERE user_id = ? AND application_id = ?`,
			g.TenantID, roles, g.Username, g.Verified, data,
			micros(g.Inserted), micros(g.Updated), micros(g.LastLogin), g.UserID, g.ApplicationID)
	}
	return wrapf(err, "update registration of user %s for application %s", g.UserID, g.ApplicationID)
}

// DeleteRegistration deletes a registration. ErrNotFound if there is none.
func (s *Store) DeleteRegistration(ctx context.Context, userID, applicationID string) error {
	err := execOne(ctx, s.w(), "DELETE FROM registrations WHERE user_id = ? AND application_id = ?", userID, applicationID)
	return wrapf(err, "delete registration of user %s for application %s", userID, applicationID)
}

// RenameRole renames a role in every registration for the application
// that holds it, or removes it when to is "", in one statement: the
// roles are rebuilt sorted (BINARY collation: byte order, as Go sorts)
// and distinct.
func (s *Store) RenameRole(ctx context.Context, applicationID, from, to string) error {
	_, err := s.w().ExecContext(ctx, `UPDATE registrations SET roles = (
			SELECT coalesce(json_group_array(role ORDER BY role), '[]') FROM (
				SELECT DISTINCT CASE WHEN value = ?2 THEN ?3 ELSE value END AS role
				FROM json_each(registrations.roles) WHERE NOT (value = ?2 AND ?3 = '')))
		WHERE application_id = ?1 AND EXISTS (SELECT 1 FROM json_each(registrations.roles) WHERE value = ?2)`,
		applicationID, from, to)
	return wrapf(err, "rename role %q of application %s", from, applicationID)
}

const loginAttemptCols = "tenant_id, key, count, in_flight, first_at, last_failure, locked_until, expires"

func scanLoginAttempts(row rowScanner) (storage.LoginAttempts, error) {
	var a storage.LoginAttempts
	err := row.Scan(&a.TenantID, &a.Key, &a.Count, &a.InFlight, timeCol{&a.FirstAt}, timeCol{&a.LastFailure},
		timeCol{&a.LockedUntil}, timeCol{&a.Expires})
	return a, err
}

// GetLoginAttempts returns the failed-login record of a login ID in a
// tenant; ErrNotFound if there is none.
func (s *Store) GetLoginAttempts(ctx context.Context, tenantID, key string) (storage.LoginAttempts, error) {
	a, err := scanLoginAttempts(s.r().QueryRowContext(ctx, "SELECT "+loginAttemptCols+
		" FROM login_attempts WHERE tenant_id = ? AND key = ?", tenantID, key))
	return a, wrapf(err, "get login attempts in tenant %s", tenantID)
}

// UpdateLoginAttempts replaces the record of (tenantID, key) with what
// update returns for the current one, in one write transaction: SQLite
// has one writer, so concurrent updates run one after another.
func (s *Store) UpdateLoginAttempts(ctx context.Context, tenantID, key string, update func(storage.LoginAttempts) (storage.LoginAttempts, error)) (storage.LoginAttempts, error) {
	var out storage.LoginAttempts
	err := s.atomic(ctx, func(q querier) error {
		cur, err := scanLoginAttempts(q.QueryRowContext(ctx, "SELECT "+loginAttemptCols+
			" FROM login_attempts WHERE tenant_id = ? AND key = ?", tenantID, key))
		if errors.Is(err, sql.ErrNoRows) {
			cur, err = storage.LoginAttempts{TenantID: tenantID, Key: key}, nil
		}
		if err != nil {
			return err
		}
		next, err := update(cur)
		if err != nil {
			return err
		}
		next.TenantID, next.Key = tenantID, key
		if out = next; next.Equal(cur) {
			return nil // nothing to write (a refusal while locked, say)
		}
		_, err = q.ExecContext(ctx, `INSERT INTO login_attempts (`+loginAttemptCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, key) DO UPDATE SET count = excluded.count, in_flight = excluded.in_flight, first_at = excluded.first_at,
				last_failure = excluded.last_failure, locked_until = excluded.locked_until, expires = excluded.expires`,
			tenantID, key, next.Count, next.InFlight, micros(next.FirstAt), micros(next.LastFailure), micros(next.LockedUntil), next.Expires.UnixMicro())
		return err
	})
	return out, wrapf(err, "update login attempts in tenant %s", tenantID)
}

// DeleteLoginAttempts removes the record of (tenantID, key), if any.
func (s *Store) DeleteLoginAttempts(ctx context.Context, tenantID, key string) error {
	_, err := s.w().ExecContext(ctx, "DELETE FROM login_attempts WHERE tenant_id = ? AND key = ?", tenantID, key)
	return wrapf(err, "delete login attempts in tenant %s", tenantID)
}

// CollectLoginAttempts deletes the records that expired before now.
func (s *Store) CollectLoginAttempts(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w().ExecContext(ctx, "DELETE FROM login_attempts WHERE expires < ?", now.UnixMicro())
	if err != nil {
		return 0, wrapf(err, "collect login attempts")
	}
	n, err := res.RowsAffected()
	return n, wrapf(err, "collect login attempts")
}
