package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchid/latch/api"
)

// DefaultTimeout is the deadline WithDeadlines gives each call when it is
// given none: well within what a client waits for an answer (guard gives
// Latch 10 s) and the HTTP server's write timeout, so that a call that
// cannot finish is rolled back and answered in time.
const DefaultTimeout = 5 * time.Second

// gcTimeoutFactor lengthens GarbageCollect's deadline: it may delete a
// large backlog in one call, and it runs in the background.
const gcTimeoutFactor = 12

// WithDeadlines returns a Store that runs every call of s with a deadline
// timeout from its start (DefaultTimeout when not positive), or the
// caller's deadline when that is earlier: a database that has not
// answered by then gives ErrUnavailable, and what the call wrote rolls
// back. Tx counts as one call: its deadline runs from its start to its
// commit, and every call made on the transaction ends by then too.
// GarbageCollect, which may delete a large backlog at once, gets twelve
// times the timeout. Every outcome is reported to o (none when nil), which
// turns outages into a few log lines.
//
// Every store Latch opens (server.OpenStore) is wrapped so, which covers
// the HTTP API, the event dispatcher, the reaper and the admin commands
// alike. Unwrap returns s.
func WithDeadlines(s Store, timeout time.Duration, o *Outage) Store {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &deadlines{s: s, timeout: timeout, outage: o}
}

// Unwrap returns the Store that WithDeadlines wrapped, or s itself when
// WithDeadlines did not make it: for what only a backend offers
// (sqlite.Store.Backup).
func Unwrap(s Store) Store {
	for {
		d, ok := s.(*deadlines)
		if !ok {
			return s
		}
		s = d.s
	}
}

var _ Store = (*deadlines)(nil)

// deadlines is the Store of WithDeadlines.
type deadlines struct {
	s       Store
	timeout time.Duration
	outage  *Outage
	// end is set on the Store a Tx function receives: when the
	// transaction's deadline passes. Every call on it ends by then.
	end time.Time
}

// bound returns ctx with the call's deadline: timeout from now, or the
// transaction's end.
func (d *deadlines) bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if !d.end.IsZero() {
		return context.WithDeadline(ctx, d.end)
	}
	return context.WithTimeout(ctx, timeout)
}

// settle makes err ErrUnavailable when ctx's deadline (the call's, or the
// caller's) passed before the call ended, whatever the backend made of
// it (a transaction database/sql rolled back, say), and reports the
// outcome to the Outage.
func (d *deadlines) settle(ctx context.Context, a access, err error) error {
	if err != nil && !errors.Is(err, ErrUnavailable) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w: no answer before the deadline: %w", ErrUnavailable, err)
	}
	d.outage.observe(a, err)
	return err
}

// do runs a call that returns only an error.
func (d *deadlines) do(ctx context.Context, a access, f func(context.Context) error) error {
	ctx, cancel := d.bound(ctx, d.timeout)
	defer cancel()
	return d.settle(ctx, a, f(ctx))
}

// run runs a call that returns a value and an error.
func run[T any](d *deadlines, ctx context.Context, a access, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := d.bound(ctx, d.timeout)
	defer cancel()
	v, err := f(ctx)
	return v, d.settle(ctx, a, err)
}

// Tx runs s.Tx with one deadline for the whole transaction, which every
// call on the transaction's Store ends by too.
func (d *deadlines) Tx(ctx context.Context, fn func(tx Store) error) error {
	ctx, cancel := d.bound(ctx, d.timeout)
	defer cancel()
	end, _ := ctx.Deadline()
	err := d.s.Tx(ctx, func(tx Store) error {
		return fn(&deadlines{s: tx, timeout: d.timeout, outage: d.outage, end: end})
	})
	return d.settle(ctx, writing, err)
}

// FindSession runs s.FindSession with a deadline.
func (d *deadlines) FindSession(ctx context.Context, tokenHash []byte) (Session, Match, error) {
	ctx, cancel := d.bound(ctx, d.timeout)
	defer cancel()
	sess, m, err := d.s.FindSession(ctx, tokenHash)
	return sess, m, d.settle(ctx, reading, err)
}

// FindSessionOwner runs s.FindSessionOwner with a deadline.
func (d *deadlines) FindSessionOwner(ctx context.Context, tokenHash []byte) (SessionOwner, Match, error) {
	ctx, cancel := d.bound(ctx, d.timeout)
	defer cancel()
	o, m, err := d.s.FindSessionOwner(ctx, tokenHash)
	return o, m, d.settle(ctx, reading, err)
}

// GarbageCollect runs s.GarbageCollect with twelve times the deadline.
func (d *deadlines) GarbageCollect(ctx context.Context, before time.Time) (GCResult, error) {
	ctx, cancel := d.bound(ctx, gcTimeoutFactor*d.timeout)
	defer cancel()
	res, err := d.s.GarbageCollect(ctx, before)
	return res, d.settle(ctx, wrote(res != GCResult{}, err), err)
}

// wrote is the access of a call that may find nothing to write: one that
// succeeded having changed nothing proves only that the database answers
// (a backend may look before it writes, on a reading connection), so it
// must not end an outage of writes; a failure is a write's.
func wrote(changed bool, err error) access {
	if err == nil && !changed {
		return reading
	}
	return writing
}

// Close closes s.
func (d *deadlines) Close() error { return d.s.Close() }

// CreateTenant runs s.CreateTenant with a deadline.
func (d *deadlines) CreateTenant(ctx context.Context, t api.Tenant) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateTenant(ctx, t) })
}

// GetTenant runs s.GetTenant with a deadline.
func (d *deadlines) GetTenant(ctx context.Context, id string) (api.Tenant, error) {
	return run(d, ctx, reading, func(ctx context.Context) (api.Tenant, error) { return d.s.GetTenant(ctx, id) })
}

// ListTenants runs s.ListTenants with a deadline.
func (d *deadlines) ListTenants(ctx context.Context) ([]api.Tenant, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]api.Tenant, error) { return d.s.ListTenants(ctx) })
}

// UpdateTenant runs s.UpdateTenant with a deadline.
func (d *deadlines) UpdateTenant(ctx context.Context, t api.Tenant) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.UpdateTenant(ctx, t) })
}

// DeleteTenant runs s.DeleteTenant with a deadline.
func (d *deadlines) DeleteTenant(ctx context.Context, id string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteTenant(ctx, id) })
}

// CreateApplication runs s.CreateApplication with a deadline.
func (d *deadlines) CreateApplication(ctx context.Context, a Application) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateApplication(ctx, a) })
}

// GetApplication runs s.GetApplication with a deadline.
func (d *deadlines) GetApplication(ctx context.Context, id string) (Application, error) {
	return run(d, ctx, reading, func(ctx context.Context) (Application, error) { return d.s.GetApplication(ctx, id) })
}

// ListApplications runs s.ListApplications with a deadline.
func (d *deadlines) ListApplications(ctx context.Context, tenantID string) ([]Application, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]Application, error) { return d.s.ListApplications(ctx, tenantID) })
}

// UpdateApplication runs s.UpdateApplication with a deadline.
func (d *deadlines) UpdateApplication(ctx context.Context, a Application) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.UpdateApplication(ctx, a) })
}

// DeleteApplication runs s.DeleteApplication with a deadline.
func (d *deadlines) DeleteApplication(ctx context.Context, id string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteApplication(ctx, id) })
}

// CreateUser runs s.CreateUser with a deadline.
func (d *deadlines) CreateUser(ctx context.Context, u User) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateUser(ctx, u) })
}

// GetUser runs s.GetUser with a deadline.
func (d *deadlines) GetUser(ctx context.Context, id string) (User, error) {
	return run(d, ctx, reading, func(ctx context.Context) (User, error) { return d.s.GetUser(ctx, id) })
}

// GetUserByEmail runs s.GetUserByEmail with a deadline.
func (d *deadlines) GetUserByEmail(ctx context.Context, tenantID, email string) (User, error) {
	return run(d, ctx, reading, func(ctx context.Context) (User, error) { return d.s.GetUserByEmail(ctx, tenantID, email) })
}

// GetUserByUsername runs s.GetUserByUsername with a deadline.
func (d *deadlines) GetUserByUsername(ctx context.Context, tenantID, username string) (User, error) {
	return run(d, ctx, reading, func(ctx context.Context) (User, error) { return d.s.GetUserByUsername(ctx, tenantID, username) })
}

// ListUsers runs s.ListUsers with a deadline.
func (d *deadlines) ListUsers(ctx context.Context, tenantID string) ([]User, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]User, error) { return d.s.ListUsers(ctx, tenantID) })
}

// UpdateUser runs s.UpdateUser with a deadline.
func (d *deadlines) UpdateUser(ctx context.Context, u User) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.UpdateUser(ctx, u) })
}

// DeleteUser runs s.DeleteUser with a deadline.
func (d *deadlines) DeleteUser(ctx context.Context, id string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteUser(ctx, id) })
}

// CreateRegistration runs s.CreateRegistration with a deadline.
func (d *deadlines) CreateRegistration(ctx context.Context, r Registration) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateRegistration(ctx, r) })
}

// GetRegistration runs s.GetRegistration with a deadline.
func (d *deadlines) GetRegistration(ctx context.Context, userID, applicationID string) (Registration, error) {
	return run(d, ctx, reading, func(ctx context.Context) (Registration, error) {
		return d.s.GetRegistration(ctx, userID, applicationID)
	})
}

// ListRegistrations runs s.ListRegistrations with a deadline.
func (d *deadlines) ListRegistrations(ctx context.Context, userID string) ([]Registration, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]Registration, error) { return d.s.ListRegistrations(ctx, userID) })
}

// UpdateRegistration runs s.UpdateRegistration with a deadline.
func (d *deadlines) UpdateRegistration(ctx context.Context, r Registration) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.UpdateRegistration(ctx, r) })
}

// DeleteRegistration runs s.DeleteRegistration with a deadline.
func (d *deadlines) DeleteRegistration(ctx context.Context, userID, applicationID string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteRegistration(ctx, userID, applicationID) })
}

// RenameRole runs s.RenameRole with a deadline.
func (d *deadlines) RenameRole(ctx context.Context, applicationID, from, to string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.RenameRole(ctx, applicationID, from, to) })
}

// CreateSession runs s.CreateSession with a deadline.
func (d *deadlines) CreateSession(ctx context.Context, s Session) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateSession(ctx, s) })
}

// GetSession runs s.GetSession with a deadline.
func (d *deadlines) GetSession(ctx context.Context, id string) (Session, error) {
	return run(d, ctx, reading, func(ctx context.Context) (Session, error) { return d.s.GetSession(ctx, id) })
}

// RotateSession runs s.RotateSession with a deadline.
func (d *deadlines) RotateSession(ctx context.Context, id string, presentedHash []byte, r Rotation) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.RotateSession(ctx, id, presentedHash, r) })
}

// TouchSession runs s.TouchSession with a deadline.
func (d *deadlines) TouchSession(ctx context.Context, id string, t Touch) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.TouchSession(ctx, id, t) })
}

// ListSessions runs s.ListSessions with a deadline.
func (d *deadlines) ListSessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]Session, error) { return d.s.ListSessions(ctx, f) })
}

// RevokeSessions runs s.RevokeSessions with a deadline.
func (d *deadlines) RevokeSessions(ctx context.Context, f SessionFilter, at time.Time, reason string) ([]Session, error) {
	return run(d, ctx, writing, func(ctx context.Context) ([]Session, error) { return d.s.RevokeSessions(ctx, f, at, reason) })
}

// CreateKey runs s.CreateKey with a deadline.
func (d *deadlines) CreateKey(ctx context.Context, k SigningKey) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateKey(ctx, k) })
}

// GetKey runs s.GetKey with a deadline.
func (d *deadlines) GetKey(ctx context.Context, id string) (SigningKey, error) {
	return run(d, ctx, reading, func(ctx context.Context) (SigningKey, error) { return d.s.GetKey(ctx, id) })
}

// ListKeys runs s.ListKeys with a deadline.
func (d *deadlines) ListKeys(ctx context.Context) ([]SigningKey, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]SigningKey, error) { return d.s.ListKeys(ctx) })
}

// UpdateKey runs s.UpdateKey with a deadline.
func (d *deadlines) UpdateKey(ctx context.Context, k SigningKey) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.UpdateKey(ctx, k) })
}

// DeleteKey runs s.DeleteKey with a deadline.
func (d *deadlines) DeleteKey(ctx context.Context, id string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteKey(ctx, id) })
}

// CreateAPIKey runs s.CreateAPIKey with a deadline.
func (d *deadlines) CreateAPIKey(ctx context.Context, k APIKey) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateAPIKey(ctx, k) })
}

// GetAPIKey runs s.GetAPIKey with a deadline.
func (d *deadlines) GetAPIKey(ctx context.Context, id string) (APIKey, error) {
	return run(d, ctx, reading, func(ctx context.Context) (APIKey, error) { return d.s.GetAPIKey(ctx, id) })
}

// GetAPIKeyByHash runs s.GetAPIKeyByHash with a deadline.
func (d *deadlines) GetAPIKeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	return run(d, ctx, reading, func(ctx context.Context) (APIKey, error) { return d.s.GetAPIKeyByHash(ctx, hash) })
}

// ListAPIKeys runs s.ListAPIKeys with a deadline.
func (d *deadlines) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]APIKey, error) { return d.s.ListAPIKeys(ctx) })
}

// DeleteAPIKey runs s.DeleteAPIKey with a deadline.
func (d *deadlines) DeleteAPIKey(ctx context.Context, id string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteAPIKey(ctx, id) })
}

// GetLoginAttempts runs s.GetLoginAttempts with a deadline.
func (d *deadlines) GetLoginAttempts(ctx context.Context, tenantID, key string) (LoginAttempts, error) {
	return run(d, ctx, reading, func(ctx context.Context) (LoginAttempts, error) { return d.s.GetLoginAttempts(ctx, tenantID, key) })
}

// UpdateLoginAttempts runs s.UpdateLoginAttempts with a deadline.
func (d *deadlines) UpdateLoginAttempts(ctx context.Context, tenantID, key string, update func(LoginAttempts) (LoginAttempts, error)) (LoginAttempts, error) {
	return run(d, ctx, writing, func(ctx context.Context) (LoginAttempts, error) {
		return d.s.UpdateLoginAttempts(ctx, tenantID, key, update)
	})
}

// DeleteLoginAttempts runs s.DeleteLoginAttempts with a deadline.
func (d *deadlines) DeleteLoginAttempts(ctx context.Context, tenantID, key string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteLoginAttempts(ctx, tenantID, key) })
}

// CollectLoginAttempts runs s.CollectLoginAttempts with twelve times the
// deadline, as GarbageCollect.
func (d *deadlines) CollectLoginAttempts(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := d.bound(ctx, gcTimeoutFactor*d.timeout)
	defer cancel()
	n, err := d.s.CollectLoginAttempts(ctx, now)
	return n, d.settle(ctx, wrote(n != 0, err), err)
}

// GetMeta runs s.GetMeta with a deadline.
func (d *deadlines) GetMeta(ctx context.Context, key string) (string, error) {
	return run(d, ctx, reading, func(ctx context.Context) (string, error) { return d.s.GetMeta(ctx, key) })
}

// PutMeta runs s.PutMeta with a deadline.
func (d *deadlines) PutMeta(ctx context.Context, key, value string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.PutMeta(ctx, key, value) })
}

// CreateWebhook runs s.CreateWebhook with a deadline.
func (d *deadlines) CreateWebhook(ctx context.Context, w api.Webhook) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateWebhook(ctx, w) })
}

// GetWebhook runs s.GetWebhook with a deadline.
func (d *deadlines) GetWebhook(ctx context.Context, id string) (api.Webhook, error) {
	return run(d, ctx, reading, func(ctx context.Context) (api.Webhook, error) { return d.s.GetWebhook(ctx, id) })
}

// ListWebhooks runs s.ListWebhooks with a deadline.
func (d *deadlines) ListWebhooks(ctx context.Context) ([]api.Webhook, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]api.Webhook, error) { return d.s.ListWebhooks(ctx) })
}

// UpdateWebhook runs s.UpdateWebhook with a deadline.
func (d *deadlines) UpdateWebhook(ctx context.Context, w api.Webhook) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.UpdateWebhook(ctx, w) })
}

// DeleteWebhook runs s.DeleteWebhook with a deadline.
func (d *deadlines) DeleteWebhook(ctx context.Context, id string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteWebhook(ctx, id) })
}

// EnqueueEvent runs s.EnqueueEvent with a deadline.
func (d *deadlines) EnqueueEvent(ctx context.Context, e Event, webhookIDs []string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.EnqueueEvent(ctx, e, webhookIDs) })
}

// GetEvent runs s.GetEvent with a deadline.
func (d *deadlines) GetEvent(ctx context.Context, id string) (Event, error) {
	return run(d, ctx, reading, func(ctx context.Context) (Event, error) { return d.s.GetEvent(ctx, id) })
}

// SearchEvents runs s.SearchEvents with a deadline.
func (d *deadlines) SearchEvents(ctx context.Context, q EventQuery) ([]LoggedEvent, int, error) {
	ctx, cancel := d.bound(ctx, d.timeout)
	defer cancel()
	evs, total, err := d.s.SearchEvents(ctx, q)
	return evs, total, d.settle(ctx, reading, err)
}

// ListDeliveries runs s.ListDeliveries with a deadline.
func (d *deadlines) ListDeliveries(ctx context.Context, eventID string) ([]Delivery, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]Delivery, error) { return d.s.ListDeliveries(ctx, eventID) })
}

// ClaimDeliveries runs s.ClaimDeliveries with a deadline.
func (d *deadlines) ClaimDeliveries(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]ClaimedDelivery, error) {
	ctx, cancel := d.bound(ctx, d.timeout)
	defer cancel()
	claimed, err := d.s.ClaimDeliveries(ctx, now, limit, leaseUntil)
	return claimed, d.settle(ctx, wrote(len(claimed) > 0, err), err)
}

// CompleteDelivery runs s.CompleteDelivery with a deadline.
func (d *deadlines) CompleteDelivery(ctx context.Context, id int64, at time.Time) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CompleteDelivery(ctx, id, at) })
}

// RetryDelivery runs s.RetryDelivery with a deadline.
func (d *deadlines) RetryDelivery(ctx context.Context, id int64, nextAttempt time.Time, lastErr string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.RetryDelivery(ctx, id, nextAttempt, lastErr) })
}

// AbandonDelivery runs s.AbandonDelivery with a deadline.
func (d *deadlines) AbandonDelivery(ctx context.Context, id int64, at time.Time, lastErr string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.AbandonDelivery(ctx, id, at, lastErr) })
}

// UseDPoPProof runs s.UseDPoPProof with a deadline.
func (d *deadlines) UseDPoPProof(ctx context.Context, key string, now, expires time.Time) (fresh bool, err error) {
	return run(d, ctx, writing, func(ctx context.Context) (bool, error) { return d.s.UseDPoPProof(ctx, key, now, expires) })
}

// Ping runs s.Ping with a deadline.
func (d *deadlines) Ping(ctx context.Context) error {
	return d.do(ctx, reading, func(ctx context.Context) error { return d.s.Ping(ctx) })
}

// ProbeWrite runs s.ProbeWrite with a deadline.
func (d *deadlines) ProbeWrite(ctx context.Context, now time.Time) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.ProbeWrite(ctx, now) })
}
