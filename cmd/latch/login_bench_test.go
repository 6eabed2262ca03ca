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
// checks at once), for a fresh server per client count, and reports the logins a second against
// the hash bound (argon2id verifications a second on every core, measured
// in this process just before each run, with the server idle) and the server's peak resident memory.
func BenchmarkParallelLogins(b *testing.B) {
	const load = 8 * time.Second
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
				bound := hashBound(3 * time.Second) // just before, with the server idle
				b.ReportMetric(bound, "hash-bound/s")
				var ok, busy atomic.Int64
				stop := time.Now().Add(load)
				var wg sync.WaitGroup
				for _, user := range users {
					wg.Go(func() {
						for time.Now().Before(stop) {
							code, _, err := l.login(user, "correct horse battery")
							switch {
							case err != nil:
								b.Error(err)
								return
							case code == http.StatusOK:
								ok.Add(1)
							case code == http.StatusServiceUnavailable:
								busy.Add(1)
								// A client that gets 503 backs off as its
								// Retry-After (1 s) asks: the load's model,
								// not a wait for the server.
								time.Sleep(time.Second)
							default:
								b.Errorf("login: %d", code)
								return
							}
						}
					})
				}
				wg.Wait()
				rate := float64(ok.Load()) / load.Seconds()
				b.ReportMetric(rate, "logins/s")
				b.ReportMetric(rate/bound, "of-hash-bound")
				b.ReportMetric(float64(busy.Load()), "503s")
			}
			b.ReportMetric(idle, "idle-MiB")
			b.ReportMetric(l.peakRSS(b), "peak-MiB")
		})
	}
}

// hashBound measures argon2id verifications a second with every core busy.
func hashBound(d time.Duration) float64 {
	var n atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(stop) {
				password.VerifyDummy("correct horse battery")
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}
