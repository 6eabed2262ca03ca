// Package sqlite is Latch's default storage backend: one SQLite database
// file, through the pure-Go driver modernc.org/sqlite (no cgo).
//
// Every connection is opened with busy_timeout=5000, journal_mode=WAL,
// foreign_keys=ON and synchronous=FULL, so that a write acknowledged by a
// method's return survives kill -9 and power loss. Writes go through one
// connection (a *sql.DB with MaxOpenConns(1)) and every transaction starts
// with BEGIN IMMEDIATE, so writers queue inside the process instead of
// failing with SQLITE_BUSY; plain reads use a separate pool of read-only
// (query_only) connections that WAL lets run beside the writer. Inside Tx
// every call, reads included, runs on the transaction.
//
// Storage conventions:
//   - times are INTEGER microseconds since the Unix epoch, UTC; the zero
//     time.Time is NULL. Values read back are in UTC, truncated to the
//     microsecond.
//   - email and username uniqueness within a tenant is case-insensitive:
//     the value is folded in Go with strings.ToLower (Unicode simple case
//     mapping, no full case folding: "ß" and "SS" differ) into the
//     *_folded columns, so SQLite's ASCII-only lower() and NOCASE are never
//     relied on. The original value is kept as given.
//   - a foreign key that points at nothing (a user of a tenant that does
//     not exist, say) is reported as storage.ErrNotFound.
//
// Each query is prepared once per connection pool and kept (see pool).
// Outside Tx, the writes of logins and refreshes (CreateSession,
// RotateSession, TouchSession) are committed in groups, one fsync for all
// the writes waiting (see Group commit in group.go); each is answered only
// after the commit that holds it.
//
// Writing through the outer Store (rather than the tx argument) from inside
// a Tx function waits for the one write connection that the Tx holds, until
// ctx ends: do not.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchid/latch/internal/storage"
)

var _ storage.Store = (*Store)(nil)

// busyTimeout is how long, in milliseconds, a connection waits for a lock
// held by another connection (another process, a backup) before failing.
const busyTimeout = 5000

// Store is a storage.Store on one SQLite database. The value returned by
// Open is safe for concurrent use; the one passed to a Tx function is bound
// to that transaction.
type Store struct {
	path  string
	write *pool      // one connection: every write and every transaction
	read  *pool      // read-only pool for plain reads
	group *committer // commits grouped writes (see Group commit)
	tx    *sql.Tx    // set on the Store a Tx function receives
	txq   *txQuerier // tx, with write's prepared statements
}

// querier is what the connection pools and transactions have in common
// (*sql.DB and *sql.Tx have it too): each method is written once against it
// and runs on whichever the Store is bound to.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// pool is a *sql.DB that prepares each query once and keeps the statement:
// preparing costs SQLite more than running most of Latch's queries. The
// queries are constants of this package (plus the few combinations of
// session filters), so the cache stays small. Multi-statement SQL (the
// migrations) goes through the embedded *sql.DB directly.
type pool struct {
	*sql.DB
	stmts sync.Map // query -> *sql.Stmt
}

// stmt returns the prepared statement for query.
func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// ExecContext runs query's prepared statement.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs query's prepared statement.
func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs query's prepared statement.
func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.DB.QueryRowContext(ctx, query, args...) // reports the error
	}
	return st.QueryRowContext(ctx, args...)
}

// txQuerier runs queries on a transaction, with the pool's statement when
// it is prepared already and unprepared otherwise: preparing on the pool
// would wait for the pool's one connection, which the transaction holds.
// Open prepares the statements of the transactional hot paths (hotSQL).
type txQuerier struct {
	tx *sql.Tx
	p  *pool
}

// cached returns query's prepared statement bound to the transaction, or nil.
func (t *txQuerier) cached(ctx context.Context, query string) *sql.Stmt {
	st, ok := t.p.stmts.Load(query)
	if !ok {
		return nil
	}
	return t.tx.StmtContext(ctx, st.(*sql.Stmt))
}

// ExecContext runs query in the transaction.
func (t *txQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.cached(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query in the transaction.
func (t *txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.cached(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query in the transaction.
func (t *txQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.cached(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// dsn builds a modernc.org/sqlite data source name for the file at abs with
// the given extra query parameters; the pragmas are run on every new
// connection of the pool (busy_timeout first: the driver sorts it first).
func dsn(abs string, extra url.Values) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	for k, vs := range extra {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") { // Windows: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String()
}

// Open opens (creating if needed) the database file at path and runs
// migrations. Close the Store when done.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Create the file owner-only: SQLite gives its -wal and -shm files the
	// database file's permissions, and they hold the same secrets' hashes.
	// A path that cannot be opened (a directory, no permission) fails here
	// with its cause, rather than with SQLite's "unable to open" later.
	f, err := os.OpenFile(abs, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	f.Close()

	wdb, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {"journal_mode(WAL)"},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	// The first connection switches the file to WAL, before any reader opens.
	if err := switchToWAL(ctx, wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rdb, err := sql.Open("sqlite", dsn(abs, url.Values{"_pragma": {"query_only(1)"}}))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)

	s := &Store{path: abs, write: &pool{DB: wdb}, read: &pool{DB: rdb}}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	for _, q := range hotSQL {
		if _, err := s.write.stmt(ctx, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: open %s: prepare: %w", path, err)
		}
	}
	s.group = newCommitter(s.write)
	return s, nil
}

// switchToWAL opens the write pool's connection, whose pragmas switch the
// file to WAL. Changing the journal mode of a new file takes an exclusive
// lock without waiting on busy_timeout, so while another Store or process
// opens the same new file SQLITE_BUSY is retried, for busyTimeout at most.
func switchToWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout * time.Millisecond)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// w is where writes run: the transaction, or the one write connection.
func (s *Store) w() querier {
	if s.txq != nil {
		return s.txq
	}
	return s.write
}

// r is where reads run: the transaction, or the read pool.
func (s *Store) r() querier {
	if s.txq != nil {
		return s.txq
	}
	return s.read
}

// Tx runs fn in one transaction (BEGIN IMMEDIATE on the write connection).
// It commits when fn returns nil and rolls back when fn returns an error or
// panics; fn's error is returned as is. Tx on the Store a Tx function
// received runs fn in that transaction.
func (s *Store) Tx(ctx context.Context, fn func(tx storage.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback() // fn panicked
		}
	}()
	err = fn(&Store{path: s.path, write: s.write, read: s.read, tx: tx, txq: &txQuerier{tx, s.write}})
	done = true
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		if errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
			// database/sql rolled the transaction back when ctx ended.
			err = ctx.Err()
		}
		return fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	return nil
}

// atomic runs fn on one transaction: the Store's own inside Tx, else a new one.
func (s *Store) atomic(ctx context.Context, fn func(q querier) error) error {
	if s.txq != nil {
		return fn(s.txq)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(&txQuerier{tx, s.write}); err != nil {
		tx.Rollback()
		return err
	}
	return mapErr(tx.Commit())
}

// Ping reports whether the database answers, on both pools.
func (s *Store) Ping(ctx context.Context) error {
	if s.tx != nil {
		var one int
		return wrapf(s.tx.QueryRowContext(ctx, "SELECT 1").Scan(&one), "ping")
	}
	if err := s.write.PingContext(ctx); err != nil {
		return wrapf(err, "ping")
	}
	return wrapf(s.read.PingContext(ctx), "ping")
}

// ProbeWrite commits now under storage.ProbeKey, through the write
// connection (or the transaction): a write that reaches the disk, as a
// login's does, so that it fails when the disk refuses writes.
func (s *Store) ProbeWrite(ctx context.Context, now time.Time) error {
	_, err := s.w().ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		storage.ProbeKey, now.UTC().Format(time.RFC3339Nano))
	return wrapf(err, "probe write")
}

// Close closes the database. It is an error on the Store of a transaction.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("sqlite: close: called on a transaction")
	}
	if s.group != nil {
		s.group.stop()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

// Backup writes a consistent copy of the live database to dst (VACUUM
// INTO), for online backup: writers go on meanwhile, and the copy is the
// database as of one moment. dst must not exist. The copy is a plain
// (rollback-journal) database file that Open accepts.
func (s *Store) Backup(ctx context.Context, dst string) error {
	if s.tx != nil {
		return errors.New("sqlite: backup: called on a transaction")
	}
	// A connection of its own: the read pool is query_only, which forbids
	// VACUUM INTO, and the write connection would stall writers.
	db, err := sql.Open("sqlite", dsn(s.path, nil))
	if err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", dst, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", dst, err)
	}
	// VACUUM INTO does not promise the copy is on disk: make it so.
	if err := syncFile(dst); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", dst, err)
	}
	if err := syncFile(filepath.Dir(dst)); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("sqlite: backup to %s: %w", dst, err)
	}
	return nil
}

// syncFile fsyncs the file or directory at path.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// mapErr turns the driver's errors into the storage ones: no rows is
// ErrNotFound, a unique or primary-key violation ErrConflict, a foreign key
// pointing at nothing ErrNotFound, and a database that cannot serve the
// call now ErrUnavailable: a deadline that passed, or a result code that
// says the file cannot be written or read at the moment (see
// unavailableCode). The driver's message is kept as text only, never as a
// wrapped error. Other errors pass through.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w (%s)", storage.ErrConflict, se.Error())
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: a referenced record does not exist (%s)", storage.ErrNotFound, se.Error())
		}
		if unavailableCode[se.Code()&0xff] {
			return fmt.Errorf("%w (%s)", storage.ErrUnavailable, se.Error())
		}
	}
	return err
}

// unavailableCode holds the primary result codes of a database that cannot
// serve a call now but may later, without anyone touching its contents:
// the disk is full or refuses a write or a read (a quota, a file size
// limit, a failing device), the file became read-only or cannot be opened,
// another process held a lock past busy_timeout, memory ran out, or the
// locking protocol failed under a race. Corruption is not among them: it
// does not pass.
var unavailableCode = map[int]bool{
	sqlite3.SQLITE_FULL:     true,
	sqlite3.SQLITE_IOERR:    true,
	sqlite3.SQLITE_READONLY: true,
	sqlite3.SQLITE_CANTOPEN: true,
	sqlite3.SQLITE_BUSY:     true,
	sqlite3.SQLITE_NOMEM:    true,
	sqlite3.SQLITE_PROTOCOL: true,
}

// wrapf maps err and prefixes it with "sqlite: " and the formatted operation.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: %s: %w", fmt.Sprintf(format, args...), mapErr(err))
}

// execOne runs a statement that must change a row; none changed is ErrNotFound.
func execOne(ctx context.Context, q querier, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// exists reports whether a query that selects at most one row selects one.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
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

// micros is t as microseconds since the epoch, NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// blob is b as a BLOB, NULL when empty.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// jsonText encodes v for a JSON column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

// timeCol scans an INTEGER microseconds column (or NULL) into a time.Time.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

// strCol scans a TEXT column, NULL as "".
type strCol struct{ s *string }

// Scan implements sql.Scanner.
func (c strCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("text column holds %T", v)
	}
	return nil
}

// blobCol scans a BLOB column into a fresh slice, NULL or empty as nil.
type blobCol struct{ b *[]byte }

// Scan implements sql.Scanner.
func (c blobCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.b = nil
	case []byte:
		if len(v) == 0 {
			*c.b = nil
		} else {
			*c.b = append([]byte(nil), v...)
		}
	default:
		return fmt.Errorf("blob column holds %T", v)
	}
	return nil
}

// jsonCol scans a JSON TEXT column into dst.
type jsonCol struct{ dst any }

// Scan implements sql.Scanner.
func (c jsonCol) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("json column holds %T", v)
	}
	if err := json.Unmarshal(b, c.dst); err != nil {
		return fmt.Errorf("decode %T: %w", c.dst, err)
	}
	return nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// collect scans every row of rows with scan.
func collect[T any](rows *sql.Rows, err error, scan func(rowScanner) (T, error)) ([]T, error) {
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
