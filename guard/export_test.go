package guard

// Pauses of the catch-up (Config.CatchUp), for the tests' clocks.
const (
	CatchUpEvery = catchUpEvery
	CatchUpRetry = catchUpRetry
)
