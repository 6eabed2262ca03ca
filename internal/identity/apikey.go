package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// minAPIKeyLength is the shortest API key accepted when the caller
// chooses the value (kickstart); generated keys have 43 characters.
const minAPIKeyLength = 32

// CreateAPIKey stores an API key and returns it with its secret, shown
// this once. in.Key "" makes a random one.
func (s *Service) CreateAPIKey(ctx context.Context, id string, in api.APIKey) (api.APIKey, error) {
	// A kickstart's apiKeys come here directly, not through the API.
	id, in.TenantID = CanonicalID(id), CanonicalID(in.TenantID)
	errs := new(api.Errors)
	checkID(errs, "apiKeyId", id)
	checkID(errs, "apiKey.tenantId", in.TenantID)
	if in.Key != "" && len(in.Key) < minAPIKeyLength {
		errs.Field("apiKey.key", "tooShort", fmt.Sprintf("An API key must be at least %d characters long.", minAPIKeyLength))
	}
	for ep, methods := range in.Permissions.Endpoints {
		if !strings.HasPrefix(ep, "/") {
			errs.Field("apiKey.permissions.endpoints", "invalid", fmt.Sprintf("The endpoint [%s] must be a path.", ep))
		}
		for _, m := range methods {
			if !slices.Contains([]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, m) {
				errs.Field("apiKey.permissions.endpoints", "invalid", fmt.Sprintf("The method [%s] is not an HTTP method of the API.", m))
			}
		}
	}
	if err := errs.Err(); err != nil {
		return api.APIKey{}, err
	}
	if in.TenantID != "" {
		if _, err := s.GetTenant(ctx, in.TenantID); err != nil {
			return api.APIKey{}, api.FieldError("apiKey.tenantId", "invalid", fmt.Sprintf("The tenant [%s] does not exist.", in.TenantID))
		}
	}
	if id == "" {
		id = NewID()
	}
	secret := in.Key
	if secret == "" {
		var err error
		if secret, err = token.NewAPIKey(); err != nil {
			return api.APIKey{}, err
		}
	}
	rec := storage.APIKey{
		ID: id, Hash: token.HashSecret(secret), TenantID: in.TenantID,
		Description: in.MetaData.Attributes["description"], Endpoints: in.Permissions.Endpoints, Inserted: s.clock(),
	}
	if err := s.store.CreateAPIKey(ctx, rec); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return api.APIKey{}, api.FieldError("apiKey", "duplicate", "An API key with this id or value already exists.")
		}
		return api.APIKey{}, err
	}
	out := apiKeyView(rec)
	out.Key = secret
	return out, nil
}

func apiKeyView(k storage.APIKey) api.APIKey {
	v := api.APIKey{ID: k.ID, TenantID: k.TenantID, Permissions: api.APIKeyPermissions{Endpoints: k.Endpoints}, InsertInstant: millis(k.Inserted)}
	if k.Description != "" {
		v.MetaData.Attributes = map[string]string{"description": k.Description}
	}
	return v
}

// GetAPIKey describes an API key (never its secret).
func (s *Service) GetAPIKey(ctx context.Context, id string) (api.APIKey, error) {
	if !ValidID(id) {
		return api.APIKey{}, notFound("api key", id)
	}
	k, err := s.store.GetAPIKey(ctx, id)
	if err != nil {
		return api.APIKey{}, err
	}
	return apiKeyView(k), nil
}

// ListAPIKeys describes every API key.
func (s *Service) ListAPIKeys(ctx context.Context) ([]api.APIKey, error) {
	keys, err := s.store.ListAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.APIKey, len(keys))
	for i, k := range keys {
		out[i] = apiKeyView(k)
	}
	return out, nil
}

// DeleteAPIKey deletes an API key.
func (s *Service) DeleteAPIKey(ctx context.Context, id string) error {
	if !ValidID(id) {
		return notFound("api key", id)
	}
	return s.store.DeleteAPIKey(ctx, id)
}

// Why AuthenticateAPIKey refuses a key; both are ErrUnauthorized, so
// that callers may log the reason and answer alike.
var (
	// ErrAPIKeyUnknown: no API key has the value presented.
	ErrAPIKeyUnknown = fmt.Errorf("%w: unknown API key", ErrUnauthorized)
	// ErrAPIKeyNotPermitted: the key's endpoint permissions leave out the
	// method on the endpoint.
	ErrAPIKeyNotPermitted = fmt.Errorf("%w: API key not permitted for the endpoint", ErrUnauthorized)
)

// AuthenticateAPIKey returns the API key whose secret is raw, if it may
// call method on the endpoint (see Permits). Anything else is
// ErrUnauthorized: ErrAPIKeyUnknown or ErrAPIKeyNotPermitted.
func (s *Service) AuthenticateAPIKey(ctx context.Context, raw, method, endpoint string) (storage.APIKey, error) {
	if raw == "" {
		return storage.APIKey{}, ErrAPIKeyUnknown
	}
	k, err := s.store.GetAPIKeyByHash(ctx, token.HashSecret(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.APIKey{}, ErrAPIKeyUnknown
	} else if err != nil {
		return storage.APIKey{}, err
	}
	if !Permits(k.Endpoints, method, endpoint) {
		return storage.APIKey{}, ErrAPIKeyNotPermitted
	}
	return k, nil
}

// Permits reports whether endpoint permissions allow method on an
// endpoint: no permissions allow everything; otherwise the endpoint must be
// listed with the method. An endpoint is an API as FusionAuth's key
// permissions name it, the route's path without its ids ("/api/user"
// covers /api/user/{id}, but /api/user/registration and /api/user/import
// are endpoints of their own, and /api/application/{id}/role/{roleId} is
// /api/application/role), so callers pass the route's endpoint, not the
// request path.
func Permits(endpoints map[string][]string, method, endpoint string) bool {
	if len(endpoints) == 0 {
		return true
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	for ep, methods := range endpoints {
		if strings.TrimSuffix(ep, "/") == endpoint && slices.Contains(methods, method) {
			return true
		}
	}
	return false
}
