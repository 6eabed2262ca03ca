// Package redisstore keeps what guard must share between the instances of
// a backend in Redis: the revocations its Events handler learns
// (guard.RevocationStore) and the DPoP proofs it accepted
// (dpop.ReplayCache). With guard's in-memory defaults, a revocation
// webhook reaches one instance behind the load balancer and the others
// keep accepting the revoked tokens, and a DPoP proof accepted by one
// instance can be replayed at another; one Store, shared, closes both
// gaps:
//
//	rdb := redis.NewClient(redisstore.TuneOptions(&redis.Options{Addr: "redis:6379"}))
//	store := redisstore.New(rdb, redisstore.Config{})
//	g, err := guard.New(guard.Config{...,
//		Revocations: guard.RevocationOptions{Store: store},
//		DPoP:        guard.DPoPOptions{Replay: store},
//	})
//
// The client is a redis.UniversalClient: a single node (redis.NewClient),
// Sentinel (redis.NewFailoverClient) or Cluster (redis.NewClusterClient)
// all fit. Every key starts with Config.Prefix; every key expires, through
// a Redis TTL, once the record no longer matters, so the store needs no
// sweeping and holds no more than the revocations and proofs in force.
//
// # Keys
//
// Under the prefix (Config.Prefix):
//
//	<prefix>rev:"<sid>","<uid>","<app>"  a revocation, its scope's ids Go-quoted;
//	                                     value "<at> <until>"
//	<prefix>event:<id>                   an event guard applied; value "<until>"
//	<prefix>dpop:<jti>                   a DPoP proof accepted; value "<expires>"
//
// where each time is written as Unix seconds and nanoseconds ("<s> <ns>").
// Records are written by small Lua scripts, one key each, so they are
// atomic on a Cluster too: recording a scope again keeps the later At and
// the later Until, marking an event again keeps the later until, and of
// concurrent Uses of one jti exactly one is fresh.
//
// # Time
//
// The store judges expiry by its own clock (Config.Now, which should be
// guard's Config.Now), not by Redis's: a record whose time has passed by
// that clock is ignored even while Redis still holds it. Each TTL is set
// relative, as the time left by that clock (rounded up to the
// millisecond), so a Redis server whose clock is off does not drop a
// record early. The instances' clocks should agree (NTP), as they must for
// guard anyway.
//
// # Deadlines
//
// Every call ends within Config.Timeout (DefaultTimeout, a second, when
// zero), so that a Redis that is down or does not answer costs a request
// about that long and a 503, never a hang. go-redis honours the deadline
// only on a client whose options enable ContextTimeoutEnabled; its
// defaults (5 s to dial, five dial attempts, 3 s reads, three retries)
// would otherwise hold a request for tens of seconds against a frozen
// Redis and seconds against a dead one. TuneOptions sets what a
// fail-fast client needs:
//
//	rdb := redis.NewClient(redisstore.TuneOptions(&redis.Options{Addr: "redis:6379"}))
//
// For a Cluster or Sentinel client, set the same fields of its options:
// ContextTimeoutEnabled, DialTimeout, DialerRetries, ReadTimeout,
// WriteTimeout, PoolTimeout and MaxRetries, as TuneOptions does.
//
// # Errors
//
// Every error of Redis (unreachable, timeout, a record that does not
// parse) is returned, wrapped, and guard then fails closed: Verify and
// Handler refuse the token with guard.ErrUnavailable (503, with
// Retry-After) rather than accept a token that may be revoked; the Events
// handler answers 503 so that Latch delivers the event again later; and a
// DPoP proof is refused with guard.ErrUnavailable (503) too, as
// dpop.Verifier refuses any proof when its ReplayCache fails. Use reports
// fresh false with every error.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
)

// DefaultPrefix is the prefix of the keys of a Store whose Config.Prefix
// is empty.
const DefaultPrefix = "latch:guard:"

// DefaultTimeout bounds each call of a Store whose Config.Timeout is zero.
const DefaultTimeout = time.Second

// The options TuneOptions sets where a client's options leave go-redis's
// defaults: one dial attempt of half a second, reads and writes of half a
// second, one retry (for a pooled connection that went stale), and a
// second to wait for a pooled connection.
const (
	TunedDialTimeout   = 500 * time.Millisecond
	TunedDialerRetries = 1
	TunedReadTimeout   = 500 * time.Millisecond
	TunedWriteTimeout  = 500 * time.Millisecond
	TunedPoolTimeout   = time.Second
	TunedMaxRetries    = 1
)

// TuneOptions makes o fail fast, as a Store's client should: it enables
// ContextTimeoutEnabled, so that the Store's deadline (Config.Timeout)
// bounds every call, dials and retries included, and sets the Tuned*
// values in the fields o leaves at go-redis's default (zero); a value set
// (in the URL redis.ParseURL read, say) is kept. It returns o.
func TuneOptions(o *redis.Options) *redis.Options {
	o.ContextTimeoutEnabled = true
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&o.DialTimeout, TunedDialTimeout)
	set(&o.ReadTimeout, TunedReadTimeout)
	set(&o.WriteTimeout, TunedWriteTimeout)
	set(&o.PoolTimeout, TunedPoolTimeout)
	if o.DialerRetries == 0 {
		o.DialerRetries = TunedDialerRetries
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = TunedMaxRetries
	}
	return o
}

// Config configures a Store.
type Config struct {
	// Prefix starts every key; DefaultPrefix when empty. Backends that
	// share a Redis but not their revocations (two services with
	// different Latch applications, say) need prefixes of their own. A
	// Cluster hash tag in it ("{shop}:latch:") puts every key on one
	// shard.
	Prefix string
	// Now is the clock by which records expire; time.Now when nil. It
	// should be guard's Config.Now (and the dpop.Verifier's clock).
	Now func() time.Time
	// Timeout bounds each call, retries included: past it the call fails
	// (and guard answers 503). DefaultTimeout when zero. It needs a client
	// with ContextTimeoutEnabled (see TuneOptions).
	Timeout time.Duration
}

// Store is a guard.RevocationStore and a dpop.ReplayCache over Redis,
// which the instances of a backend share. It is safe for concurrent use.
// Its zero value is not usable: call New.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	now     func() time.Time
	timeout time.Duration
}

var (
	_ guard.RevocationStore = (*Store)(nil)
	_ dpop.ReplayCache      = (*Store)(nil)
)

// New returns a Store over rdb, configured by cfg. It does not contact
// Redis: an unreachable server shows in the first call's error. Closing
// rdb is the caller's business.
func New(rdb redis.UniversalClient, cfg Config) *Store {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Store{rdb: rdb, prefix: cfg.Prefix, now: cfg.Now, timeout: cfg.Timeout}
}

// bound returns ctx with the deadline of one call.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Prefix returns the prefix of the Store's keys.
func (s *Store) Prefix() string { return s.prefix }

// keepLater records, at KEYS[1], a record of one or more times, keeping
// for each time the later of the one recorded and the one given, and sets
// the key to expire when the last time (the record's expiry) has passed.
// ARGV[1], ARGV[2]: now (seconds, nanoseconds); ARGV[3...]: the record's
// times, two arguments each. Times are compared as (seconds, nanoseconds)
// pairs, each exact in a Lua number, never as one float. A record that
// has expired by now is deleted (0 returned); else 1.
var keepLater = redis.NewScript(`
local new = {}
for i = 3, #ARGV do new[#new + 1] = ARGV[i] end
local cur = redis.call('GET', KEYS[1])
if cur then
  local old = {}
  for w in string.gmatch(cur, '%S+') do
    if not string.match(w, '^%-?%d+$') then old = nil break end
    old[#old + 1] = w
  end
  if not old or #old ~= #new then
    return redis.error_reply('redisstore: malformed record at ' .. KEYS[1])
  end
  for i = 1, #new, 2 do
    local olds, oldn = tonumber(old[i]), tonumber(old[i + 1])
    local ns, nn = tonumber(new[i]), tonumber(new[i + 1])
    if olds > ns or (olds == ns and oldn > nn) then
      new[i], new[i + 1] = old[i], old[i + 1]
    end
  end
end
local ttl = math.ceil((tonumber(new[#new - 1]) - tonumber(ARGV[1])) * 1000
  + (tonumber(new[#new]) - tonumber(ARGV[2])) / 1000000)
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], table.concat(new, ' '), 'PX', string.format('%.0f', ttl))
return 1
`)

// useOnce records, at KEYS[1], a jti until an expiry, unless a record
// there has not expired by now. ARGV[1], ARGV[2]: now; ARGV[3], ARGV[4]:
// the expiry (seconds, nanoseconds each). It returns 1 when the jti was
// fresh, 0 when it was recorded.
var useOnce = redis.NewScript(`
local nows, nown = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
  local s, n = string.match(cur, '^(%-?%d+) (%d+)$')
  if not s then
    return redis.error_reply('redisstore: malformed record at ' .. KEYS[1])
  end
  s, n = tonumber(s), tonumber(n)
  if s > nows or (s == nows and n > nown) then return 0 end
end
local ttl = math.ceil((tonumber(ARGV[3]) - nows) * 1000 + (tonumber(ARGV[4]) - nown) / 1000000)
if ttl <= 0 then
  if cur then redis.call('DEL', KEYS[1]) end
  return 1
end
redis.call('SET', KEYS[1], ARGV[3] .. ' ' .. ARGV[4], 'PX', string.format('%.0f', ttl))
return 1
`)

// timeArgs appends t as two script arguments: Unix seconds and
// nanoseconds.
func timeArgs(args []any, t time.Time) []any {
	return append(args, strconv.FormatInt(t.Unix(), 10), strconv.Itoa(t.Nanosecond()))
}

// parseTimes reads a record's value: n times, each as "<s> <ns>".
func parseTimes(v string, n int) ([]time.Time, error) {
	f := strings.Fields(v)
	if len(f) != 2*n {
		return nil, errMalformed
	}
	ts := make([]time.Time, n)
	for i := range ts {
		sec, err1 := strconv.ParseInt(f[2*i], 10, 64)
		nsec, err2 := strconv.ParseInt(f[2*i+1], 10, 64)
		if err1 != nil || err2 != nil || nsec < 0 || nsec >= 1e9 {
			return nil, errMalformed
		}
		ts[i] = time.Unix(sec, nsec)
	}
	return ts, nil
}

var errMalformed = errors.New("malformed record")

func (s *Store) revKey(sc guard.Scope) string {
	// strconv.Quote is one-to-one, and a quoted string ends at its first
	// unescaped quote: no two scopes share a key.
	return s.prefix + "rev:" + strconv.Quote(sc.SessionID) + "," + strconv.Quote(sc.UserID) + "," + strconv.Quote(sc.ApplicationID)
}

func (s *Store) eventKey(id string) string { return s.prefix + "event:" + id }

func (s *Store) dpopKey(jti string) string { return s.prefix + "dpop:" + jti }

// Add implements guard.RevocationStore: recording a scope again keeps the
// later At and the later Until, atomically. The key expires at the
// (later) Until; a record whose Until has passed is not kept.
func (s *Store) Add(ctx context.Context, r guard.Revocation) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	args := timeArgs(nil, s.now())
	args = timeArgs(args, r.At)
	args = timeArgs(args, r.Until)
	if err := keepLater.Run(ctx, s.rdb, []string{s.revKey(r.Scope)}, args...).Err(); err != nil {
		return fmt.Errorf("redisstore: add revocation: %w", err)
	}
	return nil
}

// Lookup implements guard.RevocationStore, in one round trip (a pipeline
// of GETs; on a Cluster, one per shard concerned). It skips the records
// whose Until has passed by the Store's clock.
func (s *Store) Lookup(ctx context.Context, scopes []guard.Scope) ([]guard.Revocation, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cmds := make([]*redis.StringCmd, len(scopes))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sc := range scopes {
			cmds[i] = p.Get(ctx, s.revKey(sc))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: lookup revocations: %w", err)
	}
	now := s.now()
	var out []guard.Revocation
	for i, cmd := range cmds {
		v, err := cmd.Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case err != nil:
			return nil, fmt.Errorf("redisstore: lookup revocations: %w", err)
		}
		ts, err := parseTimes(v, 2)
		if err != nil {
			return nil, fmt.Errorf("redisstore: lookup revocations: %w at %s", err, s.revKey(scopes[i]))
		}
		if now.Before(ts[1]) {
			out = append(out, guard.Revocation{Scope: scopes[i], At: ts[0], Until: ts[1]})
		}
	}
	return out, nil
}

// Seen implements guard.RevocationStore: false once until has passed by
// the Store's clock.
func (s *Store) Seen(ctx context.Context, eventID string) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.eventKey(eventID)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("redisstore: seen event: %w", err)
	}
	ts, err := parseTimes(v, 1)
	if err != nil {
		return false, fmt.Errorf("redisstore: seen event: %w at %s", err, s.eventKey(eventID))
	}
	return s.now().Before(ts[0]), nil
}

// MarkSeen implements guard.RevocationStore: marking an event again keeps
// the later until, atomically. The key expires at until; an until that
// has passed records nothing.
func (s *Store) MarkSeen(ctx context.Context, eventID string, until time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	args := timeArgs(nil, s.now())
	args = timeArgs(args, until)
	if err := keepLater.Run(ctx, s.rdb, []string{s.eventKey(eventID)}, args...).Err(); err != nil {
		return fmt.Errorf("redisstore: mark event seen: %w", err)
	}
	return nil
}

// Use implements dpop.ReplayCache, atomically: of concurrent calls with
// one jti, on any instance, exactly one is fresh. The key expires at
// expires; an expiry that has passed records nothing (and is fresh unless
// jti is recorded). On an error, fresh is false. client is not used: a
// Store bounds no client's share (Redis's own memory limit bounds it
// all), as guard records only proofs that have passed every check.
func (s *Store) Use(ctx context.Context, client, jti string, expires time.Time) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	args := timeArgs(nil, s.now())
	args = timeArgs(args, expires)
	fresh, err := useOnce.Run(ctx, s.rdb, []string{s.dpopKey(jti)}, args...).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: use DPoP proof: %w", err)
	}
	return fresh == 1, nil
}
