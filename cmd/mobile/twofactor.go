package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

var (
	// errBadCode is a wrong second-factor code: the login still awaits
	// one, or the setting was not changed.
	errBadCode = errors.New("wrong code")
	// errTwoFactorExpired: the login awaiting a code is over at the
	// backend; the user logs in again.
	errTwoFactorExpired = errors.New("the login expired before the code came: log in again")
)

// CompleteTwoFactor finishes a login that awaits a code. A wrong code is
// errBadCode, an expired login errTwoFactorExpired.
func (a *app) CompleteTwoFactor(ctx context.Context, code string, trustDevice bool) (*api.User, error) {
	u, err := a.c.CompleteTwoFactor(ctx, code, trustDevice)
	return u, a.twoFactorError(err)
}

// TwoFactorStatus reports whether the user has a second factor.
func (a *app) TwoFactorStatus(ctx context.Context) (bool, error) {
	on, _, err := a.c.TwoFactorStatus(ctx)
	return on, a.twoFactorError(err)
}

// StartEnrolment gets a new authenticator secret for the user.
func (a *app) StartEnrolment(ctx context.Context) (client.TwoFactorEnrolment, error) {
	e, err := a.c.StartTwoFactorEnrolment(ctx)
	return e, a.twoFactorError(err)
}

// EnableTwoFactor enables the authenticator and returns the recovery
// codes.
func (a *app) EnableTwoFactor(ctx context.Context, secret, code string) ([]string, error) {
	codes, err := a.c.EnableTwoFactor(ctx, secret, code)
	return codes, a.twoFactorError(err)
}

// DisableTwoFactor removes the authenticator.
func (a *app) DisableTwoFactor(ctx context.Context, code string) error {
	return a.twoFactorError(a.c.DisableTwoFactor(ctx, code))
}

// twoFactorError names the backend's answers about codes, and a session
// the backend ended.
func (a *app) twoFactorError(err error) error {
	err = unreachable(a.backend.String(), err)
	var apiErr *client.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.Code == client.CodeInvalidTwoFactorCode:
		return errBadCode
	case errors.As(err, &apiErr) && apiErr.Code == client.CodeTwoFactorExpired:
		return errTwoFactorExpired
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return &sessionEndedError{Message: apiErr.Message}
	case errors.As(err, &apiErr) && (apiErr.Status == http.StatusConflict || apiErr.Status == http.StatusLocked) && apiErr.Message == "":
		locked := *apiErr
		locked.Message = "the account is locked"
		return &locked
	}
	return err
}

// readCode gets a second-factor code: the --code flag, the environment
// variable MOBILE_TWO_FACTOR_CODE, or a prompt on a terminal.
func readCode(inv *invocation, prompt string) (string, error) {
	if inv.code != "" {
		return inv.code, nil
	}
	if c := os.Getenv("MOBILE_TWO_FACTOR_CODE"); c != "" {
		return c, nil
	}
	f, ok := inv.stdin.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		return "", usagef("no code: use --code CODE (or MOBILE_TWO_FACTOR_CODE)")
	}
	fmt.Fprint(inv.stderr, prompt)
	var line string
	if _, err := fmt.Fscanln(inv.stdin, &line); err != nil {
		return "", fmt.Errorf("read code: %w", err)
	}
	if strings.TrimSpace(line) == "" {
		return "", usagef("no code given")
	}
	return strings.TrimSpace(line), nil
}

// twoFactorFlags are the flags of the two-factor command.
func twoFactorFlags(fs *flag.FlagSet, inv *invocation) {
	fs.StringVar(&inv.code, "code", "", "a `code` of the authenticator app (or, for disable, a recovery code)")
	fs.StringVar(&inv.secret, "secret", "", "the base32 `secret` that setup printed (enable)")
}

// cmdTwoFactor runs "two-factor status|setup|enable|disable".
func cmdTwoFactor(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(1, 1, "status, setup, enable or disable"); err != nil {
		return err
	}
	if err := inv.requireSession(ctx); err != nil {
		return err
	}
	switch inv.args[0] {
	case "status":
		on, err := inv.app.TwoFactorStatus(ctx)
		if err != nil {
			return err
		}
		if inv.opts.json {
			return inv.printJSON(map[string]bool{"enabled": on})
		}
		fmt.Fprintf(inv.stdout, "two-factor authentication: %s\n", map[bool]string{true: "on", false: "off"}[on])
		return nil
	case "setup":
		return twoFactorSetup(ctx, inv)
	case "enable":
		if inv.secret == "" {
			return usagef("enable: --secret SECRET is required (run: mobile two-factor setup)")
		}
		code, err := readCode(inv, "Code from the authenticator app: ")
		if err != nil {
			return err
		}
		return inv.enableTwoFactor(ctx, inv.secret, code)
	case "disable":
		code, err := readCode(inv, "Code from the authenticator app, or a recovery code: ")
		if err != nil {
			return err
		}
		if err := inv.app.DisableTwoFactor(ctx, code); err != nil {
			return err
		}
		if inv.opts.json {
			return inv.printJSON(map[string]bool{"enabled": false})
		}
		fmt.Fprintln(inv.stdout, "two-factor authentication is off")
		return nil
	}
	return usagef("two-factor: unknown action %q: want status, setup, enable or disable", inv.args[0])
}

// twoFactorSetup gets a new secret and shows it, as text and as a QR
// code; with a code (--code, or typed at the prompt on a terminal) it
// enables it at once, else it says how to.
func twoFactorSetup(ctx context.Context, inv *invocation) error {
	e, err := inv.app.StartEnrolment(ctx)
	if err != nil {
		return err
	}
	f, tty := inv.stdin.(*os.File)
	tty = tty && term.IsTerminal(f.Fd())
	if inv.opts.json && inv.code == "" {
		return inv.printJSON(map[string]string{"secret": e.Secret, "uri": e.URI})
	}
	if !inv.opts.json {
		out, isFile := inv.stdout.(*os.File)
		qr, err := qrText(e.URI, isFile && term.IsTerminal(out.Fd()))
		if err != nil {
			return err
		}
		fmt.Fprintf(inv.stdout, "Scan this with your authenticator app:\n\n%s\nor type the secret: %s\n", qr, e.Secret)
	}
	if inv.code == "" && os.Getenv("MOBILE_TWO_FACTOR_CODE") == "" && !tty {
		fmt.Fprintf(inv.stdout, "\nthen run: mobile two-factor enable --secret %s --code CODE\n", e.Secret)
		return nil
	}
	code, err := readCode(inv, "\nCode from the authenticator app: ")
	if err != nil {
		return err
	}
	return inv.enableTwoFactor(ctx, e.Secret, code)
}

// enableTwoFactor enables the secret and shows the recovery codes, once.
func (inv *invocation) enableTwoFactor(ctx context.Context, secret, code string) error {
	codes, err := inv.app.EnableTwoFactor(ctx, secret, code)
	if err != nil {
		return err
	}
	if inv.opts.json {
		if codes == nil {
			codes = []string{}
		}
		return inv.printJSON(map[string]any{"enabled": true, "recoveryCodes": codes})
	}
	fmt.Fprintln(inv.stdout, "two-factor authentication is on")
	if len(codes) > 0 {
		fmt.Fprintln(inv.stdout, "\nRecovery codes (each logs you in once without the app; they are shown this once, keep them safe):")
		for _, c := range codes {
			fmt.Fprintf(inv.stdout, "  %s\n", c)
		}
	}
	return nil
}
