package sqlite

import (
	"context"

	"github.com/latchid/latch/internal/storage"
)

const userCols = `id, tenant_id, email, username, password_scheme, password_factor, password_salt, password_hash,
	active, verified, password_change_required, password_change_reason, expiry, profile,
	inserted, updated, last_login, password_updated`

// scanUser reads userCols.
func scanUser(r rowScanner) (storage.User, error) {
	var u storage.User
	err := r.Scan(&u.ID, &u.TenantID, strCol{&u.Email}, strCol{&u.Username},
		&u.Password.Scheme, &u.Password.Factor, &u.Password.Salt, &u.Password.Hash,
		&u.Active, &u.Verified, &u.PasswordChangeRequired, &u.PasswordChangeReason,
		timeCol{&u.Expiry}, jsonCol{&u.Profile},
		timeCol{&u.Inserted}, timeCol{&u.Updated}, timeCol{&u.LastLogin}, timeCol{&u.PasswordUpdated})
	return u, err
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
	err := r.Scan(&g.ID, &g.UserID, &g.ApplicationID, &g.TenantID, jsonCol{&g.Roles}, &g.Username, &g.Verified,
		jsonCol{&g.Data}, timeCol{&g.Inserted}, timeCol{&g.Updated}, timeCol{&g.LastLogin})
	return g, err
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

// GetLoginFailures returns a user's failed-login record; ErrNotFound if
// there is none.
func (s *Store) GetLoginFailures(ctx context.Context, userID string) (storage.LoginFailures, error) {
	var f storage.LoginFailures
	err := s.r().QueryRowContext(ctx, `SELECT user_id, count, first_at, last_at, locked_until
		FROM login_failures WHERE user_id = ?`, userID).
		Scan(&f.UserID, &f.Count, timeCol{&f.FirstAt}, timeCol{&f.LastAt}, timeCol{&f.LockedUntil})
	return f, wrapf(err, "get login failures of user %s", userID)
}

// PutLoginFailures creates or replaces a user's failed-login record.
// ErrNotFound if the user does not exist.
func (s *Store) PutLoginFailures(ctx context.Context, f storage.LoginFailures) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO login_failures (user_id, count, first_at, last_at, locked_until)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET count = excluded.count, first_at = excluded.first_at,
			last_at = excluded.last_at, locked_until = excluded.locked_until`,
		f.UserID, f.Count, micros(f.FirstAt), micros(f.LastAt), micros(f.LockedUntil))
	return wrapf(err, "put login failures of user %s", f.UserID)
}

// DeleteLoginFailures removes a user's failed-login record, if any.
func (s *Store) DeleteLoginFailures(ctx context.Context, userID string) error {
	_, err := s.w().ExecContext(ctx, "DELETE FROM login_failures WHERE user_id = ?", userID)
	return wrapf(err, "delete login failures of user %s", userID)
}
