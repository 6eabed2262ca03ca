package client

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/latchid/latch/dpop"
)

// maxNonce bounds the DPoP-Nonce values the Client adopts; every proof
// carries the nonce, and a proof may not exceed dpop.MaxProofSize.
const maxNonce = 1 << 10

// deviceKey is the device's DPoP key (RFC 9449): its PKCS#8 form, as
// Tokens.DPoPKey holds it, and, unless the Client has DPoP disabled, the
// parsed key. It is never modified once made.
type deviceKey struct {
	der    []byte
	signer crypto.Signer // nil when DPoP is disabled
}

// newDeviceKey makes a P-256 device key.
func newDeviceKey() (*deviceKey, error) {
	k, err := dpop.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("client: create DPoP key: %w", err)
	}
	der, err := dpop.MarshalKey(k)
	if err != nil {
		return nil, fmt.Errorf("client: create DPoP key: %w", err)
	}
	return &deviceKey{der: der, signer: k}, nil
}

// parseDeviceKey reads a stored device key. The error never quotes the
// key.
func parseDeviceKey(der []byte) (*deviceKey, error) {
	k, err := dpop.ParseKey(der)
	if err != nil {
		return nil, errors.New("client: the stored DPoP key cannot be read (log in again to start over with a new one)")
	}
	return &deviceKey{der: bytes.Clone(der), signer: k}, nil
}

// adoptKeyLocked takes the device key found in the store, if any. With
// DPoP disabled it keeps the bytes (so that they survive) without parsing
// them; otherwise a key that does not parse is an error, and nothing is
// sent with it or in its place.
func (c *Client) adoptKeyLocked(der []byte) error {
	switch {
	case len(der) == 0:
		c.key = nil
	case c.DisableDPoP:
		c.key = &deviceKey{der: bytes.Clone(der)}
	default:
		k, err := parseDeviceKey(der)
		if err != nil {
			return err
		}
		c.key = k
	}
	return nil
}

// proofKeyLocked returns the key to sign proofs with, or nil when DPoP is
// disabled or there is no key yet.
func (c *Client) proofKeyLocked() *deviceKey {
	if c.DisableDPoP || c.key == nil || c.key.signer == nil {
		return nil
	}
	return c.key
}

// authorize sets r's DPoP proof, when key is set, and its Authorization,
// when accessToken is set: "DPoP <JWT>" for a JWT bound to a key (one
// with cnf.jkt) when a proof goes along, "Bearer <JWT>" otherwise. The
// proof is made now, from the Client's clock, with a new jti, for r's
// method and URL (NewProof drops the query and fragment), with the
// access token's hash and nonce when they are set.
func (c *Client) authorize(r *http.Request, key *deviceKey, nonce, accessToken string) error {
	r.Header.Del(dpop.Header)
	scheme := "Bearer "
	if key != nil {
		method := r.Method
		if method == "" {
			method = http.MethodGet
		}
		proof, err := dpop.NewProof(key.signer, method, r.URL.String(), dpop.ProofOptions{
			AccessToken: accessToken,
			Nonce:       nonce,
			Now:         c.now(),
		})
		if err != nil {
			return fmt.Errorf("client: DPoP proof: %w", err)
		}
		r.Header.Set(dpop.Header, proof)
		if accessToken != "" && jwtJKT(accessToken) != "" {
			scheme = "DPoP "
		}
	}
	if accessToken != "" {
		r.Header.Set("Authorization", scheme+accessToken)
	}
	return nil
}

// currentNonce returns the nonce for the next proof.
func (c *Client) currentNonce() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nonce
}

// adoptNonceLocked remembers the DPoP-Nonce of a successful response.
func (c *Client) adoptNonceLocked(resp *http.Response) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return
	}
	if n := resp.Header.Get(dpop.NonceHeader); validNonce(n) {
		c.nonce = n
	}
}

// useNonce reports whether resp asks for a proof with a server nonce
// (RFC 9449 §8, §9) and returns that nonce: a 401 with a DPoP challenge
// whose error is use_dpop_nonce, or a 400 whose JSON body's error is
// use_dpop_nonce, either with a DPoP-Nonce header. To read a 400's body
// it reads at most maxErrorBody bytes and puts them back in front of the
// rest, so that the body can still be read whole.
func useNonce(resp *http.Response) (string, bool) {
	n := resp.Header.Get(dpop.NonceHeader)
	if !validNonce(n) {
		return "", false
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, ch := range parseChallenges(resp.Header.Values("WWW-Authenticate")) {
			if strings.EqualFold(ch.scheme, "DPoP") {
				return n, ch.params["error"] == "use_dpop_nonce"
			}
		}
	case http.StatusBadRequest:
		if resp.Body == nil || resp.Body == http.NoBody {
			return "", false
		}
		head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		var m struct {
			Error string `json:"error"`
		}
		return n, json.Unmarshal(head, &m) == nil && m.Error == "use_dpop_nonce"
	}
	return "", false
}

type readCloser struct {
	io.Reader
	io.Closer
}

// validNonce reports whether n is a nonce as RFC 9449 §8.1 defines it:
// 1*NQCHAR, where NQCHAR is %x21 / %x23-5B / %x5D-7E. Others are ignored.
func validNonce(n string) bool {
	if n == "" || len(n) > maxNonce {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// discard drains a little of resp's body, so that the connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

// challenge is one challenge of a WWW-Authenticate header: its scheme and
// its auth-params, names in lower case (RFC 9110 §11.6.1).
type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenges parses WWW-Authenticate values. It is lenient: it stops
// at what it cannot read and returns the challenges read so far. A
// token68 (as in "Basic abc==") is skipped.
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		s := v
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			tok, rest := readToken(s)
			if tok == "" {
				break
			}
			after := strings.TrimLeft(rest, " \t")
			if !strings.HasPrefix(after, "=") {
				out = append(out, challenge{scheme: tok, params: map[string]string{}})
				s = rest
				continue
			}
			// name=value, or a token68 ending in '='.
			eqs := len(after) - len(strings.TrimLeft(after, "="))
			val := strings.TrimLeft(after[eqs:], " \t")
			if eqs > 1 || val == "" || val[0] == ',' || len(out) == 0 {
				s = after[eqs:]
				continue
			}
			var value string
			var ok bool
			if val[0] == '"' {
				value, s, ok = readQuoted(val)
			} else {
				value, s = readToken(val)
				ok = value != ""
			}
			if !ok {
				break
			}
			name := strings.ToLower(tok)
			if _, dup := out[len(out)-1].params[name]; !dup {
				out[len(out)-1].params[name] = value
			}
		}
	}
	return out
}

// readToken reads a token (RFC 9110 §5.6.2), or a token68's leading
// characters ('/' included), from the start of s.
func readToken(s string) (tok, rest string) {
	i := 0
	for i < len(s) && (isTchar(s[i]) || s[i] == '/') {
		i++
	}
	return s[:i], s[i:]
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// readQuoted reads a quoted-string (RFC 9110 §5.6.4) from the start of s.
func readQuoted(s string) (value, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), s[i+1:], true
		case '\\':
			i++
			if i == len(s) {
				return "", "", false
			}
		}
		b.WriteByte(s[i])
	}
	return "", "", false
}
