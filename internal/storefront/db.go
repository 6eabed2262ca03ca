package storefront

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// DatabaseFile is the name of the storefront's SQLite database inside
// Config.DataDir.
const DatabaseFile = "storefront.db"

// MaxQuantity is the most of one product a cart holds.
const MaxQuantity = 99

// Errors of the cart operations, mapped to statuses by the handlers.
var (
	errUnknownSKU    = errors.New("storefront: no such product")
	errNotInCart     = errors.New("storefront: product not in the cart")
	errQuantityLimit = errors.New("storefront: quantity limit reached")
)

// migrationFS holds the schema migrations, NNNN_name.sql, applied in order
// once each. A released migration is never edited: add a new one.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// db is the storefront's SQLite database: products and carts. Writes go
// through one connection whose transactions begin IMMEDIATE, so writers
// queue in the process rather than fail with SQLITE_BUSY; reads use a
// read-only pool that WAL lets run beside the writer.
type db struct {
	write *sql.DB
	read  *sql.DB
}

// dsn is the modernc.org/sqlite URL of the file at abs, with the pragmas
// every connection runs with.
func dsn(abs string, extra ...string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	// NORMAL in WAL mode survives a crash of the process; a power loss
	// may cost the last cart changes, which is acceptable for a cart.
	q.Add("_pragma", "synchronous(NORMAL)")
	for i := 0; i+1 < len(extra); i += 2 {
		q.Add(extra[i], extra[i+1])
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") { // Windows: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String()
}

// openDB opens (creating if needed) the database file and applies the
// migrations; the first start thereby seeds the products.
func openDB(ctx context.Context, file string) (*db, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	// Create the file owner-only before SQLite does (SQLite would make it
	// 0644 under the usual umask): SQLite gives the -wal and -shm files the
	// database file's permissions, and all three hold the users' carts.
	f, err := os.OpenFile(abs, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	f.Close()
	w, err := sql.Open("sqlite", dsn(abs, "_pragma", "journal_mode(WAL)", "_txlock", "immediate"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	// The first connection switches the file to WAL before a reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	r, err := sql.Open("sqlite", dsn(abs, "_pragma", "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d := &db{write: w, read: r}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	return d, nil
}

// Close closes both pools.
func (d *db) Close() error { return errors.Join(d.read.Close(), d.write.Close()) }

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction.
func (d *db) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	type migration struct {
		version int
		name    string
	}
	var ms []migration
	for _, f := range files {
		num, _, _ := strings.Cut(path.Base(f), "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return fmt.Errorf("migration %s: name must be NNNN_name.sql", f)
		}
		ms = append(ms, migration{v, f})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := d.write.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].version {
		return fmt.Errorf("database schema version %d is newer than this build knows (%d)", newest, ms[len(ms)-1].version)
	}
	for _, m := range ms {
		if m.version <= newest {
			continue
		}
		body, err := migrationFS.ReadFile(m.name)
		if err != nil {
			return err
		}
		err = d.tx(ctx, func(tx *sql.Tx) error {
			var done int
			err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&done)
			if err != nil || done > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.version, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", path.Base(m.name), err)
		}
	}
	return nil
}

// tx runs fn in a write transaction, committed when fn returns nil.
func (d *db) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// products returns the catalogue in listing order.
func (d *db) products(ctx context.Context) ([]Product, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT sku, name, price_cents FROM products ORDER BY position, sku")
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	out := []Product{}
	for rows.Next() {
		var p Product
		if err := rows.Scan(&p.SKU, &p.Name, &p.PriceCents); err != nil {
			return nil, fmt.Errorf("list products: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return out, nil
}

// cart returns the user's cart, items in the order they were first added.
func (d *db) cart(ctx context.Context, userID string) (Cart, error) {
	return readCart(ctx, d.read, userID)
}

func readCart(ctx context.Context, q queryer, userID string) (Cart, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.sku, p.name, c.quantity, p.price_cents
		FROM cart_items c JOIN products p ON p.sku = c.sku
		WHERE c.user_id = ? ORDER BY c.added, c.sku`, userID)
	if err != nil {
		return Cart{}, fmt.Errorf("read cart: %w", err)
	}
	defer rows.Close()
	c := Cart{Items: []CartItem{}}
	for rows.Next() {
		var it CartItem
		if err := rows.Scan(&it.SKU, &it.Name, &it.Quantity, &it.PriceCents); err != nil {
			return Cart{}, fmt.Errorf("read cart: %w", err)
		}
		c.Items = append(c.Items, it)
		c.TotalCents += int64(it.Quantity) * it.PriceCents
	}
	if err := rows.Err(); err != nil {
		return Cart{}, fmt.Errorf("read cart: %w", err)
	}
	return c, nil
}

// addToCart adds quantity of sku to the user's cart and returns the cart:
// errUnknownSKU when no product has the sku, errQuantityLimit when the
// line would exceed MaxQuantity.
func (d *db) addToCart(ctx context.Context, userID, sku string, quantity int, now time.Time) (Cart, error) {
	var c Cart
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM products WHERE sku = ?", sku).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errUnknownSKU
		} else if err != nil {
			return err
		}
		at := now.UnixMicro()
		res, err := tx.ExecContext(ctx, `INSERT INTO cart_items (user_id, sku, quantity, added, updated) VALUES (?1, ?2, ?3, ?4, ?4)
			ON CONFLICT (user_id, sku) DO UPDATE SET quantity = quantity + excluded.quantity, updated = excluded.updated
			WHERE quantity + excluded.quantity <= ?5`, userID, sku, quantity, at, MaxQuantity)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errQuantityLimit
		}
		c, err = readCart(ctx, tx, userID)
		return err
	})
	if err != nil {
		return Cart{}, fmt.Errorf("add %s to cart: %w", sku, err)
	}
	return c, nil
}

// removeFromCart removes sku from the user's cart and returns the cart;
// errNotInCart when the cart holds none.
func (d *db) removeFromCart(ctx context.Context, userID, sku string) (Cart, error) {
	var c Cart
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM cart_items WHERE user_id = ? AND sku = ?", userID, sku)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errNotInCart
		}
		c, err = readCart(ctx, tx, userID)
		return err
	})
	if err != nil {
		return Cart{}, fmt.Errorf("remove %s from cart: %w", sku, err)
	}
	return c, nil
}
