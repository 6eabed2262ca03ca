package api

// Authentication types carried in the authenticationType claim.
const (
	AuthPassword     = "PASSWORD"
	AuthRefreshToken = "REFRESH_TOKEN"
	AuthUserCreate   = "USER_CREATE"
	AuthRegistration = "REGISTRATION"
)

// LoginRequest is the body of POST /api/login.
type LoginRequest struct {
	LoginID          string     `json:"loginId"`
	Password         string     `json:"password"`
	ApplicationID    string     `json:"applicationId,omitempty"`
	IPAddress        string     `json:"ipAddress,omitempty"`
	LoginIDTypes     []string   `json:"loginIdTypes,omitempty"`
	MetaData         *MetaData  `json:"metaData,omitempty"`
	NoJWT            bool       `json:"noJWT,omitempty"`
	NewDevice        bool       `json:"newDevice,omitempty"`
	TwoFactorTrustID string     `json:"twoFactorTrustId,omitempty"`
	EventInfo        *EventInfo `json:"eventInfo,omitempty"`
	// DPoPJKT is a Latch extension for app backends: the RFC 7638
	// thumbprint of the key the app proved to the backend with a DPoP
	// proof. Latch binds the tokens it issues to it. Honoured only on a
	// request authenticated with an API key.
	DPoPJKT string `json:"dpopJkt,omitempty"`
}

// MetaData describes the device a refresh token is issued to.
type MetaData struct {
	Device DeviceInfo     `json:"device"`
	Scopes []string       `json:"scopes,omitempty"`
	Data   map[string]any `json:"data,omitempty"`
}

// DeviceInfo names and describes a device.
type DeviceInfo struct {
	Description         string `json:"description,omitempty"`
	Name                string `json:"name,omitempty"`
	Type                string `json:"type,omitempty"`
	LastAccessedAddress string `json:"lastAccessedAddress,omitempty"`
	LastAccessedInstant int64  `json:"lastAccessedInstant,omitempty"`
}

// EventInfo describes the request behind an event.
type EventInfo struct {
	IPAddress         string         `json:"ipAddress,omitempty"`
	UserAgent         string         `json:"userAgent,omitempty"`
	DeviceName        string         `json:"deviceName,omitempty"`
	DeviceDescription string         `json:"deviceDescription,omitempty"`
	DeviceType        string         `json:"deviceType,omitempty"`
	OS                string         `json:"os,omitempty"`
	Data              map[string]any `json:"data,omitempty"`
	Location          map[string]any `json:"location,omitempty"`
}

// LoginResponse answers POST /api/login.
type LoginResponse struct {
	Token                  string                   `json:"token,omitempty"`
	TokenExpirationInstant int64                    `json:"tokenExpirationInstant,omitempty"`
	RefreshToken           string                   `json:"refreshToken,omitempty"`
	RefreshTokenID         string                   `json:"refreshTokenId,omitempty"`
	User                   *User                    `json:"user,omitempty"`
	ChangePasswordID       string                   `json:"changePasswordId,omitempty"`
	ChangePasswordReason   string                   `json:"changePasswordReason,omitempty"`
	Actions                []LoginPreventedResponse `json:"actions,omitempty"`
	// TwoFactorID and Methods come with 242: the login waits for a code
	// at POST /api/two-factor/login.
	TwoFactorID string            `json:"twoFactorId,omitempty"`
	Methods     []TwoFactorMethod `json:"methods,omitempty"`
	// TwoFactorTrustID comes with a two-factor login that asked to trust
	// the computer: a later login that presents it skips the code.
	TwoFactorTrustID string `json:"twoFactorTrustId,omitempty"`
}

// LoginPreventedResponse is one action that prevents a login (409).
type LoginPreventedResponse struct {
	ActionID      string `json:"actionId,omitempty"`
	Expiry        int64  `json:"expiry,omitempty"`
	Name          string `json:"name,omitempty"`
	LocalizedName string `json:"localizedName,omitempty"`
	Reason        string `json:"reason,omitempty"`
	ReasonCode    string `json:"reasonCode,omitempty"`
}

// RefreshRequest is the body of POST /api/jwt/refresh.
type RefreshRequest struct {
	RefreshToken        string     `json:"refreshToken"`
	Token               string     `json:"token,omitempty"`
	TimeToLiveInSeconds int        `json:"timeToLiveInSeconds,omitempty"`
	EventInfo           *EventInfo `json:"eventInfo,omitempty"`
	// DPoPJKT is a Latch extension for app backends: the thumbprint of the
	// key the app proved to the backend. A DPoP-bound refresh token is
	// refreshed only for its own key. Honoured only with an API key.
	DPoPJKT string `json:"dpopJkt,omitempty"`
}

// JWTRefreshResponse answers POST /api/jwt/refresh. RefreshToken is the
// presented value under the Reusable policy and the new one under OneTimeUse.
type JWTRefreshResponse struct {
	Token          string `json:"token"`
	RefreshToken   string `json:"refreshToken,omitempty"`
	RefreshTokenID string `json:"refreshTokenId,omitempty"`
}

// RefreshToken describes a refresh token. The server keeps only a hash of
// the value, so Token is never filled in.
type RefreshToken struct {
	ID            string         `json:"id"`
	ApplicationID string         `json:"applicationId,omitempty"`
	UserID        string         `json:"userId"`
	TenantID      string         `json:"tenantId,omitempty"`
	Token         string         `json:"token,omitempty"`
	InsertInstant int64          `json:"insertInstant"`
	StartInstant  int64          `json:"startInstant"`
	MetaData      MetaData       `json:"metaData"`
	Data          map[string]any `json:"data,omitempty"`
}

// RefreshTokenResponse answers GET /api/jwt/refresh/{id}.
type RefreshTokenResponse struct {
	RefreshToken *RefreshToken `json:"refreshToken"`
}

// RefreshTokensResponse answers GET /api/jwt/refresh?userId=.
type RefreshTokensResponse struct {
	RefreshTokens []RefreshToken `json:"refreshTokens"`
}

// RefreshTokenRevokeRequest is the JSON body form of DELETE /api/jwt/refresh.
type RefreshTokenRevokeRequest struct {
	Token         string     `json:"token,omitempty"`
	UserID        string     `json:"userId,omitempty"`
	ApplicationID string     `json:"applicationId,omitempty"`
	EventInfo     *EventInfo `json:"eventInfo,omitempty"`
}

// LogoutRequest is the JSON body form of POST /api/logout.
type LogoutRequest struct {
	Global       bool       `json:"global"`
	RefreshToken string     `json:"refreshToken,omitempty"`
	EventInfo    *EventInfo `json:"eventInfo,omitempty"`
	// DPoPJKT (a Latch extension, with an API key) is the thumbprint of
	// the app's DPoP key, which the backend verified a proof of: a
	// DPoP-bound refresh token ends sessions only for its own key.
	DPoPJKT string `json:"dpopJkt,omitempty"`
}

// ValidateResponse answers GET /api/jwt/validate with the token's claims.
type ValidateResponse struct {
	JWT map[string]any `json:"jwt"`
}

// AccessTokenResponse answers POST /oauth2/token (RFC 6749 §5.1).
type AccessTokenResponse struct {
	AccessToken    string `json:"access_token"`
	ExpiresIn      int64  `json:"expires_in"`
	TokenType      string `json:"token_type"`
	UserID         string `json:"userId,omitempty"`
	Scope          string `json:"scope,omitempty"`
	IDToken        string `json:"id_token,omitempty"`
	RefreshToken   string `json:"refresh_token,omitempty"`
	RefreshTokenID string `json:"refresh_token_id,omitempty"`
}

// StatusResponse answers GET /api/status.
type StatusResponse struct {
	Status string `json:"status"`
}
