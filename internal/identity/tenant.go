package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// Defaults for a new tenant's configuration. FusionAuth's Tenant API
// (https://fusionauth.io/docs/apis/tenants) documents no default for the
// two lifetimes, and the others as these are, but for the grace period
// (FusionAuth: 0) and onOneTimeTokenReuse (FusionAuth: false; see
// DefaultTenant): Latch's deliberate differences, listed in docs/compatibility.md.
const (
	DefaultAccessTokenTTLSeconds  = 900
	DefaultRefreshTokenTTLMinutes = 43200
	DefaultGracePeriodSeconds     = 30
	DefaultLockoutAttempts        = 5
	DefaultLockoutWindowSeconds   = 60
	DefaultLockoutDurationMinutes = 3
	DefaultPasswordMinLength      = 8
	DefaultPasswordMaxLength      = 256
	maxGracePeriodSeconds         = 86399
	maxTokenTTLSeconds            = 7 * 24 * 3600
	maxRefreshTokenTTLMinutes     = 10 * 365 * 24 * 60
)

// DefaultTenant returns a tenant filled with Latch's defaults; requests are
// decoded over it, so absent fields keep these values.
func DefaultTenant() api.Tenant {
	return api.Tenant{
		Name: "Default",
		JWTConfiguration: api.JWTConfiguration{
			Enabled:                         true,
			TimeToLiveInSeconds:             DefaultAccessTokenTTLSeconds,
			RefreshTokenTimeToLiveInMinutes: DefaultRefreshTokenTTLMinutes,
			RefreshTokenUsagePolicy:         api.RefreshReusable,
			RefreshTokenExpirationPolicy:    api.ExpirationFixed,
			RefreshTokenSlidingWindowConfiguration: api.SlidingWindowConfiguration{
				MaximumTimeToLiveInMinutes: DefaultRefreshTokenTTLMinutes,
			},
			// A retry after a lost response, or parallel requests, within
			// 30 s get the current value instead of ending the session.
			RefreshTokenOneTimeUseConfiguration: api.OneTimeUseConfiguration{GracePeriodInSeconds: DefaultGracePeriodSeconds},
			// Reuse of a rotated one-time-use value revokes its session:
			// theft detection, on unless the tenant turns it off.
			RefreshTokenRevocationPolicy: api.RevocationPolicy{
				OnLoginPrevented:    true,
				OnPasswordChanged:   true,
				OnOneTimeTokenReuse: true,
			},
		},
		LoginConfiguration: api.TenantLoginConfiguration{RequireAuthentication: true},
		FailedAuthenticationConfiguration: api.FailedAuthenticationConfiguration{
			TooManyAttempts:     DefaultLockoutAttempts,
			ResetCountInSeconds: DefaultLockoutWindowSeconds,
			ActionDuration:      DefaultLockoutDurationMinutes,
			ActionDurationUnit:  "MINUTES",
		},
		PasswordValidationRules: api.PasswordValidationRules{
			MinLength: DefaultPasswordMinLength,
			MaxLength: DefaultPasswordMaxLength,
		},
	}
}

// CreateTenant validates and stores a new tenant; id "" makes one.
func (s *Service) CreateTenant(ctx context.Context, id string, t api.Tenant) (api.Tenant, error) {
	errs := new(api.Errors)
	checkID(errs, "tenantId", id)
	if id == "" {
		id = NewID()
	}
	t.ID = id
	s.validateTenant(ctx, errs, &t)
	if err := errs.Err(); err != nil {
		return api.Tenant{}, err
	}
	now := millis(s.clock())
	t.InsertInstant, t.LastUpdateInstant = now, now
	if err := s.store.CreateTenant(ctx, t); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return api.Tenant{}, api.FieldError("tenantId", "duplicate", fmt.Sprintf("A Tenant with Id [%s] already exists.", id))
		}
		return api.Tenant{}, err
	}
	return t, nil
}

// GetTenant returns a tenant.
func (s *Service) GetTenant(ctx context.Context, id string) (api.Tenant, error) {
	if !ValidID(id) {
		return api.Tenant{}, notFound("tenant", id)
	}
	return s.store.GetTenant(ctx, id)
}

// ListTenants returns every tenant.
func (s *Service) ListTenants(ctx context.Context) ([]api.Tenant, error) {
	return s.store.ListTenants(ctx)
}

// UpdateTenant validates and replaces a tenant.
func (s *Service) UpdateTenant(ctx context.Context, id string, t api.Tenant) (api.Tenant, error) {
	old, err := s.GetTenant(ctx, id)
	if err != nil {
		return api.Tenant{}, err
	}
	t.ID = id
	errs := new(api.Errors)
	s.validateTenant(ctx, errs, &t)
	if err := errs.Err(); err != nil {
		return api.Tenant{}, err
	}
	t.InsertInstant = old.InsertInstant
	t.LastUpdateInstant = millis(s.clock())
	if err := s.store.UpdateTenant(ctx, t); err != nil {
		return api.Tenant{}, err
	}
	return t, nil
}

// DeleteTenant deletes a tenant with everything in it. The last tenant
// cannot be deleted.
func (s *Service) DeleteTenant(ctx context.Context, id string) error {
	if _, err := s.GetTenant(ctx, id); err != nil {
		return err
	}
	all, err := s.store.ListTenants(ctx)
	if err != nil {
		return err
	}
	if len(all) == 1 {
		return api.GeneralError("[invalid]", "The last tenant cannot be deleted.")
	}
	return s.store.DeleteTenant(ctx, id)
}

func (s *Service) validateTenant(ctx context.Context, errs *api.Errors, t *api.Tenant) {
	if t.Name == "" {
		errs.Field("tenant.name", "blank", "You must specify the [tenant.name] property.")
	}
	t.JWTConfiguration.Enabled = true
	s.validateJWTConfiguration(ctx, errs, "tenant.jwtConfiguration", &t.JWTConfiguration)
	f := t.FailedAuthenticationConfiguration
	if f.TooManyAttempts < 0 || f.ResetCountInSeconds < 0 || f.ActionDuration < 0 {
		errs.Field("tenant.failedAuthenticationConfiguration", "invalid", "The lockout settings must not be negative.")
	}
	if _, ok := durationUnits[f.ActionDurationUnit]; f.ActionDurationUnit != "" && !ok {
		errs.Field("tenant.failedAuthenticationConfiguration.actionDurationUnit", "invalid",
			"The [actionDurationUnit] must be one of MINUTES, HOURS, DAYS, WEEKS, MONTHS or YEARS.")
	}
	validateEventConfiguration(errs, &t.EventConfiguration)
	validateTenantTwoFactor(errs, t)
	r := &t.PasswordValidationRules
	if r.MinLength == 0 {
		r.MinLength = DefaultPasswordMinLength
	}
	if r.MaxLength == 0 {
		r.MaxLength = DefaultPasswordMaxLength
	}
	if r.MinLength < 1 || r.MaxLength < r.MinLength || r.MaxLength > 1024 {
		errs.Field("tenant.passwordValidationRules", "invalid", "The password length rules are out of range (1 ≤ minLength ≤ maxLength ≤ 1024).")
	}
}

// validateJWTConfiguration checks an enabled jwtConfiguration and fills
// the policy names left blank.
func (s *Service) validateJWTConfiguration(ctx context.Context, errs *api.Errors, path string, c *api.JWTConfiguration) {
	if !c.Enabled {
		return
	}
	if c.TimeToLiveInSeconds <= 0 || c.TimeToLiveInSeconds > maxTokenTTLSeconds {
		errs.Field(path+".timeToLiveInSeconds", "invalid", fmt.Sprintf("The [timeToLiveInSeconds] must be between 1 and %d.", maxTokenTTLSeconds))
	}
	if c.RefreshTokenTimeToLiveInMinutes <= 0 || c.RefreshTokenTimeToLiveInMinutes > maxRefreshTokenTTLMinutes {
		errs.Field(path+".refreshTokenTimeToLiveInMinutes", "invalid", fmt.Sprintf("The [refreshTokenTimeToLiveInMinutes] must be between 1 and %d.", maxRefreshTokenTTLMinutes))
	}
	if c.RefreshTokenUsagePolicy == "" {
		c.RefreshTokenUsagePolicy = api.RefreshReusable
	}
	if c.RefreshTokenUsagePolicy != api.RefreshReusable && c.RefreshTokenUsagePolicy != api.RefreshOneTimeUse {
		errs.Field(path+".refreshTokenUsagePolicy", "invalid", "The [refreshTokenUsagePolicy] must be Reusable or OneTimeUse.")
	}
	if c.RefreshTokenExpirationPolicy == "" {
		c.RefreshTokenExpirationPolicy = api.ExpirationFixed
	}
	switch c.RefreshTokenExpirationPolicy {
	case api.ExpirationFixed, api.ExpirationSlidingWindow:
	case api.ExpirationSlidingWindowMaximum:
		if m := c.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes; m < c.RefreshTokenTimeToLiveInMinutes || m > maxRefreshTokenTTLMinutes {
			errs.Field(path+".refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes", "invalid",
				"The [maximumTimeToLiveInMinutes] must be at least [refreshTokenTimeToLiveInMinutes].")
		}
	default:
		errs.Field(path+".refreshTokenExpirationPolicy", "invalid", "The [refreshTokenExpirationPolicy] must be Fixed, SlidingWindow or SlidingWindowWithMaximumLifetime.")
	}
	if g := c.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds; g < 0 || g > maxGracePeriodSeconds {
		errs.Field(path+".refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds", "invalid",
			fmt.Sprintf("The [gracePeriodInSeconds] must be between 0 and %d.", maxGracePeriodSeconds))
	}
	for field, id := range map[string]string{"accessTokenKeyId": c.AccessTokenKeyID, "idTokenKeyId": c.IDTokenKeyID} {
		if id == "" {
			continue
		}
		if _, err := s.store.GetKey(ctx, id); err != nil {
			errs.Field(path+"."+field, "invalid", fmt.Sprintf("The key [%s] does not exist.", id))
		}
	}
}

// resolveTenant picks the tenant of a request that names none explicitly:
// the pinned one, else the only one. With several tenants and none named
// it answers [TenantIdRequired].
func (s *Service) resolveTenant(ctx context.Context, pinned string) (api.Tenant, error) {
	if pinned != "" {
		t, err := s.GetTenant(ctx, pinned)
		if errors.Is(err, storage.ErrNotFound) {
			return api.Tenant{}, api.GeneralError("[invalid]tenantId", fmt.Sprintf("The tenant [%s] does not exist.", pinned))
		}
		return t, err
	}
	all, err := s.store.ListTenants(ctx)
	if err != nil {
		return api.Tenant{}, err
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return api.Tenant{}, api.GeneralError("[TenantIdRequired]",
		"A Tenant Id is required to complete this request. To complete this request, you must specify the Tenant Id using the X-FusionAuth-TenantId HTTP header.")
}

// ResolveTenant is resolveTenant for callers outside the package.
func (s *Service) ResolveTenant(ctx context.Context, pinned string) (api.Tenant, error) {
	return s.resolveTenant(ctx, pinned)
}
