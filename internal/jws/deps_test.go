package jws_test

import (
	"testing"

	"github.com/latchid/latch/internal/jws/jwstest"
)

// jws is the one internal package guard and dpop, which apps import, may
// depend on (their TestDeps): it must depend on the standard library
// alone, and build without cgo.
func TestDeps(t *testing.T) {
	jwstest.CheckDeps(t, "github.com/latchid/latch/internal/jws", nil, nil)
}
