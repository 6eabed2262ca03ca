package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// CreateWebhook stores a webhook. ErrConflict if the id exists.
func (s *Store) CreateWebhook(ctx context.Context, w api.Webhook) error {
	doc, err := jsonDoc(w)
	if err == nil {
		_, err = s.write(ctx, "INSERT INTO webhooks (id, doc) VALUES ($1, $2)", []any{w.ID, doc})
	}
	return wrapf(err, "create webhook %s", w.ID)
}

// scanWebhook reads the doc column of a webhooks row.
func scanWebhook(r pgx.Row) (api.Webhook, error) {
	var w api.Webhook
	err := r.Scan(jsonCol{&w})
	return w, err
}

// GetWebhook returns a webhook. ErrNotFound if none has the id.
func (s *Store) GetWebhook(ctx context.Context, id string) (api.Webhook, error) {
	w, err := get(ctx, s, "SELECT doc FROM webhooks WHERE id = $1", []any{id}, scanWebhook)
	return w, wrapf(err, "get webhook %s", id)
}

// ListWebhooks returns every webhook in the order they were created.
func (s *Store) ListWebhooks(ctx context.Context) ([]api.Webhook, error) {
	ws, err := list(ctx, s, "SELECT doc FROM webhooks ORDER BY seq", nil, scanWebhook)
	return ws, wrapf(err, "list webhooks")
}

// UpdateWebhook replaces a webhook. ErrNotFound if none has the id.
func (s *Store) UpdateWebhook(ctx context.Context, w api.Webhook) error {
	doc, err := jsonDoc(w)
	if err == nil {
		err = execOne(s.exec(ctx, "UPDATE webhooks SET doc = $1 WHERE id = $2", doc, w.ID))
	}
	return wrapf(err, "update webhook %s", w.ID)
}

// DeleteWebhook deletes a webhook with its deliveries. ErrNotFound if none
// has the id.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM webhooks WHERE id = $1", id)), "delete webhook %s", id)
}

// EnqueueEvent stores an event and a pending delivery of it per webhook
// (each id once), in one statement. With no webhook ids it stores nothing.
// ErrConflict if the event id exists; ErrNotFound if a webhook does not.
func (s *Store) EnqueueEvent(ctx context.Context, e storage.Event, webhookIDs []string) error {
	if len(webhookIDs) == 0 {
		return nil
	}
	if e.Created.IsZero() {
		return errors.New("postgres: enqueue event: zero creation time")
	}
	ids := slices.Clone(webhookIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	_, err := s.write(ctx, `WITH e AS (
			INSERT INTO webhook_events (id, tenant_id, type, payload, created, keep_until) VALUES ($1, $2, $3, $4, $5, $7)
			RETURNING id
		)
		INSERT INTO webhook_deliveries (event_id, webhook_id, attempts, next_attempt, last_error)
		SELECT e.id, w.id, 0, $5, '' FROM e, unnest($6::text[]) WITH ORDINALITY AS w (id, n) ORDER BY w.n`,
		[]any{e.ID, e.TenantID, e.Type, e.Payload, ts(e.Created), ids, ts(e.KeepUntil)})
	return wrapf(err, "enqueue event %s", e.ID)
}

const eventCols = "id, tenant_id, type, payload, created, keep_until"

// scanEvent reads eventCols, after extra.
func scanEvent(r pgx.Row, extra ...any) (storage.Event, error) {
	var e storage.Event
	err := r.Scan(append(extra, &e.ID, &e.TenantID, &e.Type, blobCol{&e.Payload}, timeCol{&e.Created}, timeCol{&e.KeepUntil})...)
	return e, err
}

// scanEventRow is scanEvent for get.
func scanEventRow(r pgx.Row) (storage.Event, error) { return scanEvent(r) }

// GetEvent returns an event. ErrNotFound if none has the id.
func (s *Store) GetEvent(ctx context.Context, id string) (storage.Event, error) {
	e, err := get(ctx, s, "SELECT "+eventCols+" FROM webhook_events WHERE id = $1", []any{id}, scanEventRow)
	return e, wrapf(err, "get event %s", id)
}

// pendingOf is true for an event (e) with a delivery still due.
const pendingOf = `EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id
	AND d.delivered_at IS NULL AND d.abandoned_at IS NULL)`

// SearchEvents returns a page of the events q selects, and how many it
// selects, from one snapshot (a window count beside the page; a second
// count only when the page is past the end).
func (s *Store) SearchEvents(ctx context.Context, q storage.EventQuery) ([]storage.LoggedEvent, int, error) {
	where, args := " WHERE true", []any{}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !q.Start.IsZero() {
		where += " AND e.created >= " + arg(ts(q.Start))
	}
	if !q.End.IsZero() {
		where += " AND e.created <= " + arg(ts(q.End))
	}
	if q.TenantID != "" {
		where += " AND e.tenant_id = " + arg(q.TenantID)
	}
	if q.Type != "" {
		where += " AND e.type = " + arg(q.Type)
	}
	switch q.State {
	case storage.EventPending:
		where += " AND " + pendingOf
	case storage.EventSettled:
		where += " AND NOT " + pendingOf
	}
	filter := slices.Clone(args) // the page's LIMIT and OFFSET come after
	count := func() (int, error) {
		var n int
		err := s.read(func(qr querier) error {
			return qr.QueryRow(ctx, "SELECT count(*) FROM webhook_events e"+where, filter...).Scan(&n)
		})
		return n, err
	}
	if q.Limit <= 0 {
		total, err := count()
		return nil, total, wrapf(err, "search events")
	}
	dir := " ASC"
	if q.Descending {
		dir = " DESC"
	}
	// Ids and types compare byte for byte, as in the sqlite backend,
	// whatever the database's collation.
	id := ` e.id COLLATE "C"` + dir
	order := " ORDER BY e.created" + dir + "," + id
	switch q.Order {
	case storage.EventsByID:
		order = " ORDER BY" + id
	case storage.EventsByType:
		order = ` ORDER BY e.type COLLATE "C"` + dir + ", e.created" + dir + "," + id
	}
	total := 0
	es, err := list(ctx, s, "SELECT count(*) OVER (), "+pendingOf+", e."+strings.ReplaceAll(eventCols, ", ", ", e.")+
		" FROM webhook_events e"+where+order+" LIMIT "+arg(q.Limit)+" OFFSET "+arg(max(q.Offset, 0)), args,
		func(r pgx.Row) (storage.LoggedEvent, error) {
			var le storage.LoggedEvent
			var err error
			le.Event, err = scanEvent(r, &total, &le.Pending)
			return le, err
		})
	if err == nil && len(es) == 0 {
		total, err = count()
	}
	return es, total, wrapf(err, "search events")
}

const deliveryCols = "id, event_id, webhook_id, attempts, next_attempt, lease_until, delivered_at, abandoned_at, last_error"

// deliveryDest are the scan destinations of deliveryCols into d.
func deliveryDest(d *storage.Delivery) []any {
	return []any{&d.ID, &d.EventID, &d.WebhookID, &d.Attempts, timeCol{&d.NextAttempt}, timeCol{&d.LeaseUntil},
		timeCol{&d.Delivered}, timeCol{&d.Abandoned}, &d.LastError}
}

// scanDelivery reads deliveryCols.
func scanDelivery(r pgx.Row) (storage.Delivery, error) {
	var d storage.Delivery
	err := r.Scan(deliveryDest(&d)...)
	return d, err
}

// ListDeliveries returns the deliveries of an event ("" for all), in the
// order they were enqueued.
func (s *Store) ListDeliveries(ctx context.Context, eventID string) ([]storage.Delivery, error) {
	query, args := "SELECT "+deliveryCols+" FROM webhook_deliveries ORDER BY id", []any(nil)
	if eventID != "" {
		query, args = "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE event_id = $1 ORDER BY id", []any{eventID}
	}
	ds, err := list(ctx, s, query, args, scanDelivery)
	return ds, wrapf(err, "list deliveries of event %q", eventID)
}

// ClaimDeliveries leases up to limit due deliveries in one statement. The
// candidates are locked FOR UPDATE SKIP LOCKED, so nodes claiming at once
// take disjoint rows without waiting for each other; a row another node
// leased in the meantime fails the re-checked condition and is skipped.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]storage.ClaimedDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := list(ctx, s, `WITH claimed AS (
			UPDATE webhook_deliveries SET lease_until = $2, attempts = attempts + 1
			WHERE id IN (
				SELECT id FROM webhook_deliveries
				WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt <= $1
					AND (lease_until IS NULL OR lease_until <= $1)
				ORDER BY next_attempt, id LIMIT $3
				FOR UPDATE SKIP LOCKED
			)
			RETURNING `+deliveryCols+`
		)
		SELECT c.id, c.event_id, c.webhook_id, c.attempts, c.next_attempt, c.lease_until, c.delivered_at,
			c.abandoned_at, c.last_error, e.id, e.tenant_id, e.type, e.payload, e.created, e.keep_until
		FROM claimed c JOIN webhook_events e ON e.id = c.event_id`,
		[]any{ts(now), ts(leaseUntil), limit},
		func(r pgx.Row) (storage.ClaimedDelivery, error) {
			var c storage.ClaimedDelivery
			var err error
			c.Event, err = scanEvent(r, deliveryDest(&c.Delivery)...)
			return c, err
		})
	if err != nil {
		return nil, wrapf(err, "claim deliveries")
	}
	slices.SortFunc(out, func(a, b storage.ClaimedDelivery) int {
		return cmp.Or(a.NextAttempt.Compare(b.NextAttempt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// deliveryUpdate runs set (the SET list, its arguments from $2) on
// delivery id when cond holds, in one statement; when it changes nothing,
// the delivery is missing (ErrNotFound) or in the wrong state (ErrStale).
func (s *Store) deliveryUpdate(ctx context.Context, id int64, set, cond string, args ...any) error {
	var changed, exists bool
	err := s.read(func(q querier) error {
		return q.QueryRow(ctx, `WITH u AS (
				UPDATE webhook_deliveries SET `+set+` WHERE id = $1 AND `+cond+` RETURNING 1
			)
			SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)`,
			append([]any{id}, args...)...).Scan(&changed, &exists)
	})
	return cmp.Or(err, staleOrMissing(changed, exists))
}

// CompleteDelivery records a delivery's success and ends its lease.
func (s *Store) CompleteDelivery(ctx context.Context, id int64, at time.Time) error {
	err := s.deliveryUpdate(ctx, id, "delivered_at = coalesce(delivered_at, $2), lease_until = NULL",
		"abandoned_at IS NULL", ts(at))
	return wrapf(err, "complete delivery %d", id)
}

// RetryDelivery records a failed attempt and when to try again.
func (s *Store) RetryDelivery(ctx context.Context, id int64, nextAttempt time.Time, lastErr string) error {
	if nextAttempt.IsZero() {
		return errors.New("postgres: retry delivery: zero next attempt")
	}
	err := s.deliveryUpdate(ctx, id, "next_attempt = $2, last_error = $3, lease_until = NULL",
		"delivered_at IS NULL AND abandoned_at IS NULL", ts(nextAttempt), lastErr)
	return wrapf(err, "retry delivery %d", id)
}

// AbandonDelivery gives a delivery up.
func (s *Store) AbandonDelivery(ctx context.Context, id int64, at time.Time, lastErr string) error {
	err := s.deliveryUpdate(ctx, id, "abandoned_at = $2, last_error = $3, lease_until = NULL",
		"delivered_at IS NULL AND abandoned_at IS NULL", ts(at), lastErr)
	return wrapf(err, "abandon delivery %d", id)
}

// collectOutbox deletes the deliveries delivered or abandoned before
// before, then the events created and to be kept until before it with no
// delivery left.
func (s *Store) collectOutbox(ctx context.Context, before time.Time, out *storage.GCResult) error {
	b := before.UTC().Truncate(time.Microsecond)
	tag, err := s.exec(ctx, "DELETE FROM webhook_deliveries WHERE delivered_at < $1 OR abandoned_at < $1", b)
	if err != nil {
		return err
	}
	out.Deliveries = tag.RowsAffected()
	tag, err = s.exec(ctx, `DELETE FROM webhook_events e WHERE e.created < $1 AND (e.keep_until IS NULL OR e.keep_until < $1)
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)`, b)
	if err != nil {
		return err
	}
	out.Events = tag.RowsAffected()
	return nil
}
