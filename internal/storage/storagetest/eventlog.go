package storagetest

import (
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// testEventSearch checks SearchEvents: every filter, every order, paging,
// the total, and the pending state of each event.
func testEventSearch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	h1, h2 := mustCreateWebhook(t, s, "h1"), mustCreateWebhook(t, s, "h2")
	ta, tb := id("tenant-a"), id("tenant-b")
	mk := func(tenant, name, typ string, when time.Time) storage.Event {
		e := eventFixture(tenant, name, when)
		e.Type = typ
		if typ == api.EventJWTRefreshTokenRevoke {
			e.KeepUntil = when.Add(time.Hour)
		}
		mustOK(t, "EnqueueEvent "+name, s.EnqueueEvent(ctx, e, []string{h1.ID, h2.ID}))
		return e
	}
	// Created in this order; e1 and e2 in the same instant.
	e1 := mk(ta, "1", api.EventJWTRefreshTokenRevoke, at(time.Minute))
	e2 := mk(ta, "2", api.EventJWTRefresh, at(time.Minute))
	e3 := mk(tb, "3", api.EventJWTRefreshTokenRevoke, at(2*time.Minute))
	e4 := mk(ta, "4", api.EventJWTRefreshTokenRevoke, at(3*time.Minute))
	// e1 delivered to both webhooks, e3 delivered to one and abandoned by
	// the other: settled. e2 and e4 have deliveries due: pending.
	for _, d := range mustDeliveries(t, s, e1.ID) {
		mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, d.ID, at(time.Hour)))
	}
	ds := mustDeliveries(t, s, e3.ID)
	mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, ds[0].ID, at(time.Hour)))
	mustOK(t, "AbandonDelivery", s.AbandonDelivery(ctx, ds[1].ID, at(time.Hour), "gave up"))
	mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, mustDeliveries(t, s, e4.ID)[0].ID, at(time.Hour)))
	logged := map[string]storage.LoggedEvent{
		e1.ID: {Event: e1}, e2.ID: {Event: e2, Pending: true}, e3.ID: {Event: e3}, e4.ID: {Event: e4, Pending: true},
	}
	// byID is a list of the logged events in ascending id order.
	byID := func(es ...storage.Event) []storage.LoggedEvent {
		out := make([]storage.LoggedEvent, len(es))
		for i, e := range es {
			out[i] = logged[e.ID]
		}
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j].ID < out[i].ID {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	}
	// ordered lists the events in the given order, the two of one instant
	// (e1, e2) by id.
	first, second := byID(e1, e2)[0], byID(e1, e2)[1]
	asc := []storage.LoggedEvent{first, second, logged[e3.ID], logged[e4.ID]}
	desc := []storage.LoggedEvent{logged[e4.ID], logged[e3.ID], second, first}
	all := storage.EventQuery{Limit: 10}

	for _, c := range []struct {
		name  string
		q     storage.EventQuery
		want  []storage.LoggedEvent
		total int
	}{
		{"Everything", all, asc, 4},
		{"Descending", storage.EventQuery{Descending: true, Limit: 10}, desc, 4},
		{"ByID", storage.EventQuery{Order: storage.EventsByID, Limit: 10}, byID(e1, e2, e3, e4), 4},
		{"ByIDDescending", storage.EventQuery{Order: storage.EventsByID, Descending: true, Limit: 10},
			reverse(byID(e1, e2, e3, e4)), 4},
		{"ByType", storage.EventQuery{Order: storage.EventsByType, Limit: 10}, // jwt.refresh < jwt.refresh-token.revoke
			[]storage.LoggedEvent{logged[e2.ID], logged[e1.ID], logged[e3.ID], logged[e4.ID]}, 4},
		{"Tenant", storage.EventQuery{TenantID: ta, Limit: 10}, []storage.LoggedEvent{first, second, logged[e4.ID]}, 3},
		{"OtherTenant", storage.EventQuery{TenantID: tb, Limit: 10}, []storage.LoggedEvent{logged[e3.ID]}, 1},
		{"NoSuchTenant", storage.EventQuery{TenantID: id("tenant-c"), Limit: 10}, nil, 0},
		{"Type", storage.EventQuery{Type: api.EventJWTRefreshTokenRevoke, Limit: 10},
			[]storage.LoggedEvent{logged[e1.ID], logged[e3.ID], logged[e4.ID]}, 3},
		{"TypeAndTenant", storage.EventQuery{Type: api.EventJWTRefreshTokenRevoke, TenantID: ta, Limit: 10},
			[]storage.LoggedEvent{logged[e1.ID], logged[e4.ID]}, 2},
		{"StartIncluded", storage.EventQuery{Start: at(2 * time.Minute), Limit: 10}, asc[2:], 2},
		{"EndIncluded", storage.EventQuery{End: at(2 * time.Minute), Limit: 10}, asc[:3], 3},
		{"Between", storage.EventQuery{Start: at(time.Minute + time.Microsecond), End: at(3*time.Minute - time.Microsecond), Limit: 10},
			[]storage.LoggedEvent{logged[e3.ID]}, 1},
		{"Pending", storage.EventQuery{State: storage.EventPending, Limit: 10}, []storage.LoggedEvent{logged[e2.ID], logged[e4.ID]}, 2},
		{"Settled", storage.EventQuery{State: storage.EventSettled, Limit: 10}, []storage.LoggedEvent{logged[e1.ID], logged[e3.ID]}, 2},
		{"Page", storage.EventQuery{Offset: 1, Limit: 2}, asc[1:3], 4},
		{"LastPage", storage.EventQuery{Offset: 3, Limit: 2}, asc[3:], 4},
		{"PastTheEnd", storage.EventQuery{Offset: 4, Limit: 2}, nil, 4},
		{"CountOnly", storage.EventQuery{}, nil, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := s.SearchEvents(ctx, c.q)
			mustOK(t, "SearchEvents", err)
			mustEqual(t, "events", c.want, got)
			if total != c.total {
				t.Errorf("total = %d, want %d", total, c.total)
			}
			for _, e := range got {
				if string(e.Payload) != string(logged[e.ID].Payload) {
					t.Errorf("payload of %s = %s, want it verbatim", e.ID, e.Payload)
				}
			}
		})
	}

	// In a transaction, the transaction's own events are found.
	mustOK(t, "Tx", s.Tx(ctx, func(tx storage.Store) error {
		x := eventFixture(ta, "tx", at(4*time.Minute))
		if err := tx.EnqueueEvent(ctx, x, []string{h1.ID}); err != nil {
			return err
		}
		got, total, err := tx.SearchEvents(ctx, storage.EventQuery{Start: at(4 * time.Minute), Limit: 10})
		if err != nil {
			return err
		}
		mustEqual(t, "SearchEvents in a transaction", []storage.LoggedEvent{{Event: x, Pending: true}}, got)
		if total != 1 {
			t.Errorf("total in a transaction = %d, want 1", total)
		}
		return nil
	}))
}

// reverse returns s reversed.
func reverse[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// testEventKeepUntil checks that GarbageCollect keeps an event until its
// KeepUntil, whatever became of its deliveries, and that KeepUntil is
// stored and read back.
func testEventKeepUntil(t *testing.T, s storage.Store) {
	ctx := t.Context()
	h := mustCreateWebhook(t, s, "h")
	mk := func(name string, keep time.Time) storage.Event {
		e := eventFixture(id("tenant"), name, at(-48*time.Hour))
		e.KeepUntil = keep
		mustOK(t, "EnqueueEvent "+name, s.EnqueueEvent(ctx, e, []string{h.ID}))
		got, err := s.GetEvent(ctx, e.ID)
		mustOK(t, "GetEvent "+name, err)
		mustEqual(t, "GetEvent "+name, e, got)
		mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, mustDeliveries(t, s, e.ID)[0].ID, at(-47*time.Hour)))
		return e
	}
	gone := mk("gone", time.Time{})          // goes with its delivery
	kept := mk("kept", at(time.Hour))        // to be kept past the collection
	edge := mk("edge", t0)                   // to be kept until the collection's instant: kept
	lapsed := mk("lapsed", at(-time.Second)) // to be kept until before it: goes

	// Claims carry KeepUntil too.
	h2 := mustCreateWebhook(t, s, "h2")
	c := eventFixture(id("tenant"), "claimed", at(-time.Minute))
	c.KeepUntil = at(time.Hour)
	mustOK(t, "EnqueueEvent claimed", s.EnqueueEvent(ctx, c, []string{h2.ID}))
	cs := mustClaim(t, s, t0, 10, at(time.Minute))
	if len(cs) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(cs))
	}
	mustEqual(t, "claimed event", c, cs[0].Event)

	res, err := s.GarbageCollect(ctx, t0)
	mustOK(t, "GarbageCollect", err)
	mustEqual(t, "GarbageCollect result", storage.GCResult{Deliveries: 4, Events: 2}, res)
	for _, e := range []storage.Event{gone, lapsed} {
		_, err := s.GetEvent(ctx, e.ID)
		checkErr(t, "GetEvent of a collected event", err, storage.ErrNotFound)
	}
	for _, e := range []storage.Event{kept, edge, c} {
		got, err := s.GetEvent(ctx, e.ID)
		mustOK(t, "GetEvent of a kept event", err)
		mustEqual(t, "a kept event", e, got)
	}
	found, total, err := s.SearchEvents(ctx, storage.EventQuery{Limit: 10})
	mustOK(t, "SearchEvents", err)
	if total != 3 || len(found) != 3 || found[0].Pending || found[1].Pending || !found[2].Pending {
		t.Errorf("after GarbageCollect: %d events (%+v), want kept and edge settled, claimed pending", total, found)
	}
	res, err = s.GarbageCollect(ctx, at(2*time.Hour))
	mustOK(t, "second GarbageCollect", err)
	mustEqual(t, "second GarbageCollect result", storage.GCResult{Events: 2}, res)
}
