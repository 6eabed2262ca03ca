package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// Webhook timeouts, in milliseconds. FusionAuth requires both; Latch fills
// in the defaults for a webhook that sets none.
const (
	DefaultWebhookConnectTimeout = 2000
	DefaultWebhookReadTimeout    = 5000
	MaxWebhookTimeout            = 60000
)

// eventTypes are FusionAuth's event types (its EventType enumeration).
// Webhooks and tenants may enable any of them, so that configurations
// written for FusionAuth load; Latch emits jwt.refresh-token.revoke,
// jwt.refresh, user.login.success and user.login.failed only. Any other
// name is refused.
var eventTypes = []string{
	"audit-log.create", "event-log.create", "jwt.public-key.update", api.EventJWTRefresh,
	api.EventJWTRefreshTokenRevoke, "kickstart.success",
	"group.create", "group.create.complete", "group.delete", "group.delete.complete",
	"group.member.add", "group.member.add.complete", "group.member.remove", "group.member.remove.complete",
	"group.member.update", "group.member.update.complete", "group.update", "group.update.complete",
	"user.action", "user.bulk.create", "user.create", "user.create.complete", "user.deactivate",
	"user.delete", "user.delete.complete", "user.email.update", "user.email.verified",
	"user.identity-provider.link", "user.identity-provider.unlink", "user.identity.update", "user.identity.verified",
	"user.loginId.duplicate.create", "user.loginId.duplicate.update", api.EventUserLoginFailed,
	"user.login.new-device", api.EventUserLoginSuccess, "user.login.suspicious", "user.password.breach",
	"user.password.reset.send", "user.password.reset.start", "user.password.reset.success",
	"user.password.update", "user.reactivate",
	"user.registration.create", "user.registration.create.complete", "user.registration.delete",
	"user.registration.delete.complete", "user.registration.update", "user.registration.update.complete",
	"user.registration.verified", "user.two-factor.method.add", "user.two-factor.method.remove",
	"user.update", "user.update.complete", "test",
}

// transactionTypes are the values of an event's transactionType.
var transactionTypes = []string{api.TransactionNone, api.TransactionAny, api.TransactionSimpleMajority,
	api.TransactionSuperMajority, api.TransactionAbsoluteMajority}

// KnownEventType reports whether name is one of FusionAuth's event types.
func KnownEventType(name string) bool { return slices.Contains(eventTypes, name) }

// validateEventConfiguration checks a tenant's eventConfiguration and
// spells out the default transactionType.
func validateEventConfiguration(errs *api.Errors, c *api.EventConfiguration) {
	for typ, d := range c.Events {
		if !KnownEventType(typ) {
			errs.Field("tenant.eventConfiguration.events", "invalid", fmt.Sprintf("The event type [%s] is not a known event type.", typ))
			continue
		}
		switch {
		case d.TransactionType == "":
			d.TransactionType = api.TransactionNone
			c.Events[typ] = d
		case !slices.Contains(transactionTypes, d.TransactionType):
			errs.Field("tenant.eventConfiguration.events", "invalid", fmt.Sprintf(
				"The transactionType [%s] of [%s] must be one of %v.", d.TransactionType, typ, transactionTypes))
		}
	}
}

// CreateWebhook validates and stores a webhook; id "" makes one.
func (s *Service) CreateWebhook(ctx context.Context, id string, w api.Webhook) (api.Webhook, error) {
	return s.events().createWebhook(ctx, id, w)
}

// createWebhook is Service.CreateWebhook.
func (es events) createWebhook(ctx context.Context, id string, w api.Webhook) (api.Webhook, error) {
	errs := new(api.Errors)
	checkID(errs, "webhookId", id)
	if err := errs.Err(); err != nil {
		return api.Webhook{}, err
	}
	if id == "" {
		id = NewID()
	}
	w.ID = id
	es.validateWebhook(ctx, errs, &w)
	if err := errs.Err(); err != nil {
		return api.Webhook{}, err
	}
	now := millis(es.now())
	w.InsertInstant, w.LastUpdateInstant = now, now
	if err := es.store.CreateWebhook(ctx, w); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return api.Webhook{}, api.FieldError("webhookId", "duplicate", fmt.Sprintf("A Webhook with Id [%s] already exists.", id))
		}
		return api.Webhook{}, err
	}
	return w, nil
}

// GetWebhook returns a webhook.
func (s *Service) GetWebhook(ctx context.Context, id string) (api.Webhook, error) {
	return s.events().getWebhook(ctx, id)
}

// getWebhook is Service.GetWebhook.
func (es events) getWebhook(ctx context.Context, id string) (api.Webhook, error) {
	if !ValidID(id) {
		return api.Webhook{}, notFound("webhook", id)
	}
	return es.store.GetWebhook(ctx, id)
}

// ListWebhooks returns every webhook.
func (s *Service) ListWebhooks(ctx context.Context) ([]api.Webhook, error) {
	return s.events().listWebhooks(ctx)
}

// listWebhooks is Service.ListWebhooks.
func (es events) listWebhooks(ctx context.Context) ([]api.Webhook, error) {
	return es.store.ListWebhooks(ctx)
}

// UpdateWebhook validates and replaces a webhook.
func (s *Service) UpdateWebhook(ctx context.Context, id string, w api.Webhook) (api.Webhook, error) {
	return s.events().updateWebhook(ctx, id, w)
}

// updateWebhook is Service.UpdateWebhook.
func (es events) updateWebhook(ctx context.Context, id string, w api.Webhook) (api.Webhook, error) {
	old, err := es.getWebhook(ctx, id)
	if err != nil {
		return api.Webhook{}, err
	}
	w.ID = id
	errs := new(api.Errors)
	es.validateWebhook(ctx, errs, &w)
	if err := errs.Err(); err != nil {
		return api.Webhook{}, err
	}
	w.InsertInstant = old.InsertInstant
	w.LastUpdateInstant = millis(es.now())
	if err := es.store.UpdateWebhook(ctx, w); err != nil {
		return api.Webhook{}, err
	}
	return w, nil
}

// DeleteWebhook deletes a webhook; its undelivered events are dropped.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	return s.events().deleteWebhook(ctx, id)
}

// deleteWebhook is Service.DeleteWebhook.
func (es events) deleteWebhook(ctx context.Context, id string) error {
	if !ValidID(id) {
		return notFound("webhook", id)
	}
	return es.store.DeleteWebhook(ctx, id)
}

// validateWebhook checks a webhook and fills in the default timeouts.
func (es events) validateWebhook(ctx context.Context, errs *api.Errors, w *api.Webhook) {
	switch u, err := url.Parse(w.URL); {
	case w.URL == "":
		errs.Field("webhook.url", "blank", "You must specify the [webhook.url] property.")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "":
		errs.Field("webhook.url", "invalid", "The [webhook.url] must be an absolute http or https URL.")
	}
	for _, t := range []struct {
		field string
		v     *int
		def   int
	}{
		{"webhook.connectTimeout", &w.ConnectTimeout, DefaultWebhookConnectTimeout},
		{"webhook.readTimeout", &w.ReadTimeout, DefaultWebhookReadTimeout},
	} {
		switch {
		case *t.v == 0:
			*t.v = t.def
		case *t.v < 0 || *t.v > MaxWebhookTimeout:
			errs.Field(t.field, "invalid", fmt.Sprintf("The [%s] must be between 1 and %d milliseconds.", t.field, MaxWebhookTimeout))
		}
	}
	for name, value := range w.Headers {
		if !validHeaderName(name) || strings.ContainsAny(value, "\r\n\x00") {
			errs.Field("webhook.headers", "invalid", fmt.Sprintf("The header [%s] is not a valid HTTP header.", name))
		}
	}
	for typ := range w.EventsEnabled {
		if !KnownEventType(typ) {
			errs.Field("webhook.eventsEnabled", "invalid", fmt.Sprintf("The event type [%s] is not a known event type.", typ))
		}
	}
	for _, tid := range w.TenantIDs {
		if !ValidID(tid) {
			errs.Field("webhook.tenantIds", "invalid", fmt.Sprintf("The tenant id [%s] is not a valid UUID.", tid))
		} else if _, err := es.store.GetTenant(ctx, tid); err != nil {
			errs.Field("webhook.tenantIds", "invalid", fmt.Sprintf("The tenant [%s] does not exist.", tid))
		}
	}
	sc := w.SignatureConfiguration
	switch {
	case sc.Enabled && sc.SigningKeyID == "":
		errs.Field("webhook.signatureConfiguration.signingKeyId", "blank",
			"You must specify the [webhook.signatureConfiguration.signingKeyId] property when signing is enabled.")
	case sc.SigningKeyID != "":
		k, err := es.keys.GetKey(ctx, "", sc.SigningKeyID)
		if err != nil || !slices.Contains(token.SupportedAlgorithms(), k.Algorithm) {
			errs.Field("webhook.signatureConfiguration.signingKeyId", "invalid",
				fmt.Sprintf("The key [%s] does not exist.", sc.SigningKeyID))
		}
	}
}

// validHeaderName reports whether name is an HTTP field name (an RFC 9110 token).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if c > 0x7e || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// SignWithKey signs claims with the key of the Key API whose id is keyID
// (asymmetric or HMAC), with its kid in the header: the signature of a
// webhook delivery.
func (s *Service) SignWithKey(ctx context.Context, keyID string, claims any) (string, error) {
	k, err := s.signingKey(ctx, keyID)
	if err != nil {
		return "", err
	}
	return token.Sign(k, token.TypeJWT, claims)
}
