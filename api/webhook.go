package api

// Event types Latch emits (FusionAuth's names). Webhooks and tenants may
// enable any of FusionAuth's event types; Latch sends only these.
const (
	// EventJWTRefreshTokenRevoke: refresh tokens were revoked (one, all of
	// a user, a user's for one application, or all of an application).
	EventJWTRefreshTokenRevoke = "jwt.refresh-token.revoke"
	// EventJWTRefresh: a JWT was refreshed with a refresh token.
	EventJWTRefresh = "jwt.refresh"
	// EventUserLoginSuccess: a user logged in with the right password.
	EventUserLoginSuccess = "user.login.success"
	// EventUserLoginFailed: an existing user presented a wrong password.
	EventUserLoginFailed = "user.login.failed"
	// The two-factor method events are in twofactor.go.
)

// Transaction types of a tenant's event configuration (FusionAuth's
// transactionType). Latch accepts every value and treats each as None:
// delivery is asynchronous, after the change committed, and at least once;
// a failing webhook never rolls a change back (Latch never answers 504).
const (
	TransactionNone             = "None"
	TransactionAny              = "Any"
	TransactionSimpleMajority   = "SimpleMajority"
	TransactionSuperMajority    = "SuperMajority"
	TransactionAbsoluteMajority = "AbsoluteMajority"
)

// SignatureClaimBodySHA256 is the claim of the X-FusionAuth-Signature-JWT
// header's JWT that holds the standard-base64 SHA-256 of the request body.
const SignatureClaimBodySHA256 = "request_body_sha256"

// Webhook is FusionAuth's Webhook object: where events are POSTed, and
// which. Timeouts are in milliseconds.
type Webhook struct {
	ID             string            `json:"id,omitempty"`
	URL            string            `json:"url"`
	Description    string            `json:"description,omitempty"`
	ConnectTimeout int               `json:"connectTimeout"`
	ReadTimeout    int               `json:"readTimeout"`
	Headers        map[string]string `json:"headers,omitempty"`
	// HTTPAuthenticationUsername and HTTPAuthenticationPassword, when set,
	// are sent as HTTP Basic authentication.
	HTTPAuthenticationUsername string `json:"httpAuthenticationUsername,omitempty"`
	HTTPAuthenticationPassword string `json:"httpAuthenticationPassword,omitempty"`
	// EventsEnabled says which event types the webhook receives.
	EventsEnabled map[string]bool `json:"eventsEnabled,omitempty"`
	// Global webhooks receive the events of every tenant; others those of
	// TenantIDs only.
	Global                 bool                          `json:"global"`
	TenantIDs              []string                      `json:"tenantIds,omitempty"`
	SignatureConfiguration WebhookSignatureConfiguration `json:"signatureConfiguration"`
	Data                   map[string]any                `json:"data,omitempty"`
	InsertInstant          int64                         `json:"insertInstant,omitempty"`
	LastUpdateInstant      int64                         `json:"lastUpdateInstant,omitempty"`
}

// WebhookSignatureConfiguration signs deliveries: the
// X-FusionAuth-Signature-JWT header carries a JWT signed with the key
// SigningKeyID names (of the Key API), whose request_body_sha256 claim is
// the SHA-256 of the body.
type WebhookSignatureConfiguration struct {
	Enabled      bool   `json:"enabled"`
	SigningKeyID string `json:"signingKeyId,omitempty"`
}

// WebhookRequest is the body of the Webhook API.
type WebhookRequest struct {
	Webhook Webhook `json:"webhook"`
}

// WebhookResponse answers the Webhook API.
type WebhookResponse struct {
	Webhook  *Webhook  `json:"webhook,omitempty"`
	Webhooks []Webhook `json:"webhooks,omitempty"`
}

// EventConfiguration is a tenant's switchboard of events: an event type is
// sent to webhooks only when the tenant enables it (and the webhook does).
type EventConfiguration struct {
	Events map[string]EventConfigurationData `json:"events,omitempty"`
}

// EventConfigurationData configures one event type for a tenant.
type EventConfigurationData struct {
	Enabled bool `json:"enabled"`
	// TransactionType is accepted and kept, and treated as None whatever it
	// says (see TransactionNone).
	TransactionType string `json:"transactionType,omitempty"`
}

// Enabled reports whether the configuration enables the event type.
func (c EventConfiguration) Enabled(eventType string) bool {
	return c.Events[eventType].Enabled
}
