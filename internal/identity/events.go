package identity

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// Events. A change that FusionAuth announces with a webhook event writes
// the event to the outbox (storage.EnqueueEvent) in the transaction that
// makes the change, so that the two commit together or not at all; a
// dispatcher (internal/events) delivers it afterwards, at least once. An
// event is written only when its tenant enables the type
// (eventConfiguration.events) and at least one webhook takes it.

// events holds the rules of events and webhooks: writing events to the
// outbox (this file), the webhooks that take them (webhook.go), and the
// webhook event log, the outbox seen from outside (eventlog.go). The
// Service's webhook and event log methods delegate to it, and so do the
// sessions and logins rules for the events of their changes. What it
// needs of the rest of the Service is named here: a part of the store,
// the waking of the dispatcher, the user views events carry, and the
// keys that sign webhook deliveries.
type events struct {
	store eventStore
	now   func() time.Time // UTC, to the microsecond
	// enqueued notes that an event was written (Service.enqueuedEvent):
	// the dispatcher is woken at once, or when the transaction commits.
	enqueued func()
	users    eventUsers
	keys     webhookKeys
}

// eventStore is the part of storage.Store that events read and write.
type eventStore interface {
	// The outbox.
	EnqueueEvent(ctx context.Context, e storage.Event, webhookIDs []string) error
	GetEvent(ctx context.Context, id string) (storage.Event, error)
	SearchEvents(ctx context.Context, q storage.EventQuery) ([]storage.LoggedEvent, int, error)
	ListDeliveries(ctx context.Context, eventID string) ([]storage.Delivery, error)
	// The webhooks.
	CreateWebhook(ctx context.Context, w api.Webhook) error
	GetWebhook(ctx context.Context, id string) (api.Webhook, error)
	ListWebhooks(ctx context.Context) ([]api.Webhook, error)
	UpdateWebhook(ctx context.Context, w api.Webhook) error
	DeleteWebhook(ctx context.Context, id string) error
	// What the events describe.
	RevokeSessions(ctx context.Context, f storage.SessionFilter, at time.Time, reason string) ([]storage.Session, error)
	GetTenant(ctx context.Context, id string) (api.Tenant, error)
	GetApplication(ctx context.Context, id string) (storage.Application, error)
	GetUser(ctx context.Context, id string) (storage.User, error)
	ListRegistrations(ctx context.Context, userID string) ([]storage.Registration, error)
}

// eventUsers makes the user views that revocation events carry (user.go).
type eventUsers interface {
	view(ctx context.Context, u storage.User, withScheme bool) (api.User, error)
}

// webhookKeys finds the key a webhook's deliveries are signed with
// (keys.go).
type webhookKeys interface {
	GetKey(ctx context.Context, tenantID, id string) (api.Key, error)
}

// events returns the event rules over s's store, in s's transaction if it
// is in one.
func (s *Service) events() events {
	return events{store: s.store, now: s.clock, enqueued: s.enqueuedEvent, users: s, keys: s}
}

// eventInfoKey is the context key of the EventInfo of the request.
type eventInfoKey struct{}

// WithEventInfo returns a context whose events carry info as their info
// member: httpapi puts the request's (the caller's eventInfo, else its
// address and user agent) in every request's context.
func WithEventInfo(ctx context.Context, info api.EventInfo) context.Context {
	return context.WithValue(ctx, eventInfoKey{}, info)
}

// eventInfoFrom returns the EventInfo of ctx, nil when there is none.
func eventInfoFrom(ctx context.Context) *api.EventInfo {
	info, ok := ctx.Value(eventInfoKey{}).(api.EventInfo)
	if !ok {
		return nil
	}
	if info.IPAddress == "" && info.UserAgent == "" && info.DeviceName == "" && info.DeviceDescription == "" &&
		info.DeviceType == "" && info.OS == "" && len(info.Data) == 0 && len(info.Location) == 0 {
		return nil
	}
	return &info
}

// txState is what a Service in a transaction (Tx) shares with the
// Service that started it.
type txState struct {
	// enqueued: an event was written, so the dispatcher is to be woken
	// once the transaction commits.
	enqueued bool
}

// enqueuedEvent notes that an event was written: at once, or when the
// transaction commits.
func (s *Service) enqueuedEvent() {
	if s.tx != nil {
		s.tx.enqueued = true
		return
	}
	if s.onEnqueue != nil {
		s.onEnqueue()
	}
}

// BearerSafeURL reports whether a webhook URL may receive bearer
// credentials (the access tokens of jwt.refresh): https, or http to a
// loopback host, where no one on the network can read them.
func BearerSafeURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if strings.EqualFold(host, "localhost") {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// emit writes an event of tenant t that happened at `at` to the outbox,
// for every webhook that takes it; build makes the event from its base
// members and those webhooks. Nothing is written, and build is not called,
// when the tenant does not enable the type or no webhook takes it.
func (es events) emit(ctx context.Context, t api.Tenant, typ string, at time.Time, build func(api.BaseEvent, []api.Webhook) any) error {
	if !t.EventConfiguration.Enabled(typ) {
		return nil
	}
	all, err := es.store.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	var hooks []api.Webhook
	var ids []string
	for _, h := range all {
		if h.EventsEnabled[typ] && (h.Global || slices.Contains(h.TenantIDs, t.ID)) {
			hooks = append(hooks, h)
			ids = append(ids, h.ID)
		}
	}
	if len(hooks) == 0 {
		return nil
	}
	base := api.BaseEvent{ID: NewID(), Type: typ, CreateInstant: millis(at), TenantID: t.ID, Info: eventInfoFrom(ctx)}
	ev := build(base, hooks)
	payload, err := json.Marshal(api.EventRequest[any]{Event: ev})
	if err != nil {
		return err
	}
	err = es.store.EnqueueEvent(ctx, storage.Event{ID: base.ID, TenantID: t.ID, Type: typ, Payload: payload, Created: at,
		KeepUntil: keepUntil(ev, at)}, ids)
	if err != nil {
		return err
	}
	es.enqueued()
	return nil
}

// revokeScope is the shape of a jwt.refresh-token.revoke event.
type revokeScope int

const (
	scopeToken   revokeScope = iota + 1 // one refresh token (an event per token)
	scopeUser                           // all of a user's
	scopeUserApp                        // a user's for one application
	scopeApp                            // all of an application's
)

// liveAt keeps the sessions that had not expired at `at`: revoking those
// is what an event announces.
func liveAt(sessions []storage.Session, at time.Time) []storage.Session {
	var out []storage.Session
	for _, x := range sessions {
		if at.Before(x.ExpiresAt) {
			out = append(out, x)
		}
	}
	return out
}

// emitRevoked writes the jwt.refresh-token.revoke events of sessions just
// revoked at `at` for reason: one per session for scopeToken, one per
// tenant otherwise. userID and appID name the user and application of the
// scope. Sessions that had expired already are no news: without a live one
// nothing is written, as FusionAuth sends the all-of-a-user event only
// when the user had a valid token. Call it in the transaction that revoked
// them, before the user or application is deleted.
func (es events) emitRevoked(ctx context.Context, scope revokeScope, sessions []storage.Session, at time.Time, reason, userID, appID string) error {
	sessions = liveAt(sessions, at)
	if len(sessions) == 0 {
		return nil
	}
	tenants := map[string]api.Tenant{}
	tenant := func(id string) (api.Tenant, error) {
		if t, ok := tenants[id]; ok {
			return t, nil
		}
		t, err := es.store.GetTenant(ctx, id)
		if err == nil {
			tenants[id] = t
		}
		return t, err
	}
	ttls := map[string]int{}
	ttl := func(t api.Tenant, appID string) (int, error) {
		if v, ok := ttls[appID]; ok {
			return v, nil
		}
		app, err := es.store.GetApplication(ctx, appID)
		var v int
		switch {
		case err == nil:
			v = jwtConfig(t, &app.Application).TimeToLiveInSeconds
		case isNotFound(err):
			v = t.JWTConfiguration.TimeToLiveInSeconds
		default:
			return 0, err
		}
		ttls[appID] = v
		return v, nil
	}
	var user *api.User
	viewOf := func(id string) (*api.User, error) {
		if user != nil || id == "" {
			return user, nil
		}
		u, err := es.store.GetUser(ctx, id)
		if isNotFound(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		v, err := es.users.view(ctx, u, false)
		if err != nil {
			return nil, err
		}
		user = &v
		return user, nil
	}

	if scope == scopeToken {
		for _, x := range sessions {
			t, err := tenant(x.TenantID)
			if err != nil {
				return err
			}
			if !t.EventConfiguration.Enabled(api.EventJWTRefreshTokenRevoke) {
				continue
			}
			ev := api.JWTRefreshTokenRevokeEvent{
				ApplicationID: x.ApplicationID, UserID: x.UserID, SessionID: x.ID, Reason: reason,
			}
			if x.ApplicationID != "" {
				v, err := ttl(t, x.ApplicationID)
				if err != nil {
					return err
				}
				ev.ApplicationTimeToLiveInSeconds = map[string]int{x.ApplicationID: v}
			}
			user = nil
			if ev.User, err = viewOf(x.UserID); err != nil {
				return err
			}
			rt := sessionView(x)
			ev.RefreshToken = &rt
			err = es.emit(ctx, t, api.EventJWTRefreshTokenRevoke, at, func(b api.BaseEvent, _ []api.Webhook) any {
				ev.BaseEvent = b
				return ev
			})
			if err != nil {
				return err
			}
		}
		return nil
	}

	byTenant := map[string][]storage.Session{}
	var order []string
	for _, x := range sessions {
		if _, ok := byTenant[x.TenantID]; !ok {
			order = append(order, x.TenantID)
		}
		byTenant[x.TenantID] = append(byTenant[x.TenantID], x)
	}
	for _, tid := range order {
		t, err := tenant(tid)
		if err != nil {
			return err
		}
		if !t.EventConfiguration.Enabled(api.EventJWTRefreshTokenRevoke) {
			continue
		}
		ev := api.JWTRefreshTokenRevokeEvent{ApplicationTimeToLiveInSeconds: map[string]int{}, Reason: reason}
		if n := len(byTenant[tid]); n <= api.MaxEventSessionIDs {
			ev.SessionIDs = make([]string, 0, n)
		}
		for _, x := range byTenant[tid] {
			if ev.SessionIDs != nil {
				ev.SessionIDs = append(ev.SessionIDs, x.ID)
			}
			if x.ApplicationID == "" {
				continue
			}
			if ev.ApplicationTimeToLiveInSeconds[x.ApplicationID], err = ttl(t, x.ApplicationID); err != nil {
				return err
			}
		}
		if scope == scopeUserApp || scope == scopeApp {
			ev.ApplicationID = appID
		}
		if scope == scopeUser || scope == scopeUserApp {
			ev.UserID = userID
			if ev.User, err = viewOf(userID); err != nil {
				return err
			}
		}
		err = es.emit(ctx, t, api.EventJWTRefreshTokenRevoke, at, func(b api.BaseEvent, _ []api.Webhook) any {
			ev.BaseEvent = b
			return ev
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// revokeAndEmit is events.revokeAndEmit, for the rules of users and
// applications, which revoke sessions as they change.
func (s *Service) revokeAndEmit(ctx context.Context, scope revokeScope, f storage.SessionFilter, at time.Time, reason string) ([]storage.Session, error) {
	return s.events().revokeAndEmit(ctx, scope, f, at, reason)
}

// revokeAndEmit revokes the sessions f selects at `at` for reason and
// writes their event; it returns those it revoked that were live. Call it
// in a transaction.
func (es events) revokeAndEmit(ctx context.Context, scope revokeScope, f storage.SessionFilter, at time.Time, reason string) ([]storage.Session, error) {
	revoked, err := es.store.RevokeSessions(ctx, f, at, reason)
	if err != nil {
		return nil, err
	}
	if err := es.emitRevoked(ctx, scope, revoked, at, reason, f.UserID, f.ApplicationID); err != nil {
		return nil, err
	}
	return liveAt(revoked, at), nil
}

// emitLogin writes user.login.success, or user.login.failed with reason
// "credentials" when failed, for a password login of u. appID is the
// application the login named, reported only when the user is registered
// for it.
func (es events) emitLogin(ctx context.Context, t api.Tenant, u storage.User, appID string, failed bool, at time.Time) error {
	typ := api.EventUserLoginSuccess
	if failed {
		typ = api.EventUserLoginFailed
	}
	if !t.EventConfiguration.Enabled(typ) {
		return nil
	}
	regs, err := es.store.ListRegistrations(ctx, u.ID)
	if err != nil {
		return err
	}
	registered := appID != "" && slices.ContainsFunc(regs, func(r storage.Registration) bool { return r.ApplicationID == appID })
	if !registered {
		appID = ""
	}
	view := userView(u, regs, false)
	return es.emit(ctx, t, typ, at, func(b api.BaseEvent, _ []api.Webhook) any {
		if failed {
			return api.UserLoginFailedEvent{BaseEvent: b, ApplicationID: appID, AuthenticationType: api.AuthPassword,
				User: view, Reason: &api.UserLoginFailedReason{Code: "credentials"}}
		}
		return api.UserLoginSuccessEvent{BaseEvent: b, ApplicationID: appID, AuthenticationType: api.AuthPassword, User: view}
	})
}

// emitRefresh writes jwt.refresh for a refresh of session sess that
// minted tok. The access tokens (tok, and original when the caller sent
// it) go only to webhooks with a BearerSafeURL: the event keeps them only
// when one of its webhooks has one, and the dispatcher leaves them out of
// the deliveries to the others.
func (es events) emitRefresh(ctx context.Context, t api.Tenant, sess storage.Session, tok, original string, at time.Time) error {
	return es.emit(ctx, t, api.EventJWTRefresh, at, func(b api.BaseEvent, hooks []api.Webhook) any {
		ev := api.JWTRefreshEvent{BaseEvent: b, ApplicationID: sess.ApplicationID, UserID: sess.UserID, RefreshToken: sess.ID}
		if slices.ContainsFunc(hooks, func(h api.Webhook) bool { return BearerSafeURL(h.URL) }) {
			ev.Token, ev.Original = tok, original
		}
		return ev
	})
}
