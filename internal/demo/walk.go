package demo

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/storefront"
)

// Scene is one part of the walk: a section of the article, or of Latch's
// answers to its attack vectors. Run walks the scenes in order on one
// Walk, so a scene starts where the one before it left the app.
type Scene struct {
	// Title is printed as the scene's heading.
	Title string
	// Steps are the article's steps the scene walks, such as "9-12"; a
	// failure that names no step of its own is reported as theirs.
	Steps string
	// Run walks the scene, printing through the Walk's methods and
	// returning a *StepError (from Walk.Fail) when a step misbehaves.
	Run func(ctx context.Context, w *Walk) error
}

// StepError reports a step that did not behave as the article describes.
type StepError struct {
	// Step is the step's number as printed, such as "10" or "2-5".
	Step string
	// Scene is the title of the scene it belongs to.
	Scene string
	// Err says what happened instead.
	Err error
}

// Error names the step, its scene and what went wrong.
func (e *StepError) Error() string {
	return fmt.Sprintf("step %s (%s): %v", e.Step, e.Scene, e.Err)
}

// Unwrap returns Err.
func (e *StepError) Unwrap() error { return e.Err }

// Result describes a walk that ran.
type Result struct {
	// Steps are the step numbers of the lines printed (in quiet mode too),
	// in order: "1", "2", ..., and "2-5" or "9-12" for a repeat shown on
	// one line.
	Steps []string
	// Dir is the data directory, when Options.Keep kept it.
	Dir string
}

// App is one device running the app: a client.Client whose requests to
// the storefront a Recorder observes.
type App struct {
	// Name is the device's name in the printed lines ("Mobile").
	Name string
	// Client is the app's SDK, with its tokens in memory.
	Client *client.Client
	// Calls records the app's requests to the storefront.
	Calls *Recorder

	loginRequired atomic.Int32
}

// LoginRequired returns how many times the client called OnLoginRequired.
func (a *App) LoginRequired() int { return int(a.loginRequired.Load()) }

// Walk is the state the scenes share: the system, the app, the attacker,
// and the printer.
type Walk struct {
	*Env
	// Mobile is the article's app.
	Mobile *App
	// Attacker sends requests to the storefront with stolen tokens, in raw
	// net/http; AttackerCalls records them.
	Attacker      *http.Client
	AttackerCalls *Recorder
	// User is the user of the latest login.
	User *api.User
	// TOTPSecret is the secret of the user's authenticator app (base32)
	// while it is on; "" while it is off. A secret: never print it.
	TOTPSecret string

	delivered []Exchange // Latch's webhook deliveries not yet shown
	opts      Options
	scene     string
	lines     []string // the scene's lines, for a quiet walk's failure
	steps     []string
}

// Run starts the system (Start), walks Scenes and then Options.Extra,
// printing each step to Options.Out, and stops the system. It returns a
// *StepError (wrapped) for the first step that misbehaves.
func Run(ctx context.Context, opts Options) (*Result, error) {
	env, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	w := &Walk{Env: env, opts: opts}
	res, err := w.run(ctx)
	if cerr := env.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("demo: stop: %w", cerr)
	}
	if opts.Keep {
		w.printAlways(fmt.Sprintf("Data kept in %s (latch/, storefront/, kickstart.json); an API key for it: latch apikey create --data %s",
			env.Dir, filepath.Join(env.Dir, "latch")), 2)
	}
	return res, err
}

func (w *Walk) run(ctx context.Context) (*Result, error) {
	res := &Result{}
	if w.opts.Keep {
		res.Dir = w.Dir
	}
	w.Mobile = w.NewApp("Mobile")
	w.AttackerCalls = &Recorder{Next: w.transport}
	w.Attacker = &http.Client{Transport: w.AttackerCalls, Timeout: 10 * time.Second}
	w.printSetup(w.LatchCalls.Take()) // the storefront's look-up of Latch's issuer, and its webhook
	start := w.Clock.Now()
	scenes := append(Scenes(), w.opts.Extra...)
	for _, sc := range scenes {
		if err := w.runScene(ctx, sc); err != nil {
			res.Steps = w.steps
			return res, err
		}
	}
	res.Steps = w.steps
	w.println("", 0)
	w.printAlways(fmt.Sprintf("All %d scenes behaved as described, in %s of the demo's clock.", len(scenes), human(w.Clock.Now().Sub(start))), 0)
	return res, nil
}

// runScene runs one scene under its heading.
func (w *Walk) runScene(ctx context.Context, sc Scene) error {
	w.scene = sc.Title
	w.println("", 0)
	w.lines = nil
	w.println(heading(sc.Title, sc.Steps, w.opts.Width), 3)
	err := sc.Run(ctx, w)
	if err == nil {
		return nil
	}
	var se *StepError
	if !errors.As(err, &se) {
		se = &StepError{Step: sc.Steps, Scene: sc.Title, Err: err}
	}
	if w.opts.Quiet && w.opts.Out != nil {
		for _, l := range w.lines {
			fmt.Fprintln(w.opts.Out, l)
		}
	}
	w.printAlways(fmt.Sprintf("%4s  ✗ FAILED: %v", se.Step, se.Err), 16)
	return fmt.Errorf("demo: %w", se)
}

// printSetup prints what Start set up; setup are the storefront's calls to
// Latch as it opened.
func (w *Walk) printSetup(setup []Exchange) {
	w.println("Latch demo: FusionAuth's \"Mobile login to backend with JWTs and refresh tokens\", step by step", 12)
	w.println("", 0)
	w.println(fmt.Sprintf("      Identity  Latch at %s, kickstarted: application %q (role %s), user %s", w.LatchURL, ApplicationName, Role, w.Email), 16)
	w.println(fmt.Sprintf("                JWT lifetime %s; refresh tokens one-time use (grace %s, reuse revokes the session), sliding window %s",
		human(JWTLifetime), human(GracePeriod), human(RefreshLifetime)), 16)
	w.println(fmt.Sprintf("      Store     the storefront at %s, verifying Identity's JWTs and the app's DPoP proofs with guard", w.StoreURL), 16)
	for _, x := range setup {
		if (x.Method == http.MethodPost || x.Method == http.MethodPut) && strings.HasPrefix(x.Path, "/api/webhook/") && x.Status == http.StatusOK {
			w.println(fmt.Sprintf("                registered its webhook at Identity (%s %s): %s%s for %s, signed",
				x.Method, "/api/webhook/{id}", w.StoreURL, storefront.EventsPath, api.EventJWTRefreshTokenRevoke), 16)
		}
	}
	w.println("      Mobile    the app, on the client SDK: a DPoP key made at its first login, a proof with every request", 16)
	w.println("      Clock     shared by Identity, Store and Mobile; it moves only when the demo advances it", 16)
}

// NewApp returns a new device running the app, logged out.
func (w *Walk) NewApp(name string) *App {
	var next http.RoundTripper = w.transport
	if w.opts.MobileTransport != nil {
		next = w.opts.MobileTransport(next)
	}
	a := &App{Name: name, Calls: &Recorder{Next: next}}
	a.Client = &client.Client{
		BaseURL:         w.StoreURL,
		HTTPClient:      &http.Client{Transport: a.Calls, Timeout: 10 * time.Second},
		Store:           new(client.MemoryStore),
		Now:             w.Clock.Now,
		OnLoginRequired: func() { a.loginRequired.Add(1) },
	}
	return a
}

// Fail returns a *StepError for step of the current scene.
func (w *Walk) Fail(step, format string, args ...any) error {
	return &StepError{Step: step, Scene: w.scene, Err: fmt.Errorf(format, args...)}
}

// Msg prints one message of the sequence diagram: from sends what (a
// request, or a response's status) to to, with a note.
func (w *Walk) Msg(step, from, to, what, note string) {
	w.step(step)
	// The note's column, when the width leaves it room; else the
	// column after the parties.
	indent := msgNoteColumn
	if w.opts.Width > 0 && w.opts.Width-indent < 40 {
		indent = actorTextColumn
	}
	w.println(strings.TrimRight(fmt.Sprintf("%4s  %-9s → %-9s %-27s %s", step, from, to, what, note), " "), indent)
}

// The columns where a Msg's note and a Say's text begin.
const (
	msgNoteColumn   = 4 + 2 + 9 + 3 + 9 + 1 + 27 + 1
	actorTextColumn = 4 + 2 + 9 + 3
)

// Say prints what actor does at step without a message.
func (w *Walk) Say(step, actor, format string, args ...any) {
	w.step(step)
	w.println(fmt.Sprintf("%4s  %-9s   %s", step, actor, fmt.Sprintf(format, args...)), actorTextColumn)
}

// Advance moves the shared clock forward by d and prints why.
func (w *Walk) Advance(d time.Duration, format string, args ...any) {
	w.Clock.Advance(d)
	w.println(fmt.Sprintf("      ⏱ +%-7s %s", human(d), fmt.Sprintf(format, args...)), 17)
}

func (w *Walk) step(s string) {
	if s != "" && (len(w.steps) == 0 || w.steps[len(w.steps)-1] != s) {
		w.steps = append(w.steps, s)
	}
}

// println prints s, wrapped at Options.Width with its continuations
// indented by indent, unless quiet; a quiet walk keeps the scene's lines
// for its failure.
func (w *Walk) println(s string, indent int) {
	for _, l := range wrap(s, w.opts.Width, indent) {
		w.lines = append(w.lines, l)
		if !w.opts.Quiet && w.opts.Out != nil {
			fmt.Fprintln(w.opts.Out, l)
		}
	}
}

// printAlways prints s, as println does, in quiet mode too.
func (w *Walk) printAlways(s string, indent int) {
	if w.opts.Out != nil {
		for _, l := range wrap(s, w.opts.Width, indent) {
			fmt.Fprintln(w.opts.Out, l)
		}
	}
}

// minWidth is the narrowest width wrap wraps at.
const minWidth = 40

// wrap breaks s into lines of at most width columns (one a rune), at the
// last space that fits, or within a word longer than a line; the lines
// after the first begin with indent spaces, less when the width leaves the
// text too little room. A width of 0 leaves s whole.
func wrap(s string, width, indent int) []string {
	r := []rune(s)
	if width <= 0 || len(r) <= width {
		return []string{s}
	}
	width = max(width, minWidth)
	if width-indent < minWidth/2 {
		indent = min(indent, 6)
	}
	var out []string
	for len(r) > width {
		cut, next := width, width // within a word, if no space fits
		for i := width; i > indent; i-- {
			if r[i] == ' ' {
				cut, next = i, i
				break
			}
		}
		for cut > 0 && r[cut-1] == ' ' {
			cut--
		}
		if cut == 0 { // only spaces before the break
			cut, next = width, width
		}
		for next < len(r) && r[next] == ' ' {
			next++
		}
		out = append(out, string(r[:cut]))
		if next == len(r) {
			return out
		}
		r = append([]rune(strings.Repeat(" ", indent)), r[next:]...)
	}
	return append(out, string(r))
}

// heading is a scene's title, ruled to width (100 columns when 0).
func heading(title, steps string, width int) string {
	h := "── " + title
	switch {
	case strings.Contains(steps, "-"):
		h += " (steps " + steps + ")"
	case steps != "":
		h += " (step " + steps + ")"
	}
	h += " "
	if width <= 0 {
		width = 100
	}
	if n := min(width, 100) - len([]rune(h)); n > 0 {
		h += strings.Repeat("─", n)
	}
	return h
}

// jwksCall is guard's fetch of Latch's key set. guard fetches it for the
// first JWT, and refetches it in the background when a token is checked
// more than 10 minutes (of the shared clock) after the last fetch, so it
// may land at any step after the clock moved.
const jwksCall = "GET /.well-known/jwks.json"

// catchUpCall is guard's catch-up on revocations at Latch (its webhook
// event log), which it makes for the first JWT after it started, and in
// the background once a minute (of the shared clock) while requests come,
// so it too may land at any step.
const catchUpCall = "POST /api/system/webhook-event-log/search"

// LatchCallsAre takes the storefront's calls to Latch since the last look
// and fails step unless, key-set fetches and catch-ups aside, they are
// exactly calls ("METHOD /path"), in order.
func (w *Walk) LatchCallsAre(step string, calls ...string) ([]Exchange, error) {
	var xs []Exchange
	for _, x := range w.LatchCalls.Take() {
		if (x.Call() != jwksCall && x.Call() != catchUpCall) || x.Status != http.StatusOK {
			xs = append(xs, x)
		}
	}
	got := make([]string, len(xs))
	for i, x := range xs {
		got[i] = x.Call()
	}
	if !slices.Equal(got, calls) {
		if len(calls) == 0 {
			return xs, w.Fail(step, "the Store called Identity (%s), want no call", strings.Join(got, ", "))
		}
		return xs, w.Fail(step, "the Store's calls to Identity were [%s], want [%s]", strings.Join(got, ", "), strings.Join(calls, ", "))
	}
	return xs, nil
}

// NoLatchCall takes the storefront's calls to Latch since the last look
// and fails step unless there was none at all, key-set fetches included.
func (w *Walk) NoLatchCall(step string) error {
	if xs := w.LatchCalls.Take(); len(xs) > 0 {
		return w.Fail(step, "the Store called Identity %s, want no call at all", calls(xs))
	}
	return nil
}

// Get sends GET path from app through its client (which attaches its
// tokens) and returns the one exchange on the wire.
func (w *Walk) Get(ctx context.Context, step string, app *App, path string) (Exchange, error) {
	return w.send(ctx, step, app, http.MethodGet, path, nil)
}

func (w *Walk) send(ctx context.Context, step string, app *App, method, path string, body any) (Exchange, error) {
	xs, err := w.sendAll(ctx, step, app, method, path, body)
	if err != nil {
		return Exchange{}, err
	}
	if len(xs) != 1 {
		calls := make([]string, len(xs))
		for i, x := range xs {
			calls[i] = fmt.Sprintf("%s %d", x.Call(), x.Status)
		}
		return Exchange{}, w.Fail(step, "%s sent %d requests for one %s %s (%s), want 1", app.Name, len(xs), method, path, strings.Join(calls, ", "))
	}
	return xs[0], nil
}

// sendAll sends method path from app through its client and returns every
// exchange the client made for it (a retry included).
func (w *Walk) sendAll(ctx context.Context, step string, app *App, method, path string, body any) ([]Exchange, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.StoreURL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := app.Client.HTTP().Do(req)
	if err != nil {
		app.Calls.Take()
		return nil, w.Fail(step, "%s %s %s: %v", app.Name, method, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return app.Calls.Take(), nil
}

// Attack sends GET path to the storefront as the attacker, with the
// headers given (name, value, ...) and nothing else.
func (w *Walk) Attack(ctx context.Context, step, path string, header ...string) (Exchange, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.StoreURL+path, nil)
	if err != nil {
		return Exchange{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := w.Attacker.Do(req)
	if err != nil {
		w.AttackerCalls.Take()
		return Exchange{}, w.Fail(step, "attacker: GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	xs := w.AttackerCalls.Take()
	if len(xs) != 1 {
		return Exchange{}, w.Fail(step, "the attacker's GET %s made %d requests, want 1", path, len(xs))
	}
	return xs[0], nil
}

// AttackLogin sends POST /api/login to the storefront as the attacker,
// with a login ID and a password of its choosing.
func (w *Walk) AttackLogin(ctx context.Context, step, loginID, password string) (Exchange, error) {
	body, err := json.Marshal(storefront.LoginRequest{LoginID: loginID, Password: password})
	if err != nil {
		return Exchange{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.StoreURL+"/api/login", bytes.NewReader(body))
	if err != nil {
		return Exchange{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.Attacker.Do(req)
	if err != nil {
		w.AttackerCalls.Take()
		return Exchange{}, w.Fail(step, "attacker: POST /api/login: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	xs := w.AttackerCalls.Take()
	if len(xs) != 1 {
		return Exchange{}, w.Fail(step, "the attacker's POST /api/login made %d requests, want 1", len(xs))
	}
	return xs[0], nil
}

// Loot is what the attacker copied off a device.
type Loot struct {
	// JWT and RefreshToken are the device's tokens.
	JWT, RefreshToken string
	// Key is the device's DPoP key when the attacker got that too (the
	// device itself is compromised); nil when it stayed in the device's
	// keystore.
	Key crypto.Signer
	// JKT is the thumbprint of the device's key, which the attacker can
	// read off the JWT (cnf.jkt) either way.
	JKT string
}

// Steal copies app's tokens, and its DPoP key when withKey.
func (w *Walk) Steal(ctx context.Context, step string, app *App, withKey bool) (Loot, error) {
	t, err := w.Tokens(ctx, step, app)
	if err != nil {
		return Loot{}, err
	}
	l := Loot{JWT: t.AccessToken, RefreshToken: t.RefreshToken, JKT: t.DPoPThumbprint()}
	if withKey {
		if l.Key, err = dpop.ParseKey(t.DPoPKey); err != nil {
			return l, w.Fail(step, "%s holds no DPoP key to steal", app.Name)
		}
	}
	return l, nil
}

// Proof makes a DPoP proof by key for method and the storefront's path,
// over jwt when it is not empty, at the shared clock's time.
func (w *Walk) Proof(step string, key crypto.Signer, method, path, jwt string) (string, error) {
	p, err := dpop.NewProof(key, method, w.StoreURL+path, dpop.ProofOptions{AccessToken: jwt, Now: w.Clock.Now()})
	if err != nil {
		return "", w.Fail(step, "make a DPoP proof: %v", err)
	}
	return p, nil
}

// eventWait bounds how long (in real time) the walk waits for Latch to
// deliver an event to the storefront; it takes milliseconds.
const eventWait = 10 * time.Second

// RevocationDelivered waits until Latch has delivered to the storefront a
// jwt.refresh-token.revoke event that match selects, and checks that it
// was signed and accepted (200). It fails step after eventWait.
func (w *Walk) RevocationDelivered(ctx context.Context, step string, match func(api.JWTRefreshTokenRevokeEvent) bool) (api.JWTRefreshTokenRevokeEvent, error) {
	deadline := time.Now().Add(eventWait)
	for {
		w.delivered = append(w.delivered, w.Events.Take()...)
		for i, x := range w.delivered {
			var ev api.EventRequest[api.JWTRefreshTokenRevokeEvent]
			if x.Call() != "POST "+storefront.EventsPath || json.Unmarshal(x.RequestBody, &ev) != nil ||
				ev.Event.Type != api.EventJWTRefreshTokenRevoke || !match(ev.Event) {
				continue
			}
			w.delivered = slices.Delete(w.delivered, i, i+1)
			switch {
			case x.RequestHeader.Get(api.HeaderSignatureJWT) == "":
				return ev.Event, w.Fail(step, "Identity's %s event is not signed", api.EventJWTRefreshTokenRevoke)
			case x.Err != nil:
				return ev.Event, w.Fail(step, "Identity's %s event did not reach the Store: %v", api.EventJWTRefreshTokenRevoke, x.Err)
			case x.Status != http.StatusOK:
				return ev.Event, w.Fail(step, "the Store answered Identity's %s event %d, want 200", api.EventJWTRefreshTokenRevoke, x.Status)
			}
			return ev.Event, nil
		}
		if time.Now().After(deadline) {
			return api.JWTRefreshTokenRevokeEvent{}, w.Fail(step, "no %s event reached the Store within %s", api.EventJWTRefreshTokenRevoke, eventWait)
		}
		select {
		case <-ctx.Done():
			return api.JWTRefreshTokenRevokeEvent{}, w.Fail(step, "waiting for Identity's event: %v", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Tokens returns the app's current tokens, failing step when it has none.
func (w *Walk) Tokens(ctx context.Context, step string, app *App) (client.Tokens, error) {
	t, err := app.Client.Tokens(ctx)
	if err != nil {
		return t, w.Fail(step, "%s holds no tokens: %v", app.Name, err)
	}
	return t, nil
}

// SessionLive reports whether the session sid (a refresh token's id, a
// JWT's sid) is live at Latch.
func (w *Walk) SessionLive(ctx context.Context, step, userID, sid string) (bool, error) {
	ids, err := w.LiveSessions(ctx, userID)
	if err != nil {
		return false, w.Fail(step, "list the user's sessions at Identity: %v", err)
	}
	return slices.Contains(ids, sid), nil
}

// FP is a token's fingerprint for printing: the first 8 hex digits of its
// SHA-256. A token itself is never printed.
func FP(token string) string {
	if token == "" {
		return "(none)"
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:4])
}

// Claims returns a JWT's claims, read without verification: for printing
// and for checking what Latch issued, never for trusting it.
func Claims(jwt string) (api.Claims, error) {
	var c api.Claims
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c, errors.New("not a JWS compact serialization")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, err
	}
	err = json.Unmarshal(b, &c)
	return c, err
}

// jwtAlg returns a JWT's alg header, for printing.
func jwtAlg(jwt string) string {
	h, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "?"
	}
	var v struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &v) != nil || v.Alg == "" {
		return "?"
	}
	return v.Alg
}

// JWT describes a JWT for printing: its fingerprint and when it expires.
func (w *Walk) JWT(jwt string) string {
	c, err := Claims(jwt)
	if err != nil {
		return "JWT " + FP(jwt) + " (unreadable)"
	}
	d := time.Unix(c.Expiry, 0).Sub(w.Clock.Now())
	if d > 0 {
		return fmt.Sprintf("JWT %s (exp in %s)", FP(jwt), human(d))
	}
	return fmt.Sprintf("JWT %s (expired %s ago)", FP(jwt), human(-d))
}

// Key names a DPoP key for printing: the first 8 characters of its
// thumbprint (RFC 7638), which is public: a JWT bound to the key carries
// it as cnf.jkt.
func Key(jkt string) string {
	if jkt == "" {
		return "key (none)"
	}
	return "key " + jkt[:min(8, len(jkt))]
}

// Session names a session for printing: the first 8 characters of its id
// (the refresh token's id, the JWT's sid), which is not a secret.
func Session(sid string) string { return "session " + sid[:min(8, len(sid))] }

// boundTo returns a JWT's cnf.jkt, read without verification.
func boundTo(jwt string) string {
	c, err := Claims(jwt)
	if err != nil || c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

// authScheme is the Authorization scheme the app uses for a JWT: DPoP for
// one bound to its key, Bearer otherwise.
func authScheme(jwt string) string {
	if boundTo(jwt) != "" {
		return "DPoP"
	}
	return "Bearer"
}

// RT describes a refresh token for printing.
func RT(refreshToken string) string { return "refresh token " + FP(refreshToken) }

// describeCart summarises a cart response for printing.
func describeCart(body []byte) string {
	var c storefront.Cart
	if json.Unmarshal(body, &c) != nil {
		return "a body that is not a cart"
	}
	if len(c.Items) == 0 {
		return "the cart: empty"
	}
	items := make([]string, len(c.Items))
	for i, it := range c.Items {
		items[i] = fmt.Sprintf("%d × %s", it.Quantity, it.Name)
	}
	return fmt.Sprintf("the cart: %s (%d.%02d)", strings.Join(items, ", "), c.TotalCents/100, c.TotalCents%100)
}

// human formats a duration briefly: 5m, 1h1m, 30s.
func human(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// challenge returns a 401's (first) WWW-Authenticate, shortened for
// printing to its scheme and error.
func challenge(h http.Header) string {
	v := h.Get("WWW-Authenticate")
	for _, param := range []string{", error_description", ", algs", " algs"} {
		if i := strings.Index(v, param); i >= 0 {
			v = v[:i]
		}
	}
	return v
}

// errorDescription returns the error_description (or message) of a JSON
// error body.
func errorDescription(body []byte) string {
	var e struct {
		Description string `json:"error_description"`
		Message     string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	if e.Description != "" {
		return e.Description
	}
	return e.Message
}
