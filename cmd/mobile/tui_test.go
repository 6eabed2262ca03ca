package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/cursor"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/latchid/latch/client"
)

// tui drives the model the way a tea.Program would, without a terminal:
// keys go to Update, and the commands Update returns run at once, their
// messages fed back, until none is left.
type tui struct {
	t     *testing.T
	state string
	app   *app
	m     model
	hook  chan tea.Msg // what the SDK's OnLoginRequired posted
	quit  bool
}

func newTUI(t *testing.T, f *fakeStore, state string) *tui {
	t.Helper()
	a, err := newApp(config{Backend: f.srv.URL, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	tt := &tui{t: t, state: state, app: a, hook: make(chan tea.Msg, 10)}
	a.setLoginRequiredHook(func() { tt.hook <- loginRequiredMsg{} })
	m := newModel(context.Background(), a)
	// A static cursor: no blink timers to wait for.
	m.loginID.Cursor.SetMode(cursor.CursorStatic)
	m.password.Cursor.SetMode(cursor.CursorStatic)
	tt.m = m
	tt.do(m.Init())
	return tt
}

// send delivers a message and runs what follows from it.
func (tt *tui) send(msg tea.Msg) {
	tt.t.Helper()
	next, cmd := tt.m.Update(msg)
	tt.m = next.(model)
	tt.do(cmd)
}

// do runs a command and delivers its messages (and those the SDK's hook
// posted meanwhile, first, as the program would receive them).
func (tt *tui) do(cmd tea.Cmd) {
	tt.t.Helper()
	if cmd == nil {
		return
	}
	msg := cmd()
	for {
		select {
		case h := <-tt.hook:
			tt.send(h)
			continue
		default:
		}
		break
	}
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			tt.do(c)
		}
	case tea.QuitMsg:
		tt.quit = true
	case loginDoneMsg, productsMsg, cartMsg, logoutDoneMsg, loginRequiredMsg,
		twoFactorStatusMsg, enrolmentMsg, enabledMsg, disabledMsg:
		tt.send(msg)
	}
}

func (tt *tui) typeText(s string) {
	tt.t.Helper()
	tt.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
}

func (tt *tui) key(k tea.KeyType) {
	tt.t.Helper()
	tt.send(tea.KeyMsg{Type: k})
}

func (tt *tui) wantView(wants ...string) {
	tt.t.Helper()
	v := tt.m.View()
	for _, w := range wants {
		if !strings.Contains(v, w) {
			tt.t.Errorf("view has no %q:\n%s", w, v)
		}
	}
}

func (tt *tui) logIn(password string) {
	tt.t.Helper()
	tt.typeText(testLogin)
	tt.key(tea.KeyTab)
	tt.typeText(password)
	tt.key(tea.KeyEnter)
}

func TestTUI_LoginForm(t *testing.T) {
	f := newFakeStore(t)
	tt := newTUI(t, f, t.TempDir())
	if tt.m.screen != screenLogin || !tt.m.loginID.Focused() {
		t.Fatalf("the app opens on screen %d, want the login form with the email focused", tt.m.screen)
	}
	tt.wantView("Log in", "Email", "Password")

	tt.typeText(testLogin)
	// Enter in the email field moves to the password.
	tt.key(tea.KeyEnter)
	if !tt.m.password.Focused() || tt.m.loginID.Focused() {
		t.Fatal("enter in the email field did not move to the password field")
	}
	tt.typeText("wrong")
	tt.wantView(testLogin, "•••••")
	if strings.Contains(tt.m.View(), "wrong") {
		t.Error("the password field shows the password")
	}
	tt.key(tea.KeyEnter)
	if tt.m.screen != screenLogin || tt.m.password.Value() != "" {
		t.Errorf("after a bad password: screen %d, password field %q", tt.m.screen, tt.m.password.Value())
	}
	tt.wantView("Wrong email or password.")

	tt.typeText(testPassword)
	if strings.Contains(tt.m.View(), testPassword) {
		t.Error("the password field shows the password")
	}
	tt.key(tea.KeyEnter)
	if tt.m.screen != screenShop {
		t.Fatalf("after logging in: screen %d, view:\n%s", tt.m.screen, tt.m.View())
	}
	tt.wantView(testLogin, "Products", "Coffee mug", "12.00", "Cart", "(empty)")
	if strings.Contains(tt.m.View(), testPassword) {
		t.Error("the shop screen shows the password")
	}

	// Tab and shift+tab cycle, empty fields are refused.
	tt2 := newTUI(t, f, t.TempDir())
	tt2.key(tea.KeyShiftTab)
	if !tt2.m.password.Focused() {
		t.Error("shift+tab did not move to the password field")
	}
	tt2.key(tea.KeyEnter)
	tt2.wantView("Enter your email and your password.")
	tt2.key(tea.KeyEsc)
	if !tt2.quit {
		t.Error("esc on the login form did not quit")
	}
}

func TestTUI_LockedAccount(t *testing.T) {
	f := newFakeStore(t)
	tt := newTUI(t, f, t.TempDir())
	tt.typeText(lockedLogin)
	tt.key(tea.KeyTab)
	tt.typeText(testPassword)
	tt.key(tea.KeyEnter)
	tt.wantView("Too many failed logins")
}

func TestTUI_Cart(t *testing.T) {
	f := newFakeStore(t)
	tt := newTUI(t, f, t.TempDir())
	tt.logIn(testPassword)

	// Add the second product twice and the first once.
	tt.key(tea.KeyDown)
	tt.typeText("a")
	tt.key(tea.KeyEnter)
	tt.key(tea.KeyUp)
	tt.typeText("a")
	tt.wantView("Added Coffee mug.", "2 × T-shirt", "50.00", "1 × Coffee mug", "Total", "62.00")
	if got := f.cart(testLogin).TotalCents; got != 6200 {
		t.Errorf("backend's cart total %d, want 6200", got)
	}

	// In the cart, d removes one of the selected line (the first:
	// T-shirt), a adds one more, and x removes the whole line.
	tt.key(tea.KeyTab)
	tt.typeText("d")
	tt.wantView("Removed one T-shirt.", "1 × T-shirt", "1 × Coffee mug", "37.00")
	if got := f.cart(testLogin).TotalCents; got != 3700 {
		t.Errorf("after d, the backend's cart total %d, want 3700", got)
	}
	tt.typeText("a")
	tt.wantView("Added T-shirt.", "2 × T-shirt", "62.00")
	if got := f.cart(testLogin).TotalCents; got != 6200 {
		t.Errorf("after a in the cart, the backend's cart total %d, want 6200", got)
	}
	tt.typeText("x")
	tt.wantView("Removed T-shirt.", "1 × Coffee mug", "12.00")
	if strings.Contains(tt.m.View(), "× T-shirt") {
		t.Errorf("T-shirt still in the cart:\n%s", tt.m.View())
	}
	// d on a line of one removes the line.
	tt.typeText("d")
	tt.wantView("Removed one Coffee mug.", "(empty)")
	tt.typeText("a") // nothing selected in an empty cart: nothing happens
	tt.wantView("(empty)")

	// Reload shows what another device changed.
	f.mu.Lock()
	f.carts[testLogin] = nil
	f.mu.Unlock()
	tt.typeText("r")
	tt.wantView("(empty)")

	// The session survives a restart of the app, which opens on the shop.
	tt.key(tea.KeyShiftTab)
	tt.typeText("a")
	restarted := newTUI(t, f, tt.state)
	if restarted.m.screen != screenShop {
		t.Fatalf("after a restart: screen %d", restarted.m.screen)
	}
	restarted.wantView(testLogin, "Coffee mug", "1 × Coffee mug")
	restarted.typeText("q")
	if !restarted.quit {
		t.Error("q did not quit")
	}
}

// The article's steps 13-17: the backend ends the session, the SDK calls
// OnLoginRequired, and the app shows the login form with a message.
func TestTUI_LoginRequired(t *testing.T) {
	f := newFakeStore(t)
	tt := newTUI(t, f, t.TempDir())
	tt.logIn(testPassword)
	tt.typeText("a")

	f.expireJWTs()
	f.revoke(testLogin)
	var hooked int
	tt.app.setLoginRequiredHook(func() { hooked++; tt.hook <- loginRequiredMsg{} })
	tt.typeText("r")
	if hooked != 1 {
		t.Errorf("OnLoginRequired called %d times, want 1", hooked)
	}
	if tt.m.screen != screenLogin {
		t.Fatalf("after the session ended: screen %d", tt.m.screen)
	}
	tt.wantView(noticeSessionEnded, testLogin)
	// The login id is kept and the password field focused, empty.
	if !tt.m.password.Focused() || tt.m.password.Value() != "" || tt.m.loginID.Value() != testLogin {
		t.Errorf("login form: id %q, password focused %v", tt.m.loginID.Value(), tt.m.password.Focused())
	}
	if s, _ := tt.app.Session(context.Background(), false); s.LoggedIn {
		t.Error("the app still holds a session")
	}

	// Back to step 2.
	tt.typeText(testPassword)
	tt.key(tea.KeyEnter)
	if tt.m.screen != screenShop {
		t.Fatalf("after logging in again: screen %d", tt.m.screen)
	}
	tt.wantView("Coffee mug")
	if strings.Contains(tt.m.View(), noticeSessionEnded) {
		t.Error("the notice outlived the new login")
	}

	// The message alone (as the program delivers it) does the same.
	tt.send(loginRequiredMsg{})
	if tt.m.screen != screenLogin {
		t.Fatalf("loginRequiredMsg: screen %d", tt.m.screen)
	}
	tt.wantView(noticeSessionEnded)
}

func TestTUI_Logout(t *testing.T) {
	f := newFakeStore(t)
	tt := newTUI(t, f, t.TempDir())
	tt.logIn(testPassword)
	tt.typeText("l")
	if tt.m.screen != screenLogin {
		t.Fatalf("after log out: screen %d", tt.m.screen)
	}
	tt.wantView(noticeLoggedOut)
	if n := len(f.liveRefreshTokens()); n != 0 {
		t.Errorf("the backend holds %d refresh tokens after log out", n)
	}

	other := newDevice(t, f)
	other.login()
	tt.typeText(testPassword)
	tt.key(tea.KeyEnter)
	tt.typeText("L")
	tt.wantView(noticeLoggedOutAll)
	other.mustRun(exitLoginRequired, "cart")
	if s, _ := tt.app.Session(context.Background(), false); s.LoggedIn {
		t.Error("the app still holds a session")
	}
}

func TestTUI_UnreadableSession(t *testing.T) {
	f := newFakeStore(t)
	state := t.TempDir()
	newDevice(t, f).login() // another device; this one's file is garbage
	a, err := newApp(config{Backend: f.srv.URL, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(client.FileStoreFor(state, a.backend).Path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	tt := newTUI(t, f, state)
	if tt.m.screen != screenLogin {
		t.Fatalf("screen %d", tt.m.screen)
	}
	tt.wantView("cannot be read")
	tt.logIn(testPassword)
	if tt.m.screen != screenShop {
		t.Fatalf("after logging in: screen %d\n%s", tt.m.screen, tt.m.View())
	}
}
