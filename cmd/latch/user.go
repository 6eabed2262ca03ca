package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/x/term"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
)

const userUsage = `Usage: latch user <command> [flags]

Commands:
  create --email E [--username U] [--application ID-or-name] [--role R]... [--tenant ID]
                  create a user (registered for the application with the roles, or its default
                  roles) and print its id; the password is the first line of standard input
  password --email E [--tenant ID]
                  set a new password, read as create reads it; the tenant's onPasswordChanged
                  policy revokes the user's refresh tokens
  revoke --email E [--application ID-or-name] [--tenant ID]
                  revoke the user's refresh tokens (all, or the application's): log out everywhere
  list [--tenant ID]
                  list the users: id, email, username, active, registrations

The password is never a flag: pipe it (printf '%s\n' "$PASSWORD" | latch user create ...), or run
in a terminal to be prompted without echo. --tenant defaults to the only tenant; --data and
--database locate the database as for 'latch serve'. Run 'latch user <command> -h' for its flags.
`

func printUserUsage(w io.Writer) { io.WriteString(w, userUsage) }

// userCmd runs `latch user <command>`: user administration on the
// database, through the identity service and so under its rules.
func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUserUsage(stderr)
		return flag.ErrHelp
	}
	switch verb, rest := args[0], args[1:]; verb {
	case "create":
		return userCreate(ctx, rest, stdin, stdout, stderr)
	case "password":
		return userPassword(ctx, rest, stdin, stdout, stderr)
	case "revoke":
		return userRevoke(ctx, rest, stdout, stderr)
	case "list":
		return userList(ctx, rest, stdout, stderr)
	case "-h", "-help", "--help", "help":
		printUserUsage(stdout)
		return nil
	default:
		printUserUsage(stderr)
		return fmt.Errorf("user: unknown command %q", verb)
	}
}

// userFlags registers the flags every user command takes: the database's,
// --tenant and, unless email is nil, --email.
func userFlags(name string, stdout, stderr io.Writer, cfg *server.Config, email, tenant *string) *cmdFlags {
	fs := newFlagSet("user "+name, stdout, stderr)
	storeFlags(fs, cfg)
	if email != nil {
		fs.StringVar(email, "email", "", "the user's email address (required)")
	}
	fs.StringVar(tenant, "tenant", "", "tenant id (default: the only tenant)")
	// The service logs warnings (say, a signing key it cannot open) to
	// the command's stderr; it logs no password.
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return fs
}

// roleFlag collects the values of a repeated --role.
type roleFlag []string

func (r *roleFlag) String() string { return strings.Join(*r, ",") }

func (r *roleFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty role")
	}
	*r = append(*r, v)
	return nil
}

func userCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	var email, tenant string
	fs := userFlags("create", stdout, stderr, &cfg, &email, &tenant)
	username := fs.String("username", "", "a username, which also logs in")
	application := fs.String("application", "", "register the user for this application (id or exact name)")
	var roles roleFlag
	fs.Var(&roles, "role", "a role of the registration (repeat for several; default: the application's default roles)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if email == "" {
		return errors.New("user create: --email is required")
	}
	if len(roles) > 0 && *application == "" {
		return errors.New("user create: --role needs --application")
	}
	return withIdentity(ctx, cfg, func(s *identity.Service) error {
		t, err := resolveTenant(ctx, s, tenant)
		if err != nil {
			return err
		}
		var app *api.Application
		if *application != "" {
			a, err := findApplication(ctx, s, t.ID, *application)
			if err != nil {
				return err
			}
			app = &a
		}
		pw, err := readPassword(stdin, stderr, "Password for "+email)
		if err != nil {
			return err
		}
		u := api.User{Email: email, Username: *username, Password: pw}
		var created *api.User
		if app == nil {
			res, err := s.CreateUser(ctx, t.ID, "", api.UserRequest{User: u})
			if err != nil {
				return readable("user not created", err)
			}
			created = res.User
		} else {
			reg := api.UserRegistration{ApplicationID: app.ID}
			if len(roles) > 0 {
				reg.Roles = roles
			}
			res, err := s.Register(ctx, t.ID, "", app.ID, api.RegistrationRequest{User: &u, Registration: reg}, identity.Client{NoTokens: true})
			if err != nil {
				return readable("user not created", err)
			}
			created = res.User
		}
		if created == nil {
			return errors.New("user create: the identity service returned no user")
		}
		what := "user " + created.Email + " created"
		if app != nil {
			var got []string
			for _, r := range created.Registrations {
				got = append(got, r.Roles...)
			}
			if len(got) == 0 {
				what += ", registered for " + app.Name + " with no roles"
			} else {
				what += fmt.Sprintf(", registered for %s with roles %s", app.Name, strings.Join(got, ", "))
			}
		}
		fmt.Fprintln(stderr, what)
		fmt.Fprintln(stdout, created.ID)
		return nil
	})
}

func userPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	var email, tenant string
	fs := userFlags("password", stdout, stderr, &cfg, &email, &tenant)
	if err := parse(fs, args); err != nil {
		return err
	}
	if email == "" {
		return errors.New("user password: --email is required")
	}
	return withIdentity(ctx, cfg, func(s *identity.Service) error {
		u, err := findUser(ctx, s, tenant, email)
		if err != nil {
			return err
		}
		t, err := s.GetTenant(ctx, u.TenantID)
		if err != nil {
			return err
		}
		pw, err := readPassword(stdin, stderr, "New password for "+u.Email)
		if err != nil {
			return err
		}
		before, err := s.ListSessions(ctx, u.TenantID, u.ID)
		if err != nil {
			return err
		}
		// UpdateUser replaces the user (as PUT does): send it back as it
		// is, with the new password.
		in := u
		in.Registrations, in.EncryptionScheme = nil, ""
		in.Password = pw
		if _, err := s.UpdateUser(ctx, u.TenantID, u.ID, in, false); err != nil {
			return readable("password not changed", err)
		}
		if !t.JWTConfiguration.RefreshTokenRevocationPolicy.OnPasswordChanged {
			fmt.Fprintf(stdout, "password of %s changed; its refresh tokens were kept (the tenant's onPasswordChanged policy is off)\n", u.Email)
			return nil
		}
		after, err := s.ListSessions(ctx, u.TenantID, u.ID)
		if err != nil {
			return err
		}
		revoked := 0
		for _, b := range before {
			if !slices.ContainsFunc(after, func(a api.RefreshToken) bool { return a.ID == b.ID }) {
				revoked++
			}
		}
		fmt.Fprintf(stdout, "password of %s changed; %s revoked (the tenant's onPasswordChanged policy)\n", u.Email, tokens(revoked))
		return nil
	})
}

func userRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	var email, tenant string
	fs := userFlags("revoke", stdout, stderr, &cfg, &email, &tenant)
	application := fs.String("application", "", "revoke only the refresh tokens of this application (id or exact name)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if email == "" {
		return errors.New("user revoke: --email is required")
	}
	return withIdentity(ctx, cfg, func(s *identity.Service) error {
		u, err := findUser(ctx, s, tenant, email)
		if err != nil {
			return err
		}
		sel := identity.RevokeSelector{UserID: u.ID, TenantID: u.TenantID}
		where := ""
		if *application != "" {
			app, err := findApplication(ctx, s, u.TenantID, *application)
			if err != nil {
				return err
			}
			sel.ApplicationID, where = app.ID, " for "+app.Name
		}
		revoked, err := s.Revoke(ctx, sel, identity.ReasonRevoked)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			fmt.Fprintf(stdout, "%s has no live refresh token%s: nothing to revoke\n", u.Email, where)
			return nil
		case err != nil:
			return readable("not revoked", err)
		}
		fmt.Fprintf(stdout, "revoked %s of %s%s\n", tokens(len(revoked)), u.Email, where)
		return nil
	})
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	var tenant string
	fs := userFlags("list", stdout, stderr, &cfg, nil, &tenant)
	if err := parse(fs, args); err != nil {
		return err
	}
	return withIdentity(ctx, cfg, func(s *identity.Service) error {
		t, err := resolveTenant(ctx, s, tenant)
		if err != nil {
			return err
		}
		users, err := s.ListUsers(ctx, t.ID)
		if err != nil {
			return err
		}
		apps, err := s.ListApplications(ctx, t.ID)
		if err != nil {
			return err
		}
		return writeUsers(stdout, users, apps)
	})
}

// writeUsers writes users as a table, in their order, with the names of
// the applications they are registered for.
func writeUsers(w io.Writer, users []api.User, apps []api.Application) error {
	names := make(map[string]string, len(apps))
	for _, a := range apps {
		names[a.ID] = a.Name
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tUSERNAME\tACTIVE\tREGISTRATIONS")
	for _, u := range users {
		var regs []string
		for _, r := range u.Registrations {
			name := names[r.ApplicationID]
			if name == "" {
				name = r.ApplicationID
			}
			regs = append(regs, name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", u.ID, dash(u.Email), dash(u.Username), u.Active, dash(strings.Join(regs, ", ")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tokens says "1 refresh token", "2 refresh tokens".
func tokens(n int) string {
	if n == 1 {
		return "1 refresh token"
	}
	return fmt.Sprintf("%d refresh tokens", n)
}

// resolveTenant returns the tenant pinned by --tenant, or the only one;
// with several and none named, the error lists them.
func resolveTenant(ctx context.Context, s *identity.Service, id string) (api.Tenant, error) {
	t, err := s.ResolveTenant(ctx, identity.CanonicalID(id))
	var ae *api.Errors
	if err == nil || !errors.As(err, &ae) {
		return t, err
	}
	if id != "" {
		return api.Tenant{}, fmt.Errorf("--tenant %s: no such tenant", id)
	}
	all, lerr := s.ListTenants(ctx)
	if lerr != nil {
		return api.Tenant{}, readable("tenant", err)
	}
	var choices []string
	for _, t := range all {
		choices = append(choices, fmt.Sprintf("%s (%s)", t.ID, t.Name))
	}
	return api.Tenant{}, fmt.Errorf("there are %d tenants: name one with --tenant: %s", len(all), strings.Join(choices, ", "))
}

// findUser finds the user with the email in the tenant (--tenant, or the
// only one).
func findUser(ctx context.Context, s *identity.Service, tenant, email string) (api.User, error) {
	t, err := resolveTenant(ctx, s, tenant)
	if err != nil {
		return api.User{}, err
	}
	u, err := s.FindUser(ctx, t.ID, email, "")
	if errors.Is(err, storage.ErrNotFound) {
		return api.User{}, fmt.Errorf("no user with email %s in tenant %s", email, t.Name)
	}
	return u, err
}

// findApplication finds an application of the tenant by id or, failing
// that, by exact name; an unknown or ambiguous name is an error that
// lists the applications.
func findApplication(ctx context.Context, s *identity.Service, tenantID, idOrName string) (api.Application, error) {
	if id := identity.CanonicalID(idOrName); identity.ValidID(id) {
		a, err := s.GetApplication(ctx, tenantID, id)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return api.Application{}, err
		}
	}
	apps, err := s.ListApplications(ctx, tenantID)
	if err != nil {
		return api.Application{}, err
	}
	var match []api.Application
	var choices []string
	for _, a := range apps {
		if a.Name == idOrName {
			match = append(match, a)
		}
		choice := fmt.Sprintf("%q (%s)", a.Name, a.ID)
		if !a.Active {
			choice += " inactive"
		}
		choices = append(choices, choice)
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		if len(choices) == 0 {
			return api.Application{}, fmt.Errorf("--application %s: no such application: the tenant has none", idOrName)
		}
		return api.Application{}, fmt.Errorf("--application %s: no such application; the tenant's applications are: %s", idOrName, strings.Join(choices, ", "))
	}
	var ids []string
	for _, a := range match {
		ids = append(ids, a.ID)
	}
	return api.Application{}, fmt.Errorf("--application %s: %d applications have that name: give an id: %s", idOrName, len(match), strings.Join(ids, ", "))
}

// maxPasswordLine bounds the line read as a password from a pipe.
const maxPasswordLine = 64 << 10

// readPassword reads a password: the first line of stdin, without its
// line ending, or, when stdin is a terminal, typed without echo after a
// prompt on stderr, twice.
func readPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
		fmt.Fprint(stderr, prompt+": ")
		first, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if len(first) == 0 {
			return "", errors.New("no password given")
		}
		fmt.Fprint(stderr, "Again: ")
		again, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(again) {
			return "", errors.New("the two passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(stdin, maxPasswordLine+1), 4096).ReadString('\n')
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		return "", fmt.Errorf("read password from standard input: %w", err)
	case err != nil && len(line) > maxPasswordLine:
		return "", fmt.Errorf("the password on standard input is longer than %d bytes", maxPasswordLine)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if pw == "" {
		return "", errors.New("no password on standard input: pipe it as the first line (printf '%s\\n' \"$PASSWORD\" | latch user ...), or run in a terminal to be prompted")
	}
	return pw, nil
}

// readableError shows the identity service's validation errors (FusionAuth's
// field and general errors) one a line, code and message, rather than as
// the bare codes of *api.Errors.
type readableError struct {
	msg string
	err error
}

func (e *readableError) Error() string { return e.msg }
func (e *readableError) Unwrap() error { return e.err }

// readable returns err, prefixed with what failed; an *api.Errors is
// spelled out with its messages.
func readable(what string, err error) error {
	var ae *api.Errors
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var b strings.Builder
	b.WriteString(what + ":")
	fields := make([]string, 0, len(ae.FieldErrors))
	for f := range ae.FieldErrors {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		for _, fe := range ae.FieldErrors[f] {
			fmt.Fprintf(&b, "\n  %s: %s", fe.Code, fe.Message)
		}
	}
	for _, ge := range ae.GeneralErrors {
		fmt.Fprintf(&b, "\n  %s: %s", ge.Code, ge.Message)
	}
	return &readableError{msg: b.String(), err: err}
}
