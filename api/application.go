package api

// Refresh-token usage policies (FusionAuth's refreshTokenUsagePolicy).
const (
	RefreshReusable   = "Reusable"
	RefreshOneTimeUse = "OneTimeUse"
)

// Refresh-token expiration policies (FusionAuth's refreshTokenExpirationPolicy).
const (
	ExpirationFixed                = "Fixed"
	ExpirationSlidingWindow        = "SlidingWindow"
	ExpirationSlidingWindowMaximum = "SlidingWindowWithMaximumLifetime"
)

// OAuth client authentication policies.
const (
	ClientAuthRequired                 = "Required"
	ClientAuthNotRequired              = "NotRequired"
	ClientAuthNotRequiredWhenUsingPKCE = "NotRequiredWhenUsingPKCE"
)

// States of an application (FusionAuth's ObjectState). An application
// is created Active; DELETE without hardDelete makes it Inactive, and PUT
// with ?reactivate=true Active again. The active member of a request
// never changes it. FusionAuth's third state, PendingDelete, never occurs.
const (
	StateActive   = "Active"
	StateInactive = "Inactive"
)

// Application is FusionAuth's Application object. Active and State are
// the same fact, as FusionAuth reports it twice.
type Application struct {
	ID                 string             `json:"id,omitempty"`
	TenantID           string             `json:"tenantId,omitempty"`
	Name               string             `json:"name"`
	Active             bool               `json:"active"`
	State              string             `json:"state,omitempty"`
	Roles              []ApplicationRole  `json:"roles,omitempty"`
	JWTConfiguration   JWTConfiguration   `json:"jwtConfiguration"`
	LoginConfiguration LoginConfiguration `json:"loginConfiguration"`
	OAuthConfiguration OAuthConfiguration `json:"oauthConfiguration"`
	// MultiFactorConfiguration, when its LoginPolicy is set, overrides the
	// tenant's two-factor login policy for logins to the application.
	MultiFactorConfiguration *ApplicationMultiFactorConfiguration `json:"multiFactorConfiguration,omitempty"`
	Data                     map[string]any                       `json:"data,omitempty"`
	InsertInstant            int64                                `json:"insertInstant,omitempty"`
	LastUpdateInstant        int64                                `json:"lastUpdateInstant,omitempty"`
}

// ApplicationRole is a role defined on an application.
type ApplicationRole struct {
	ID                string `json:"id,omitempty"`
	Name              string `json:"name"`
	Description       string `json:"description,omitempty"`
	IsDefault         bool   `json:"isDefault"`
	IsSuperRole       bool   `json:"isSuperRole"`
	InsertInstant     int64  `json:"insertInstant,omitempty"`
	LastUpdateInstant int64  `json:"lastUpdateInstant,omitempty"`
}

// JWTConfiguration sets token lifetimes, refresh-token policies and signing
// keys. A tenant always has one; an application's applies only when Enabled.
type JWTConfiguration struct {
	Enabled                                bool                       `json:"enabled"`
	TimeToLiveInSeconds                    int                        `json:"timeToLiveInSeconds,omitempty"`
	RefreshTokenTimeToLiveInMinutes        int                        `json:"refreshTokenTimeToLiveInMinutes,omitempty"`
	RefreshTokenUsagePolicy                string                     `json:"refreshTokenUsagePolicy,omitempty"`
	RefreshTokenExpirationPolicy           string                     `json:"refreshTokenExpirationPolicy,omitempty"`
	RefreshTokenSlidingWindowConfiguration SlidingWindowConfiguration `json:"refreshTokenSlidingWindowConfiguration"`
	RefreshTokenOneTimeUseConfiguration    OneTimeUseConfiguration    `json:"refreshTokenOneTimeUseConfiguration"`
	RefreshTokenRevocationPolicy           RevocationPolicy           `json:"refreshTokenRevocationPolicy"`
	AccessTokenKeyID                       string                     `json:"accessTokenKeyId,omitempty"`
	IDTokenKeyID                           string                     `json:"idTokenKeyId,omitempty"`
}

// SlidingWindowConfiguration caps SlidingWindowWithMaximumLifetime.
type SlidingWindowConfiguration struct {
	MaximumTimeToLiveInMinutes int `json:"maximumTimeToLiveInMinutes,omitempty"`
}

// OneTimeUseConfiguration sets the grace period in which an already
// rotated one-time-use refresh token still yields the current successor.
type OneTimeUseConfiguration struct {
	GracePeriodInSeconds int `json:"gracePeriodInSeconds"`
}

// RevocationPolicy says which events revoke a user's refresh tokens.
type RevocationPolicy struct {
	OnLoginPrevented    bool `json:"onLoginPrevented"`
	OnPasswordChanged   bool `json:"onPasswordChanged"`
	OnMultiFactorEnable bool `json:"onMultiFactorEnable"`
	OnOneTimeTokenReuse bool `json:"onOneTimeTokenReuse"`
}

// LoginConfiguration governs the Login API for an application.
type LoginConfiguration struct {
	AllowTokenRefresh     bool `json:"allowTokenRefresh"`
	GenerateRefreshTokens bool `json:"generateRefreshTokens"`
	RequireAuthentication bool `json:"requireAuthentication"`
}

// OAuthConfiguration governs the /oauth2 endpoints for an application. The
// client id is the application id. The client secret is returned, as
// FusionAuth returns it, to API keys that may read applications; the
// server keeps it hashed and sealed under its master key.
type OAuthConfiguration struct {
	ClientID                    string   `json:"clientId,omitempty"`
	ClientSecret                string   `json:"clientSecret,omitempty"`
	ClientAuthenticationPolicy  string   `json:"clientAuthenticationPolicy,omitempty"`
	RequireClientAuthentication bool     `json:"requireClientAuthentication"`
	EnabledGrants               []string `json:"enabledGrants,omitempty"`
	GenerateRefreshTokens       bool     `json:"generateRefreshTokens"`
	// AuthorizedRedirectURLs are the redirect URIs /oauth2/authorize
	// accepts, each matched exactly (RFC 9700 §4.1.3), save the port of a
	// loopback URL (RFC 8252 §7.3).
	AuthorizedRedirectURLs []string `json:"authorizedRedirectURLs,omitempty"`
	// LogoutURL is where /oauth2/logout sends the browser when the
	// request names no post_logout_redirect_uri.
	LogoutURL string `json:"logoutURL,omitempty"`
	// ProofKeyForCodeExchangePolicy says when the authorization code
	// grant requires PKCE (RFC 7636): Required, NotRequired, or
	// NotRequiredWhenUsingClientAuthentication. PKCE is required of a
	// client that does not authenticate whatever this says.
	ProofKeyForCodeExchangePolicy string `json:"proofKeyForCodeExchangePolicy,omitempty"`
}

// PKCE policies (FusionAuth's proofKeyForCodeExchangePolicy).
const (
	PKCERequired                                 = "Required"
	PKCENotRequired                              = "NotRequired"
	PKCENotRequiredWhenUsingClientAuthentication = "NotRequiredWhenUsingClientAuthentication"
)

// ApplicationRequest is the body of the application APIs: Application
// for the Application API, Role for the Role API
// (/api/application/{id}/role), each ignoring the other (FusionAuth's Go
// client sends both, always).
type ApplicationRequest struct {
	Application Application      `json:"application"`
	Role        *ApplicationRole `json:"role,omitempty"`
}

// ApplicationResponse answers the application APIs: the Role API with
// Role only.
type ApplicationResponse struct {
	Application  *Application     `json:"application,omitempty"`
	Applications []Application    `json:"applications,omitempty"`
	Role         *ApplicationRole `json:"role,omitempty"`
}
