package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/charmbracelet/x/term"

	"github.com/latchid/latch/internal/demo"
)

// demoCmd runs `latch demo`: the article's steps 1-21 against a Latch and
// a storefront started in this process (internal/demo does the work).
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stdout, stderr)
	quiet := fs.Bool("quiet", false, "print only a failing scene, or one line when every scene passed")
	var width widthFlag
	fs.Var(&width, "width", "wrap the lines at this many `columns`; 0: no wrapping (default: the terminal's width, 80 when not a terminal)")
	keep := fs.Bool("keep", false, "keep the temporary data (Latch's and the storefront's databases) and print where")
	dir := fs.String("dir", "", "make the temporary data directory here (default: the system's temporary directory)")
	verbose := fs.Bool("verbose", false, "also log Latch and the storefront to stderr")
	fs.Usage = func() {
		io.WriteString(fs.Output(), "Usage: latch demo [flags]\n\n"+
			"Starts Latch and the article's Store in this process on free loopback ports, with temporary data,\n"+
			"and walks the steps of \"Mobile login to backend with JWTs and refresh tokens\" (1-21), checking each.\n"+
			"It exits non-zero, naming the step, if any step does not behave as described.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if !width.set {
		width.n = terminalWidth(stdout)
	}
	opts := demo.Options{Out: stdout, Quiet: *quiet, Keep: *keep, Dir: *dir, Width: width.n}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	_, err := demo.Run(ctx, opts)
	return err
}

// terminalWidth is the width of the terminal w writes to, or 80 when w is
// not a terminal (a file, a pipe).
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
			return cols
		}
	}
	return 80
}

// widthFlag is --width: a number of columns, or unset.
type widthFlag struct {
	n   int
	set bool
}

// String returns the width set, or "" (which the usage shows as no default).
func (w *widthFlag) String() string {
	if w == nil || !w.set {
		return ""
	}
	return strconv.Itoa(w.n)
}

// Set takes a width of 0 or more columns.
func (w *widthFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return errors.New("want 0 or more columns")
	}
	w.n, w.set = n, true
	return nil
}
