package mobile

import (
	"bytes"
	"io"
	"net/http"
	"slices"

	"github.com/latchid/latch/client"
)

// User is the logged-in user, as Session.Login and Session.User return
// it. Its fields are read in Java as getID(), getEmail(), getUsername()
// (Kotlin: user.id, user.email, user.username) and in Swift as user.id_
// (id is an Objective-C keyword), user.email, user.username. Its roles, a
// list that gomobile cannot carry as such, are read with RoleCount and
// Role, or tested with HasRole.
type User struct {
	// ID is the user's id at Latch (a UUID).
	ID string
	// Email is the user's email address, "" if none.
	Email string
	// Username is the user's username, "" if none.
	Username string

	roles []string
}

// newUser makes a User of what the backend said at login and of the
// claims of the access token (client.Tokens.Claims): its roles are the
// ones the user holds in the backend's application, which the login
// answer's user, listing every registration, does not single out.
func newUser(t client.Tokens) *User {
	c, _ := t.Claims()
	v := &User{ID: c.Subject, Email: c.Email, Username: c.PreferredUsername, roles: slices.Clone(c.Roles)}
	if u := t.User; u != nil {
		v.ID, v.Email, v.Username = u.ID, u.Email, u.Username
	}
	return v
}

// RoleCount returns how many roles the user holds in the backend's
// application, as the JWT says.
func (u *User) RoleCount() int {
	if u == nil {
		return 0
	}
	return len(u.roles)
}

// Role returns the i-th role, for i from 0 to RoleCount()-1, or "" for
// any other i.
func (u *User) Role(i int) string {
	if u == nil || i < 0 || i >= len(u.roles) {
		return ""
	}
	return u.roles[i]
}

// HasRole reports whether the user holds the role.
func (u *User) HasRole(role string) bool {
	return u != nil && slices.Contains(u.roles, role)
}

// Response is the backend's answer to Session.Do, its body read: Status,
// Body or Text, and Header. Check turns a status other than 2xx into an
// error carrying the backend's message.
type Response struct {
	status int
	header http.Header
	body   []byte
}

// Status returns the HTTP status code, such as 200.
func (r *Response) Status() int {
	if r == nil {
		return 0
	}
	return r.status
}

// Body returns the response body (Java byte[], Swift Data), empty if
// none.
func (r *Response) Body() []byte {
	if r == nil {
		return nil
	}
	return bytes.Clone(r.body)
}

// Text returns the response body as a string, for JSON and other text.
func (r *Response) Text() string {
	if r == nil {
		return ""
	}
	return string(r.body)
}

// Header returns the first value of the response header name (case
// insensitive), or "" if there is none.
func (r *Response) Header(name string) string {
	if r == nil {
		return ""
	}
	return r.header.Get(name)
}

// Check returns nil when the status is 2xx, and otherwise an error (Java:
// throws an Exception) describing the backend's answer, whose status,
// code and message StatusOf, CodeOf and MessageOf read: what
// client.CheckResponse makes of it.
func (r *Response) Check() error {
	if r == nil {
		r = &Response{}
	}
	return client.CheckResponse(&http.Response{
		StatusCode: r.status,
		Header:     r.header.Clone(),
		Body:       io.NopCloser(bytes.NewReader(r.body)),
	})
}

// TwoFactorEnrolment is a new authenticator secret, as
// Session.StartTwoFactorEnrolment returns it (Java getSecret(), getURI();
// Swift secret, uri).
type TwoFactorEnrolment struct {
	// Secret is the secret in base32, for the user to type in.
	Secret string
	// URI is its otpauth:// URI, to show as a QR code.
	URI string
}

// RecoveryCodes are the codes Session.EnableTwoFactor returns, each good
// for one login without the authenticator app: read with Count and Code,
// which gomobile can carry where a list it cannot.
type RecoveryCodes struct {
	codes []string
}

// Count returns how many recovery codes there are.
func (r *RecoveryCodes) Count() int {
	if r == nil {
		return 0
	}
	return len(r.codes)
}

// Code returns the i-th code, for i from 0 to Count()-1, or "" for any
// other i.
func (r *RecoveryCodes) Code(i int) string {
	if r == nil || i < 0 || i >= len(r.codes) {
		return ""
	}
	return r.codes[i]
}
