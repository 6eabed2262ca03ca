package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchid/latch/internal/storage"
)

const sessionCols = `id, tenant_id, user_id, application_id, token_hash, previous_hash, sealed_successor, rotated_at,
	generation, inserted, start_instant, expires_at, auth_time, authentication_type, scopes, device, last_used,
	dpop_jkt, revoked_at, revoke_reason`

// colsOf is the column list cols qualified with a table alias.
func colsOf(alias, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// scanSession reads sessionCols, then extra.
func scanSession(r pgx.Row, extra ...any) (storage.Session, error) {
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

// scanSessionRow is scanSession for get and list.
func scanSessionRow(r pgx.Row) (storage.Session, error) { return scanSession(r) }

// CreateSession stores a new refresh-token session. ErrConflict if the id
// or the token hash exists; ErrNotFound if the user or the application
// does not.
func (s *Store) CreateSession(ctx context.Context, x storage.Session) error {
	scopes, err := jsonDoc(x.Scopes)
	if err != nil {
		return wrapf(err, "create session %s", x.ID)
	}
	device, err := jsonDoc(x.Device)
	if err != nil {
		return wrapf(err, "create session %s", x.ID)
	}
	_, err = s.write(ctx, "INSERT INTO sessions ("+sessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		[]any{x.ID, x.TenantID, x.UserID, nullString(x.ApplicationID), blob(x.TokenHash), blob(x.PreviousHash),
			blob(x.SealedSuccessor), ts(x.RotatedAt), x.Generation, ts(x.Inserted), ts(x.StartInstant),
			ts(x.ExpiresAt), ts(x.AuthTime), x.AuthenticationType, scopes, device, ts(x.LastUsed),
			x.DPoPJKT, ts(x.RevokedAt), x.RevokeReason})
	return wrapf(err, "create session %s", x.ID)
}

// GetSession returns a session by id, revoked or not. ErrNotFound if none
// has the id. Inside a Tx the session's row stays locked until the
// transaction ends.
func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	x, err := get(ctx, s, "SELECT "+sessionCols+" FROM sessions WHERE id = $1"+s.forUpdate(), []any{id}, scanSessionRow)
	return x, wrapf(err, "get session %s", id)
}

// FindSession finds the session a refresh-token hash belongs to, as its
// current value, its previous one or an older one, in one statement (one
// snapshot). Revoked sessions are found too. ErrNotFound if none. It takes
// no lock, in a Tx or not: RotateSession re-checks what it found.
func (s *Store) FindSession(ctx context.Context, tokenHash []byte) (storage.Session, storage.Match, error) {
	if len(tokenHash) == 0 {
		return storage.Session{}, 0, wrapf(storage.ErrNotFound, "find session")
	}
	var m storage.Match
	x, err := get(ctx, s, "SELECT "+sessionCols+`, 1 AS how FROM sessions WHERE token_hash = $1
		UNION ALL
		SELECT `+colsOf("s", sessionCols)+`, CASE WHEN s.previous_hash = f.token_hash THEN 2 ELSE 3 END
		FROM session_former_tokens f JOIN sessions s ON s.id = f.session_id WHERE f.token_hash = $1
		ORDER BY how LIMIT 1`, []any{tokenHash},
		func(r pgx.Row) (storage.Session, error) { return scanSession(r, &m) })
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
	WHERE s.token_hash = $1`
	findFormerOwnerSQL = "SELECT " + ownerCols + `, CASE WHEN s.previous_hash = f.token_hash THEN 2 ELSE 3 END
	FROM session_former_tokens f JOIN sessions s ON s.id = f.session_id
	JOIN users u ON u.id = s.user_id
	JOIN registrations g ON g.user_id = s.user_id AND g.application_id = s.application_id
	WHERE f.token_hash = $1`
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
	err := s.read(func(q querier) error {
		err := q.QueryRow(ctx, findOwnerSQL, tokenHash).Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			err = q.QueryRow(ctx, findFormerOwnerSQL, tokenHash).Scan(dest...)
		}
		return err
	})
	switch {
	case err == nil:
		o.Registered = true
		return o, m, nil
	case errors.Is(err, pgx.ErrNoRows):
		return storage.FindSessionOwnerApart(ctx, s, tokenHash)
	default:
		return storage.SessionOwner{}, 0, wrapf(err, "find session owner")
	}
}

// RotateSession replaces the session's current token hash, if and only if
// it is still presentedHash and the session is not revoked: the replaced
// hash becomes the previous one and joins the session's former values. It
// is one statement, a conditional UPDATE: of concurrent rotations of one
// value, on any number of nodes, the first to lock the row wins and the
// others, re-checking the condition on its version, change nothing.
// ErrStale for them (or for a stale value or a revoked session);
// ErrNotFound if no session has the id; ErrConflict if r.TokenHash is in use.
// Outside Tx the statement runs in a transaction of its own, so that it
// cannot commit after the call gave up (see Faults in the package comment).
func (s *Store) RotateSession(ctx context.Context, id string, presentedHash []byte, r storage.Rotation) error {
	device, err := jsonDoc(r.Device)
	if err != nil {
		return wrapf(err, "rotate session %s", id)
	}
	args := []any{id, blob(presentedHash), blob(r.TokenHash), blob(r.SealedSuccessor), ts(r.RotatedAt),
		ts(r.StartInstant), ts(r.ExpiresAt), ts(r.LastUsed), device}
	if s.tx == nil {
		// Never autocommitted: see Faults in the package comment.
		return wrapf(s.rotateAlone(ctx, args), "rotate session %s", id)
	}
	var rotated, exists bool
	_, err = s.write(ctx, rotateSQL, args, &rotated, &exists)
	return wrapf(cmp.Or(err, staleOrMissing(rotated, exists)), "rotate session %s", id)
}

// rotateSQL rotates a session and tells whether it did and whether the
// session exists.
const rotateSQL = `WITH rotated AS (
		UPDATE sessions SET token_hash = $3, previous_hash = token_hash, sealed_successor = $4,
			rotated_at = $5, start_instant = $6, expires_at = $7, last_used = $8, device = $9,
			generation = generation + 1
		WHERE id = $1 AND token_hash = $2 AND revoked_at IS NULL
		RETURNING id
	), former AS (
		INSERT INTO session_former_tokens (token_hash, session_id, rotated_at)
		SELECT $2::bytea, id, $5::timestamptz FROM rotated
		RETURNING 1
	)
	SELECT EXISTS (SELECT 1 FROM former), EXISTS (SELECT 1 FROM sessions WHERE id = $1)`

// rotateAlone runs rotateSQL in a transaction of its own, in two round
// trips where Tx takes three: BEGIN and the statement go out in one batch,
// without the savepoint Tx puts around a write (nothing in this
// transaction carries on after a failure), and COMMIT only once the
// statement has answered in time. A rotation that changed nothing rolls
// back: nothing to commit.
func (s *Store) rotateAlone(ctx context.Context, args []any) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection left inside the transaction (a failed ROLLBACK) is
	// closed on release, not reused.
	defer conn.Release()
	rollback := func() {
		rctx, cancel := afterFailure(ctx)
		defer cancel()
		conn.Exec(rctx, "ROLLBACK")
	}
	var rotated, exists bool
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	b.Queue(rotateSQL, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&rotated, &exists) })
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if !pgconn.SafeToRetry(err) {
			rollback()
		}
		return err
	}
	if !rotated {
		rollback()
		return staleOrMissing(rotated, exists)
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// staleOrMissing tells why a conditional update of a session changed
// nothing: ErrNotFound if there is no such session, ErrStale if there is.
func staleOrMissing(changed, exists bool) error {
	switch {
	case changed:
		return nil
	case exists:
		return storage.ErrStale
	default:
		return storage.ErrNotFound
	}
}

// TouchSession records a use of a session that does not rotate it, in one
// statement. ErrStale if the session is revoked; ErrNotFound if there is none.
func (s *Store) TouchSession(ctx context.Context, id string, t storage.Touch) error {
	device, err := jsonDoc(t.Device)
	if err != nil {
		return wrapf(err, "touch session %s", id)
	}
	var touched, exists bool
	err = s.read(func(q querier) error {
		return q.QueryRow(ctx, `WITH touched AS (
				UPDATE sessions SET start_instant = $2, expires_at = $3, last_used = $4, device = $5
				WHERE id = $1 AND revoked_at IS NULL
				RETURNING 1
			)
			SELECT EXISTS (SELECT 1 FROM touched), EXISTS (SELECT 1 FROM sessions WHERE id = $1)`,
			id, ts(t.StartInstant), ts(t.ExpiresAt), ts(t.LastUsed), device).Scan(&touched, &exists)
	})
	return wrapf(cmp.Or(err, staleOrMissing(touched, exists)), "touch session %s", id)
}

// sessionWhere is the SQL condition (ANDed, leading " AND ") selecting f's
// sessions, with its arguments numbered from $first.
func sessionWhere(f storage.SessionFilter, first int) (string, []any) {
	var b strings.Builder
	var args []any
	for _, c := range []struct{ col, v string }{
		{"id", f.ID}, {"tenant_id", f.TenantID}, {"user_id", f.UserID}, {"application_id", f.ApplicationID},
	} {
		if c.v != "" {
			b.WriteString(" AND " + c.col + " = $" + strconv.Itoa(first+len(args)))
			args = append(args, c.v)
		}
	}
	return b.String(), args
}

// ListSessions returns the live (unrevoked) sessions that match f, oldest
// (by Inserted) first. An empty filter matches every live session.
func (s *Store) ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	where, args := sessionWhere(f, 1)
	xs, err := list(ctx, s, "SELECT "+sessionCols+" FROM sessions WHERE revoked_at IS NULL"+where+
		" ORDER BY inserted NULLS FIRST, seq", args, scanSessionRow)
	return xs, wrapf(err, "list sessions")
}

// RevokeSessions marks every live session that matches f as revoked at the
// given time for the given reason, in one statement, and returns them as
// they are now, oldest first. A filter with no field set matches nothing.
// A session revoked concurrently (by another node) is left as that
// revocation made it, and returned by that call only.
func (s *Store) RevokeSessions(ctx context.Context, f storage.SessionFilter, at time.Time, reason string) ([]storage.Session, error) {
	if f.Empty() {
		return nil, nil
	}
	if at.IsZero() {
		return nil, errors.New("postgres: revoke sessions: zero revocation time")
	}
	where, args := sessionWhere(f, 3)
	xs, err := list(ctx, s, "UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE revoked_at IS NULL"+where+
		" RETURNING "+sessionCols, append([]any{ts(at), reason}, args...), scanSessionRow)
	if err != nil {
		return nil, wrapf(err, "revoke sessions")
	}
	slices.SortStableFunc(xs, func(a, b storage.Session) int {
		return cmp.Or(a.Inserted.Compare(b.Inserted), strings.Compare(a.ID, b.ID))
	})
	return xs, nil
}

// GarbageCollect deletes, in one statement, the sessions that expired or
// were revoked before the given time (with their former token hashes);
// then, in two more, the outbox's finished deliveries and spent events
// (see collectOutbox); and in a last one the DPoP proof records that
// expired before it.
func (s *Store) GarbageCollect(ctx context.Context, before time.Time) (storage.GCResult, error) {
	var out storage.GCResult
	err := s.read(func(q querier) error {
		return q.QueryRow(ctx, `WITH s AS (
				DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1 RETURNING 1
			)
			SELECT count(*) FROM s`,
			before.UTC().Truncate(time.Microsecond)).Scan(&out.Sessions)
	})
	if err == nil {
		err = s.collectOutbox(ctx, before, &out)
	}
	if err == nil {
		err = s.collectDPoPProofs(ctx, before, &out)
	}
	if err != nil {
		return storage.GCResult{}, wrapf(err, "garbage collect")
	}
	return out, nil
}
