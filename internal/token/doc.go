// Package token implements Latch's token primitives: the signing key ring
// (ES256, RS256, EdDSA and HS256 keys), JWT signing and strict verification
// (RFC 7515, RFC 7519, RFC 8725, RFC 9068), the registered-claims checks,
// public key publication (RFC 7517 JWKs, RFC 7638 thumbprints, PEM), the
// at-rest encryption of private key material (AES-256-GCM), and the opaque
// secrets Latch hands out: refresh tokens, API keys and client secrets,
// which are stored only as SHA-256 hashes.
//
// JOSE processing is delegated to github.com/go-jose/go-jose/v4; this
// package adds the policy on top of it. Verify accepts only compact JWS
// tokens whose "alg" is exactly the algorithm of the key named by "kid", and
// refuses every header that could make the token choose its own
// verification key (jku, x5u, x5c, jwk) or extend the processing rules
// (crit, b64). Sign types each token (at+jwt for access tokens, JWT for
// the rest) and Verify takes a token only as the type its caller asks
// for, so that an ID token is never an access token; ES256 signatures are
// made low-S and only low-S ones verify, so that a token has one string.
// Verify checks only the header and the signature; time, issuer and
// audience checks are Claims.Validate's job.
package token
