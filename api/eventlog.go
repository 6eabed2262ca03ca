package api

import "encoding/json"

// The Webhook Event Log API (FusionAuth 1.53+): the events Latch sent to
// webhooks, for a receiver that was down, or restarted, to catch up on.

// Results of an event in the log (FusionAuth's WebhookEventResult). Latch's
// events are never transactional (see TransactionNone), so an event is
// Running while a delivery of it is still due and Succeeded once every
// delivery was made or given up; Failed, which FusionAuth gives a
// transaction that rolled back, never occurs.
const (
	WebhookEventRunning   = "Running"
	WebhookEventSucceeded = "Succeeded"
	WebhookEventFailed    = "Failed"
)

// MaxWebhookEventLogResults is the largest numberOfResults a search takes.
const MaxWebhookEventLogResults = 1000

// WebhookEventLogSearchRequest is the body of POST
// /api/system/webhook-event-log/search.
type WebhookEventLogSearchRequest struct {
	Search WebhookEventLogSearchCriteria `json:"search"`
}

// WebhookEventLogSearchCriteria selects events of the log. Every member is
// optional; Latch does not support Event (FusionAuth's search in the
// body).
type WebhookEventLogSearchCriteria struct {
	// Start and End bound insertInstant (ms since the epoch, both
	// included); by default the hour before the current minute and the end
	// of the current minute, as FusionAuth 1.57 has them.
	Start int64 `json:"start,omitempty"`
	End   int64 `json:"end,omitempty"`
	// Event is FusionAuth's text search in the event; Latch refuses it.
	Event string `json:"event,omitempty"`
	// EventResult is one of the WebhookEvent* results.
	EventResult string `json:"eventResult,omitempty"`
	// EventType is an event type, such as EventJWTRefreshTokenRevoke.
	EventType string `json:"eventType,omitempty"`
	// NumberOfResults is the page size: 25 by default, at most
	// MaxWebhookEventLogResults.
	NumberOfResults int `json:"numberOfResults,omitempty"`
	// OrderBy is "insertInstant", "id" or "eventType", then optionally ASC
	// or DESC; "insertInstant DESC" by default.
	OrderBy string `json:"orderBy,omitempty"`
	// StartRow is the offset of the page's first event.
	StartRow int `json:"startRow,omitempty"`
}

// WebhookEventLogSearchResponse answers a search: one page of events, and
// how many match in all.
type WebhookEventLogSearchResponse struct {
	Total            int64             `json:"total"`
	WebhookEventLogs []WebhookEventLog `json:"webhookEventLogs"`
}

// WebhookEventLogResponse answers GET /api/system/webhook-event-log/{id}.
type WebhookEventLogResponse struct {
	WebhookEventLog WebhookEventLog `json:"webhookEventLog"`
}

// WebhookEventLog is one event of the log. Latch names it by its event's
// id and leaves out FusionAuth's attempt records and counters.
type WebhookEventLog struct {
	ID string `json:"id"`
	// Event is the request body POSTed to the webhooks, {"event": {...}}:
	// decode it as an EventRequest. A jwt.refresh event comes without its
	// token and original members, as webhooks on plain http get it.
	Event         json.RawMessage `json:"event"`
	EventResult   string          `json:"eventResult"`
	EventType     string          `json:"eventType"`
	InsertInstant int64           `json:"insertInstant"`
}
