package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/latchid/latch/api"
)

// The Webhook Event Log API (FusionAuth's /api/system/webhook-event-log):
// the events sent to webhooks, for receivers that catch up on what they
// missed. A key locked to a tenant sees that tenant's events only (a Latch
// extension: FusionAuth takes only keys of every tenant); others see
// every tenant's, or the one X-FusionAuth-TenantId names.

// eventLogRoutes registers the event log's routes. Search is an endpoint
// of its own for API key permissions, as in FusionAuth.
func (s *Server) eventLogRoutes() {
	h := func(pattern string, fn handlerFunc) { s.mux.Handle(pattern, s.handle(authAPIKey, fn)) }
	h("POST /api/system/webhook-event-log/search", s.searchEventLog)
	h("GET /api/system/webhook-event-log/search", s.searchEventLog)
	h("GET /api/system/webhook-event-log/{id}", s.getEventLog)
}

// searchEventLog serves the search: criteria in a JSON body ({"search":
// {...}}) with POST, in query parameters with GET.
func (s *Server) searchEventLog(w http.ResponseWriter, r *http.Request) error {
	var req api.WebhookEventLogSearchRequest
	if r.Method == http.MethodPost {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	} else if err := eventLogQuery(r, &req.Search); err != nil {
		return err
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	resp, err := s.id.SearchEventLog(r.Context(), tenantID, req.Search)
	if err != nil {
		return err
	}
	// Events name users, and jwt.refresh-token.revoke events embed them.
	noStore(w)
	return writeJSON(w, http.StatusOK, resp)
}

// eventLogQuery reads search criteria from the query parameters.
func eventLogQuery(r *http.Request, c *api.WebhookEventLogSearchCriteria) error {
	errs := new(api.Errors)
	integer := func(name string, bits int) int64 {
		v := query(r, name)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			errs.Field("search."+name, "invalid", fmt.Sprintf("The [%s] parameter must be an integer.", name))
		}
		return n
	}
	c.Start, c.End = integer("start", 64), integer("end", 64)
	c.NumberOfResults, c.StartRow = int(integer("numberOfResults", 32)), int(integer("startRow", 32))
	c.Event, c.EventResult, c.EventType, c.OrderBy = query(r, "event"), query(r, "eventResult"), query(r, "eventType"), query(r, "orderBy")
	return errs.Err()
}

func (s *Server) getEventLog(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	l, err := s.id.GetEventLog(r.Context(), tenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, api.WebhookEventLogResponse{WebhookEventLog: l})
}
