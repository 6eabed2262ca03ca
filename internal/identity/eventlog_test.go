package identity

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// Search criteria as the store gets them: FusionAuth's defaults (25 a
// page, newest first, the hour up to the end of the current minute),
// millisecond instants that cover their whole millisecond, the tenant.
func TestEventLogQuery(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 30, 15, 123456000, time.UTC)
	s := events{now: func() time.Time { return now }}
	minute := now.Truncate(time.Minute)
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	for _, c := range []struct {
		name string
		in   api.WebhookEventLogSearchCriteria
		want storage.EventQuery
		none bool
	}{
		{"Defaults", api.WebhookEventLogSearchCriteria{},
			storage.EventQuery{TenantID: "t", Start: minute.Add(-time.Hour), End: minute.Add(time.Minute), Descending: true, Limit: 25}, false},
		{"Given", api.WebhookEventLogSearchCriteria{EventType: api.EventJWTRefreshTokenRevoke, Start: ms(minute.Add(-2 * time.Hour)),
			End: ms(minute), NumberOfResults: 200, StartRow: 400, OrderBy: "insertInstant ASC", EventResult: api.WebhookEventRunning},
			storage.EventQuery{TenantID: "t", Type: api.EventJWTRefreshTokenRevoke, Start: minute.Add(-2 * time.Hour),
				End: minute.Add(time.Millisecond - time.Microsecond), State: storage.EventPending, Offset: 400, Limit: 200}, false},
		{"ByIDDescending", api.WebhookEventLogSearchCriteria{OrderBy: "id desc", EventResult: api.WebhookEventSucceeded},
			storage.EventQuery{TenantID: "t", Start: minute.Add(-time.Hour), End: minute.Add(time.Minute), Order: storage.EventsByID,
				Descending: true, State: storage.EventSettled, Limit: 25}, false},
		{"ByType", api.WebhookEventLogSearchCriteria{OrderBy: "eventType"},
			storage.EventQuery{TenantID: "t", Start: minute.Add(-time.Hour), End: minute.Add(time.Minute), Order: storage.EventsByType, Limit: 25}, false},
		{"FailedIsNone", api.WebhookEventLogSearchCriteria{EventResult: api.WebhookEventFailed},
			storage.EventQuery{TenantID: "t", Start: minute.Add(-time.Hour), End: minute.Add(time.Minute), Descending: true, Limit: 25}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, none, err := s.eventLogQuery("t", c.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" || none != c.none {
				t.Errorf("none = %v, want %v; query (-want +got):\n%s", none, c.none, d)
			}
		})
	}
}

// A revocation is kept until its JWTs have expired: the longest lifetime
// it names, or the longest a tenant may set; other events not past their
// deliveries.
func TestKeepUntil(t *testing.T) {
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		ev   any
		want time.Time
	}{
		{"OneApplication", api.JWTRefreshTokenRevokeEvent{ApplicationTimeToLiveInSeconds: map[string]int{"a": 900}}, at.Add(900 * time.Second)},
		{"TheLongest", api.JWTRefreshTokenRevokeEvent{ApplicationTimeToLiveInSeconds: map[string]int{"a": 900, "b": 7200}}, at.Add(2 * time.Hour)},
		{"NoneNamed", api.JWTRefreshTokenRevokeEvent{}, at.Add(maxTokenTTLSeconds * time.Second)},
		{"OtherEvent", api.JWTRefreshEvent{}, time.Time{}},
	} {
		if got := keepUntil(c.ev, at); !got.Equal(c.want) {
			t.Errorf("%s: keepUntil = %v, want %v", c.name, got, c.want)
		}
	}
}
