package guard_test

import (
	"os/exec"
	"strings"
	"testing"
)

// guard is imported by app backends: it must not drag in the server's
// internals or any database driver (DESIGN.md, "Dependencies point
// inwards"). Outside the standard library it may use only the wire types,
// package dpop, go-jose and singleflight.
func TestDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	list, err := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}} {{.Standard}}`, "github.com/latchid/latch/guard").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, list)
	}
	banned := []string{
		"github.com/latchid/latch/internal",
		"github.com/latchid/latch/client",
		"database/sql",
		"modernc.org/sqlite",
		"github.com/jackc/pgx",
		"github.com/lib/pq",
		"github.com/mattn/go-sqlite3",
	}
	allowed := []string{
		"github.com/latchid/latch/guard",
		"github.com/latchid/latch/api",
		"github.com/latchid/latch/dpop",
		"github.com/go-jose/go-jose/v4",
		"golang.org/x/sync/singleflight",
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		n++
		for _, b := range banned {
			if path == b || strings.HasPrefix(path, b+"/") {
				t.Errorf("guard depends on %s", path)
			}
		}
		if std == "true" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || path == a || strings.HasPrefix(path, a+"/")
		}
		if !ok {
			t.Errorf("guard depends on %s, which is not on the allowed list", path)
		}
	}
	if n < 10 {
		t.Fatalf("go list -deps listed only %d packages:\n%s", n, list)
	}
}
