// Package guard protects an app backend's routes with Latch JWTs: it is
// the "Store" side of FusionAuth's mobile-login article (steps 6-16, and
// Latch's answers to the attacks of steps 18-21).
//
// The common case is three fields and one wrapper:
//
//	g, err := guard.New(guard.Config{
//		Issuer:   "https://latch.example.com",
//		Audience: "3c219e58-ed0e-4b18-ad48-f4f92793ae32", // the Latch application id
//		LatchURL: "https://latch.example.com",
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.Handle("GET /api/cart", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		claims, _ := guard.ClaimsFrom(r.Context())
//		fmt.Fprintf(w, "the cart of %s\n", claims.Subject)
//	})))
//	mux.Handle("DELETE /api/products/{sku}", g.Handler(guard.RequireRole("admin", deleteProduct)))
//	mux.Handle("POST /latch/events", g.Events()) // Latch's revocation webhook
//
// Everything else is optional, in groups: Config.Keys (where the keys
// come from, which algorithms), Config.DPoP (proofs of possession),
// Config.Revocations (the events handler, its store, the catch-up), and
// a few fields of Config itself (APIKey, which refreshes of DPoP-bound
// sessions and the catch-up need; the HTTP client, clock, logger and
// leeway; ClientAddress behind a proxy; RefreshWindow).
//
// # Verification
//
// A Guard verifies JWTs locally against Latch's published keys (the JWKS
// at LatchURL + "/.well-known/jwks.json", or KeyOptions.JWKSURL), cached:
// fetched again only for a kid it does not hold, never more often than
// KeyOptions.MinRefetchInterval (10 s), one fetch at a time however many
// requests wait for it, and in the background once the set is ten minutes
// old; when a fetch fails the last good set stays in use. A request with a
// valid JWT costs one signature check and no call to Latch. Each token is
// parsed once, by package internal/jws, the one JOSE parser of Latch's
// verifiers. Verify (and so Handler) refuses, in this order:
//
//   - anything but a compact JWS of at most 16 KiB, in base64url without
//     padding or stray bits, and a header with duplicate names;
//   - the header parameters jku, x5u, x5c, x5t, x5t#S256 and jwk (a key of
//     the token's own choosing, RFC 8725 §3.10), crit and b64, a missing
//     kid, and a typ other than at+jwt: only a JWT typed as an access
//     token (RFC 9068 §2.1) is one, so an OpenID Connect ID token, which
//     Latch signs with the same key for the same audience but types JWT,
//     is refused, and so is a token without typ;
//   - an alg that is not one of KeyOptions.Algorithms (ES256, RS256 and
//     EdDSA by default; never "none");
//   - a missing exp or sub, another iss than Config.Issuer, an aud without
//     Config.Audience, an exp that has passed, an nbf or iat in the
//     future, all with Config.Leeway (30 s);
//   - a kid the key set does not hold, an alg other than the one the key
//     was published for, and a bad signature, which the high-S twin of an
//     ECDSA signature is too: Latch makes each signature low-S (s <= n/2),
//     and the same token with s replaced by n−s, which plain ECDSA
//     verification accepts, would be a second string for it;
//   - a token a revocation covers (see Revocations below).
//
// The claim checks come before the key lookup and the signature: they are
// cheap and can only reject, so an expired token costs no signature check
// and no JWKS fetch. The claims are returned only once the signature has
// verified.
//
// # Refusals
//
// Every error of Verify and VerifyProof is an *Error whose Kind is one of
// five, for errors.Is; Code and Description are the answer Handler gives:
//
//	kind              Handler answers
//	ErrNoToken        401, WWW-Authenticate: Bearer (no error code)
//	ErrInvalidToken   401, invalid_token (or invalid_dpop_proof, use_dpop_nonce)
//	ErrExpired        401, invalid_token, "The access token expired."
//	ErrRevoked        401, invalid_token, "The access token has been revoked."
//	ErrUnavailable    503 with Retry-After (429 for dpop.ErrTooManyProofs)
//
// ErrUnavailable says nothing about the token: the key set could not be
// fetched, the revocations are not known, the DPoP replay cache failed,
// Latch could not refresh, or the request's context ended.
//
// # Handler
//
// Handler lets a request through to its handler only with a valid Latch
// JWT, and puts its claims in the request's context (ClaimsFrom) and the
// tokens it was served with (TokensFrom):
//
//   - "Authorization: Bearer <JWT>" (scheme case-insensitive) with a valid
//     JWT: the handler runs at once; Latch is not called (steps 6-8).
//   - A DPoP-bound JWT (one with cnf.jkt) is accepted only as
//     "Authorization: DPoP <JWT>" with a DPoP proof (see DPoP below). A
//     bound JWT presented as Bearer, or without a valid proof: 401 with a
//     DPoP challenge (error invalid_token or invalid_dpop_proof;
//     use_dpop_nonce and a DPoP-Nonce header when only the nonce is
//     missing), whatever the refresh token. An unbound JWT in the DPoP
//     scheme: 401 too. A proof sent along with an unbound Bearer JWT is
//     ignored.
//   - A valid JWT that expires within Config.RefreshWindow (a minute),
//     with a "Refresh-Token" header: guard refreshes it early, as below,
//     and hands the new tokens back; if that fails for any reason, the
//     handler runs with the JWT the request carried.
//   - The JWT expired, is invalid, revoked or missing, and the request
//     carries a "Refresh-Token" header: guard exchanges it at Latch's
//     /api/jwt/refresh, verifies the new JWT, sets the "Access-Token"
//     response header to it, and "Refresh-Token" to the new refresh token
//     when Latch rotated it, then runs the handler (steps 9-12).
//   - Otherwise, or when Latch refuses the refresh token (any 4xx but
//     429): 401 with "WWW-Authenticate: Bearer error="invalid_token""
//     (just "Bearer" when the request had no credentials at all), or a
//     DPoP challenge for a token in the DPoP scheme, and a JSON body
//     {"error","error_description"}; the handler does not run (steps
//     13-16). A Bearer challenge comes with a second one, DPoP
//     algs="...", which tells apps that DPoP is supported (RFC 9449 §7.1).
//   - ErrUnavailable: 503 with Retry-After and a JSON body; with a
//     Refresh-Token, a JWT whose revocations are not known is refreshed
//     instead, as an invalid one is. When the DPoP replay cache is full
//     for this client only (dpop.ErrTooManyProofs): 429 with Retry-After.
//
// Refreshing. Requests that present the same refresh token (with the same
// DPoP key) share one call to Latch and get the same tokens, as do
// requests presenting it up to ReuseWindow later, unless Forget or a
// revocation event dropped it; a backend that revokes a refresh token (a
// logout) calls Forget. Several Latch nodes may sit behind LatchURL:
// guard assumes no affinity, and Latch's refresh-token grace period covers
// two backends refreshing the same one-time-use token at once. With
// Config.APIKey, every refresh carries the app's address
// (Config.ClientAddress), so that Latch counts the refreshes it refuses
// against each app rather than against this backend.
//
// # DPoP
//
// A JWT with cnf.jkt (RFC 9449) is bound to the key of the app that
// logged in, and guard accepts it only with a DPoP proof of that key for
// this very request: for its method and URL (DPoPOptions.PublicURL),
// over this JWT (ath), fresh (iat within a minute, Config.Leeway ahead),
// never seen before (DPoPOptions.Replay; instances behind one URL share
// one), and with the current nonce when DPoPOptions.Nonces is set. A
// stolen JWT is of no use on its own (the article's step 21).
//
// Refreshing a bound session (the expired JWT has cnf.jkt, or comes in the
// DPoP scheme) needs a valid proof for the request, by the JWT's key, and
// Config.APIKey, with which guard asks Latch to refresh for the proof's
// key only (dpopJkt): a stolen refresh token is of no use without the
// device (step 19). Without an APIKey, bound sessions cannot be refreshed
// through this backend (401, and an error in the log). A backend binds a
// login the same way: it checks the proof of its own login route with
// VerifyProof and passes its key to Latch:
//
//	p, err := g.VerifyProof(r)
//	switch {
//	case err == nil:
//		req.DPoPJKT = p.JKT // the tokens Latch issues are bound to the app's key
//	case !errors.Is(err, dpop.ErrNoProof):
//		// answer 400 with the *guard.Error's Code (503 for ErrUnavailable)
//	}
//
// The proof of a valid bound JWT is charged to its key in the replay
// cache; any other (a refresh's, a login's) to the client's address
// (Config.ClientAddress, IPv6 by /64), so that one client's flood of
// proofs is refused (429) and everyone else served.
//
// # Revocations
//
// Latch revokes refresh tokens, but a JWT already issued stays valid
// until its exp. Mount the Events handler and register it in Latch as a
// signed webhook for jwt.refresh-token.revoke, and guard refuses
// (ErrRevoked, 401) the JWTs of a revoked session (by sid), and those of a
// user or an application issued until its revocation, for as long as
// they would otherwise live. The revocations are kept in a
// RevocationStore (RevocationOptions.Store), in memory by default;
// backend instances behind one webhook URL share one. A process that
// restarts forgets what its memory held, and one that was down missed
// what was sent meanwhile: with RevocationOptions.CatchUp (and an
// APIKey), guard reads the revocations of the last DefaultRevocationTTL
// from Latch's webhook event log before it trusts a JWT issued before
// it started, and the newer ones every minute after; until a catch-up
// has succeeded such a JWT is ErrUnavailable (503, or a refresh when the
// request carries a refresh token); the first such request waits for the
// catch-up. A JWT issued more than DefaultRevocationTTL before the Guard
// was made is always refused so. Latch logs only the events a webhook
// takes: register the Events handler too.
//
// # Dependencies
//
// guard depends on the wire types of package api, package dpop, the
// standard-library-only internal/jws and golang.org/x/sync only: nothing
// of the server, no JOSE library, and no database driver.
package guard
