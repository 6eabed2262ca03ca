package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/latchid/latch/client"
)

// cmdUI runs the app in the terminal.
func cmdUI(ctx context.Context, inv *invocation) error {
	if err := inv.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	if !isTerminal(inv.stdin) {
		return usagef("the app needs a terminal on stdin; use a command instead")
	}
	p := tea.NewProgram(newModel(ctx, inv.app), tea.WithContext(ctx), tea.WithInput(inv.stdin), tea.WithOutput(inv.stdout), tea.WithAltScreen())
	// The SDK calls OnLoginRequired from a request's goroutine: post a
	// message, which the program handles on its own goroutine.
	inv.app.setLoginRequiredHook(func() { p.Send(loginRequiredMsg{}) })
	defer inv.app.setLoginRequiredHook(nil)
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted
	}
	return err
}

// screen is what the app shows.
type screen int

const (
	screenLogin    screen = iota // the login form (article step 1)
	screenShop                   // the products and the cart
	screenCode                   // the second factor's code, after the password
	screenSettings               // two-factor authentication: on, off, set up
)

// Panes of the shop screen.
const (
	paneProducts = iota
	paneCart
)

// Messages the model's commands answer with.
type (
	// loginDoneMsg is the outcome of a login.
	loginDoneMsg struct {
		user       string
		err        error
		secondStep bool // the outcome of the code, not of the password
	}
	// productsMsg carries the product list.
	productsMsg struct {
		products []Product
		err      error
	}
	// cartMsg carries the cart, after loading or changing it.
	cartMsg struct {
		cart Cart
		note string // what changed, for the status line
		err  error
	}
	// logoutDoneMsg is the outcome of a logout.
	logoutDoneMsg struct {
		everywhere bool
		err        error
	}
	// loginRequiredMsg: the SDK's OnLoginRequired fired; the backend ended
	// the session (the article's steps 13-17).
	loginRequiredMsg struct{}
)

// Messages shown above the login form.
const (
	noticeSessionEnded = "Your session has ended. Please log in again."
	noticeLoggedOut    = "You are logged out."
	noticeLoggedOutAll = "You are logged out on every device."
)

// model is the terminal app: a bubbletea model over an app.
type model struct {
	ctx context.Context
	app *app

	screen   screen
	loginID  textinput.Model
	password textinput.Model
	user     string // who is logged in
	code     textinput.Model
	trust    bool // trust this device, with the code

	step           int // settings*
	twoFactorKnown bool
	twoFactorOn    bool
	enrolment      client.TwoFactorEnrolment
	qr             string   // the enrolment's QR code, drawn
	recovery       []string // the recovery codes, shown once

	products []Product
	cart     Cart
	pane     int    // paneProducts or paneCart
	cursor   [2]int // selected line of each pane

	pending int    // requests in flight; actions wait for them
	notice  string // an informational line
	err     string // an error line
}

// newModel opens the app: the products and the cart when a session is
// stored, or else the login form.
func newModel(ctx context.Context, a *app) model {
	m := model{ctx: ctx, app: a}
	m.loginID = textinput.New()
	m.loginID.Prompt = "Email    "
	m.loginID.Placeholder = "you@example.org"
	m.loginID.CharLimit = 256
	m.password = textinput.New()
	m.password.Prompt = "Password "
	m.password.EchoMode = textinput.EchoPassword
	m.password.EchoCharacter = '•'
	m.password.CharLimit = 256
	m.code = newCodeInput()
	s, err := a.Session(ctx, false)
	if err != nil {
		m.err = err.Error() // the login form replaces the unreadable session
	}
	if s.LoggedIn {
		m.screen, m.user = screenShop, s.User
		m.pending = 2 // Init loads the products and the cart
	} else {
		m.loginID.Focus()
	}
	return m
}

// Init starts loading the shop when the app opens on it.
func (m model) Init() tea.Cmd {
	if m.screen == screenShop {
		return tea.Batch(m.loadProducts(), m.loadCart())
	}
	return textinput.Blink
}

// Update handles keys and the outcomes of requests.
func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if msg.String() == "ctrl+c" {
			return m, tea.Quit
		}
		switch m.screen {
		case screenLogin:
			return m.updateLogin(msg)
		case screenCode:
			return m.updateCode(msg)
		case screenSettings:
			return m.updateSettings(msg)
		}
		return m.updateShop(msg)

	case twoFactorStatusMsg, enrolmentMsg, enabledMsg, disabledMsg:
		if m.screen != screenSettings {
			m.done()
			return m, nil
		}
		return m.updateTwoFactor(msg)

	case loginRequiredMsg:
		return m.toLogin(noticeSessionEnded)

	case loginDoneMsg:
		m.done()
		if tf := (*client.TwoFactorRequiredError)(nil); errors.As(msg.err, &tf) {
			m.password.Reset()
			return m.toCode()
		}
		if msg.err != nil && msg.secondStep {
			return m.codeDone(msg)
		}
		if msg.err != nil {
			m.password.Reset()
			m.err = describeError(msg.err)
			return m, nil
		}
		m.code.Reset()
		m.code.Blur()
		m.screen, m.user = screenShop, msg.user
		m.password.Reset()
		m.password.Blur()
		m.notice, m.err = "", ""
		m.products, m.cart, m.pane, m.cursor = nil, Cart{}, paneProducts, [2]int{}
		m.pending += 2
		return m, tea.Batch(m.loadProducts(), m.loadCart())

	case productsMsg:
		m.done()
		if isLoginRequired(msg.err) {
			return m.toLogin(noticeSessionEnded)
		}
		if m.screen != screenShop {
			return m, nil
		}
		if msg.err != nil {
			m.err = describeError(msg.err)
			return m, nil
		}
		m.products = msg.products
		m.clampCursors()
		return m, nil

	case cartMsg:
		m.done()
		if isLoginRequired(msg.err) {
			return m.toLogin(noticeSessionEnded)
		}
		if m.screen != screenShop {
			return m, nil
		}
		if msg.err != nil {
			if pb := (*putBackError)(nil); errors.As(msg.err, &pb) {
				m.setCart(msg.cart) // the line is gone: show it so
			}
			m.err = describeError(msg.err)
			return m, nil
		}
		m.setCart(msg.cart)
		m.notice, m.err = msg.note, ""
		return m, nil

	case logoutDoneMsg:
		m.done()
		notice := noticeLoggedOut
		if msg.everywhere {
			notice = noticeLoggedOutAll
		}
		m2, cmd := m.toLogin(notice)
		if msg.err != nil {
			mm := m2.(model)
			mm.err = "The backend did not confirm: " + describeError(msg.err)
			return mm, cmd
		}
		return m2, cmd
	}

	// Anything else (cursor blinks) goes to the focused field.
	return m.updateInputs(msg)
}

func (m *model) done() {
	if m.pending > 0 {
		m.pending--
	}
}

// toLogin shows the login form with a notice, keeping the login id.
func (m model) toLogin(notice string) (tea.Model, tea.Cmd) {
	if m.screen == screenLogin && m.notice == notice {
		return m, nil // already there (the SDK's hook and a 401 both say so)
	}
	m.screen, m.notice, m.err = screenLogin, notice, ""
	m.products, m.cart = nil, Cart{}
	m.code.Reset()
	m.code.Blur()
	m.recovery, m.qr = nil, ""
	m.password.Reset()
	if m.loginID.Value() == "" && m.user != "" {
		m.loginID.SetValue(m.user)
	}
	if m.loginID.Value() == "" {
		m.password.Blur()
		return m, m.loginID.Focus()
	}
	m.loginID.Blur()
	return m, m.password.Focus()
}

func (m model) updateLogin(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "esc":
		return m, tea.Quit
	case "tab", "shift+tab", "up", "down":
		return m.switchField()
	case "enter":
		if m.pending > 0 {
			return m, nil
		}
		if m.loginID.Focused() && m.password.Value() == "" {
			return m.switchField()
		}
		loginID, password := strings.TrimSpace(m.loginID.Value()), m.password.Value()
		if loginID == "" || password == "" {
			m.err = "Enter your email and your password."
			return m, nil
		}
		m.err, m.notice = "", "Logging in…"
		m.pending++
		return m, m.login(loginID, password)
	}
	return m.updateInputs(k)
}

func (m model) switchField() (tea.Model, tea.Cmd) {
	if m.loginID.Focused() {
		m.loginID.Blur()
		return m, m.password.Focus()
	}
	m.password.Blur()
	return m, m.loginID.Focus()
}

func (m model) updateInputs(msg tea.Msg) (tea.Model, tea.Cmd) {
	var c1, c2 tea.Cmd
	m.loginID, c1 = m.loginID.Update(msg)
	m.password, c2 = m.password.Update(msg)
	return m, tea.Batch(c1, c2)
}

func (m model) updateShop(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "q", "esc":
		return m, tea.Quit
	case "tab", "shift+tab", "left", "right":
		m.pane = 1 - m.pane
		return m, nil
	case "up", "k":
		m.cursor[m.pane]--
		m.clampCursors()
		return m, nil
	case "down", "j":
		m.cursor[m.pane]++
		m.clampCursors()
		return m, nil
	}
	if m.pending > 0 {
		return m, nil // one action at a time
	}
	switch k.String() {
	case "a", "enter", "+":
		// One of the selected product, or one more of the selected line.
		switch {
		case m.pane == paneProducts && len(m.products) > 0:
			p := m.products[m.cursor[paneProducts]]
			m.pending++
			return m, m.add(p)
		case m.pane == paneCart && len(m.cart.Items) > 0:
			it := m.cart.Items[m.cursor[paneCart]]
			m.pending++
			return m, m.add(Product{SKU: it.SKU, Name: it.Name, PriceCents: it.PriceCents})
		}
	case "d", "-":
		if m.pane == paneCart && len(m.cart.Items) > 0 {
			it := m.cart.Items[m.cursor[paneCart]]
			m.pending++
			return m, m.removeOne(it)
		}
	case "x", "delete", "backspace":
		if m.pane == paneCart && len(m.cart.Items) > 0 {
			it := m.cart.Items[m.cursor[paneCart]]
			m.pending++
			return m, m.remove(it)
		}
	case "r":
		m.notice, m.err = "", ""
		m.pending += 2
		return m, tea.Batch(m.loadProducts(), m.loadCart())
	case "l":
		m.pending++
		return m, m.logout(false)
	case "L":
		m.pending++
		return m, m.logout(true)
	case "s":
		return m.toSettings()
	}
	return m, nil
}

// setCart shows c, the cursor staying on the product it was on: removing
// one of a line puts the line back at the end of the cart.
func (m *model) setCart(c Cart) {
	selected := ""
	if i := m.cursor[paneCart]; i >= 0 && i < len(m.cart.Items) {
		selected = m.cart.Items[i].SKU
	}
	m.cart = c
	for i, it := range c.Items {
		if it.SKU == selected {
			m.cursor[paneCart] = i
		}
	}
	m.clampCursors()
}

func (m *model) clampCursors() {
	for pane, n := range [2]int{len(m.products), len(m.cart.Items)} {
		m.cursor[pane] = max(0, min(m.cursor[pane], n-1))
	}
}

// Commands: each runs one backend call on its own goroutine.

func (m model) login(loginID, password string) tea.Cmd {
	return func() tea.Msg {
		u, err := m.app.Login(m.ctx, loginID, password)
		if err != nil {
			return loginDoneMsg{err: err}
		}
		return loginDoneMsg{user: firstNonEmpty(u.Email, u.Username, loginID)}
	}
}

func (m model) loadProducts() tea.Cmd {
	return func() tea.Msg {
		ps, err := m.app.Products(m.ctx)
		return productsMsg{products: ps, err: err}
	}
}

func (m model) loadCart() tea.Cmd {
	return func() tea.Msg {
		c, err := m.app.Cart(m.ctx)
		return cartMsg{cart: c, err: err}
	}
}

func (m model) add(p Product) tea.Cmd {
	return func() tea.Msg {
		c, err := m.app.Add(m.ctx, p.SKU, 1)
		return cartMsg{cart: c, note: "Added " + p.Name + ".", err: err}
	}
}

func (m model) removeOne(it CartItem) tea.Cmd {
	return func() tea.Msg {
		c, err := m.app.RemoveOne(m.ctx, it.SKU)
		return cartMsg{cart: c, note: "Removed one " + it.Name + ".", err: err}
	}
}

func (m model) remove(it CartItem) tea.Cmd {
	return func() tea.Msg {
		c, err := m.app.Remove(m.ctx, it.SKU)
		return cartMsg{cart: c, note: "Removed " + it.Name + ".", err: err}
	}
}

func (m model) logout(everywhere bool) tea.Cmd {
	return func() tea.Msg {
		return logoutDoneMsg{everywhere: everywhere, err: m.app.Logout(m.ctx, everywhere)}
	}
}

// describeError turns an error into a line for the user.
func describeError(err error) string {
	var apiErr *client.APIError
	switch {
	case errors.Is(err, errBadCredentials):
		return "Wrong email or password."
	case errors.Is(err, errBadCode):
		return "Wrong code."
	case errors.As(err, new(*putBackError)):
		return err.Error()
	case errors.As(err, &apiErr) && apiErr.Message != "":
		return apiErr.Message
	}
	return err.Error()
}

// Styles.
var (
	titleStyle    = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12"))
	headingStyle  = lipgloss.NewStyle().Bold(true).Underline(true)
	activeHeading = headingStyle.Foreground(lipgloss.Color("12"))
	selectedStyle = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12"))
	noticeStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("11"))
	errorStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("9"))
	helpStyle     = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	paneStyle     = lipgloss.NewStyle().PaddingRight(4)
	frameStyle    = lipgloss.NewStyle().Padding(1, 2)
)

// View renders the current screen.
func (m model) View() string {
	var b strings.Builder
	switch m.screen {
	case screenLogin:
		m.viewLogin(&b)
	case screenCode:
		m.viewCode(&b)
	case screenSettings:
		m.viewSettings(&b)
	default:
		m.viewShop(&b)
	}
	return frameStyle.Render(b.String())
}

func (m model) viewLogin(b *strings.Builder) {
	fmt.Fprintln(b, titleStyle.Render("Latch Store"))
	fmt.Fprintln(b, "Log in to your account")
	fmt.Fprintln(b)
	fmt.Fprintln(b, m.loginID.View())
	fmt.Fprintln(b, m.password.View())
	fmt.Fprintln(b)
	m.viewStatus(b)
	fmt.Fprint(b, helpStyle.Render("enter log in · tab next field · esc quit"))
}

func (m model) viewShop(b *strings.Builder) {
	fmt.Fprintln(b, titleStyle.Render("Latch Store")+"  "+helpStyle.Render(m.user))
	fmt.Fprintln(b)

	var left strings.Builder
	fmt.Fprintln(&left, m.heading(paneProducts, "Products"))
	if len(m.products) == 0 {
		fmt.Fprintln(&left, helpStyle.Render("(none)"))
	}
	for i, p := range m.products {
		m.line(&left, paneProducts, i, fmt.Sprintf("%-24s %8s", truncate(p.Name, 24), formatCents(p.PriceCents)))
	}

	var right strings.Builder
	fmt.Fprintln(&right, m.heading(paneCart, "Cart"))
	if len(m.cart.Items) == 0 {
		fmt.Fprintln(&right, helpStyle.Render("(empty)"))
	}
	for i, it := range m.cart.Items {
		m.line(&right, paneCart, i, fmt.Sprintf("%3d × %-20s %8s", it.Quantity, truncate(it.Name, 20), formatCents(it.PriceCents*int64(it.Quantity))))
	}
	fmt.Fprintf(&right, "        %-20s %8s\n", "Total", formatCents(m.cart.TotalCents))

	fmt.Fprintln(b, lipgloss.JoinHorizontal(lipgloss.Top, paneStyle.Render(left.String()), right.String()))
	m.viewStatus(b)
	fmt.Fprint(b, helpStyle.Render("↑/↓ select · tab switch list · a add one · d remove one · x remove line · r reload · s settings · l log out · L everywhere · q quit"))
}

func (m model) heading(pane int, title string) string {
	if m.pane == pane {
		return activeHeading.Render(title)
	}
	return headingStyle.Render(title)
}

func (m model) line(w io.Writer, pane, i int, text string) {
	if m.pane == pane && m.cursor[pane] == i {
		fmt.Fprintln(w, selectedStyle.Render("› "+text))
		return
	}
	fmt.Fprintln(w, "  "+text)
}

func (m model) viewStatus(b *strings.Builder) {
	switch {
	case m.err != "":
		fmt.Fprintln(b, errorStyle.Render(m.err))
	case m.pending > 0 && (m.screen == screenShop || m.screen == screenSettings):
		fmt.Fprintln(b, noticeStyle.Render("Working…"))
	case m.notice != "":
		fmt.Fprintln(b, noticeStyle.Render(m.notice))
	}
	fmt.Fprintln(b)
}

// truncate shortens s to n runes, with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
