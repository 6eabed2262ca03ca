package dpop

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchid/latch/internal/jws"
)

// Limits and defaults of Verify.
const (
	// MaxProofSize is the largest proof FromHeader and Verify read, in
	// bytes. A proof with a P-256 key is about 500.
	MaxProofSize = 8 << 10
	// MaxJTILength is the longest jti accepted, in bytes (RFC 9449 §11.1:
	// refuse unnecessarily large ones). 16 random bytes in base64url are 22.
	MaxJTILength = 256
	// DefaultWindow is how long after its iat a proof is accepted.
	DefaultWindow = 60 * time.Second
	// DefaultSkew is how far in the future an iat may lie, for clients
	// whose clocks run ahead.
	DefaultSkew = 5 * time.Second
)

// DefaultAlgorithms returns the algorithms a Verifier accepts unless
// Config.Algorithms says otherwise: ES256, EdDSA and RS256.
func DefaultAlgorithms() []string { return []string{"ES256", "EdDSA", "RS256"} }

// SupportedAlgorithms returns every algorithm Config.Algorithms may name:
// ES256, ES384, ES512, EdDSA and RS256. All are asymmetric: "none" and
// HS* can never be allowed (RFC 9449 §11.6).
func SupportedAlgorithms() []string { return []string{"ES256", "ES384", "ES512", "EdDSA", "RS256"} }

// Config configures a Verifier.
type Config struct {
	// Algorithms are the accepted proof algorithms, a subset of
	// SupportedAlgorithms(); nil means DefaultAlgorithms(). Publish them
	// (Verifier.Algorithms) as dpop_signing_alg_values_supported.
	Algorithms []string
	// Window is how long after its iat a proof is accepted; zero means
	// DefaultWindow. Keep it short (RFC 9449 §11.1): the replay cache holds
	// every accepted proof this long.
	Window time.Duration
	// Skew is how far in the future an iat may lie; zero means DefaultSkew.
	Skew time.Duration
	// Replay records accepted proofs so that none is accepted twice. It is
	// required. A MemoryReplayCache serves one process; several instances
	// behind one URL need one shared cache, or a proof accepted by one can
	// be replayed at another.
	Replay ReplayCache
	// Nonce, when set, makes Verify require a nonce claim that Nonce
	// accepts (RFC 9449 §8, §9), answering *NonceError otherwise.
	Nonce NonceSource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks DPoP proofs (RFC 9449 §4.3). It is safe for concurrent
// use.
type Verifier struct {
	algs   []string
	window time.Duration
	skew   time.Duration
	replay ReplayCache
	nonce  NonceSource
	now    func() time.Time
}

// NewVerifier returns a Verifier for cfg, or an error if cfg names an
// unsupported algorithm or none, a negative duration, or no replay cache.
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{
		algs:   slices.Clone(cfg.Algorithms),
		window: cfg.Window,
		skew:   cfg.Skew,
		replay: cfg.Replay,
		nonce:  cfg.Nonce,
		now:    cfg.Now,
	}
	if v.replay == nil {
		return nil, errors.New("dpop: Config.Replay is required")
	}
	if v.algs == nil {
		v.algs = DefaultAlgorithms()
	}
	if len(v.algs) == 0 {
		return nil, errors.New("dpop: Config.Algorithms is empty")
	}
	for _, a := range v.algs {
		if algorithms[a] == nil {
			return nil, fmt.Errorf("dpop: algorithm %q is not supported (supported: %s)", a, strings.Join(SupportedAlgorithms(), ", "))
		}
	}
	if v.window < 0 || v.skew < 0 {
		return nil, errors.New("dpop: Config.Window and Config.Skew must not be negative")
	}
	if v.window == 0 {
		v.window = DefaultWindow
	}
	if v.skew == 0 {
		v.skew = DefaultSkew
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Algorithms returns the algorithms v accepts.
func (v *Verifier) Algorithms() []string { return slices.Clone(v.algs) }

// Request is what a proof is checked against.
type Request struct {
	// Method is the request's HTTP method.
	Method string
	// URL is the request's absolute URL as the client addressed it: the
	// externally visible scheme and host (behind a proxy, not the ones the
	// backend sees) and the path as sent, still escaped
	// (r.URL.EscapedPath(), not r.URL.Path). Query and fragment are
	// ignored.
	URL string
	// AccessToken, when set, is the access token presented with the
	// proof: the proof's ath must be its hash.
	AccessToken string
	// BoundJKT, when set, is the thumbprint the access token is bound to
	// (its cnf.jkt): the proof's key must have it.
	BoundJKT string
	// Client names who the proof is charged to in the replay cache (a
	// MemoryReplayCache holds at most MaxPerClient records for one
	// client); empty means the proof key's thumbprint. The thumbprint is
	// right for a proof that comes with an access token bound to its key
	// that has verified: only the token's holder makes such proofs. A
	// client without one (a login, a refresh of an expired token) can
	// make up a new key for every proof, so name the client's address,
	// or one client could take every share.
	Client string
}

// Proof is a verified proof.
type Proof struct {
	// JKT is the RFC 7638 thumbprint of the proof's key: bind issued
	// tokens to it (cnf.jkt).
	JKT string
	// JTI is the proof's unique id.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Key is the proof's public key: an *ecdsa.PublicKey, an
	// ed25519.PublicKey or an *rsa.PublicKey.
	Key crypto.PublicKey
	// Client is who the proof is charged to in the replay cache: the
	// Request.Client it was checked for, or JKT when that was empty.
	Client string
}

// Verify checks proof, the one value of a request's DPoP header, against
// req, as RFC 9449 §4.3 asks: a compact JWS of at most MaxProofSize bytes;
// typ dpop+jwt; alg one of the allowed and the algorithm of the jwk's key;
// a jwk holding a public key only, and no other key source; a signature
// valid with that key; htm the request's method and htu its URL; iat
// within the window; a jti of at most MaxJTILength bytes; ath the access
// token's hash when one is presented; the key's thumbprint BoundJKT when
// that is set; a current nonce when the verifier requires one; and
// finally, a jti not used before with the same key.
//
// The signature is checked right after the header, so every later error
// is about a proof its key holder really made. The replay cache is
// consulted only when every other check has passed, so a proof that fails
// them cannot fill it or burn its jti. The cache is keyed by a hash of the
// key's thumbprint and the jti, so one client cannot use up another's jti.
//
// Verify is Check followed by Record.
func (v *Verifier) Verify(ctx context.Context, proof string, req Request) (*Proof, error) {
	p, err := v.Check(ctx, proof, req)
	if err != nil {
		return nil, err
	}
	if err := v.Record(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Check applies every check of Verify but the last: it does not consult
// the replay cache, so a proof that passes Check may still be a replay.
// Act on the request only once Record has accepted the proof too.
//
// Check then Record serves a caller that records proofs only for requests
// that something else has shown to be worth it, so that requests that are
// not cost the cache nothing: Latch records the proof of a refresh only
// once the refresh token has proved to be a live session's, and a flood
// of proofs with made-up refresh tokens writes nothing.
func (v *Verifier) Check(ctx context.Context, proof string, req Request) (*Proof, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validMethod(req.Method) {
		return nil, fmt.Errorf("dpop: invalid request method %q", req.Method)
	}
	wantURL, ok := normalizeURL(req.URL)
	if !ok {
		return nil, fmt.Errorf("dpop: request URL %q is not an absolute http or https URL", req.URL)
	}

	// The JWS (RFC 7515 §7.1).
	if proof == "" {
		return nil, fmt.Errorf("%w: empty proof", ErrMalformed)
	}
	if len(proof) > MaxProofSize {
		return nil, fmt.Errorf("%w: proof exceeds %d bytes", ErrMalformed, MaxProofSize)
	}
	jw, err := jws.Parse(proof)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}

	// The header.
	header := jw.Header
	// kid is allowed beside jwk and ignored: a kid alone is refused for
	// want of a jwk.
	if name, refused := jw.Refused(true); refused {
		return nil, fmt.Errorf("%w: %q header", ErrHeader, name)
	}
	typ, _, err := header.String("typ")
	if err != nil || !jws.TypeIs(typ, Type) {
		return nil, fmt.Errorf("%w: typ is %q, not %s", ErrType, typ, Type)
	}
	algName, _, err := header.String("alg")
	if err != nil || !slices.Contains(v.algs, algName) {
		return nil, fmt.Errorf("%w: alg %q", ErrAlgorithm, algName)
	}
	alg := algorithms[algName]
	rawJWK, ok := header["jwk"]
	if !ok {
		return nil, fmt.Errorf("%w: no jwk header", ErrKey)
	}
	key, canonicalJWK, err := parseJWK(rawJWK, alg)
	if err != nil {
		return nil, err
	}

	// The signature, over the parts as sent.
	if jws.VerifyEitherS(alg.name, key, &jw) != nil {
		return nil, ErrSignature
	}

	// The claims.
	claims, err := jws.DecodeObject(jw.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	jti, ok, err := claims.String("jti")
	if err != nil || !ok || jti == "" || len(jti) > MaxJTILength {
		return nil, fmt.Errorf("%w: jti missing, not a string, or longer than %d bytes", ErrMalformed, MaxJTILength)
	}
	htm, ok, err := claims.String("htm")
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: htm missing or not a string", ErrMalformed)
	}
	htu, ok, err := claims.String("htu")
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: htu missing or not a string", ErrMalformed)
	}
	iatSec, ok, err := numericDate(claims, "iat")
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: iat missing or not a NumericDate", ErrMalformed)
	}
	if htm != req.Method {
		return nil, fmt.Errorf("%w: htm %q, request %q", ErrMethod, htm, req.Method)
	}
	if got, ok := normalizeURL(htu); !ok || got != wantURL {
		return nil, fmt.Errorf("%w: htu %q, request %q", ErrURL, htu, wantURL)
	}
	now := v.now()
	iat := time.Unix(iatSec, 0)
	if iat.After(now.Add(v.skew)) {
		return nil, fmt.Errorf("%w: iat %s is more than %s ahead", ErrIssuedAt, iat.UTC().Format(time.RFC3339), v.skew)
	}
	if now.Sub(iat) > v.window {
		return nil, fmt.Errorf("%w: iat %s is more than %s old", ErrIssuedAt, iat.UTC().Format(time.RFC3339), v.window)
	}
	if req.AccessToken != "" {
		ath, _, err := claims.String("ath")
		want := AccessTokenHash(req.AccessToken)
		if err != nil || subtle.ConstantTimeCompare([]byte(ath), []byte(want)) != 1 {
			return nil, fmt.Errorf("%w: ath missing or not the hash of the access token", ErrAccessTokenHash)
		}
	}
	jkt := thumbprintOf(canonicalJWK)
	if req.BoundJKT != "" && subtle.ConstantTimeCompare([]byte(jkt), []byte(req.BoundJKT)) != 1 {
		return nil, fmt.Errorf("%w: proof key %s, token bound to %s", ErrKeyMismatch, jkt, req.BoundJKT)
	}
	if v.nonce != nil {
		nonce, ok, err := claims.String("nonce")
		switch {
		case err != nil || !ok:
			return nil, &NonceError{Nonce: v.nonce.Current(), reason: "no nonce"}
		case !v.nonce.Valid(nonce):
			return nil, &NonceError{Nonce: v.nonce.Current(), reason: "stale or unknown nonce"}
		}
	}

	client := req.Client
	if client == "" {
		client = jkt
	}
	return &Proof{JKT: jkt, JTI: jti, IssuedAt: iat, Key: key, Client: client}, nil
}

// Record accepts a proof that v.Check returned, once: it records the
// proof (its key's thumbprint and jti) in the replay cache until v's
// window closes, charged to p.Client. A proof recorded before (by any
// Verifier sharing the cache) is an error wrapping ErrReplay; a cache
// that fails, or refuses the client (ErrTooManyProofs) or everyone
// (ErrReplayCacheFull), passes its error on. Any error means the proof
// must not be trusted.
func (v *Verifier) Record(ctx context.Context, p *Proof) error {
	if p == nil || p.JKT == "" || p.JTI == "" {
		return errors.New("dpop: Record of a proof that Check did not return")
	}
	fresh, err := v.replay.Use(ctx, p.Client, replayKey(p.JKT, p.JTI), p.IssuedAt.Add(v.window+v.skew))
	if err != nil {
		return fmt.Errorf("dpop: replay cache: %w", err)
	}
	if !fresh {
		return fmt.Errorf("%w: jti %q", ErrReplay, p.JTI)
	}
	return nil
}

// replayKey is what the replay cache records for a proof: a hash of the
// key's thumbprint and the jti, so that the cache's keys have one size
// whatever the jti, and two clients' jtis never collide.
func replayKey(jkt, jti string) string {
	h := sha256.New()
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	return b64.EncodeToString(h.Sum(nil))
}

// FromHeader returns the proof in a request's DPoP header. It refuses a
// request with no DPoP header (ErrNoProof), with several (RFC 9449 §4.3
// item 1) or one holding a list, or with an empty or oversized value
// (ErrMalformed).
func FromHeader(h http.Header) (string, error) {
	vals := h.Values(Header)
	switch len(vals) {
	case 0:
		return "", ErrNoProof
	case 1:
	default:
		return "", fmt.Errorf("%w: %d DPoP headers", ErrMalformed, len(vals))
	}
	v := strings.Trim(vals[0], " \t")
	switch {
	case v == "":
		return "", fmt.Errorf("%w: empty DPoP header", ErrMalformed)
	case len(v) > MaxProofSize:
		return "", fmt.Errorf("%w: DPoP header exceeds %d bytes", ErrMalformed, MaxProofSize)
	case strings.IndexByte(v, ',') >= 0:
		return "", fmt.Errorf("%w: several values in one DPoP header", ErrMalformed)
	}
	return v, nil
}

// normalizeURL returns u in the form htu and the request URL are compared
// in (RFC 9449 §4.3, RFC 3986 §6.2.2 and §6.2.3): scheme and host in lower
// case, the scheme's default port dropped, an empty path as "/", the hex
// digits of percent-encodings in upper case, no query or fragment. The
// path is otherwise compared as sent. ok is false unless u is an absolute
// http or https URL without user information.
func normalizeURL(raw string) (norm string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	var defaultPort string
	switch scheme {
	case "https":
		defaultPort = "443"
	case "http":
		defaultPort = "80"
	default:
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" {
		if port = strings.TrimLeft(port, "0"); port == "" {
			port = "0"
		}
		if port != defaultPort {
			host += ":" + port
		}
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + upperPercent(path), true
}

// upperPercent writes the hex digits of percent-encodings in upper case.
func upperPercent(p string) string {
	i := strings.IndexByte(p, '%')
	if i < 0 {
		return p
	}
	b := []byte(p)
	for ; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = upper(b[i+1])
			b[i+2] = upper(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
