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

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat when
// Config.Leeway is zero.
const DefaultLeeway = 30 * time.Second

const (
	// maxLeeway is the largest Leeway New accepts: a leeway is for clock
	// skew, not for stretching token lifetimes.
	maxLeeway = 5 * time.Minute
	// defaultRefreshWindow is Config.RefreshWindow's default: the window
	// in which the client SDK sends the refresh token
	// (client.DefaultRefreshWindow).
	defaultRefreshWindow = time.Minute
	// defaultTimeout bounds each call to Latch made with the default client.
	defaultTimeout = 10 * time.Second
)

// defaultAlgorithms are the asymmetric algorithms Latch signs with.
var defaultAlgorithms = []string{"ES256", "RS256", "EdDSA"}

// knownAlgorithms are the algorithms KeyOptions.Algorithms may name.
var knownAlgorithms = []string{
	"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
	"HS256", "HS384", "HS512",
}

// Config configures a Guard. Issuer, Audience and LatchURL are required;
// the zero value of every other field, and of every option group, picks
// the default. The package documentation says what each one changes.
type Config struct {
	// Issuer is the iss every token must carry: Latch's issuer (its
	// --issuer, or the tenant's own issuer).
	Issuer string
	// Audience is the Latch application id of this backend; a token's aud
	// must contain it, in any case (Latch writes ids in lower case).
	Audience string
	// LatchURL is Latch's base URL, such as "https://latch.example.com":
	// guard refreshes at LatchURL + "/api/jwt/refresh", so refresh tokens
	// travel to it (plain http only on a trusted network).
	LatchURL string
	// APIKey is a Latch API key, sent as the Authorization header with
	// every refresh (with the app's address, so that Latch counts the
	// refreshes it refuses against each app, not this backend) and with
	// each catch-up. A DPoP-bound session can be refreshed only with it.
	APIKey string
	// HTTPClient makes every call to Latch; a client with a 10 s timeout
	// when nil.
	HTTPClient *http.Client
	// ClientAddress returns the address of the client a request comes
	// from (behind a proxy: the X-Forwarded-For entry the proxy added);
	// r.RemoteAddr's host when nil, or when it returns "". guard sends it
	// to Latch with refreshes, and charges to it the DPoP proofs that come
	// without a valid access token (IPv6 addresses by their /64).
	ClientAddress func(r *http.Request) string
	// RefreshWindow is how long before its expiry a valid JWT is refreshed
	// early when the request carries a Refresh-Token; a minute when zero,
	// none when negative.
	RefreshWindow time.Duration
	// Leeway is the clock skew tolerated on exp, nbf and iat, and how far
	// ahead of the clock a DPoP proof's iat may be; DefaultLeeway when
	// zero, at most five minutes.
	Leeway time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives refresh, JWKS and event failures, never a token;
	// nil logs nothing.
	Logger *slog.Logger

	// Keys are the keys and algorithms tokens are verified with.
	Keys KeyOptions
	// DPoP configures the checks of DPoP proofs (RFC 9449).
	DPoP DPoPOptions
	// Revocations configures how revocations reach guard: the Events
	// handler, the store it records them in, and the catch-up.
	Revocations RevocationOptions
}

// KeyOptions are the keys and algorithms tokens are verified with.
type KeyOptions struct {
	// Set replaces the key set fetched from JWKSURL, for tests or keys
	// distributed by other means. Only a StaticKeySet may hold HMAC keys.
	Set KeySet
	// JWKSURL is where Latch publishes its keys; LatchURL +
	// "/.well-known/jwks.json" when empty. Not allowed with Set.
	JWKSURL string
	// MinRefetchInterval is the least time between two JWKS fetches,
	// whatever kids tokens name; 10 s when zero.
	MinRefetchInterval time.Duration
	// Algorithms are the JWS algorithms accepted; ES256, RS256 and EdDSA
	// when empty. "none" is never accepted, and HS256, HS384 and HS512
	// only with a StaticKeySet that holds an HMAC key.
	Algorithms []string
}

// DPoPOptions configure the checks of DPoP proofs (RFC 9449).
type DPoPOptions struct {
	// PublicURL is the backend's external base URL, as apps address it:
	// "https://shop.example.com", with a path prefix if a proxy strips
	// one. A proof names the URL of its request (htu), which guard takes
	// to be PublicURL followed by the request's path as sent. When empty,
	// guard builds the URL from the request (https over TLS, else http,
	// and its Host header): right only when apps reach this server
	// directly.
	PublicURL string
	// Replay records the proofs guard accepted, so that none is accepted
	// twice; a dpop.MemoryReplayCache with the Now clock when nil.
	// Instances behind one URL must share one.
	Replay dpop.ReplayCache
	// Nonces, when set, makes guard require a server nonce in every proof
	// (RFC 9449 §9); dpop.HMACNonces serves instances sharing a secret.
	Nonces dpop.NonceSource
}

// RevocationOptions configure how revocations reach guard.
type RevocationOptions struct {
	// Store keeps the revocations the Events handler receives; a
	// MemoryRevocationStore with the Now clock when nil. Instances behind
	// one webhook URL must share one.
	Store RevocationStore
	// EventKeys are further keys that may sign events (never access
	// tokens), such as the secret of a Latch HMAC key; the keys of the
	// key set sign them too.
	EventKeys StaticKeySet
	// AcceptUnsigned lets the Events handler take events without an
	// X-FusionAuth-Signature-JWT header. Off by default: whoever can reach
	// the handler could then revoke any user's tokens. A signature that
	// is present is checked either way.
	AcceptUnsigned bool
	// CatchUp makes guard read the revocations it may have missed from
	// Latch's webhook event log, with Config.APIKey, before it trusts a
	// JWT issued before the Guard was made, and every minute after.
	CatchUp bool
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
	headers    knownHeaders // of the access tokens that verified

	revocations    RevocationStore
	eventKeys      StaticKeySet
	acceptUnsigned bool
	catchUp        *catchUp // nil without RevocationOptions.CatchUp

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
	keys, dp, rev := cfg.Keys, cfg.DPoP, cfg.Revocations
	jwksURL := keys.JWKSURL
	switch {
	case jwksURL != "" && keys.Set != nil:
		bad("Keys.JWKSURL and Keys.Set are mutually exclusive")
	case jwksURL == "":
		jwksURL = latchURL + "/.well-known/jwks.json"
	default:
		if err := checkURL(jwksURL); err != nil {
			bad("Keys.JWKSURL: %v", err)
		}
	}
	algs := slices.Clone(keys.Algorithms)
	if len(algs) == 0 {
		algs = slices.Clone(defaultAlgorithms)
	}
	for _, a := range algs {
		switch {
		case !slices.Contains(knownAlgorithms, a):
			bad("algorithm %q is not supported", a)
		case strings.HasPrefix(a, "HS") && !hasHMACKey(keys.Set):
			bad("algorithm %s needs a StaticKeySet holding an HMAC key", a)
		}
	}
	if s, ok := keys.Set.(StaticKeySet); ok {
		for _, k := range s {
			if err := k.check(); err != nil {
				bad("Keys.Set: %v", err)
			}
		}
	}
	for _, k := range rev.EventKeys {
		if err := k.check(); err != nil {
			bad("Revocations.EventKeys: %v", err)
		}
	}
	switch {
	case cfg.Leeway < 0:
		bad("Leeway is negative")
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway > maxLeeway:
		bad("Leeway %v exceeds %v", cfg.Leeway, maxLeeway)
	}
	publicURL := strings.TrimSuffix(dp.PublicURL, "/")
	if dp.PublicURL != "" {
		if err := checkURL(publicURL); err != nil {
			bad("DPoP.PublicURL: %v", err)
		} else if u, _ := url.Parse(publicURL); u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			bad("DPoP.PublicURL %q: want a base URL without user information, query or fragment", dp.PublicURL)
		}
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		bad("APIKey is not a header value")
	}
	if rev.CatchUp && cfg.APIKey == "" {
		bad("Revocations.CatchUp needs APIKey: Latch shows its webhook event log to API keys only")
	}
	if cfg.RefreshWindow == 0 {
		cfg.RefreshWindow = defaultRefreshWindow
	}
	switch {
	case keys.MinRefetchInterval < 0:
		bad("Keys.MinRefetchInterval is negative")
	case keys.MinRefetchInterval == 0:
		keys.MinRefetchInterval = defaultMinJWKSRefetchInterval
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
	if rev.Store == nil {
		rev.Store = NewMemoryRevocationStore(MemoryRevocationStoreConfig{Now: cfg.Now})
	}
	if dp.Replay == nil {
		dp.Replay = &dpop.MemoryReplayCache{Now: cfg.Now}
	}
	verifier, err := dpop.NewVerifier(dpop.Config{
		Replay: taggedReplay{dp.Replay},
		Nonce:  dp.Nonces,
		Skew:   cfg.Leeway, // device clocks run ahead too
		Now:    cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("guard: config: %w", err)
	}
	if keys.Set == nil {
		keys.Set = newRemoteKeySet(jwksURL, remoteKeySetConfig{
			HTTPClient: cfg.HTTPClient, MinRefetchInterval: keys.MinRefetchInterval, Now: cfg.Now, Logger: cfg.Logger,
		})
	}
	var cu *catchUp
	if rev.CatchUp {
		cu = newCatchUp(latchURL, cfg.Now(), cfg.Leeway)
	}
	return &Guard{
		issuer:     cfg.Issuer,
		audience:   api.CanonicalID(cfg.Audience),
		refreshURL: latchURL + "/api/jwt/refresh",
		keys:       keys.Set,
		client:     cfg.HTTPClient,
		algs:       algs,
		leeway:     cfg.Leeway,
		now:        cfg.Now,
		log:        cfg.Logger,
		floor:      keys.MinRefetchInterval,
		cache:      make(map[tokenHash]map[string]*refreshed),
		forgotten:  make(map[tokenHash]time.Time),

		revocations:    rev.Store,
		eventKeys:      slices.Clone(rev.EventKeys),
		acceptUnsigned: rev.AcceptUnsigned,
		catchUp:        cu,

		refreshWindow: cfg.RefreshWindow,
		publicURL:     publicURL,
		apiKey:        cfg.APIKey,
		clientAddress: cfg.ClientAddress,
		dpop:          verifier,
		nonces:        dp.Nonces,
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
// claims; the package documentation lists what it refuses, in order. Its
// errors are *Error, of kind ErrInvalidToken, ErrExpired, ErrRevoked or
// ErrUnavailable (which says nothing about the token).
//
// The claim checks come before the key lookup and the signature because
// they are cheap and can only reject: a forged token never gets further
// for them, and an expired one costs no signature check and no JWKS fetch.
// The claims are returned only once the signature has verified.
func (g *Guard) Verify(ctx context.Context, raw string) (*api.Claims, error) {
	claims, _, err := g.verify(ctx, raw, false)
	if err != nil {
		return nil, g.refusal(err)
	}
	return claims, nil
}

// verify is Verify; fresh says that raw is a JWT Latch has just issued to
// guard's refresh, which needs no catch-up (see RevocationOptions.CatchUp). It also
// returns the token as parsed, whenever it parsed, even with an error:
// the token is parsed once, and Handler reads the binding of a token that
// failed (an expired one) from it.
func (g *Guard) verify(ctx context.Context, raw string, fresh bool) (*api.Claims, *parsedToken, error) {
	t, err := parseAccessToken(raw, &g.headers)
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
		return fmt.Errorf("%w: typ is not at+jwt: not an access token", errHeader)
	}
	if !slices.Contains(g.algs, t.alg) {
		return fmt.Errorf("%w: %q", errAlgorithm, t.alg)
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
	g.headers.add(t)
	return g.checkRevoked(ctx, claims, fresh)
}

// checkSignature checks t's signature with key, the key its kid named:
// its alg must be the one the key was published for, and the signature
// must verify (jws.Verify: the one signature check of Latch's verifiers,
// which refuses the high-S twin of an ECDSA signature).
func (g *Guard) checkSignature(t *parsedToken, key Key) error {
	if key.ID != t.kid || key.Algorithm != t.alg {
		return fmt.Errorf("%w: %s token for %s key %q", errAlgorithm, t.alg, key.Algorithm, t.kid)
	}
	if err := key.check(); err != nil {
		return fmt.Errorf("%w: %v", errUnknownKey, err)
	}
	if err := jws.Verify(key.Algorithm, key.Key, &t.jws); err != nil {
		return fmt.Errorf("%w: %v", errSignature, err)
	}
	return nil
}

// checkClaims checks the registered claims against the configuration
// and the clock.
func (g *Guard) checkClaims(c *api.Claims) error {
	if c.Expiry == 0 {
		return fmt.Errorf("%w: no exp claim", errMalformed)
	}
	if c.Subject == "" {
		return fmt.Errorf("%w: no sub claim", errMalformed)
	}
	if c.Issuer != g.issuer {
		return errIssuer
	}
	if !c.Audience.Contains(g.audience) {
		return errAudience
	}
	now := g.now()
	// RFC 7519 §4.1.4: now must be before exp.
	if exp := time.Unix(c.Expiry, 0); !now.Before(exp.Add(g.leeway)) {
		return fmt.Errorf("%w at %s", errExpired, exp.UTC().Format(time.RFC3339))
	}
	latest := now.Add(g.leeway)
	if c.NotBefore != 0 && time.Unix(c.NotBefore, 0).After(latest) {
		return fmt.Errorf("%w: nbf is in the future", errNotYetValid)
	}
	if c.IssuedAt != 0 && time.Unix(c.IssuedAt, 0).After(latest) {
		return fmt.Errorf("%w: iat is in the future", errNotYetValid)
	}
	return nil
}
