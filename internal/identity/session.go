package identity

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/rotation"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// Client describes who is calling: the address, the device, the scopes
// asked for and, for DPoP, the thumbprint of the key the client proved.
type Client struct {
	Address string
	Device  api.DeviceInfo
	Scopes  []string
	DPoPJKT string
	// NoTokens asks a registration for no tokens: an operator's command,
	// not a sign-up, so no refresh token is left that nobody holds.
	NoTokens bool
}

// Revocation reasons recorded on sessions and sent as the reason of
// jwt.refresh-token.revoke events.
const (
	ReasonRevoked                = "revoked"
	ReasonLogout                 = "logout"
	ReasonGlobalLogout           = "global logout"
	ReasonTokenReuse             = "refresh token reuse"
	ReasonPasswordChanged        = "password changed"
	ReasonUserDeactivated        = "user deactivated"
	ReasonUserDeleted            = "user deleted"
	ReasonRegistrationDeleted    = "registration deleted"
	ReasonApplicationDeleted     = "application deleted"
	ReasonApplicationDeactivated = "application deactivated"
)

// sessions holds the refresh-token session rules: it makes sessions,
// refreshes them under the rotation rule (package rotation), describes,
// lists and revokes them, and logs them out. The Service's session
// methods delegate to it, and what it needs of the rest of the Service
// is named here: a part of the store, the minting of access tokens, and
// the events of revocations and refreshes.
type sessions struct {
	store  sessionStore
	now    func() time.Time // UTC, to the microsecond
	log    *slog.Logger
	tokens accessTokens
	events sessionEvents
	// tx runs fn with sessions whose writes commit together, or not at all.
	tx func(ctx context.Context, fn func(sessions) error) error
}

// sessionStore is the part of storage.Store that sessions read and write
// directly; revocations go through sessionEvents.
type sessionStore interface {
	CreateSession(ctx context.Context, s storage.Session) error
	GetSession(ctx context.Context, id string) (storage.Session, error)
	FindSession(ctx context.Context, tokenHash []byte) (storage.Session, storage.Match, error)
	FindSessionOwner(ctx context.Context, tokenHash []byte) (storage.SessionOwner, storage.Match, error)
	RotateSession(ctx context.Context, id string, presentedHash []byte, r storage.Rotation) error
	TouchSession(ctx context.Context, id string, t storage.Touch) error
	ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error)
	GetTenant(ctx context.Context, id string) (api.Tenant, error)
	GetApplication(ctx context.Context, id string) (storage.Application, error)
}

// accessTokens mints the tokens a refresh issues (jwt.go).
type accessTokens interface {
	mintAccessToken(ctx context.Context, in mintInput) (string, int64, error)
	mintIDToken(ctx context.Context, in mintInput, accessToken string, expires int64) (string, error)
}

// sessionEvents revokes sessions with their jwt.refresh-token.revoke
// events, and records jwt.refresh events: the events type (events.go).
type sessionEvents interface {
	revokeAndEmit(ctx context.Context, scope revokeScope, f storage.SessionFilter, at time.Time, reason string) ([]storage.Session, error)
	emitRefresh(ctx context.Context, t api.Tenant, sess storage.Session, tok, original string, at time.Time) error
}

// sessions returns the session rules over s's store, in s's transaction
// if it is in one; outside one, tenants and applications are read through
// the cache (see recordCache).
func (s *Service) sessions() sessions {
	return sessions{store: s.reads(), now: s.clock, log: s.log, tokens: s, events: s.events(),
		tx: func(ctx context.Context, fn func(sessions) error) error {
			return s.Tx(ctx, func(tx *Service) error { return fn(tx.sessions()) })
		}}
}

// newSession stores a new refresh-token session and returns its raw value.
func (s *Service) newSession(ctx context.Context, t api.Tenant, app api.Application, u storage.User, authType string, scopes []string, c Client) (*storage.Session, string, error) {
	return s.sessions().create(ctx, t, app, u, authType, scopes, c)
}

// create is Service.newSession.
func (ss sessions) create(ctx context.Context, t api.Tenant, app api.Application, u storage.User, authType string, scopes []string, c Client) (*storage.Session, string, error) {
	raw, err := token.NewRefreshToken()
	if err != nil {
		return nil, "", err
	}
	cfg := jwtConfig(t, &app)
	now := ss.now()
	dev := c.Device
	dev.LastAccessedAddress, dev.LastAccessedInstant = c.Address, 0
	sess := &storage.Session{
		ID:                 NewID(),
		TenantID:           t.ID,
		UserID:             u.ID,
		ApplicationID:      app.ID,
		TokenHash:          token.HashRefreshToken(raw),
		Inserted:           now,
		StartInstant:       now,
		ExpiresAt:          rotation.PolicyOf(cfg).Expiry(now, now),
		AuthTime:           now,
		AuthenticationType: authType,
		Scopes:             scopes,
		Device:             dev,
		LastUsed:           now,
		DPoPJKT:            c.DPoPJKT,
	}
	if err := ss.store.CreateSession(ctx, *sess); err != nil {
		return nil, "", err
	}
	return sess, raw, nil
}

// RefreshTokenLive reports whether a refresh token is a live session's
// (found, neither revoked nor expired), at the cost of one read and no
// write: a cheap first look, for a caller that wants to spend nothing
// more on a token that is not. It says nothing of what Refresh will
// decide about a live one.
func (s *Service) RefreshTokenLive(ctx context.Context, refreshToken string) (bool, error) {
	return s.sessions().live(ctx, refreshToken)
}

// live is Service.RefreshTokenLive.
func (ss sessions) live(ctx context.Context, refreshToken string) (bool, error) {
	if refreshToken == "" {
		return false, nil
	}
	sess, _, err := ss.store.FindSession(ctx, token.HashRefreshToken(refreshToken))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return rotation.Refreshable(sess, ss.now()), nil
}

// GetSession returns a live refresh token's description by id.
func (s *Service) GetSession(ctx context.Context, tenantID, id string) (api.RefreshToken, error) {
	return s.sessions().get(ctx, tenantID, id)
}

// get is Service.GetSession.
func (ss sessions) get(ctx context.Context, tenantID, id string) (api.RefreshToken, error) {
	if !ValidID(id) {
		return api.RefreshToken{}, notFound("refresh token", id)
	}
	sess, err := ss.store.GetSession(ctx, id)
	if err != nil {
		return api.RefreshToken{}, err
	}
	if !rotation.Live(sess, ss.now()) || (tenantID != "" && sess.TenantID != tenantID) {
		return api.RefreshToken{}, notFound("refresh token", id)
	}
	return sessionView(sess), nil
}

// ListSessions returns a user's live refresh tokens.
func (s *Service) ListSessions(ctx context.Context, tenantID, userID string) ([]api.RefreshToken, error) {
	return s.sessions().list(ctx, tenantID, userID)
}

// list is Service.ListSessions.
func (ss sessions) list(ctx context.Context, tenantID, userID string) ([]api.RefreshToken, error) {
	out := []api.RefreshToken{}
	if !ValidID(userID) {
		return out, nil
	}
	list, err := ss.store.ListSessions(ctx, storage.SessionFilter{UserID: userID, TenantID: tenantID})
	if err != nil {
		return nil, err
	}
	now := ss.now()
	for _, sess := range list {
		if now.Before(sess.ExpiresAt) {
			out = append(out, sessionView(sess))
		}
	}
	return out, nil
}

func sessionView(sess storage.Session) api.RefreshToken {
	dev := sess.Device
	if dev.LastAccessedInstant == 0 {
		dev.LastAccessedInstant = millis(sess.LastUsed)
	}
	return api.RefreshToken{
		ID:            sess.ID,
		ApplicationID: sess.ApplicationID,
		UserID:        sess.UserID,
		TenantID:      sess.TenantID,
		InsertInstant: millis(sess.Inserted),
		StartInstant:  millis(sess.StartInstant),
		MetaData:      api.MetaData{Device: dev, Scopes: orEmpty(sess.Scopes)},
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RevokeSelector selects refresh tokens to revoke, as FusionAuth's DELETE
// /api/jwt/refresh does: a token value, an id, a user, an application, or
// a user's tokens for an application.
type RevokeSelector struct {
	Token         string
	ID            string
	UserID        string
	ApplicationID string
	TenantID      string
	// Owner, when set, is the user the caller authenticated as (by JWT): only
	// a token or id form is allowed, and only for that user's token.
	Owner string
}

// Revoke revokes the selected refresh tokens and returns them. Nothing
// selected, or nothing live found, is storage.ErrNotFound.
func (s *Service) Revoke(ctx context.Context, sel RevokeSelector, reason string) ([]storage.Session, error) {
	return s.sessions().revoke(ctx, sel, reason)
}

// revoke is Service.Revoke.
func (ss sessions) revoke(ctx context.Context, sel RevokeSelector, reason string) ([]storage.Session, error) {
	f := storage.SessionFilter{TenantID: sel.TenantID}
	switch {
	case sel.Token != "" && sel.ID == "" && sel.UserID == "" && sel.ApplicationID == "":
		sess, _, err := ss.store.FindSession(ctx, token.HashRefreshToken(sel.Token))
		if err != nil {
			return nil, err
		}
		f.ID = sess.ID
	case sel.ID != "" && sel.Token == "" && sel.UserID == "" && sel.ApplicationID == "":
		f.ID = sel.ID
	case sel.Token == "" && sel.ID == "" && (sel.UserID != "" || sel.ApplicationID != ""):
		f.UserID, f.ApplicationID = sel.UserID, sel.ApplicationID
	default:
		return nil, api.GeneralError("[invalid]", "Specify one of: a token, a token id, a userId, an applicationId, or a userId with an applicationId.")
	}
	for _, id := range []string{f.ID, f.UserID, f.ApplicationID} {
		if id != "" && !ValidID(id) {
			return nil, notFound("refresh token", id)
		}
	}
	if sel.Owner != "" {
		if f.ID == "" {
			return nil, ErrUnauthorized
		}
		sess, err := ss.store.GetSession(ctx, f.ID)
		if err != nil {
			return nil, err
		}
		if sess.UserID != sel.Owner {
			return nil, ErrUnauthorized
		}
	}
	scope := scopeToken
	switch {
	case f.ID != "":
	case f.UserID != "" && f.ApplicationID != "":
		scope = scopeUserApp
	case f.UserID != "":
		scope = scopeUser
	default:
		scope = scopeApp
	}
	now := ss.now()
	var live []storage.Session
	err := ss.tx(ctx, func(tx sessions) error {
		var err error
		live, err = tx.events.revokeAndEmit(ctx, scope, f, now, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Expired tokens not yet reaped are nothing to revoke (FusionAuth: 404).
	if len(live) == 0 {
		return nil, notFound("refresh token", f.ID)
	}
	return live, nil
}

// LogoutInput is a logout: the refresh token presented and, for a
// DPoP-bound one, the thumbprint of the key the caller proved.
type LogoutInput struct {
	RefreshToken string
	// Global ends every session of the token's user, not just its own.
	Global bool
	// DPoPJKT is the thumbprint of the key of the caller's DPoP proof
	// (its own, or the app's, vouched for by a backend's API key).
	DPoPJKT string
	// Address is the caller's, for the log.
	Address string
}

// Logout revokes the session of the refresh token presented, or with
// Global every session of its user. It succeeds whatever the token is, so
// that logout is no oracle for token validity, but only the session's
// holder can end sessions with it:
//   - a DPoP-bound token without a proof of its key revokes nothing: a
//     copy of the value is not the device;
//   - a value the session no longer has (a previous one after the grace
//     period, or an older one) is reuse, handled as a refresh handles
//     reuse (the session is revoked under onOneTimeTokenReuse), never as
//     its owner's logout. The previous value within the grace period is
//     the owner's (a refresh whose answer was lost).
func (s *Service) Logout(ctx context.Context, in LogoutInput) error {
	return s.sessions().logout(ctx, in)
}

// logout is Service.Logout.
func (ss sessions) logout(ctx context.Context, in LogoutInput) error {
	if in.RefreshToken == "" {
		return nil
	}
	sess, match, err := ss.store.FindSession(ctx, token.HashRefreshToken(in.RefreshToken))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	now := ss.now()
	if !rotation.Live(sess, now) {
		return nil
	}
	if sess.DPoPJKT != "" && sess.DPoPJKT != in.DPoPJKT {
		ss.log.Warn("logout refused: DPoP-bound refresh token without proof of its key", "session", sess.ID,
			"user", sess.UserID, "application", sess.ApplicationID, "global", in.Global, "address", in.Address)
		return nil
	}
	if match != storage.MatchCurrent {
		cfg, err := ss.config(ctx, sess)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if d := rotation.PolicyOf(cfg).Decide(sess, match, now); d.Action == rotation.Reuse {
			if d.Revoke {
				return ss.revokeReused(ctx, sess, now, in.Address)
			}
			return nil
		}
	}
	scope, f, reason := scopeToken, storage.SessionFilter{ID: sess.ID}, ReasonLogout
	if in.Global {
		scope, f, reason = scopeUser, storage.SessionFilter{UserID: sess.UserID}, ReasonGlobalLogout
	}
	return ss.tx(ctx, func(tx sessions) error {
		_, err := tx.events.revokeAndEmit(ctx, scope, f, tx.now(), reason)
		return err
	})
}

// config is the jwtConfiguration that rules a session, as jwtConfig
// resolves it: its application's when enabled, else its tenant's, and the
// tenant's revocation policy either way.
func (ss sessions) config(ctx context.Context, sess storage.Session) (api.JWTConfiguration, error) {
	app, err := ss.store.GetApplication(ctx, sess.ApplicationID)
	if err != nil {
		return api.JWTConfiguration{}, err
	}
	t, err := ss.store.GetTenant(ctx, sess.TenantID)
	if err != nil {
		return api.JWTConfiguration{}, err
	}
	return jwtConfig(t, &app.Application), nil
}

// revokeReused revokes a session whose former value was presented:
// someone holds a copy, and the session ends for the copy's holder and
// its owner alike (the tenant's onOneTimeTokenReuse; see rotation).
func (ss sessions) revokeReused(ctx context.Context, sess storage.Session, now time.Time, address string) error {
	err := ss.tx(ctx, func(tx sessions) error {
		_, err := tx.events.revokeAndEmit(ctx, scopeToken, storage.SessionFilter{ID: sess.ID}, now, ReasonTokenReuse)
		return err
	})
	if err != nil {
		return err
	}
	ss.log.Warn("refresh token reuse: session revoked", "session", sess.ID, "user", sess.UserID,
		"application", sess.ApplicationID, "generation", sess.Generation, "address", address)
	return nil
}
