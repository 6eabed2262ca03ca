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
// modelled on oauth2.RetrieveError and go-github's ErrorResponse: Login
// returns it for any status but 200 (401 for bad credentials, 409 or 423
// for a locked account, 400 with Errors for an invalid request), Logout
// and CheckResponse for any status but 2xx.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the machine-readable code of a JSON error body: its "error"
	// member, as in the storefront's {"error": "not_found", "message":
	// ...}, guard's {"error": "invalid_token", "error_description": ...}
	// and OAuth 2.0 error bodies. Empty when the body has none.
	Code string
	// Errors is the FusionAuth error body (fieldErrors, generalErrors),
	// when the backend sent one.
	Errors *api.Errors
	// Message is a human-readable message found in the body: its "message",
	// "error_description" or "error" member, the first general error, the
	// reason of a login-preventing action, or a short plain-text body.
	Message string
	// Body is the start of the response body (at most 64 KiB), whatever
	// its type: what there is to show when Message is empty.
	Body []byte
}

// Error describes the status and the message, error codes or code.
func (e *APIError) Error() string {
	s := fmt.Sprintf("client: backend answered %d %s", e.Status, http.StatusText(e.Status))
	switch {
	case e.Message != "":
		s += ": " + e.Message
	case !e.Errors.Empty():
		s += ": " + strings.TrimPrefix(e.Errors.Error(), "api: ")
	case e.Code != "":
		s += ": " + e.Code
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

// CheckResponse returns nil when resp's status is 2xx, and otherwise an
// *APIError describing the answer, with the code and message of a JSON
// error body (see APIError) and the start of the body. In that case it
// reads at most 64 KiB of the body and closes it; a 2xx body is left
// alone. It suits any response from the backend, those of the Client's
// HTTP and Transport included:
//
//	resp, err := c.HTTP().Get(url)
//	if err != nil {
//		return err
//	}
//	defer resp.Body.Close()
//	if err := client.CheckResponse(resp); err != nil {
//		return err // an *APIError
//	}
//
// A 401 with WWW-Authenticate that ended the session reaches the caller
// as an ordinary response, after the Client has cleared the session and
// called OnLoginRequired (see Transport); CheckResponse makes it an
// *APIError with Status 401 like any other, and Tokens reports
// ErrLoginRequired from then on.
func CheckResponse(resp *http.Response) error {
	if resp == nil {
		return errors.New("client: CheckResponse: no response")
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return newAPIError(resp)
}

// newAPIError reads resp's body (and closes it) into an APIError.
func newAPIError(resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode}
	if resp.Body == nil {
		return e
	}
	defer resp.Body.Close()
	e.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	trimmed := bytes.TrimSpace(e.Body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		e.parseJSON(trimmed)
		return e
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType == "text/plain" && len(trimmed) <= 200 && !bytes.ContainsAny(trimmed, "\r\n") {
		e.Message = string(trimmed)
	}
	return e
}

// parseJSON fills Code, Errors and Message from a JSON error body. Each
// member is read on its own, so that one of an unexpected type (an
// "error" object, say) spoils nothing else.
func (e *APIError) parseJSON(body []byte) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return
	}
	str := func(name string) string {
		var s string
		if json.Unmarshal(m[name], &s) != nil {
			return ""
		}
		return s
	}
	var errs api.Errors
	if json.Unmarshal(body, &errs) == nil && !errs.Empty() {
		e.Errors = &errs
	}
	e.Code = str("error")
	e.Message = firstNonEmpty(str("message"), str("error_description"), e.Code)
	if e.Message == "" && e.Errors != nil && len(e.Errors.GeneralErrors) > 0 {
		e.Message = e.Errors.GeneralErrors[0].Message
	}
	if e.Message == "" {
		var actions []api.LoginPreventedResponse
		json.Unmarshal(m["actions"], &actions)
		for _, a := range actions {
			if e.Message = firstNonEmpty(a.LocalizedName, a.Reason, a.Name); e.Message != "" {
				break
			}
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
