package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/latchid/latch/client"
)

// The steps of the settings screen.
const (
	settingsOverview  = iota // whether two-factor is on; e enables, d disables
	settingsEnrol            // the QR code and the secret; the code confirms
	settingsDisable          // a code (or a recovery code) turns it off
	settingsRecovered        // the recovery codes, shown once
)

// Messages of the two-factor commands.
type (
	// twoFactorStatusMsg says whether the user has a second factor.
	twoFactorStatusMsg struct {
		enabled bool
		err     error
	}
	// enrolmentMsg carries a new secret and its QR code.
	enrolmentMsg struct {
		enrolment client.TwoFactorEnrolment
		qr        string
		err       error
	}
	// enabledMsg carries the recovery codes of an enabled authenticator.
	enabledMsg struct {
		codes []string
		err   error
	}
	// disabledMsg is the outcome of turning two-factor off.
	disabledMsg struct{ err error }
)

// newCodeInput is the field for a second factor's code.
func newCodeInput() textinput.Model {
	in := textinput.New()
	in.Prompt = "Code     "
	in.Placeholder = "123456"
	in.CharLimit = 64
	return in
}

// toCode shows the code field of a login that awaits its second factor.
func (m model) toCode() (tea.Model, tea.Cmd) {
	m.screen, m.notice, m.err = screenCode, "Enter the code of your authenticator app (or a recovery code).", ""
	m.trust = false
	m.code.Reset()
	m.loginID.Blur()
	m.password.Blur()
	return m, m.code.Focus()
}

// updateCode handles keys on the code screen: enter sends the code,
// ctrl+t toggles "trust this device", esc goes back to the login form.
func (m model) updateCode(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "esc":
		m.code.Blur()
		return m.toLogin("")
	case "ctrl+t":
		m.trust = !m.trust
		return m, nil
	case "enter":
		if m.pending > 0 {
			return m, nil
		}
		code := strings.TrimSpace(m.code.Value())
		if code == "" {
			m.err = "Enter the code."
			return m, nil
		}
		m.err, m.notice = "", "Checking the code…"
		m.pending++
		return m, m.completeTwoFactor(code, m.trust)
	}
	var cmd tea.Cmd
	m.code, cmd = m.code.Update(k)
	return m, cmd
}

// codeDone handles the outcome of the second step: a wrong code keeps
// the code screen, an expired login goes back to the form.
func (m model) codeDone(msg loginDoneMsg) (tea.Model, tea.Cmd) {
	m.code.Reset()
	switch {
	case errors.Is(msg.err, errBadCode):
		m.err = "Wrong code. Try again."
		return m, nil
	case errors.Is(msg.err, errTwoFactorExpired):
		mm, cmd := m.toLogin("The login expired. Please log in again.")
		return mm, cmd
	}
	m.err = describeError(msg.err) // a lockout, the network: the code may be tried again
	return m, nil
}

func (m model) completeTwoFactor(code string, trust bool) tea.Cmd {
	return func() tea.Msg {
		u, err := m.app.CompleteTwoFactor(m.ctx, code, trust)
		if err != nil {
			return loginDoneMsg{err: err, secondStep: true}
		}
		return loginDoneMsg{user: firstNonEmpty(u.Email, u.Username, m.loginID.Value()), secondStep: true}
	}
}

// toSettings opens the settings screen and asks whether two-factor is on.
func (m model) toSettings() (tea.Model, tea.Cmd) {
	m.screen, m.step, m.notice, m.err = screenSettings, settingsOverview, "", ""
	m.enrolment, m.qr, m.recovery, m.twoFactorKnown = client.TwoFactorEnrolment{}, "", nil, false
	m.pending++
	return m, m.loadTwoFactorStatus()
}

// updateSettings handles keys on the settings screen.
func (m model) updateSettings(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	key := k.String()
	if key == "esc" || (key == "q" && m.step != settingsEnrol && m.step != settingsDisable) {
		if m.step == settingsOverview || m.step == settingsRecovered {
			m.screen, m.notice, m.err = screenShop, "", ""
			m.code.Blur()
			return m, nil
		}
		return m.toSettings()
	}
	if m.pending > 0 {
		return m, nil
	}
	switch m.step {
	case settingsOverview:
		switch key {
		case "e":
			if m.twoFactorKnown && !m.twoFactorOn {
				m.pending++
				m.notice, m.err = "", ""
				return m, m.startEnrolment()
			}
		case "d":
			if m.twoFactorKnown && m.twoFactorOn {
				m.step, m.notice, m.err = settingsDisable, "Enter a code of your authenticator app, or a recovery code.", ""
				m.code.Reset()
				return m, m.code.Focus()
			}
		}
		return m, nil
	case settingsRecovered:
		return m, nil
	}
	if key == "enter" {
		code := strings.TrimSpace(m.code.Value())
		if code == "" {
			m.err = "Enter the code."
			return m, nil
		}
		m.err = ""
		m.pending++
		if m.step == settingsEnrol {
			return m, m.enable(m.enrolment.Secret, code)
		}
		return m, m.disable(code)
	}
	var cmd tea.Cmd
	m.code, cmd = m.code.Update(k)
	return m, cmd
}

// updateTwoFactor handles the outcomes of the settings' requests.
func (m model) updateTwoFactor(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.done()
	var err error
	switch msg := msg.(type) {
	case twoFactorStatusMsg:
		if err = msg.err; err == nil {
			m.twoFactorKnown, m.twoFactorOn = true, msg.enabled
		}
	case enrolmentMsg:
		if err = msg.err; err == nil {
			m.step, m.enrolment, m.qr = settingsEnrol, msg.enrolment, msg.qr
			m.notice = "Scan the QR code with your authenticator app, then enter the code it shows."
			m.code.Reset()
			return m, m.code.Focus()
		}
	case enabledMsg:
		m.code.Reset()
		if err = msg.err; err == nil {
			m.step, m.recovery, m.qr, m.twoFactorOn = settingsRecovered, msg.codes, "", true
			m.notice = "Two-factor authentication is on."
			m.code.Blur()
		}
	case disabledMsg:
		m.code.Reset()
		if err = msg.err; err == nil {
			m.step, m.twoFactorOn = settingsOverview, false
			m.notice = "Two-factor authentication is off."
			m.code.Blur()
		}
	}
	switch {
	case err == nil:
	case isLoginRequired(err):
		return m.toLogin(noticeSessionEnded)
	case errors.Is(err, errBadCode):
		m.err = "Wrong code. Try again."
	default:
		m.err = describeError(err)
	}
	return m, nil
}

func (m model) loadTwoFactorStatus() tea.Cmd {
	return func() tea.Msg {
		on, err := m.app.TwoFactorStatus(m.ctx)
		return twoFactorStatusMsg{enabled: on, err: err}
	}
}

func (m model) startEnrolment() tea.Cmd {
	return func() tea.Msg {
		e, err := m.app.StartEnrolment(m.ctx)
		if err != nil {
			return enrolmentMsg{err: err}
		}
		qr, err := qrText(e.URI, true)
		return enrolmentMsg{enrolment: e, qr: qr, err: err}
	}
}

func (m model) enable(secret, code string) tea.Cmd {
	return func() tea.Msg {
		codes, err := m.app.EnableTwoFactor(m.ctx, secret, code)
		return enabledMsg{codes: codes, err: err}
	}
}

func (m model) disable(code string) tea.Cmd {
	return func() tea.Msg {
		return disabledMsg{err: m.app.DisableTwoFactor(m.ctx, code)}
	}
}

func (m model) viewCode(b *strings.Builder) {
	fmt.Fprintln(b, titleStyle.Render("Latch Store"))
	fmt.Fprintln(b, "Second factor")
	fmt.Fprintln(b)
	fmt.Fprintln(b, m.code.View())
	box := "[ ]"
	if m.trust {
		box = "[x]"
	}
	fmt.Fprintln(b, box+" Trust this device (ask for no code here again)")
	fmt.Fprintln(b)
	m.viewStatus(b)
	fmt.Fprint(b, helpStyle.Render("enter log in · ctrl+t trust this device · esc back"))
}

func (m model) viewSettings(b *strings.Builder) {
	fmt.Fprintln(b, titleStyle.Render("Latch Store")+"  "+helpStyle.Render(m.user))
	fmt.Fprintln(b, headingStyle.Render("Settings: two-factor authentication"))
	fmt.Fprintln(b)
	help := "esc back"
	switch m.step {
	case settingsOverview:
		switch {
		case !m.twoFactorKnown:
			fmt.Fprintln(b, "Status: …")
		case m.twoFactorOn:
			fmt.Fprintln(b, "Status: on (authenticator app)")
			help = "d turn off · esc back"
		default:
			fmt.Fprintln(b, "Status: off")
			help = "e set up an authenticator app · esc back"
		}
	case settingsEnrol:
		fmt.Fprint(b, m.qr)
		fmt.Fprintln(b, "Secret: "+m.enrolment.Secret)
		fmt.Fprintln(b)
		fmt.Fprintln(b, m.code.View())
		help = "enter confirm · esc cancel"
	case settingsDisable:
		fmt.Fprintln(b, m.code.View())
		help = "enter turn off · esc cancel"
	case settingsRecovered:
		fmt.Fprintln(b, "Recovery codes: each logs you in once without the app.")
		fmt.Fprintln(b, "They are shown this once: write them down now.")
		fmt.Fprintln(b)
		for _, c := range m.recovery {
			fmt.Fprintln(b, "  "+c)
		}
	}
	fmt.Fprintln(b)
	m.viewStatus(b)
	fmt.Fprint(b, helpStyle.Render(help))
}
