package mobile

import (
	"errors"

	"github.com/latchid/latch/client"
)

// StatusOf returns the HTTP status of the backend's answer that err
// reports (a refused Login or Logout, Response.Check), such as 401 for a
// wrong password; 0 when err is nil or no answer of the backend (the
// network, a timeout, a bad configuration).
func StatusOf(err error) int {
	if e, ok := apiError(err); ok {
		return e.Status
	}
	return 0
}

// CodeOf returns the machine-readable code of the backend's answer that
// err reports, the "error" member of its JSON body, such as
// "invalid_credentials" or "invalid_token"; "" when there is none.
func CodeOf(err error) string {
	if e, ok := apiError(err); ok {
		return e.Code
	}
	return ""
}

// MessageOf returns the human-readable message of the backend's answer
// that err reports, fit to show the user (such as "Invalid login
// credentials."); "" when there is none, and then the exception's own
// message describes err.
func MessageOf(err error) string {
	if e, ok := apiError(err); ok {
		return e.Message
	}
	return ""
}

// IsLoginRequired reports whether err says that there is no session: the
// user never logged in, logged out, or the backend ended the session
// (Session.User's error then).
func IsLoginRequired(err error) bool {
	return errors.Is(err, client.ErrLoginRequired)
}

func apiError(err error) (*client.APIError, bool) {
	var e *client.APIError
	if errors.As(err, &e) && e != nil {
		return e, true
	}
	return nil, false
}

// IsTwoFactorRequired reports whether err, from Session.Login, says that
// the password was right and a second factor is due: the app asks for a
// code and calls Session.CompleteTwoFactor.
func IsTwoFactorRequired(err error) bool {
	var e *client.TwoFactorRequiredError
	return errors.As(err, &e)
}
