// Package guard protects an app backend's routes with Latch JWTs: it is
// the "Store" side of FusionAuth's mobile-login article (steps 6-16).
//
// A Guard verifies JWTs locally against Latch's published keys (the JWKS,
// cached, fetched again only on an unknown kid and never more often than
// MinJWKSRefetchInterval), so a request with a valid JWT costs one
// signature check and no call to Latch. When the JWT has expired and the
// request carries a Refresh-Token header, Handler exchanges the refresh
// token at Latch, hands the new JWT (and the rotated refresh token) back
// in the Access-Token and Refresh-Token response headers, and serves the
// request; when Latch refuses, it answers 401 and the app logs in again.
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
// webhook URL share one (see RevocationStore).
//
// Several Latch nodes may sit behind LatchURL: guard assumes no affinity,
// and Latch's refresh-token grace period covers two backends refreshing
// the same one-time-use token at once. Within one process, requests that
// present the same refresh token share one refresh.
//
// guard depends on the wire types of package api, go-jose and
// golang.org/x/sync only: nothing of the server, and no database driver.
package guard
