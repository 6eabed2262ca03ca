package api

// Headers between an app, its backend and Latch.
const (
	// HeaderRefreshToken carries the refresh token from the app to its
	// backend, and a rotated one back.
	HeaderRefreshToken = "Refresh-Token"
	// HeaderAccessToken carries a JWT that the backend refreshed for the app.
	HeaderAccessToken = "Access-Token"
	// HeaderDPoP carries an RFC 9449 DPoP proof.
	HeaderDPoP = "DPoP"
	// HeaderDPoPNonce carries a server-provided DPoP nonce.
	HeaderDPoPNonce = "DPoP-Nonce"
	// HeaderTenantID pins a request to a tenant, as in FusionAuth.
	HeaderTenantID = "X-FusionAuth-TenantId"
	// HeaderSignatureJWT carries the signature of a webhook delivery: a JWT
	// whose request_body_sha256 claim is the SHA-256 of the body.
	HeaderSignatureJWT = "X-FusionAuth-Signature-JWT"
)
