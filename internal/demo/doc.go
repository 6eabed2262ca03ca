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
// and the storefront (the article's Store) in front of it. Latch, the
// storefront and the app share one Clock that moves only when the walk
// advances it, so that expiry is shown without sleeping and the walk runs
// in a second or two, the same way every time.
//
// Run walks the scenes of Scenes (the article's steps 1-21, numbered as
// in the article's spec, spec/article.md) with a client.Client as the app,
// and raw net/http where the SDK would hide what a step shows (the
// attacker). Two Recorders observe the wire: one on the app's HTTP client
// (Mobile → Store) and one on the storefront's client to Latch (Store →
// Identity). Each line printed is one message of the article's sequence
// diagram, or what one party does:
//
//	 9  Mobile    → Store     GET /api/cart               Bearer JWT b5239492 (expired 1m ago) + Refresh-Token ab3560e4
//	10  Store     → Identity  POST /api/jwt/refresh       refresh token ab3560e4
//	11  Identity  → Store     200                         new JWT b144fe3e (exp in 5m); refresh token rotated → 6d6ac2f0 (one-time use)
//	12  Store     → Mobile    200                         the cart: 2 × Latch mug (24.00) + Access-Token b144fe3e + Refresh-Token 6d6ac2f0
//	12  Mobile      replaces both tokens with the new ones
//
// Every line is also checked: a status, a header, a count of calls to
// Latch (none at all for step 7) or a session state that differs from the
// article's account ends the walk with a *StepError naming the step. No
// password and no full token value is ever printed: tokens appear as the
// first 8 hex digits of their SHA-256.
//
// Scenes is the extension point: Latch's answers that guard and the client
// do not implement yet (DPoP-bound tokens, revocation events that reach the
// Store) join the walk as scenes of their own, in the table or through
// Options.Extra.
package demo
