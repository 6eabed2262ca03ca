package main

import (
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// readModules is drawModules' inverse for text drawn without ANSI
// colours.
func readModules(text string) [][]bool {
	var bm [][]bool
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var top, bottom []bool
		for _, r := range line {
			top = append(top, r == '█' || r == '▀')
			bottom = append(bottom, r == '█' || r == '▄')
		}
		bm = append(bm, top, bottom)
	}
	return bm
}

func TestQRTextDrawsEveryModule(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{
		"otpauth://totp/Latch%20Storefront:ana@example.org?algorithm=SHA1&digits=6&issuer=Latch+Storefront&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		"otpauth://totp/x:y?secret=GEZDGNBVGY3TQOJQ", // a smaller version
	} {
		q, err := qrcode.New(uri, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		want := q.Bitmap()
		text, err := qrText(uri, false)
		if err != nil {
			t.Fatal(err)
		}
		got := readModules(text)
		if len(want)%2 == 1 {
			// The last line's lower half is the quiet zone's.
			want = append(want, make([]bool, len(want[0])))
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows drawn, want %d", len(got), len(want))
		}
		for y := range want {
			for x := range want[y] {
				if got[y][x] != want[y][x] {
					t.Fatalf("module (%d,%d) drawn %v, want %v", x, y, got[y][x], want[y][x])
				}
			}
		}
		// The quiet zone: the first line is blank.
		if strings.TrimSpace(strings.SplitN(text, "\n", 2)[0]) != "" {
			t.Errorf("the first line is not quiet zone: %q", strings.SplitN(text, "\n", 2)[0])
		}
	}
}

func TestQRTextANSI(t *testing.T) {
	t.Parallel()
	text, err := qrText("otpauth://totp/x:y?secret=GEZDGNBVGY3TQOJQ", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if !strings.HasPrefix(line, "\x1b[30;107m") || !strings.HasSuffix(line, "\x1b[0m") {
			t.Fatalf("line not drawn black on white: %q", line)
		}
	}
}
