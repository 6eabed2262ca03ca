package guard

// Pauses of the catch-up (RevocationOptions.CatchUp), for the tests' clocks.
const (
	CatchUpEvery = catchUpEvery
	CatchUpRetry = catchUpRetry
)

// Limits and defaults the tests reach for.
const (
	MaxTokenSize                  = maxTokenSize
	DefaultMinJWKSRefetchInterval = defaultMinJWKSRefetchInterval
)

// The precise causes of refusals, which tests tell apart: each matches
// one of the exported kinds too.
var (
	ErrMalformed              = errMalformed
	ErrHeader                 = errHeader
	ErrAlgorithm              = errAlgorithm
	ErrUnknownKey             = errUnknownKey
	ErrSignature              = errSignature
	ErrIssuer                 = errIssuer
	ErrAudience               = errAudience
	ErrNotYetValid            = errNotYetValid
	ErrKeySetUnavailable      = errKeySetUnavailable
	ErrRevocationsUnavailable = errRevocationsUnavailable
	ErrDPoPReplayUnavailable  = errDPoPReplayUnavailable
	ErrEventUnsigned          = errEventUnsigned
	ErrEventSignature         = errEventSignature
	ErrRevocationStoreFull    = errRevocationStoreFull
)

// The JWKS key set, which New builds from KeyOptions, on its own.
type (
	RemoteKeySet       = remoteKeySet
	RemoteKeySetConfig = remoteKeySetConfig
)

// NewRemoteKeySet is newRemoteKeySet.
func NewRemoteKeySet(jwksURL string, cfg RemoteKeySetConfig) *RemoteKeySet {
	return newRemoteKeySet(jwksURL, cfg)
}

// AwaitFetch waits for the fetch r is running, if any, to land: a
// signal from the key set itself, for tests of its background fetches.
func (r *remoteKeySet) AwaitFetch() {
	r.mu.Lock()
	f := r.inflight
	r.mu.Unlock()
	if f != nil {
		<-f.done
	}
}
