//go:build unix

package kickstart_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileIncludeFIFO: a FIFO is no file to include; it is refused at
// once rather than opened, which would wait for a writer for ever.
func TestReadFileIncludeFIFO(t *testing.T) {
	dir := includeTree(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, inc := range []string{`"@{fifo}"`, `"&{fifo}"`} {
		_, err := readKickstart(t, dir, includeFile(`{"method": "POST", "url": "/api/x", "body": `+inc+`}`))
		if err == nil || !strings.Contains(err.Error(), "requests[0]") || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("include %s of a FIFO: %v, want it refused as not a regular file", inc, err)
		}
	}
}
