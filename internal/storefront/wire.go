package storefront

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
)
