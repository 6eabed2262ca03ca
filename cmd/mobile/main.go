// Command mobile is a terminal stand-in for the mobile app of FusionAuth's
// article "Mobile login to backend with JWTs and refresh tokens": it logs
// in through the storefront backend with a native login form, shows the
// products and the user's cart, and logs out (here or everywhere), all
// through the client SDK, which keeps the JWT and the refresh token in an
// encrypted file and lets the backend refresh the JWT when it expires.
//
// Usage:
//
//	mobile [flags]                     the app, in the terminal (stdin must be one)
//	mobile [flags] login [--login-id EMAIL] [--password-stdin] [--code CODE] [--trust-device]
//	mobile [flags] login --browser --client-id ID [--latch URL]
//	mobile [flags] products
//	mobile [flags] cart
//	mobile [flags] add SKU [QUANTITY]
//	mobile [flags] remove SKU
//	mobile [flags] logout [--everywhere]
//	mobile [flags] tokens [--show-secrets]
//	mobile [flags] two-factor status|setup|enable|disable [--code CODE] [--secret SECRET]
//
// Flags, accepted before or after the command:
//
//	--backend URL      the storefront (default http://127.0.0.1:8080; env MOBILE_BACKEND)
//	--state DIR        where the tokens are kept (default <user config dir>/latch-mobile; env MOBILE_STATE_DIR)
//	--json             print results as JSON
//	--insecure-http    allow http:// to a host that is not loopback (development only)
//	--timeout D        per request (default 30s)
//
// The password never travels as a flag: login reads it from stdin with
// --password-stdin (one line), from the environment variable
// MOBILE_PASSWORD, or, when stdin is a terminal, from a prompt that does
// not echo. The login id may also come from MOBILE_LOGIN_ID. When the
// account has a second factor, login asks for the authenticator's code
// (--code, MOBILE_TWO_FACTOR_CODE, or a prompt on a terminal) in the same
// run, and with --trust-device the backend asks this device for no code
// from then on.
//
// two-factor setup shows a new authenticator secret as a QR code drawn in
// the terminal and as text; with a code (--code, or typed at the prompt)
// it enables it and shows the recovery codes, once. Scripts run setup
// --json, which prints {"secret","uri"}, then two-factor enable --secret
// SECRET --code CODE. two-factor disable --code takes a current code or a
// recovery code.
//
// login --browser logs in through Latch's own login page instead, in the
// system browser (OAuth 2.0 for native apps, RFC 8252): it prints the
// page's URL and opens it (xdg-open, open), waits up to five minutes for
// the browser's redirect to a port of 127.0.0.1, and stores the tokens as
// the password login does. --client-id (env MOBILE_CLIENT_ID) is the
// storefront's application id in Latch, which must list
// http://127.0.0.1/callback among its authorized redirect URLs; --latch
// (env MOBILE_LATCH_URL) is Latch's URL, http://127.0.0.1:9011 by default.
//
// The session survives restarts: the tokens are kept in a client.FileStore
// (AES-GCM, key file mode 0600) in the state directory, one token file per
// backend. tokens shows whether a session is held, when its JWT expires and
// whether a refresh token is stored, but never the token values unless
// asked with --show-secrets.
//
// Exit status: 0 on success, 1 on failure, 2 for a usage error, and 3 when
// the user must log in (again): there is no session, or the backend ended
// it (the refresh token expired or was revoked).
//
// In the terminal app: tab switches between the fields of the login form
// and between the product list and the cart; a or enter adds one of the
// selected product (in the cart, one more of the selected line), d removes
// one of the selected cart line, x the whole line, r reloads, s opens the
// settings (two-factor authentication: e sets up an authenticator app
// with a QR code, d turns it off), l logs out, L logs out everywhere, q
// quits. When the account has a second factor, the login form asks for
// the code next (ctrl+t: trust this device). When the backend ends the
// session the app shows the login form again.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/latchid/latch/client"
)

// Exit codes.
const (
	exitOK            = 0
	exitFailure       = 1
	exitUsage         = 2
	exitLoginRequired = 3
)

// defaultBackend is the storefront's address (DESIGN.md).
const defaultBackend = "http://127.0.0.1:8080"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the flags every command accepts.
type options struct {
	backend      string
	state        string
	json         bool
	insecureHTTP bool
	timeout      time.Duration
}

// commonFlags registers the common flags on fs.
func (o *options) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.backend, "backend", o.backend, "the storefront's `URL` (env MOBILE_BACKEND)")
	fs.StringVar(&o.state, "state", o.state, "the `directory` that keeps the tokens (env MOBILE_STATE_DIR)")
	fs.BoolVar(&o.json, "json", o.json, "print results as JSON")
	fs.BoolVar(&o.insecureHTTP, "insecure-http", o.insecureHTTP, "allow http:// to a host that is not loopback (development only)")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "time limit of each request")
}

// usageError is a mistake on the command line (exit 2).
type usageError struct{ msg string }

// Error returns the mistake.
func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

const usage = `usage: mobile [flags] [command [args]]

With no command and a terminal, mobile runs the app: a login form, then
the products and the cart.

commands:
  login [--login-id EMAIL] [--password-stdin] [--code CODE] [--trust-device]
                                                log in (password from stdin, MOBILE_PASSWORD or a prompt;
                                                the second factor's code, if asked, from --code,
                                                MOBILE_TWO_FACTOR_CODE or a prompt)
  login --browser --client-id ID [--latch URL]  log in on Latch's page in the system browser
  products                                      list the products
  cart                                          show the cart
  add SKU [QUANTITY]                            add to the cart (1 by default)
  remove SKU                                    remove from the cart
  logout [--everywhere]                         log out (of every device)
  tokens [--show-secrets]                       show the session's state
  two-factor status                             whether the account has a second factor
  two-factor setup [--code CODE]                new authenticator secret, shown as a QR code; enabled with a code
  two-factor enable --secret SECRET --code CODE enable the secret setup printed; shows the recovery codes once
  two-factor disable --code CODE                turn the second factor off (a code or a recovery code)
  ui                                            run the app in the terminal

flags (before or after the command):
  --backend URL       the storefront (default http://127.0.0.1:8080, env MOBILE_BACKEND)
  --state DIR         where the tokens are kept (env MOBILE_STATE_DIR)
  --json              print results as JSON
  --insecure-http     allow http:// to a host that is not loopback
  --timeout D         time limit of each request (default 30s)

exit status: 0 ok, 1 failure, 2 usage, 3 the user must log in (again)
`

// run is the whole program: it parses args, runs a command (or the
// terminal app when there is none and stdin is a terminal) and returns
// the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o := options{
		backend: firstNonEmpty(os.Getenv("MOBILE_BACKEND"), defaultBackend),
		state:   os.Getenv("MOBILE_STATE_DIR"),
		timeout: 30 * time.Second,
	}
	fs := flag.NewFlagSet("mobile", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.commonFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "mobile: %v\n%s", err, usage)
		return exitUsage
	}
	args = fs.Args()
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if cmd == "" {
		if !isTerminal(stdin) {
			fmt.Fprintf(stderr, "mobile: stdin is not a terminal: name a command\n%s", usage)
			return exitUsage
		}
		cmd = "ui"
	}
	c, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "mobile: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}

	// Each command has its own flags and takes the common ones too.
	cfs := flag.NewFlagSet("mobile "+cmd, flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	o.commonFlags(cfs)
	var inv invocation
	if c.flags != nil {
		c.flags(cfs, &inv)
	}
	pos, err := parseInterspersed(cfs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	} else if err != nil {
		fmt.Fprintf(stderr, "mobile %s: %v\n", cmd, err)
		return exitUsage
	}
	inv.args = pos
	inv.opts = o
	inv.stdin, inv.stdout, inv.stderr = stdin, stdout, stderr

	if inv.opts.state == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			fmt.Fprintf(stderr, "mobile: no config directory (%v): use --state DIR\n", err)
			return exitFailure
		}
		inv.opts.state = filepath.Join(dir, "latch-mobile")
	}
	inv.app, err = newApp(config{
		Backend:      inv.opts.backend,
		StateDir:     inv.opts.state,
		InsecureHTTP: inv.opts.insecureHTTP,
		Timeout:      inv.opts.timeout,
	})
	if err == nil {
		err = c.run(ctx, &inv)
	}
	return inv.fail(cmd, err)
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns ("--" ends the flags).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// invocation is one command's run: its options, arguments and streams.
type invocation struct {
	opts   options
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	app    *app

	// Command flags.
	loginID       string
	passwordStdin bool
	browser       bool   // login --browser
	clientID      string // login --client-id
	latchURL      string // login --latch
	everywhere    bool
	showSecrets   bool
	code          string
	secret        string
	trustDevice   bool
}

// command is one subcommand.
type command struct {
	flags func(*flag.FlagSet, *invocation)
	run   func(context.Context, *invocation) error
}

var commands = map[string]command{
	"login": {
		flags: func(fs *flag.FlagSet, inv *invocation) {
			fs.StringVar(&inv.loginID, "login-id", "", "the user's `email` or username (env MOBILE_LOGIN_ID)")
			fs.BoolVar(&inv.passwordStdin, "password-stdin", false, "read the password from stdin (one line)")
			fs.StringVar(&inv.code, "code", "", "the authenticator's `code`, or a recovery code, if the account asks for a second factor (env MOBILE_TWO_FACTOR_CODE)")
			fs.BoolVar(&inv.trustDevice, "trust-device", false, "with the code: ask for no code on this device from now on")
			fs.BoolVar(&inv.browser, "browser", false, "log in on Latch's login page in the system browser")
			fs.StringVar(&inv.clientID, "client-id", "", "with --browser: the storefront's application `id` in Latch (env MOBILE_CLIENT_ID)")
			fs.StringVar(&inv.latchURL, "latch", "", "with --browser: Latch's `URL` (default "+defaultLatch+", env MOBILE_LATCH_URL)")
		},
		run: cmdLogin,
	},
	"products": {run: cmdProducts},
	"cart":     {run: cmdCart},
	"add":      {run: cmdAdd},
	"remove":   {run: cmdRemove},
	"logout": {
		flags: func(fs *flag.FlagSet, inv *invocation) {
			fs.BoolVar(&inv.everywhere, "everywhere", false, "end every session of the user, on every device")
		},
		run: cmdLogout,
	},
	"tokens": {
		flags: func(fs *flag.FlagSet, inv *invocation) {
			fs.BoolVar(&inv.showSecrets, "show-secrets", false, "print the token values too")
		},
		run: cmdTokens,
	},
	"two-factor": {flags: twoFactorFlags, run: cmdTwoFactor},
	"ui":         {run: cmdUI},
}

// fail reports err (if any) and returns the exit code for it.
func (inv *invocation) fail(cmd string, err error) int {
	if err == nil {
		return exitOK
	}
	if _, ok := err.(silentLoginRequired); ok {
		return exitLoginRequired
	}
	code := exitFailure
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		code = exitUsage
	case isLoginRequired(err):
		code = exitLoginRequired
	}
	msg := err.Error()
	if code == exitLoginRequired {
		var se *sessionEndedError
		if !errors.As(err, &se) {
			msg = "not logged in"
		}
		msg += " (run: mobile login)"
	}
	if inv.opts.json && code != exitUsage {
		body := map[string]any{"error": err.Error(), "loginRequired": code == exitLoginRequired}
		var apiErr *client.APIError
		if errors.As(err, &apiErr) {
			body["status"] = apiErr.Status
		}
		inv.printJSON(body)
	}
	fmt.Fprintf(inv.stderr, "mobile %s: %s\n", cmd, msg)
	return code
}

func (inv *invocation) printJSON(v any) error {
	enc := json.NewEncoder(inv.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (inv *invocation) wantArgs(min, max int, names string) error {
	if n := len(inv.args); n < min || n > max {
		return usagef("want %s, got %d argument(s)", names, n)
	}
	return nil
}

func cmdLogin(ctx context.Context, inv *invocation) error {
	if inv.browser {
		return cmdLoginBrowser(ctx, inv)
	}
	if err := inv.wantArgs(0, 1, "at most a login id"); err != nil {
		return err
	}
	loginID := inv.loginID
	if loginID == "" && len(inv.args) == 1 {
		loginID = inv.args[0]
	}
	loginID = firstNonEmpty(loginID, os.Getenv("MOBILE_LOGIN_ID"))
	if loginID == "" {
		return usagef("no login id: use --login-id EMAIL (or MOBILE_LOGIN_ID)")
	}
	password, err := readPassword(inv)
	if err != nil {
		return err
	}
	user, err := inv.app.Login(ctx, loginID, password)
	if tf := (*client.TwoFactorRequiredError)(nil); errors.As(err, &tf) {
		// The password was right; the login awaits a code, in this
		// process only (the SDK keeps no password, and no pending login
		// on disk).
		code, cerr := readCode(inv, "Code from the authenticator app (or a recovery code): ")
		if cerr != nil {
			return fmt.Errorf("the account asks for a second factor: %w", cerr)
		}
		user, err = inv.app.CompleteTwoFactor(ctx, code, inv.trustDevice)
	}
	if err != nil {
		return err
	}
	s, err := inv.app.Session(ctx, false)
	if err != nil {
		return err
	}
	if inv.opts.json {
		return inv.printJSON(loginJSON{
			User:         userJSON{ID: user.ID, Email: user.Email, Username: user.Username},
			JWTExpiresAt: s.JWTExpiresAt,
			RefreshToken: s.RefreshToken,
		})
	}
	fmt.Fprintf(inv.stdout, "logged in as %s\n", firstNonEmpty(user.Email, user.Username, loginID))
	return nil
}

// loginJSON is what login --json prints.
type loginJSON struct {
	User         userJSON  `json:"user"`
	JWTExpiresAt time.Time `json:"jwtExpiresAt,omitzero"`
	RefreshToken bool      `json:"refreshTokenStored"`
}

// userJSON is what login prints of the user.
type userJSON struct {
	ID       string `json:"id,omitempty"`
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
}

// readPassword gets the password from stdin (--password-stdin), the
// environment or a prompt that does not echo, never from a flag.
func readPassword(inv *invocation) (string, error) {
	f, tty := inv.stdin.(*os.File)
	tty = tty && term.IsTerminal(f.Fd())
	switch {
	case inv.passwordStdin && !tty:
		line, err := bufio.NewReader(io.LimitReader(inv.stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usagef("--password-stdin: no password on stdin")
		}
		return pw, nil
	case !inv.passwordStdin && os.Getenv("MOBILE_PASSWORD") != "":
		return os.Getenv("MOBILE_PASSWORD"), nil
	case tty:
		fmt.Fprint(inv.stderr, "Password: ")
		b, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(inv.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if len(b) == 0 {
			return "", usagef("no password given")
		}
		return string(b), nil
	}
	return "", usagef("no password: use --password-stdin or MOBILE_PASSWORD")
}

func cmdProducts(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	ps, err := inv.app.Products(ctx)
	if err != nil {
		return err
	}
	if inv.opts.json {
		if ps == nil {
			ps = []Product{}
		}
		return inv.printJSON(map[string]any{"products": ps})
	}
	w := newTable(inv.stdout)
	fmt.Fprintln(w, "SKU\tNAME\tPRICE")
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%s\t%s\n", p.SKU, p.Name, formatCents(p.PriceCents))
	}
	return w.Flush()
}

func cmdCart(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	if err := inv.requireSession(ctx); err != nil {
		return err
	}
	c, err := inv.app.Cart(ctx)
	if err != nil {
		return err
	}
	return inv.printCart(c)
}

func cmdAdd(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(1, 2, "SKU [QUANTITY]"); err != nil {
		return err
	}
	qty := 1
	if len(inv.args) == 2 {
		n, err := strconv.Atoi(inv.args[1])
		if err != nil || n < 1 {
			return usagef("quantity %q: want a positive whole number", inv.args[1])
		}
		qty = n
	}
	if err := inv.requireSession(ctx); err != nil {
		return err
	}
	c, err := inv.app.Add(ctx, inv.args[0], qty)
	if err != nil {
		return err
	}
	return inv.printCart(c)
}

func cmdRemove(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(1, 1, "SKU"); err != nil {
		return err
	}
	if err := inv.requireSession(ctx); err != nil {
		return err
	}
	c, err := inv.app.Remove(ctx, inv.args[0])
	if err != nil {
		return err
	}
	return inv.printCart(c)
}

// requireSession fails with errLoginRequired, without asking the backend,
// when no session is held.
func (inv *invocation) requireSession(ctx context.Context) error {
	s, err := inv.app.Session(ctx, false)
	if err != nil {
		return err
	}
	if !s.LoggedIn {
		return errLoginRequired
	}
	return nil
}

func (inv *invocation) printCart(c Cart) error {
	if inv.opts.json {
		if c.Items == nil {
			c.Items = []CartItem{}
		}
		return inv.printJSON(c)
	}
	if len(c.Items) == 0 {
		fmt.Fprintln(inv.stdout, "the cart is empty")
		return nil
	}
	w := newTable(inv.stdout)
	fmt.Fprintln(w, "SKU\tNAME\tQTY\tPRICE\tSUBTOTAL")
	for _, it := range c.Items {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", it.SKU, it.Name, it.Quantity, formatCents(it.PriceCents), formatCents(it.PriceCents*int64(it.Quantity)))
	}
	fmt.Fprintf(w, "\t\t\tTOTAL\t%s\n", formatCents(c.TotalCents))
	return w.Flush()
}

func cmdLogout(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	s, loadErr := inv.app.Session(ctx, false)
	err := inv.app.Logout(ctx, inv.everywhere)
	if loadErr != nil {
		// There was no session to end, only a file to delete, which
		// Logout does whatever else fails.
		if after, err := inv.app.Session(ctx, false); err != nil || after.LoggedIn {
			return loadErr
		}
		err = nil
	}
	if err != nil {
		return fmt.Errorf("%w (the tokens on this device are deleted all the same)", err)
	}
	if inv.opts.json {
		return inv.printJSON(map[string]any{"loggedOut": true, "everywhere": inv.everywhere, "hadSession": s.LoggedIn})
	}
	switch {
	case loadErr != nil:
		fmt.Fprintln(inv.stdout, "deleted the unreadable session")
	case !s.LoggedIn:
		fmt.Fprintln(inv.stdout, "not logged in")
	case inv.everywhere:
		fmt.Fprintln(inv.stdout, "logged out everywhere")
	default:
		fmt.Fprintln(inv.stdout, "logged out")
	}
	return nil
}

func cmdTokens(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	s, err := inv.app.Session(ctx, inv.showSecrets)
	if err != nil {
		return err
	}
	if inv.opts.json {
		if err := inv.printJSON(s); err != nil {
			return err
		}
	} else {
		w := newTable(inv.stdout)
		if !s.LoggedIn {
			fmt.Fprintln(w, "logged in:\tno")
		} else {
			fmt.Fprintln(w, "logged in:\tyes")
			if s.User != "" {
				fmt.Fprintf(w, "user:\t%s\n", s.User)
			}
			fmt.Fprintf(w, "jwt expires:\t%s\n", describeExpiry(s.JWTExpiresAt, inv.app.now()))
			fmt.Fprintf(w, "refresh token:\t%s\n", map[bool]string{true: "stored", false: "none"}[s.RefreshToken])
			if inv.showSecrets {
				fmt.Fprintf(w, "access token:\t%s\n", s.AccessTokenValue)
				fmt.Fprintf(w, "refresh token value:\t%s\n", s.RefreshTokenValue)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if !s.LoggedIn {
		// Exit 3, without repeating what was just printed.
		return silentLoginRequired{}
	}
	return nil
}

// silentLoginRequired is errLoginRequired for a command that has already
// said so on stdout.
type silentLoginRequired struct{}

// Error is errLoginRequired's message.
func (silentLoginRequired) Error() string { return errLoginRequired.Error() }

// Is makes a silentLoginRequired an errLoginRequired.
func (silentLoginRequired) Is(target error) bool { return target == errLoginRequired }

// describeExpiry says when a JWT expires, relative to now.
func describeExpiry(exp, now time.Time) string {
	if exp.IsZero() {
		return "unknown"
	}
	d := exp.Sub(now).Round(time.Second)
	if d <= 0 {
		return fmt.Sprintf("%s (expired %s ago)", exp.UTC().Format(time.RFC3339), -d)
	}
	return fmt.Sprintf("%s (in %s)", exp.UTC().Format(time.RFC3339), d)
}

// newTable returns a writer that aligns tab-separated columns.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
