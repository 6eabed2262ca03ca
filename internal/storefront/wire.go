package storefront

import "github.com/latchid/latch/api"

// The JSON bodies of the storefront's API. Requests and responses are
// application/json; an app (cmd/mobile, the client SDK's users) may decode
// into these types.

// Product is one item of the catalogue.
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"priceCents"`
}

// ProductsResponse answers GET /api/products.
type ProductsResponse struct {
	Products []Product `json:"products"`
}

// CartItem is one line of a cart: a product, how many, at what unit price.
type CartItem struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"priceCents"`
}

// Cart answers GET /api/cart and the cart changes: the user's items in the
// order they were first added (never null), and the sum of quantity ×
// priceCents.
type Cart struct {
	Items      []CartItem `json:"items"`
	TotalCents int64      `json:"totalCents"`
}

// LoginRequest is the body of POST /api/login.
type LoginRequest struct {
	LoginID  string `json:"loginId"`
	Password string `json:"password"`
	// TwoFactorTrustID is what an earlier second step with trustDevice
	// answered: while it is valid, Latch asks this device for no code.
	TwoFactorTrustID string `json:"twoFactorTrustId,omitempty"`
}

// LoginResponse answers POST /api/login and POST /api/login/two-factor
// with 200.
type LoginResponse struct {
	User                   *api.User `json:"user,omitempty"`
	Token                  string    `json:"token,omitempty"`
	RefreshToken           string    `json:"refreshToken,omitempty"`
	TokenExpirationInstant int64     `json:"tokenExpirationInstant,omitempty"`
	// TwoFactorTrustID comes from a second step with trustDevice: the app
	// keeps it and sends it with its next logins (LoginRequest).
	TwoFactorTrustID string `json:"twoFactorTrustId,omitempty"`
}

// TwoFactorMethod is one second factor of a user: its id at Latch and its
// kind ("authenticator": a TOTP app).
type TwoFactorMethod struct {
	ID     string `json:"id"`
	Method string `json:"method"`
}

// TwoFactorPendingResponse answers POST /api/login with 202 when the
// password was right and a second factor is due: the app sends a code
// with TwoFactorID to POST /api/login/two-factor.
type TwoFactorPendingResponse struct {
	TwoFactorID string            `json:"twoFactorId"`
	Methods     []TwoFactorMethod `json:"methods"`
}

// TwoFactorLoginRequest is the body of POST /api/login/two-factor: the
// pending login's id, a code of the user's authenticator app (or a
// recovery code), and whether Latch should trust this device from now on
// (the answer then carries a twoFactorTrustId).
type TwoFactorLoginRequest struct {
	TwoFactorID string `json:"twoFactorId"`
	Code        string `json:"code"`
	TrustDevice bool   `json:"trustDevice"`
}

// TwoFactorStatus answers GET /api/account/two-factor.
type TwoFactorStatus struct {
	Enabled bool              `json:"enabled"`
	Methods []TwoFactorMethod `json:"methods"`
}

// TwoFactorSecretResponse answers POST /api/account/two-factor/secret: a
// new TOTP secret (base32, what a user types into an authenticator app)
// and its otpauth:// URI (what the app scans as a QR code).
type TwoFactorSecretResponse struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

// EnableTwoFactorRequest is the body of POST /api/account/two-factor:
// the secret of TwoFactorSecretResponse and a code the authenticator app
// computed from it.
type EnableTwoFactorRequest struct {
	Secret string `json:"secret"`
	Code   string `json:"code"`
}

// EnableTwoFactorResponse answers POST /api/account/two-factor: the
// recovery codes, each good for one login without the app, shown this
// once (empty when the user had a method already).
type EnableTwoFactorResponse struct {
	RecoveryCodes []string `json:"recoveryCodes"`
}

// DisableTwoFactorRequest is the body of DELETE /api/account/two-factor:
// a current code of the authenticator app, or a recovery code.
type DisableTwoFactorRequest struct {
	Code string `json:"code"`
}

// AddItemRequest is the body of POST /api/cart/items: Quantity (1 to
// MaxQuantity) more of the product SKU.
type AddItemRequest struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// LogoutRequest is the optional body of POST /api/logout. The refresh
// token normally travels in the Refresh-Token header, as the client SDK
// sends it; RefreshToken is for apps that prefer the body.
type LogoutRequest struct {
	Global       bool   `json:"global"`
	RefreshToken string `json:"refreshToken,omitempty"`
}

// ErrorResponse is the body of the storefront's own error answers. Error
// is a machine code (the member guard's 401 and 503 bodies use too, next
// to their error_description); Message is for people.
type ErrorResponse struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	// LockExpirationInstant comes with 409 login_prevented: when the lock
	// ends, in milliseconds since the epoch, if Latch said.
	LockExpirationInstant int64 `json:"lockExpirationInstant,omitempty"`
}

// Error codes of ErrorResponse.
const (
	CodeInvalidRequest         = "invalid_request"          // 400: malformed JSON, missing or bad field, body too large
	CodeUnsupportedMediaType   = "unsupported_media_type"   // 415: a body that is not JSON
	CodeInvalidCredentials     = "invalid_credentials"      // 401: wrong login id or password
	CodeNotRegistered          = "not_registered"           // 403: the user may not use this store
	CodeAccountExpired         = "account_expired"          // 403: Latch answered 410
	CodePasswordChangeRequired = "password_change_required" // 403: Latch answered 203
	CodeLoginIncomplete        = "login_incomplete"         // 403: another step (verification, two factors) is due
	CodeLoginPrevented         = "login_prevented"          // 409: locked after failed logins
	CodeAccountLocked          = "account_locked"           // 423: the account is disabled
	CodeNotFound               = "not_found"                // 404: unknown route, sku or cart item
	CodeMethodNotAllowed       = "method_not_allowed"       // 405
	CodeQuantityLimit          = "quantity_limit"           // 400: a line would exceed MaxQuantity
	CodeUnavailable            = "temporarily_unavailable"  // 503: Latch unreachable or failing
	CodeInternal               = "internal_error"           // 500
	CodeInvalidDPoPProof       = "invalid_dpop_proof"       // 400: a login's DPoP proof is bad, or missing when required
	CodeUseDPoPNonce           = "use_dpop_nonce"           // 400: a login's DPoP proof lacks the nonce of the DPoP-Nonce header
	CodeInvalidTwoFactorCode   = "invalid_two_factor_code"  // 401 on a login's second step, 400 on the account routes: a wrong code
	CodeTwoFactorExpired       = "two_factor_expired"       // 401: the twoFactorId is unknown, used or expired; log in again
)
