// Package e2e holds the end-to-end tests of the article's system: the app
// (the client SDK, or raw net/http), the storefront (the article's Store,
// built on guard) and Latch (the article's Identity), talking real HTTP on
// loopback.
//
// The tests start Latch and the storefront in-process through
// internal/demo, sharing a clock that the tests advance instead of
// sleeping, and check the article's steps 1-21 (numbered as in the
// article's spec) message by message:
//
//   - TestArticleSteps_Client runs `latch demo`'s walk (internal/demo.Run),
//     so that the demo itself is tested, and checks that it fails, naming
//     the step, when Latch, the storefront or the wire misbehave.
//   - TestArticleSteps_RawHTTP drives steps 2-17 with net/http alone and
//     checks statuses, headers and bodies at each step.
//   - TestParallelRequestsOneRefresh checks that parallel requests with one
//     expired JWT cost Latch a single refresh.
//   - TestAttack_* play the attacker of steps 18-21 against two devices of
//     one user, each with its own DPoP key: concurrent and retried
//     refreshes of one-time-use tokens (one successor, no false alarm),
//     stolen refresh tokens with the device key (reuse revokes the whole
//     session, in either order, and nothing else) and without it (nothing
//     for the thief, nothing revoked), a stolen DPoP-bound JWT (refused
//     however it is sent), and a revocation at Latch reaching the Store.
//   - TestRealBinaries (skipped with -short) builds cmd/latch and
//     cmd/storefront, runs them as processes, and runs `latch demo`.
//
// The package has no non-test code.
package e2e
