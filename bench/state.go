package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/bench/report"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
)

// state measures Latch's refresh over databases that hold different
// numbers of sessions: a Latch per size, each prefilled through Latch's
// storage package while it is stopped, measured in interleaved rounds.
func (r *run) state(ctx context.Context) error {
	s, err := r.latchBuilt(ctx)
	if err != nil {
		return err
	}
	hc := newHTTPClient()
	c := r.cfg.stateC
	var targets []*target
	var labels []string
	for _, size := range r.cfg.sessions {
		name := fmt.Sprintf("latch-%d", size)
		dir := filepath.Join(r.tmp, "state", name)
		r.p.set("state: kickstarting %s", name)
		l, err := s.startLatch(ctx, name, dir, "", true)
		if err != nil {
			return err
		}
		tenant, user, err := s.ids(ctx, hc, l.base)
		l.stop()
		if err != nil {
			return err
		}
		began := time.Now()
		if err := prefill(ctx, filepath.Join(dir, "latch.db"), tenant, user, s.appID, size, func(done int) {
			r.p.set("state: prefilling %s: %d/%d sessions", name, done, size)
		}); err != nil {
			return err
		}
		r.p.note("state: %d sessions stored in %s", size, time.Since(began).Round(100*time.Millisecond))
		l, err = s.startLatch(ctx, name, dir, "", false)
		if err != nil {
			return err
		}
		r.keep(l.child)
		calls, err := chains(ctx, c, func(ctx context.Context, i int) (string, error) { return s.login(ctx, hc, l.base, i) },
			func(ctx context.Context, rt string) (string, error) { return refreshLatchAPI(ctx, hc, l.base, rt) })
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		targets = append(targets, &target{name: name, pids: pidsOf(l.child), calls: calls})
		labels = append(labels, fmt.Sprint(size))
	}
	if err := r.measure(ctx, "state", targets, []int{c}, nil); err != nil {
		return err
	}
	sec := report.Section{
		Title: "Refresh against stored sessions (SQLite)",
		Text: fmt.Sprintf("`POST /api/jwt/refresh` at concurrency %d on Latches whose databases hold these many sessions "+
			"(stored through Latch's `internal/storage/sqlite` before the server starts), measured in interleaved rounds. "+
			"Target: p50 flat within 20%% from the fewest to the most.", c),
		Label: "stored sessions",
	}
	for _, t := range targets {
		row, _ := t.row(c)
		sec.Rows = append(sec.Rows, row)
	}
	sec.Labels = labels
	if n := len(sec.Rows); n > 1 {
		first, last := sec.Rows[0], sec.Rows[n-1]
		verdict := "within"
		p50 := float64(last.P50) / float64(first.P50)
		if p50 > 1.2 || p50 < 1/1.2 {
			verdict = "outside"
		}
		sec.Summary = fmt.Sprintf("From %s to %s sessions: p50 ratio %.2f×, throughput ratio %.2f×: %s the 20%% target.",
			labels[0], labels[n-1], p50, last.Throughput/first.Throughput, verdict)
	}
	r.sections = append(r.sections, sec)
	return nil
}

// ids returns the tenant of the bench application and the first user's id.
func (s *latchSetup) ids(ctx context.Context, hc *http.Client, base string) (tenant, user string, err error) {
	var app struct {
		Application struct {
			TenantID string `json:"tenantId"`
		} `json:"application"`
	}
	if err := s.admin(ctx, hc, base+"/api/application/"+s.appID, &app); err != nil {
		return "", "", err
	}
	var u struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := s.admin(ctx, hc, base+"/api/user?email="+s.email(0), &u); err != nil {
		return "", "", err
	}
	if app.Application.TenantID == "" || u.User.ID == "" {
		return "", "", fmt.Errorf("latch: no tenant or user id in the answers")
	}
	return app.Application.TenantID, u.User.ID, nil
}

// admin GETs an API path with the kickstart's API key.
func (s *latchSetup) admin(ctx context.Context, hc *http.Client, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", s.apiKey)
	return do(hc, req, out)
}

// prefill adds sessions to Latch's SQLite database at path until it holds
// n (live, one-time-use, a month to live), a transaction per 10,000.
func prefill(ctx context.Context, path, tenant, user, app string, n int, progress func(int)) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	existing, err := st.ListSessions(ctx, storage.SessionFilter{UserID: user})
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	const batch = 10000
	for done := len(existing); done < n; {
		k := min(batch, n-done)
		err := st.Tx(ctx, func(tx storage.Store) error {
			for range k {
				secret := make([]byte, 32)
				_, _ = rand.Read(secret)
				h := sha256.Sum256(secret)
				if err := tx.CreateSession(ctx, storage.Session{
					ID: uuid.NewString(), TenantID: tenant, UserID: user, ApplicationID: app,
					TokenHash: h[:], Inserted: now, StartInstant: now, ExpiresAt: now.Add(30 * 24 * time.Hour),
					AuthTime: now, AuthenticationType: "PASSWORD", LastUsed: now,
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("prefill: %w", err)
		}
		done += k
		progress(done)
	}
	return nil
}
