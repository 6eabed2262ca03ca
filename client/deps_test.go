package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps checks that client depends on the standard library and the
// api and dpop packages only (and internal/jws, which dpop uses and which
// is stdlib-only: its own TestDeps), so that gomobile can bind it and apps
// pull in nothing of the server.
func TestDeps(t *testing.T) {
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/latchid/latch/api":    true,
		"github.com/latchid/latch/client": true,
		"github.com/latchid/latch/dpop":   true,
		// Through dpop.
		"github.com/latchid/latch/internal/jws": true,
	}
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			t.Errorf("client depends on %s", p)
		}
	}
}
