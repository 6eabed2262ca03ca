// Package pgtest gives tests the PostgreSQL they run against: the
// database at LATCH_TEST_POSTGRES_URL, else DefaultURL. When it does not
// answer within two seconds a test that asks for it is skipped, or fails
// when CI=true: CI must not go green without having run it. Each test
// works in a schema of its own (Schema), so tests run in parallel.
//
// It is for tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the test database unless LATCH_TEST_POSTGRES_URL names another.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// deadlockTimeout replaces PostgreSQL's deadlock_timeout (1 s) in the
// tests when the test role may set it: storagetest's TxTransfers provokes
// deadlocks on purpose, and each waits that long before PostgreSQL breaks
// it (about 30 s in all at 1 s).
const deadlockTimeout = "100ms"

var (
	probeOnce sync.Once
	probeURL  string
	probeErr  error
)

// URL returns the test database's URL, once it has answered (one probe
// per test binary), or skips or fails tb.
func URL(tb testing.TB) string {
	tb.Helper()
	probeOnce.Do(func() {
		probeURL = os.Getenv("LATCH_TEST_POSTGRES_URL")
		if probeURL == "" {
			probeURL = DefaultURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, probeURL)
		if err != nil {
			probeErr = err
			return
		}
		defer conn.Close(ctx)
		if probeErr = conn.Ping(ctx); probeErr != nil {
			return
		}
		// A superuser (or, from PostgreSQL 15, a role granted SET on it)
		// may set deadlock_timeout; others keep the server's.
		if _, err := conn.Exec(ctx, "SET deadlock_timeout = '"+deadlockTimeout+"'"); err == nil {
			probeURL = WithParam(probeURL, "deadlock_timeout", deadlockTimeout)
		}
	})
	if probeErr != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable (set LATCH_TEST_POSTGRES_URL): %v", probeErr)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return probeURL
}

// WithParam adds a connection parameter to a URL or key=value connection
// string.
func WithParam(conn, key, value string) string {
	if isURL(conn) {
		u, err := url.Parse(conn)
		if err != nil {
			panic(err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return conn + " " + key + "=" + value
}

// Schema creates an empty schema, dropped at cleanup, and returns the URL
// of the test database with search_path set to it.
func Schema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		// t.Context() is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithParam(base, "search_path", schema)
}

// Addr returns the host:port of the database a postgres:// URL names, for
// a proxy (internal/faultproxy) to stand in front of.
func Addr(tb testing.TB, conn string) string {
	tb.Helper()
	u, err := url.Parse(conn)
	if err != nil || !isURL(conn) {
		tb.Fatalf("pgtest: not a postgres:// URL: %v", err)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(host, port)
}

// Via returns a postgres:// URL with its host and port replaced by addr:
// the same database, reached through a proxy at addr.
func Via(tb testing.TB, conn, addr string) string {
	tb.Helper()
	u, err := url.Parse(conn)
	if err != nil || !isURL(conn) {
		tb.Fatalf("pgtest: not a postgres:// URL: %v", err)
	}
	if _, port, err := net.SplitHostPort(addr); err != nil {
		tb.Fatalf("pgtest: proxy address %q: %v", addr, err)
	} else if _, err := strconv.Atoi(port); err != nil {
		tb.Fatalf("pgtest: proxy address %q: %v", addr, err)
	}
	u.Host = addr
	return u.String()
}

func isURL(conn string) bool {
	return strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://")
}
