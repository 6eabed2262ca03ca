package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// statusError is an answer other than the mapping writeError applies: a
// status with an optional JSON body, and the cause to log (never shown).
type statusError struct {
	code int
	body any
	err  error
}

func (e *statusError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("status %d: %v", e.code, e.err)
	}
	return fmt.Sprintf("status %d", e.code)
}

func (e *statusError) Unwrap() error { return e.err }

// status returns an error that answers code with no body.
func status(code int) error { return &statusError{code: code} }

// writeJSON writes v with FusionAuth's JSON content type.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, err = w.Write(b)
	return err
}

// noStore marks a response that carries a token as never to be cached
// (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeError maps an error to FusionAuth's answer: validation errors are
// 400 with their body, a missing object 404 and a bad credential 401,
// both empty; a store that is unavailable 503 (see writeUnavailable),
// whatever else the error says; anything else is logged and answered 500
// with an empty body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *api.Errors
	var se *statusError
	var oe *api.OAuthError
	var rl *errRateLimited
	var de *dpopError
	var kr *apiKeyRefusal
	switch {
	case errors.As(err, &rl):
		writeRateLimited(w, rl)
	case errors.As(err, &de):
		s.writeDPoPError(w, r, de)
	case errors.Is(err, storage.ErrUnavailable):
		s.writeUnavailable(w, r)
	case errors.As(err, &kr):
		s.log.Warn("API key refused", "request", r.Context().Value(ctxRequestID), "method", r.Method, "path", r.URL.Path,
			"client", s.clientAddress(r), "reason", kr.reason)
		w.WriteHeader(http.StatusUnauthorized)
	case errors.As(err, &se):
		if se.err != nil {
			s.log.Warn("request refused", "request", r.Context().Value(ctxRequestID), "status", se.code, "err", se.err)
		}
		if se.body == nil {
			w.WriteHeader(se.code)
			return
		}
		_ = writeJSON(w, se.code, se.body)
	case errors.As(err, &ae):
		_ = writeJSON(w, http.StatusBadRequest, ae)
	case errors.As(err, &oe):
		_ = writeJSON(w, http.StatusBadRequest, oe)
	case errors.Is(err, storage.ErrNotFound):
		w.WriteHeader(http.StatusNotFound)
	case errors.Is(err, identity.ErrUnauthorized):
		w.WriteHeader(http.StatusUnauthorized)
	case errors.Is(err, identity.ErrBusy):
		w.Header().Set("Retry-After", busyRetryAfter)
		_ = writeJSON(w, http.StatusServiceUnavailable, api.GeneralError("[Busy]", busyMessage))
	default:
		s.log.Error("internal error", "request", r.Context().Value(ctxRequestID), "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// The answer to identity.ErrBusy: too many passwords are being hashed.
const (
	busyRetryAfter = "1" // seconds: the queue of hashes empties in well under that
	busyMessage    = "Too many logins are in progress. Retry after the number of seconds in the Retry-After header."
)

// retryAfterUnavailable is the Retry-After, in seconds, of the answers
// given while the store is unavailable.
const retryAfterUnavailable = "5"

// emptyErrorBodies are the routes whose error answers have no body: the
// methods of FusionAuth's Go client for them have no error type, and fail
// on a body they cannot decode.
var emptyErrorBodies = map[string]bool{
	"GET /api/jwt/validate":                            true,
	"POST /api/logout":                                 true,
	"GET /api/jwt/public-key":                          true,
	"GET /.well-known/jwks.json":                       true,
	"GET /.well-known/openid-configuration":            true,
	"GET /{tenantId}/.well-known/openid-configuration": true,
}

// writeUnavailable answers a request the store could not serve (an
// outage: storage.ErrUnavailable) with 503 and Retry-After: on the OAuth
// endpoints RFC 6749's error JSON, temporarily_unavailable; on the routes
// of emptyErrorBodies no body; elsewhere FusionAuth's error JSON. It logs
// nothing of its own: the store's Outage logs the outage, and counts the
// requests refused.
func (s *Server) writeUnavailable(w http.ResponseWriter, r *http.Request) {
	s.outage.Refused()
	w.Header().Set("Retry-After", retryAfterUnavailable)
	const msg = "The database is unavailable. Retry after the number of seconds in the Retry-After header."
	switch {
	case strings.HasPrefix(r.URL.Path, "/oauth2/"):
		noStore(w)
		_ = writeJSON(w, http.StatusServiceUnavailable, &api.OAuthError{Code: api.OAuthTemporarilyUnavailable, Description: msg})
	case emptyErrorBodies[r.Pattern]:
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		_ = writeJSON(w, http.StatusServiceUnavailable, api.GeneralError("[ServiceUnavailable]", msg))
	}
}

// invalidJSON is FusionAuth's answer to a body it cannot read.
func invalidJSON(msg string) *api.Errors {
	return api.GeneralError("[invalidJSON]", "Unable to parse the JSON request body. "+msg)
}

// decodeJSON reads a JSON request body into dst. dst may hold defaults:
// fields absent from the body keep them. An empty body leaves dst as it is.
func decodeJSON(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	return unmarshalJSON(body, dst)
}

// readBody reads the whole (capped) body.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &statusError{code: http.StatusRequestEntityTooLarge,
			body: api.GeneralError("[tooLarge]", fmt.Sprintf("The request body is larger than %d bytes.", tooBig.Limit))}
	}
	if err != nil {
		return nil, &statusError{code: http.StatusBadRequest, body: invalidJSON("The body could not be read."), err: err}
	}
	return body, nil
}

// unmarshalJSON decodes one JSON value, refusing invalid UTF-8, trailing
// data and wrong types with FusionAuth's [invalidJSON] error.
func unmarshalJSON(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return invalidJSON("The body is not valid UTF-8.")
	}
	if bytes.Contains(body, []byte(`\u0000`)) {
		return invalidJSON("The body holds a NUL character.")
	}
	d := json.NewDecoder(bytes.NewReader(canonicalJSON(body)))
	if err := d.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return invalidJSON(fmt.Sprintf("The property [%s] was a JSON %s but must be a %s.", te.Field, te.Value, jsonKind(te.Type.String())))
		case errors.As(err, &se):
			return invalidJSON(fmt.Sprintf("The body is not valid JSON (offset %d).", se.Offset))
		default:
			return invalidJSON("The body is not valid JSON.")
		}
	}
	if _, err := d.Token(); err != io.EOF {
		return invalidJSON("The body holds more than one JSON value.")
	}
	return nil
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.HasPrefix(goType, "map"), strings.Contains(goType, "."):
		return "object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "number"
	case goType == "bool":
		return "boolean"
	}
	return goType
}

// query returns a query parameter, treating "", "null" and "undefined" as
// absent: FusionAuth's TypeScript client sends those for unset arguments.
func query(r *http.Request, name string) string {
	v := r.URL.Query().Get(name)
	if v == "null" || v == "undefined" {
		return ""
	}
	return parameterValue(name, v)
}

// form returns a form parameter, with the same absent values as query.
func form(r *http.Request, name string) string {
	v := r.PostForm.Get(name)
	if v == "null" || v == "undefined" {
		return ""
	}
	return parameterValue(name, v)
}

// boolQuery parses an optional boolean query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	switch strings.ToLower(query(r, name)) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, api.GeneralError("[invalid]"+name, fmt.Sprintf("The [%s] parameter must be true or false.", name))
}
