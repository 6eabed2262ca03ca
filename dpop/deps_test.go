package dpop_test

import (
	"os/exec"
	"strings"
	"testing"
)

// dpop is imported by the server, by guard and by client, which gomobile
// binds: outside the standard library it may depend on package api and
// go-jose only (it uses neither go-jose nor cgo today), nothing of the
// server.
func TestDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	// CGO_ENABLED=0: with cgo on, package net (of net/http, for
	// http.Header) brings in runtime/cgo for its DNS resolver; what must
	// hold is that dpop builds without it, and has no cgo of its own.
	cmd := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}`, "github.com/latchid/latch/dpop")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	list, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, list)
	}
	allowed := []string{
		"github.com/latchid/latch/dpop",
		"github.com/latchid/latch/api",
		"github.com/go-jose/go-jose/v4",
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("go list: %q", line)
		}
		path, std, cgoFiles := fields[0], fields[1], fields[2]
		n++
		if path == "C" || path == "runtime/cgo" || cgoFiles != "0" {
			t.Errorf("dpop needs cgo: %s", line)
		}
		if std == "true" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || path == a || strings.HasPrefix(path, a+"/")
		}
		if !ok {
			t.Errorf("dpop depends on %s, which is not on the allowed list", path)
		}
	}
	if n < 10 {
		t.Fatalf("go list -deps listed only %d packages:\n%s", n, list)
	}
}
