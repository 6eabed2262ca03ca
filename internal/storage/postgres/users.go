package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/internal/storage"
)

const userCols = `id, tenant_id, email, username, password_scheme, password_factor, password_salt, password_hash,
	active, verified, password_change_required, password_change_reason, expiry, profile,
	inserted, updated, last_login, password_updated`

// scanUser reads userCols.
func scanUser(r pgx.Row) (storage.User, error) {
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

// userArgs are the values of every users column but id, in the order of
// the INSERT and UPDATE statements.
func userArgs(u storage.User) ([]any, error) {
	profile, err := jsonDoc(u.Profile)
	if err != nil {
		return nil, err
	}
	return []any{u.TenantID, nullString(u.Email), fold(u.Email), nullString(u.Username), fold(u.Username),
		u.Password.Scheme, u.Password.Factor, u.Password.Salt, u.Password.Hash,
		u.Active, u.Verified, u.PasswordChangeRequired, u.PasswordChangeReason,
		ts(u.Expiry), profile,
		ts(u.Inserted), ts(u.Updated), ts(u.LastLogin), ts(u.PasswordUpdated)}, nil
}

// CreateUser stores a new user. ErrConflict if the id, or the email or
// username (compared case-insensitively) within the tenant, exists;
// ErrNotFound if the tenant does not exist.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	args, err := userArgs(u)
	if err == nil {
		_, err = s.write(ctx, `INSERT INTO users (id, tenant_id, email, email_folded, username, username_folded,
			password_scheme, password_factor, password_salt, password_hash,
			active, verified, password_change_required, password_change_reason, expiry, profile,
			inserted, updated, last_login, password_updated)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			append([]any{u.ID}, args...))
	}
	return wrapf(err, "create user %s", u.ID)
}

// GetUser returns a user. ErrNotFound if none has the id. Inside a Tx the
// user's row stays locked until the transaction ends.
func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	u, err := get(ctx, s, "SELECT "+userCols+" FROM users WHERE id = $1"+s.forUpdate(), []any{id}, scanUser)
	return u, wrapf(err, "get user %s", id)
}

// GetUserByEmail finds a user of a tenant by email, case-insensitively.
// ErrNotFound if there is none. Inside a Tx the user's row stays locked.
func (s *Store) GetUserByEmail(ctx context.Context, tenantID, email string) (storage.User, error) {
	u, err := get(ctx, s, "SELECT "+userCols+" FROM users WHERE tenant_id = $1 AND email_folded = $2"+s.forUpdate(),
		[]any{tenantID, fold(email)}, scanUser)
	return u, wrapf(err, "get user by email in tenant %s", tenantID)
}

// GetUserByUsername finds a user of a tenant by username,
// case-insensitively. ErrNotFound if there is none. Inside a Tx the user's
// row stays locked.
func (s *Store) GetUserByUsername(ctx context.Context, tenantID, username string) (storage.User, error) {
	u, err := get(ctx, s, "SELECT "+userCols+" FROM users WHERE tenant_id = $1 AND username_folded = $2"+s.forUpdate(),
		[]any{tenantID, fold(username)}, scanUser)
	return u, wrapf(err, "get user by username in tenant %s", tenantID)
}

// ListUsers returns the users of a tenant, ordered by email (folded),
// then username, then id.
func (s *Store) ListUsers(ctx context.Context, tenantID string) ([]storage.User, error) {
	us, err := list(ctx, s, "SELECT "+userCols+
		" FROM users WHERE tenant_id = $1 ORDER BY email_folded COLLATE \"C\" NULLS LAST, username_folded COLLATE \"C\" NULLS LAST, id", []any{tenantID}, scanUser)
	return us, wrapf(err, "list users of tenant %s", tenantID)
}

// UpdateUser replaces a user. ErrNotFound if none has the id (or the new
// tenant does not exist); ErrConflict if the new email or username is
// taken in the tenant.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	args, err := userArgs(u)
	if err == nil {
		err = execOne(s.write(ctx, `UPDATE users SET tenant_id = $1, email = $2, email_folded = $3,
			username = $4, username_folded = $5,
			password_scheme = $6, password_factor = $7, password_salt = $8, password_hash = $9,
			active = $10, verified = $11, password_change_required = $12, password_change_reason = $13,
			expiry = $14, profile = $15, inserted = $16, updated = $17, last_login = $18, password_updated = $19
			WHERE id = $20`, append(args, u.ID)))
	}
	return wrapf(err, "update user %s", u.ID)
}

// DeleteUser deletes a user with its registrations, sessions and login
// failures. ErrNotFound if none has the id.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM users WHERE id = $1", id)), "delete user %s", id)
}

const regCols = "id, user_id, application_id, tenant_id, roles, username, verified, data, inserted, updated, last_login"

// scanRegistration reads regCols.
func scanRegistration(r pgx.Row) (storage.Registration, error) {
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
	roles, err := jsonDoc(g.Roles)
	if err != nil {
		return wrapf(err, "create registration %s", g.ID)
	}
	data, err := jsonDoc(g.Data)
	if err != nil {
		return wrapf(err, "create registration %s", g.ID)
	}
	_, err = s.write(ctx, "INSERT INTO registrations ("+regCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		[]any{g.ID, g.UserID, g.ApplicationID, g.TenantID, roles, g.Username, g.Verified, data,
			ts(g.Inserted), ts(g.Updated), ts(g.LastLogin)})
	return wrapf(err, "create registration %s", g.ID)
}

// GetRegistration returns a user's registration for an application.
// ErrNotFound if there is none. Inside a Tx its row stays locked.
func (s *Store) GetRegistration(ctx context.Context, userID, applicationID string) (storage.Registration, error) {
	g, err := get(ctx, s, "SELECT "+regCols+" FROM registrations WHERE user_id = $1 AND application_id = $2"+s.forUpdate(),
		[]any{userID, applicationID}, scanRegistration)
	return g, wrapf(err, "get registration of user %s for application %s", userID, applicationID)
}

// ListRegistrations returns a user's registrations, oldest (by Inserted) first.
func (s *Store) ListRegistrations(ctx context.Context, userID string) ([]storage.Registration, error) {
	gs, err := list(ctx, s, "SELECT "+regCols+" FROM registrations WHERE user_id = $1 ORDER BY inserted NULLS FIRST, seq",
		[]any{userID}, scanRegistration)
	return gs, wrapf(err, "list registrations of user %s", userID)
}

// UpdateRegistration replaces a registration, found by user and
// application; its id stays. ErrNotFound if there is none.
func (s *Store) UpdateRegistration(ctx context.Context, g storage.Registration) error {
	roles, err := jsonDoc(g.Roles)
	if err != nil {
		return wrapf(err, "update registration of user %s for application %s", g.UserID, g.ApplicationID)
	}
	data, err := jsonDoc(g.Data)
	if err == nil {
		err = execOne(s.exec(ctx, `UPDATE registrations SET tenant_id = $1, roles = $2, username = $3, verified = $4,
			data = $5, inserted = $6, updated = $7, last_login = $8 WHERE user_id = $9 AND application_id = $10`,
			g.TenantID, roles, g.Username, g.Verified, data,
			ts(g.Inserted), ts(g.Updated), ts(g.LastLogin), g.UserID, g.ApplicationID))
	}
	return wrapf(err, "update registration of user %s for application %s", g.UserID, g.ApplicationID)
}

// DeleteRegistration deletes a registration. ErrNotFound if there is none.
func (s *Store) DeleteRegistration(ctx context.Context, userID, applicationID string) error {
	err := execOne(s.exec(ctx, "DELETE FROM registrations WHERE user_id = $1 AND application_id = $2", userID, applicationID))
	return wrapf(err, "delete registration of user %s for application %s", userID, applicationID)
}

// RenameRole renames a role in every registration for the application
// that holds it, or removes it when to is "", in one statement: the
// roles are rebuilt sorted (collation "C": byte order, as Go sorts,
// whatever the database's locale) and distinct.
func (s *Store) RenameRole(ctx context.Context, applicationID, from, to string) error {
	_, err := s.exec(ctx, `UPDATE registrations SET roles = coalesce((
			SELECT jsonb_agg(role ORDER BY role COLLATE "C") FROM (
				SELECT DISTINCT CASE WHEN r = $2::text THEN $3::text ELSE r END AS role
				FROM jsonb_array_elements_text(registrations.roles) AS e(r) WHERE NOT (r = $2::text AND $3::text = '')) x),
			'[]'::jsonb)
		WHERE application_id = $1 AND jsonb_typeof(roles) = 'array' AND roles @> jsonb_build_array($2::text)`,
		applicationID, from, to)
	return wrapf(err, "rename role %q of application %s", from, applicationID)
}

// errUnchanged rolls back an UpdateLoginAttempts that changed nothing.
var errUnchanged = errors.New("unchanged")

const loginAttemptCols = "tenant_id, key, count, in_flight, first_at, last_failure, locked_until, expires"

func scanLoginAttempts(r pgx.Row) (storage.LoginAttempts, error) {
	var a storage.LoginAttempts
	err := r.Scan(&a.TenantID, &a.Key, &a.Count, &a.InFlight, timeCol{&a.FirstAt}, timeCol{&a.LastFailure},
		timeCol{&a.LockedUntil}, timeCol{&a.Expires})
	return a, err
}

// GetLoginAttempts returns the failed-login record of a login ID in a
// tenant; ErrNotFound if there is none.
func (s *Store) GetLoginAttempts(ctx context.Context, tenantID, key string) (storage.LoginAttempts, error) {
	a, err := get(ctx, s, "SELECT "+loginAttemptCols+" FROM login_attempts WHERE tenant_id = $1 AND key = $2",
		[]any{tenantID, key}, scanLoginAttempts)
	return a, wrapf(err, "get login attempts in tenant %s", tenantID)
}

// UpdateLoginAttempts replaces the record of (tenantID, key) with what
// update returns for the current one, in a transaction (its own, or under
// a savepoint of the caller's) that holds the row locked: a placeholder
// row is inserted first if there is none, so that every node's update of
// one login ID waits for the others' (FOR UPDATE needs a row to lock).
func (s *Store) UpdateLoginAttempts(ctx context.Context, tenantID, key string, update func(storage.LoginAttempts) (storage.LoginAttempts, error)) (storage.LoginAttempts, error) {
	var out storage.LoginAttempts
	err := s.Tx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		if _, err := t.write(ctx, `INSERT INTO login_attempts (tenant_id, key, count, expires)
			VALUES ($1, $2, 0, 'epoch') ON CONFLICT (tenant_id, key) DO NOTHING`, []any{tenantID, key}); err != nil {
			return err
		}
		cur, err := get(ctx, t, "SELECT "+loginAttemptCols+" FROM login_attempts WHERE tenant_id = $1 AND key = $2 FOR UPDATE",
			[]any{tenantID, key}, scanLoginAttempts)
		if err != nil {
			return err
		}
		placeholder := cur.Count == 0 && cur.InFlight == 0 && cur.FirstAt.IsZero() && cur.LockedUntil.IsZero()
		if placeholder {
			cur = storage.LoginAttempts{TenantID: tenantID, Key: key} // no record
		}
		next, err := update(cur)
		if err != nil {
			return err
		}
		next.TenantID, next.Key = tenantID, key
		if out = next; next.Equal(cur) {
			if placeholder {
				return errUnchanged // roll the placeholder back
			}
			return nil // nothing to write (a refusal while locked, say)
		}
		_, err = t.exec(ctx, `UPDATE login_attempts SET count = $3, in_flight = $8, first_at = $4, last_failure = $5,
			locked_until = $6, expires = $7 WHERE tenant_id = $1 AND key = $2`,
			tenantID, key, next.Count, ts(next.FirstAt), ts(next.LastFailure), ts(next.LockedUntil), next.Expires.UTC().Truncate(time.Microsecond), next.InFlight)
		return err
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return out, wrapf(err, "update login attempts in tenant %s", tenantID)
}

// DeleteLoginAttempts removes the record of (tenantID, key), if any.
func (s *Store) DeleteLoginAttempts(ctx context.Context, tenantID, key string) error {
	_, err := s.exec(ctx, "DELETE FROM login_attempts WHERE tenant_id = $1 AND key = $2", tenantID, key)
	return wrapf(err, "delete login attempts in tenant %s", tenantID)
}

// CollectLoginAttempts deletes the records that expired before now.
func (s *Store) CollectLoginAttempts(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.exec(ctx, "DELETE FROM login_attempts WHERE expires < $1", now.UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, wrapf(err, "collect login attempts")
	}
	return tag.RowsAffected(), nil
}
