package guard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
)

// DPoP (RFC 9449) in guard: a JWT with cnf.jkt is bound to the key of the
// app that logged in, and is accepted only as "Authorization: DPoP <JWT>"
// with a DPoP proof made by that key for this very request.

// Schemes of the Authorization header.
const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

// taggedReplay marks the errors of a ReplayCache, so that the Handler can
// tell them (503) from the proof's own faults (401).
type taggedReplay struct{ dpop.ReplayCache }

// Use implements dpop.ReplayCache.
func (t taggedReplay) Use(ctx context.Context, client, jti string, expires time.Time) (bool, error) {
	fresh, err := t.ReplayCache.Use(ctx, client, jti, expires)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", errDPoPReplayUnavailable, err)
	}
	return fresh, err
}

// dpopError is a refusal about DPoP, answered 401 with a DPoP challenge:
// a bound token without its proof, a bad proof, a proof without the
// nonce guard requires, or an unbound token in the DPoP scheme.
type dpopError struct {
	code  string // invalid_token, invalid_dpop_proof or use_dpop_nonce
	desc  string // for the JSON body: plain ASCII
	nonce string // for use_dpop_nonce: the DPoP-Nonce to send
	err   error  // the cause, for the log
}

func (e *dpopError) Error() string {
	if e.err != nil {
		return "guard: " + e.code + ": " + e.err.Error()
	}
	return "guard: " + e.code + ": " + e.desc
}

func (e *dpopError) Unwrap() error { return e.err }

// Refusals of tokens presented in the wrong scheme.
var (
	errBoundAsBearer = &dpopError{code: api.OAuthInvalidToken,
		desc: "The access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof."}
	errUnboundAsDPoP = &dpopError{code: api.OAuthInvalidToken,
		desc: "The access token is not DPoP-bound: present it with the Bearer scheme."}
	errNoAPIKey = &dpopError{code: api.OAuthInvalidToken,
		desc: "This service cannot refresh DPoP-bound sessions; log in again."}
)

// proofError maps an error of dpop.FromHeader or dpop.Verifier.Verify.
// The caller's context ending and the replay cache failing pass through
// (503); every other error is the proof's fault (401).
func proofError(err error) error {
	var nonceErr *dpop.NonceError
	switch {
	case errors.As(err, &nonceErr):
		return &dpopError{code: api.OAuthUseDPoPNonce, desc: "A DPoP proof with the server's current nonce is required.",
			nonce: nonceErr.Nonce, err: err}
	case errors.Is(err, errDPoPReplayUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	desc := "The DPoP proof is invalid."
	switch {
	case errors.Is(err, dpop.ErrNoProof):
		desc = "The request carries no DPoP proof."
	case errors.Is(err, dpop.ErrReplay):
		desc = "The DPoP proof was used before."
	case errors.Is(err, dpop.ErrIssuedAt):
		desc = "The DPoP proof is too old or from the future."
	case errors.Is(err, dpop.ErrMethod), errors.Is(err, dpop.ErrURL):
		desc = "The DPoP proof was made for another request."
	case errors.Is(err, dpop.ErrAccessTokenHash):
		desc = "The DPoP proof was made for another access token."
	case errors.Is(err, dpop.ErrKeyMismatch):
		desc = "The DPoP proof is not signed by the key the token is bound to."
	}
	return &dpopError{code: api.OAuthInvalidDPoPProof, desc: desc, err: err}
}

// authorization returns the scheme (schemeBearer or schemeDPoP) and the
// token of the request's Authorization header. A request without one, or
// with another scheme, has none (ErrNoToken); more than one Authorization
// header, or an empty or spaced value, is errMalformed.
func authorization(r *http.Request) (scheme, token string, err error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", "", ErrNoToken
	case 1:
	default:
		return "", "", fmt.Errorf("%w: several Authorization headers", errMalformed)
	}
	s, tok, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	switch {
	case strings.EqualFold(s, schemeBearer):
		scheme = schemeBearer
	case strings.EqualFold(s, schemeDPoP):
		scheme = schemeDPoP
	default:
		return "", "", ErrNoToken
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return scheme, "", fmt.Errorf("%w: malformed %s credentials", errMalformed, scheme)
	}
	return scheme, tok, nil
}

// bound reports whether claims bind the token to a DPoP key.
func bound(c *api.Claims) bool { return c != nil && c.Confirmation != nil && c.Confirmation.JKT != "" }

// checkBinding checks how a verified token was presented: an unbound one
// as Bearer (a proof that comes along is ignored), a bound one as DPoP
// with a valid proof by its key for this request. It returns the proof of
// a bound token.
func (g *Guard) checkBinding(ctx context.Context, r *http.Request, scheme, raw string, claims *api.Claims) (*dpop.Proof, error) {
	switch {
	case !bound(claims) && scheme == schemeDPoP:
		return nil, errUnboundAsDPoP
	case !bound(claims):
		return nil, nil
	case scheme != schemeDPoP:
		return nil, errBoundAsBearer
	}
	// The JWT has verified, and the proof must be by its key: only the
	// token's holder makes such proofs, so they are charged to the key.
	return g.verifyProof(ctx, r, raw, claims.Confirmation.JKT, "")
}

// verifyProof verifies the request's DPoP proof for the request, with the
// access token presented (its ath), and by the key boundJKT names when it
// is set, charging it to client in the replay cache ("" for the key).
// Errors are those of proofError.
func (g *Guard) verifyProof(ctx context.Context, r *http.Request, accessToken, boundJKT, client string) (*dpop.Proof, error) {
	raw, err := dpop.FromHeader(r.Header)
	if err != nil {
		return nil, proofError(err)
	}
	p, err := g.dpop.Verify(ctx, raw, dpop.Request{
		Method:      r.Method,
		URL:         g.RequestURL(r),
		AccessToken: accessToken,
		BoundJKT:    boundJKT,
		Client:      client,
	})
	if err != nil {
		return nil, proofError(err)
	}
	return p, nil
}

// clientIP is the address of the client a request comes from:
// Config.ClientAddress's, else the peer's.
func (g *Guard) clientIP(r *http.Request) string {
	var a string
	if g.clientAddress != nil {
		a = g.clientAddress(r)
	}
	if a == "" {
		a = r.RemoteAddr
		if host, _, err := net.SplitHostPort(a); err == nil {
			a = host
		}
	}
	return a
}

// proofClient is what the proof of a request without a valid access
// token is charged to in the replay cache: the client's address
// (Config.ClientAddress, else the peer's), IPv6 addresses by their /64
// prefix, as one client commonly holds a whole /64. Such a client can
// make up a new key for every proof; its address it cannot.
func (g *Guard) proofClient(r *http.Request) string {
	a := g.clientIP(r)
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return a
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// VerifyProof verifies the DPoP proof of a request that presents no access
// token, for a route that Handler does not protect: a backend's own POST
// /api/login, say, which then asks Latch to bind the tokens to the proof's
// key (api.LoginRequest.DPoPJKT = p.JKT). The proof must be for the
// request's method and URL (see DPoPOptions.PublicURL), fresh, not seen
// before, and carry the current nonce when DPoPOptions.Nonces is set. It
// is charged to the client's address in the replay cache (see
// Config.ClientAddress). The request is not changed, its body not read.
//
// Its errors are *Error. A request without a DPoP header yields one that
// matches dpop.ErrNoProof, which the caller may accept (an unbound
// login). A fault of the proof is of kind ErrInvalidToken with Code
// invalid_dpop_proof, or use_dpop_nonce when only the nonce is missing
// (errors.As finds the *dpop.NonceError, whose Nonce goes in the
// DPoP-Nonce header of the answer). ErrUnavailable (the replay cache
// failed, or the request's context ended) says nothing about the proof
// and deserves a 503; a 429 when it matches dpop.ErrTooManyProofs: this
// client's share is full.
func (g *Guard) VerifyProof(r *http.Request) (*dpop.Proof, error) {
	raw, err := dpop.FromHeader(r.Header)
	if err == nil {
		var p *dpop.Proof
		if p, err = g.dpop.Verify(r.Context(), raw, dpop.Request{Method: r.Method, URL: g.RequestURL(r), Client: g.proofClient(r)}); err == nil {
			return p, nil
		}
	}
	return nil, g.refusal(proofError(err))
}

// RequestURL returns the URL of r as apps address it, the one their DPoP
// proofs name (htu): DPoPOptions.PublicURL followed by the path of the request
// as the client sent it (escaped, without query), or, without PublicURL,
// https or http (whether r came over TLS) and r.Host before that path.
// The path comes from the request line (r.RequestURI) when there is one,
// so that http.StripPrefix in front of guard changes nothing.
func (g *Guard) RequestURL(r *http.Request) string {
	path := r.URL.EscapedPath()
	if r.RequestURI != "" && r.RequestURI != "*" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			path = u.EscapedPath()
		}
	}
	if path == "" {
		path = "/"
	}
	if g.publicURL != "" {
		return g.publicURL + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// setNonce puts the current DPoP nonce on a response to a request that
// carried a proof, when guard requires nonces, so that the app keeps up
// (RFC 9449 §8.2).
func (g *Guard) setNonce(w http.ResponseWriter, r *http.Request) {
	if g.nonces == nil || r.Header.Get(dpop.Header) == "" {
		return
	}
	w.Header().Set(dpop.NonceHeader, g.nonces.Current())
}

// dpopChallenge is a DPoP WWW-Authenticate challenge (RFC 9449 §7.1) with
// an error code, or without one when code is empty.
func (g *Guard) dpopChallenge(code string) string {
	if code == "" {
		return schemeDPoP + ` algs="` + g.dpopAlgs + `"`
	}
	return schemeDPoP + ` error="` + code + `", algs="` + g.dpopAlgs + `"`
}
