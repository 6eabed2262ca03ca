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
// for concurrent use.
//
//	c := &client.Client{
//		BaseURL:         "https://shop.example.com",
//		Store:           &client.FileStore{Path: dir + "/tokens", KeyPath: dir + "/tokens.key"},
//		OnLoginRequired: func() { ui.ShowLoginForm() },
//	}
//	user, err := c.Login(ctx, "ana@example.org", password)
//	...
//	resp, err := c.HTTP().Get("https://shop.example.com/api/cart")
//
// What the Client does for each request to the backend (BaseURL's origin):
//
//   - It sends "Authorization: Bearer <JWT>", and "Refresh-Token: <refresh
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
//   - On 401 with WWW-Authenticate to a request that carried the refresh
//     token, the session is over: it clears the store, calls
//     OnLoginRequired once and returns the 401 response. When the request did
//     not carry the refresh token (the device clock may be behind the
//     backend's) it is retried once with it, if its body can be replayed.
//
// Requests to any other origin pass through untouched, so tokens never
// follow a redirect to another host. Login and Logout do not follow
// redirects at all.
//
// The package depends on the standard library and the api package only and
// uses no cgo, so that it builds for Android and iOS with gomobile. (gomobile
// bind exports only plain types; an app binds a small wrapper package of its
// own around a Client.)
package client
