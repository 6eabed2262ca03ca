package dpop_test

import (
	"testing"

	"github.com/latchid/latch/internal/jws/jwstest"
)

// dpop is imported by the server, by guard and by client, which gomobile
// binds: outside the standard library it may depend on package api and
// internal/jws (itself stdlib-only: its own TestDeps, and the one JOSE
// parser of Latch's verifiers) only, nothing else of the server, no JOSE
// library, and it must build without cgo.
func TestDeps(t *testing.T) {
	jwstest.CheckDeps(t, "github.com/latchid/latch/dpop",
		[]string{
			"github.com/latchid/latch/api",
			"github.com/latchid/latch/internal/jws",
		}, []string{"github.com/go-jose/go-jose/v4/..."})
}
