// Command latch is the Latch identity server and its administration tool.
//
//	latch serve            start the server (127.0.0.1:9011, SQLite in ./latch-data)
//	latch apikey create    make an API key and print it
//	latch key rotate       replace the signing key, keeping the old one verifying
//	latch user create      create a user (password from stdin), optionally registered
//	latch user password    set a user's password (from stdin)
//	latch user revoke      revoke a user's refresh tokens
//	latch user list        list the users
//	latch migrate          apply schema migrations and exit
//	latch backup FILE      copy the live SQLite database to FILE
//	latch demo             walk the article's steps 1-21 against an in-process Latch and Store
//	latch version          print the version and VCS revision
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kickstart"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "latch:", err)
		}
		os.Exit(1)
	}
}

const usage = `Usage: latch <command> [flags]

Commands:
  serve           start the server
  apikey create   make an API key and print it once
  key rotate      replace the signing key; the old one keeps verifying until its tokens expire
  user create     create a user (password from stdin), optionally registered for an application
  user password   set a user's password (from stdin); revokes its refresh tokens per the tenant
  user revoke     revoke a user's refresh tokens: log out everywhere
  user list       list the users and their registrations
  migrate         apply schema migrations and exit
  backup FILE     copy the live SQLite database to FILE
  demo            walk the article's steps 1-21 against an in-process Latch and Store
  version         print the version and the revision it was built from

Run 'latch <command> -h' or 'latch help <command>' for a command's flags.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	if err := dispatch(ctx, args, stdin, stdout, stderr); !errors.Is(err, errHelpShown) {
		return err
	}
	return nil
}

// dispatch runs the command args names.
func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	// Every command that opens the database reads it (storeFlags): a bad
	// value is refused, not taken as the default.
	if _, err := envDuration("LATCH_DATABASE_TIMEOUT", 0); err != nil {
		return err
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "apikey":
		if len(rest) > 0 && isHelp(rest[0]) {
			return apikeyCreate(ctx, []string{"-h"}, stdout, stderr) // its help
		}
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New("usage: latch apikey create [flags]")
		}
		return apikeyCreate(ctx, rest[1:], stdout, stderr)
	case "key":
		if len(rest) > 0 && isHelp(rest[0]) {
			return keyRotate(ctx, []string{"-h"}, stdout, stderr) // its help
		}
		if len(rest) == 0 || rest[0] != "rotate" {
			return errors.New("usage: latch key rotate [flags]")
		}
		return keyRotate(ctx, rest[1:], stdout, stderr)
	case "user":
		return userCmd(ctx, rest, stdin, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr)
	case "backup":
		return backup(ctx, rest, stdout, stderr)
	case "demo":
		return demoCmd(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		if len(rest) > 0 {
			return fmt.Errorf("version: unexpected argument %q", rest[0])
		}
		bi, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(bi))
		return nil
	case "help":
		// `latch help serve` is `latch serve -h`; `latch help user
		// create`, `latch user create -h`.
		if len(rest) > 0 && !isHelp(rest[0]) && !strings.HasPrefix(rest[0], "-") {
			return dispatch(ctx, append(slices.Clone(rest), "-h"), stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// versionLine is what `latch version` prints: the module version the
// binary was built as ("(devel)" for a build inside its own module) and
// the VCS revision it was built from, with the commit time and
// "modified" when the work tree had changes.
func versionLine(bi *debug.BuildInfo) string {
	if bi == nil {
		return "latch (unknown version: built without module information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "latch " + v
	}
	line := "latch " + v + " revision " + rev
	if at != "" {
		line += " (" + at + ")"
	}
	if modified {
		line += " modified"
	}
	return line
}

// env returns the environment variable name, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// storeFlags registers the flags that locate the database and bound its
// calls.
func storeFlags(fs *cmdFlags, cfg *server.Config) {
	fs.StringVar(&cfg.DataDir, "data", env("LATCH_DATA_DIR", cfg.DataDir), "data directory: SQLite database, master key, bootstrap API key (LATCH_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database", env("LATCH_DATABASE_URL", ""), "a postgres:// URL selects PostgreSQL instead of SQLite (LATCH_DATABASE_URL)")
	timeout, _ := envDuration("LATCH_DATABASE_TIMEOUT", storage.DefaultTimeout) // run checked it
	fs.DurationVar(&cfg.DatabaseTimeout, "database-timeout", timeout,
		"deadline of every database call and transaction; what the database has not answered by then is rolled back and answered 503 (LATCH_DATABASE_TIMEOUT)")
	cfg.MasterKey = os.Getenv("LATCH_MASTER_KEY")
}

// envDuration returns the environment variable name as a duration
// (time.ParseDuration), or def when it is unset or empty.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return def, fmt.Errorf("%s=%q: want a duration such as 5s", name, v)
	}
	return d, nil
}

// errHelpShown is what a command returns when it was asked for its help
// (-h, -help, --help) and printed it on stdout: run answers it with
// success.
var errHelpShown = errors.New("help shown")

// cmdFlags is a command's flag set, with the stdout its help goes to.
type cmdFlags struct {
	*flag.FlagSet
	stdout   io.Writer
	synopsis string // what follows the command in the usage line
}

// masterKeyHelp describes LATCH_MASTER_KEY, which every command that opens
// the database reads and which has no flag.
const masterKeyHelp = `Environment:
  LATCH_MASTER_KEY
    	32 bytes (hex or base64) that encrypt private signing keys at rest; default:
    	generated into <data>/master.key. Several nodes must share it.
`

// newFlagSet returns the flag set of the command `latch name`: its errors
// go to stderr, its help to stdout.
func newFlagSet(name string, stdout, stderr io.Writer) *cmdFlags {
	fs := &cmdFlags{FlagSet: flag.NewFlagSet("latch "+name, flag.ContinueOnError), stdout: stdout, synopsis: "[flags]"}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s %s\n\nFlags:\n", fs.Name(), fs.synopsis)
		fs.PrintDefaults()
		if fs.Lookup("data") != nil {
			fmt.Fprint(fs.Output(), "\n"+masterKeyHelp)
		}
	}
	return fs
}

// parseFlags parses args. Asked for help, it prints the usage on stdout
// and returns errHelpShown; a bad flag is reported on stderr with the
// usage.
func parseFlags(fs *cmdFlags, args []string) error {
	stderr := fs.Output()
	var msg strings.Builder
	fs.SetOutput(&msg)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(fs.stdout)
		fs.Usage()
		fs.SetOutput(stderr)
		return errHelpShown
	}
	fs.SetOutput(stderr)
	io.WriteString(stderr, msg.String())
	return err
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := newFlagSet("serve", stdout, stderr)
	fs.StringVar(&cfg.Addr, "addr", env("LATCH_ADDR", cfg.Addr), "listen address (LATCH_ADDR)")
	storeFlags(fs, &cfg)
	fs.StringVar(&cfg.Kickstart, "kickstart", env("LATCH_KICKSTART", ""), "FusionAuth kickstart file applied to a new database (LATCH_KICKSTART)")
	skipUnsupported, err := envBool("LATCH_KICKSTART_SKIP_UNSUPPORTED")
	if err != nil {
		return err
	}
	fs.BoolVar(&cfg.KickstartSkipUnsupported, "kickstart-skip-unsupported", skipUnsupported,
		"skip the kickstart's requests to APIs Latch does not implement, each logged, instead of refusing to start (LATCH_KICKSTART_SKIP_UNSUPPORTED)")
	fs.StringVar(&cfg.Issuer, "issuer", env("LATCH_ISSUER", ""), "issuer of tokens; default http://<addr> (LATCH_ISSUER)")
	logFormat := fs.String("log-format", env("LATCH_LOG_FORMAT", "text"), "log format: text or json (LATCH_LOG_FORMAT)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", env("LATCH_TLS_CERT", ""), "PEM certificate: serve HTTPS (LATCH_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", env("LATCH_TLS_KEY", ""), "PEM private key of --tls-cert (LATCH_TLS_KEY)")
	proxies := fs.String("trusted-proxies", env("LATCH_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies; the client is the rightmost X-Forwarded-For entry outside them (LATCH_TRUSTED_PROXIES)")
	fs.IntVar(&cfg.RateLimits.Login, "login-rate", envInt("LATCH_LOGIN_RATE", cfg.RateLimits.Login), "logins per minute per client; 0: no limit (LATCH_LOGIN_RATE)")
	fs.IntVar(&cfg.RateLimits.Token, "token-rate", envInt("LATCH_TOKEN_RATE", cfg.RateLimits.Token), "token requests per minute per client, but refresh_token grants; 0: no limit (LATCH_TOKEN_RATE)")
	fs.IntVar(&cfg.RateLimits.Refresh, "refresh-rate", envInt("LATCH_REFRESH_RATE", cfg.RateLimits.Refresh), "refreshes per minute per session, and refused refreshes per minute per client; 0: no limit (LATCH_REFRESH_RATE)")
	dpopNonces, err := envBool("LATCH_DPOP_NONCES")
	if err != nil {
		return err
	}
	fs.BoolVar(&cfg.DPoPNonces, "dpop-nonces", dpopNonces, "require a server nonce in DPoP proofs; nodes sharing the master key agree on nonces (LATCH_DPOP_NONCES)")
	if err := parse(fs, args); err != nil {
		return err
	}
	proxyList, err := parsePrefixes(*proxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	cfg.TrustedProxies = proxyList
	if cfg.Logger = newLogger(*logFormat, stderr); cfg.Logger == nil {
		return fmt.Errorf("log format %q: want text or json", *logFormat)
	}
	srv, err := server.Open(ctx, cfg)
	if ue := (*kickstart.UnsupportedError)(nil); errors.As(err, &ue) {
		return fmt.Errorf("%w; --kickstart-skip-unsupported (LATCH_KICKSTART_SKIP_UNSUPPORTED) skips such requests", err)
	}
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// newLogger returns a logger writing format ("text" or "json") to w; nil
// for another format.
func newLogger(format string, w io.Writer) *slog.Logger {
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil))
	case "text":
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return nil
}

// parse parses the flags of a command that takes no arguments.
func parse(fs *cmdFlags, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func apikeyCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := newFlagSet("apikey create", stdout, stderr)
	storeFlags(fs, &cfg)
	description := fs.String("description", "", "what the key is for")
	tenant := fs.String("tenant", "", "lock the key to this tenant id")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withIdentity(ctx, cfg, func(s *identity.Service) error {
		in := api.APIKey{TenantID: *tenant}
		if *description != "" {
			in.MetaData.Attributes = map[string]string{"description": *description}
		}
		k, err := s.CreateAPIKey(ctx, "", in)
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, "API key", k.ID, "created; it is shown once:")
		fmt.Fprintln(stdout, k.Key)
		return nil
	})
}

func keyRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := newFlagSet("key rotate", stdout, stderr)
	storeFlags(fs, &cfg)
	tenant := fs.String("tenant", "", "tenant id (default: the only tenant)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withIdentity(ctx, cfg, func(s *identity.Service) error {
		k, err := s.RotateKey(ctx, *tenant)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key %s (%s, kid %s); the previous key verifies until its tokens expire\n", k.ID, k.Algorithm, k.Kid)
		return nil
	})
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := newFlagSet("migrate", stdout, stderr)
	storeFlags(fs, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "schema up to date")
	return st.Close()
}

func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := newFlagSet("backup", stdout, stderr)
	fs.synopsis = "[flags] FILE"
	storeFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: latch backup [flags] FILE")
	}
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	lite, ok := storage.Unwrap(st).(*sqlite.Store)
	if !ok {
		return errors.New("backup copies the SQLite database; use pg_dump for PostgreSQL")
	}
	if err := lite.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "backup written to", fs.Arg(0))
	return nil
}

// envBool returns the environment variable name as a boolean (false
// when unset or empty); a value strconv.ParseBool does not take is an
// error rather than a silent false.
func envBool(name string) (bool, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

// envInt returns the environment variable name as an integer, or def.
func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// parsePrefixes parses a comma-separated list of CIDRs or addresses.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
