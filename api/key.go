package api

// Key algorithms of the Key API that are not spelled as the JWS
// algorithm they sign with: FusionAuth's KeyAlgorithm names an Ed25519
// key Ed25519, while its JWTs' alg is EdDSA (RFC 8037). The others
// (ES256, RS256, HS256) are spelled alike.
const (
	KeyAlgorithmEd25519 = "Ed25519"
)

// Key is a signing key of FusionAuth's Key API. Private material never
// leaves the server; PublicKey is a PEM SubjectPublicKeyInfo. Algorithm
// is FusionAuth's KeyAlgorithm (see KeyAlgorithmEd25519), Type its
// KeyType: EC, RSA, OKP or HMAC.
type Key struct {
	ID        string `json:"id,omitempty"`
	Algorithm string `json:"algorithm"`
	Name      string `json:"name,omitempty"`
	Type      string `json:"type,omitempty"`
	Kid       string `json:"kid,omitempty"`
	Length    int    `json:"length,omitempty"`
	PublicKey string `json:"publicKey,omitempty"`
	// HasPrivateKey says whether the server holds the key's private part
	// (it never shows it): true for a key pair it generated. As in
	// FusionAuth it is left out for HMAC keys, which are one secret.
	HasPrivateKey     *bool `json:"hasPrivateKey,omitempty"`
	InsertInstant     int64 `json:"insertInstant,omitempty"`
	LastUpdateInstant int64 `json:"lastUpdateInstant,omitempty"`
	ExpirationInstant int64 `json:"expirationInstant,omitempty"`
}

// KeyRequest is the body of POST /api/key/generate.
type KeyRequest struct {
	Key Key `json:"key"`
}

// KeyResponse answers the Key API.
type KeyResponse struct {
	Key  *Key  `json:"key,omitempty"`
	Keys []Key `json:"keys,omitempty"`
}

// APIKey is an API key. Key is the secret; the server shows it once, when
// the key is made, and keeps only its hash.
type APIKey struct {
	ID            string            `json:"id,omitempty"`
	Key           string            `json:"key,omitempty"`
	TenantID      string            `json:"tenantId,omitempty"`
	MetaData      APIKeyMetaData    `json:"metaData"`
	Permissions   APIKeyPermissions `json:"permissions"`
	InsertInstant int64             `json:"insertInstant,omitempty"`
}

// APIKeyMetaData describes an API key.
type APIKeyMetaData struct {
	Attributes map[string]string `json:"attributes,omitempty"`
}

// APIKeyPermissions limits an API key to endpoints and HTTP methods. A key
// with no endpoints may call every API.
type APIKeyPermissions struct {
	Endpoints map[string][]string `json:"endpoints,omitempty"`
}

// APIKeyRequest is the body of POST /api/api-key.
type APIKeyRequest struct {
	APIKey APIKey `json:"apiKey"`
}

// APIKeyResponse answers the API key API.
type APIKeyResponse struct {
	APIKey  *APIKey  `json:"apiKey,omitempty"`
	APIKeys []APIKey `json:"apiKeys,omitempty"`
}

// PublicKeyResponse answers GET /api/jwt/public-key.
type PublicKeyResponse struct {
	PublicKey  string            `json:"publicKey,omitempty"`
	PublicKeys map[string]string `json:"publicKeys,omitempty"`
}
