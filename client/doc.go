// Package client is the SDK a mobile app (or any Go program) uses to talk
// to its own backend in the login flow of FusionAuth's article "Mobile
// login to backend with JWTs and refresh tokens": the app posts the user's
// credentials to the backend, keeps the JWT and the refresh token the
// backend hands back, sends the JWT with every request and, when the JWT
// is about to expire, the refresh token too, so that the backend (through
// the guard middleware) refreshes it and answers with new tokens in the
// Access-Token and Refresh-Token response headers.
//
// A Client is configured through its exported fields, which may be changed
// until its first method call (like tsnet.Server); afterwards it is safe
// for concurrent use. Validate checks them up front, without touching the
// store or the network, and reports each problem as a *ConfigError.
// CheckResponse turns the backend's error answers to the app's own
// requests into an *APIError, as Login and Logout report theirs.
//
//	c := &client.Client{
//		BaseURL:         "https://shop.example.com",
//		Store:           &client.FileStore{Path: dir + "/tokens", KeyPath: dir + "/tokens.key"},
//		OnLoginRequired: func() { ui.ShowLoginForm() },
//	}
//	if err := c.Validate(); err != nil {
//		... // a bad BaseURL, a FileStore without a Path
//	}
//	user, err := c.Login(ctx, "ana@example.org", password)
//	if tf := (*client.TwoFactorRequiredError)(nil); errors.As(err, &tf) {
//		// The password was right; the user's authenticator app has the rest.
//		user, err = c.CompleteTwoFactor(ctx, askForCode(), trustThisDevice)
//	}
//	...
//	resp, err := c.HTTP().Get("https://shop.example.com/api/cart")
//	...
//	defer resp.Body.Close()
//	if err := client.CheckResponse(resp); err != nil {
//		... // an *APIError: Status, Code, Message
//	}
//
// What the Client does for each request to the backend (BaseURL's origin):
//
//   - It sends the JWT in Authorization, and "Refresh-Token: <refresh
//     token>" only when the JWT has expired or expires within RefreshWindow,
//     judged from the JWT's exp claim, read without verification (the app
//     cannot verify the JWT and needs only the hint), or else from the login
//     response's tokenExpirationInstant. When the expiry is unknown it always
//     sends the refresh token, as the article's app does.
//   - One request at a time carries the refresh token: others that need a
//     refresh wait for it and then use whatever tokens it brought back, so
//     that no request presents a refresh token that the backend has already
//     rotated (which reuse detection would punish by revoking the session).
//   - It adopts the Access-Token (and Refresh-Token, when the refresh token
//     rotated) response headers into the TokenStore in one Save.
//   - On 401 with WWW-Authenticate (other than a DPoP nonce challenge) to
//     a request that carried the refresh token, the session is over: it clears the store, calls
//     OnLoginRequired once and returns the 401 response. When the request did
//     not carry the refresh token (the device clock may be behind the
//     backend's) it is retried once with it, if its body can be replayed.
//
// Requests to any other origin pass through untouched, so tokens never
// follow a redirect to another host. Login and Logout do not follow
// redirects at all.
//
// # DPoP
//
// Unless DisableDPoP is set, the Client sender-constrains the tokens with
// DPoP (RFC 9449, through package dpop), so that a stolen JWT or refresh
// token is useless without the device:
//
//   - The device key, a P-256 key, is made at the first Login and kept in
//     the TokenStore (Tokens.DPoPKey; FileStore encrypts it with the
//     tokens). It identifies the device and outlives sessions: Logout and
//     the end of a session forget the tokens and keep the key (see
//     TokenStore). Stored Tokens that cannot be read (a tampered FileStore,
//     a key that does not parse) fail closed: nothing they hold is used;
//     Tokens and requests return an error and send nothing, until Login
//     starts over with a new key, or Logout clears them.
//   - Login, Logout and every request that carries the JWT send a new
//     proof made with the key in the DPoP header, for the request's method
//     and URL (without query and fragment), with a new jti, iat from Now
//     and, with a JWT, ath, its hash. A JWT bound to the key (its payload
//     has cnf.jkt) goes as "Authorization: DPoP <JWT>", any other as
//     "Authorization: Bearer <JWT>", so a backend that ignores DPoP, and
//     issues unbound tokens, works as before. The request carrying the
//     refresh token proves the key too, and the backend refreshes for that
//     key.
//   - When the backend asks for a nonce (RFC 9449 §8, §9: a 401 with
//     "WWW-Authenticate: DPoP error="use_dpop_nonce"", or a 400 whose JSON
//     error is use_dpop_nonce, with a DPoP-Nonce header), the Client keeps
//     the nonce and sends the request again, once, with a new proof
//     carrying it. A second such answer goes back to the caller. Neither
//     ends the session. The DPoP-Nonce of a 2xx response is used in later
//     proofs.
//
// Neither the key nor a proof appears in an error. Tokens.DPoPThumbprint
// names the key and Tokens.DPoPBound tells whether the JWT is bound, for
// an app that shows its session.
//
// The package depends on the standard library and the api and dpop
// packages only and uses no cgo, so that it builds for Android and iOS
// with gomobile. gomobile bind exports only plain types: package
// client/mobile is the Client behind such an API, ready to bind.
package client
