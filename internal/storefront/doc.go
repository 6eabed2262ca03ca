// Package storefront is the article's Store: a small shop backend that
// logs users in through Latch and keeps a shopping cart per user, built on
// the guard middleware. It is Latch's reference integration and the test
// bed of the end-to-end tests; cmd/storefront runs it, and `latch demo`
// and tests run it in-process:
//
//	srv, err := storefront.Open(ctx, storefront.Config{
//		Addr:          "127.0.0.1:0",
//		LatchURL:      latchURL,
//		ApplicationID: appID,
//		APIKey:        apiKey,
//		DataDir:       dir,
//	})
//	if err != nil { ... }
//	go srv.Serve()
//	defer srv.Close()
//
// Open checks the application id and the API key at Latch before it
// returns (GET /api/application/{id} with the key): a key Latch refuses is
// ErrAPIKeyRefused, an application it does not know (for that key)
// ErrUnknownApplication, and a Latch that does not answer within
// Config.LatchWait an error too; the storefront does not start on a
// configuration that would fail every login.
//
// Routes (JSON bodies, Content-Type: application/json, errors as
// ErrorResponse {"error","message"} or, from guard, {"error",
// "error_description"}):
//
//	POST   /api/login            {"loginId","password","twoFactorTrustId"?} → 200 {"user","token","refreshToken","tokenExpirationInstant"}, or 202 {"twoFactorId","methods"}
//	POST   /api/login/two-factor {"twoFactorId","code","trustDevice"} → 200 as /api/login, with "twoFactorTrustId" when trustDevice
//	POST   /api/logout           {"global": bool} → 200 {}
//	GET    /api/products         → 200 {"products":[{"sku","name","priceCents"}]} (public)
//	GET    /api/cart             → 200 {"items":[{"sku","name","quantity","priceCents"}],"totalCents"}
//	POST   /api/cart/items       {"sku","quantity"} → 200 the cart
//	DELETE /api/cart/items/{sku} → 200 the cart
//	GET    /api/account/two-factor        → 200 {"enabled","methods":[{"id","method"}]}
//	POST   /api/account/two-factor/secret → 200 {"secret","uri"} (base32, otpauth://)
//	POST   /api/account/two-factor        {"secret","code"} → 200 {"recoveryCodes"}
//	DELETE /api/account/two-factor        {"code"} → 200 {}
//	POST   /latch/events         Latch's signed webhook events (EventsPath) → 200
//
// The cart routes sit behind guard: a request needs "Authorization: Bearer
// <JWT>" for the storefront's Latch application, or, for a DPoP-bound JWT,
// "Authorization: DPoP <JWT>" and a "DPoP" proof by the app's key for this
// request (its URL is Config.PublicURL followed by the path); with an
// expired JWT (or one expiring within a minute) and a "Refresh-Token"
// header guard refreshes the JWT at Latch, for the proof's key when the
// session is bound, and returns the new one in the Access-Token response
// header (and a rotated refresh token in Refresh-Token); otherwise the
// answer is 401 with WWW-Authenticate, and the cart is left as it was. The
// user is the JWT's sub; the storefront stores nothing else about users,
// and never a password or a token.
//
// POST /api/login relays the credentials to Latch's Login API with
// Config.ApplicationID, the API key, the peer's address as ipAddress (no
// X-Forwarded-For is trusted: behind a proxy that is the proxy's) and the
// User-Agent as metaData.device.description. When the request carries a
// DPoP proof (RFC 9449) for POST PublicURL/api/login, the storefront
// verifies it (guard.VerifyProof) and passes its key's thumbprint to
// Latch as dpopJkt, so that the tokens come back bound to the app's key;
// a bad proof is 400 invalid_dpop_proof, and a proof without a nonce the
// storefront requires 400 use_dpop_nonce with a DPoP-Nonce header. A
// login without a proof is unbound, or 400 invalid_dpop_proof with
// Config.RequireDPoP. The storefront maps Latch's answer:
//
//	Latch 200                 → 200 {"user","token","refreshToken","tokenExpirationInstant"}
//	Latch 242                 → 202 {"twoFactorId","methods":[{"id","method"}]} and no token: a code is due (403 login_incomplete without a method)
//	Latch 404                 → 401 invalid_credentials "Invalid login credentials." (unknown user and wrong password alike)
//	Latch 409                 → 409 login_prevented, with lockExpirationInstant and Retry-After while Latch's lockout holds
//	Latch 423                 → 423 account_locked
//	Latch 410                 → 403 account_expired: the password was right, so 401 ("try again") would mislead
//	Latch 202                 → 403 not_registered: the user is not registered for the application
//	Latch 203                 → 403 password_change_required; any other 2xx → 403 login_incomplete
//	Latch 400, 401            → 500 internal_error: the storefront's application id or API key went wrong since Open checked them (logged)
//	Latch 5xx, 429, no answer → 503 temporarily_unavailable, with Retry-After
//
// POST /api/login/two-factor completes a login that answered 202: it
// relays the twoFactorId and the code (of the authenticator app, or a
// recovery code) to Latch's POST /api/two-factor/login with the API key,
// the peer's address and, when the request carries a DPoP proof for POST
// PublicURL/api/login/two-factor, its key's thumbprint as dpopJkt, as the
// first step does; Latch holds the second step to the first one's
// client. The password is never asked again. Latch's 200 → 200 as a
// login (with twoFactorTrustId when trustDevice was asked: the app sends
// it with its next logins, which then need no code); 421 (a wrong code) →
// 401 invalid_two_factor_code, and the twoFactorId stays usable; 404 (an
// unknown, used or expired twoFactorId) → 401 two_factor_expired; 409 →
// 409 login_prevented, as a login's lockout, since failed codes count
// toward it; the rest as a login.
//
// The /api/account/two-factor routes sit behind guard and act for the
// JWT's user with the API key: GET tells whether the user has a second
// factor; POST .../secret asks Latch for a new TOTP secret and answers it
// in base32 with its otpauth:// URI (issuer TOTPIssuer, the account the
// JWT's email), storing nothing; POST with that secret and a code from
// the app enables the authenticator and answers the recovery codes, this
// once; DELETE with a current code or a recovery code removes it. A wrong
// code is 400 invalid_two_factor_code; DELETE for a user without the
// authenticator 404 not_found. Neither secrets nor codes are logged.
//
// A blank loginId or password, one holding a control character (NUL, a
// line break, a tab, DEL, the C1 range), a body that is not one JSON
// object, or one over 64 KiB gets 400 invalid_request without a call to
// Latch; a body
// whose Content-Type is not JSON gets 415. The refusals carry no
// WWW-Authenticate, which the client SDK reserves for the end of a
// session. Neither the password nor the login id is ever logged or
// stored, and no token is logged.
//
// POST /api/logout runs through guard first (so an expired JWT with a
// refresh token is refreshed, and the current, possibly rotated, refresh
// token is the one revoked), then revokes the refresh token from the
// Refresh-Token header (or the body's refreshToken) through Latch's
// /api/logout, global or not, even when guard refused the JWT. Without a
// refresh token, a valid JWT's session (its sid) or, with global, every
// refresh token of its user is revoked with the API key. It answers 200 {}
// (also when there was nothing to revoke), 400 for a malformed body, and
// 503 when Latch cannot be reached, so that the app can try again. It
// then has guard forget the refresh token (guard.Guard.Forget), so that a
// refresh guard made with it moments before is not handed out again.
//
// POST /latch/events is guard's Events handler: Latch's signed
// jwt.refresh-token.revoke events, after which the JWTs of a revoked
// session (or user, or application) are refused at once rather than when
// they expire (the article's step 21). With Config.RegisterWebhook the
// storefront registers that route at Latch itself when it opens. With an
// API key, guard also catches up on the revocations it missed
// (guard.RevocationOptions.CatchUp): a storefront that restarted after
// "log out everywhere", or that was down while Latch sent the event, reads them
// from Latch's webhook event log before it trusts a JWT issued before it
// started (503 until it could, unless the request carries a refresh
// token, which Latch refreshes only for a live session).
//
// Several storefronts behind one URL (the same Config.PublicURL) share
// guard's revocations and its DPoP replay cache through the Redis of
// Config.RedisURL (guard/redisstore, keys under RedisKeyPrefix and the
// application id): a revocation event that reaches one instance is
// honoured by all, and a DPoP proof accepted by one is refused by the
// others. Without it, each keeps both in memory.
//
// The cart routes answer 400 invalid_request for a bad body, sku or
// quantity (1 to MaxQuantity) and 400 quantity_limit when a line would
// exceed MaxQuantity, 404 not_found for an unknown sku or a product not in
// the cart, and 503 while Latch's issuer cannot be looked up. Unknown
// routes get a JSON 404, wrong methods a JSON 405 with Allow.
//
// With Config.TLSCertFile and TLSKeyFile the storefront serves HTTPS
// (TLS 1.2 at least, 1.3 preferred): the app sends the user's password to
// it.
//
// The storefront keeps its own SQLite database (DatabaseFile in
// Config.DataDir, a directory made 0700; pure-Go driver, WAL, foreign
// keys, embedded migrations), seeded with a handful of products on the
// first start. The database file is created 0600, and SQLite gives its
// -wal and -shm files the same mode.
package storefront
