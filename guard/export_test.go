package guard

// Pauses of the catch-up (Config.CatchUp), for the tests' clocks.
const (
	CatchUpEvery = catchUpEvery
	CatchUpRetry = catchUpRetry
)

// AwaitFetch waits for the fetch r is running, if any, to land: a
// signal from the key set itself, for tests of its background fetches.
func (r *RemoteKeySet) AwaitFetch() {
	r.mu.Lock()
	f := r.inflight
	r.mu.Unlock()
	if f != nil {
		<-f.done
	}
}
