package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// The webhook event log (FusionAuth's Webhook Event Log API) is the
// outbox seen from outside: the events sent to webhooks, with whether a
// delivery is still due. A receiver that was down, or restarted, reads
// there the revocations it missed (guard's catch-up). A revocation event
// is kept for as long as the JWTs it concerns may live, delivered or not
// (keepUntil); the others go with their last delivery.

// Defaults of a search, as FusionAuth 1.57 has them.
const (
	defaultEventLogResults = 25
	defaultEventLogSpan    = time.Hour
)

// keepUntil is how long the outbox keeps an event written at `at`, past
// its deliveries: a jwt.refresh-token.revoke event until the JWTs issued
// before it have expired (the longest lifetime it names, or the longest a
// tenant or an application may set when it names none); other events not
// at all.
func keepUntil(ev any, at time.Time) time.Time {
	rev, ok := ev.(api.JWTRefreshTokenRevokeEvent)
	if !ok {
		return time.Time{}
	}
	ttl := 0
	for _, v := range rev.ApplicationTimeToLiveInSeconds {
		ttl = max(ttl, v)
	}
	if ttl <= 0 {
		ttl = maxTokenTTLSeconds
	}
	return at.Add(time.Duration(ttl) * time.Second)
}

// WebhookBody is the body of an event as POSTed to a webhook: the payload
// as stored, except that a jwt.refresh event goes without its access
// tokens (token, original) unless bearerSafe says that the receiver may
// have them (BearerSafeURL). The event log shows every event as a receiver
// that may not have them gets it.
func WebhookBody(e storage.Event, bearerSafe bool) ([]byte, error) {
	if e.Type != api.EventJWTRefresh || bearerSafe {
		return e.Payload, nil
	}
	var doc struct {
		Event map[string]json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(e.Payload, &doc); err != nil {
		return nil, fmt.Errorf("redact event %s: %w", e.ID, err)
	}
	delete(doc.Event, "token")
	delete(doc.Event, "original")
	return json.Marshal(doc)
}

// eventLogOrders are the orderBy columns a search takes.
var eventLogOrders = map[string]storage.EventOrder{
	"insertInstant": storage.EventsByCreated,
	"id":            storage.EventsByID,
	"eventType":     storage.EventsByType,
}

// eventLogQuery checks search criteria and turns them into a store query
// for the tenant ("" for every tenant's events). none reports criteria
// that no event can meet (eventResult Failed).
func (es events) eventLogQuery(tenantID string, c api.WebhookEventLogSearchCriteria) (q storage.EventQuery, none bool, err error) {
	errs := new(api.Errors)
	now := es.now()
	q = storage.EventQuery{TenantID: tenantID, Type: c.EventType, Order: storage.EventsByCreated, Descending: true,
		Offset: c.StartRow, Limit: c.NumberOfResults}
	if c.EventType != "" && !KnownEventType(c.EventType) {
		errs.Field("search.eventType", "invalid", fmt.Sprintf("The event type [%s] is not a known event type.", c.EventType))
	}
	if c.Event != "" {
		errs.Field("search.event", "invalid", "Latch does not search the events' text; select by eventType, start and end.")
	}
	switch c.EventResult {
	case "":
	case api.WebhookEventRunning:
		q.State = storage.EventPending
	case api.WebhookEventSucceeded:
		q.State = storage.EventSettled
	case api.WebhookEventFailed:
		none = true // Latch's events are never transactional
	default:
		errs.Field("search.eventResult", "invalid", fmt.Sprintf("The eventResult [%s] must be one of [%s, %s, %s].",
			c.EventResult, api.WebhookEventRunning, api.WebhookEventSucceeded, api.WebhookEventFailed))
	}
	switch {
	case c.NumberOfResults == 0:
		q.Limit = defaultEventLogResults
	case c.NumberOfResults < 0 || c.NumberOfResults > api.MaxWebhookEventLogResults:
		errs.Field("search.numberOfResults", "invalid", fmt.Sprintf("The numberOfResults must be between 1 and %d.", api.MaxWebhookEventLogResults))
	}
	if c.StartRow < 0 {
		errs.Field("search.startRow", "invalid", "The startRow must not be negative.")
	}
	if c.OrderBy != "" {
		col, dir, _ := strings.Cut(strings.TrimSpace(c.OrderBy), " ")
		order, ok := eventLogOrders[col]
		switch dir = strings.TrimSpace(dir); {
		case !ok:
			errs.Field("search.orderBy", "invalid", fmt.Sprintf("The orderBy [%s] must be insertInstant, id or eventType, then ASC or DESC.", c.OrderBy))
		case dir == "" || strings.EqualFold(dir, "ASC"):
			q.Order, q.Descending = order, false
		case strings.EqualFold(dir, "DESC"):
			q.Order, q.Descending = order, true
		default:
			errs.Field("search.orderBy", "invalid", fmt.Sprintf("The orderBy [%s] must be insertInstant, id or eventType, then ASC or DESC.", c.OrderBy))
		}
	}
	// By default, the hour up to the end of the current minute.
	q.End = now.Truncate(time.Minute).Add(time.Minute)
	if c.End != 0 {
		q.End = time.UnixMilli(c.End).UTC()
	}
	q.Start = now.Truncate(time.Minute).Add(-defaultEventLogSpan)
	if c.Start != 0 {
		q.Start = time.UnixMilli(c.Start).UTC()
	}
	if q.End.Before(q.Start) {
		errs.Field("search.end", "invalid", "The end must not be before the start.")
	}
	if c.End != 0 {
		// An instant in milliseconds covers its whole millisecond.
		q.End = q.End.Add(time.Millisecond - time.Microsecond)
	}
	return q, none, errs.Err()
}

// SearchEventLog returns a page of the events the criteria select, of the
// tenant ("" for every tenant's), newest first unless the criteria order
// otherwise, and how many they select.
func (s *Service) SearchEventLog(ctx context.Context, tenantID string, c api.WebhookEventLogSearchCriteria) (api.WebhookEventLogSearchResponse, error) {
	return s.events().searchEventLog(ctx, tenantID, c)
}

// searchEventLog is Service.SearchEventLog.
func (es events) searchEventLog(ctx context.Context, tenantID string, c api.WebhookEventLogSearchCriteria) (api.WebhookEventLogSearchResponse, error) {
	q, none, err := es.eventLogQuery(tenantID, c)
	if err != nil || none {
		return api.WebhookEventLogSearchResponse{WebhookEventLogs: []api.WebhookEventLog{}}, err
	}
	found, total, err := es.store.SearchEvents(ctx, q)
	if err != nil {
		return api.WebhookEventLogSearchResponse{}, err
	}
	out := api.WebhookEventLogSearchResponse{Total: int64(total), WebhookEventLogs: make([]api.WebhookEventLog, 0, len(found))}
	for _, e := range found {
		l, err := eventLog(e.Event, e.Pending)
		if err != nil {
			return api.WebhookEventLogSearchResponse{}, err
		}
		out.WebhookEventLogs = append(out.WebhookEventLogs, l)
	}
	return out, nil
}

// GetEventLog returns the event with the id, of the tenant when tenantID
// is set. ErrNotFound if there is none (or it is another tenant's).
func (s *Service) GetEventLog(ctx context.Context, tenantID, id string) (api.WebhookEventLog, error) {
	return s.events().getEventLog(ctx, tenantID, id)
}

// getEventLog is Service.GetEventLog.
func (es events) getEventLog(ctx context.Context, tenantID, id string) (api.WebhookEventLog, error) {
	if !ValidID(id) {
		return api.WebhookEventLog{}, fmt.Errorf("event %q: %w", id, storage.ErrNotFound)
	}
	e, err := es.store.GetEvent(ctx, id)
	if err != nil {
		return api.WebhookEventLog{}, err
	}
	if tenantID != "" && e.TenantID != tenantID {
		return api.WebhookEventLog{}, fmt.Errorf("event %s of another tenant: %w", id, storage.ErrNotFound)
	}
	ds, err := es.store.ListDeliveries(ctx, id)
	if err != nil {
		return api.WebhookEventLog{}, err
	}
	pending := false
	for _, d := range ds {
		pending = pending || (d.Delivered.IsZero() && d.Abandoned.IsZero())
	}
	return eventLog(e, pending)
}

// eventLog is the log entry of an event.
func eventLog(e storage.Event, pending bool) (api.WebhookEventLog, error) {
	body, err := WebhookBody(e, false)
	if err != nil {
		return api.WebhookEventLog{}, err
	}
	result := api.WebhookEventSucceeded
	if pending {
		result = api.WebhookEventRunning
	}
	return api.WebhookEventLog{ID: e.ID, Event: body, EventResult: result, EventType: e.Type, InsertInstant: millis(e.Created)}, nil
}
