// Package server assembles a running Latch: it opens the store, sets up a
// new database (bootstrap or kickstart), builds the identity service and
// the HTTP API, listens, delivers webhook events (internal/events), reaps
// expired records, and shuts down gracefully.
// cmd/latch and the end-to-end tests start Latch through it.
package server

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/httpapi"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kickstart"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// File names inside the data directory.
const (
	DatabaseFile     = "latch.db"
	MasterKeyFile    = "master.key"
	BootstrapKeyFile = "bootstrap-api-key"
)

// Config is everything Latch is started with. cmd/latch fills it from
// flags and their environment twins.
type Config struct {
	// Addr is the listen address; ":0" picks a free port.
	Addr string
	// DataDir holds the SQLite database, the generated master key and the
	// bootstrap API key.
	DataDir string
	// DatabaseURL, when it is a postgres:// URL, selects PostgreSQL.
	DatabaseURL string
	// Kickstart is the path of a kickstart file applied to a new database.
	Kickstart string
	// KickstartSkipUnsupported skips the kickstart's requests to APIs
	// Latch does not implement (each logged at WARN) instead of refusing
	// to start: a kickstart written for FusionAuth may set up themes,
	// email templates or lambdas, which Latch has no use for.
	KickstartSkipUnsupported bool
	// Issuer is the iss of tokens; "http://" + the listen address when empty.
	Issuer string
	// MasterKey encrypts private signing keys: 32 bytes as 64 hex digits or
	// base64. When empty, a key is read from (or generated into) the data directory.
	MasterKey string
	// Logger receives the logs; slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Getenv resolves the kickstart's ENV placeholders; os.LookupEnv when nil.
	Getenv func(string) (string, bool)
	// GCInterval is how often expired and revoked records are reaped.
	GCInterval time.Duration
	// TLSCert and TLSKey, both set, make Latch serve HTTPS (TLS 1.2 at
	// least; TLS 1.3 is preferred by the Go runtime) with these PEM files.
	TLSCert, TLSKey string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client: its rightmost entry that is not one of them.
	TrustedProxies []netip.Prefix
	// RateLimits caps login, token and refresh requests per client (a
	// refresh per session); the zero value switches them off
	// (DefaultConfig switches them on).
	RateLimits httpapi.RateLimits
	// DPoPNonces makes Latch require a server nonce in every DPoP proof
	// (RFC 9449 §8): a proof without a current one is answered
	// use_dpop_nonce with the nonce to use. Nonces are stateless HMACs
	// (dpop.HMACNonces) under a secret derived from the master key, so
	// every node sharing the master key issues and accepts the same ones.
	DPoPNonces bool
	// DPoPNonceLifetime is how long a nonce is current; it is accepted for
	// as long again. dpop.DefaultNonceBucket (5 minutes) when zero.
	DPoPNonceLifetime time.Duration
	// Events tunes the webhook dispatcher; zero fields pick its defaults.
	// Its Store, Signer, Logger and Now are the server's own.
	Events events.Config
	// Hashing bounds the password hashes computed at once (see
	// password.Gate): beyond them, logins wait a little, then get 503 with
	// Retry-After. password.DefaultGate() when nil.
	Hashing *password.Gate
	// DatabaseTimeout is the deadline of every store call, and of every
	// transaction as a whole (storage.WithDeadlines): what the database
	// has not answered by then is rolled back and answered 503.
	// storage.DefaultTimeout (5 s) when zero; shorter than
	// DefaultRequestTimeout. Within a request, the request's own deadline
	// (RequestTimeout) applies too.
	DatabaseTimeout time.Duration
	// RequestTimeout ends every request's context (DefaultRequestTimeout
	// when zero; at most that): a request still waiting then, after
	// several slow store calls, fails, rolls back and is answered 503
	// before the HTTP server's write timeout cuts the connection without
	// an answer.
	RequestTimeout time.Duration
}

// writeTimeout is the HTTP server's write timeout: a request not answered
// by then gets no answer at all.
const writeTimeout = 30 * time.Second

// DefaultRequestTimeout is Config.RequestTimeout's default and maximum,
// a margin short of the HTTP server's write timeout (30 s).
const DefaultRequestTimeout = writeTimeout - 5*time.Second

// DefaultConfig returns the configuration of `latch serve` without flags.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:9011", DataDir: "./latch-data", GCInterval: 10 * time.Minute, RateLimits: httpapi.DefaultRateLimits()}
}

// Server is a running Latch.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    storage.Store
	outage   *storage.Outage
	identity *identity.Service
	api      *httpapi.Server
	ln       net.Listener
	http     *http.Server
	events   *events.Dispatcher

	mu      sync.Mutex
	stopped bool               // Shutdown or Close began: Serve starts nothing
	cancel  context.CancelFunc // stops the reaper and the dispatcher, once Serve started them
	done    chan struct{}      // closed when the reaper has stopped
	evDone  chan struct{}      // closed when the dispatcher has stopped
}

// Open listens on cfg.Addr (a busy port fails at once), opens the store,
// sets up a new database, and returns a Server ready to Serve.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.GCInterval <= 0 {
		cfg.GCInterval = 10 * time.Minute
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.LookupEnv
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = cfg.scheme() + "://" + ln.Addr().String()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ln: ln, done: make(chan struct{}), evDone: make(chan struct{})}
	if err := s.open(ctx); err != nil {
		ln.Close()
		if s.store != nil {
			s.store.Close()
		}
		return nil, err
	}
	return s, nil
}

func (s *Server) open(ctx context.Context) error {
	if s.cfg.RequestTimeout == 0 {
		s.cfg.RequestTimeout = DefaultRequestTimeout
	}
	if s.cfg.RequestTimeout < 0 || s.cfg.RequestTimeout > DefaultRequestTimeout {
		return fmt.Errorf("request timeout %v: want a positive duration of at most %v", s.cfg.RequestTimeout, DefaultRequestTimeout)
	}
	var err error
	s.outage = storage.NewOutage(s.log, nil, 0)
	if s.store, err = openStore(ctx, s.cfg, s.outage); err != nil {
		return err
	}
	ec := s.cfg.Events
	ec.Store, ec.Logger, ec.Now = s.store, s.log, s.cfg.Now
	ec.Signer = signer{s}
	s.events = events.New(ec)
	if s.identity, err = newIdentity(s.cfg, s.store, s.events.Notify); err != nil {
		return err
	}
	if s.cfg.RateLimits.Now == nil {
		s.cfg.RateLimits.Now = s.cfg.Now
	}
	nonces, err := dpopNonces(s.cfg)
	if err != nil {
		return err
	}
	s.api = httpapi.New(httpapi.Config{Identity: s.identity, Logger: s.log, TrustedProxies: s.cfg.TrustedProxies, RateLimits: s.cfg.RateLimits,
		DPoPNonces: nonces, RequestTimeout: s.cfg.RequestTimeout, Outage: s.outage})
	if err := s.setup(ctx); err != nil {
		return err
	}
	// A wrong master key is refused here rather than failing every login later.
	if err := CheckMasterKey(ctx, s.identity); err != nil {
		return err
	}
	s.http = &http.Server{
		Handler:           s.api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.cfg.scheme() == "https" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		s.http.TLSConfig.Certificates = []tls.Certificate{cert}
	} else if s.cfg.TLSCert != "" || s.cfg.TLSKey != "" {
		return errors.New("tls: both a certificate and a key are needed")
	}
	return nil
}

// OpenStore opens the store cfg names: PostgreSQL for a postgres:// URL,
// else SQLite in the data directory. Every call on it has a deadline of
// cfg.DatabaseTimeout (storage.WithDeadlines), and outages are logged to
// cfg.Logger in a few lines (storage.Outage); storage.Unwrap returns the
// backend's own Store.
func OpenStore(ctx context.Context, cfg Config) (storage.Store, error) {
	return openStore(ctx, cfg, storage.NewOutage(cfg.Logger, nil, 0))
}

func openStore(ctx context.Context, cfg Config, outage *storage.Outage) (storage.Store, error) {
	if cfg.DatabaseTimeout < 0 || cfg.DatabaseTimeout >= DefaultRequestTimeout {
		return nil, fmt.Errorf("database timeout %v: want a positive duration shorter than %v", cfg.DatabaseTimeout, DefaultRequestTimeout)
	}
	var st storage.Store
	var err error
	if u := cfg.DatabaseURL; u != "" {
		if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
			return nil, fmt.Errorf("database URL: only postgres:// URLs are supported (SQLite is the default, in the data directory)")
		}
		st, err = openPostgres(ctx, u)
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		st, err = openSQLite(ctx, filepath.Join(cfg.DataDir, DatabaseFile))
	}
	if err != nil {
		return nil, err
	}
	return storage.WithDeadlines(st, cfg.DatabaseTimeout, outage), nil
}

// signer signs webhook deliveries with the server's key ring (the
// identity service exists only once the dispatcher does).
type signer struct{ s *Server }

// SignWithKey implements events.Signer.
func (g signer) SignWithKey(ctx context.Context, keyID string, claims any) (string, error) {
	return g.s.identity.SignWithKey(ctx, keyID, claims)
}

// NewIdentity builds the identity service over a store, with the master key.
func NewIdentity(cfg Config, st storage.Store) (*identity.Service, error) {
	return newIdentity(cfg, st, nil)
}

// newIdentity is NewIdentity whose commits that enqueue events call onEnqueue.
func newIdentity(cfg Config, st storage.Store, onEnqueue func()) (*identity.Service, error) {
	key, err := MasterKey(cfg)
	if err != nil {
		return nil, err
	}
	sealer, err := token.NewSealer(key)
	if err != nil {
		return nil, err
	}
	return identity.New(identity.Config{Store: st, Sealer: sealer, Issuer: cfg.Issuer, Now: cfg.Now, Logger: cfg.Logger,
		OnEnqueue: onEnqueue, Hashing: cfg.Hashing})
}

// dpopNonceLabel is the HKDF info of the DPoP nonce secret: a key of its
// own, derived from the master key, that serves no other purpose.
const dpopNonceLabel = "latch dpop nonce secret v1"

// dpopNonces returns the DPoP nonce source cfg asks for: nil when nonces
// are off, else HMAC nonces keyed by HKDF-SHA256(master key, label), the
// same on every node with the same master key.
func dpopNonces(cfg Config) (dpop.NonceSource, error) {
	if !cfg.DPoPNonces {
		return nil, nil
	}
	master, err := MasterKey(cfg)
	if err != nil {
		return nil, err
	}
	secret, err := hkdf.Key(sha256.New, master, nil, dpopNonceLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("dpop nonce secret: %w", err)
	}
	n, err := dpop.NewHMACNonces(secret, cfg.DPoPNonceLifetime)
	if err != nil {
		return nil, err
	}
	n.Now = cfg.Now
	return n, nil
}

// CheckMasterKey reports an error unless every signing key that may still
// sign or verify a token decrypts under the service's master key.
func CheckMasterKey(ctx context.Context, id *identity.Service) error {
	if _, err := id.JWKS(ctx); err != nil {
		return fmt.Errorf("the signing keys do not decrypt with this master key (is it the one the database was set up with?): %w", err)
	}
	return nil
}

// MasterKey returns the 32-byte master key: from cfg.MasterKey, else from
// the data directory's master.key, which is generated (mode 0600) when absent.
func MasterKey(cfg Config) ([]byte, error) {
	if cfg.MasterKey != "" {
		return parseMasterKey(cfg.MasterKey)
	}
	path := filepath.Join(cfg.DataDir, MasterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return parseMasterKey(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	key := make([]byte, token.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key: %w", err)
	}
	return key, f.Close()
}

func parseMasterKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == token.MasterKeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == token.MasterKeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("master key: want %d bytes as hex or base64", token.MasterKeySize)
}

// setup initialises a new database: the kickstart if one is given, else
// the bootstrap (default tenant, application and an API key written to the
// data directory). A database set up before is left as it is.
func (s *Server) setup(ctx context.Context) error {
	done, err := s.identity.Initialized(ctx)
	if err != nil {
		return err
	}
	if done {
		if s.cfg.Kickstart != "" {
			s.log.Info("kickstart skipped: the database was set up before", "file", s.cfg.Kickstart)
		}
		return nil
	}
	if s.cfg.Kickstart != "" {
		f, err := kickstart.ReadFile(s.cfg.Kickstart, s.cfg.Getenv)
		if err != nil {
			return err
		}
		// On the backend's own store: the kickstart is one transaction,
		// which may create many users (a password hash each) and so
		// outlast the deadline of a call. Start-up bounds it.
		id := s.identity.WithStore(storage.Unwrap(s.store))
		err = kickstart.Apply(ctx, f, id, func(tx *identity.Service) http.Handler { return s.api.WithIdentity(tx) },
			kickstart.Options{Implements: s.api.Implements, SkipUnsupported: s.cfg.KickstartSkipUnsupported, Logger: s.log})
		if errors.Is(err, storage.ErrConflict) {
			if done, _ := s.identity.Initialized(ctx); done {
				s.log.Info("kickstart skipped: another node set the database up first", "file", s.cfg.Kickstart)
				return nil
			}
		}
		if err != nil {
			return err
		}
		s.log.Info("kickstart applied", "file", s.cfg.Kickstart, "apiKeys", len(f.APIKeys), "requests", len(f.Requests))
		return nil
	}
	app, key, err := s.identity.Bootstrap(ctx)
	if errors.Is(err, storage.ErrConflict) {
		if done, _ := s.identity.Initialized(ctx); done {
			s.log.Info("another node set the database up first")
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	path := filepath.Join(s.cfg.DataDir, BootstrapKeyFile)
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(key.Key+"\n"), 0o600); err != nil {
		return fmt.Errorf("write bootstrap API key: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	s.log.Info("first start: created the default tenant, the application Default and an admin API key",
		"application", app.ID, "apiKeyFile", path)
	return nil
}

// Identity returns the identity service.
func (s *Server) Identity() *identity.Service { return s.identity }

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the server's base URL.
func (s *Server) URL() string { return s.cfg.scheme() + "://" + s.Addr() }

// scheme is https when a certificate is configured.
func (c Config) scheme() string {
	if c.TLSCert != "" && c.TLSKey != "" {
		return "https"
	}
	return "http"
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.api }

// Serve serves requests, delivers webhook events and reaps expired records
// until Shutdown or Close; it returns nil after a graceful shutdown.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.mu.Unlock()
	go s.reap(ctx)
	go func() {
		defer close(s.evDone)
		s.events.Run(ctx)
	}()
	s.log.Info("latch listening", "addr", s.Addr(), "issuer", s.cfg.Issuer)
	var err error
	if s.cfg.scheme() == "https" {
		err = s.http.ServeTLS(s.ln, "", "") // the certificate was loaded by Open
	} else {
		err = s.http.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// reap deletes sessions that expired or were revoked more than a day ago
// (kept that long for the record), the outbox's deliveries finished more
// than a day ago with their events, the authorization codes and SSO
// sessions that expired more than a day ago, and the login attempts that
// no longer matter (at once: their keys are chosen by anyone who tries a
// login).
func (s *Server) reap(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.cfg.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := s.now()
			res, err := s.store.GarbageCollect(ctx, now.Add(-24*time.Hour))
			var attempts, codes, ssos int64
			if err == nil {
				attempts, err = s.store.CollectLoginAttempts(ctx, now)
			}
			if err == nil {
				// Codes are kept a day past their minute, so that a reuse
				// still finds its code, and revokes what it gave.
				codes, ssos, err = s.store.CollectAuthorizations(ctx, now.Add(-24*time.Hour))
			}
			if err != nil {
				// An outage is the store's Outage to log.
				if ctx.Err() == nil && !errors.Is(err, storage.ErrUnavailable) {
					s.log.Error("garbage collection", "err", err)
				}
				continue
			}
			if res != (storage.GCResult{}) || attempts != 0 || codes != 0 || ssos != 0 {
				s.log.Info("garbage collection", "sessions", res.Sessions, "loginAttempts", attempts,
					"deliveries", res.Deliveries, "events", res.Events, "dpopProofs", res.DPoPProofs,
					"authorizationCodes", codes, "ssoSessions", ssos)
			}
		}
	}
}

// now is the server's clock.
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// stop keeps a later Serve from starting, stops the reaper if Serve
// started it, and closes the listener (which Serve may never have taken).
func (s *Server) stop() {
	s.mu.Lock()
	s.stopped = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-s.done
		<-s.evDone
	}
	s.ln.Close() // already closed when Serve ran
}

// Shutdown stops accepting requests, waits for those in flight (until
// ctx ends), and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.stop()
	return errors.Join(err, s.store.Close())
}

// Close stops the server at once.
func (s *Server) Close() error {
	err := s.http.Close()
	s.stop()
	return errors.Join(err, s.store.Close())
}
