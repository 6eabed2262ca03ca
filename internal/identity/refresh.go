package identity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/rotation"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// RefreshInput is a request to exchange a refresh token for a new JWT.
type RefreshInput struct {
	// RefreshToken is the raw value presented.
	RefreshToken string
	// TenantID pins the request to a tenant ("" for any).
	TenantID string
	// ClientID, when set (the OAuth grant), must be the session's application.
	ClientID string
	// OAuth marks the refresh_token grant: the application must enable the
	// grant rather than allowTokenRefresh.
	OAuth bool
	// TTL, when positive, shortens the new JWT's lifetime; longer than the
	// configured one is a validation error.
	TTL time.Duration
	// Scopes, for the OAuth grant, narrows the new token's scope to a subset.
	Scopes []string
	// Original is the access token being replaced, when the caller sent it
	// (the Refresh API's token field); it goes into the jwt.refresh event.
	Original string
	Client   Client
	// Admit, when set, is called once with the session's id when the
	// token has proved to be a live session's (found, neither revoked nor
	// expired, of the tenant and client asked for, bound to no DPoP key or
	// to Client.DPoPJKT), before anything is written or issued; its error
	// ends the refresh, as it is. The HTTP layer limits the refreshes of
	// each session there and records the request's DPoP proof, so that
	// unknown, expired and revoked tokens, however many, cost no write and
	// no limiter state of their own.
	Admit func(ctx context.Context, sessionID string) error
}

// RefreshResult is a refreshed JWT and the refresh token to keep.
type RefreshResult struct {
	Token          string
	Expires        int64 // instant, ms
	ExpiresIn      int64 // seconds
	RefreshToken   string
	RefreshTokenID string
	Rotated        bool
	UserID         string
	Scopes         []string
	TokenType      string
	// IDToken is a new OpenID Connect ID token, for the refresh_token
	// grant of a session that was granted the openid scope.
	IDToken string
}

// Refresh exchanges a refresh token for a new JWT, applying the session's
// usage and expiration policies. Unknown, expired, revoked, reused and
// refused tokens all give ErrRefreshTokenInvalid. Under OneTimeUse the
// value rotates atomically: of any number of concurrent refreshes with one
// value exactly one rotates it, and the others, like a retry with the
// previous value inside the grace period, are handed the same successor.
// The previous value after the grace period, or any older value, is reuse:
// with onOneTimeTokenReuse it revokes the whole session.
func (s *Service) Refresh(ctx context.Context, in RefreshInput) (RefreshResult, error) {
	return s.sessions().refresh(ctx, in)
}

// refresh is Service.Refresh.
func (ss sessions) refresh(ctx context.Context, in RefreshInput) (RefreshResult, error) {
	if in.RefreshToken == "" {
		return RefreshResult{}, api.FieldError("refreshToken", "blank", "You must specify the [refreshToken] property.")
	}
	if in.TTL < 0 {
		return RefreshResult{}, api.FieldError("timeToLiveInSeconds", "invalid", "The [timeToLiveInSeconds] must be positive.")
	}
	if admit := in.Admit; admit != nil {
		// Once, though a lost rotation race looks the session up again.
		admitted := false
		in.Admit = func(ctx context.Context, id string) error {
			if admitted {
				return nil
			}
			admitted = true
			return admit(ctx, id)
		}
	}
	hash := token.HashRefreshToken(in.RefreshToken)
	for attempt := 0; ; attempt++ {
		// The session with its user and registration: one read.
		owner, match, err := ss.store.FindSessionOwner(ctx, hash)
		if errors.Is(err, storage.ErrNotFound) {
			return RefreshResult{}, ErrRefreshTokenInvalid
		} else if err != nil {
			return RefreshResult{}, err
		}
		res, err := ss.attempt(ctx, in, owner, match)
		if errors.Is(err, storage.ErrStale) && attempt < 3 {
			continue // lost a rotation race: look again, the value is now the previous one
		}
		return res, err
	}
}

// attempt is one attempt at a refresh of the owner's session, which the
// presented value matched as match: load what rules it, decide, make the
// one write, answer. storage.ErrStale means a concurrent refresh rotated
// the value first.
func (ss sessions) attempt(ctx context.Context, in RefreshInput, owner storage.SessionOwner, match storage.Match) (RefreshResult, error) {
	now := ss.now()
	sess := owner.Session
	if err := ss.admit(ctx, in, sess, now); err != nil {
		return RefreshResult{}, err
	}
	r, err := ss.load(ctx, in, sess, owner.User, now)
	if err != nil {
		return RefreshResult{}, err
	}

	d := rotation.PolicyOf(r.cfg).Decide(sess, match, now)
	res := RefreshResult{RefreshToken: in.RefreshToken, RefreshTokenID: sess.ID, UserID: r.user.ID, Scopes: r.scopes}
	p := refreshPlan{now: now, original: in.Original}
	switch d.Action {
	case rotation.Refuse:
		return RefreshResult{}, ErrRefreshTokenInvalid
	case rotation.Reuse:
		if d.Revoke {
			if err := ss.revokeReused(ctx, sess, now, in.Client.Address); err != nil {
				return RefreshResult{}, err
			}
		}
		return RefreshResult{}, ErrRefreshTokenInvalid
	case rotation.Retry:
		// An honest retry (a lost response, a parallel request): the same
		// successor, no new rotation.
		current, err := token.OpenSuccessor(in.RefreshToken, sess.SealedSuccessor)
		if err != nil {
			return RefreshResult{}, ErrRefreshTokenInvalid
		}
		res.RefreshToken, res.Rotated = current, true
	case rotation.Rotate:
		next, err := token.NewRefreshToken()
		if err != nil {
			return RefreshResult{}, err
		}
		sealed, err := token.SealSuccessor(in.RefreshToken, next)
		if err != nil {
			return RefreshResult{}, err
		}
		p.rotation = &storage.Rotation{TokenHash: token.HashRefreshToken(next), SealedSuccessor: sealed, RotatedAt: now,
			StartInstant: d.StartInstant, ExpiresAt: d.ExpiresAt, LastUsed: now, Device: lastAccess(sess, in.Client, now)}
		res.RefreshToken, res.Rotated = next, true
	case rotation.Touch:
		p.touch = &storage.Touch{StartInstant: d.StartInstant, ExpiresAt: d.ExpiresAt, LastUsed: now, Device: lastAccess(sess, in.Client, now)}
	}

	if !owner.Registered {
		// The registration is gone: the session is no longer the app's to use.
		return RefreshResult{}, ErrRefreshTokenInvalid
	}
	reg := owner.Registration
	// An ID token follows the scopes the session was granted at login, as
	// FusionAuth's does, whatever this request narrowed them to.
	p.idToken = in.OAuth && slices.Contains(sess.Scopes, ScopeOpenID)
	p.sess = sess
	p.sess.Scopes = r.scopes
	// The new access token is bound to the session's key; a session bound
	// to none gives one bound to the key the client proved now, if any
	// (RFC 9449 §5: the refresh token itself stays unbound).
	jkt := cmp.Or(sess.DPoPJKT, in.Client.DPoPJKT)
	p.mint = mintInput{
		tenant: r.tenant, app: &r.app.Application, user: r.user, reg: &reg, session: &p.sess,
		authType: api.AuthRefreshToken, authTime: sess.AuthTime, ttl: in.TTL, jkt: jkt,
	}

	// The write, the new JWT and, when the tenant announces refreshes, the
	// jwt.refresh event: in one transaction when there is an event to
	// write, so that it commits with the change.
	if r.tenant.EventConfiguration.Enabled(api.EventJWTRefresh) {
		err = ss.tx(ctx, func(tx sessions) error { return tx.commit(ctx, p, &res) })
	} else {
		err = ss.commit(ctx, p, &res)
	}
	if err != nil {
		return RefreshResult{}, err
	}
	res.ExpiresIn = (res.Expires - millis(now)) / 1000
	res.TokenType = tokenType(jkt)
	return res, nil
}

// admit refuses a refresh of a session that is not refreshable, or not
// the caller's: of another tenant or client, or bound to a DPoP key the
// caller did not prove. Then in.Admit, if set, has its say, where a
// token first proves to be a live session's and nothing is written yet:
// a replayed DPoP proof is refused before a rotation, or before a reuse
// revokes the session.
func (ss sessions) admit(ctx context.Context, in RefreshInput, sess storage.Session, now time.Time) error {
	if !rotation.Refreshable(sess, now) ||
		(in.TenantID != "" && sess.TenantID != in.TenantID) ||
		(in.ClientID != "" && in.ClientID != sess.ApplicationID) {
		return ErrRefreshTokenInvalid
	}
	if sess.DPoPJKT != "" && sess.DPoPJKT != in.Client.DPoPJKT {
		// Refused, not revoked: whoever holds the value without the key
		// (a thief) must not be able to end the owner's session. The
		// thumbprints are public; still, only whether one was proved.
		presented := "none"
		if in.Client.DPoPJKT != "" {
			presented = "another key"
		}
		ss.log.Warn("refresh refused: DPoP-bound refresh token without proof of its key", "session", sess.ID,
			"user", sess.UserID, "application", sess.ApplicationID, "presented", presented, "address", in.Client.Address)
		return ErrRefreshTokenInvalid
	}
	if in.Admit != nil {
		return in.Admit(ctx, sess.ID)
	}
	return nil
}

// refreshing is what rules a refresh of an admitted session: the records
// behind it and the configuration they resolve to.
type refreshing struct {
	tenant api.Tenant
	app    storage.Application
	user   storage.User
	cfg    api.JWTConfiguration
	// scopes are the new token's: the session's, or those of them the
	// OAuth grant asked for.
	scopes []string
}

// load loads and checks what rules a refresh of sess by its user u: an
// active application that allows the refresh asked for, an active user,
// and the tenant; the TTL and scopes asked for must be within what they
// allow.
func (ss sessions) load(ctx context.Context, in RefreshInput, sess storage.Session, u storage.User, now time.Time) (refreshing, error) {
	app, err := ss.store.GetApplication(ctx, sess.ApplicationID)
	if err != nil {
		return refreshing{}, noneFound(err)
	}
	if !app.Active || (!in.OAuth && !app.LoginConfiguration.AllowTokenRefresh) ||
		(in.OAuth && !grantEnabled(app.Application, GrantRefreshToken)) {
		return refreshing{}, ErrRefreshTokenInvalid
	}
	if !u.Active || (!u.Expiry.IsZero() && !now.Before(u.Expiry)) {
		return refreshing{}, ErrRefreshTokenInvalid
	}
	t, err := ss.store.GetTenant(ctx, sess.TenantID)
	if err != nil {
		return refreshing{}, err
	}
	cfg := jwtConfig(t, &app.Application)
	if max := time.Duration(cfg.TimeToLiveInSeconds) * time.Second; in.TTL > max {
		return refreshing{}, api.FieldError("timeToLiveInSeconds", "invalid",
			fmt.Sprintf("The [timeToLiveInSeconds] must not exceed the configured [%d] seconds.", cfg.TimeToLiveInSeconds))
	}
	scopes := sess.Scopes
	if in.OAuth && len(in.Scopes) > 0 {
		for _, sc := range in.Scopes {
			if !slices.Contains(sess.Scopes, sc) {
				return refreshing{}, &api.OAuthError{Code: api.OAuthInvalidScope, Description: fmt.Sprintf("The scope [%s] was not granted to this refresh token.", sc), Reason: "unknown_scope"}
			}
		}
		scopes = in.Scopes
	}
	return refreshing{tenant: t, app: app, user: u, cfg: cfg, scopes: scopes}, nil
}

// lastAccess is the session's device, last accessed by c at now.
func lastAccess(sess storage.Session, c Client, now time.Time) api.DeviceInfo {
	dev := sess.Device
	dev.LastAccessedAddress, dev.LastAccessedInstant = c.Address, millis(now)
	return dev
}

// refreshPlan is a decided refresh: the session's one write (none for a
// retry) and what the new tokens are made of.
type refreshPlan struct {
	sess     storage.Session // as before the write, its scopes the new token's
	rotation *storage.Rotation
	touch    *storage.Touch
	mint     mintInput
	idToken  bool
	original string // the access token replaced, for the event
	now      time.Time
}

// commitRefresh makes p's write, mints the new tokens into res and
// records the jwt.refresh event. A rotation that another refresh made
// first is storage.ErrStale; a touch of a session revoked meanwhile is
// ErrRefreshTokenInvalid.
func (ss sessions) commit(ctx context.Context, p refreshPlan, res *RefreshResult) error {
	switch {
	case p.rotation != nil:
		if err := ss.store.RotateSession(ctx, p.sess.ID, p.sess.TokenHash, *p.rotation); err != nil {
			return err
		}
	case p.touch != nil:
		err := ss.store.TouchSession(ctx, p.sess.ID, *p.touch)
		if errors.Is(err, storage.ErrStale) {
			return ErrRefreshTokenInvalid
		} else if err != nil {
			return err
		}
	}
	tok, exp, err := ss.tokens.mintAccessToken(ctx, p.mint)
	if err != nil {
		return err
	}
	res.Token, res.Expires = tok, exp
	if p.idToken {
		if res.IDToken, err = ss.tokens.mintIDToken(ctx, p.mint, tok, exp); err != nil {
			return err
		}
	}
	return ss.events.emitRefresh(ctx, p.mint.tenant, p.sess, tok, p.original, p.now)
}

func tokenType(jkt string) string {
	if jkt != "" {
		return "DPoP"
	}
	return "Bearer"
}

// noneFound turns a missing record behind a session into an invalid token.
func noneFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrRefreshTokenInvalid
	}
	return err
}

func grantEnabled(a api.Application, grant string) bool {
	return slices.Contains(a.OAuthConfiguration.EnabledGrants, grant)
}
