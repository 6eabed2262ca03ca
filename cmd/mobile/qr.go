package main

import (
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrText draws the QR code of s (an otpauth:// URI) in text, two modules
// per character cell with the half-block characters ▀ ▄ █, quiet zone
// included, so that a phone's authenticator app can scan it off the
// terminal. With ansi, the code is drawn in black on white whatever the
// terminal's colours (a dark-themed terminal would otherwise invert it);
// without, the blocks are the dark modules, for a light background.
func qrText(s string, ansi bool) (string, error) {
	q, err := qrcode.New(s, qrcode.Medium)
	if err != nil {
		return "", err
	}
	return drawModules(q.Bitmap(), ansi), nil
}

// drawModules draws a bitmap (true: a dark module) two rows per line.
func drawModules(bm [][]bool, ansi bool) string {
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		if ansi {
			b.WriteString("\x1b[30;107m") // black on bright white
		}
		for x := range bm[y] {
			top := bm[y][x]
			bottom := y+1 < len(bm) && bm[y+1][x]
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		if ansi {
			b.WriteString("\x1b[0m")
		}
		b.WriteByte('\n')
	}
	return b.String()
}
