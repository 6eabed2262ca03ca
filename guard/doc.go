// Package guard protects an app backend's routes with Latch JWTs: it is
// the "Store" side of FusionAuth's mobile-login article (steps 6-16, and
// Latch's answers to the attacks of steps 18-21).
//
// A Guard verifies JWTs locally against Latch's published keys (the JWKS,
// cached, fetched again only on an unknown kid and never more often than
// MinJWKSRefetchInterval), so a request with a valid JWT costs one
// signature check and no call to Latch. Only access tokens pass: JWTs
// typed at+jwt (RFC 9068), never Latch's OpenID Connect ID tokens (typed
// JWT, signed by the same keys), and only with the low-S form of an ECDSA
// signature, the one Latch makes, so that each token has one string.
//
// When the JWT has expired (or is refused) and the request carries a
// Refresh-Token header, Handler exchanges the refresh token at Latch,
// hands the new JWT (and the rotated refresh token) back in the
// Access-Token and Refresh-Token response headers, and serves the
// request; when Latch refuses, it answers 401 and the app logs in again.
// A JWT that is still valid but expires within Config.RefreshWindow (a
// minute) is refreshed early when the request carries a Refresh-Token, as
// the client SDK sends it then.
//
// Integration:
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
//	log.Fatal(http.ListenAndServe(":8080", mux))
//
// Revocation. Latch revokes refresh tokens, but a JWT already issued
// stays valid until its exp. Mount the Events handler and register it in
// Latch as a signed webhook for jwt.refresh-token.revoke:
//
//	mux.Handle("POST /latch/events", g.Events())
//
// and guard refuses, with 401, the JWTs of a revoked session (by sid) and
// those of a user or an application issued until its revocation, for as
// long as they would otherwise live. The revocations are kept in a
// RevocationStore, in memory by default; backend instances behind one
// webhook URL share one (see RevocationStore). A process that restarts
// forgets what its memory held, and one that was down missed what was
// sent meanwhile: with Config.CatchUp (and an APIKey), guard reads the
// revocations of the last DefaultRevocationTTL from Latch's webhook event
// log before it trusts a JWT issued before it started, and the newer ones
// every minute after.
//
// DPoP (RFC 9449). A JWT with cnf.jkt is bound to the key of the app that
// logged in, and guard accepts it only as "Authorization: DPoP <JWT>" with
// a DPoP proof of that key for this very request: a stolen JWT is of no
// use on its own (the article's step 21). The proof names the request's
// URL as the app addressed it, so a backend behind a proxy sets
// Config.PublicURL. Refreshing a bound session needs a proof too, and
// Config.APIKey, with which guard asks Latch to refresh for the proof's key
// only: a stolen refresh token is of no use without the device (step 19).
// A backend binds a login the same way: it checks the proof of its own
// login route with VerifyProof and passes its key to Latch as dpopJkt:
//
//	g, err := guard.New(guard.Config{
//		Issuer:    "https://latch.example.com",
//		Audience:  appID,
//		LatchURL:  "https://latch.example.com",
//		PublicURL: "https://shop.example.com",
//		APIKey:    os.Getenv("LATCH_API_KEY"),
//	})
//	...
//	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
//		req := api.LoginRequest{ /* the credentials */ }
//		p, err := g.VerifyProof(r)
//		switch {
//		case err == nil:
//			req.DPoPJKT = p.JKT // the tokens Latch issues are bound to the app's key
//		case !errors.Is(err, dpop.ErrNoProof):
//			// answer 400 invalid_dpop_proof (use_dpop_nonce for a *dpop.NonceError)
//		}
//		// POST req to Latch's /api/login with the API key ...
//	})
//
// Proofs are accepted once (Config.DPoPReplay; instances behind one URL
// share one) and server nonces are optional (Config.DPoPNonces).
//
// Several Latch nodes may sit behind LatchURL: guard assumes no affinity,
// and Latch's refresh-token grace period covers two backends refreshing
// the same one-time-use token at once. Within one process, requests that
// present the same refresh token (with the same DPoP key) share one
// refresh, and requests presenting it within ReuseWindow after get the
// same answer; a backend that revokes a refresh token (a logout) calls
// Forget, so that no request buys a JWT with it from that cache.
//
// guard depends on the wire types of package api, package dpop, go-jose
// and golang.org/x/sync only: nothing of the server, and no database
// driver.
package guard
