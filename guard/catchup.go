package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/latchid/latch/api"
)

// Catching up on revocations (RevocationOptions.CatchUp). Latch sends each revocation
// to the webhook at least once, but the process that received it may be
// gone (a restart empties a MemoryRevocationStore), and a process that was
// down gets it only when Latch tries again. Latch keeps its revocation
// events in the webhook event log for as long as the JWTs they concern may
// live; guard reads them there (FusionAuth's POST
// /api/system/webhook-event-log/search, with the API key) and records them
// as the events handler does, deduplicated on the event id.
//
// The first catch-up covers the last DefaultRevocationTTL. It runs when a
// JWT that may have been revoked before the Guard was made is first
// presented; that request and those like it wait for it, and are refused
// with errRevocationsUnavailable should it fail. Later catch-ups cover the
// time since the previous one (with an overlap), every catchUpEvery while
// requests come, in the background: they pick up what a webhook delivery
// missed, or what another instance received into a store of its own. None
// runs while the backend is idle, and none is tied to a request's context.

const (
	// catchUpPath is the webhook event log's search, under LatchURL.
	catchUpPath = "/api/system/webhook-event-log/search"
	// catchUpEvery is how long after a catch-up the next one is due.
	catchUpEvery = time.Minute
	// catchUpRetry is the pause after a failed catch-up; it doubles with
	// each failure in a row, up to catchUpEvery.
	catchUpRetry = time.Second
	// catchUpOverlap is how far back into the previous catch-up's span the
	// next one searches again: an event is stamped when its transaction
	// begins, and found only once it commits.
	catchUpOverlap = time.Minute
	// catchUpPage is how many events one search returns.
	catchUpPage = 200
	// catchUpTimeout bounds one catch-up, all its pages.
	catchUpTimeout = 2 * time.Minute
	// maxCatchUpBytes caps one page of the log.
	maxCatchUpBytes = 32 << 20
)

// catchUp is the state of RevocationOptions.CatchUp.
type catchUp struct {
	url string // LatchURL + catchUpPath
	// issuedBy: the tokens issued before it (the Guard's making plus the
	// leeway, for Latch's clock) wait for the first catch-up; horizon:
	// those issued before it are older than any catch-up reaches.
	issuedBy, horizon int64

	mu       sync.Mutex
	done     bool          // a catch-up succeeded
	from     time.Time     // where the next search starts
	next     time.Time     // the next catch-up is not due before
	failures int           // failed catch-ups in a row
	err      error         // why the last one failed
	running  chan struct{} // closed when the catch-up under way ends; nil when none is
}

// newCatchUp is the state of a Guard made at now.
func newCatchUp(latchURL string, now time.Time, leeway time.Duration) *catchUp {
	horizon := now.Add(-DefaultRevocationTTL)
	return &catchUp{
		url:      latchURL + catchUpPath,
		issuedBy: now.Add(leeway).Unix(),
		horizon:  horizon.Unix(),
		from:     horizon.Add(-leeway),
	}
}

// awaitCatchUp makes sure that the revocations which may cover claims are
// known before they are looked up: those of a token issued before the
// Guard was made are known once a catch-up has succeeded, so it waits for
// one (starting it unless the last failure is too recent). Tokens issued
// later, and fresh ones (from guard's own refresh at Latch), need none.
// Each call also starts a catch-up in the background when one is due.
func (g *Guard) awaitCatchUp(ctx context.Context, c *api.Claims, fresh bool) error {
	cu := g.catchUp
	if cu == nil {
		return nil
	}
	old := !fresh && c.IssuedAt < cu.issuedBy
	if old && c.IssuedAt != 0 && c.IssuedAt < cu.horizon {
		return fmt.Errorf("%w: the token was issued more than %v before this process started to check tokens, "+
			"beyond the revocations it catches up on", errRevocationsUnavailable, DefaultRevocationTTL)
	}
	cu.mu.Lock()
	wait := g.startCatchUpLocked()
	if cu.done || !old {
		cu.mu.Unlock()
		return nil
	}
	err := cu.err
	cu.mu.Unlock()
	if wait == nil { // the last one failed lately
		return fmt.Errorf("%w: not caught up: %w", errRevocationsUnavailable, err)
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return ctx.Err()
	}
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if !cu.done {
		return fmt.Errorf("%w: not caught up: %w", errRevocationsUnavailable, cu.err)
	}
	return nil
}

// startCatchUpLocked returns the channel of the catch-up under way,
// starting one if it is due; nil when none runs or is due. cu.mu is held.
func (g *Guard) startCatchUpLocked() chan struct{} {
	cu := g.catchUp
	if cu.running != nil || g.now().Before(cu.next) {
		return cu.running
	}
	cu.running = make(chan struct{})
	go g.runCatchUp(cu.running, cu.from)
	return cu.running
}

// runCatchUp catches up from `from` to now, records the outcome, and
// closes done.
func (g *Guard) runCatchUp(done chan struct{}, from time.Time) {
	cu := g.catchUp
	began := g.now()
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	n, err := g.catchUpSpan(ctx, from, began.Add(g.leeway))
	cancel()

	cu.mu.Lock()
	defer close(done)
	defer cu.mu.Unlock()
	cu.running = nil
	if err == nil {
		if !cu.done {
			g.log.Info("guard: caught up on revocations", "events", n, "since", from)
		}
		cu.done, cu.failures, cu.err = true, 0, nil
		cu.from = began.Add(-g.leeway - catchUpOverlap)
		cu.next = g.now().Add(catchUpEvery)
		return
	}
	cu.failures++
	cu.err = err
	pause := catchUpRetry << min(cu.failures-1, 16)
	pause = min(pause, catchUpEvery)
	cu.next = g.now().Add(pause)
	switch {
	case errors.Is(err, errCatchUpRefused):
		g.log.Error("guard: Latch refused to show its webhook event log: Config.APIKey must be a valid key permitted to POST "+
			catchUpPath+"; until a catch-up succeeds, JWTs issued before this process started are refused "+
			"(503, or refreshed when the request carries a refresh token)", "err", err, "retryIn", pause)
	case !cu.done:
		g.log.Warn("guard: cannot catch up on revocations yet; JWTs issued before this process started are refused "+
			"(503, or refreshed when the request carries a refresh token) until it can", "err", err, "retryIn", pause)
	default:
		g.log.Warn("guard: cannot catch up on revocations", "err", err, "retryIn", pause)
	}
}

// errCatchUpRefused: Latch refused the search (401, 403, 404, or 400): a
// key without the permission, or a Latch (or FusionAuth) without the API.
var errCatchUpRefused = errors.New("guard: the webhook event log search was refused")

// catchUpSpan records the revocation events Latch logged from `from` to
// end (its clock), page after page, oldest first, and returns how many it
// read.
func (g *Guard) catchUpSpan(ctx context.Context, from, end time.Time) (int, error) {
	n := 0
	for row := 0; ; {
		page, err := g.searchRevocations(ctx, from, end, row)
		if err != nil {
			return n, err
		}
		for _, l := range page.WebhookEventLogs {
			var ev api.EventRequest[api.JWTRefreshTokenRevokeEvent]
			if err := json.Unmarshal(l.Event, &ev); err != nil || ev.Event.ID == "" || ev.Event.Type != api.EventJWTRefreshTokenRevoke {
				// Skipping it could let a revoked token through.
				return n, fmt.Errorf("event log entry %q is not a %s event", l.ID, api.EventJWTRefreshTokenRevoke)
			}
			if err := g.applyRevocation(ctx, ev.Event); err != nil {
				return n, fmt.Errorf("record revocation %s: %w", ev.Event.ID, err)
			}
			n++
		}
		row += len(page.WebhookEventLogs)
		if len(page.WebhookEventLogs) < catchUpPage || int64(row) >= page.Total {
			return n, nil
		}
	}
}

// searchRevocations asks Latch for one page of its logged
// jwt.refresh-token.revoke events.
func (g *Guard) searchRevocations(ctx context.Context, from, end time.Time, row int) (*api.WebhookEventLogSearchResponse, error) {
	body, err := json.Marshal(api.WebhookEventLogSearchRequest{Search: api.WebhookEventLogSearchCriteria{
		EventType: api.EventJWTRefreshTokenRevoke, Start: from.UnixMilli(), End: end.UnixMilli(),
		NumberOfResults: catchUpPage, StartRow: row, OrderBy: "insertInstant ASC",
	}})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.catchUp.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", g.apiKey)
	res, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errLatchUnavailable, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxCatchUpBytes+1))
	switch {
	case res.StatusCode == http.StatusOK:
	case res.StatusCode == http.StatusTooManyRequests, res.StatusCode >= 500:
		return nil, fmt.Errorf("%w: status %d", errLatchUnavailable, res.StatusCode)
	case res.StatusCode >= 400:
		return nil, fmt.Errorf("%w: status %d%s", errCatchUpRefused, res.StatusCode, errorCodes(b))
	default:
		return nil, fmt.Errorf("%w: status %d", errLatchUnavailable, res.StatusCode)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read answer: %w", errLatchUnavailable, err)
	}
	if len(b) > maxCatchUpBytes {
		return nil, fmt.Errorf("a page of the event log exceeds %d bytes", maxCatchUpBytes)
	}
	var page api.WebhookEventLogSearchResponse
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, fmt.Errorf("the answer is not a webhook event log search response: %v", err)
	}
	return &page, nil
}
