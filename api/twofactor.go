package api

// Two-factor methods (FusionAuth's TwoFactorMethod.method). Latch verifies
// codes of the authenticator method only: it delivers no email or SMS.
const (
	TwoFactorAuthenticator = "authenticator"
	TwoFactorEmail         = "email"
	TwoFactorSMS           = "sms"
)

// Multi-factor login policies (FusionAuth's MultiFactorLoginPolicy) of a
// tenant's or an application's multiFactorConfiguration.
const (
	// MultiFactorEnabled: a user with a two-factor method gives a code
	// (the tenant's default).
	MultiFactorEnabled = "Enabled"
	// MultiFactorRequired: every user gives a code.
	MultiFactorRequired = "Required"
	// MultiFactorDisabled: no second step.
	MultiFactorDisabled = "Disabled"
)

// Event types of two-factor methods.
const (
	// EventUserTwoFactorMethodAdd: a user enabled a two-factor method.
	EventUserTwoFactorMethodAdd = "user.two-factor.method.add"
	// EventUserTwoFactorMethodRemove: a user's two-factor method was removed.
	EventUserTwoFactorMethodRemove = "user.two-factor.method.remove"
)

// AuthenticatorConfiguration describes the codes of an authenticator
// method: Latch's are RFC 6238 TOTP, HmacSHA1, 6 digits, 30 seconds.
type AuthenticatorConfiguration struct {
	Algorithm  string `json:"algorithm,omitempty"`
	CodeLength int    `json:"codeLength,omitempty"`
	TimeStep   int    `json:"timeStep,omitempty"`
}

// TwoFactorMethod is one of a user's two-factor methods. The secret is
// never sent.
type TwoFactorMethod struct {
	ID            string                      `json:"id,omitempty"`
	Method        string                      `json:"method,omitempty"`
	Authenticator *AuthenticatorConfiguration `json:"authenticator,omitempty"`
	Email         string                      `json:"email,omitempty"`
	MobilePhone   string                      `json:"mobilePhone,omitempty"`
	Name          string                      `json:"name,omitempty"`
}

// UserTwoFactor is a user's twoFactor member: the methods enabled.
type UserTwoFactor struct {
	Methods []TwoFactorMethod `json:"methods,omitempty"`
}

// SecretResponse answers GET /api/two-factor/secret.
type SecretResponse struct {
	// Secret is the raw secret, standard base64.
	Secret string `json:"secret"`
	// SecretBase32Encoded is the secret in the base32 authenticator apps take.
	SecretBase32Encoded string `json:"secretBase32Encoded"`
	// OTPAuthURI (a Latch addition) is the otpauth://totp/ URI of the
	// secret for a QR code, given when the caller is a user (a JWT) or
	// names the loginId.
	OTPAuthURI string `json:"otpauthUri,omitempty"`
}

// TwoFactorRequest is the body of POST /api/user/two-factor (enable a
// method). The secret comes as Secret (base64) or SecretBase32Encoded.
type TwoFactorRequest struct {
	ApplicationID       string     `json:"applicationId,omitempty"`
	AuthenticatorID     string     `json:"authenticatorId,omitempty"`
	Code                string     `json:"code,omitempty"`
	Email               string     `json:"email,omitempty"`
	Method              string     `json:"method,omitempty"`
	MobilePhone         string     `json:"mobilePhone,omitempty"`
	Secret              string     `json:"secret,omitempty"`
	SecretBase32Encoded string     `json:"secretBase32Encoded,omitempty"`
	TwoFactorID         string     `json:"twoFactorId,omitempty"`
	EventInfo           *EventInfo `json:"eventInfo,omitempty"`
}

// TwoFactorResponse answers POST /api/user/two-factor: the recovery codes
// when the method is the user's first.
type TwoFactorResponse struct {
	Code          string   `json:"code,omitempty"`
	RecoveryCodes []string `json:"recoveryCodes,omitempty"`
}

// TwoFactorDisableRequest is the JSON body form of DELETE
// /api/user/two-factor: the method and a code of it, or a recovery code.
type TwoFactorDisableRequest struct {
	ApplicationID string     `json:"applicationId,omitempty"`
	Code          string     `json:"code,omitempty"`
	MethodID      string     `json:"methodId,omitempty"`
	EventInfo     *EventInfo `json:"eventInfo,omitempty"`
}

// TwoFactorRecoveryCodeResponse answers the recovery-code API. POST
// (generate) returns the new codes. Latch keeps recovery codes only as
// hashes, so GET cannot return them: it answers RecoveryCodeCount, the
// number still unused (a Latch addition), and no RecoveryCodes.
type TwoFactorRecoveryCodeResponse struct {
	RecoveryCodes     []string `json:"recoveryCodes,omitempty"`
	RecoveryCodeCount *int     `json:"recoveryCodeCount,omitempty"`
}

// TwoFactorLoginRequest is the body of POST /api/two-factor/login, the
// second step of a login that answered 242.
type TwoFactorLoginRequest struct {
	TwoFactorID   string     `json:"twoFactorId"`
	Code          string     `json:"code"`
	ApplicationID string     `json:"applicationId,omitempty"`
	TrustComputer bool       `json:"trustComputer,omitempty"`
	IPAddress     string     `json:"ipAddress,omitempty"`
	MetaData      *MetaData  `json:"metaData,omitempty"`
	NoJWT         bool       `json:"noJWT,omitempty"`
	UserID        string     `json:"userId,omitempty"`
	EventInfo     *EventInfo `json:"eventInfo,omitempty"`
	// DPoPJKT is the Latch extension of LoginRequest.DPoPJKT: honoured
	// only with an API key.
	DPoPJKT string `json:"dpopJkt,omitempty"`
}

// TenantMultiFactorConfiguration is a tenant's multiFactorConfiguration.
type TenantMultiFactorConfiguration struct {
	// LoginPolicy is MultiFactorEnabled ("" means it), Required or Disabled.
	LoginPolicy string `json:"loginPolicy,omitempty"`
}

// ApplicationMultiFactorConfiguration is an application's
// multiFactorConfiguration: its LoginPolicy, when set, overrides the
// tenant's.
type ApplicationMultiFactorConfiguration struct {
	LoginPolicy string `json:"loginPolicy,omitempty"`
}

// ExternalIdentifierConfiguration holds the lifetimes of the identifiers
// of two-factor logins; zero means FusionAuth's default (300 seconds for
// a twoFactorId, 30 days for a twoFactorTrustId).
type ExternalIdentifierConfiguration struct {
	TwoFactorIDTimeToLiveInSeconds      int `json:"twoFactorIdTimeToLiveInSeconds,omitempty"`
	TwoFactorTrustIDTimeToLiveInSeconds int `json:"twoFactorTrustIdTimeToLiveInSeconds,omitempty"`
}

// UserTwoFactorMethodEvent is user.two-factor.method.add and
// user.two-factor.method.remove.
type UserTwoFactorMethodEvent struct {
	BaseEvent
	User   *User           `json:"user,omitempty"`
	Method TwoFactorMethod `json:"method"`
}
