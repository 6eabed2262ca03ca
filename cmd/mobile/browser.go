package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

// defaultLatch is Latch's address (DESIGN.md), where login --browser
// sends the browser.
const defaultLatch = "http://127.0.0.1:9011"

// browserWait bounds how long login --browser waits for the user to log
// in in the browser. Tests shorten it.
var browserWait = 5 * time.Minute

// openBrowser opens a URL in the system browser. Tests replace it.
var openBrowser = systemBrowser

// systemBrowser starts the platform's opener of URLs (xdg-open, open,
// the Windows URL handler) and does not wait for the browser.
func systemBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it
	return nil
}

// LoginWithBrowser logs in through Latch's hosted login page in the
// system browser (client.Client.LoginWithBrowser) and stores the tokens
// as Login does; loginHint, if set, fills in the page's login id. show is told the authorization URL first, so that the
// user can open it by hand should no browser start.
func (a *app) LoginWithBrowser(ctx context.Context, latchURL, clientID, loginHint string, show func(url string)) (*api.User, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, browserWait, errors.New("no login in the browser within "+browserWait.String()))
	defer cancel()
	u, err := a.c.LoginWithBrowser(ctx, client.BrowserLogin{
		Issuer:    latchURL,
		ClientID:  clientID,
		LoginHint: loginHint,
		Open: func(url string) error {
			show(url)
			return nil
		},
	})
	if err != nil {
		return nil, unreachableLatch(latchURL, err)
	}
	return u, nil
}

// unreachableLatch is unreachable's message for Latch rather than the
// storefront.
func unreachableLatch(latchURL string, err error) error {
	var ue *unreachableError
	if errors.As(unreachable(latchURL, err), &ue) {
		return fmt.Errorf("Latch at %s is not reachable (%s): start it (go run ./cmd/latch serve), "+
			"or point --latch URL (or MOBILE_LATCH_URL) at the one you run", latchURL, reachCause(err))
	}
	return err
}

// cmdLoginBrowser is login --browser.
func cmdLoginBrowser(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(0, 0, "no arguments with --browser"); err != nil {
		return err
	}
	if inv.passwordStdin {
		return usagef("--browser takes no password: you type it in the browser")
	}
	clientID := firstNonEmpty(inv.clientID, os.Getenv("MOBILE_CLIENT_ID"))
	if clientID == "" {
		return usagef("--browser needs the storefront's application id: use --client-id ID (or MOBILE_CLIENT_ID)")
	}
	latchURL := firstNonEmpty(inv.latchURL, os.Getenv("MOBILE_LATCH_URL"), defaultLatch)
	user, err := inv.app.LoginWithBrowser(ctx, latchURL, clientID, firstNonEmpty(inv.loginID, os.Getenv("MOBILE_LOGIN_ID")), func(url string) {
		fmt.Fprintf(inv.stderr, "Log in in your browser. If it does not open, visit:\n\n  %s\n\n", url)
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(inv.stderr, "(no browser started: %v)\n", err)
		}
	})
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
	fmt.Fprintf(inv.stdout, "logged in as %s\n", firstNonEmpty(user.Email, user.Username, user.ID))
	return nil
}
