package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/latchid/latch/api"
)

var (
	// ErrLoginRequired reports that the Client holds no session: the user
	// never logged in, logged out, or the backend ended the session.
	ErrLoginRequired = errors.New("client: login required")

	// ErrNoTokens is returned by TokenStore.Load when the store is empty.
	ErrNoTokens = errors.New("client: no tokens stored")
)

// maxErrorBody bounds how much of an error response APIError keeps.
const maxErrorBody = 64 << 10

// APIError is a response from the backend other than the one expected,
// modelled on oauth2.RetrieveError: Login returns it for any status but
// 200 (401 for bad credentials, 409 or 423 for a locked account, 400 with
// Errors for an invalid request), Logout for any status but 2xx.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Errors is the FusionAuth error body (fieldErrors, generalErrors),
	// when the backend sent one.
	Errors *api.Errors
	// Message is a human-readable message found in the body: its "message",
	// "error_description" or "error" member, the first general error, the
	// reason of a login-preventing action, or a short plain-text body.
	Message string
	// Body is the start of the response body (at most 64 KiB).
	Body []byte
}

// Error describes the status and the message or error codes.
func (e *APIError) Error() string {
	s := fmt.Sprintf("client: backend answered %d %s", e.Status, http.StatusText(e.Status))
	switch {
	case e.Message != "":
		s += ": " + e.Message
	case !e.Errors.Empty():
		s += ": " + strings.TrimPrefix(e.Errors.Error(), "api: ")
	}
	return s
}

// Unwrap returns Errors, so that errors.As finds an *api.Errors.
func (e *APIError) Unwrap() error {
	if e.Errors.Empty() {
		return nil
	}
	return e.Errors
}

// newAPIError reads resp's body (and closes it) into an APIError.
func newAPIError(resp *http.Response) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{Status: resp.StatusCode, Body: body}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var errs api.Errors
		if json.Unmarshal(trimmed, &errs) == nil && !errs.Empty() {
			e.Errors = &errs
		}
		var m struct {
			Message          string                       `json:"message"`
			ErrorDescription string                       `json:"error_description"`
			Error            string                       `json:"error"`
			Actions          []api.LoginPreventedResponse `json:"actions"`
		}
		if json.Unmarshal(trimmed, &m) == nil {
			e.Message = firstNonEmpty(m.Message, m.ErrorDescription, m.Error)
			if e.Message == "" && e.Errors != nil && len(e.Errors.GeneralErrors) > 0 {
				e.Message = e.Errors.GeneralErrors[0].Message
			}
			for _, a := range m.Actions {
				if e.Message == "" {
					e.Message = firstNonEmpty(a.LocalizedName, a.Reason, a.Name)
				}
			}
		}
	} else if mediaType == "text/plain" && len(trimmed) <= 200 && !bytes.ContainsAny(trimmed, "\r\n") {
		e.Message = string(trimmed)
	}
	return e
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
