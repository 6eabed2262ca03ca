// Package demo walks the article "Mobile login to backend with JWTs and
// refresh tokens" (FusionAuth, 2019) step by step against a real Latch and
// a real storefront, and checks that every step behaves as the article (and
// Latch's answers to its attack vectors) describe. `latch demo` runs it;
// the end-to-end tests run it too, so that the demo is itself tested.
//
// Start brings the system up in this process: Latch on a free loopback
// port with a temporary SQLite database, set up through a FusionAuth
// kickstart file (an application "Store" with the role customer, 5-minute
// JWTs, one-time-use refresh tokens with a grace period and reuse
// detection, a 60-minute sliding window, and the user ana@example.org),
// and the storefront (the article's Store) in front of it, which registers
// its webhook at Latch for revocation events as it opens. Latch, the
// storefront and the app share one Clock that moves only when the walk
// advances it, so that expiry is shown without sleeping and the walk runs
// in a second or two, the same way every time.
//
// Run walks the scenes of Scenes (the article's steps 1-21, numbered as
// in the article's spec, spec/article.md) with a client.Client as the app
// (DPoP on, as the SDK defaults: its tokens are bound to a key that never
// leaves the device), and raw net/http where the SDK would hide what a
// step shows (the attacker, with or without the device key). Three
// Recorders observe the wire: one on the app's HTTP client (Mobile →
// Store), one on the storefront's client to Latch (Store → Identity) and
// one on Latch's webhook deliveries (Identity → Store). Each line printed
// is one message of the article's sequence diagram, or what one party
// does:
//
//	 9  Mobile    → Store     GET /api/cart               DPoP JWT 08b15892 (expired 1m ago) + proof + Refresh-Token 15e2263e
//	10  Store     → Identity  POST /api/jwt/refresh       refresh token 15e2263e, for the key iFZP6CF3 (dpopJkt: the proof's key) + API key
//	11  Identity  → Store     200                         new JWT 9ca14cb9 (exp in 5m), bound to the same key; refresh token rotated → a2248bf7 (one-time use)
//	12  Store     → Mobile    200                         the cart: 2 × Latch mug (24.00) + Access-Token 9ca14cb9 + Refresh-Token a2248bf7
//	12  Mobile      replaces both tokens with the new ones
//
// Every line is also checked: a status, a header, a count of calls to
// Latch (none at all for step 7), a key binding, a delivered event or a
// session state that differs from the article's account (and Latch's
// answers) ends the walk with a *StepError naming the step. No password,
// no DPoP key or proof and no full token value is ever printed: tokens
// appear as the first 8 hex digits of their SHA-256, keys as the first 8
// characters of their public thumbprint.
//
// Scenes is the extension point: further answers join the walk as scenes
// of their own, in the table or through Options.Extra.
package demo
