package storefront

import (
	"crypto/sha256"
	"sync"
	"time"
)

// forgetFor is how long a refresh token given up at logout stays refused
// before guard sees it. guard keeps the outcome of a refresh for 30 s and
// serves it to requests presenting the same refresh token (its reuse
// window), revoked or not; refusing the token here for longer than that
// keeps a logged-out refresh token from buying a JWT out of that cache.
const forgetFor = 2 * time.Minute

// forgotten is the set of refresh tokens given up at logout, by SHA-256,
// each until its entry expires. Safe for concurrent use.
type forgotten struct {
	mu      sync.Mutex
	until   map[[sha256.Size]byte]time.Time
	sweptAt time.Time
}

// add refuses tok until now + forgetFor, first dropping expired entries
// when the last sweep is forgetFor ago.
func (f *forgotten) add(tok string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.until == nil {
		f.until = make(map[[sha256.Size]byte]time.Time)
	}
	if now.Sub(f.sweptAt) >= forgetFor {
		for k, t := range f.until {
			if !now.Before(t) {
				delete(f.until, k)
			}
		}
		f.sweptAt = now
	}
	f.until[sha256.Sum256([]byte(tok))] = now.Add(forgetFor)
}

// has reports whether tok was given up less than forgetFor ago.
func (f *forgotten) has(tok string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.until[sha256.Sum256([]byte(tok))]
	return ok && now.Before(t)
}
