package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// Meta keys marking one-time setup.
const (
	metaInitialized = "initialized"
	metaKickstarted = "kickstarted"
)

// Initialized reports whether the database was set up, by a bootstrap or
// a kickstart.
func (s *Service) Initialized(ctx context.Context) (bool, error) {
	_, err := s.store.GetMeta(ctx, metaInitialized)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Setup names the ids of what Initialize creates; a blank id is made
// fresh. A kickstart chooses them before its first request, which may
// name them (FusionAuth's #{FUSIONAUTH_TENANT_ID} and
// #{FUSIONAUTH_DEFAULT_SIGNING_KEY_ID}).
type Setup struct {
	// TenantID is the default tenant's id.
	TenantID string
	// SigningKeyID is the id of the default tenant's signing key.
	SigningKeyID string
}

// Initialize sets up an empty database: the default tenant signing with a
// new ES256 key, with the ids of ids. It must run in the same transaction
// as the rest of the first setup. ErrConflict if the database was
// initialized before.
func (s *Service) Initialize(ctx context.Context, ids Setup) (api.Tenant, error) {
	ids.TenantID = CanonicalID(ids.TenantID) // a kickstart's defaultTenantId, in any case
	ids.SigningKeyID = CanonicalID(ids.SigningKeyID)
	if err := s.store.PutMeta(ctx, metaInitialized, s.clock().Format("2006-01-02T15:04:05Z")); err != nil {
		return api.Tenant{}, err
	}
	errs := new(api.Errors)
	checkID(errs, "signingKeyId", ids.SigningKeyID)
	if err := errs.Err(); err != nil {
		return api.Tenant{}, err
	}
	keyID := ids.SigningKeyID
	if keyID == "" {
		keyID = NewID()
	}
	key, err := s.newKey(ctx, keyID, "Default signing key", token.ES256)
	if err != nil {
		return api.Tenant{}, err
	}
	t := DefaultTenant()
	t.JWTConfiguration.AccessTokenKeyID = key.ID
	t.JWTConfiguration.IDTokenKeyID = key.ID
	return s.CreateTenant(ctx, ids.TenantID, t)
}

// Bootstrap is the first start without a kickstart: the default tenant,
// an application named Default, and an unrestricted API key, returned so
// the caller can hand it to the operator once.
func (s *Service) Bootstrap(ctx context.Context) (api.Application, api.APIKey, error) {
	var app api.Application
	var key api.APIKey
	err := s.Tx(ctx, func(s *Service) error {
		t, err := s.Initialize(ctx, Setup{})
		if err != nil {
			return err
		}
		def := DefaultApplication()
		def.Name = "Default"
		def.OAuthConfiguration.EnabledGrants = []string{GrantPassword, GrantRefreshToken}
		if app, err = s.CreateApplication(ctx, t.ID, "", def); err != nil {
			return fmt.Errorf("create default application: %w", err)
		}
		key, err = s.CreateAPIKey(ctx, "", api.APIKey{MetaData: api.APIKeyMetaData{Attributes: map[string]string{"description": "Bootstrap API key"}}})
		return err
	})
	return app, key, err
}

// MarkKickstarted records that a kickstart was applied; ErrConflict if one was.
func (s *Service) MarkKickstarted(ctx context.Context, digest string) error {
	return s.store.PutMeta(ctx, metaKickstarted, digest)
}
