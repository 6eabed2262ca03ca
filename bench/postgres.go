package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/bench/load"
	"github.com/latchid/latch/bench/report"
)

// postgres measures Latch nodes sharing one PostgreSQL database, made for
// the run and dropped after it: as many nodes as the largest count run at
// once, and a count of k sends the load to the first k, worker i to node
// i mod k, in interleaved rounds.
func (r *run) postgres(ctx context.Context) error {
	s, err := r.latchBuilt(ctx)
	if err != nil {
		return err
	}
	dbURL, drop, err := createDatabase(ctx, r.cfg.postgres)
	if err != nil {
		return err
	}
	defer drop()
	hc := newHTTPClient()
	maxNodes := 0
	for _, k := range r.cfg.nodes {
		maxNodes = max(maxNodes, k)
	}
	var nodes []*latch
	for i := range maxNodes {
		name := fmt.Sprintf("latch-pg-%d", i+1)
		r.p.set("postgres: starting %s", name)
		l, err := s.startLatch(ctx, name, filepath.Join(r.tmp, "pg", name), dbURL, i == 0)
		if err != nil {
			return err
		}
		r.keep(l.child)
		nodes = append(nodes, l)
	}
	n := r.maxC()
	// Every worker's chain starts on node 0: a session is the database's,
	// not a node's, and its refreshes go to whichever node the worker uses.
	r.p.set("postgres: %d logins", n*len(r.cfg.nodes))
	var targets []*target
	for _, k := range r.cfg.nodes {
		calls := make([]load.Call, n)
		for i := range calls {
			node := nodes[i%k]
			cs, err := chains(ctx, 1, func(ctx context.Context, _ int) (string, error) { return s.login(ctx, hc, nodes[0].base, i) },
				func(ctx context.Context, rt string) (string, error) { return refreshLatchAPI(ctx, hc, node.base, rt) })
			if err != nil {
				return err
			}
			calls[i] = cs[0]
		}
		var children []*child
		for _, l := range nodes[:k] {
			children = append(children, l.child)
		}
		targets = append(targets, &target{name: fmt.Sprintf("pg-%d-nodes", k), pids: pidsOf(children...), calls: calls})
	}
	if err := r.measure(ctx, "postgres", targets, r.cfg.concurrencies, nil); err != nil {
		return err
	}
	sec := report.Section{
		Title: "PostgreSQL: refresh over several nodes",
		Text: "`POST /api/jwt/refresh` spread over Latch nodes that share one PostgreSQL database (" +
			redact(r.cfg.postgres) + ", a database made for the run). CPU per call is the nodes' CPU time together; " +
			"PostgreSQL's own is not counted. On one machine the nodes, PostgreSQL and the load generator share its cores, " +
			"so this measures the cost of coordination through the database, not the gain of more machines.",
		Label: "nodes · concurrency",
	}
	for i, t := range targets {
		for _, c := range r.cfg.concurrencies {
			if row, ok := t.row(c); ok {
				sec.Rows = append(sec.Rows, row)
				sec.Labels = append(sec.Labels, fmt.Sprintf("%d · %d", r.cfg.nodes[i], c))
			}
		}
	}
	r.sections = append(r.sections, sec)
	return nil
}

// createDatabase makes a fresh database on the server admin names and
// returns its URL and a function that drops it.
func createDatabase(ctx context.Context, admin string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: %w", err)
	}
	name := fmt.Sprintf("latch_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("postgres: create database: %w", err)
	}
	conn.Close(ctx)
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

// redact drops a URL's password.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(a PostgreSQL URL)"
	}
	return u.Redacted()
}
