package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/jws"
)

// Defaults of Config.
const (
	// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway is the largest Leeway New accepts: a leeway is for clock
	// skew, not for stretching token lifetimes.
	MaxLeeway = 5 * time.Minute
	// DefaultRefreshWindow is how long before its expiry a valid JWT is
	// refreshed early when the request carries a Refresh-Token: the window
	// in which the client SDK sends the refresh token
	// (client.DefaultRefreshWindow).
	DefaultRefreshWindow = time.Minute
	// defaultTimeout bounds each call to Latch made with the default client.
	defaultTimeout = 10 * time.Second
)

// defaultAlgorithms are the asymmetric algorithms Latch signs with.
var defaultAlgorithms = []string{"ES256", "RS256", "EdDSA"}

// knownAlgorithms are the algorithms Config.Algorithms may name.
var knownAlgorithms = []string{
	"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
	"HS256", "HS384", "HS512",
}

// Config configures a Guard. Issuer, Audience and LatchURL are required;
// the zero value of every other field picks the default.
type Config struct {
	// Issuer is the iss every token must carry: Latch's issuer (its
	// --issuer, or the tenant's own issuer).
	Issuer string
	// Audience is the Latch application id of this backend; a token's aud
	// must contain it. An id written in upper case is the same id: Latch
	// puts ids in tokens lowercase, and so guard compares them.
	Audience string
	// LatchURL is Latch's base URL, such as "https://latch.example.com".
	// Expired tokens are refreshed at LatchURL + "/api/jwt/refresh", so
	// refresh tokens travel to it: plain http only on a trusted network.
	LatchURL string
	// JWKSURL is where Latch publishes its keys; LatchURL +
	// "/.well-known/jwks.json" when empty. Not allowed with KeySet.
	JWKSURL string
	// KeySet overrides the keys fetched from JWKSURL, for tests or keys
	// distributed by other means. Only a StaticKeySet may hold HMAC keys.
	KeySet KeySet
	// HTTPClient makes every call to Latch (JWKS and refresh); a client
	// with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Algorithms are the JWS algorithms accepted; ES256, RS256 and EdDSA
	// when empty. "none" is never accepted, and HS256, HS384 and HS512
	// only with a StaticKeySet that holds an HMAC key.
	Algorithms []string
	// Leeway is the clock skew tolerated on exp, nbf and iat, and how far
	// ahead of the clock a DPoP proof's iat may be (device clocks run
	// ahead too); DefaultLeeway when zero, at most MaxLeeway. A proof is
	// accepted up to dpop.DefaultWindow (a minute) after its iat.
	Leeway time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives refresh and JWKS failures, never a token; nil logs
	// nothing.
	Logger *slog.Logger
	// MinJWKSRefetchInterval is the least time between two JWKS fetches;
	// DefaultMinJWKSRefetchInterval when zero.
	MinJWKSRefetchInterval time.Duration
	// Revocations keeps the revocations the Events handler receives, which
	// Verify honours; a MemoryRevocationStore (with the Now clock) when
	// nil. Several instances behind one webhook URL must share one (see
	// RevocationStore).
	Revocations RevocationStore
	// EventKeys are further keys that may sign events (never access
	// tokens), such as the secret of a Latch HMAC key; the keys of the
	// KeySet (Latch's JWKS) sign them too.
	EventKeys StaticKeySet
	// AcceptUnsignedEvents lets the Events handler take events without an
	// X-FusionAuth-Signature-JWT header. Off by default: whoever can reach
	// the handler could then revoke any user's tokens. A signature that is
	// present is checked either way.
	AcceptUnsignedEvents bool
	// RefreshWindow is how long before its expiry a valid JWT is refreshed
	// early, when the request carries a Refresh-Token: the app gets new
	// tokens before the old JWT lapses, and the refresh token it sent does
	// not travel for nothing. An early refresh that fails for any reason
	// is not an error: the request is served with the JWT it carried.
	// DefaultRefreshWindow when zero; a negative value turns early
	// refreshes off.
	RefreshWindow time.Duration
	// PublicURL is the backend's external base URL, as apps address it:
	// "https://shop.example.com", with a path prefix if a proxy strips one.
	// A DPoP proof names the URL of its request (htu), which guard takes
	// to be PublicURL followed by the request's path as sent. When empty,
	// guard builds the URL from the request itself: https when it came
	// over TLS, else http, and its Host header. That is right only when
	// apps reach this server directly; behind a proxy or load balancer
	// that terminates TLS or rewrites Host, PublicURL must be set, or every
	// DPoP proof is refused.
	PublicURL string
	// APIKey is a Latch API key (sent as the Authorization header, as
	// FusionAuth takes it). guard sends it, and the key of the app's DPoP
	// proof (dpopJkt), when it refreshes a DPoP-bound session: Latch
	// refreshes a bound refresh token for its own key only, and takes the
	// key's thumbprint from a backend only with an API key. Without it,
	// bound sessions cannot be refreshed through this backend (401, and an
	// error in the log). guard sends it with every refresh, with the app's
	// address (eventInfo.ipAddress; see ClientAddress), so that Latch
	// counts the refreshes it refuses against each app rather than against
	// this backend. It is also the key of CatchUp.
	APIKey string
	// DPoPReplay records the DPoP proofs guard accepted, so that none is
	// accepted twice; a dpop.MemoryReplayCache (with the Now clock, room
	// for dpop.DefaultReplayCacheEntries proofs of the last minute and a
	// half, dpop.DefaultReplayCacheShare of them from one client) when
	// nil. Several instances behind one URL must share one, or a proof
	// accepted by one can be replayed at another (see dpop.ReplayCache).
	// A proof that comes with a valid bound JWT is recorded only once the
	// JWT has verified, and charged to its key; any other (a login's,
	// through VerifyProof, or a refresh's) is charged to the client's
	// address (ClientAddress). A client whose share is full is answered
	// 429; when the cache fails, or is full, requests with a proof are
	// answered 503.
	DPoPReplay dpop.ReplayCache
	// ClientAddress returns the address of the client a request comes
	// from, to which guard charges the DPoP proofs of requests without a
	// valid access token in the replay cache: a client that makes up a
	// new key for every proof then fills its address's share, not the
	// cache. IPv6 addresses count by their /64 prefix. When nil, or when it
	// returns "", the address is the request's peer (r.RemoteAddr). Behind
	// a proxy or load balancer, return the client's address as it reports
	// it (the last X-Forwarded-For entry it added), or every client shares
	// the proxy's share.
	ClientAddress func(r *http.Request) string
	// CatchUp makes guard read the revocations it may have missed from
	// Latch's webhook event log (FusionAuth's POST
	// /api/system/webhook-event-log/search, with APIKey, which Latch must
	// permit to call it), and record them as the Events handler does:
	// those of the last DefaultRevocationTTL when a JWT issued before the
	// Guard was made is first presented, then those since the last
	// catch-up every minute while requests come. A backend that restarted
	// (its RevocationStore in memory is empty), or was down while Latch
	// sent an event, so refuses the JWTs revoked meanwhile. Until a
	// catch-up has succeeded, a JWT issued before the Guard was made (and
	// one without iat) is refused with ErrRevocationsUnavailable: Handler
	// answers 503, or refreshes it through Latch when the request carries
	// a refresh token; the first such request waits for the catch-up. A
	// JWT issued more than DefaultRevocationTTL before is always refused
	// so. Latch logs only the events a webhook takes: register one (the
	// Events handler) too.
	CatchUp bool
	// DPoPNonces, when set, makes guard require a server nonce in every
	// DPoP proof (RFC 9449 §9): a proof without a current one is answered
	// 401 with error use_dpop_nonce and a DPoP-Nonce header, and responses
	// to requests with a proof carry the current nonce. Optional;
	// dpop.HMACNonces serves several instances sharing a secret.
	DPoPNonces dpop.NonceSource
}

// Guard verifies Latch JWTs and, as middleware, refreshes expired ones.
// It is safe for concurrent use.
type Guard struct {
	issuer     string
	audience   string
	refreshURL string
	keys       KeySet
	client     *http.Client
	algs       []string
	leeway     time.Duration
	now        func() time.Time
	log        *slog.Logger
	floor      time.Duration

	revocations    RevocationStore
	eventKeys      StaticKeySet
	acceptUnsigned bool
	catchUp        *catchUp // nil without Config.CatchUp

	refreshWindow time.Duration // <= 0: no early refresh
	publicURL     string        // without a trailing slash; "" to build from the request
	apiKey        string
	clientAddress func(*http.Request) string // nil: the peer
	dpop          *dpop.Verifier
	nonces        dpop.NonceSource
	dpopAlgs      string // the algs parameter of DPoP challenges

	flights   singleflight.Group // refreshes in flight, by refresh token hash and DPoP key
	cacheMu   sync.Mutex
	cache     map[tokenHash]map[string]*refreshed // recent refreshes, by refresh token hash and DPoP key
	forgotten map[tokenHash]time.Time             // refresh tokens given up (Forget), until when
	sweptAt   time.Time
}

// New validates cfg and returns a Guard. It makes no call to Latch.
func New(cfg Config) (*Guard, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("guard: config: "+format, args...)) }
	if cfg.Issuer == "" {
		bad("Issuer is required")
	}
	if cfg.Audience == "" {
		bad("Audience (the Latch application id) is required")
	}
	latchURL := strings.TrimSuffix(cfg.LatchURL, "/")
	if err := checkURL(latchURL); err != nil {
		bad("LatchURL: %v", err)
	}
	jwksURL := cfg.JWKSURL
	switch {
	case jwksURL != "" && cfg.KeySet != nil:
		bad("JWKSURL and KeySet are mutually exclusive")
	case jwksURL == "":
		jwksURL = latchURL + "/.well-known/jwks.json"
	default:
		if err := checkURL(jwksURL); err != nil {
			bad("JWKSURL: %v", err)
		}
	}
	algs := slices.Clone(cfg.Algorithms)
	if len(algs) == 0 {
		algs = slices.Clone(defaultAlgorithms)
	}
	for _, a := range algs {
		switch {
		case !slices.Contains(knownAlgorithms, a):
			bad("algorithm %q is not supported", a)
		case strings.HasPrefix(a, "HS") && !hasHMACKey(cfg.KeySet):
			bad("algorithm %s needs a StaticKeySet holding an HMAC key", a)
		}
	}
	if s, ok := cfg.KeySet.(StaticKeySet); ok {
		for _, k := range s {
			if err := k.check(); err != nil {
				bad("KeySet: %v", err)
			}
		}
	}
	for _, k := range cfg.EventKeys {
		if err := k.check(); err != nil {
			bad("EventKeys: %v", err)
		}
	}
	switch {
	case cfg.Leeway < 0:
		bad("Leeway is negative")
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway > MaxLeeway:
		bad("Leeway %v exceeds %v", cfg.Leeway, MaxLeeway)
	}
	publicURL := strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.PublicURL != "" {
		if err := checkURL(publicURL); err != nil {
			bad("PublicURL: %v", err)
		} else if u, _ := url.Parse(publicURL); u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			bad("PublicURL %q: want a base URL without user information, query or fragment", cfg.PublicURL)
		}
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		bad("APIKey is not a header value")
	}
	if cfg.CatchUp && cfg.APIKey == "" {
		bad("CatchUp needs APIKey: Latch shows its webhook event log to API keys only")
	}
	if cfg.RefreshWindow == 0 {
		cfg.RefreshWindow = DefaultRefreshWindow
	}
	switch {
	case cfg.MinJWKSRefetchInterval < 0:
		bad("MinJWKSRefetchInterval is negative")
	case cfg.MinJWKSRefetchInterval == 0:
		cfg.MinJWKSRefetchInterval = DefaultMinJWKSRefetchInterval
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Revocations == nil {
		cfg.Revocations = NewMemoryRevocationStore(MemoryRevocationStoreConfig{Now: cfg.Now})
	}
	if cfg.DPoPReplay == nil {
		cfg.DPoPReplay = &dpop.MemoryReplayCache{Now: cfg.Now}
	}
	verifier, err := dpop.NewVerifier(dpop.Config{
		Replay: taggedReplay{cfg.DPoPReplay},
		Nonce:  cfg.DPoPNonces,
		Skew:   cfg.Leeway, // device clocks run ahead too
		Now:    cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("guard: config: %w", err)
	}
	if cfg.KeySet == nil {
		cfg.KeySet = NewRemoteKeySet(jwksURL, RemoteKeySetConfig{
			HTTPClient: cfg.HTTPClient, MinRefetchInterval: cfg.MinJWKSRefetchInterval, Now: cfg.Now, Logger: cfg.Logger,
		})
	}
	var cu *catchUp
	if cfg.CatchUp {
		cu = newCatchUp(latchURL, cfg.Now(), cfg.Leeway)
	}
	return &Guard{
		issuer:     cfg.Issuer,
		audience:   api.CanonicalID(cfg.Audience),
		refreshURL: latchURL + "/api/jwt/refresh",
		keys:       cfg.KeySet,
		client:     cfg.HTTPClient,
		algs:       algs,
		leeway:     cfg.Leeway,
		now:        cfg.Now,
		log:        cfg.Logger,
		floor:      cfg.MinJWKSRefetchInterval,
		cache:      make(map[tokenHash]map[string]*refreshed),
		forgotten:  make(map[tokenHash]time.Time),

		revocations:    cfg.Revocations,
		eventKeys:      slices.Clone(cfg.EventKeys),
		acceptUnsigned: cfg.AcceptUnsignedEvents,
		catchUp:        cu,

		refreshWindow: cfg.RefreshWindow,
		publicURL:     publicURL,
		apiKey:        cfg.APIKey,
		clientAddress: cfg.ClientAddress,
		dpop:          verifier,
		nonces:        cfg.DPoPNonces,
		dpopAlgs:      strings.Join(verifier.Algorithms(), " "),
	}, nil
}

// checkURL accepts an absolute http or https URL.
func checkURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// hasHMACKey reports whether ks is a StaticKeySet holding an HMAC key.
func hasHMACKey(ks KeySet) bool {
	s, ok := ks.(StaticKeySet)
	return ok && slices.ContainsFunc(s, Key.symmetric)
}

// Verify checks a Latch access token, a compact JWS JWT, and returns its
// claims. It refuses, in this order:
//
//   - anything but a compact JWS of at most MaxTokenSize bytes, and a
//     header with duplicate names (ErrMalformed);
//   - jku, x5u, jwk, x5c, crit and b64 headers, a missing kid, and a typ
//     other than at+jwt (ErrHeader): only a JWT typed as an access token
//     (RFC 9068 §2.1) is one, so an OpenID Connect ID token, which Latch
//     signs with the same key for the same audience but types JWT, is
//     refused, and so is a token without typ;
//   - an alg that is not one of Config.Algorithms (ErrAlgorithm);
//   - a missing exp or sub (ErrMalformed), another iss (ErrIssuer), an aud
//     without Config.Audience (ErrAudience), an exp that has passed
//     (*TokenExpiredError), an nbf or iat in the future (ErrNotYetValid),
//     all with Config.Leeway;
//   - a kid the key set does not hold (ErrUnknownKey; ErrKeySetUnavailable
//     when the set could not be fetched), an alg other than the one the
//     key was published for (ErrAlgorithm), and a bad signature
//     (ErrSignature), which the high-S twin of an ECDSA signature is too:
//     Latch makes each signature low-S (s <= n/2), and the same token with
//     s replaced by n−s, which plain ECDSA verification accepts, would be
//     a second string for it;
//   - a token a revocation event covers (ErrRevoked; see Events), or any
//     token when the RevocationStore fails, or, with Config.CatchUp, a
//     token issued before the Guard was made while no catch-up has
//     succeeded (ErrRevocationsUnavailable).
//
// The claim checks come before the key lookup and the signature because
// they are cheap and can only reject: a forged token never gets further
// for them, and an expired one costs no signature check and no JWKS fetch.
// The claims are returned only once the signature has verified.
func (g *Guard) Verify(ctx context.Context, raw string) (*api.Claims, error) {
	claims, _, err := g.verify(ctx, raw, false)
	return claims, err
}

// verify is Verify; fresh says that raw is a JWT Latch has just issued to
// guard's refresh, which needs no catch-up (see Config.CatchUp). It also
// returns the token as parsed, whenever it parsed, even with an error:
// the token is parsed once, and Handler reads the binding of a token that
// failed (an expired one) from it.
func (g *Guard) verify(ctx context.Context, raw string, fresh bool) (*api.Claims, *parsedToken, error) {
	t, err := parseAccessToken(raw)
	if err != nil {
		return nil, nil, err
	}
	if err := g.verifyParsed(ctx, t, fresh); err != nil {
		return nil, t, err
	}
	return t.claims, t, nil
}

// verifyParsed is verify's work on a token parseAccessToken returned.
func (g *Guard) verifyParsed(ctx context.Context, t *parsedToken, fresh bool) error {
	if !t.accessToken() {
		return fmt.Errorf("%w: typ is not at+jwt: not an access token", ErrHeader)
	}
	if !slices.Contains(g.algs, t.alg) {
		return fmt.Errorf("%w: %q", ErrAlgorithm, t.alg)
	}
	if t.claimsErr != nil {
		return t.claimsErr
	}
	claims := t.claims
	if err := g.checkClaims(claims); err != nil {
		return err
	}
	key, err := g.keys.Key(ctx, t.kid)
	if err != nil {
		return err
	}
	if err := g.checkSignature(t, key); err != nil {
		return err
	}
	return g.checkRevoked(ctx, claims, fresh)
}

// checkSignature checks t's signature with key, the key its kid named:
// its alg must be the one the key was published for, and the signature
// must verify (jws.Verify: the one signature check of Latch's verifiers,
// which refuses the high-S twin of an ECDSA signature).
func (g *Guard) checkSignature(t *parsedToken, key Key) error {
	if key.ID != t.kid || key.Algorithm != t.alg {
		return fmt.Errorf("%w: %s token for %s key %q", ErrAlgorithm, t.alg, key.Algorithm, t.kid)
	}
	if err := key.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnknownKey, err)
	}
	if err := jws.Verify(key.Algorithm, key.Key, &t.jws); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

// checkClaims checks the registered claims against the configuration
// and the clock.
func (g *Guard) checkClaims(c *api.Claims) error {
	if c.Expiry == 0 {
		return fmt.Errorf("%w: no exp claim", ErrMalformed)
	}
	if c.Subject == "" {
		return fmt.Errorf("%w: no sub claim", ErrMalformed)
	}
	if c.Issuer != g.issuer {
		return ErrIssuer
	}
	if !c.Audience.Contains(g.audience) {
		return ErrAudience
	}
	now := g.now()
	// RFC 7519 §4.1.4: now must be before exp.
	if exp := time.Unix(c.Expiry, 0); !now.Before(exp.Add(g.leeway)) {
		return &TokenExpiredError{Expiry: exp}
	}
	latest := now.Add(g.leeway)
	if c.NotBefore != 0 && time.Unix(c.NotBefore, 0).After(latest) {
		return fmt.Errorf("%w: nbf is in the future", ErrNotYetValid)
	}
	if c.IssuedAt != 0 && time.Unix(c.IssuedAt, 0).After(latest) {
		return fmt.Errorf("%w: iat is in the future", ErrNotYetValid)
	}
	return nil
}
