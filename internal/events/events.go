// Package events delivers the webhook events in Latch's outbox. identity
// writes each event, with one delivery per webhook that takes it, in the
// transaction of the change that caused it; a Dispatcher, started by
// server on every node, claims due deliveries (a lease in the store, so
// that two nodes never send one delivery at the same moment), POSTs them
// as FusionAuth does, and records the outcome: delivered on any 2xx, else
// due again after an exponential backoff with jitter, until the event is
// too old or the attempts run out, when the delivery is abandoned (and
// logged). Delivery is therefore at least once: receivers deduplicate on
// event.id.
//
// The dispatcher wakes when a local commit enqueued something (Notify),
// when a retry it scheduled falls due, and every PollInterval, so that the
// events of other nodes, and those a crashed node left behind, are
// delivered too.
package events

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// Defaults of Config.
const (
	DefaultPollInterval = 2 * time.Second
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	DefaultMaxAge       = 24 * time.Hour
	DefaultBatchSize    = 16
	DefaultWorkers      = 8
	// DefaultLease outlasts the longest attempt a webhook allows (connect
	// and read timeouts of identity.MaxWebhookTimeout each).
	DefaultLease = 3 * time.Minute
)

// maxResponseBytes is how much of a webhook's answer is read (and dropped).
const maxResponseBytes = 64 << 10

// Signer signs the X-FusionAuth-Signature-JWT of a delivery with a key of
// the Key API; identity.Service is one.
type Signer interface {
	SignWithKey(ctx context.Context, keyID string, claims any) (string, error)
}

// Config configures a Dispatcher. Store is required; every other zero
// field picks its default.
type Config struct {
	// Store holds the outbox and the webhooks.
	Store storage.Store
	// Signer signs deliveries of webhooks with signing enabled; without
	// one they fail (and are retried).
	Signer Signer
	// Logger receives one line per failed or abandoned delivery, never a
	// payload; slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock deliveries are due by (the identity service's);
	// time.Now when nil.
	Now func() time.Time
	// PollInterval is how often the outbox is checked without a Notify.
	PollInterval time.Duration
	// MinBackoff is the wait after the first failed attempt; it doubles
	// with every further failure, up to MaxBackoff, and varies by ±20%.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between attempts.
	MaxBackoff time.Duration
	// MaxAge is how long after an event happened its deliveries are
	// attempted; a failure after that abandons them.
	MaxAge time.Duration
	// MaxAttempts, when positive, abandons a delivery after that many
	// failed attempts, however young its event.
	MaxAttempts int
	// BatchSize is how many deliveries one claim takes at most.
	BatchSize int
	// Workers is how many deliveries are sent at once.
	Workers int
	// Lease is how long a claimed delivery is kept from other claimers:
	// longer than any attempt takes, or a slow attempt may be duplicated.
	Lease time.Duration
	// Transport, when set, carries every delivery instead of a transport
	// per webhook (whose connect timeout it then does not apply): for an
	// outbound proxy with custom settings, and for tests.
	Transport http.RoundTripper
}

// Dispatcher delivers the outbox's events. It is safe for concurrent use.
type Dispatcher struct {
	cfg   Config
	log   *slog.Logger
	nudge chan struct{}

	mu      sync.Mutex
	clients map[[2]int]*http.Client // by connect and read timeout (ms)
}

// New returns a Dispatcher; Run starts it.
func New(cfg Config) *Dispatcher {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.PollInterval, DefaultPollInterval)
	def(&cfg.MinBackoff, DefaultMinBackoff)
	def(&cfg.MaxBackoff, DefaultMaxBackoff)
	def(&cfg.MaxAge, DefaultMaxAge)
	def(&cfg.Lease, DefaultLease)
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	return &Dispatcher{cfg: cfg, log: cfg.Logger, nudge: make(chan struct{}, 1), clients: map[[2]int]*http.Client{}}
}

// Notify wakes the dispatcher: an event was enqueued. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.nudge <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight to
// finish (their requests are cancelled, and their deliveries made due
// again at once, for the next node or start).
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, d.cfg.Workers)
	freed := make(chan struct{}, 1)
	defer func() {
		wg.Wait()
		d.closeIdle()
	}()
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.nudge:
		case <-poll.C:
		case <-freed:
		}
		// Claim while there is room and the claims come back full.
		for ctx.Err() == nil {
			room := d.cfg.Workers - len(slots)
			if room <= 0 {
				break // a worker's end (freed) resumes the loop
			}
			n := min(room, d.cfg.BatchSize)
			now := d.cfg.Now()
			claimed, err := d.cfg.Store.ClaimDeliveries(ctx, now, n, now.Add(d.cfg.Lease))
			if err != nil {
				// An outage is the store's to log (storage.Outage), not
				// every poll's.
				if ctx.Err() == nil && !errors.Is(err, storage.ErrUnavailable) {
					d.log.Error("events: claim deliveries", "err", err)
				}
				break
			}
			for _, c := range claimed {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() {
						<-slots
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					d.deliver(ctx, c)
				})
			}
			if len(claimed) < n {
				break
			}
		}
		poll.Reset(d.cfg.PollInterval)
	}
}

// deliver makes one attempt at a claimed delivery and records the outcome.
func (d *Dispatcher) deliver(ctx context.Context, c storage.ClaimedDelivery) {
	// The bookkeeping must happen even when ctx was cancelled mid-attempt.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	log := d.log.With("event", c.EventID, "type", c.Event.Type, "webhook", c.WebhookID, "attempt", c.Attempts)

	hook, err := d.cfg.Store.GetWebhook(ctx, c.WebhookID)
	if errors.Is(err, storage.ErrNotFound) {
		if err := d.cfg.Store.AbandonDelivery(bctx, c.ID, d.cfg.Now(), "the webhook was deleted"); err != nil && !errors.Is(err, storage.ErrNotFound) {
			log.Error("events: abandon delivery", "err", err)
		}
		return
	}
	if err == nil {
		log = log.With("host", hostOf(hook.URL))
		err = d.post(ctx, hook, c.Event)
	}
	now := d.cfg.Now()
	switch {
	case err == nil:
		if err := d.cfg.Store.CompleteDelivery(bctx, c.ID, now); err != nil {
			log.Error("events: record delivery", "err", err)
			return
		}
		log.Debug("events: delivered")
	case ctx.Err() != nil:
		// Shutting down: due again at once rather than when the lease ends.
		if err := d.cfg.Store.RetryDelivery(bctx, c.ID, now, "interrupted by shutdown"); err != nil {
			log.Error("events: release delivery", "err", err)
		}
	case (d.cfg.MaxAttempts > 0 && c.Attempts >= d.cfg.MaxAttempts) || now.Sub(c.Event.Created) >= d.cfg.MaxAge:
		if aerr := d.cfg.Store.AbandonDelivery(bctx, c.ID, now, err.Error()); aerr != nil {
			log.Error("events: abandon delivery", "err", aerr)
			return
		}
		log.Warn("events: delivery abandoned", "err", err, "age", now.Sub(c.Event.Created).Round(time.Second))
	default:
		next := now.Add(d.backoff(c.Attempts))
		if rerr := d.cfg.Store.RetryDelivery(bctx, c.ID, next, err.Error()); rerr != nil {
			log.Error("events: schedule retry", "err", rerr)
			return
		}
		log.Info("events: delivery failed; will retry", "err", err, "next", next)
		time.AfterFunc(next.Sub(now), d.Notify)
	}
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled
// n-1 times, at most MaxBackoff, ±20%.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.cfg.MaxBackoff
	if n < 1 {
		n = 1
	}
	if n <= 32 {
		if v := d.cfg.MinBackoff << (n - 1); v > 0 && v < b {
			b = v
		}
	}
	b = b*4/5 + rand.N(b*2/5+1)
	return min(b, d.cfg.MaxBackoff)
}

// errStatus is an answer other than 2xx.
type errStatus int

// Error implements error.
func (e errStatus) Error() string { return fmt.Sprintf("the webhook answered %d", int(e)) }

// post sends an event to a webhook: its payload (without bearer tokens
// when the URL may not receive them), the webhook's headers and basic
// authentication, and the signature when enabled. Errors never hold the
// URL (whose query may hold a secret) or the payload.
func (d *Dispatcher) post(ctx context.Context, hook api.Webhook, e storage.Event) error {
	body, err := identity.WebhookBody(e, identity.BearerSafeURL(hook.URL))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL is not usable")
	}
	for k, v := range hook.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	if hook.HTTPAuthenticationUsername != "" {
		req.SetBasicAuth(hook.HTTPAuthenticationUsername, hook.HTTPAuthenticationPassword)
	}
	if sc := hook.SignatureConfiguration; sc.Enabled {
		if d.cfg.Signer == nil {
			return errors.New("sign: no signer configured")
		}
		sum := sha256.Sum256(body)
		sig, err := d.cfg.Signer.SignWithKey(ctx, sc.SigningKeyID, map[string]any{
			api.SignatureClaimBodySHA256: base64.StdEncoding.EncodeToString(sum[:]),
			"iat":                        d.cfg.Now().Unix(),
		})
		if err != nil {
			return fmt.Errorf("sign with key %s: %w", sc.SigningKeyID, err)
		}
		req.Header.Set(api.HeaderSignatureJWT, sig)
	}
	res, err := d.client(hook).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponseBytes))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return errStatus(res.StatusCode)
	}
	return nil
}

// client returns the HTTP client for a webhook's timeouts: connectTimeout
// bounds the connection (and TLS handshake), readTimeout the wait for the
// answer. Redirects are not followed (a 3xx is a failure).
func (d *Dispatcher) client(hook api.Webhook) *http.Client {
	connect, read := hook.ConnectTimeout, hook.ReadTimeout
	if connect <= 0 {
		connect = identity.DefaultWebhookConnectTimeout
	}
	if read <= 0 {
		read = identity.DefaultWebhookReadTimeout
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	key := [2]int{connect, read}
	if c, ok := d.clients[key]; ok {
		return c
	}
	ct, rt := time.Duration(connect)*time.Millisecond, time.Duration(read)*time.Millisecond
	transport := d.cfg.Transport
	if transport == nil {
		transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: ct, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   ct,
			ResponseHeaderTimeout: rt,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		}
	}
	c := &http.Client{
		Transport:     transport,
		Timeout:       ct + rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	d.clients[key] = c
	return c
}

// closeIdle closes the idle connections of every client.
func (d *Dispatcher) closeIdle() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.clients {
		c.CloseIdleConnections()
	}
}

// hostOf is the host of a URL, for logs (never the path or query).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
