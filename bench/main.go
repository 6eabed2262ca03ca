// Command bench measures Latch beside its peers: Ory Hydra's refresh grant,
// a floor (the least a refresh endpoint can do), Latch's refresh and login,
// and the argon2id hash a login is bound by, with one closed-loop load
// generator at the same concurrencies in interleaved rounds. It writes
// BENCHMARKS.md and a chart. See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	duration, warmup time.Duration
	rounds           int
	concurrencies    []int
	servers          []string
	modes            []string
	out              string
	sessions         []int
	stateC           int
	nodes            []int
	postgres         string
	hydraJWT         bool
	note             string
	keep             bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == floorCommand {
		if err := serveFloor(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench floor:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runBench(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "\nbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured time of each round")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured time before each round's measured time")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds per operation and concurrency (the tables give medians across rounds)")
	cs := fs.String("c", "1,8,32,64,200", "concurrencies: closed-loop clients, comma-separated")
	servers := fs.String("servers", "hydra,floor,floor-nosync,latch", "servers to compare: hydra, floor, floor-nosync (the floor without fsync), latch (latch brings its login and the hash bound)")
	modes := fs.String("mode", "compare", "what to run, comma-separated: compare (the servers side by side), state (Latch's refresh over stored sessions), postgres (Latch nodes on one PostgreSQL), or all")
	fs.StringVar(&cfg.out, "out", "BENCHMARKS.md", "the report to write; the chart goes beside it as throughput.svg")
	sessions := fs.String("sessions", "10000,100000,1000000", "state mode: stored sessions, comma-separated")
	fs.IntVar(&cfg.stateC, "state-c", 8, "state mode: concurrency")
	nodes := fs.String("nodes", "1,2,3", "postgres mode: node counts, comma-separated")
	fs.StringVar(&cfg.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres mode: a server to create (and drop) a database of the run's own in")
	fs.BoolVar(&cfg.hydraJWT, "hydra-jwt", false, "Hydra issues JWT access tokens (RS256) instead of its default opaque ones")
	fs.StringVar(&cfg.note, "note", "", "a sentence for the top of the report (how the machine was used while it ran)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (binaries, databases, server logs)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	var err error
	if cfg.concurrencies, err = ints(*cs); err != nil {
		return cfg, fmt.Errorf("-c: %w", err)
	}
	if cfg.sessions, err = ints(*sessions); err != nil {
		return cfg, fmt.Errorf("-sessions: %w", err)
	}
	if cfg.nodes, err = ints(*nodes); err != nil {
		return cfg, fmt.Errorf("-nodes: %w", err)
	}
	cfg.servers = words(*servers)
	for _, s := range cfg.servers {
		if !slices.Contains([]string{"hydra", "floor", "floor-nosync", "latch"}, s) {
			return cfg, fmt.Errorf("-servers: unknown server %q", s)
		}
	}
	cfg.modes = words(*modes)
	if slices.Contains(cfg.modes, "all") {
		cfg.modes = []string{"compare", "state", "postgres"}
	}
	for _, m := range cfg.modes {
		if !slices.Contains([]string{"compare", "state", "postgres"}, m) {
			return cfg, fmt.Errorf("-mode: unknown mode %q", m)
		}
	}
	if cfg.rounds < 1 || cfg.duration <= 0 || cfg.warmup < 0 || cfg.stateC < 1 {
		return cfg, fmt.Errorf("-rounds, -duration and -state-c must be positive, -warmup not negative")
	}
	return cfg, nil
}

// ints parses a comma-separated list of positive integers, sorted.
func ints(s string) ([]int, error) {
	var out []int
	for _, w := range words(s) {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", w)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func words(s string) []string {
	var out []string
	for w := range strings.SplitSeq(s, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// runBench runs the modes asked for and writes the report.
func runBench(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "latch-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	p := newProgress()
	defer p.stop()
	r := newRun(cfg, tmp, p)
	defer r.close()
	for _, m := range cfg.modes {
		var err error
		switch m {
		case "compare":
			err = r.compare(ctx)
		case "state":
			err = r.state(ctx)
		case "postgres":
			err = r.postgres(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	p.stop()
	out, err := filepath.Abs(cfg.out)
	if err != nil {
		return err
	}
	return r.write(ctx, out)
}
