// Package diskfull makes a test's writes fail as on a full disk, for the
// tests of what Latch does then: a file size limit of a few bytes
// (RLIMIT_FSIZE, what `ulimit -f` sets), which holds for the whole
// process and so runs in a child process of the test binary. Writes past
// the limit fail with EFBIG (Go ignores the SIGXFSZ they raise); reads go
// on. Linux only.
package diskfull
