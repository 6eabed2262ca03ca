// Package httpapi serves Latch over HTTP: the FusionAuth-compatible REST
// API under /api, the OAuth 2.0 endpoints under /oauth2 and the
// well-known documents. Handlers decode the wire types of package api,
// call identity, and map its errors and outcomes to FusionAuth's status
// codes and error bodies.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// maxBodyBytes caps every request body.
const maxBodyBytes = 1 << 20

// Config configures a Server.
type Config struct {
	// Identity implements the rules.
	Identity *identity.Service
	// Logger receives one line per request and every internal error;
	// never a secret, a token or a query string. slog.Default when nil.
	Logger *slog.Logger
	// BaseURL is the public URL the server is reached at, for the
	// endpoint URLs of the discovery document. When empty they are
	// derived from the issuer, or from the request.
	BaseURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: the client is its rightmost entry that is not one of them.
	TrustedProxies []netip.Prefix
	// RateLimits caps login, token and refresh requests per client (a
	// refresh per session); zero values switch a limit off.
	RateLimits RateLimits
	// DPoP verifies the DPoP proofs of login, token and refresh requests
	// and of DPoP-bound access tokens (see dpop.go). When nil, one is made
	// with dpop's default algorithms, window and skew, the identity
	// service's store as its replay cache (shared by every node), its
	// clock, and DPoPNonces.
	DPoP *dpop.Verifier
	// DPoPNonces, when set, is the verifier's nonce source (when DPoP is
	// set, it must be the one DPoP was made with): the current nonce is
	// sent in DPoP-Nonce with every answer to a request with a proof.
	DPoPNonces dpop.NonceSource
	// RequestTimeout, when positive, ends every request's context after
	// that long: the store calls still waiting then fail, roll back and are
	// answered 503, before the HTTP server's write timeout would cut the
	// connection without an answer.
	RequestTimeout time.Duration
	// Outage, when set, counts the requests answered 503 because the store
	// is unavailable (its store reports the outage itself, through
	// storage.WithDeadlines): the outage's log lines say how many.
	Outage *storage.Outage
}

// Server is the HTTP front of an identity.Service.
type Server struct {
	id      *identity.Service
	log     *slog.Logger
	baseURL string
	proxies []netip.Prefix
	limits  limiters
	metrics *metrics
	dpop    *dpop.Verifier
	nonces  dpop.NonceSource
	mux     *http.ServeMux
	timeout time.Duration
	outage  *storage.Outage
	health  health
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	s := &Server{id: cfg.Identity, log: cfg.Logger, baseURL: strings.TrimSuffix(cfg.BaseURL, "/"), proxies: cfg.TrustedProxies, mux: http.NewServeMux(),
		timeout: cfg.RequestTimeout, outage: cfg.Outage}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.limits = newLimiters(cfg.RateLimits)
	s.metrics = newMetrics(cfg.Identity)
	s.dpop, s.nonces = cfg.DPoP, cfg.DPoPNonces
	if s.dpop == nil {
		v, err := dpop.NewVerifier(dpop.Config{Replay: cfg.Identity.DPoPReplayCache(), Nonce: cfg.DPoPNonces, Now: cfg.Identity.Now})
		if err != nil {
			panic("httpapi: DPoP verifier: " + err.Error()) // the defaults are valid
		}
		s.dpop = v
	}
	s.routes()
	return s
}

// WithIdentity returns a Server like s over another identity.Service
// (a transaction's, for the kickstart).
func (s *Server) WithIdentity(id *identity.Service) *Server {
	c := New(Config{Identity: id, Logger: s.log, BaseURL: s.baseURL, TrustedProxies: s.proxies, DPoP: s.dpop, DPoPNonces: s.nonces,
		RequestTimeout: s.timeout, Outage: s.outage})
	return c
}

// auth says what credential a route needs.
type auth int

const (
	authNone     auth = iota // anonymous
	authAPIKey               // an API key permitted for the route
	authSuperKey             // such a key, not locked to a tenant (server-wide APIs)
)

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) routes() {
	h := s.handle
	s.mux.Handle("GET /api/status", h(authNone, s.status))
	s.mux.Handle("GET /api/prometheus/metrics", h(authSuperKey, s.serveMetrics))

	s.mux.Handle("POST /api/login", h(authNone, s.login))
	s.mux.Handle("POST /api/logout", h(authNone, s.logout))
	s.mux.Handle("POST /api/jwt/refresh", h(authNone, s.refresh))
	s.mux.Handle("GET /api/jwt/validate", h(authNone, s.validate))
	s.mux.Handle("GET /api/jwt/refresh", h(authAPIKey, s.listRefreshTokens))
	s.mux.Handle("GET /api/jwt/refresh/{id}", h(authAPIKey, s.getRefreshToken))
	s.mux.Handle("DELETE /api/jwt/refresh", h(authNone, s.revokeRefreshTokens))
	s.mux.Handle("DELETE /api/jwt/refresh/{id}", h(authNone, s.revokeRefreshTokens))
	s.mux.Handle("GET /api/jwt/public-key", h(authNone, s.publicKey))

	s.mux.Handle("GET /.well-known/jwks.json", h(authNone, s.jwks))
	s.mux.Handle("GET /.well-known/openid-configuration", h(authNone, s.discovery))
	s.mux.Handle("GET /{tenantId}/.well-known/openid-configuration", h(authNone, s.discovery))

	s.mux.Handle("POST /oauth2/token", h(authNone, s.oauth(s.token)))
	s.mux.Handle("POST /oauth2/introspect", h(authNone, s.oauth(s.introspect)))
	s.mux.Handle("POST /oauth2/revoke", h(authNone, s.oauth(s.revoke)))
	s.mux.Handle("GET /oauth2/userinfo", h(authNone, s.userinfo))
	s.mux.Handle("POST /oauth2/userinfo", h(authNone, s.userinfo))
	s.authorizeRoutes()

	s.adminRoutes()
	s.twoFactorRoutes()
	s.eventLogRoutes()

	s.mux.Handle("/", h(authNone, func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}))
}

// Implements reports whether a route of the server serves method and path:
// false for what only the catch-all answers (404), and for a path whose
// segment in the place of a route's {id} is no UUID. Every wildcard of
// the route table stands for an id, so POST /api/user/family (FusionAuth's
// Families API) is not POST /api/user/{id}. A route that is served may
// still answer 404 for an object it does not find: that is not this.
func (s *Server) Implements(method, path string) bool {
	_, pattern := s.mux.Handler(&http.Request{Method: method, URL: &url.URL{Path: path}})
	if pattern == "" || pattern == "/" {
		return false
	}
	_, route, _ := strings.Cut(pattern, " ")
	want, got := strings.Split(route, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i, seg := range want {
		if strings.HasPrefix(seg, "{") && !identity.ValidID(identity.CanonicalID(got[i])) {
			return false
		}
	}
	return true
}

type ctxKey int

const (
	ctxAPIKey ctxKey = iota
	ctxRequestID
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID()
	ctx := context.WithValue(r.Context(), ctxRequestID, id)
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	r = r.WithContext(ctx)
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "request", id, "method", r.Method, "path", r.URL.Path, "panic", p)
			if !sw.wrote {
				sw.WriteHeader(http.StatusInternalServerError)
			}
		}
		// The query string is never logged: it may carry a token.
		s.metrics.observe(r.Pattern, r.Method, sw.status, time.Since(start))
		s.log.Info("request", "request", id, "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", time.Since(start).Round(time.Microsecond), "client", s.clientAddress(r))
	}()
	s.mux.ServeHTTP(sw, r)
}

// handle adapts a handlerFunc: authentication, the body cap, and errors.
func (s *Server) handle(a auth, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		canonicalRequest(r)
		r = s.withEventInfo(r, nil, "")
		if s.nonces != nil && len(r.Header.Values(dpop.Header)) > 0 {
			s.offerNonce(w) // every answer to a request with a proof, errors included
		}
		var err error
		if a != authNone {
			r, err = s.requireAPIKey(r)
		}
		if err == nil && a == authSuperKey {
			if k, _ := r.Context().Value(ctxAPIKey).(*storage.APIKey); k == nil {
				err = noAPIKey(r, "")
			} else if k.TenantID != "" {
				err = &apiKeyRefusal{reason: "the API key " + k.ID + " is locked to tenant " + k.TenantID + ", and this API takes only a key of every tenant"}
			}
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withEventInfo puts in the request's context the EventInfo of the events
// the request causes: the caller's eventInfo, if it sent one, with the end
// user's address (ipAddress, as a backend reports it), else the request's,
// and the request's user agent filling what it leaves blank.
func (s *Server) withEventInfo(r *http.Request, info *api.EventInfo, ipAddress string) *http.Request {
	var ei api.EventInfo
	if info != nil {
		ei = *info
	}
	if ei.IPAddress == "" {
		ei.IPAddress = ipAddress
	}
	if ei.IPAddress == "" {
		ei.IPAddress = s.clientAddress(r)
	}
	if ei.UserAgent == "" {
		ei.UserAgent = r.UserAgent()
	}
	return r.WithContext(identity.WithEventInfo(r.Context(), ei))
}

// status serves GET /api/status: 200 while the database answers and
// accepts writes, else 503 with Retry-After (see health).
func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	switch err := s.health.check(r.Context(), s.id); {
	case errors.Is(err, errNoWrites):
		w.Header().Set("Retry-After", retryAfterUnavailable)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database refuses writes"})
	case err != nil:
		w.Header().Set("Retry-After", retryAfterUnavailable)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
