package storage

import (
	"context"
	"time"
)

// CreateTwoFactorMethod runs s.CreateTwoFactorMethod with a deadline.
func (d *deadlines) CreateTwoFactorMethod(ctx context.Context, m TwoFactorMethod) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateTwoFactorMethod(ctx, m) })
}

// ListTwoFactorMethods runs s.ListTwoFactorMethods with a deadline.
func (d *deadlines) ListTwoFactorMethods(ctx context.Context, userID string) ([]TwoFactorMethod, error) {
	return run(d, ctx, reading, func(ctx context.Context) ([]TwoFactorMethod, error) { return d.s.ListTwoFactorMethods(ctx, userID) })
}

// DeleteTwoFactorMethod runs s.DeleteTwoFactorMethod with a deadline.
func (d *deadlines) DeleteTwoFactorMethod(ctx context.Context, userID, id string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteTwoFactorMethod(ctx, userID, id) })
}

// ReplaceRecoveryCodes runs s.ReplaceRecoveryCodes with a deadline.
func (d *deadlines) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.ReplaceRecoveryCodes(ctx, userID, hashes) })
}

// CountRecoveryCodes runs s.CountRecoveryCodes with a deadline.
func (d *deadlines) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	return run(d, ctx, reading, func(ctx context.Context) (int, error) { return d.s.CountRecoveryCodes(ctx, userID) })
}

// UseRecoveryCode runs s.UseRecoveryCode with a deadline.
func (d *deadlines) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error) {
	return run(d, ctx, writing, func(ctx context.Context) (bool, error) { return d.s.UseRecoveryCode(ctx, userID, hash) })
}

// UseTwoFactorCode runs s.UseTwoFactorCode with a deadline.
func (d *deadlines) UseTwoFactorCode(ctx context.Context, userID, methodID string, step int64, now, expires time.Time) (bool, error) {
	return run(d, ctx, writing, func(ctx context.Context) (bool, error) {
		return d.s.UseTwoFactorCode(ctx, userID, methodID, step, now, expires)
	})
}

// CreateTwoFactorLogin runs s.CreateTwoFactorLogin with a deadline.
func (d *deadlines) CreateTwoFactorLogin(ctx context.Context, l TwoFactorLogin) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateTwoFactorLogin(ctx, l) })
}

// GetTwoFactorLogin runs s.GetTwoFactorLogin with a deadline.
func (d *deadlines) GetTwoFactorLogin(ctx context.Context, hash []byte) (TwoFactorLogin, error) {
	return run(d, ctx, reading, func(ctx context.Context) (TwoFactorLogin, error) { return d.s.GetTwoFactorLogin(ctx, hash) })
}

// DeleteTwoFactorLogin runs s.DeleteTwoFactorLogin with a deadline.
func (d *deadlines) DeleteTwoFactorLogin(ctx context.Context, hash []byte) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteTwoFactorLogin(ctx, hash) })
}

// CreateTwoFactorTrust runs s.CreateTwoFactorTrust with a deadline.
func (d *deadlines) CreateTwoFactorTrust(ctx context.Context, t TwoFactorTrust) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateTwoFactorTrust(ctx, t) })
}

// GetTwoFactorTrust runs s.GetTwoFactorTrust with a deadline.
func (d *deadlines) GetTwoFactorTrust(ctx context.Context, hash []byte) (TwoFactorTrust, error) {
	return run(d, ctx, reading, func(ctx context.Context) (TwoFactorTrust, error) { return d.s.GetTwoFactorTrust(ctx, hash) })
}

// DeleteTwoFactorTrusts runs s.DeleteTwoFactorTrusts with a deadline.
func (d *deadlines) DeleteTwoFactorTrusts(ctx context.Context, userID string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.DeleteTwoFactorTrusts(ctx, userID) })
}

// CollectTwoFactor runs s.CollectTwoFactor with twelve times the deadline,
// as GarbageCollect.
func (d *deadlines) CollectTwoFactor(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := d.bound(ctx, gcTimeoutFactor*d.timeout)
	defer cancel()
	n, err := d.s.CollectTwoFactor(ctx, before)
	return n, d.settle(ctx, wrote(n > 0, err), err)
}
