package storage

import (
	"context"
	"time"
)

// TwoFactorStore keeps what two-factor logins need: users' methods (their
// secrets sealed), recovery codes (hashed), the codes already used, the
// logins waiting for a code and the trusted computers. Errors follow the
// package conventions.
type TwoFactorStore interface {
	// CreateTwoFactorMethod stores a user's method. ErrConflict if the
	// user has a method with the id; ErrNotFound if there is no such user.
	CreateTwoFactorMethod(ctx context.Context, m TwoFactorMethod) error
	// ListTwoFactorMethods returns a user's methods, oldest first (none
	// for an unknown user).
	ListTwoFactorMethods(ctx context.Context, userID string) ([]TwoFactorMethod, error)
	// DeleteTwoFactorMethod deletes a user's method. ErrNotFound if the
	// user has none with the id.
	DeleteTwoFactorMethod(ctx context.Context, userID, id string) error

	// ReplaceRecoveryCodes replaces a user's recovery codes with hashes
	// (none: the user has no recovery code left). ErrNotFound if there is
	// no such user.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// CountRecoveryCodes returns how many unused recovery codes a user has.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
	// UseRecoveryCode spends the user's recovery code whose hash is hash:
	// true when this call removed it, false when the user has no such code
	// (never had it, or it was spent). Of concurrent calls with one code,
	// on any node, exactly one gets true.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error)

	// UseTwoFactorCode records that the code of a user's method for the
	// given time step was accepted, until expires: fresh is true when it
	// was not recorded (or its record expired by now), false when it was,
	// across every node sharing the database. Of concurrent calls with one
	// (user, method, step), exactly one sees fresh.
	UseTwoFactorCode(ctx context.Context, userID, methodID string, step int64, now, expires time.Time) (fresh bool, err error)

	// CreateTwoFactorLogin stores a login waiting for its code.
	// ErrConflict if the hash exists; ErrNotFound if there is no such user.
	CreateTwoFactorLogin(ctx context.Context, l TwoFactorLogin) error
	// GetTwoFactorLogin returns the waiting login whose id hashes to
	// hash, expired or not. ErrNotFound if there is none.
	GetTwoFactorLogin(ctx context.Context, hash []byte) (TwoFactorLogin, error)
	// DeleteTwoFactorLogin removes a waiting login. ErrNotFound if there
	// is none: of concurrent deletions of one login, on any node, exactly
	// one succeeds, which spends it.
	DeleteTwoFactorLogin(ctx context.Context, hash []byte) error

	// CreateTwoFactorTrust stores a trusted computer. ErrConflict if the
	// hash exists; ErrNotFound if there is no such user.
	CreateTwoFactorTrust(ctx context.Context, t TwoFactorTrust) error
	// GetTwoFactorTrust returns the trust whose id hashes to hash, expired
	// or not. ErrNotFound if there is none.
	GetTwoFactorTrust(ctx context.Context, hash []byte) (TwoFactorTrust, error)
	// DeleteTwoFactorTrusts removes every trust of a user.
	DeleteTwoFactorTrusts(ctx context.Context, userID string) error

	// CollectTwoFactor deletes the used-code records, waiting logins and
	// trusts that expired before the given time, and returns how many.
	CollectTwoFactor(ctx context.Context, before time.Time) (int64, error)
}

// TwoFactorMethod is one of a user's two-factor methods. The TOTP secret
// is kept only sealed under the master key.
type TwoFactorMethod struct {
	// ID is unique per user (FusionAuth's are short: four characters).
	ID     string
	UserID string
	// Method is api.TwoFactorAuthenticator.
	Method string
	// SecretSealed is the TOTP secret, sealed (token.Sealer).
	SecretSealed []byte
	Inserted     time.Time
}

// TwoFactorLogin is a login that gave the right password and waits for a
// code: its id (the twoFactorId) is kept only as a hash.
type TwoFactorLogin struct {
	Hash          []byte
	TenantID      string
	UserID        string
	ApplicationID string // "" when the login named none
	// LoginKey is the key of the login ID's failed attempts
	// (LoginAttempts.Key): failed codes count there.
	LoginKey string
	// Address and DPoPJKT describe the client of the first step: the
	// second step must come from it.
	Address  string
	DPoPJKT  string
	Inserted time.Time
	Expires  time.Time
}

// TwoFactorTrust is a computer trusted to skip the code (a
// twoFactorTrustId), kept only as a hash.
type TwoFactorTrust struct {
	Hash     []byte
	UserID   string
	Inserted time.Time
	Expires  time.Time
}
