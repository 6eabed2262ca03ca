// Command storefront runs the article's Store: a shop backend that logs
// users in through Latch and keeps their carts, on 127.0.0.1:8080.
//
//	storefront --application-id ID --api-key KEY [--addr 127.0.0.1:8080]
//	           [--latch http://127.0.0.1:9011] [--latch-wait 30s] [--data ./storefront-data]
//	           [--issuer URL] [--public-url URL] [--require-dpop] [--register-webhook]
//	           [--tls-cert FILE --tls-key FILE] [--redis URL]
//
// Before it serves a request, the storefront checks --application-id
// and --api-key at Latch (GET /api/application/{id} with the key, which
// the key must be allowed besides POST /api/login) and does not start
// when Latch refuses either: the error says which. While Latch cannot be
// reached it tries again every second for up to --latch-wait (default
// 30s), so that it may start beside Latch; past that it does not start,
// and a supervisor that restarts it tries again later.
//
// --public-url is the base URL apps (and Latch, for the webhook) reach the
// storefront at, which their DPoP proofs name; by default the listen
// address (https with TLS). --require-dpop refuses logins without a DPoP
// proof. --register-webhook registers POST /latch/events at Latch for
// revocation events when the storefront starts. --tls-cert and --tls-key
// serve HTTPS (TLS 1.2 at least, 1.3 preferred). --redis
// (redis://[:password@]host:port[/db], or rediss:// for TLS) is a Redis
// that the instances behind one URL share: guard's revocations and the
// DPoP proofs accepted are kept there, so that a revocation event reaching
// one instance is honoured by all and a DPoP proof is accepted once; the
// storefront does not start unless Redis answers. The API key also lets
// the storefront catch up on the revocations it missed while it was down,
// from Latch's webhook event log: Latch must permit it to POST
// /api/system/webhook-event-log/search.
//
// Each flag has an environment twin: STOREFRONT_ADDR, STOREFRONT_LATCH_URL,
// STOREFRONT_LATCH_WAIT, STOREFRONT_APPLICATION_ID, STOREFRONT_API_KEY,
// STOREFRONT_DATA_DIR, STOREFRONT_ISSUER, STOREFRONT_PUBLIC_URL,
// STOREFRONT_REQUIRE_DPOP, STOREFRONT_REGISTER_WEBHOOK (true or false),
// STOREFRONT_TLS_CERT, STOREFRONT_TLS_KEY, STOREFRONT_REDIS_URL,
// STOREFRONT_LOG_FORMAT; a flag wins over its twin. Prefer
// STOREFRONT_API_KEY to --api-key, and STOREFRONT_REDIS_URL to --redis
// when the URL holds a password: a flag shows in the process list.
// SIGINT or SIGTERM stops it gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/internal/storefront"
)

// shutdownTimeout bounds the wait for requests in flight on a signal.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, errorLine(err))
		os.Exit(1)
	}
}

// errorLine is the line main prints for err: "storefront: " and the
// error, whose own prefix (the storefront package's errors have one) is
// not repeated.
func errorLine(err error) string {
	return "storefront: " + strings.TrimPrefix(err.Error(), "storefront: ")
}

// run parses the flags, starts the storefront, calls ready (if not nil)
// once it listens, and serves until ctx ends; then it shuts down
// gracefully and returns nil. Asked for help (-h, --help), it prints the
// usage on stdout and returns nil.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer, ready func(*storefront.Server)) error {
	cfg, err := parseFlags(args, lookupEnv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	// go-redis logs (a failed dial, say) through one global logger, to
	// stderr in its own format unless told otherwise: through the
	// storefront's log instead.
	redis.SetLogger(redisLogger{cfg.Logger})
	srv, err := storefront.Open(ctx, cfg)
	switch {
	case errors.Is(err, storefront.ErrAPIKeyRefused):
		return fmt.Errorf("%w; check --api-key (STOREFRONT_API_KEY)", err)
	case errors.Is(err, storefront.ErrUnknownApplication):
		return fmt.Errorf("%w; check --application-id (STOREFRONT_APPLICATION_ID) and that the API key's tenant holds it", err)
	case err != nil:
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	if ready != nil {
		ready(srv)
	}
	select {
	case err := <-errc:
		return errors.Join(err, srv.Close())
	case <-ctx.Done():
	}
	cfg.Logger.Info("storefront shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	return errors.Join(err, <-errc)
}

// redisLogger is go-redis's logger (redis.SetLogger) over a slog.Logger:
// each line a warning, its text as the message.
type redisLogger struct{ log *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
}

// usageHead comes before the flags in the storefront's usage.
const usageHead = `Usage: storefront --application-id ID --api-key KEY [flags]

Runs the article's Store: a shop backend that logs users in through Latch
and keeps their carts. Prefer STOREFRONT_API_KEY to --api-key: a flag shows
in the process list.

Flags:
`

// parseFlags returns the configuration from args and the environment
// twins of the flags; a flag wins over its twin. Asked for help, it prints
// the usage on stdout and returns flag.ErrHelp; a bad flag is reported on
// stderr.
func parseFlags(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) (storefront.Config, error) {
	env := func(name, def string) string {
		if v, ok := lookupEnv(name); ok && v != "" {
			return v
		}
		return def
	}
	var errs []error
	envBool := func(name string) bool {
		v, ok := lookupEnv(name)
		if !ok || v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", name, v))
		}
		return b
	}
	cfg := storefront.DefaultConfig()
	fs := flag.NewFlagSet("storefront", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", env("STOREFRONT_ADDR", cfg.Addr), "listen address (STOREFRONT_ADDR)")
	fs.StringVar(&cfg.LatchURL, "latch", env("STOREFRONT_LATCH_URL", cfg.LatchURL), "Latch's base URL (STOREFRONT_LATCH_URL)")
	fs.StringVar(&cfg.ApplicationID, "application-id", env("STOREFRONT_APPLICATION_ID", ""), "the storefront's application id in Latch; required (STOREFRONT_APPLICATION_ID)")
	fs.StringVar(&cfg.APIKey, "api-key", env("STOREFRONT_API_KEY", ""), "a Latch API key for logins, revocations and the catch-up on revocations (POST /api/system/webhook-event-log/search); "+
		"required; prefer the environment twin (STOREFRONT_API_KEY)")
	fs.StringVar(&cfg.DataDir, "data", env("STOREFRONT_DATA_DIR", cfg.DataDir), "data directory of the storefront's SQLite database (STOREFRONT_DATA_DIR)")
	fs.StringVar(&cfg.Issuer, "issuer", env("STOREFRONT_ISSUER", ""), "iss of the JWTs; default read from Latch's OpenID configuration (STOREFRONT_ISSUER)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("STOREFRONT_PUBLIC_URL", ""),
		"base URL apps and Latch reach the storefront at, which DPoP proofs name; default from --addr (STOREFRONT_PUBLIC_URL)")
	fs.BoolVar(&cfg.RequireDPoP, "require-dpop", envBool("STOREFRONT_REQUIRE_DPOP"), "refuse logins without a DPoP proof (STOREFRONT_REQUIRE_DPOP)")
	fs.BoolVar(&cfg.RegisterWebhook, "register-webhook", envBool("STOREFRONT_REGISTER_WEBHOOK"),
		"register /latch/events at Latch for revocation events on start; Latch must reach --public-url (STOREFRONT_REGISTER_WEBHOOK)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", env("STOREFRONT_TLS_CERT", ""), "PEM certificate to serve HTTPS with, with --tls-key (STOREFRONT_TLS_CERT)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", env("STOREFRONT_TLS_KEY", ""), "PEM private key of --tls-cert (STOREFRONT_TLS_KEY)")
	fs.StringVar(&cfg.RedisURL, "redis", env("STOREFRONT_REDIS_URL", ""),
		"Redis URL (redis://[:password@]host:port[/db]) where instances behind one URL share revocations and DPoP replay; "+
			"prefer the environment twin when it holds a password (STOREFRONT_REDIS_URL)")
	wait := cfg.LatchWait
	if v := env("STOREFRONT_LATCH_WAIT", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("STOREFRONT_LATCH_WAIT=%q: want a duration such as 30s", v))
		}
		wait = d
	}
	fs.DurationVar(&cfg.LatchWait, "latch-wait", wait,
		"how long to wait at start for Latch to answer the check of --application-id and --api-key; then the storefront does not start; 0: one attempt (STOREFRONT_LATCH_WAIT)")
	logFormat := fs.String("log-format", env("STOREFRONT_LOG_FORMAT", "text"), "log format: text or json (STOREFRONT_LOG_FORMAT)")
	fs.Usage = func() {
		io.WriteString(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	var msg strings.Builder
	fs.SetOutput(&msg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
		} else {
			io.WriteString(stderr, msg.String())
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key (or STOREFRONT_TLS_CERT and STOREFRONT_TLS_KEY) go together"))
	}
	if cfg.RedisURL != "" {
		if _, err := storefront.ParseRedisURL(cfg.RedisURL); err != nil {
			errs = append(errs, fmt.Errorf("--redis (or STOREFRONT_REDIS_URL): %w", err))
		}
	}
	if cfg.ApplicationID == "" {
		errs = append(errs, errors.New("--application-id (or STOREFRONT_APPLICATION_ID) is required: the id of the storefront's application in Latch"))
	}
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("--api-key (or STOREFRONT_API_KEY) is required: a Latch API key, which Latch's Login API asks for"))
	}
	if cfg.LatchWait < 0 {
		errs = append(errs, fmt.Errorf("--latch-wait %v: want a duration of zero or more", cfg.LatchWait))
	}
	switch *logFormat {
	case "text":
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", *logFormat))
	}
	return cfg, errors.Join(errs...)
}
