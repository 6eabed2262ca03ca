// Package postgres is Latch's storage backend for several nodes sharing one
// PostgreSQL database, through pgx v5 and its pool (pgxpool).
//
// Open takes a PostgreSQL URL (postgres://user:pass@host:5432/db?...); every
// parameter pgx knows applies (pool_max_conns, sslmode, ...), and any other
// query parameter is sent to the server as a run-time setting: a
// search_path=latch parameter keeps Latch's tables in the schema latch, for
// example. Open applies the embedded migrations (see migrate.go) under an
// advisory lock, so that nodes starting together migrate once.
//
// Concurrency. Plain calls run each as one statement in autocommit, at READ
// COMMITTED; every operation whose outcome depends on the current state is
// one statement whose WHERE clause re-checks that state on the row it
// changes, so that it stays correct however many nodes race:
//   - RotateSession is UPDATE ... WHERE id = $1 AND token_hash = $2 AND
//     revoked_at IS NULL; a racer blocked on the winner's row lock
//     re-evaluates the condition on the winner's version, finds the hash
//     changed, and updates nothing: exactly one winner, the others ErrStale.
//     The replaced hash joins session_former_tokens in the same statement.
//   - TouchSession and RevokeSessions likewise skip sessions revoked
//     meanwhile; RevokeSessions returns what it revoked (UPDATE ... RETURNING),
//     so a session two nodes revoke at once is returned by one of them.
//   - uniqueness (ids, folded emails and usernames, token hashes) rests on
//     unique indexes: a lost race is ErrConflict, never a duplicate.
//
// Tx runs a READ COMMITTED transaction on one pooled connection. Inside it,
// the reads of records that transactions read and then write (GetUser and
// the other user lookups, GetRegistration, GetSession, GetKey,
// GetLoginFailures) lock the row they return (SELECT ... FOR NO KEY UPDATE)
// until the transaction ends, so read-modify-write transactions on one
// record serialize across nodes instead of losing updates. Tenants and
// applications, which nearly every transaction reads, are not locked. Two
// transactions that lock rows in opposite orders deadlock; PostgreSQL breaks
// the deadlock (after deadlock_timeout) by failing one of them, which Tx
// reports as storage.ErrStale, as it does a serialization failure.
//
// A failed statement aborts a whole PostgreSQL transaction, where SQLite
// carries on. So that a function given to Tx may handle an ErrConflict or a
// foreign-key ErrNotFound and go on (look up the user who holds an email,
// say), writes that can break a constraint run inside a transaction under a
// savepoint (sent in the same round trip as the write), rolled back when
// they fail. Tx on a transaction's Store joins that transaction under a
// savepoint of its own: its writes commit or roll back with the outer
// transaction, and if its function fails, they are undone and the outer
// transaction goes on.
//
// Storage conventions, as in the sqlite backend:
//   - times are timestamptz, sent as UTC truncated to the microsecond; the
//     zero time.Time is NULL. Values read back are in UTC.
//   - email and username uniqueness within a tenant is case-insensitive:
//     the value is folded in Go with strings.ToLower into the *_folded
//     columns; SQL's lower() and collations are never relied on.
//   - a foreign key that points at nothing (a user of a tenant that does
//     not exist, say) is storage.ErrNotFound.
//
// Faults. An error that shows the server unreachable or unable to serve
// is storage.ErrUnavailable: a refused, failed or lost connection, no
// answer before ctx's deadline, no connection within the connect timeout
// (the URL's connect_timeout, DefaultConnectTimeout when it sets none), and
// the server's own errors of the kind (see unavailableState). A statement
// cut off by ctx's deadline closes its connection (pgx does), which
// PostgreSQL takes as the end of the session: a transaction open on it
// rolls back. An autocommitted statement, though, commits whenever it
// reaches the server, which after a network partition heals may be long
// after the caller gave up. RotateSession, whose late commit would make a
// client's retry with the same value look like reuse (and revoke the
// session), therefore runs in a transaction of its own outside Tx: its
// COMMIT is sent only once the UPDATE has answered in time. (A COMMIT sent
// and not answered stays undecided, as with any database.) Rollbacks after
// a failure get a deadline of their own (rollbackTimeout), never an
// unbounded wait on a server that does not answer.
//
// Calling the outer Store (rather than the tx argument) from inside a Tx
// function takes a second connection from the pool and sees none of the
// transaction's writes; with every pooled connection held by a transaction
// that does so, it waits forever: do not.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latchid/latch/internal/storage"
)

var _ storage.Store = (*Store)(nil)

// Store is a storage.Store on one PostgreSQL database (or schema). The value
// returned by Open is safe for concurrent use; the one passed to a Tx
// function is bound to that transaction (and serializes the calls made on
// it from several goroutines).
type Store struct {
	pool *pgxpool.Pool
	tx   *txState // set on the Store a Tx function receives
}

// txState is one open transaction. A pgx connection is not safe for
// concurrent use: mu serializes the statements of the Store's callers.
type txState struct {
	mu         sync.Mutex
	tx         pgx.Tx
	done       bool // committed or rolled back: the Store is spent
	savepoints int  // names nested Tx savepoints
}

// querier is what *pgxpool.Pool and pgx.Tx have in common: each method is
// written once against it and runs on whichever the Store is bound to.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DefaultConnectTimeout bounds each new connection (TCP, TLS and the
// start-up exchange) when the URL sets no connect_timeout: without one, a
// server that accepts connections but never answers holds every caller
// that needs a new connection until its own context ends.
const DefaultConnectTimeout = 5 * time.Second

// rollbackTimeout bounds a rollback after a failure (a rollback that runs
// out closes the connection, which rolls the transaction back too).
const rollbackTimeout = 5 * time.Second

// Open connects to the database at url (a postgres:// URL or key=value
// connection string), checks that it answers and applies the migrations it
// lacks. Close the Store when done.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors leave the password out.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", where, mapErr(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, mapErr(err))
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, mapErr(err))
	}
	return s, nil
}

// errTxDone is the error of a call on a transaction's Store after the
// transaction ended.
var errTxDone = errors.New("transaction already committed or rolled back")

// read runs fn on the pool or, inside a Tx, on the transaction.
func (s *Store) read(fn func(q querier) error) error {
	if s.tx == nil {
		return fn(s.pool)
	}
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	if s.tx.done {
		return errTxDone
	}
	return fn(s.tx.tx)
}

// exec runs a statement that cannot break a constraint.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := s.read(func(q querier) error {
		var err error
		tag, err = q.Exec(ctx, sql, args...)
		return err
	})
	return tag, err
}

// writeSavepoint names the savepoint around a write inside a transaction.
// One name does: the savepoint is released or rolled back before the
// transaction's lock is released, so it is always the innermost one.
const writeSavepoint = "latch_write"

// write runs a statement that may break a constraint and scans the row it
// returns into dest (none: the statement's tag is returned). Inside a
// transaction it runs under a savepoint, sent in the same batch (one round
// trip), that undoes it if it fails so that the transaction stays usable.
func (s *Store) write(ctx context.Context, sql string, args []any, dest ...any) (pgconn.CommandTag, error) {
	if s.tx == nil {
		if len(dest) == 0 {
			return s.pool.Exec(ctx, sql, args...)
		}
		return pgconn.CommandTag{}, s.pool.QueryRow(ctx, sql, args...).Scan(dest...)
	}
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	if s.tx.done {
		return pgconn.CommandTag{}, errTxDone
	}
	var (
		tag     pgconn.CommandTag
		scanErr error // no rows, say: no SQL error, the savepoint is released
	)
	b := &pgx.Batch{}
	b.Queue("SAVEPOINT " + writeSavepoint)
	if len(dest) == 0 {
		b.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
	} else {
		b.Queue(sql, args...).QueryRow(func(row pgx.Row) error { scanErr = row.Scan(dest...); return nil })
	}
	b.Queue("RELEASE SAVEPOINT " + writeSavepoint)
	if err := s.tx.tx.SendBatch(ctx, b).Close(); err != nil {
		if pgconn.SafeToRetry(err) {
			return tag, err // nothing was sent (ctx had ended): no savepoint
		}
		// The statement failed, so the release did not run: back to the
		// savepoint, and drop it.
		rctx, cancel := afterFailure(ctx)
		defer cancel()
		_, rerr := s.tx.tx.Exec(rctx, "ROLLBACK TO SAVEPOINT "+writeSavepoint+"; RELEASE SAVEPOINT "+writeSavepoint)
		if rerr != nil {
			return tag, errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
		}
		return tag, err
	}
	return tag, scanErr
}

// forUpdate is the locking clause of a read whose row a transaction may
// change next: FOR NO KEY UPDATE inside a Tx (the lock an UPDATE that keeps
// the key takes, so that rows referencing the locked one can still be
// inserted), nothing outside one.
func (s *Store) forUpdate() string {
	if s.tx != nil {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// Tx runs fn in one READ COMMITTED transaction. It commits when fn returns
// nil and rolls back when fn returns an error or panics; fn's error is
// returned as is. Tx on the Store a Tx function received runs fn in that
// transaction, under a savepoint: fn's writes commit with the outer
// transaction, or are undone at once if fn fails.
func (s *Store) Tx(ctx context.Context, fn func(tx storage.Store) error) error {
	if s.tx != nil {
		return s.nestedTx(ctx, fn)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return wrapf(err, "begin")
	}
	st := &txState{tx: tx}
	end := func() {
		st.mu.Lock()
		st.done = true
		st.mu.Unlock()
	}
	rollback := func() error {
		rctx, cancel := afterFailure(ctx)
		defer cancel()
		return tx.Rollback(rctx)
	}
	done := false
	defer func() {
		if !done { // fn panicked
			end()
			rollback()
		}
	}()
	err = fn(&Store{pool: s.pool, tx: st})
	done = true
	end()
	if err != nil {
		if rerr := rollback(); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			return errors.Join(err, wrapf(rerr, "rollback"))
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrapf(err, "commit")
	}
	return nil
}

// nestedTx runs fn in s's transaction under a savepoint.
func (s *Store) nestedTx(ctx context.Context, fn func(tx storage.Store) error) error {
	var name string
	err := s.read(func(q querier) error {
		s.tx.savepoints++
		name = "latch_tx_" + strconv.Itoa(s.tx.savepoints)
		_, err := q.Exec(ctx, "SAVEPOINT "+name)
		return err
	})
	if err != nil {
		return wrapf(err, "begin nested transaction")
	}
	undo := func() error {
		rctx, cancel := afterFailure(ctx)
		defer cancel()
		_, err := s.exec(rctx, "ROLLBACK TO SAVEPOINT "+name+"; RELEASE SAVEPOINT "+name)
		return err
	}
	done := false
	defer func() {
		if !done { // fn panicked
			undo()
		}
	}()
	err = fn(s)
	done = true
	if err != nil {
		if rerr := undo(); rerr != nil {
			return errors.Join(err, wrapf(rerr, "roll back nested transaction"))
		}
		return err
	}
	_, err = s.exec(ctx, "RELEASE SAVEPOINT "+name)
	return wrapf(err, "end nested transaction")
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.tx == nil {
		return wrapf(s.pool.Ping(ctx), "ping")
	}
	_, err := s.exec(ctx, "SELECT 1")
	return wrapf(err, "ping")
}

// afterFailure is the context of a rollback after a failure: ctx's values
// without its end (which may be the very reason of the rollback), and a
// deadline of rollbackTimeout.
func afterFailure(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
}

// ProbeWrite commits now under storage.ProbeKey.
func (s *Store) ProbeWrite(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		storage.ProbeKey, now.UTC().Format(time.RFC3339Nano))
	return wrapf(err, "probe write")
}

// Close closes the pool, waiting for the connections in use to be
// returned. It is an error on the Store of a transaction.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("postgres: close: called on a transaction")
	}
	s.pool.Close()
	return nil
}

// SQLSTATE codes mapErr knows.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// mapErr turns the driver's errors into the storage ones: no rows is
// ErrNotFound, a unique violation ErrConflict, a foreign key pointing at
// nothing ErrNotFound, a serialization failure or a deadlock (a transaction
// that lost a race PostgreSQL resolved) ErrStale, and a server that cannot
// be reached or cannot serve now ErrUnavailable (see unavailable). The
// server's message is kept as text only, never as a wrapped error. Other
// errors pass through.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == codeUniqueViolation:
			return fmt.Errorf("%w (%s)", storage.ErrConflict, pe.Error())
		case pe.Code == codeForeignKeyViolation:
			return fmt.Errorf("%w: a referenced record does not exist (%s)", storage.ErrNotFound, pe.Error())
		case pe.Code == codeSerializationFailure, pe.Code == codeDeadlockDetected:
			return fmt.Errorf("%w (%s)", storage.ErrStale, pe.Error())
		case unavailableState(pe.Code):
			return fmt.Errorf("%w (%s)", storage.ErrUnavailable, pe.Error())
		}
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}

// unavailableState reports whether a SQLSTATE says the server cannot serve
// now but may later: connection exceptions (class 08), insufficient
// resources (53: a full disk, no memory, too many connections), system
// errors (58: I/O), a server shutting down or starting (57P01-57P03), a
// statement or lock that ran out of time (57014, 55P03: statement_timeout
// and lock_timeout, which an operator sets), a session ended for idling
// in a transaction (25P03), and a read-only server (25006: a standby
// after a failover, or default_transaction_read_only).
func unavailableState(code string) bool {
	switch code[:min(2, len(code))] {
	case "08", "53", "58":
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "57014", "55P03", "25P03", "25006":
		return true
	}
	return false
}

// unavailable reports whether err, not an error of the server's, shows
// that the server could not be reached or did not answer in time: no
// connection (pgconn.ConnectError), ctx's deadline or a network timeout,
// a network error, a connection closed under the query, or a connection
// unusable before anything was sent (pgconn.SafeToRetry). A cancelled
// context is the caller's doing, not the server's: it is not.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) ||
		errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || pgconn.SafeToRetry(err)
}

// wrapf maps err and prefixes it with "postgres: " and the formatted operation.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", fmt.Sprintf(format, args...), mapErr(err))
}

// execOne runs a statement that must change a row; none changed is ErrNotFound.
func execOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// fold is the case-insensitive key of an email or username, NULL for "".
func fold(s string) any {
	if s == "" {
		return nil
	}
	return strings.ToLower(s)
}

// nullString is "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ts is t for a timestamptz column: UTC, truncated to the microsecond (the
// column's precision; PostgreSQL itself would round), NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// blob is b for a bytea column, NULL when empty.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// jsonDoc encodes v for a jsonb column.
func jsonDoc(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// timeCol scans a timestamptz column (or NULL) into a time.Time in UTC.
type timeCol struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (c timeCol) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*c.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return fmt.Errorf("timestamptz column holds %v", v.InfinityModifier)
	default:
		*c.t = v.Time.UTC()
	}
	return nil
}

// strCol scans a text column, NULL as "".
type strCol struct{ s *string }

// ScanText implements pgtype.TextScanner.
func (c strCol) ScanText(v pgtype.Text) error {
	*c.s = v.String // "" when not Valid
	return nil
}

// blobCol scans a bytea column, NULL or empty as nil.
type blobCol struct{ b *[]byte }

// ScanBytes implements pgtype.BytesScanner.
func (c blobCol) ScanBytes(v []byte) error {
	if len(v) == 0 {
		*c.b = nil
	} else {
		*c.b = append([]byte(nil), v...)
	}
	return nil
}

// jsonCol scans a jsonb column into dst; NULL leaves dst alone.
type jsonCol struct{ dst any }

// ScanBytes implements pgtype.BytesScanner.
func (c jsonCol) ScanBytes(v []byte) error {
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(v, c.dst); err != nil {
		return fmt.Errorf("decode %T: %w", c.dst, err)
	}
	return nil
}

// collect runs a query and scans every row it returns with scan.
func collect[T any](ctx context.Context, q querier, sql string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// list runs collect on the Store's querier.
func list[T any](ctx context.Context, s *Store, sql string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	var out []T
	err := s.read(func(q querier) error {
		var err error
		out, err = collect(ctx, q, sql, args, scan)
		return err
	})
	return out, err
}

// get runs a query that selects at most one row and scans it with scan.
func get[T any](ctx context.Context, s *Store, sql string, args []any, scan func(pgx.Row) (T, error)) (T, error) {
	var out T
	err := s.read(func(q querier) error {
		var err error
		out, err = scan(q.QueryRow(ctx, sql, args...))
		return err
	})
	return out, err
}
