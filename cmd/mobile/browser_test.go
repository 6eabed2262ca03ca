package main

import (
	"strings"
	"testing"
)

func TestRun_LoginBrowserUsage(t *testing.T) {
	d := newDevice(t, newFakeStore(t))
	t.Setenv("MOBILE_CLIENT_ID", "")
	t.Setenv("MOBILE_LATCH_URL", "")
	opened := 0
	openBrowser = func(string) error { opened++; return nil }
	t.Cleanup(func() { openBrowser = systemBrowser })
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--browser"}, "--client-id"},
		{[]string{"login", "--browser", "--client-id", "app", "--password-stdin"}, "takes no password"},
		{[]string{"login", "--browser", "--client-id", "app", "ana@example.org"}, "no arguments"},
	} {
		r := d.run(tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("mobile %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, exitUsage, tc.want)
		}
	}
	if opened != 0 {
		t.Errorf("a usage error opened the browser %d times", opened)
	}
}
