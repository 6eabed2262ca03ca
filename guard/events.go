package guard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/latchid/latch/api"
)

// maxEventBytes caps the body of an event.
const maxEventBytes = 1 << 20

// Events returns the handler that receives Latch's webhook events, to
// mount on the backend (say at POST /latch/events) and register in Latch
// as a webhook (POST /api/webhook) with jwt.refresh-token.revoke enabled,
// and signing on:
//
//	mux.Handle("POST /latch/events", g.Events())
//
// It checks the X-FusionAuth-Signature-JWT header: a JWT signed by a key
// of Latch's JWKS (or of RevocationOptions.EventKeys) whose
// request_body_sha256 claim is the SHA-256 of the body; an unsigned event
// is refused (401) unless
// RevocationOptions.AcceptUnsigned, and a bad signature always is. It
// deduplicates on event.id (Latch delivers at least once) and answers 200
// at once. From jwt.refresh-token.revoke it records, until every access
// token concerned has expired (createInstant plus
// applicationTimeToLiveInSeconds plus the leeway):
//
//   - one refresh token (sessionId, or refreshToken.id): every JWT with
//     that sid is refused;
//   - all of a user, a user's for an application, all of an application:
//     their JWTs issued at or before createInstant are refused, and those
//     of a later login pass.
//
// Verify, and so Handler, then refuse such tokens (ErrRevoked; 401
// invalid_token), and the refreshes guard keeps for ReuseWindow are
// dropped when their new JWT is covered. Other event types are
// acknowledged and ignored. RevocationOptions.CatchUp reads the same
// events from Latch's webhook event log, for those this handler did not
// receive.
func (g *Guard) Events() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeEventError(w, http.StatusMethodNotAllowed, "invalid_request", "Events are POSTed.")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
		if err != nil {
			writeEventError(w, http.StatusRequestEntityTooLarge, "invalid_request", "The event could not be read.")
			return
		}
		ctx := r.Context()
		switch sigs := r.Header.Values(api.HeaderSignatureJWT); {
		case len(sigs) > 1:
			err = fmt.Errorf("%w: several signature headers", errEventSignature)
		case len(sigs) == 1:
			err = g.verifyEventSignature(ctx, sigs[0], body)
		case !g.acceptUnsigned:
			err = errEventUnsigned
		}
		if err != nil {
			if errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
				w.Header().Set("Retry-After", "5")
				writeEventError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The signature cannot be checked now.")
				return
			}
			g.log.Warn("guard: event refused", "err", err)
			writeEventError(w, http.StatusUnauthorized, "invalid_signature", "The event's signature is missing or invalid.")
			return
		}
		var base api.EventRequest[api.BaseEvent]
		if err := json.Unmarshal(body, &base); err != nil || base.Event.ID == "" || base.Event.Type == "" {
			writeEventError(w, http.StatusBadRequest, "invalid_request", "The body is not an event.")
			return
		}
		if base.Event.Type != api.EventJWTRefreshTokenRevoke {
			w.WriteHeader(http.StatusOK)
			return
		}
		var ev api.EventRequest[api.JWTRefreshTokenRevokeEvent]
		if err := json.Unmarshal(body, &ev); err != nil {
			writeEventError(w, http.StatusBadRequest, "invalid_request", "The body is not a jwt.refresh-token.revoke event.")
			return
		}
		if err := g.applyRevocation(ctx, ev.Event); err != nil {
			g.log.Error("guard: record revocation", "event", ev.Event.ID, "err", err)
			w.Header().Set("Retry-After", "30")
			writeEventError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The revocation cannot be recorded now.")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// applyRevocation records what a jwt.refresh-token.revoke event revokes,
// unless the event was applied before.
func (g *Guard) applyRevocation(ctx context.Context, ev api.JWTRefreshTokenRevokeEvent) error {
	seen, err := g.revocations.Seen(ctx, ev.ID)
	if err != nil || seen {
		return err
	}
	revs := g.revocationsOf(ev)
	if len(revs) == 0 || !g.now().Before(revs[0].Until) {
		return nil // nothing to revoke, or every token concerned has expired
	}
	for _, rev := range revs {
		if err := g.revocations.Add(ctx, rev); err != nil {
			return err
		}
		// A refresh made lately for these tokens is not served again.
		g.evictRevoked(rev)
	}
	g.log.Info("guard: tokens revoked", "event", ev.ID, "session", revs[0].SessionID, "user", revs[0].UserID,
		"application", revs[0].ApplicationID, "sessions", len(ev.SessionIDs), "until", revs[0].Until)
	// Only once applied: a failure above leaves the event to its redelivery.
	return g.revocations.MarkSeen(ctx, ev.ID, revs[0].Until)
}

// revocationsOf is what an event revokes: one session; or all of a user's
// or an application's tokens issued until the event, and then also each
// session the event lists (sessionIds, a Latch extension). iat is in whole
// seconds, so a user's record refuses the JWTs of the revocation's own
// second, those of a login just after it included; when the event lists
// the revoked sessions, their records refuse that second's JWTs of those
// sessions, and the user's record only the earlier seconds'. nil when it
// names nothing to revoke. All share one Until.
func (g *Guard) revocationsOf(ev api.JWTRefreshTokenRevokeEvent) []Revocation {
	at := time.UnixMilli(ev.CreateInstant)
	if ev.CreateInstant <= 0 {
		at = g.now()
	}
	ttl := 0
	if v, ok := ev.ApplicationTimeToLiveInSeconds[ev.ApplicationID]; ok && ev.ApplicationID != "" {
		ttl = v
	} else {
		for _, v := range ev.ApplicationTimeToLiveInSeconds {
			ttl = max(ttl, v)
		}
	}
	life := time.Duration(ttl) * time.Second
	if ttl <= 0 {
		life = DefaultRevocationTTL
	}
	until := at.Add(life + g.leeway)
	sid := ev.SessionID
	if sid == "" && ev.RefreshToken != nil {
		sid = ev.RefreshToken.ID
	}
	switch {
	case sid != "":
		return []Revocation{{Scope: Scope{SessionID: sid}, At: at, Until: until}}
	case ev.UserID == "" && ev.ApplicationID == "":
		return nil
	}
	scope := Revocation{Scope: Scope{UserID: ev.UserID, ApplicationID: ev.ApplicationID}, At: at, Until: until}
	if len(ev.SessionIDs) == 0 {
		return []Revocation{scope}
	}
	scope.At = time.Unix(at.Unix()-1, 0) // up to the second before the revocation's
	revs := []Revocation{scope}
	for _, id := range ev.SessionIDs {
		if id != "" {
			revs = append(revs, Revocation{Scope: Scope{SessionID: id}, At: at, Until: until})
		}
	}
	return revs
}

// checkRevoked refuses claims that a recorded revocation covers, once the
// revocations that may cover them are known (awaitCatchUp).
func (g *Guard) checkRevoked(ctx context.Context, c *api.Claims, fresh bool) error {
	if err := g.awaitCatchUp(ctx, c, fresh); err != nil {
		return err
	}
	scopes := make([]Scope, 0, 6)
	if c.SessionID != "" {
		scopes = append(scopes, Scope{SessionID: c.SessionID})
	}
	scopes = append(scopes, Scope{UserID: c.Subject})
	apps := []string{g.audience}
	if c.ApplicationID != "" && c.ApplicationID != g.audience {
		apps = append(apps, c.ApplicationID)
	}
	for _, app := range apps {
		scopes = append(scopes, Scope{ApplicationID: app}, Scope{UserID: c.Subject, ApplicationID: app})
	}
	recs, err := g.revocations.Lookup(ctx, scopes)
	if err != nil {
		return fmt.Errorf("%w: %w", errRevocationsUnavailable, err)
	}
	now := g.now()
	for _, rec := range recs {
		if !now.Before(rec.Until) {
			continue
		}
		if rec.SessionID != "" || c.IssuedAt == 0 || c.IssuedAt <= rec.At.Unix() {
			return ErrRevoked
		}
	}
	return nil
}

// verifyEventSignature checks an X-FusionAuth-Signature-JWT against body.
func (g *Guard) verifyEventSignature(ctx context.Context, raw string, body []byte) error {
	t, err := parseJWS(raw, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", errEventSignature, err)
	}
	key, err := g.eventKeys.Key(ctx, t.kid)
	switch {
	case err == nil:
		// A key configured for events: HMAC allowed.
	case !slices.Contains(g.algs, t.alg):
		return fmt.Errorf("%w: %w: %q", errEventSignature, errAlgorithm, t.alg)
	default:
		if key, err = g.keys.Key(ctx, t.kid); err != nil {
			if errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("%w: %w", errEventSignature, err)
		}
	}
	if err := g.checkSignature(t, key); err != nil {
		return fmt.Errorf("%w: %w", errEventSignature, err)
	}
	var claims struct {
		BodySHA256 string `json:"request_body_sha256"`
		Expiry     int64  `json:"exp"`
	}
	if err := json.Unmarshal(t.jws.Payload, &claims); err != nil {
		return fmt.Errorf("%w: claims: %v", errEventSignature, err)
	}
	sum := sha256.Sum256(body)
	want := base64.StdEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(claims.BodySHA256), []byte(want)) != 1 {
		return fmt.Errorf("%w: the body does not match request_body_sha256", errEventSignature)
	}
	if claims.Expiry != 0 && !g.now().Before(time.Unix(claims.Expiry, 0).Add(g.leeway)) {
		return fmt.Errorf("%w: the signature expired", errEventSignature)
	}
	return nil
}

// writeEventError answers an event the handler refuses.
func writeEventError(w http.ResponseWriter, status int, code, desc string) {
	writeError(w, status, code, desc)
}
