package api

// Tenant is FusionAuth's Tenant object: the issuer, the default token
// configuration and the login defences shared by its applications.
type Tenant struct {
	ID                                string                            `json:"id,omitempty"`
	Name                              string                            `json:"name"`
	Issuer                            string                            `json:"issuer,omitempty"`
	JWTConfiguration                  JWTConfiguration                  `json:"jwtConfiguration"`
	LoginConfiguration                TenantLoginConfiguration          `json:"loginConfiguration"`
	FailedAuthenticationConfiguration FailedAuthenticationConfiguration `json:"failedAuthenticationConfiguration"`
	PasswordValidationRules           PasswordValidationRules           `json:"passwordValidationRules"`
	EventConfiguration                EventConfiguration                `json:"eventConfiguration"`
	MultiFactorConfiguration          TenantMultiFactorConfiguration    `json:"multiFactorConfiguration"`
	ExternalIdentifierConfiguration   ExternalIdentifierConfiguration   `json:"externalIdentifierConfiguration"`
	// HTTPSessionMaxInactiveInterval is how long, in seconds, the hosted
	// login page's SSO session lives without use (FusionAuth's
	// httpSessionMaxInactiveInterval); 0 means the default, 3600.
	HTTPSessionMaxInactiveInterval int            `json:"httpSessionMaxInactiveInterval,omitempty"`
	Data                           map[string]any `json:"data,omitempty"`
	InsertInstant                  int64          `json:"insertInstant,omitempty"`
	LastUpdateInstant              int64          `json:"lastUpdateInstant,omitempty"`
}

// TenantLoginConfiguration governs the Login API when no application is named.
type TenantLoginConfiguration struct {
	RequireAuthentication bool `json:"requireAuthentication"`
}

// FailedAuthenticationConfiguration is the account lockout policy.
type FailedAuthenticationConfiguration struct {
	TooManyAttempts     int    `json:"tooManyAttempts"`
	ResetCountInSeconds int    `json:"resetCountInSeconds"`
	ActionDuration      int64  `json:"actionDuration"`
	ActionDurationUnit  string `json:"actionDurationUnit"`
	UserActionID        string `json:"userActionId,omitempty"`
}

// PasswordValidationRules bound the length of new passwords.
type PasswordValidationRules struct {
	MinLength int `json:"minLength"`
	MaxLength int `json:"maxLength"`
}

// TenantRequest is the body of the tenant APIs.
type TenantRequest struct {
	Tenant Tenant `json:"tenant"`
}

// TenantResponse answers the tenant APIs.
type TenantResponse struct {
	Tenant  *Tenant  `json:"tenant,omitempty"`
	Tenants []Tenant `json:"tenants,omitempty"`
}
