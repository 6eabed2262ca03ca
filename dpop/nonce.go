package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// NonceSource issues and checks server-provided nonces (RFC 9449 §8, §9).
// A server that requires nonces sends Current in the DPoP-Nonce header
// with use_dpop_nonce errors (Verify's *NonceError carries it) and may
// send it on successful responses too, so that clients keep up.
type NonceSource interface {
	// Current returns the nonce to hand out now.
	Current() string
	// Valid reports whether a proof may carry nonce now.
	Valid(nonce string) bool
}

// Defaults and limits of HMACNonces.
const (
	// DefaultNonceBucket is how long one nonce is current; it stays valid
	// for one bucket more.
	DefaultNonceBucket = 5 * time.Minute
	// MinNonceSecretSize is the shortest secret NewHMACNonces accepts.
	MinNonceSecretSize = 32
)

// nonceLabel separates these MACs from any other use of the secret.
const nonceLabel = "latch dpop nonce v1\x00"

// nonceSize is the size of a decoded nonce: the bucket number and its MAC.
const nonceSize = 8 + sha256.Size

// HMACNonces is a stateless NonceSource: a nonce is
// base64url(bucket || HMAC-SHA256(secret, label || bucket)), where bucket
// is the number of the time bucket it was issued in, as 8 big-endian
// bytes. A nonce is valid in its own bucket and the next, so it lives one
// to two buckets. Nodes that share the secret (and roughly the time) issue
// and accept the same nonces without sharing any state. Nonces cannot be
// predicted without the secret (RFC 9449 §8); they are not single-use
// (§11.1: the jti is).
type HMACNonces struct {
	// Now is the clock; nil means time.Now. Set it before first use.
	Now func() time.Time

	secret []byte
	bucket time.Duration
}

var _ NonceSource = (*HMACNonces)(nil)

// NewHMACNonces returns an HMACNonces keyed by secret (at least
// MinNonceSecretSize random bytes, the same on every node) with buckets
// of the given length; zero means DefaultNonceBucket.
func NewHMACNonces(secret []byte, bucket time.Duration) (*HMACNonces, error) {
	if len(secret) < MinNonceSecretSize {
		return nil, fmt.Errorf("dpop: nonce secret of %d bytes, want at least %d", len(secret), MinNonceSecretSize)
	}
	if bucket < 0 || (bucket > 0 && bucket < time.Second) {
		return nil, errors.New("dpop: nonce bucket must be at least a second")
	}
	if bucket == 0 {
		bucket = DefaultNonceBucket
	}
	return &HMACNonces{secret: append([]byte(nil), secret...), bucket: bucket}, nil
}

// Current implements NonceSource.
func (n *HMACNonces) Current() string {
	return n.encode(n.current())
}

// Valid implements NonceSource: nonce is one Current returned in this
// bucket or the previous one.
func (n *HMACNonces) Valid(nonce string) bool {
	if len(nonce) != b64.EncodedLen(nonceSize) {
		return false
	}
	var raw [nonceSize]byte
	if k, err := b64.Decode(raw[:], []byte(nonce)); err != nil || k != nonceSize {
		return false
	}
	b := binary.BigEndian.Uint64(raw[:8])
	cur := n.current()
	if b != cur && b+1 != cur {
		return false
	}
	return hmac.Equal(raw[8:], n.mac(b))
}

// current returns the number of the bucket the clock is in.
func (n *HMACNonces) current() uint64 {
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	t := now().UnixNano()
	if t < 0 {
		return 0
	}
	return uint64(t / int64(n.bucket))
}

func (n *HMACNonces) encode(b uint64) string {
	var raw [nonceSize]byte
	binary.BigEndian.PutUint64(raw[:8], b)
	copy(raw[8:], n.mac(b))
	return b64.EncodeToString(raw[:])
}

func (n *HMACNonces) mac(b uint64) []byte {
	m := hmac.New(sha256.New, n.secret)
	m.Write([]byte(nonceLabel))
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], b)
	m.Write(be[:])
	return m.Sum(nil)
}
