package dpop_test

import (
	"testing"

	"github.com/latchid/latch/internal/jws/jwstest"
)

// dpop is imported by the server, by guard and by client, which gomobile
// binds: outside the standard library it may depend on package api,
// go-jose and internal/jws (itself stdlib-only: its own TestDeps) only (it
// uses neither go-jose nor cgo today), nothing else of the server, and it
// must build without cgo.
func TestDeps(t *testing.T) {
	jwstest.CheckDeps(t, "github.com/latchid/latch/dpop",
		[]string{
			"github.com/latchid/latch/api",
			"github.com/latchid/latch/internal/jws",
			"github.com/go-jose/go-jose/v4/...",
		}, nil)
}
