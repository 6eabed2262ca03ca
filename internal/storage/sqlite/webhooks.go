package sqlite

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// CreateWebhook stores a webhook. ErrConflict if the id exists.
func (s *Store) CreateWebhook(ctx context.Context, w api.Webhook) error {
	doc, err := jsonText(w)
	if err == nil {
		_, err = s.w().ExecContext(ctx, "INSERT INTO webhooks (id, doc, inserted) VALUES (?, ?, ?)",
			w.ID, doc, time.Now().UnixMicro())
	}
	return wrapf(err, "create webhook %s", w.ID)
}

// scanWebhook reads the doc column of a webhooks row.
func scanWebhook(r rowScanner) (api.Webhook, error) {
	var w api.Webhook
	err := r.Scan(jsonCol{&w})
	return w, err
}

// GetWebhook returns a webhook. ErrNotFound if none has the id.
func (s *Store) GetWebhook(ctx context.Context, id string) (api.Webhook, error) {
	w, err := scanWebhook(s.r().QueryRowContext(ctx, "SELECT doc FROM webhooks WHERE id = ?", id))
	return w, wrapf(err, "get webhook %s", id)
}

// ListWebhooks returns every webhook in the order they were created.
func (s *Store) ListWebhooks(ctx context.Context) ([]api.Webhook, error) {
	rows, err := s.r().QueryContext(ctx, "SELECT doc FROM webhooks ORDER BY rowid")
	ws, err := collect(rows, err, scanWebhook)
	return ws, wrapf(err, "list webhooks")
}

// UpdateWebhook replaces a webhook. ErrNotFound if none has the id.
func (s *Store) UpdateWebhook(ctx context.Context, w api.Webhook) error {
	doc, err := jsonText(w)
	if err == nil {
		err = execOne(ctx, s.w(), "UPDATE webhooks SET doc = ? WHERE id = ?", doc, w.ID)
	}
	return wrapf(err, "update webhook %s", w.ID)
}

// DeleteWebhook deletes a webhook with its deliveries. ErrNotFound if none
// has the id.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return wrapf(execOne(ctx, s.w(), "DELETE FROM webhooks WHERE id = ?", id), "delete webhook %s", id)
}

// EnqueueEvent stores an event and a pending delivery of it per webhook
// (each id once), in one transaction (the caller's, inside Tx). With no
// webhook ids it stores nothing. ErrConflict if the event id exists;
// ErrNotFound if a webhook does not.
func (s *Store) EnqueueEvent(ctx context.Context, e storage.Event, webhookIDs []string) error {
	if len(webhookIDs) == 0 {
		return nil
	}
	if e.Created.IsZero() {
		return errors.New("sqlite: enqueue event: zero creation time")
	}
	ids := slices.Clone(webhookIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	err := s.atomic(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO webhook_events (id, tenant_id, type, payload, created, keep_until)
			VALUES (?, ?, ?, ?, ?, ?)`, e.ID, e.TenantID, e.Type, e.Payload, micros(e.Created), micros(e.KeepUntil)); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := q.ExecContext(ctx, `INSERT INTO webhook_deliveries (event_id, webhook_id, attempts, next_attempt, last_error)
				VALUES (?, ?, 0, ?, '')`, e.ID, id, micros(e.Created)); err != nil {
				return err
			}
		}
		return nil
	})
	return wrapf(err, "enqueue event %s", e.ID)
}

const eventCols = "id, tenant_id, type, payload, created, keep_until"

// scanEvent reads eventCols, then extra.
func scanEvent(r rowScanner, extra ...any) (storage.Event, error) {
	var e storage.Event
	err := r.Scan(append([]any{&e.ID, &e.TenantID, &e.Type, blobCol{&e.Payload}, timeCol{&e.Created}, timeCol{&e.KeepUntil}}, extra...)...)
	return e, err
}

// GetEvent returns an event. ErrNotFound if none has the id.
func (s *Store) GetEvent(ctx context.Context, id string) (storage.Event, error) {
	e, err := scanEvent(s.r().QueryRowContext(ctx, "SELECT "+eventCols+" FROM webhook_events WHERE id = ?", id))
	return e, wrapf(err, "get event %s", id)
}

// pendingOf is true for an event (e) with a delivery still due.
const pendingOf = `EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id
	AND d.delivered_at IS NULL AND d.abandoned_at IS NULL)`

// SearchEvents returns a page of the events q selects, and how many it
// selects. The query is built from a few fixed pieces (each filter on or
// off, the order), so the statement cache stays small.
func (s *Store) SearchEvents(ctx context.Context, q storage.EventQuery) ([]storage.LoggedEvent, int, error) {
	start, end := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Start.IsZero() {
		start = q.Start.UnixMicro()
	}
	if !q.End.IsZero() {
		end = q.End.UnixMicro()
	}
	where, args := " WHERE e.created >= ? AND e.created <= ?", []any{start, end}
	if q.TenantID != "" {
		where, args = where+" AND e.tenant_id = ?", append(args, q.TenantID)
	}
	if q.Type != "" {
		where, args = where+" AND e.type = ?", append(args, q.Type)
	}
	switch q.State {
	case storage.EventPending:
		where += " AND " + pendingOf
	case storage.EventSettled:
		where += " AND NOT " + pendingOf
	}
	var total int
	if err := s.r().QueryRowContext(ctx, "SELECT count(*) FROM webhook_events e"+where, args...).Scan(&total); err != nil {
		return nil, 0, wrapf(err, "search events")
	}
	if q.Limit <= 0 || q.Offset >= total {
		return nil, total, nil
	}
	dir := " ASC"
	if q.Descending {
		dir = " DESC"
	}
	order := " ORDER BY e.created" + dir + ", e.id" + dir
	switch q.Order {
	case storage.EventsByID:
		order = " ORDER BY e.id" + dir
	case storage.EventsByType:
		order = " ORDER BY e.type" + dir + ", e.created" + dir + ", e.id" + dir
	}
	rows, err := s.r().QueryContext(ctx, "SELECT e."+strings.ReplaceAll(eventCols, ", ", ", e.")+", "+pendingOf+
		" FROM webhook_events e"+where+order+" LIMIT ? OFFSET ?", append(args, q.Limit, max(q.Offset, 0))...)
	es, err := collect(rows, err, func(r rowScanner) (storage.LoggedEvent, error) {
		var le storage.LoggedEvent
		var err error
		le.Event, err = scanEvent(r, &le.Pending)
		return le, err
	})
	return es, total, wrapf(err, "search events")
}

const deliveryCols = "id, event_id, webhook_id, attempts, next_attempt, lease_until, delivered_at, abandoned_at, last_error"

// scanDelivery reads deliveryCols.
func scanDelivery(r rowScanner) (storage.Delivery, error) {
	var d storage.Delivery
	err := r.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.Attempts, timeCol{&d.NextAttempt}, timeCol{&d.LeaseUntil},
		timeCol{&d.Delivered}, timeCol{&d.Abandoned}, &d.LastError)
	return d, err
}

// ListDeliveries returns the deliveries of an event ("" for all), in the
// order they were enqueued.
func (s *Store) ListDeliveries(ctx context.Context, eventID string) ([]storage.Delivery, error) {
	query, args := "SELECT "+deliveryCols+" FROM webhook_deliveries ORDER BY id", []any(nil)
	if eventID != "" {
		query, args = "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE event_id = ? ORDER BY id", []any{eventID}
	}
	rows, err := s.r().QueryContext(ctx, query, args...)
	ds, err := collect(rows, err, scanDelivery)
	return ds, wrapf(err, "list deliveries of event %q", eventID)
}

// dueWhere selects the claimable deliveries at ?1 (now).
const dueWhere = `delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt <= ?1 AND coalesce(lease_until, 0) <= ?1`

// ClaimDeliveries leases up to limit due deliveries, in one write
// transaction (SQLite has one writer at a time, across processes too, so
// claims never overlap). An idle outbox costs one read, not a write.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]storage.ClaimedDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	n := now.UnixMicro()
	if s.txq == nil {
		due, err := exists(ctx, s.read, "SELECT 1 FROM webhook_deliveries WHERE "+dueWhere+" LIMIT 1", n)
		if err != nil || !due {
			return nil, wrapf(err, "claim deliveries")
		}
	}
	var out []storage.ClaimedDelivery
	err := s.atomic(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `UPDATE webhook_deliveries SET lease_until = ?2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM webhook_deliveries WHERE `+dueWhere+` ORDER BY next_attempt, id LIMIT ?3)
			RETURNING `+deliveryCols, n, micros(leaseUntil), limit)
		ds, err := collect(rows, err, scanDelivery)
		if err != nil {
			return err
		}
		events := map[string]storage.Event{}
		for _, d := range ds {
			e, ok := events[d.EventID]
			if !ok {
				if e, err = scanEvent(q.QueryRowContext(ctx, "SELECT "+eventCols+" FROM webhook_events WHERE id = ?", d.EventID)); err != nil {
					return err
				}
				events[d.EventID] = e
			}
			out = append(out, storage.ClaimedDelivery{Delivery: d, Event: e})
		}
		return nil
	})
	if err != nil {
		return nil, wrapf(err, "claim deliveries")
	}
	slices.SortFunc(out, func(a, b storage.ClaimedDelivery) int {
		return cmp.Or(a.NextAttempt.Compare(b.NextAttempt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// deliveryUpdate runs a conditional update of delivery id; when it changes
// nothing, the delivery is missing (ErrNotFound) or in the wrong state
// (ErrStale).
func (s *Store) deliveryUpdate(ctx context.Context, id int64, query string, args ...any) error {
	return s.atomic(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		ok, err := exists(ctx, q, "SELECT 1 FROM webhook_deliveries WHERE id = ?", id)
		switch {
		case err != nil:
			return err
		case ok:
			return storage.ErrStale
		default:
			return storage.ErrNotFound
		}
	})
}

// CompleteDelivery records a delivery's success and ends its lease.
func (s *Store) CompleteDelivery(ctx context.Context, id int64, at time.Time) error {
	err := s.deliveryUpdate(ctx, id, `UPDATE webhook_deliveries SET delivered_at = coalesce(delivered_at, ?), lease_until = NULL
		WHERE id = ? AND abandoned_at IS NULL`, micros(at), id)
	return wrapf(err, "complete delivery %d", id)
}

// RetryDelivery records a failed attempt and when to try again.
func (s *Store) RetryDelivery(ctx context.Context, id int64, nextAttempt time.Time, lastErr string) error {
	if nextAttempt.IsZero() {
		return errors.New("sqlite: retry delivery: zero next attempt")
	}
	err := s.deliveryUpdate(ctx, id, `UPDATE webhook_deliveries SET next_attempt = ?, last_error = ?, lease_until = NULL
		WHERE id = ? AND delivered_at IS NULL AND abandoned_at IS NULL`, micros(nextAttempt), lastErr, id)
	return wrapf(err, "retry delivery %d", id)
}

// AbandonDelivery gives a delivery up.
func (s *Store) AbandonDelivery(ctx context.Context, id int64, at time.Time, lastErr string) error {
	err := s.deliveryUpdate(ctx, id, `UPDATE webhook_deliveries SET abandoned_at = ?, last_error = ?, lease_until = NULL
		WHERE id = ? AND delivered_at IS NULL AND abandoned_at IS NULL`, micros(at), lastErr, id)
	return wrapf(err, "abandon delivery %d", id)
}

// collectOutbox deletes, on q, the deliveries delivered or abandoned before
// b (microseconds) and the events created and to be kept until before it
// with no delivery left.
func collectOutbox(ctx context.Context, q querier, b int64, out *storage.GCResult) error {
	res, err := q.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE delivered_at < ?1 OR abandoned_at < ?1", b)
	if err != nil {
		return err
	}
	if out.Deliveries, err = res.RowsAffected(); err != nil {
		return err
	}
	res, err = q.ExecContext(ctx, `DELETE FROM webhook_events WHERE created < ?1 AND coalesce(keep_until, 0) < ?1
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)`, b)
	if err != nil {
		return err
	}
	out.Events, err = res.RowsAffected()
	return err
}
