package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/guard/redisstore"
	"github.com/latchid/latch/internal/faultproxy"
	"github.com/latchid/latch/internal/redistest"
)

// Faults of a real Redis, made by a proxy in front of it
// (internal/faultproxy): every call fails within the Store's deadline,
// whether Redis stopped answering or died, and works again after.

// proxied returns a Store over the test Redis through a proxy, with a
// client tuned by TuneOptions (its fields set in opts kept).
func proxied(t *testing.T, opts redis.Options, cfg redisstore.Config) (*redisstore.Store, *faultproxy.Proxy) {
	t.Helper()
	p := faultproxy.Start(t, redistest.Addr(t))
	opts.Addr = p.Addr()
	rdb := redis.NewClient(redisstore.TuneOptions(&opts))
	t.Cleanup(func() { rdb.Close() })
	if cfg.Prefix == "" {
		cfg.Prefix = prefix(t, client(t))
	}
	return redisstore.New(rdb, cfg), p
}

// calls are one call of each method.
func calls(s *redisstore.Store, t *testing.T) map[string]func() error {
	ctx := t.Context()
	now := time.Now()
	return map[string]func() error{
		"Add": func() error {
			return s.Add(ctx, guard.Revocation{Scope: guard.Scope{UserID: "u"}, At: now, Until: now.Add(time.Hour)})
		},
		"Lookup":   func() error { _, err := s.Lookup(ctx, []guard.Scope{{UserID: "u"}}); return err },
		"Seen":     func() error { _, err := s.Seen(ctx, "e"); return err },
		"MarkSeen": func() error { return s.MarkSeen(ctx, "e", now.Add(time.Hour)) },
		"Use":      func() error { _, err := s.Use(ctx, "client", "j"+now.String(), now.Add(time.Minute)); return err },
	}
}

// failWithin runs every call and fails t unless each returns an error
// within limit.
func failWithin(t *testing.T, what string, cs map[string]func() error, limit time.Duration) {
	t.Helper()
	for name, call := range cs {
		start := time.Now()
		err := call()
		if err == nil {
			t.Errorf("%s %s: no error", what, name)
		}
		if d := time.Since(start); d > limit {
			t.Errorf("%s %s: answered after %v, want within %v", what, name, d, limit)
		}
	}
}

func mustWork(t *testing.T, what string, cs map[string]func() error) {
	t.Helper()
	for name, call := range cs {
		if err := call(); err != nil {
			t.Errorf("%s %s: %v", what, name, err)
		}
	}
}

// A Redis that stops answering: every call fails at the Store's deadline
// (DefaultTimeout), not after go-redis's own timeouts and retries.
func TestFrozenRedis(t *testing.T) {
	s, p := proxied(t, redis.Options{}, redisstore.Config{})
	cs := calls(s, t)
	mustWork(t, "before", cs)
	p.Freeze()
	failWithin(t, "frozen", cs, redisstore.DefaultTimeout+2*time.Second)
	p.Thaw()
	mustWork(t, "after", cs)
}

// The Store's deadline holds whatever the client's read timeout: a
// client that would wait 10 s for an answer gives up at Config.Timeout.
func TestTimeoutBeatsReadTimeout(t *testing.T) {
	s, p := proxied(t, redis.Options{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
		redisstore.Config{Timeout: 300 * time.Millisecond})
	cs := calls(s, t)
	mustWork(t, "before", cs)
	p.Freeze()
	failWithin(t, "frozen", cs, 300*time.Millisecond+2*time.Second)
}

// A Redis that died (its port closed): every call fails at once, without
// go-redis's five dial attempts and three retries.
func TestDeadRedis(t *testing.T) {
	s, p := proxied(t, redis.Options{}, redisstore.Config{Timeout: 10 * time.Second})
	cs := calls(s, t)
	mustWork(t, "before", cs)
	p.Kill()
	failWithin(t, "dead", cs, 2*time.Second)
	p.Revive(t)
	mustWork(t, "revived", cs)
}

// TuneOptions fills what is left at go-redis's defaults and keeps what
// is set.
func TestTuneOptions(t *testing.T) {
	o := redisstore.TuneOptions(&redis.Options{})
	if !o.ContextTimeoutEnabled || o.DialTimeout != redisstore.TunedDialTimeout || o.DialerRetries != redisstore.TunedDialerRetries ||
		o.ReadTimeout != redisstore.TunedReadTimeout || o.WriteTimeout != redisstore.TunedWriteTimeout ||
		o.PoolTimeout != redisstore.TunedPoolTimeout || o.MaxRetries != redisstore.TunedMaxRetries {
		t.Errorf("TuneOptions of the defaults: %+v", o)
	}
	set := redis.Options{DialTimeout: 3 * time.Second, DialerRetries: 2, ReadTimeout: -1, WriteTimeout: 2 * time.Second,
		PoolTimeout: 4 * time.Second, MaxRetries: -1}
	o = redisstore.TuneOptions(&set)
	if !o.ContextTimeoutEnabled || o.DialTimeout != 3*time.Second || o.DialerRetries != 2 || o.ReadTimeout != -1 ||
		o.WriteTimeout != 2*time.Second || o.PoolTimeout != 4*time.Second || o.MaxRetries != -1 {
		t.Errorf("TuneOptions of set options: %+v", o)
	}
}
