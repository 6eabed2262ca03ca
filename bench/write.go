package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/latchid/latch/bench/report"
)

// write assembles the report and writes it to out, the chart beside it.
func (r *run) write(ctx context.Context, out string) error {
	rep := report.Report{
		Generated: time.Now(),
		Command:   commandLine(os.Args[1:]),
		Machine:   machine(),
		Versions:  r.versionRows(ctx),
		Notes:     r.notes,
		Method:    r.method(),
		Sections:  r.sections,
		Ratios: []report.Ratio{
			{Name: "`latch-refresh` ÷ `floor-refresh`", Of: tLatch, To: tFloor},
			{Name: "`latch-oauth-refresh` ÷ `floor-refresh`", Of: tLatchOAuth, To: tFloor},
			{Name: "`latch-refresh` ÷ `hydra-refresh`", Of: tLatch, To: tHydra},
			{Name: "`latch-oauth-refresh` ÷ `hydra-refresh`", Of: tLatchOAuth, To: tHydra},
			{Name: "`hydra-refresh` ÷ `floor-refresh`", Of: tHydra, To: tFloor},
			{Name: "`latch-refresh` ÷ `floor-nosync-refresh`", Of: tLatch, To: tCeiling},
			{Name: "`floor-nosync-refresh` ÷ `floor-refresh`", Of: tCeiling, To: tFloor},
			{Name: "`latch-login` ÷ `argon2id-bound`", Of: tLatchLogin, To: tHashBound},
		},
	}
	for _, t := range r.targets {
		rep.Targets = append(rep.Targets, report.Target{Name: t.name, Description: t.desc})
		for _, c := range r.cfg.concurrencies {
			if row, ok := t.row(c); ok {
				rep.Rows = append(rep.Rows, row)
			}
		}
	}
	// Peak memory: every server process, stopped now so that its
	// high-water mark is read last.
	r.close()
	seen := map[string]bool{}
	for _, c := range r.children {
		if c.peak > 0 && !seen[c.name] {
			seen[c.name] = true
			rep.Memory = append(rep.Memory, report.Memory{Server: c.name, Bytes: c.peak})
		}
	}
	if len(rep.Rows) > 0 {
		rep.ChartFile = "throughput.svg"
		var svg bytes.Buffer
		if err := rep.Chart().WriteSVG(&svg); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(out), rep.ChartFile), svg.Bytes(), 0o644); err != nil {
			return err
		}
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := os.WriteFile(out, md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench: wrote", out)
	return nil
}

func (r *run) method() []string {
	c := r.cfg
	return []string{
		fmt.Sprintf("One closed-loop load generator (`bench/load`) drives every operation: at concurrency *c*, *c* workers each send their next request as soon as the last was answered, over HTTP/1.1 keep-alive connections on loopback. Each round runs %s unmeasured, then %s measured, and counts the calls that end within the measured time (a call still in flight at its end is made but not counted); rounds are interleaved (every operation once at a concurrency, then again, %d times) and the tables give the median across rounds of throughput, p50 and p99 latency, and CPU per call.", c.warmup, c.duration, c.rounds),
		"Every refresh worker keeps its own refresh token chain: its first token comes from the server's own login (Hydra: an authorization code flow whose login and consent the bench accepts over Hydra's admin API; Latch: `/api/login`, or the `password` grant for `/oauth2/token`; the floor: `/issue`), and every rotation returns the next. A failed refresh is counted as an error and its worker starts a new chain.",
		"*CPU per call* is the server process's user plus system time (`/proc/<pid>/stat`) over the round, warm-up included, divided by the calls that succeeded in it; for `argon2id-bound` it is the bench's own process. The load generator shares the machine with the server it drives, so on few cores it takes CPU from the server: the ratios, measured in one run, are what carries over to another machine.",
		"The floor is the least a refresh endpoint can do (`bench/floor`): one SQLite writer (modernc.org/sqlite, as Latch uses), WAL with `synchronous=FULL` (an fsync per commit), a rotation that is one conditional `UPDATE` of the token's hash, and an ES256 JWT signed per refresh. `floor-nosync-refresh` is the same server with `synchronous=OFF`, no fsync at all (not durable): the ceiling of that work on this machine, which shows how much of the floor's time is its fsync and how much room a durable server has above the floor. Hydra runs on a SQLite file in WAL mode (`DSN=sqlite://…?_journal_mode=WAL&_txlock=immediate`), as its `DSN=memory` fails under concurrent refreshes. Latch runs `latch serve` with its SQLite in a fresh data directory, an application with `OneTimeUse` refresh tokens made by a kickstart, and its rate limits off (`--login-rate 0 --token-rate 0 --refresh-rate 0`).",
		"`latch-login` is compared with `argon2id-bound`: the same argon2id verification Latch's login spends (its `internal/password` parameters), in a closed loop at the same concurrency with no server. Latch's password gate admits as many hashes at once as it has cores and queues a bounded number more: past that queue, logins are answered 503 with `Retry-After: 1` and show as errors, and the worker refused waits that second before its next login, as an app told to come back later does (a worker that retried at once would measure its own retry storm: every refusal costs the server a request).",
	}
}

func (r *run) versionRows(ctx context.Context) [][2]string {
	rows := [][2]string{{"Latch", latchCommit(ctx)}, {"Ory Hydra", hydraVersion + " (built by `go build -tags sqlite,sqlite_omit_load_extension`)"}}
	rows = append(rows, [2]string{"SQLite (Latch, floor)", "modernc.org/sqlite " + moduleVersion(ctx, "..", "modernc.org/sqlite") + ", SQLite " + floorSQLiteVersion(ctx, r.tmp)})
	rows = append(rows, [2]string{"SQLite (Hydra)", "github.com/mattn/go-sqlite3 " + moduleVersion(ctx, ".", "github.com/mattn/go-sqlite3") + " (cgo)"})
	return append(rows, r.versions...)
}

// machine describes this machine.
func machine() report.Machine {
	m := report.Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// latchCommit names the commit Latch was built from, and whether the
// tree had changes.
func latchCommit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "-C", "..", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", "..", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

// moduleVersion is the version of module path in the build list of the
// module in dir.
func moduleVersion(ctx context.Context, dir, path string) string {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", path)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// commandLine is the command that ran, each argument quoted if it needs it.
func commandLine(args []string) string {
	out := []string{"go", "run", "."}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}
