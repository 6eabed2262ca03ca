package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// seed creates a tenant, an application and a user, and returns their ids.
func seed(t testing.TB, s storage.Store) (tenantID, appID, userID string) {
	t.Helper()
	ctx := t.Context()
	tenantID, appID, userID = "t-1", "a-1", "u-1"
	if err := s.CreateTenant(ctx, api.Tenant{ID: tenantID, Name: "T"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApplication(ctx, storage.Application{Application: api.Application{ID: appID, TenantID: tenantID, Name: "A"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, storage.User{ID: userID, TenantID: tenantID, Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	return tenantID, appID, userID
}

// integrityCheck fails t unless PRAGMA integrity_check says ok.
func integrityCheck(t *testing.T, s *Store) {
	t.Helper()
	var res string
	if err := s.read.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check: %s", res)
	}
}

func TestPragmasOnEveryConnection(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	check := func(what string, q querier, queryOnly string) {
		t.Helper()
		want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2",
			"busy_timeout": "5000", "query_only": queryOnly}
		for p, v := range want {
			var got string
			if err := q.QueryRowContext(ctx, "PRAGMA "+p).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", what, p, err)
			}
			if got != v {
				t.Errorf("%s: PRAGMA %s = %s, want %s", what, p, got, v)
			}
		}
	}
	check("write connection", s.write, "0")
	// Hold several read connections at once, so that each is a new one.
	var conns []querier
	for range 3 {
		c, err := s.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		check(fmt.Sprintf("read connection %d", i), c, "1")
	}
	if err := s.Tx(ctx, func(tx storage.Store) error {
		check("transaction", tx.(*Store).tx, "0")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b#c?d%20e")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "latch db?.sqlite")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	seed(t, s)
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "latch db?.sqlite") {
			t.Errorf("stray file %q beside the database", e.Name())
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	if _, err := s.GetUser(ctx, "u-1"); err != nil {
		t.Fatalf("data after reopening: %v", err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, maxVersion int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &maxVersion); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxVersion != ms[len(ms)-1].version {
		t.Errorf("schema_migrations: %d rows up to %d, want %d up to %d", n, maxVersion, len(ms), ms[len(ms)-1].version)
	}
}

func TestMigrationsConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(t.Context(), path)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
}

func TestMigrationsRefuseNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (99999, 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer build: no error")
	}
}

func TestForeignKeysAreNotFound(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	tenantID, _, userID := seed(t, s)
	for what, err := range map[string]error{
		"CreateUser in a missing tenant": s.CreateUser(ctx, storage.User{ID: "u-2", TenantID: "t-missing"}),
		"CreateApplication in a missing tenant": s.CreateApplication(ctx,
			storage.Application{Application: api.Application{ID: "a-2", TenantID: "t-missing"}}),
		"CreateSession of a missing user": s.CreateSession(ctx,
			storage.Session{ID: "s-1", TenantID: tenantID, UserID: "u-missing", TokenHash: hash("x")}),
		"CreateSession for a missing application": s.CreateSession(ctx,
			storage.Session{ID: "s-2", TenantID: tenantID, UserID: userID, ApplicationID: "a-missing", TokenHash: hash("y")}),
		"CreateRegistration for a missing application": s.CreateRegistration(ctx,
			storage.Registration{ID: "r-1", UserID: userID, ApplicationID: "a-missing", TenantID: tenantID}),
		"UpdateLoginAttempts of a missing tenant": func() error {
			_, err := s.UpdateLoginAttempts(ctx, "t-missing", "k", func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
				a.Count, a.Expires = 1, time.Unix(1, 0)
				return a, nil
			})
			return err
		}(),
		"CreateAPIKey of a missing tenant": s.CreateAPIKey(ctx, storage.APIKey{ID: "k-1", Hash: hash("k"), TenantID: "t-missing"}),
	} {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", what, err)
		}
	}

	// A tenant's API keys go with it.
	if err := s.CreateAPIKey(ctx, storage.APIKey{ID: "k-2", Hash: hash("k2"), TenantID: tenantID}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTenant(ctx, tenantID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAPIKey(ctx, "k-2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAPIKey of a deleted tenant's key: err = %v, want ErrNotFound", err)
	}
}

func TestBackup(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	_, _, userID := seed(t, s)

	// Writers go on during the backup.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.PutMeta(ctx, fmt.Sprintf("during-%d", i), "x"); err != nil {
				t.Errorf("PutMeta during backup: %v", err)
				return
			}
		}
	})
	dst := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(ctx, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := s.PutMeta(ctx, "after-backup", "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, dst); err == nil {
		t.Error("Backup over an existing file: no error")
	}
	if err := s.Tx(ctx, func(tx storage.Store) error { return tx.(*Store).Backup(ctx, dst+"2") }); err == nil {
		t.Error("Backup inside a transaction: no error")
	}

	header := make([]byte, 20)
	if f, err := os.Open(dst); err != nil {
		t.Fatal(err)
	} else {
		_, err = io.ReadFull(f, header)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if header[18] != 1 || header[19] != 1 { // 1: rollback journal, 2: WAL
		t.Errorf("backup file format versions %d %d, want a rollback-journal file (1 1)", header[18], header[19])
	}

	b, err := Open(ctx, dst)
	if err != nil {
		t.Fatalf("Open of the backup: %v", err)
	}
	defer b.Close()
	integrityCheck(t, b)
	if u, err := b.GetUser(ctx, userID); err != nil || u.Email != "u@example.com" {
		t.Errorf("backup: GetUser = %+v, %v", u, err)
	}
	if _, err := b.GetMeta(ctx, "after-backup"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("backup holds a write made after it: err = %v", err)
	}
	// The backup is a snapshot: the writes it holds are a prefix of the
	// writer's sequence.
	var n, maxSeen int
	rows, err := b.read.QueryContext(ctx, "SELECT key FROM meta WHERE key LIKE 'during-%'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(k, "during-"))
		n++
		maxSeen = max(maxSeen, i)
	}
	rows.Close()
	if n > 0 && n != maxSeen+1 {
		t.Errorf("backup holds %d of the writes 0..%d: not a consistent snapshot", n, maxSeen)
	}
	// And it is writable, like any database Open makes.
	if err := b.PutMeta(ctx, "restored", "x"); err != nil {
		t.Errorf("PutMeta on the backup: %v", err)
	}
}

// crashEnv names the database file a crash-test child writes to, and
// crashRoundEnv the round it is in.
const (
	crashEnv      = "LATCH_SQLITE_CRASH_CHILD"
	crashRoundEnv = "LATCH_SQLITE_CRASH_ROUND"
)

// TestCrashDurability runs a child process that commits transactions in a
// loop, and new sessions from concurrent writers (committed in groups), and
// reports each one on stdout once its call returned, kills it with
// SIGKILL mid-stream, and checks that every reported write is in the
// reopened database, that no transaction is half there, and that the file
// passes integrity_check. (SIGKILL loses the process, not the OS page cache;
// power loss is synchronous=FULL's business, which this cannot show.)
func TestCrashDurability(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
		crashChild(path, round)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	s.Close()

	acked := 0 // rotations acknowledged over all rounds
	for round := range 3 {
		last, grouped := runCrashChild(t, path, round, 150+round*37)
		acked += last + 1
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
		}
		integrityCheck(t, s)
		ctx := t.Context()
		for i := 0; i <= last; i++ {
			key := fmt.Sprintf("round-%d-%d", round, i)
			if _, err := s.GetMeta(ctx, key); err != nil {
				t.Fatalf("round %d: acknowledged write %d lost: %v", round, i, err)
			}
			if _, err := s.GetSession(ctx, key); err != nil {
				t.Fatalf("round %d: acknowledged session %d lost: %v", round, i, err)
			}
		}
		for _, key := range grouped {
			if _, err := s.GetSession(ctx, key); err != nil {
				t.Fatalf("round %d: acknowledged session %s, committed in a group, lost: %v", round, key, err)
			}
		}
		// Beyond the last acknowledged one, a transaction is whole or absent.
		for i := last + 1; i < last+50; i++ {
			key := fmt.Sprintf("round-%d-%d", round, i)
			_, errMeta := s.GetMeta(ctx, key)
			_, errSession := s.GetSession(ctx, key)
			if (errMeta == nil) != (errSession == nil) {
				t.Errorf("round %d: transaction %d half applied: meta %v, session %v", round, i, errMeta, errSession)
			}
		}
		// The round acknowledged last+1 rotations and may have made one more.
		x, err := s.GetSession(ctx, "rotating")
		if err != nil {
			t.Fatalf("round %d: rotating session: %v", round, err)
		}
		if x.Generation < acked || x.Generation > acked+1 {
			t.Errorf("round %d: rotating session at generation %d, want %d or %d", round, x.Generation, acked, acked+1)
		}
		t.Logf("round %d: killed after %d acknowledged transactions and %d grouped sessions; generation %d",
			round, last+1, len(grouped), x.Generation)
		acked = x.Generation
		s.Close()
	}
}

// runCrashChild starts the child for one round, kills it once it has
// acknowledged at least n transactions, and returns the last acknowledged
// one and the sessions it acknowledged from its concurrent writers.
func runCrashChild(t *testing.T, path string, round, n int) (last int, grouped []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), crashEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last = -1
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if key, ok := strings.CutPrefix(sc.Text(), "grouped "); ok {
			grouped = append(grouped, key)
			continue
		}
		if v, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			i, err := strconv.Atoi(v)
			if err != nil || i != last+1 {
				t.Fatalf("child: unexpected line %q after %d", sc.Text(), last)
			}
			last = i
			if last >= n {
				// SIGKILL: no chance to close, flush or checkpoint.
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	cmd.Wait()
	if last < n {
		t.Fatalf("child acknowledged %d transactions, want %d; stderr:\n%s", last+1, n, stderr.String())
	}
	return last, grouped
}

// crashChild is the child of TestCrashDurability: it writes until killed.
func crashChild(path string, round int) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	x, err := s.GetSession(ctx, "rotating")
	if errors.Is(err, storage.ErrNotFound) {
		x = storage.Session{ID: "rotating", TenantID: "t-1", UserID: "u-1", TokenHash: hash("rotating/0")}
		err = s.CreateSession(ctx, x)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "session:", err)
		os.Exit(2)
	}
	stop := time.Now().Add(time.Minute) // in case the parent is gone
	// Concurrent writers, whose sessions the store commits in groups.
	for w := range 8 {
		go func() {
			for i := 0; time.Now().Before(stop); i++ {
				key := fmt.Sprintf("grouped-%d-%d-%d", round, w, i)
				err := s.CreateSession(ctx, storage.Session{ID: key, TenantID: "t-1", UserID: "u-1", ApplicationID: "a-1",
					TokenHash: hash(key), ExpiresAt: time.Now().Add(time.Hour)})
				if err != nil {
					fmt.Fprintln(os.Stderr, "grouped write:", err)
					os.Exit(2)
				}
				fmt.Printf("grouped %s\n", key)
			}
		}()
	}
	for i := 0; time.Now().Before(stop); i++ {
		key := fmt.Sprintf("round-%d-%d", round, i)
		err := s.Tx(ctx, func(tx storage.Store) error {
			if err := tx.PutMeta(ctx, key, strings.Repeat("x", 100)); err != nil {
				return err
			}
			return tx.CreateSession(ctx, storage.Session{ID: key, TenantID: "t-1", UserID: "u-1", ApplicationID: "a-1",
				TokenHash: hash(key), Scopes: []string{"offline_access"}, ExpiresAt: time.Now().Add(time.Hour)})
		})
		if err == nil {
			next := hash(fmt.Sprintf("rotating/%d/%d", round, i))
			err = s.RotateSession(ctx, x.ID, x.TokenHash, storage.Rotation{TokenHash: next, RotatedAt: time.Now()})
			x.TokenHash = next
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(2)
		}
		fmt.Printf("committed %d\n", i)
	}
	os.Exit(3)
}

func BenchmarkRotateSession(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	tenantID, appID, userID := seed(b, s)
	cur := hash("bench/0")
	if err := s.CreateSession(ctx, storage.Session{ID: "s", TenantID: tenantID, UserID: userID, ApplicationID: appID,
		TokenHash: cur, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		next := hash("bench/" + strconv.Itoa(i))
		now := time.Now()
		if err := s.RotateSession(ctx, "s", cur, storage.Rotation{TokenHash: next, SealedSuccessor: next,
			RotatedAt: now, StartInstant: now, ExpiresAt: now.Add(time.Hour), LastUsed: now}); err != nil {
			b.Fatal(err)
		}
		cur = next
	}
}

func BenchmarkFindSession(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	tenantID, appID, userID := seed(b, s)
	const sessions = 1000
	if err := s.CreateRegistration(ctx, storage.Registration{ID: "r-1", UserID: userID, ApplicationID: appID, TenantID: tenantID}); err != nil {
		b.Fatal(err)
	}
	err := s.Tx(ctx, func(tx storage.Store) error {
		for i := range sessions {
			if err := tx.CreateSession(ctx, storage.Session{ID: "s" + strconv.Itoa(i), TenantID: tenantID, UserID: userID,
				ApplicationID: appID, TokenHash: hash("s" + strconv.Itoa(i)), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("current", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if _, m, err := s.FindSession(ctx, hash("s"+strconv.Itoa(i%sessions))); err != nil || m != storage.MatchCurrent {
					b.Fatal(m, err)
				}
			}
		})
	})
	// The refresh path's read: one statement, against the three it
	// replaces.
	for _, bc := range []struct {
		name string
		find func(context.Context, []byte) (storage.SessionOwner, storage.Match, error)
	}{
		{"owner", s.FindSessionOwner},
		{"apart", func(ctx context.Context, h []byte) (storage.SessionOwner, storage.Match, error) {
			return storage.FindSessionOwnerApart(ctx, s, h)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if o, m, err := bc.find(ctx, hash("s"+strconv.Itoa(i%sessions))); err != nil || m != storage.MatchCurrent || !o.Registered {
						b.Fatal(m, err)
					}
				}
			})
		})
	}
	b.Run("miss", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.FindSession(ctx, hash("unknown")); !errors.Is(err, storage.ErrNotFound) {
				b.Fatal(err)
			}
		}
	})
}

func TestOpen_FilesOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group or other access", filepath.Base(p), mode)
		}
	}
}
