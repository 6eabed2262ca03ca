package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// testProbeWrite: ProbeWrite commits its time under storage.ProbeKey, again
// and again, and inside a transaction with it.
func testProbeWrite(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	for _, when := range []time.Time{at(0), at(time.Second + 5)} {
		mustOK(t, "ProbeWrite", s.ProbeWrite(ctx, when))
		got, err := s.GetMeta(ctx, storage.ProbeKey)
		mustOK(t, "GetMeta of the probe", err)
		if want := when.Format(time.RFC3339Nano); got != want {
			t.Errorf("GetMeta(ProbeKey) = %q, want %q", got, want)
		}
	}
	// In a transaction that rolls back, the probe rolls back too.
	errRollback := api.GeneralError("[rollback]", "roll back")
	err := s.Tx(ctx, func(tx storage.Store) error {
		mustOK(t, "ProbeWrite in Tx", tx.ProbeWrite(ctx, at(time.Hour)))
		return errRollback
	})
	if err != errRollback {
		t.Fatalf("Tx = %v, want its function's error", err)
	}
	if got, _ := s.GetMeta(ctx, storage.ProbeKey); got != at(time.Second+5).Format(time.RFC3339Nano) {
		t.Errorf("after a rolled-back probe, GetMeta(ProbeKey) = %q", got)
	}
}

// testDeadline: a call whose context's deadline has passed is
// ErrUnavailable (the database gave no answer in time), whichever the
// method, and writes nothing; a transaction whose deadline passes before
// it commits is ErrUnavailable and rolls back.
func testDeadline(t *testing.T, s storage.Store) {
	live := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	ctx := expired
	sess := sessionFixture(w.user, w.app.ID, "s", at(0))
	calls := map[string]func() error{
		"Tx":                 func() error { return s.Tx(ctx, func(storage.Store) error { return nil }) },
		"CreateTenant":       func() error { return s.CreateTenant(ctx, tenantFixture("new")) },
		"GetTenant":          func() error { _, err := s.GetTenant(ctx, w.tenant.ID); return err },
		"ListTenants":        func() error { _, err := s.ListTenants(ctx); return err },
		"UpdateTenant":       func() error { return s.UpdateTenant(ctx, w.tenant) },
		"DeleteTenant":       func() error { return s.DeleteTenant(ctx, w.tenant.ID) },
		"CreateApplication":  func() error { return s.CreateApplication(ctx, appFixture(w.tenant.ID, "new")) },
		"GetApplication":     func() error { _, err := s.GetApplication(ctx, w.app.ID); return err },
		"ListApplications":   func() error { _, err := s.ListApplications(ctx, ""); return err },
		"UpdateApplication":  func() error { return s.UpdateApplication(ctx, w.app) },
		"DeleteApplication":  func() error { return s.DeleteApplication(ctx, w.app.ID) },
		"CreateUser":         func() error { return s.CreateUser(ctx, userFixture(w.tenant.ID, "new", "new@example.com")) },
		"GetUser":            func() error { _, err := s.GetUser(ctx, w.user.ID); return err },
		"GetUserByEmail":     func() error { _, err := s.GetUserByEmail(ctx, w.tenant.ID, w.user.Email); return err },
		"GetUserByUsername":  func() error { _, err := s.GetUserByUsername(ctx, w.tenant.ID, w.user.Username); return err },
		"ListUsers":          func() error { _, err := s.ListUsers(ctx, w.tenant.ID); return err },
		"UpdateUser":         func() error { return s.UpdateUser(ctx, w.user) },
		"DeleteUser":         func() error { return s.DeleteUser(ctx, w.user.ID) },
		"CreateRegistration": func() error { return s.CreateRegistration(ctx, regFixture(w.user, w.app.ID, "r", at(0))) },
		"GetRegistration":    func() error { _, err := s.GetRegistration(ctx, w.user.ID, w.app.ID); return err },
		"ListRegistrations":  func() error { _, err := s.ListRegistrations(ctx, w.user.ID); return err },
		"UpdateRegistration": func() error { return s.UpdateRegistration(ctx, regFixture(w.user, w.app.ID, "r", at(0))) },
		"DeleteRegistration": func() error { return s.DeleteRegistration(ctx, w.user.ID, w.app.ID) },
		"RenameRole":         func() error { return s.RenameRole(ctx, w.app.ID, "admin", "boss") },
		"CreateSession":      func() error { return s.CreateSession(ctx, sess) },
		"GetSession":         func() error { _, err := s.GetSession(ctx, sess.ID); return err },
		"FindSession":        func() error { _, _, err := s.FindSession(ctx, sess.TokenHash); return err },
		"RotateSession": func() error {
			return s.RotateSession(ctx, sess.ID, sess.TokenHash, storage.Rotation{TokenHash: sum("next"), RotatedAt: at(0), ExpiresAt: at(time.Hour)})
		},
		"TouchSession": func() error { return s.TouchSession(ctx, sess.ID, storage.Touch{ExpiresAt: at(time.Hour)}) },
		"ListSessions": func() error { _, err := s.ListSessions(ctx, storage.SessionFilter{UserID: w.user.ID}); return err },
		"RevokeSessions": func() error {
			_, err := s.RevokeSessions(ctx, storage.SessionFilter{UserID: w.user.ID}, at(0), "x")
			return err
		},
		"CreateKey":    func() error { return s.CreateKey(ctx, keyFixture("k", at(0))) },
		"GetKey":       func() error { _, err := s.GetKey(ctx, id("k")); return err },
		"ListKeys":     func() error { _, err := s.ListKeys(ctx); return err },
		"UpdateKey":    func() error { return s.UpdateKey(ctx, keyFixture("k", at(0))) },
		"DeleteKey":    func() error { return s.DeleteKey(ctx, id("k")) },
		"CreateAPIKey": func() error { return s.CreateAPIKey(ctx, apiKeyFixture("", "a", at(0))) },
		"GetAPIKey":    func() error { _, err := s.GetAPIKey(ctx, id("a")); return err },
		"GetAPIKeyByHash": func() error {
			_, err := s.GetAPIKeyByHash(ctx, sum("a"))
			return err
		},
		"ListAPIKeys":      func() error { _, err := s.ListAPIKeys(ctx); return err },
		"DeleteAPIKey":     func() error { return s.DeleteAPIKey(ctx, id("a")) },
		"GetLoginAttempts": func() error { _, err := s.GetLoginAttempts(ctx, w.tenant.ID, "k"); return err },
		"UpdateLoginAttempts": func() error {
			_, err := s.UpdateLoginAttempts(ctx, w.tenant.ID, "k", func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
				a.Count, a.Expires = 1, at(time.Hour)
				return a, nil
			})
			return err
		},
		"DeleteLoginAttempts":  func() error { return s.DeleteLoginAttempts(ctx, w.tenant.ID, "k") },
		"CollectLoginAttempts": func() error { _, err := s.CollectLoginAttempts(ctx, at(0)); return err },
		"SearchEvents":         func() error { _, _, err := s.SearchEvents(ctx, storage.EventQuery{Limit: 1}); return err },
		"GetMeta":              func() error { _, err := s.GetMeta(ctx, "m"); return err },
		"PutMeta":              func() error { return s.PutMeta(ctx, "m", "v") },
		"CreateWebhook":        func() error { return s.CreateWebhook(ctx, api.Webhook{ID: id("h"), URL: "https://example.com/h"}) },
		"GetWebhook":           func() error { _, err := s.GetWebhook(ctx, id("h")); return err },
		"ListWebhooks":         func() error { _, err := s.ListWebhooks(ctx); return err },
		"UpdateWebhook":        func() error { return s.UpdateWebhook(ctx, api.Webhook{ID: id("h"), URL: "https://example.com/h"}) },
		"DeleteWebhook":        func() error { return s.DeleteWebhook(ctx, id("h")) },
		"EnqueueEvent": func() error {
			return s.EnqueueEvent(ctx, storage.Event{ID: id("e"), Type: "t", Payload: []byte(`{}`), Created: at(0)}, []string{id("h")})
		},
		"GetEvent":         func() error { _, err := s.GetEvent(ctx, id("e")); return err },
		"ListDeliveries":   func() error { _, err := s.ListDeliveries(ctx, ""); return err },
		"ClaimDeliveries":  func() error { _, err := s.ClaimDeliveries(ctx, at(0), 1, at(time.Minute)); return err },
		"CompleteDelivery": func() error { return s.CompleteDelivery(ctx, 1, at(0)) },
		"RetryDelivery":    func() error { return s.RetryDelivery(ctx, 1, at(0), "x") },
		"AbandonDelivery":  func() error { return s.AbandonDelivery(ctx, 1, at(0), "x") },
		"UseDPoPProof":     func() error { _, err := s.UseDPoPProof(ctx, "k", at(0), at(time.Minute)); return err },
		"GarbageCollect":   func() error { _, err := s.GarbageCollect(ctx, at(0)); return err },
		"Ping":             func() error { return s.Ping(ctx) },
		"ProbeWrite":       func() error { return s.ProbeWrite(ctx, at(0)) },
	}
	for name, call := range calls {
		checkErr(t, name+" with an expired deadline", call(), storage.ErrUnavailable)
	}
	// Nothing was written.
	_, err := s.GetMeta(live, "m")
	checkErr(t, "GetMeta after PutMeta with an expired deadline", err, storage.ErrNotFound)
	if _, err := s.GetUser(live, w.user.ID); err != nil {
		t.Errorf("GetUser after DeleteUser with an expired deadline: %v", err)
	}

	// A transaction whose deadline passes while it runs rolls back.
	short, cancel := context.WithTimeout(live, 200*time.Millisecond)
	defer cancel()
	err = s.Tx(short, func(tx storage.Store) error {
		if err := tx.PutMeta(short, "late", "v"); err != nil {
			return err
		}
		<-short.Done()
		return nil
	})
	checkErr(t, "Tx whose deadline passed before it committed", err, storage.ErrUnavailable)
	_, err = s.GetMeta(live, "late")
	checkErr(t, "GetMeta of a write of that Tx", err, storage.ErrNotFound)
}
