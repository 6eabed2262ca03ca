package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// webhookFixture is a webhook named name, every field set.
func webhookFixture(name string) api.Webhook {
	return api.Webhook{
		ID:                         id(name),
		URL:                        "https://hooks.example.com/" + name,
		Description:                "Webhook " + name,
		ConnectTimeout:             1000,
		ReadTimeout:                2000,
		Headers:                    map[string]string{"X-Api-Key": "secret-" + name, "X-Other": "o"},
		HTTPAuthenticationUsername: "user-" + name,
		HTTPAuthenticationPassword: "password-" + name,
		EventsEnabled:              map[string]bool{api.EventJWTRefreshTokenRevoke: true, api.EventJWTRefresh: false},
		Global:                     false,
		TenantIDs:                  []string{id("tenant-a"), id("tenant-b")},
		SignatureConfiguration:     api.WebhookSignatureConfiguration{Enabled: true, SigningKeyID: id("key-" + name)},
		Data:                       map[string]any{"owner": "shop", "n": float64(2)},
		InsertInstant:              t0.UnixMilli(),
		LastUpdateInstant:          at(time.Minute).UnixMilli(),
	}
}

// eventFixture is an event named name of the tenant, created at when. Its
// payload is JSON with an unusual member order and spacing, which must come
// back byte for byte.
func eventFixture(tenantID, name string, when time.Time) storage.Event {
	return storage.Event{
		ID:       id("event-" + name),
		TenantID: tenantID,
		Type:     api.EventJWTRefreshTokenRevoke,
		Payload:  []byte(fmt.Sprintf(`{"event": {"type":"jwt.refresh-token.revoke", "id":%q,  "z":1, "a":[true]}}`, id("event-"+name))),
		Created:  when,
	}
}

func mustCreateWebhook(t *testing.T, s storage.Store, name string) api.Webhook {
	t.Helper()
	w := webhookFixture(name)
	mustOK(t, "CreateWebhook "+name, s.CreateWebhook(t.Context(), w))
	return w
}

func mustDeliveries(t *testing.T, s storage.Store, eventID string) []storage.Delivery {
	t.Helper()
	ds, err := s.ListDeliveries(t.Context(), eventID)
	mustOK(t, "ListDeliveries "+eventID, err)
	return ds
}

func mustClaim(t *testing.T, s storage.Store, now time.Time, limit int, lease time.Time) []storage.ClaimedDelivery {
	t.Helper()
	cs, err := s.ClaimDeliveries(t.Context(), now, limit, lease)
	mustOK(t, "ClaimDeliveries", err)
	return cs
}

// claimedIDs are the delivery ids of cs, in order.
func claimedIDs(cs []storage.ClaimedDelivery) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testWebhookCRUD(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a := mustCreateWebhook(t, s, "a")
	b := webhookFixture("b")
	b.Global, b.TenantIDs, b.Headers, b.EventsEnabled = true, nil, nil, nil
	b.SignatureConfiguration = api.WebhookSignatureConfiguration{}
	mustOK(t, "CreateWebhook b", s.CreateWebhook(ctx, b))

	got, err := s.GetWebhook(ctx, a.ID)
	mustOK(t, "GetWebhook", err)
	mustEqual(t, "GetWebhook after CreateWebhook", a, got)
	list, err := s.ListWebhooks(ctx)
	mustOK(t, "ListWebhooks", err)
	mustEqual(t, "ListWebhooks, oldest first", []api.Webhook{a, b}, list)

	mustErr(t, "CreateWebhook with a taken id", s.CreateWebhook(ctx, webhookFixture("a")), storage.ErrConflict)
	_, err = s.GetWebhook(ctx, id("missing"))
	checkErr(t, "GetWebhook of a missing id", err, storage.ErrNotFound)

	a.URL = "http://127.0.0.1:9/changed"
	a.EventsEnabled = map[string]bool{api.EventUserLoginSuccess: true}
	a.Headers = nil
	mustOK(t, "UpdateWebhook", s.UpdateWebhook(ctx, a))
	got, err = s.GetWebhook(ctx, a.ID)
	mustOK(t, "GetWebhook", err)
	mustEqual(t, "GetWebhook after UpdateWebhook", a, got)
	checkErr(t, "UpdateWebhook of a missing id", s.UpdateWebhook(ctx, webhookFixture("missing")), storage.ErrNotFound)

	mustOK(t, "DeleteWebhook", s.DeleteWebhook(ctx, a.ID))
	_, err = s.GetWebhook(ctx, a.ID)
	checkErr(t, "GetWebhook of a deleted webhook", err, storage.ErrNotFound)
	checkErr(t, "DeleteWebhook of a deleted webhook", s.DeleteWebhook(ctx, a.ID), storage.ErrNotFound)
	list, err = s.ListWebhooks(ctx)
	mustOK(t, "ListWebhooks", err)
	mustEqual(t, "ListWebhooks after DeleteWebhook", []api.Webhook{b}, list)
}

func testOutboxEnqueue(t *testing.T, s storage.Store) {
	ctx := t.Context()
	h1, h2 := mustCreateWebhook(t, s, "h1"), mustCreateWebhook(t, s, "h2")
	e := eventFixture(id("tenant"), "e", t0)
	// Each webhook once, however often it is named.
	mustOK(t, "EnqueueEvent", s.EnqueueEvent(ctx, e, []string{h2.ID, h1.ID, h2.ID}))
	got, err := s.GetEvent(ctx, e.ID)
	mustOK(t, "GetEvent", err)
	mustEqual(t, "GetEvent after EnqueueEvent", e, got)
	if string(got.Payload) != string(e.Payload) {
		t.Errorf("payload = %s, want it verbatim: %s", got.Payload, e.Payload)
	}
	ds := mustDeliveries(t, s, e.ID)
	if len(ds) != 2 {
		t.Fatalf("deliveries = %+v, want one per webhook", ds)
	}
	for _, d := range ds {
		want := storage.Delivery{ID: d.ID, EventID: e.ID, WebhookID: d.WebhookID, NextAttempt: t0}
		mustEqual(t, "a new delivery", want, d)
	}
	if hooks := []string{ds[0].WebhookID, ds[1].WebhookID}; !(hooks[0] != hooks[1] &&
		(hooks[0] == h1.ID || hooks[0] == h2.ID) && (hooks[1] == h1.ID || hooks[1] == h2.ID)) {
		t.Errorf("deliveries go to %v, want %s and %s", hooks, h1.ID, h2.ID)
	}

	// No webhook: nothing is stored.
	none := eventFixture(id("tenant"), "none", t0)
	mustOK(t, "EnqueueEvent without webhooks", s.EnqueueEvent(ctx, none, nil))
	_, err = s.GetEvent(ctx, none.ID)
	checkErr(t, "GetEvent of an event enqueued for no webhook", err, storage.ErrNotFound)

	mustErr(t, "EnqueueEvent with a taken id", s.EnqueueEvent(ctx, e, []string{h1.ID}), storage.ErrConflict)
	// A missing webhook stores nothing of the event.
	orphan := eventFixture(id("tenant"), "orphan", t0)
	mustErr(t, "EnqueueEvent for a missing webhook", s.EnqueueEvent(ctx, orphan, []string{h1.ID, id("missing")}), storage.ErrNotFound)
	_, err = s.GetEvent(ctx, orphan.ID)
	checkErr(t, "GetEvent of a refused event", err, storage.ErrNotFound)
	_, err = s.GetEvent(ctx, id("missing"))
	checkErr(t, "GetEvent of a missing id", err, storage.ErrNotFound)
	if all := mustDeliveries(t, s, ""); len(all) != 2 {
		t.Errorf("all deliveries = %+v, want the first event's two only", all)
	}

	// In a transaction, the event goes with the transaction's outcome.
	for _, commit := range []bool{false, true} {
		x := eventFixture(id("tenant"), fmt.Sprintf("tx-%v", commit), at(time.Second))
		err := s.Tx(ctx, func(tx storage.Store) error {
			if err := tx.CreateTenant(ctx, tenantFixture(fmt.Sprintf("tx-tenant-%v", commit))); err != nil {
				return err
			}
			if err := tx.EnqueueEvent(ctx, x, []string{h1.ID}); err != nil {
				return err
			}
			if ds, err := tx.ListDeliveries(ctx, x.ID); err != nil || len(ds) != 1 {
				return fmt.Errorf("ListDeliveries in the transaction: %v, %v", ds, err)
			}
			if !commit {
				return errBoom
			}
			return nil
		})
		_, gerr := s.GetEvent(ctx, x.ID)
		if commit {
			mustOK(t, "Tx with EnqueueEvent", err)
			mustOK(t, "GetEvent of a committed event", gerr)
			if ds := mustDeliveries(t, s, x.ID); len(ds) != 1 {
				t.Errorf("deliveries of a committed event = %+v, want 1", ds)
			}
		} else {
			if !errors.Is(err, errBoom) {
				t.Fatalf("Tx: err = %v, want %v", err, errBoom)
			}
			checkErr(t, "GetEvent of a rolled back event", gerr, storage.ErrNotFound)
			if ds := mustDeliveries(t, s, x.ID); len(ds) != 0 {
				t.Errorf("deliveries of a rolled back event = %+v, want none", ds)
			}
		}
	}

	// Deleting a webhook takes its deliveries with it.
	mustOK(t, "DeleteWebhook", s.DeleteWebhook(ctx, h1.ID))
	for _, d := range mustDeliveries(t, s, "") {
		if d.WebhookID == h1.ID {
			t.Errorf("delivery %+v of a deleted webhook remains", d)
		}
	}
}

func testOutboxClaim(t *testing.T, s storage.Store) {
	ctx := t.Context()
	h := mustCreateWebhook(t, s, "h")
	late := eventFixture(id("tenant"), "late", at(time.Minute))
	early := eventFixture(id("tenant"), "early", t0)
	mid := eventFixture(id("tenant"), "mid", at(30*time.Second))
	for _, e := range []storage.Event{late, early, mid} {
		mustOK(t, "EnqueueEvent", s.EnqueueEvent(ctx, e, []string{h.ID}))
	}
	dl := func(e storage.Event) storage.Delivery { return mustDeliveries(t, s, e.ID)[0] }

	if cs := mustClaim(t, s, at(-time.Second), 10, at(time.Hour)); len(cs) != 0 {
		t.Errorf("claim before anything is due: %v, want none", claimedIDs(cs))
	}
	lease := at(5 * time.Minute)
	cs := mustClaim(t, s, at(45*time.Second), 10, lease)
	mustEqual(t, "claimed, earliest first, only the due", []int64{dl(early).ID, dl(mid).ID}, claimedIDs(cs))
	for i, e := range []storage.Event{early, mid} {
		if len(cs) <= i {
			break
		}
		want := storage.ClaimedDelivery{
			Delivery: storage.Delivery{ID: cs[i].ID, EventID: e.ID, WebhookID: h.ID, Attempts: 1, NextAttempt: e.Created, LeaseUntil: lease},
			Event:    e,
		}
		mustEqual(t, "claimed delivery", want, cs[i])
		mustEqual(t, "stored delivery after the claim", want.Delivery, dl(e))
	}
	// Leased: nobody else gets them, however late it is, until the lease ends.
	cs = mustClaim(t, s, at(2*time.Minute), 10, at(time.Hour))
	mustEqual(t, "claim while leased", []int64{dl(late).ID}, claimedIDs(cs))
	cs = mustClaim(t, s, lease, 1, at(time.Hour))
	mustEqual(t, "claim when the lease ran out, limit 1", []int64{dl(early).ID}, claimedIDs(cs))
	if len(cs) == 1 && cs[0].Attempts != 2 {
		t.Errorf("attempts after a second claim = %d, want 2", cs[0].Attempts)
	}

	// Retry: due again later, lease ended, error kept.
	mustOK(t, "RetryDelivery", s.RetryDelivery(ctx, dl(mid).ID, at(10*time.Minute), "status 500"))
	want := storage.Delivery{ID: dl(mid).ID, EventID: mid.ID, WebhookID: h.ID, Attempts: 1, NextAttempt: at(10 * time.Minute), LastError: "status 500"}
	mustEqual(t, "delivery after RetryDelivery", want, dl(mid))
	if cs := mustClaim(t, s, at(9*time.Minute), 10, at(time.Hour)); len(cs) != 0 {
		t.Errorf("claim before the retry is due: %v, want none", claimedIDs(cs))
	}

	// Complete: never claimed again; completing twice keeps the first time.
	mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, dl(late).ID, at(3*time.Minute)))
	mustOK(t, "CompleteDelivery again", s.CompleteDelivery(ctx, dl(late).ID, at(4*time.Minute)))
	d := dl(late)
	if !d.Delivered.Equal(at(3*time.Minute)) || !d.LeaseUntil.IsZero() {
		t.Errorf("delivery after CompleteDelivery = %+v, want delivered at %v, no lease", d, at(3*time.Minute))
	}
	checkErr(t, "RetryDelivery of a delivered delivery", s.RetryDelivery(ctx, d.ID, at(time.Hour), "x"), storage.ErrStale)
	checkErr(t, "AbandonDelivery of a delivered delivery", s.AbandonDelivery(ctx, d.ID, at(time.Hour), "x"), storage.ErrStale)

	// Abandon: never claimed again.
	mustOK(t, "AbandonDelivery", s.AbandonDelivery(ctx, dl(mid).ID, at(11*time.Minute), "gave up"))
	d = dl(mid)
	if !d.Abandoned.Equal(at(11*time.Minute)) || d.LastError != "gave up" {
		t.Errorf("delivery after AbandonDelivery = %+v", d)
	}
	checkErr(t, "AbandonDelivery twice", s.AbandonDelivery(ctx, d.ID, at(time.Hour), "x"), storage.ErrStale)
	checkErr(t, "CompleteDelivery of an abandoned delivery", s.CompleteDelivery(ctx, d.ID, at(time.Hour)), storage.ErrStale)
	checkErr(t, "RetryDelivery of an abandoned delivery", s.RetryDelivery(ctx, d.ID, at(time.Hour), "x"), storage.ErrStale)

	cs = mustClaim(t, s, at(24*time.Hour), 10, at(25*time.Hour))
	mustEqual(t, "claim after completion and abandonment", []int64{dl(early).ID}, claimedIDs(cs))

	const missing = int64(1) << 40
	checkErr(t, "CompleteDelivery of a missing id", s.CompleteDelivery(ctx, missing, t0), storage.ErrNotFound)
	checkErr(t, "RetryDelivery of a missing id", s.RetryDelivery(ctx, missing, t0, "x"), storage.ErrNotFound)
	checkErr(t, "AbandonDelivery of a missing id", s.AbandonDelivery(ctx, missing, t0, "x"), storage.ErrNotFound)
}

func testOutboxGarbageCollect(t *testing.T, s storage.Store) {
	ctx := t.Context()
	h1, h2 := mustCreateWebhook(t, s, "h1"), mustCreateWebhook(t, s, "h2")
	before := t0
	mk := func(name string) storage.Event {
		e := eventFixture(id("tenant"), name, at(-48*time.Hour))
		mustOK(t, "EnqueueEvent "+name, s.EnqueueEvent(ctx, e, []string{h1.ID, h2.ID}))
		return e
	}
	ids := func(e storage.Event) (int64, int64) {
		ds := mustDeliveries(t, s, e.ID)
		return ds[0].ID, ds[1].ID
	}
	done := mk("done")       // both delivered before: all goes
	mixed := mk("mixed")     // one delivered before, one abandoned after: only the first goes
	pending := mk("pending") // one delivered before, one pending: the event stays
	recentE := eventFixture(id("tenant"), "recent", at(time.Hour))
	mustOK(t, "EnqueueEvent", s.EnqueueEvent(ctx, recentE, []string{h1.ID}))

	a, b := ids(done)
	mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, a, at(-time.Hour)))
	mustOK(t, "AbandonDelivery", s.AbandonDelivery(ctx, b, at(-time.Hour), "gave up"))
	a, b = ids(mixed)
	mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, a, at(-time.Hour)))
	mustOK(t, "AbandonDelivery", s.AbandonDelivery(ctx, b, at(time.Hour), "gave up"))
	a, _ = ids(pending)
	mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, a, at(-time.Hour)))
	mustOK(t, "CompleteDelivery", s.CompleteDelivery(ctx, mustDeliveries(t, s, recentE.ID)[0].ID, at(2*time.Hour)))

	res, err := s.GarbageCollect(ctx, before)
	mustOK(t, "GarbageCollect", err)
	mustEqual(t, "GarbageCollect result", storage.GCResult{Deliveries: 4, Events: 1}, res)
	_, err = s.GetEvent(ctx, done.ID)
	checkErr(t, "GetEvent of a collected event", err, storage.ErrNotFound)
	for _, e := range []storage.Event{mixed, pending, recentE} {
		if _, err := s.GetEvent(ctx, e.ID); err != nil {
			t.Errorf("GetEvent %s after GarbageCollect: %v", e.ID, err)
		}
		if ds := mustDeliveries(t, s, e.ID); len(ds) != 1 {
			t.Errorf("deliveries of %s after GarbageCollect = %+v, want 1", e.ID, ds)
		}
	}
	res, err = s.GarbageCollect(ctx, before)
	mustOK(t, "GarbageCollect again", err)
	mustEqual(t, "second GarbageCollect result", storage.GCResult{}, res)
}

// testClaimRace has many goroutines claim a queue of deliveries at once,
// each claiming a few at a time until the queue is empty: every delivery
// must be claimed exactly once while the leases last.
func testClaimRace(t *testing.T, s storage.Store) {
	const events = 60
	ctx := withTimeout(t, time.Minute)
	h1, h2 := mustCreateWebhook(t, s, "h1"), mustCreateWebhook(t, s, "h2")
	for i := range events {
		e := eventFixture(id("tenant"), fmt.Sprintf("race-%d", i), at(time.Duration(i)*time.Millisecond))
		mustOK(t, "EnqueueEvent", s.EnqueueEvent(ctx, e, []string{h1.ID, h2.ID}))
	}
	var mu sync.Mutex
	claims := map[int64]int{}
	errs := race(racers, func(int) error {
		for {
			cs, err := s.ClaimDeliveries(ctx, at(time.Hour), 3, at(2*time.Hour))
			if err != nil {
				if errors.Is(err, storage.ErrStale) {
					continue // a backend may refuse a conflicting claim that way
				}
				return err
			}
			if len(cs) == 0 {
				return nil
			}
			mu.Lock()
			for _, c := range cs {
				claims[c.ID]++
			}
			mu.Unlock()
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("claimer %d: %v", i, err)
		}
	}
	if len(claims) != 2*events {
		t.Errorf("%d deliveries claimed, want %d", len(claims), 2*events)
	}
	for id, n := range claims {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times, want once", id, n)
		}
	}
	for _, d := range mustDeliveries(t, s, "") {
		if d.Attempts != 1 {
			t.Errorf("delivery %d: attempts = %d, want 1", d.ID, d.Attempts)
		}
	}
}
