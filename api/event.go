package api

// EventRequest is the body Latch POSTs to a webhook: {"event": {...}}. E is
// the event's type (JWTRefreshTokenRevokeEvent, ...) or BaseEvent, which
// reads the members every event has.
type EventRequest[E any] struct {
	Event E `json:"event"`
}

// BaseEvent holds the members every event has (FusionAuth's BaseEvent).
type BaseEvent struct {
	// ID identifies the event; a retried delivery carries the same ID, so
	// receivers deduplicate on it.
	ID string `json:"id"`
	// Type is the event type, such as EventJWTRefreshTokenRevoke.
	Type string `json:"type"`
	// CreateInstant is when the event happened (ms since the epoch), on the
	// clock of the Latch node that committed it.
	CreateInstant int64 `json:"createInstant"`
	// TenantID is the tenant the event happened in.
	TenantID string `json:"tenantId,omitempty"`
	// Info describes the request behind the event, when there was one.
	Info *EventInfo `json:"info,omitempty"`
}

// MaxEventSessionIDs is the most session ids a jwt.refresh-token.revoke
// event lists; an event that revokes more lists none.
const MaxEventSessionIDs = 1000

// JWTRefreshTokenRevokeEvent is jwt.refresh-token.revoke, in one of four
// shapes:
//
//   - one refresh token: ApplicationID, ApplicationTimeToLiveInSeconds,
//     UserID, User, RefreshToken (without its value) and SessionID;
//   - all of a user's: UserID, User, and ApplicationTimeToLiveInSeconds for
//     every application the user had refresh tokens of;
//   - a user's for one application: the above and ApplicationID;
//   - all of an application's: ApplicationID and ApplicationTimeToLiveInSeconds.
//
// Access tokens issued before CreateInstant stay verifiable for at most
// ApplicationTimeToLiveInSeconds more: a receiver that refuses them until
// then makes the revocation reach them (guard does).
type JWTRefreshTokenRevokeEvent struct {
	BaseEvent
	ApplicationID                  string         `json:"applicationId,omitempty"`
	ApplicationTimeToLiveInSeconds map[string]int `json:"applicationTimeToLiveInSeconds,omitempty"`
	UserID                         string         `json:"userId,omitempty"`
	User                           *User          `json:"user,omitempty"`
	RefreshToken                   *RefreshToken  `json:"refreshToken,omitempty"`
	// SessionID (a Latch extension) is the revoked refresh token's id, the
	// sid claim of every JWT issued from it; set for one refresh token.
	SessionID string `json:"sessionId,omitempty"`
	// SessionIDs (a Latch extension), in the other shapes, are the ids of
	// the refresh tokens revoked, when there are at most MaxEventSessionIDs.
	// With them a receiver tells the JWTs of a revoked session from those
	// of a login in the same second as the revocation, which iat (whole
	// seconds) cannot.
	SessionIDs []string `json:"sessionIds,omitempty"`
	// Reason (a Latch extension) says why: "revoked", "logout",
	// "global logout", "refresh token reuse", "password changed",
	// "multi-factor enabled", "user deactivated", "user deleted", "registration deleted",
	// "application deleted", "application deactivated".
	Reason string `json:"reason,omitempty"`
}

// JWTRefreshEvent is jwt.refresh: a JWT was refreshed with a refresh token.
type JWTRefreshEvent struct {
	BaseEvent
	ApplicationID string `json:"applicationId,omitempty"`
	UserID        string `json:"userId,omitempty"`
	// Token is the new access token. It is a bearer credential: Latch sends
	// it only to https or loopback webhook URLs.
	Token string `json:"token,omitempty"`
	// RefreshToken is the refresh token's id. FusionAuth sends the value
	// presented; Latch keeps only hashes of values and never sends them.
	RefreshToken string `json:"refreshToken,omitempty"`
	// Original is the previous access token, when the caller supplied it
	// (same rule as Token).
	Original string `json:"original,omitempty"`
}

// UserLoginSuccessEvent is user.login.success.
type UserLoginSuccessEvent struct {
	BaseEvent
	// ApplicationID is set when the login named an application the user is
	// registered for.
	ApplicationID      string `json:"applicationId,omitempty"`
	AuthenticationType string `json:"authenticationType,omitempty"`
	User               *User  `json:"user,omitempty"`
}

// UserLoginFailedEvent is user.login.failed: an existing user presented a
// wrong password (never sent for an unknown login id).
type UserLoginFailedEvent struct {
	BaseEvent
	ApplicationID      string                 `json:"applicationId,omitempty"`
	AuthenticationType string                 `json:"authenticationType,omitempty"`
	User               *User                  `json:"user,omitempty"`
	Reason             *UserLoginFailedReason `json:"reason,omitempty"`
}

// UserLoginFailedReason says why a login failed; Latch sends code
// "credentials".
type UserLoginFailedReason struct {
	Code string `json:"code"`
}
