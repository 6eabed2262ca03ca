package sqlite

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// TestGroupCommit queues rotations behind a transaction that holds the
// write connection: once it ends, they all commit in one group (one
// commit, one fsync), and each is there.
func TestGroupCommit(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	tenantID, appID, userID := seed(t, s)
	const n = 64
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i := range n {
		x := storage.Session{ID: fmt.Sprintf("s-%d", i), TenantID: tenantID, UserID: userID, ApplicationID: appID,
			TokenHash: fmt.Appendf(nil, "h-%d/0", i), Inserted: now, StartInstant: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}

	held, release, txDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		txDone <- s.Tx(ctx, func(tx storage.Store) error {
			close(held)
			<-release
			return tx.PutMeta(ctx, "k", "v")
		})
	}()
	<-held
	before := s.group.commits.Load()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.RotateSession(ctx, fmt.Sprintf("s-%d", i), fmt.Appendf(nil, "h-%d/0", i),
				storage.Rotation{TokenHash: fmt.Appendf(nil, "h-%d/1", i), RotatedAt: now, ExpiresAt: now.Add(time.Hour)})
		})
	}
	// The committer holds the first rotation while it waits for the
	// connection; the others wait in its queue.
	for deadline := time.Now().Add(10 * time.Second); len(s.group.queue) < n-1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d rotations queued, want %d", len(s.group.queue), n-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	if got := s.group.commits.Load() - before; got != 1 {
		t.Errorf("%d rotations queued together took %d commits, want 1", n, got)
	}
	for i := range n {
		x, m, err := s.FindSession(ctx, fmt.Appendf(nil, "h-%d/1", i))
		if err != nil || m != storage.MatchCurrent || x.ID != fmt.Sprintf("s-%d", i) {
			t.Errorf("FindSession of rotation %d's value: %s, %v, %v", i, x.ID, m, err)
		}
	}
}

// TestGroupAfterClose: a grouped write after Close fails at once.
func TestGroupAfterClose(t *testing.T) {
	s := openTemp(t)
	tenantID, appID, userID := seed(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err := s.CreateSession(t.Context(), storage.Session{ID: "s", TenantID: tenantID, UserID: userID, ApplicationID: appID, TokenHash: []byte("h")})
	if err == nil {
		t.Fatal("CreateSession after Close succeeded")
	}
}

// TestGroupPanic: a write that panics fails its group with an error, and
// the committer goes on to the next.
func TestGroupPanic(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	err := s.group.do(ctx, func(context.Context, querier) error { panic("boom") })
	if err == nil {
		t.Fatal("a write that panicked succeeded")
	}
	if err := s.group.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('after', 'x')")
		return err
	}); err != nil {
		t.Fatalf("the write after the panic: %v", err)
	}
	if v, err := s.GetMeta(ctx, "after"); err != nil || v != "x" {
		t.Errorf("GetMeta of the write after the panic: %q, %v", v, err)
	}
}

// BenchmarkRotateSessionParallel rotates from 64 goroutines at once, each
// its own session: what group commit is for. It reports rotations/s.
func BenchmarkRotateSessionParallel(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	tenantID, appID, userID := seed(b, s)
	const clients = 64
	procs := runtime.GOMAXPROCS(0)
	par := (clients + procs - 1) / procs
	for i := range par * procs {
		if err := s.CreateSession(ctx, storage.Session{ID: fmt.Sprintf("s-%d", i), TenantID: tenantID, UserID: userID,
			ApplicationID: appID, TokenHash: fmt.Appendf(nil, "s-%d/0", i), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(par)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := fmt.Sprintf("s-%d", next.Add(1)-1)
		cur := []byte(id + "/0")
		for n := 1; pb.Next(); n++ {
			nxt := fmt.Appendf(nil, "%s/%d", id, n)
			now := time.Now()
			if err := s.RotateSession(ctx, id, cur, storage.Rotation{TokenHash: nxt, SealedSuccessor: nxt,
				RotatedAt: now, StartInstant: now, ExpiresAt: now.Add(time.Hour), LastUsed: now}); err != nil {
				b.Error(err)
				return
			}
			cur = nxt
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rotations/s")
}
