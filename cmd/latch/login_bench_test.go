package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
)

// Login benchmarks against the real binary over HTTP: what an attacker
// measures from outside, and what a burst of logins costs the server.
//
//	go test -run '^$' -bench 'LoginRefusals|ParallelLogins' -benchtime 1x ./cmd/latch/

// benchLatch is a `latch serve` started for a benchmark, without rate
// limits, with the admin API key and the Default application's id.
type benchLatch struct {
	*child
	key, app string
	client   *http.Client
}

func startBenchLatch(b *testing.B) benchLatch {
	b.Helper()
	dir := b.TempDir()
	c := startChild(b, buildLatch(b), freeAddr(b), dir, "--login-rate", "0", "--log-format", "json")
	key, err := os.ReadFile(filepath.Join(dir, "bootstrap-api-key"))
	if err != nil {
		b.Fatal(err)
	}
	l := benchLatch{child: c, key: strings.TrimSpace(string(key)),
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	var apps api.ApplicationResponse
	l.must(b, "GET", "/api/application", nil, &apps)
	l.app = apps.Applications[0].ID
	return l
}

// must sends an admin request and decodes its 2xx answer into out.
func (l benchLatch) must(b *testing.B, method, path string, body, out any) {
	b.Helper()
	code, rb, err := post(context.Background(), l.client, method, l.base+path, l.key, body)
	if err != nil || code/100 != 2 {
		b.Fatalf("%s %s: %d %s %v", method, path, code, rb, err)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			b.Fatal(err)
		}
	}
}

// user registers a user for the Default application and returns its id.
func (l benchLatch) user(b *testing.B, email, pw string) string {
	b.Helper()
	var res api.RegistrationResponse
	l.must(b, "POST", "/api/user/registration", map[string]any{
		"user": map[string]any{"email": email, "password": pw}, "registration": map[string]any{"applicationId": l.app},
	}, &res)
	return res.User.ID
}

// login sends one login and returns its status and how long it took.
func (l benchLatch) login(loginID, pw string) (int, time.Duration, error) {
	start := time.Now()
	code, _, err := post(context.Background(), l.client, "POST", l.base+"/api/login", l.key,
		api.LoginRequest{LoginID: loginID, Password: pw, ApplicationID: l.app})
	return code, time.Since(start), err
}

// peakRSS is the child's peak resident set size (VmHWM), in MiB.
func (l benchLatch) peakRSS(b *testing.B) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", l.cmd.Process.Pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				b.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// BenchmarkLoginRefusals times the refusals an attacker can tell apart, or
// not: an unknown login ID, a user's wrong password, a wrong password for
// a user imported with a cheap hash (salted-sha256), for a deactivated
// user, and any password for a locked login ID. 60 tries of each,
// interleaved in a random order; it reports each median and its ratio to
// the unknown ID's. Every refusal but the lock's costs an argon2id; the
// lock checks no password, for anyone, so its time tells nothing either.
func BenchmarkLoginRefusals(b *testing.B) {
	const tries = 60
	l := startBenchLatch(b)
	right := "correct horse battery"
	for i := 0; b.Loop(); i++ {
		known, deactivated, imported := make([]string, tries), make([]string, tries), make([]string, tries)
		var users []map[string]any
		for j := range tries {
			known[j] = fmt.Sprintf("known-%d-%d@example.org", i, j)
			l.user(b, known[j], right)
			deactivated[j] = fmt.Sprintf("gone-%d-%d@example.org", i, j)
			l.must(b, "DELETE", "/api/user/"+l.user(b, deactivated[j], right), nil, nil)
			imported[j] = fmt.Sprintf("imported-%d-%d@example.org", i, j)
			// salted-sha256, factor 1, of "password" (FusionAuth's form).
			users = append(users, map[string]any{"email": imported[j], "encryptionScheme": "salted-sha256", "factor": 1,
				"salt": "4MTVxbvk8swI0ys2Lf4saeR3swRvn0f2", "password": "wLAU6Ma/KdGKjOhvQaKD6G3NSlpzDUxj8iJjA6FdjsA=", "active": true})
		}
		l.must(b, "POST", "/api/user/import", map[string]any{"users": users}, nil)
		locked := fmt.Sprintf("locked-%d@example.org", i)
		l.user(b, locked, right)
		for range 5 {
			if code, _, err := l.login(locked, "wrong"); code != 404 || err != nil {
				b.Fatalf("locking: %d %v", code, err)
			}
		}

		kinds := []struct {
			name string
			want int
			try  func(j int) (int, time.Duration, error)
		}{
			{"unknown", 404, func(j int) (int, time.Duration, error) {
				return l.login(fmt.Sprintf("nobody-%d-%d@example.org", i, j), "wrong")
			}},
			{"wrong", 404, func(j int) (int, time.Duration, error) { return l.login(known[j], "wrong") }},
			{"imported-cheap", 404, func(j int) (int, time.Duration, error) { return l.login(imported[j], "wrong") }},
			{"deactivated", 404, func(j int) (int, time.Duration, error) { return l.login(deactivated[j], "wrong") }},
			{"locked-right", 409, func(int) (int, time.Duration, error) { return l.login(locked, right) }},
			{"locked-wrong", 409, func(int) (int, time.Duration, error) { return l.login(locked, "wrong") }},
		}
		times := make([][]time.Duration, len(kinds))
		for j := range tries {
			for _, k := range rand.Perm(len(kinds)) {
				code, d, err := kinds[k].try(j)
				if err != nil || code != kinds[k].want {
					b.Fatalf("%s #%d: %d %v, want %d", kinds[k].name, j, code, err, kinds[k].want)
				}
				times[k] = append(times[k], d)
			}
		}
		base := median(times[0])
		for k, kind := range kinds {
			m := median(times[k])
			b.ReportMetric(float64(m.Microseconds())/1000, kind.name+"-ms")
			if k > 0 {
				b.ReportMetric(float64(m)/float64(base), kind.name+"/unknown")
			}
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkParallelLogins runs closed-loop clients that each log a user
// of their own in over and over (a client answered 503 waits its
// Retry-After; one login ID gets at most the lockout's threshold of
// checks at once), for a fresh server per client count, and reports the
// logins a second against the hash bound, the latency of the logins that
// succeeded (p50, p99) and the server's peak resident memory.
//
// of-hash-bound compares times, which other work on the machine can
// distort however the phases alternate; cpu-of-hash compares CPU time,
// which it cannot: the CPU time of one hash in the bound over the
// server's CPU time per login (every request it served counted). It is
// what of-hash-bound comes to when the server has the cores to itself
// and keeps them busy (clients at least the cores), and says what the
// login path costs beyond its hash at any load.
//
// The hash bound is what the argon2id hash alone allows at the same
// concurrency: a closed loop of as many goroutines as the server would
// hash for at once, the clients capped by the server's hashing gate (a
// slot per core, password.DefaultGate), each verifying a hash of Latch's
// parameters over and over, in this process, with the server idle. One
// client is bounded by one core: a login hashes with one lane (p=1, part
// of the stored hash), so it cannot use two. The bound and the load are
// measured in alternating phases, so that other work on the machine
// weighs on both alike.
func BenchmarkParallelLogins(b *testing.B) {
	const (
		rounds = 3
		hashes = 2 * time.Second // per round, for the bound
		load   = 3 * time.Second // per round, for the logins
	)
	gate := runtime.GOMAXPROCS(0) // the server's slots: it runs on this machine with the same environment
	for _, clients := range []int{1, 8, 32, 200} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			l := startBenchLatch(b)
			users := make([]string, clients)
			for i := range users {
				users[i] = fmt.Sprintf("user-%d@example.org", i)
				l.user(b, users[i], "correct horse battery")
			}
			idle := l.peakRSS(b)
			for b.Loop() {
				var hashed, ok, busy int64
				var hashTime, loadTime, hashCPU, serverCPU time.Duration
				var latencies []time.Duration
				for range rounds {
					cpu := selfCPU(b)
					n, d := hashLoop(min(clients, gate), hashes)
					hashed, hashTime, hashCPU = hashed+n, hashTime+d, hashCPU+selfCPU(b)-cpu
					cpu = l.cpu(b)
					r := l.loginLoop(b, users, load)
					ok, busy, loadTime = ok+int64(len(r.latencies)), busy+r.busy, loadTime+r.elapsed
					serverCPU += l.cpu(b) - cpu
					latencies = append(latencies, r.latencies...)
				}
				bound := float64(hashed) / hashTime.Seconds()
				rate := float64(ok) / loadTime.Seconds()
				b.ReportMetric(bound, "hash-bound/s")
				b.ReportMetric(rate, "logins/s")
				b.ReportMetric(rate/bound, "of-hash-bound")
				b.ReportMetric(float64(busy), "503s")
				if ok > 0 && serverCPU > 0 {
					b.ReportMetric((hashCPU.Seconds()/float64(hashed))/(serverCPU.Seconds()/float64(ok)), "cpu-of-hash")
				}
				slices.Sort(latencies)
				b.ReportMetric(quantile(latencies, 0.50).Seconds()*1000, "p50-ms")
				b.ReportMetric(quantile(latencies, 0.99).Seconds()*1000, "p99-ms")
			}
			b.ReportMetric(idle, "idle-MiB")
			b.ReportMetric(l.peakRSS(b), "peak-MiB")
		})
	}
}

// loginRun is what one phase of closed-loop logins gave: the latency of
// each login that succeeded, the 503s, and the phase's time, from its
// start until the last login in flight at its end was answered.
type loginRun struct {
	latencies []time.Duration
	busy      int64
	elapsed   time.Duration
}

// loginLoop runs a client per user, each logging its user in over and
// over for d (one answered 503 backs off a second, or until d is over).
func (l benchLatch) loginLoop(b *testing.B, users []string, d time.Duration) loginRun {
	var mu sync.Mutex
	var run loginRun
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for _, user := range users {
		wg.Go(func() {
			var mine []time.Duration
			var busy int64
			defer func() {
				mu.Lock()
				run.latencies, run.busy = append(run.latencies, mine...), run.busy+busy
				mu.Unlock()
			}()
			for time.Now().Before(stop) {
				code, took, err := l.login(user, "correct horse battery")
				switch {
				case err != nil:
					b.Error(err)
					return
				case code == http.StatusOK:
					mine = append(mine, took)
				case code == http.StatusServiceUnavailable:
					busy++
					// A client that gets 503 backs off as its
					// Retry-After (1 s) asks: the load's model, not a
					// wait for the server.
					time.Sleep(min(time.Second, time.Until(stop)))
				default:
					b.Errorf("login: %d", code)
					return
				}
			}
		})
	}
	wg.Wait()
	run.elapsed = time.Since(start)
	return run
}

// quantile is the q-quantile of sorted, or 0 when it is empty.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// hashLoop runs n goroutines that verify argon2id hashes of Latch's
// parameters over and over for d, and returns how many they verified and
// the time from the start until the last one finished.
func hashLoop(n int, d time.Duration) (int64, time.Duration) {
	var count atomic.Int64
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(stop) {
				password.VerifyDummy("correct horse battery")
				count.Add(1)
			}
		})
	}
	wg.Wait()
	return count.Load(), time.Since(start)
}
