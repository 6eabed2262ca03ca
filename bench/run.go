package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/latchid/latch/bench/load"
	"github.com/latchid/latch/bench/proc"
	"github.com/latchid/latch/bench/report"
	"github.com/latchid/latch/internal/password"
)

// target is an operation under load: a worker per client up to the
// largest concurrency, and the processes whose CPU time it costs.
type target struct {
	name, desc string
	pids       func() []int
	calls      []load.Call
	// rounds holds what each round measured, by concurrency.
	rounds map[int][]measured
}

// measured is one round of one target at one concurrency.
type measured struct {
	res load.Result
	cpu time.Duration // the target's processes' CPU time over the round
}

// run is one invocation's servers, setup and results.
type run struct {
	cfg      config
	tmp      string
	p        *progress
	children []*child
	latch    *latchSetup
	// compare mode's targets, state and postgres modes' sections
	targets  []*target
	sections []report.Section
	notes    []string
	versions [][2]string
}

func newRun(cfg config, tmp string, p *progress) *run {
	r := &run{cfg: cfg, tmp: tmp, p: p}
	if cfg.note != "" {
		r.notes = append(r.notes, cfg.note)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			r.notes = append(r.notes, fmt.Sprintf("Load average when the run began (1, 5, 15 minutes): %s, %s, %s, on %d cores.",
				f[0], f[1], f[2], runtime.NumCPU()))
		}
	}
	return r
}

// close stops every server still running.
func (r *run) close() {
	for _, c := range r.children {
		c.stop()
	}
}

// keep registers a child to stop at the end (if it is not stopped before).
func (r *run) keep(c *child) { r.children = append(r.children, c) }

// latchBuilt builds Latch once per run.
func (r *run) latchBuilt(ctx context.Context) (*latchSetup, error) {
	if r.latch != nil {
		return r.latch, nil
	}
	r.p.set("building Latch (../cmd/latch)")
	s, err := newLatchSetup(ctx, r.tmp, max(r.maxC(), r.cfg.stateC))
	if err != nil {
		return nil, err
	}
	r.latch = s
	return s, nil
}

// maxC is the largest concurrency, the number of workers each target needs.
func (r *run) maxC() int { return slices.Max(r.cfg.concurrencies) }

// chains returns n workers that each keep a refresh token chain: fresh
// gets a chain's first token (n of them, a few at once, up front), step
// exchanges a token for the next. A worker whose refresh fails starts a
// new chain on its next call, so a lost answer costs errors, not a worker.
func chains(ctx context.Context, n int, fresh func(ctx context.Context, worker int) (string, error),
	step func(context.Context, string) (string, error)) ([]load.Call, error) {
	return chainsAtOnce(ctx, n, 4, fresh, step)
}

// chainsAtOnce is chains with at most parallel first tokens got at once.
func chainsAtOnce(ctx context.Context, n, parallel int, fresh func(ctx context.Context, worker int) (string, error),
	step func(context.Context, string) (string, error)) ([]load.Call, error) {
	tokens := make([]string, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i := range tokens {
		g.Go(func() error {
			// A few tries: a peer may drop a keep-alive connection
			// under the burst of logins.
			var err error
			for try := range 3 {
				if tokens[i], err = fresh(gctx, i); err == nil || gctx.Err() != nil {
					return err
				}
				time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	calls := make([]load.Call, n)
	for i := range calls {
		calls[i] = func(ctx context.Context) error {
			// A refresh is never cut short at the window's end: its
			// answer carries the chain's next token.
			ctx = context.WithoutCancel(ctx)
			if tokens[i] == "" {
				t, err := fresh(ctx, i)
				if err != nil {
					return err
				}
				tokens[i] = t
			}
			next, err := step(ctx, tokens[i])
			if err != nil {
				tokens[i] = ""
				return err
			}
			tokens[i] = next
			return nil
		}
	}
	return calls, nil
}

// repeat returns n workers that each make the same call.
func repeat(n int, call load.Call) []load.Call {
	calls := make([]load.Call, n)
	for i := range calls {
		calls[i] = call
	}
	return calls
}

func pidsOf(cs ...*child) func() []int {
	return func() []int {
		var out []int
		for _, c := range cs {
			out = append(out, c.pid())
		}
		return out
	}
}

// cpuOf sums the CPU time of processes.
func cpuOf(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		c, err := proc.CPU(pid)
		if err != nil {
			return 0, err
		}
		sum += c
	}
	return sum, nil
}

// measure runs targets at each concurrency for the configured rounds,
// interleaved: A, B, C, A, B, C … at one concurrency before the next.
// check, if set, is called after each round (a server still alive).
func (r *run) measure(ctx context.Context, label string, targets []*target, concurrencies []int, check func() error) error {
	for _, t := range targets {
		if t.rounds == nil {
			t.rounds = map[int][]measured{}
		}
	}
	for _, c := range concurrencies {
		for round := 1; round <= r.cfg.rounds; round++ {
			for _, t := range targets {
				if err := ctx.Err(); err != nil {
					return err
				}
				r.p.set("%s: %s at c=%d, round %d/%d", label, t.name, c, round, r.cfg.rounds)
				before, err := cpuOf(t.pids())
				if err != nil {
					return fmt.Errorf("%s: %w", t.name, err)
				}
				res := load.Run(ctx, t.calls[:c], r.cfg.warmup, r.cfg.duration)
				after, err := cpuOf(t.pids())
				if err != nil {
					return fmt.Errorf("%s: %w", t.name, err)
				}
				t.rounds[c] = append(t.rounds[c], measured{res: res, cpu: after - before})
				if res.Errors > 0 {
					r.p.note("%s at c=%d: %d errors, the first: %v", t.name, c, res.Errors, res.FirstError)
				}
				if check != nil {
					if err := check(); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// row is the medians across a target's rounds at concurrency c.
func (t *target) row(c int) (report.Row, bool) {
	ms := t.rounds[c]
	if len(ms) == 0 {
		return report.Row{}, false
	}
	var tput, p50, p99, cpu []float64
	errs := 0
	for _, m := range ms {
		tput = append(tput, m.res.Throughput())
		p50 = append(p50, float64(m.res.Percentile(50)))
		p99 = append(p99, float64(m.res.Percentile(99)))
		if m.res.AllCalls > 0 {
			cpu = append(cpu, float64(m.cpu)/float64(m.res.AllCalls))
		}
		errs += m.res.Errors
	}
	return report.Row{Target: t.name, Concurrency: c, Rounds: len(ms), Throughput: report.Median(tput),
		P50: time.Duration(report.Median(p50)), P99: time.Duration(report.Median(p99)),
		CPUPerCall: time.Duration(report.Median(cpu)), Errors: errs}, true
}

// Target names, used in the tables and the ratios.
const (
	tHydra      = "hydra-refresh"
	tFloor      = "floor-refresh"
	tCeiling    = "floor-nosync-refresh"
	tLatch      = "latch-refresh"
	tLatchOAuth = "latch-oauth-refresh"
	tLatchLogin = "latch-login"
	tHashBound  = "argon2id-bound"
)

// compare starts the servers asked for, gets each worker a refresh token
// chain, and measures them side by side.
func (r *run) compare(ctx context.Context) error {
	n := r.maxC()
	hc := newHTTPClient()
	var check []func() error
	if slices.Contains(r.cfg.servers, "hydra") {
		r.p.set("building Hydra %s (go build, the first time takes minutes)", hydraVersion)
		bin, err := buildHydra(ctx, r.tmp)
		if err != nil {
			return err
		}
		dir := filepath.Join(r.tmp, "hydra")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		r.p.set("starting Hydra")
		h, err := startHydra(ctx, bin, dir, r.cfg.hydraJWT)
		if err != nil {
			return err
		}
		r.keep(h.child)
		check = append(check, h.alive)
		r.p.set("Hydra: %d authorization code flows", n)
		// One flow at a time: parallel flows make Hydra's SQLite answer
		// "database is locked" after its busy timeout.
		calls, err := chainsAtOnce(ctx, n, 1, func(ctx context.Context, i int) (string, error) { return h.token(ctx, fmt.Sprintf("bench-%d", i)) },
			func(ctx context.Context, rt string) (string, error) { return h.refresh(ctx, hc, rt) })
		if err != nil {
			return fmt.Errorf("hydra: %w", err)
		}
		desc := "Ory Hydra " + hydraVersion + ": `POST /oauth2/token` `refresh_token` grant, public client, opaque access token"
		if r.cfg.hydraJWT {
			desc = "Ory Hydra " + hydraVersion + ": `POST /oauth2/token` `refresh_token` grant, public client, JWT access token (RS256)"
		}
		r.targets = append(r.targets, &target{name: tHydra, desc: desc, pids: pidsOf(h.child), calls: calls})
	}
	for _, f := range []struct {
		server, target, desc string
		durable              bool
	}{
		{"floor", tFloor, "the floor: net/http, one SQLite writer (WAL, synchronous=FULL), a conditional UPDATE of the token hash, an ES256 JWT", true},
		{"floor-nosync", tCeiling, "the floor without fsync (synchronous=OFF, not durable): the ceiling of the floor's work on this machine", false},
	} {
		if !slices.Contains(r.cfg.servers, f.server) {
			continue
		}
		r.p.set("starting %s", f.server)
		dir := filepath.Join(r.tmp, f.server)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		fs, err := startFloor(ctx, dir, f.durable)
		if err != nil {
			return err
		}
		r.keep(fs.child)
		check = append(check, fs.alive)
		calls, err := chains(ctx, n, func(ctx context.Context, _ int) (string, error) {
			return issueFloorToken(ctx, hc, fs.base+"/issue")
		}, func(ctx context.Context, rt string) (string, error) {
			return postFloorRefresh(ctx, hc, fs.base, rt)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", f.server, err)
		}
		r.targets = append(r.targets, &target{name: f.target, pids: pidsOf(fs.child), calls: calls, desc: f.desc})
	}
	if slices.Contains(r.cfg.servers, "latch") {
		s, err := r.latchBuilt(ctx)
		if err != nil {
			return err
		}
		r.p.set("starting Latch")
		l, err := s.startLatch(ctx, "latch", filepath.Join(r.tmp, "latch", "data"), "", true)
		if err != nil {
			return err
		}
		r.keep(l.child)
		check = append(check, l.alive)
		r.p.set("Latch: %d logins for /api/jwt/refresh chains", n)
		apiCalls, err := chains(ctx, n, func(ctx context.Context, i int) (string, error) { return s.login(ctx, hc, l.base, i) },
			func(ctx context.Context, rt string) (string, error) { return refreshLatchAPI(ctx, hc, l.base, rt) })
		if err != nil {
			return fmt.Errorf("latch: %w", err)
		}
		r.p.set("Latch: %d password grants for /oauth2/token chains", n)
		oauthCalls, err := chains(ctx, n, func(ctx context.Context, i int) (string, error) { return s.oauthToken(ctx, hc, l.base, i) },
			func(ctx context.Context, rt string) (string, error) { return s.oauthRefresh(ctx, hc, l.base, rt) })
		if err != nil {
			return fmt.Errorf("latch: %w", err)
		}
		login := make([]load.Call, n)
		for i := range login {
			login[i] = func(ctx context.Context) error {
				// Not cut short either: an abandoned login would still
				// hash on the server, in the next round's time. A login
				// refused with 503 (the password gate's queue is full)
				// waits its Retry-After before the next, as an app does.
				_, err := s.login(context.WithoutCancel(ctx), hc, l.base, i)
				return backOff(ctx, err)
			}
		}
		// The hash bound: the same argon2id parameters Latch hashes with
		// (its password package's), verified in this process, no server.
		stored, err := password.Hash(s.password)
		if err != nil {
			return err
		}
		// As Latch's password gate does, at most GOMAXPROCS hashes run at
		// once (the rest wait): the same throughput a core count allows,
		// without 19 MiB per waiting client.
		slots := make(chan struct{}, runtime.GOMAXPROCS(0))
		bound := repeat(n, func(ctx context.Context) error {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done(): // the window ended while this one waited
				return ctx.Err()
			}
			defer func() { <-slots }()
			ok, err := password.Verify(s.password, stored)
			if err == nil && !ok {
				err = fmt.Errorf("argon2id: the password did not verify")
			}
			return err
		})
		self := func() []int { return []int{os.Getpid()} }
		r.targets = append(r.targets,
			&target{name: tLatch, pids: pidsOf(l.child), calls: apiCalls,
				desc: "Latch: `POST /api/jwt/refresh`, one-time-use refresh token, ES256 JWT"},
			&target{name: tLatchOAuth, pids: pidsOf(l.child), calls: oauthCalls,
				desc: "Latch: `POST /oauth2/token` `refresh_token` grant, `client_secret_post`, one-time-use refresh token, ES256 JWT"},
			&target{name: tLatchLogin, pids: pidsOf(l.child), calls: login,
				desc: "Latch: `POST /api/login` (argon2id verification, a new session, an ES256 JWT)"},
			&target{name: tHashBound, pids: self, calls: bound,
				desc: "argon2id verification with Latch's parameters (`internal/password`), in the bench's own process, no server, at most as many at once as Latch's password gate allows (GOMAXPROCS)"})
	}
	if len(r.targets) == 0 {
		return fmt.Errorf("no servers to compare")
	}
	r.p.note("compare: %d operations ready, %d workers each", len(r.targets), n)
	err := r.measure(ctx, "compare", r.targets, r.cfg.concurrencies, func() error {
		for _, c := range check {
			if err := c(); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// issueFloorToken posts to the floor's /issue and returns the refresh token.
func issueFloorToken(ctx context.Context, hc *http.Client, endpoint string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, nil)
	if err != nil {
		return "", err
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := do(hc, req, &out); err != nil {
		return "", err
	}
	return out.RefreshToken, nil
}

// postFloorRefresh is the floor's refresh.
func postFloorRefresh(ctx context.Context, hc *http.Client, base, rt string) (string, error) {
	return postToken(ctx, hc, base+"/refresh", map[string][]string{"refresh_token": {rt}})
}
