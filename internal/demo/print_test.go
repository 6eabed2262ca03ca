package demo

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	long := strings.Repeat("x", 50)
	for _, tc := range []struct {
		name          string
		s             string
		width, indent int
		want          []string
	}{
		{"no width", "a b c", 0, 2, []string{"a b c"}},
		{"fits", "a b c", 40, 2, []string{"a b c"}},
		{"at spaces, indented", "   7  Store       verifies the JWT locally: ES256 signature, exp, iss, aud", 40, 18,
			[]string{"   7  Store       verifies the JWT", "                  locally: ES256", "                  signature, exp, iss,", "                  aud"}},
		{"spaces at the break are dropped", "aaaa bbbb     cccc dddd eeee ffff gggg hhhh iiii", 40, 0,
			[]string{"aaaa bbbb     cccc dddd eeee ffff gggg", "hhhh iiii"}},
		{"a word longer than a line is cut", "ab " + long, 40, 4,
			[]string{"ab " + long[:37], "    " + long[37:]}},
		{"an indent that leaves too little room", "one two three four five six seven eight nine ten eleven", 40, 30,
			[]string{"one two three four five six seven eight", "      nine ten eleven"}},
		{"narrower than the minimum", "one two three four five six seven eight nine ten eleven", 10, 0,
			[]string{"one two three four five six seven eight", "nine ten eleven"}},
		{"runes, not bytes", "── " + strings.TrimSpace(strings.Repeat("→ ", 30)), 40, 0,
			[]string{"── " + strings.TrimSpace(strings.Repeat("→ ", 19)), strings.TrimSpace(strings.Repeat("→ ", 11))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wrap(tc.s, tc.width, tc.indent)
			if !slices.Equal(got, tc.want) {
				t.Errorf("wrap(%q, %d, %d) =\n%q\nwant\n%q", tc.s, tc.width, tc.indent, got, tc.want)
			}
			if tc.width > 0 {
				for _, l := range got {
					if n := utf8.RuneCountInString(l); n > max(tc.width, minWidth) {
						t.Errorf("line %q is %d columns wide", l, n)
					}
				}
			}
		})
	}
}

// The walk fits the width it is given; quiet, a walk that passes prints
// one line that says so.
func TestRun_WidthAndQuiet(t *testing.T) {
	var narrow, quiet bytes.Buffer
	if _, err := Run(context.Background(), Options{Out: &narrow, Width: 80, Dir: t.TempDir()}); err != nil {
		t.Fatalf("Run with Width 80: %v\n%s", err, narrow.String())
	}
	continued := 0
	for _, l := range strings.Split(narrow.String(), "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("a line of %d columns at Width 80: %q", n, l)
		}
		if strings.HasPrefix(l, strings.Repeat(" ", actorTextColumn)) {
			continued++
		}
	}
	if continued == 0 {
		t.Errorf("no line continues another at Width 80:\n%s", narrow.String())
	}

	if _, err := Run(context.Background(), Options{Out: &quiet, Quiet: true, Dir: t.TempDir()}); err != nil {
		t.Fatalf("quiet Run: %v\n%s", err, quiet.String())
	}
	lines := strings.Split(strings.TrimSuffix(quiet.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "All ") || !strings.Contains(lines[0], "scenes behaved as described") {
		t.Errorf("quiet output of a walk that passed: %q, want one line saying all scenes passed", quiet.String())
	}
}
