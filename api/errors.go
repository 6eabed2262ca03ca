package api

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one error of an Errors body: a machine code in FusionAuth's
// bracket form ("[blank]loginId") and a human message.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// Errors is FusionAuth's error body for the /api endpoints, returned with 400.
// It implements error so that validation can return it directly.
type Errors struct {
	FieldErrors   map[string][]Error `json:"fieldErrors,omitempty"`
	GeneralErrors []Error            `json:"generalErrors,omitempty"`
}

// Field adds an error for a request field and returns e, for chaining.
// The code is built as "[kind]field".
func (e *Errors) Field(field, kind, message string) *Errors {
	if e.FieldErrors == nil {
		e.FieldErrors = make(map[string][]Error)
	}
	e.FieldErrors[field] = append(e.FieldErrors[field], Error{Code: "[" + kind + "]" + field, Message: message})
	return e
}

// General adds an error not tied to one field and returns e.
func (e *Errors) General(code, message string) *Errors {
	e.GeneralErrors = append(e.GeneralErrors, Error{Code: code, Message: message})
	return e
}

// Empty reports whether e holds no error.
func (e *Errors) Empty() bool {
	return e == nil || (len(e.FieldErrors) == 0 && len(e.GeneralErrors) == 0)
}

// Err returns e as an error, or nil when it holds none.
func (e *Errors) Err() error {
	if e.Empty() {
		return nil
	}
	return e
}

// Error summarises the codes, field errors in field order first.
func (e *Errors) Error() string {
	var codes []string
	fields := make([]string, 0, len(e.FieldErrors))
	for f := range e.FieldErrors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		for _, fe := range e.FieldErrors[f] {
			codes = append(codes, fe.Code)
		}
	}
	for _, ge := range e.GeneralErrors {
		codes = append(codes, ge.Code)
	}
	return "api: " + strings.Join(codes, ", ")
}

// FieldError returns a one-field Errors.
func FieldError(field, kind, message string) *Errors {
	return new(Errors).Field(field, kind, message)
}

// GeneralError returns a one-error Errors.
func GeneralError(code, message string) *Errors {
	return new(Errors).General(code, message)
}

// OAuthError is the RFC 6749 §5.2 error body of the /oauth2 endpoints, with
// FusionAuth's error_reason.
type OAuthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Reason      string `json:"error_reason,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	// ChangePasswordID comes with change_password_required.
	ChangePasswordID string `json:"change_password_id,omitempty"`
	// TwoFactorID and TwoFactorMethods come with two_factor_required.
	TwoFactorID      string            `json:"two_factor_id,omitempty"`
	TwoFactorMethods []TwoFactorMethod `json:"two_factor_methods,omitempty"`
}

// Error implements error.
func (e *OAuthError) Error() string {
	if e.Description == "" {
		return "oauth2: " + e.Code
	}
	return fmt.Sprintf("oauth2: %s: %s", e.Code, e.Description)
}

// RFC 6749, RFC 7009 and RFC 9449 error codes.
const (
	OAuthInvalidRequest         = "invalid_request"
	OAuthInvalidClient          = "invalid_client"
	OAuthInvalidGrant           = "invalid_grant"
	OAuthUnauthorizedClient     = "unauthorized_client"
	OAuthUnsupportedGrantType   = "unsupported_grant_type"
	OAuthInvalidScope           = "invalid_scope"
	OAuthUnsupportedTokenType   = "unsupported_token_type"
	OAuthServerError            = "server_error"
	OAuthTemporarilyUnavailable = "temporarily_unavailable"
	OAuthInvalidToken           = "invalid_token"
	OAuthInvalidDPoPProof       = "invalid_dpop_proof"
	OAuthUseDPoPNonce           = "use_dpop_nonce"
	OAuthChangePasswordRequired = "change_password_required"
	OAuthTwoFactorRequired      = "two_factor_required"
)
