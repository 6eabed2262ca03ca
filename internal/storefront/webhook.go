package storefront

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/latchid/latch/api"
)

// Revocation events: the storefront receives Latch's
// jwt.refresh-token.revoke events at EventsPath (guard's Events handler)
// and, with Config.RegisterWebhook, registers itself for them.

// events serves POST EventsPath: guard's Events handler, which checks the
// event's signature against Latch's keys and records the revocation.
// While Latch's issuer is unknown it answers 503, and Latch delivers the
// event again later.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	g, err := s.currentGuard(r.Context())
	if err != nil {
		unavailable(w)
		return
	}
	g.Events().ServeHTTP(w, r)
}

// webhookID is the id of the storefront's webhook: a UUID (version 5
// layout) derived from the application id and the webhook's URL, so that
// registering again finds the same webhook.
func webhookID(appID, hookURL string) string {
	sum := sha256.Sum256([]byte("latch storefront webhook\x00" + appID + "\x00" + hookURL))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5: name-based, SHA
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// registerWebhook registers (or updates) the storefront's webhook at Latch
// and enables jwt.refresh-token.revoke for the tenant (see
// Config.RegisterWebhook).
func (s *Server) registerWebhook(ctx context.Context) error {
	hookURL := s.publicURL + EventsPath
	id := webhookID(s.cfg.ApplicationID, hookURL)
	if err := s.latch.registerWebhook(ctx, id, hookURL); err != nil {
		return err
	}
	s.webhookID.Store(id)
	s.log.Info("storefront: webhook registered at Latch", "webhook", id, "url", hookURL, "event", api.EventJWTRefreshTokenRevoke)
	return nil
}

// retryWebhook tries to register the webhook every webhookRetry until it
// succeeds, Latch refuses for good, or the server stops.
func (s *Server) retryWebhook() {
	t := time.NewTicker(webhookRetry)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*latchTimeout)
		err := s.registerWebhook(ctx)
		cancel()
		switch {
		case err == nil:
			return
		case errors.Is(err, errLatchUnavailable):
			s.log.Debug("storefront: cannot register the webhook at Latch yet", "err", err)
		default:
			s.log.Error("storefront: Latch refused the webhook; revocations reach the storefront only when JWTs expire", "err", err)
			return
		}
	}
}

// registerWebhook registers the webhook with the id at Latch: one for the
// application's tenant, for jwt.refresh-token.revoke, signed with the
// tenant's access-token key (which Latch's JWKS publishes, so guard
// verifies the signatures), updated if it exists; then it enables the
// event for the tenant, if it is not. Everything with the API key.
func (l *latch) registerWebhook(ctx context.Context, id, hookURL string) error {
	var app api.ApplicationResponse
	if err := l.getJSON(ctx, "/api/application/"+url.PathEscape(l.appID), &app); err != nil {
		return fmt.Errorf("storefront: register webhook: read the application: %w", err)
	}
	if app.Application == nil || app.Application.TenantID == "" {
		return errors.New("storefront: register webhook: the application names no tenant")
	}
	tenantID := app.Application.TenantID
	var tenant api.TenantResponse
	if err := l.getJSON(ctx, "/api/tenant/"+url.PathEscape(tenantID), &tenant); err != nil {
		return fmt.Errorf("storefront: register webhook: read the tenant: %w", err)
	}
	if tenant.Tenant == nil {
		return errors.New("storefront: register webhook: Latch's answer holds no tenant")
	}
	keyID := tenant.Tenant.JWTConfiguration.AccessTokenKeyID
	if keyID == "" {
		keyID = app.Application.JWTConfiguration.AccessTokenKeyID
	}
	if keyID == "" {
		return errors.New("storefront: register webhook: the tenant has no access-token key to sign events with")
	}
	hook := api.WebhookRequest{Webhook: api.Webhook{
		URL:                    hookURL,
		Description:            "storefront of application " + l.appID + ": revocations",
		EventsEnabled:          map[string]bool{api.EventJWTRefreshTokenRevoke: true},
		TenantIDs:              []string{tenantID},
		SignatureConfiguration: api.WebhookSignatureConfiguration{Enabled: true, SigningKeyID: keyID},
	}}
	path := "/api/webhook/" + url.PathEscape(id)
	code, b, err := l.call(ctx, http.MethodGet, path, nil, true)
	if err != nil {
		return err
	}
	method := http.MethodPut // update: the id is ours
	switch code {
	case http.StatusOK:
	case http.StatusNotFound:
		method = http.MethodPost
	default:
		return fmt.Errorf("storefront: register webhook: latch answered GET %s with %d%s", path, code, errorCodes(b))
	}
	code, b, err = l.call(ctx, method, path, hook, true)
	if err == nil && method == http.MethodPost && code == http.StatusBadRequest {
		// Another instance created it meanwhile.
		code, b, err = l.call(ctx, http.MethodPut, path, hook, true)
	}
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("storefront: register webhook: latch answered %s %s with %d%s", method, path, code, errorCodes(b))
	}
	if tenant.Tenant.EventConfiguration.Enabled(api.EventJWTRefreshTokenRevoke) {
		return nil
	}
	patch := map[string]any{"tenant": map[string]any{"eventConfiguration": map[string]any{"events": map[string]any{
		api.EventJWTRefreshTokenRevoke: map[string]any{"enabled": true},
	}}}}
	code, b, err = l.call(ctx, http.MethodPatch, "/api/tenant/"+url.PathEscape(tenantID), patch, true)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("storefront: register webhook: latch answered PATCH of the tenant with %d%s", code, errorCodes(b))
	}
	return nil
}

// getJSON GETs path with the API key and decodes a 200 into out.
func (l *latch) getJSON(ctx context.Context, path string, out any) error {
	code, b, err := l.call(ctx, http.MethodGet, path, nil, true)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("latch answered %d%s", code, errorCodes(b))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("latch's answer: %w", err)
	}
	return nil
}
