package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/latchid/latch/internal/storage"
)

const sessionCols = `id, tenant_id, user_id, application_id, token_hash, previous_hash, sealed_successor, rotated_at,
	generation, inserted, start_instant, expires_at, auth_time, authentication_type, scopes, device, last_used,
	dpop_jkt, revoked_at, revoke_reason`

// The statements of the transactional hot paths, prepared at Open.
const (
	createSessionSQL = "INSERT INTO sessions (" + sessionCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	rotateSQL = `UPDATE sessions SET token_hash = ?, previous_hash = token_hash,
		sealed_successor = ?, rotated_at = ?, start_instant = ?, expires_at = ?, last_used = ?, device = ?,
		generation = generation + 1
		WHERE id = ? AND token_hash = ? AND revoked_at IS NULL`
	formerSQL        = "INSERT INTO session_former_tokens (token_hash, session_id, rotated_at) VALUES (?, ?, ?)"
	sessionExistsSQL = "SELECT 1 FROM sessions WHERE id = ?"
	touchSQL         = `UPDATE sessions SET start_instant = ?, expires_at = ?, last_used = ?, device = ?
		WHERE id = ? AND revoked_at IS NULL`
)

// hotSQL lists them.
var hotSQL = []string{createSessionSQL, rotateSQL, formerSQL, sessionExistsSQL, touchSQL, savepointSQL, releaseSQL, rollbackToSQL}

// colsOf is the column list cols qualified with a table alias.
func colsOf(alias, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// findSessionSQL finds a session by its current token hash (match 1), or
// by a former one (2 for the previous one, 3 for an older one). Built once:
// FindSession runs on every refresh.
var findSessionSQL = "SELECT " + sessionCols + `, 1 AS how FROM sessions WHERE token_hash = ?1
	UNION ALL
	SELECT ` + colsOf("s", sessionCols) + `, CASE WHEN s.previous_hash = f.token_hash THEN 2 ELSE 3 END
	FROM session_former_tokens f JOIN sessions s ON s.id = f.session_id WHERE f.token_hash = ?1
	ORDER BY how LIMIT 1`

// scanSession reads sessionCols, then extra.
func scanSession(r rowScanner, extra ...any) (storage.Session, error) {
	var s storage.Session
	err := r.Scan(append(sessionDest(&s), extra...)...)
	return s, err
}

// sessionDest is where the columns of sessionCols are read into s.
func sessionDest(s *storage.Session) []any {
	return []any{&s.ID, &s.TenantID, &s.UserID, strCol{&s.ApplicationID},
		blobCol{&s.TokenHash}, blobCol{&s.PreviousHash}, blobCol{&s.SealedSuccessor}, timeCol{&s.RotatedAt},
		&s.Generation, timeCol{&s.Inserted}, timeCol{&s.StartInstant}, timeCol{&s.ExpiresAt}, timeCol{&s.AuthTime},
		&s.AuthenticationType, jsonCol{&s.Scopes}, jsonCol{&s.Device}, timeCol{&s.LastUsed},
		&s.DPoPJKT, timeCol{&s.RevokedAt}, &s.RevokeReason}
}

// scanSessionRow is scanSession for collect.
func scanSessionRow(r rowScanner) (storage.Session, error) { return scanSession(r) }

// CreateSession stores a new refresh-token session. ErrConflict if the id
// or the token hash exists; ErrNotFound if the user or the application
// does not.
func (s *Store) CreateSession(ctx context.Context, x storage.Session) error {
	scopes, err := jsonText(x.Scopes)
	if err != nil {
		return wrapf(err, "create session %s", x.ID)
	}
	device, err := jsonText(x.Device)
	if err != nil {
		return wrapf(err, "create session %s", x.ID)
	}
	err = s.grouped(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, createSessionSQL,
			x.ID, x.TenantID, x.UserID, nullString(x.ApplicationID), blob(x.TokenHash), blob(x.PreviousHash),
			blob(x.SealedSuccessor), micros(x.RotatedAt), x.Generation, micros(x.Inserted), micros(x.StartInstant),
			micros(x.ExpiresAt), micros(x.AuthTime), x.AuthenticationType, scopes, device, micros(x.LastUsed),
			x.DPoPJKT, micros(x.RevokedAt), x.RevokeReason)
		return err
	})
	return wrapf(err, "create session %s", x.ID)
}

// GetSession returns a session by id, revoked or not. ErrNotFound if none
// has the id.
func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	x, err := scanSession(s.r().QueryRowContext(ctx, "SELECT "+sessionCols+" FROM sessions WHERE id = ?", id))
	return x, wrapf(err, "get session %s", id)
}

// FindSession finds the session a refresh-token hash belongs to, as its
// current value, its previous one or an older one, in one statement (one
// snapshot). Revoked sessions are found too. ErrNotFound if none.
func (s *Store) FindSession(ctx context.Context, tokenHash []byte) (storage.Session, storage.Match, error) {
	if len(tokenHash) == 0 {
		return storage.Session{}, 0, wrapf(storage.ErrNotFound, "find session")
	}
	var m storage.Match
	x, err := scanSession(s.r().QueryRowContext(ctx, findSessionSQL, tokenHash), &m)
	if err != nil {
		return storage.Session{}, 0, wrapf(err, "find session")
	}
	return x, m, nil
}

// findOwnerSQL finds a session by its current token hash, joined with its
// user and the user's registration for its application; findFormerOwnerSQL
// by a former one (2 for the previous one, 3 for an older one), asked only
// when the first finds nothing. A session without a registration is among
// the rows of neither. Built once: the first runs on every refresh.
var (
	findOwnerSQL = "SELECT " + ownerCols + `, 1 FROM sessions s
	JOIN users u ON u.id = s.user_id
	JOIN registrations g ON g.user_id = s.user_id AND g.application_id = s.application_id
	WHERE s.token_hash = ?`
	findFormerOwnerSQL = "SELECT " + ownerCols + `, CASE WHEN s.previous_hash = f.token_hash THEN 2 ELSE 3 END
	FROM session_former_tokens f JOIN sessions s ON s.id = f.session_id
	JOIN users u ON u.id = s.user_id
	JOIN registrations g ON g.user_id = s.user_id AND g.application_id = s.application_id
	WHERE f.token_hash = ?`
)

// ownerCols are the columns of a session, its user and its registration.
var ownerCols = colsOf("s", sessionCols) + ", " + colsOf("u", userCols) + ", " + colsOf("g", regCols)

// FindSessionOwner is FindSession with the session's user and the
// user's registration for the session's application: in one statement
// when the value is the session's current one and it has a registration,
// in two for a former value; otherwise, or when no session has the hash,
// it looks again in three (storage.FindSessionOwnerApart).
// ErrNotFound if no session has the hash.
func (s *Store) FindSessionOwner(ctx context.Context, tokenHash []byte) (storage.SessionOwner, storage.Match, error) {
	if len(tokenHash) == 0 {
		return storage.SessionOwner{}, 0, wrapf(storage.ErrNotFound, "find session owner")
	}
	var o storage.SessionOwner
	var m storage.Match
	dest := slices.Concat(sessionDest(&o.Session), userDest(&o.User), registrationDest(&o.Registration), []any{&m})
	err := s.r().QueryRowContext(ctx, findOwnerSQL, tokenHash).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.r().QueryRowContext(ctx, findFormerOwnerSQL, tokenHash).Scan(dest...)
	}
	switch {
	case err == nil:
		o.Registered = true
		return o, m, nil
	case errors.Is(err, sql.ErrNoRows):
		return storage.FindSessionOwnerApart(ctx, s, tokenHash)
	default:
		return storage.SessionOwner{}, 0, wrapf(err, "find session owner")
	}
}

// RotateSession replaces the session's current token hash, if and only if
// it is still presentedHash and the session is not revoked, in one
// transaction: the replaced hash becomes the previous one and joins the
// session's former values. ErrStale otherwise; ErrNotFound if no session
// has the id; ErrConflict if r.TokenHash is in use. Outside Tx it is
// committed in a group (see Group commit).
func (s *Store) RotateSession(ctx context.Context, id string, presentedHash []byte, r storage.Rotation) error {
	device, err := jsonText(r.Device)
	if err != nil {
		return wrapf(err, "rotate session %s", id)
	}
	err = s.grouped(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, rotateSQL,
			blob(r.TokenHash), blob(r.SealedSuccessor), micros(r.RotatedAt), micros(r.StartInstant),
			micros(r.ExpiresAt), micros(r.LastUsed), device, id, blob(presentedHash))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, staleOrMissing(ctx, q, id))
		}
		_, err = q.ExecContext(ctx, formerSQL, presentedHash, id, micros(r.RotatedAt))
		return err
	})
	return wrapf(err, "rotate session %s", id)
}

// staleOrMissing tells why a conditional update of session id changed
// nothing: ErrNotFound if there is no such session, ErrStale if there is.
func staleOrMissing(ctx context.Context, q querier, id string) error {
	ok, err := exists(ctx, q, sessionExistsSQL, id)
	switch {
	case err != nil:
		return err
	case ok:
		return storage.ErrStale
	default:
		return storage.ErrNotFound
	}
}

// TouchSession records a use of a session that does not rotate it.
// ErrStale if the session is revoked; ErrNotFound if there is none.
func (s *Store) TouchSession(ctx context.Context, id string, t storage.Touch) error {
	device, err := jsonText(t.Device)
	if err != nil {
		return wrapf(err, "touch session %s", id)
	}
	err = s.grouped(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, touchSQL,
			micros(t.StartInstant), micros(t.ExpiresAt), micros(t.LastUsed), device, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, staleOrMissing(ctx, q, id))
		}
		return nil
	})
	return wrapf(err, "touch session %s", id)
}

// sessionWhere is the SQL condition (ANDed, leading " AND ") and arguments
// selecting f's sessions.
func sessionWhere(f storage.SessionFilter) (string, []any) {
	var b strings.Builder
	var args []any
	for _, c := range []struct{ col, v string }{
		{"id", f.ID}, {"tenant_id", f.TenantID}, {"user_id", f.UserID}, {"application_id", f.ApplicationID},
	} {
		if c.v != "" {
			b.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.v)
		}
	}
	return b.String(), args
}

// ListSessions returns the live (unrevoked) sessions that match f, oldest
// (by Inserted) first. An empty filter matches every live session.
func (s *Store) ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	where, args := sessionWhere(f)
	rows, err := s.r().QueryContext(ctx, "SELECT "+sessionCols+" FROM sessions WHERE revoked_at IS NULL"+where+
		" ORDER BY inserted, rowid", args...)
	xs, err := collect(rows, err, scanSessionRow)
	return xs, wrapf(err, "list sessions")
}

// RevokeSessions marks every live session that matches f as revoked at the
// given time for the given reason, in one statement, and returns them as
// they are now, oldest first. A filter with no field set matches nothing.
func (s *Store) RevokeSessions(ctx context.Context, f storage.SessionFilter, at time.Time, reason string) ([]storage.Session, error) {
	if f.Empty() {
		return nil, nil
	}
	if at.IsZero() {
		return nil, errors.New("sqlite: revoke sessions: zero revocation time")
	}
	where, args := sessionWhere(f)
	rows, err := s.w().QueryContext(ctx, "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE revoked_at IS NULL"+where+
		" RETURNING "+sessionCols, append([]any{micros(at), reason}, args...)...)
	xs, err := collect(rows, err, scanSessionRow)
	if err != nil {
		return nil, wrapf(err, "revoke sessions")
	}
	slices.SortStableFunc(xs, func(a, b storage.Session) int {
		return cmp.Or(a.Inserted.Compare(b.Inserted), strings.Compare(a.ID, b.ID))
	})
	return xs, nil
}

// GarbageCollect deletes, in one transaction, the sessions that expired or
// were revoked before the given time (with their former token hashes), the
// outbox's finished deliveries and spent events (see
// collectOutbox), and the DPoP proof records that expired before it.
func (s *Store) GarbageCollect(ctx context.Context, before time.Time) (storage.GCResult, error) {
	var out storage.GCResult
	b := before.UnixMicro()
	err := s.atomic(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?", b, b)
		if err != nil {
			return err
		}
		if out.Sessions, err = res.RowsAffected(); err != nil {
			return err
		}
		if err := collectOutbox(ctx, q, b, &out); err != nil {
			return err
		}
		return collectDPoPProofs(ctx, q, b, &out)
	})
	if err != nil {
		return storage.GCResult{}, wrapf(err, "garbage collect")
	}
	return out, nil
}
