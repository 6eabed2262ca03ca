package storefront

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/guard/redisstore"
)

// Defaults of Config.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultLatchURL  = "http://127.0.0.1:9011"
	DefaultDataDir   = "./storefront-data"
	DefaultLatchWait = 30 * time.Second
)

// latchCheckRetry is the pause between two attempts at Open's check of the
// application id and API key while Latch cannot be reached. A variable
// for the tests.
var latchCheckRetry = time.Second

// discoveryTimeout bounds one look-up of Latch's issuer.
const discoveryTimeout = 5 * time.Second

// discoveryRetry is the least time between two look-ups of the issuer
// after one failed: requests meanwhile answer 503 at once. A variable for
// the tests.
var discoveryRetry = 5 * time.Second

// webhookRetry is the pause between two attempts at registering the
// webhook while Latch cannot be reached. A variable for the tests.
var webhookRetry = 10 * time.Second

// EventsPath is the storefront's route for Latch's webhook events.
const EventsPath = "/latch/events"

// RedisKeyPrefix starts the keys of the storefront's records in Redis
// (Config.RedisURL), followed by the application id and a colon.
const RedisKeyPrefix = "latch:storefront:"

// redisPingTimeout bounds the check, at Open, that Redis answers.
const redisPingTimeout = 5 * time.Second

// Config is what a storefront is started with. cmd/storefront fills it
// from flags and their environment twins.
type Config struct {
	// Addr is the listen address; "127.0.0.1:0" picks a free port.
	Addr string
	// LatchURL is Latch's base URL. The storefront posts logins, logouts
	// and (through guard) refresh tokens to it, so plain http only on a
	// trusted network.
	LatchURL string
	// ApplicationID is the Latch application the storefront logs users in
	// to; the JWTs it accepts carry it in aud. Required.
	ApplicationID string
	// APIKey is sent to Latch as the Authorization header of logins (which
	// Latch requires by default), of revocations on logout when the app
	// sent no refresh token, and of guard's catch-up on revocations
	// (guard.RevocationOptions.CatchUp, on whenever APIKey is set): Latch
	// must permit it to POST /api/system/webhook-event-log/search, or the
	// JWTs issued before the storefront started are refused with 503
	// unless a refresh token comes along (and the log says so).
	//
	// Open checks ApplicationID and APIKey at Latch before it returns: it
	// reads the application with the key (GET /api/application/{id}, which
	// the key must therefore be allowed), and fails with ErrAPIKeyRefused
	// or ErrUnknownApplication when Latch refuses, rather than serve and
	// answer every login 500.
	APIKey string
	// LatchWait bounds how long Open waits for Latch to answer that check:
	// while Latch cannot be reached (or answers 5xx or 429) Open tries
	// again every second, logging a warning, and fails once LatchWait has
	// passed. Zero makes one attempt; DefaultConfig sets DefaultLatchWait.
	LatchWait time.Duration
	// DataDir holds the storefront's SQLite database (DatabaseFile).
	DataDir string
	// Issuer is the iss the JWTs must carry. When empty it is read from
	// LatchURL's /.well-known/openid-configuration: at Open, and while
	// Latch cannot be reached, again on demand (cart routes answer 503
	// meanwhile). Set it when the application belongs to a tenant other
	// than Latch's first one.
	Issuer string
	// HTTPClient makes every call to Latch (logins, logouts, JWKS,
	// refreshes); a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Logger receives a line per request and the failures; never a
	// password or a token. slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock of guard's token checks and of cart timestamps;
	// time.Now when nil.
	Now func() time.Time
	// PublicURL is the storefront's base URL as apps (and Latch, for its
	// webhook) reach it, such as "https://shop.example.com". DPoP proofs
	// name it (their htu), so it must be exactly the scheme, host and port
	// the apps use: behind a proxy, or when apps say "localhost" for
	// 127.0.0.1, set it. When empty it is derived from the listen address
	// (https with TLS): Addr's host, when it names one, with the port
	// listened on. For a wildcard host (":8080", "0.0.0.0:8080") nothing
	// can be derived; guard then takes each request's own Host header,
	// and RegisterWebhook needs PublicURL.
	PublicURL string
	// RequireDPoP refuses logins without a DPoP proof (400
	// invalid_dpop_proof). Without it, a login with a proof is bound to
	// the proof's key and one without is not.
	RequireDPoP bool
	// RegisterWebhook registers the storefront at Latch, when it opens, as
	// the webhook of its application's tenant for jwt.refresh-token.revoke
	// (signed with the tenant's access-token key), at PublicURL +
	// EventsPath, and enables that event for the tenant, so that a session
	// revoked at Latch is refused here at once rather than when its JWT
	// expires. It is idempotent: the webhook's id is derived from the
	// application id and the URL, and an existing one is updated. It needs
	// an API key that is not locked to a tenant, and a PublicURL that Latch
	// can reach. While Latch cannot be reached the storefront keeps trying
	// in the background.
	RegisterWebhook bool
	// TLSCertFile and TLSKeyFile, both or neither, are the PEM certificate
	// (chain) and key to serve HTTPS with: TLS 1.2 at least, 1.3 when the
	// client has it. Plain HTTP when both are empty.
	TLSCertFile, TLSKeyFile string
	// RedisURL, such as "redis://:password@redis.internal:6379/0" or
	// "rediss://..." for TLS (the forms of redis.ParseURL), is a Redis
	// that several instances of the storefront behind one URL share:
	// guard keeps in it the revocations its events handler learns
	// (guard.RevocationStore) and the DPoP proofs it accepted
	// (dpop.ReplayCache), through guard/redisstore, so that a revocation
	// event reaching one instance is honoured by all and a DPoP proof is
	// accepted by one instance only. The keys start with RedisKeyPrefix and
	// the application id, so that storefronts of different applications
	// can share a Redis. Open fails unless Redis answers a PING; afterwards,
	// while Redis cannot be reached or does not answer, requests that need
	// it are answered 503 (guard fails closed) within about a second
	// (redisstore.DefaultTimeout; the client's options are
	// redisstore.TuneOptions', where the URL sets none). Shutdown and Close
	// close the client. When empty, both stay in each instance's memory, as
	// guard's defaults.
	RedisURL string
}

// DefaultConfig returns the configuration of cmd/storefront without
// flags; ApplicationID and APIKey have no default.
func DefaultConfig() Config {
	return Config{Addr: DefaultAddr, LatchURL: DefaultLatchURL, DataDir: DefaultDataDir, LatchWait: DefaultLatchWait}
}

// Server is a running storefront: the article's Store. Open it, run Serve,
// and stop it with Shutdown or Close.
type Server struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	db    *db
	latch *latch
	ln    net.Listener
	http  *http.Server
	mux   *http.ServeMux

	tls       bool   // serving HTTPS
	publicURL string // Config.PublicURL, or derived; "" when it cannot be

	guard       atomic.Pointer[guard.Guard] // nil until the issuer is known
	discoverMu  sync.Mutex                  // one issuer look-up at a time
	discoveryAt time.Time                   // last failed look-up
	discoverErr error                       // its error

	webhookID atomic.Value // string: the id of the webhook registered at Latch

	rdb    *redis.Client     // Config.RedisURL's client; nil without one
	shared *redisstore.Store // guard's revocations and DPoP replay, over rdb

	mu      sync.Mutex
	stopped bool          // Shutdown or Close began
	stop    chan struct{} // closed when Shutdown or Close begins

	closeDB    sync.Once
	closeDBErr error

	closeRDB    sync.Once
	closeRDBErr error
}

// Open validates cfg, connects to Redis (when cfg.RedisURL is set) and
// checks that it answers, listens on cfg.Addr (a busy port fails at
// once), checks the application id and the API key at Latch (waiting up
// to cfg.LatchWait for Latch to answer), opens the database (creating
// and seeding it on the first start) and builds the guard, and returns a
// Server ready to Serve.
func Open(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.LatchURL == "" {
		cfg.LatchURL = DefaultLatchURL
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	cfg.LatchURL = strings.TrimSuffix(cfg.LatchURL, "/")
	if u, err := url.Parse(cfg.LatchURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("storefront: LatchURL %q: want an absolute http(s) URL", cfg.LatchURL)
	}
	if strings.TrimSpace(cfg.ApplicationID) == "" {
		return nil, errors.New("storefront: ApplicationID (the Latch application id) is required")
	}
	if cfg.LatchWait < 0 {
		return nil, fmt.Errorf("storefront: LatchWait %v: want a duration of zero or more", cfg.LatchWait)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: latchTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PublicURL != "" {
		cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
		if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return nil, fmt.Errorf("storefront: PublicURL %q: want an absolute http(s) base URL", cfg.PublicURL)
		}
	}
	var tlsConfig *tls.Config
	switch {
	case cfg.TLSCertFile == "" && cfg.TLSKeyFile == "":
	case cfg.TLSCertFile == "" || cfg.TLSKeyFile == "":
		return nil, errors.New("storefront: TLSCertFile and TLSKeyFile go together")
	default:
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("storefront: TLS: %w", err)
		}
		// TLS 1.3 is negotiated whenever the client has it.
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	var redisOpts *redis.Options
	if cfg.RedisURL != "" {
		if redisOpts, err = ParseRedisURL(cfg.RedisURL); err != nil {
			return nil, fmt.Errorf("storefront: RedisURL: %w", err)
		}
	}
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger,
		now:   cfg.Now,
		latch: newLatch(cfg.LatchURL, cfg.ApplicationID, cfg.APIKey, cfg.HTTPClient),
		mux:   http.NewServeMux(),
		tls:   tlsConfig != nil,
		stop:  make(chan struct{}),
	}
	if redisOpts != nil {
		// Fail fast: a Redis that is down or frozen costs a request
		// redisstore.DefaultTimeout and a 503, not go-redis's defaults.
		s.rdb = redis.NewClient(redisstore.TuneOptions(redisOpts))
		defer func() {
			if err != nil {
				s.closeRedis()
			}
		}()
		if err := pingRedis(ctx, s.rdb, redisOpts); err != nil {
			return nil, err
		}
		prefix := RedisKeyPrefix + cfg.ApplicationID + ":"
		s.shared = redisstore.New(s.rdb, redisstore.Config{Prefix: prefix, Now: s.now})
		s.log.Info("storefront: revocations and DPoP replay are shared in Redis",
			"redis", redisOpts.Addr, "db", redisOpts.DB, "tls", redisOpts.TLSConfig != nil, "prefix", prefix)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("storefront: create data directory: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("storefront: listen on %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	s.publicURL = cfg.PublicURL
	if s.publicURL == "" {
		s.publicURL = derivePublicURL(s.scheme(), cfg.Addr, ln.Addr())
		if s.publicURL == "" {
			s.log.Warn("storefront: no public URL: DPoP proofs are checked against each request's Host header; set PublicURL",
				"addr", cfg.Addr)
		}
	}
	if cfg.RegisterWebhook && s.publicURL == "" {
		ln.Close()
		return nil, errors.New("storefront: RegisterWebhook needs PublicURL: the URL at which Latch reaches the storefront")
	}
	if err := s.checkLatch(ctx); err != nil {
		ln.Close()
		return nil, err
	}
	if cfg.Issuer != "" {
		// With the issuer given, a configuration that guard refuses fails Open.
		g, err := s.newGuard(cfg.Issuer)
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.guard.Store(g)
	}
	if s.db, err = openDB(ctx, filepath.Join(cfg.DataDir, DatabaseFile)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("storefront: %w", err)
	}
	if cfg.Issuer == "" {
		if _, err := s.currentGuard(ctx); err != nil {
			s.log.Warn("storefront: Latch's issuer is unknown for now; cart routes answer 503 until Latch is reachable",
				"latch", cfg.LatchURL, "err", err)
		}
	}
	s.routes()
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	if cfg.RegisterWebhook {
		switch err := s.registerWebhook(ctx); {
		case err == nil:
		case errors.Is(err, errLatchUnavailable):
			s.log.Warn("storefront: cannot register the webhook at Latch yet; retrying in the background", "err", err)
			go s.retryWebhook()
		default:
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// checkLatch checks the application id and the API key at Latch before
// the storefront serves, so that a wrong one stops it at once with a
// message that says which, rather than turn every login into a 500. While
// Latch cannot be reached it tries again every latchCheckRetry until
// Config.LatchWait has passed: a storefront started beside Latch waits
// for it, and one whose Latch stays away does not start.
func (s *Server) checkLatch(ctx context.Context) error {
	deadline := time.Now().Add(s.cfg.LatchWait)
	for {
		err := s.latch.checkApplication(ctx)
		if !errors.Is(err, errLatchUnavailable) {
			return err
		}
		if !time.Now().Add(latchCheckRetry).Before(deadline) {
			return fmt.Errorf("storefront: cannot check the application id and API key: Latch at %s did not answer within %v: %w",
				s.cfg.LatchURL, s.cfg.LatchWait, err)
		}
		s.log.Warn("storefront: waiting for Latch, to check the application id and API key", "latch", s.cfg.LatchURL, "err", err)
		t := time.NewTimer(latchCheckRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("storefront: waiting for Latch: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// scheme is the scheme the storefront serves.
func (s *Server) scheme() string {
	if s.tls {
		return "https"
	}
	return "http"
}

// derivePublicURL is the base URL of a storefront listening on addr (as
// configured) at bound (as listened): the configured host, a name or an
// address, with the port listened on. A wildcard host (none, 0.0.0.0, ::)
// names no host, and yields "".
func derivePublicURL(scheme, addr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return ""
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		return ""
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return ""
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// newGuard builds the guard for the issuer: with Config.RedisURL, over
// the revocations and DPoP replay cache shared in Redis; else over
// guard's in-memory ones.
func (s *Server) newGuard(issuer string) (*guard.Guard, error) {
	cfg := guard.Config{
		Issuer:     issuer,
		Audience:   s.cfg.ApplicationID,
		LatchURL:   s.cfg.LatchURL,
		HTTPClient: s.cfg.HTTPClient,
		Now:        s.now,
		Logger:     s.log,
		APIKey:     s.cfg.APIKey,
		DPoP:       guard.DPoPOptions{PublicURL: s.publicURL},
		// A restart forgets the revocations held in memory, and an
		// instance that was down missed those sent meanwhile: catch up
		// on them at Latch before trusting an older JWT.
		Revocations: guard.RevocationOptions{CatchUp: s.cfg.APIKey != ""},
	}
	if s.shared != nil { // never a nil *Store in the interfaces
		cfg.Revocations.Store, cfg.DPoP.Replay = s.shared, s.shared
	}
	g, err := guard.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("storefront: %w", err)
	}
	return g, nil
}

// currentGuard returns the guard, looking Latch's issuer up first if it is
// not known yet: one look-up at a time, and after a failure none for
// discoveryRetry.
func (s *Server) currentGuard(ctx context.Context) (*guard.Guard, error) {
	if g := s.guard.Load(); g != nil {
		return g, nil
	}
	s.discoverMu.Lock()
	defer s.discoverMu.Unlock()
	if g := s.guard.Load(); g != nil {
		return g, nil
	}
	if s.discoverErr != nil && time.Since(s.discoveryAt) < discoveryRetry {
		return nil, s.discoverErr
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	issuer, err := s.latch.discoverIssuer(ctx)
	var g *guard.Guard
	if err == nil {
		g, err = s.newGuard(issuer)
	}
	if err != nil {
		s.discoveryAt, s.discoverErr = time.Now(), err
		return nil, err
	}
	s.log.Info("storefront: verifying JWTs of Latch's issuer", "issuer", issuer, "audience", s.cfg.ApplicationID)
	s.guard.Store(g)
	return g, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the server's base URL on the address it listens on:
// https with TLS, else http.
func (s *Server) URL() string { return s.scheme() + "://" + s.Addr() }

// PublicURL returns the base URL apps and Latch reach the storefront at
// (Config.PublicURL, or the one derived from the listen address), or ""
// when it could not be derived.
func (s *Server) PublicURL() string { return s.publicURL }

// WebhookID returns the id of the webhook the storefront registered at
// Latch (Config.RegisterWebhook), or "" while it has not.
func (s *Server) WebhookID() string {
	id, _ := s.webhookID.Load().(string)
	return id
}

// Handler returns the storefront's HTTP handler, for tests that drive it
// without the listener.
func (s *Server) Handler() http.Handler { return s }

// Serve serves requests until Shutdown or Close; it returns nil after
// either.
func (s *Server) Serve() error {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return nil
	}
	s.log.Info("storefront listening", "addr", s.Addr(), "tls", s.tls, "publicURL", s.publicURL,
		"latch", s.cfg.LatchURL, "application", s.cfg.ApplicationID)
	var err error
	if s.tls {
		err = s.http.ServeTLS(s.ln, "", "") // the certificate is in TLSConfig
	} else {
		err = s.http.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// markStopped keeps a later Serve from starting.
func (s *Server) markStopped() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
}

// Shutdown stops accepting requests, waits for those in flight (until ctx
// ends), and closes the database and the Redis client.
func (s *Server) Shutdown(ctx context.Context) error {
	s.markStopped()
	err := s.http.Shutdown(ctx)
	s.ln.Close() // Serve may never have taken it; closed already if it did
	return errors.Join(err, s.closeDatabase(), s.closeRedis())
}

// Close stops the server at once and closes the database and the Redis
// client. Close and Shutdown may be called more than once.
func (s *Server) Close() error {
	s.markStopped()
	err := s.http.Close()
	s.ln.Close()
	return errors.Join(err, s.closeDatabase(), s.closeRedis())
}

// closeRedis closes the Redis client, if any, once.
func (s *Server) closeRedis() error {
	s.closeRDB.Do(func() {
		if s.rdb != nil {
			s.closeRDBErr = s.rdb.Close()
		}
	})
	return s.closeRDBErr
}

// ParseRedisURL parses a Redis URL as Config.RedisURL takes it (the forms
// of redis.ParseURL: redis://, rediss://, unix://). Its errors never show
// the URL's password.
func ParseRedisURL(raw string) (*redis.Options, error) {
	opts, err := redis.ParseURL(raw)
	if err == nil {
		return opts, nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error quotes the whole URL, password and all
	}
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return nil, errors.New(msg)
}

// pingRedis checks that Redis answers; its error names the address, never
// the password.
func pingRedis(ctx context.Context, rdb *redis.Client, opts *redis.Options) error {
	ctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	err := rdb.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	msg := err.Error()
	if opts.Password != "" {
		msg = strings.ReplaceAll(msg, opts.Password, "xxxxx")
	}
	return fmt.Errorf("storefront: cannot use Redis at %s: %s", opts.Addr, msg)
}

// closeDatabase closes the database once, however often it is called.
func (s *Server) closeDatabase() error {
	s.closeDB.Do(func() { s.closeDBErr = s.db.Close() })
	return s.closeDBErr
}
