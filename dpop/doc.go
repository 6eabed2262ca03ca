// Package dpop makes and checks DPoP proofs (RFC 9449), which bind Latch's
// tokens to a key held by the app's device: a stolen token is of no use
// without the key.
//
// An app holds a device key (GenerateKey; keep it with MarshalKey and
// ParseKey, or use a hardware-backed crypto.Signer) and sends a fresh proof
// in the DPoP header of every request: with the login, so that the tokens
// it gets are bound to the key (their cnf.jkt is the key's Thumbprint), and
// with every later request, carrying the hash of the access token it
// presents:
//
//	proof, err := dpop.NewProof(key, "GET", "https://shop.example.com/api/cart",
//		dpop.ProofOptions{AccessToken: token, Nonce: lastNonce})
//	if err != nil {
//		return err
//	}
//	req.Header.Set("Authorization", "DPoP "+token)
//	req.Header.Set(dpop.Header, proof)
//
// A server (Latch, or an app backend through guard) checks the proof
// against the request it came with, and against the token's binding:
//
//	v, err := dpop.NewVerifier(dpop.Config{Replay: &dpop.MemoryReplayCache{}})
//	...
//	raw, err := dpop.FromHeader(r.Header)
//	if err != nil {
//		return err // answer 401 (or 400 at a token endpoint), invalid_dpop_proof
//	}
//	p, err := v.Verify(r.Context(), raw, dpop.Request{
//		Method:      r.Method,
//		URL:         "https://shop.example.com" + r.URL.EscapedPath(), // as the client addressed it
//		AccessToken: token,
//		BoundJKT:    claims.Confirmation.JKT,
//	})
//	var nonceErr *dpop.NonceError
//	if errors.As(err, &nonceErr) {
//		w.Header().Set(dpop.NonceHeader, nonceErr.Nonce) // and answer use_dpop_nonce
//	}
//
// Verify applies every check of RFC 9449 §4.3, refuses what RFC 8725
// refuses (alg none and symmetric algorithms, keys named by reference,
// private keys in the jwk, unknown crit), and records each accepted proof
// in a ReplayCache so that it is accepted once. It is Check, every check
// but the replay cache, then Record: a caller that should record a proof
// only once the request has shown itself worth it (a refresh token found
// live, say) calls the two itself. MemoryReplayCache serves one process,
// and gives each client (Request.Client: the proof's key, or the address
// of a client without a verified access token) a bounded share, so that
// one client's flood of proofs fills its own share only; instances
// behind one URL need a shared cache. Server nonces (RFC 9449 §8, §9)
// are optional: HMACNonces issues stateless ones that every node sharing
// the secret accepts.
//
// dpop depends on the standard library and package api only, so that
// guard and client can use it without pulling in anything else.
package dpop
