package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
)

// Ids are case-insensitive on input and lowercase everywhere else, as in
// FusionAuth: its example kickstarts write application ids in upper case
// and their apps then expect the lowercase id in a token's aud. Latch
// keeps every id canonical (identity.CanonicalID) and this file is the
// one place where a request's ids are made so, before any handler reads
// them, whatever the route:
//
//   - the path's wildcards ({id}, {userId}, {tenantId} …) that hold a UUID,
//     rewritten by handle for every route;
//   - the X-FusionAuth-TenantId header, also in handle;
//   - query and form parameters named as ids (isIDName), as query and
//     form return them, and the client_id of HTTP Basic client
//     authentication (clientCredentials);
//   - the members of a JSON body named as ids, and the elements of id
//     lists (tenantIds), in unmarshalJSON, whichever type the body decodes
//     into; free-form members (data, headers, attributes) are left alone.
//
// Only values that are UUIDs change; anything else is left for the
// validation to refuse as before.

// isIDName reports whether a parameter or JSON member called name holds
// object ids: "id", names ending in "Id" or "Ids" (userId, applicationId,
// tenantIds, accessTokenKeyId …) and OAuth's client_id.
func isIDName(name string) bool {
	return name == "id" || strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "Ids") || strings.HasSuffix(name, "_id")
}

// canonicalRequest makes the ids of r's path wildcards and of its
// X-FusionAuth-TenantId header canonical. r.Pattern names the wildcards,
// so a route added later is covered without a word of its own.
func canonicalRequest(r *http.Request) {
	for _, name := range patternWildcards(r.Pattern) {
		if v := r.PathValue(name); v != "" {
			if c := identity.CanonicalID(v); c != v {
				r.SetPathValue(name, c)
			}
		}
	}
	if h := r.Header.Get(api.HeaderTenantID); h != "" {
		if c := identity.CanonicalID(strings.TrimSpace(h)); c != h && identity.ValidID(c) {
			r.Header.Set(api.HeaderTenantID, c)
		}
	}
}

// patternWildcards returns the names of a ServeMux pattern's wildcards:
// "{id}" and "{rest...}" give "id" and "rest".
func patternWildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		if name := strings.TrimSuffix(pattern[i+1:i+j], "..."); name != "" && name != "$" {
			names = append(names, name)
		}
		pattern = pattern[i+j+1:]
	}
}

// parameterValue returns the value of a query or form parameter as
// handlers see it: ids canonical (see isIDName).
func parameterValue(name, v string) string {
	if isIDName(name) {
		return identity.CanonicalID(v)
	}
	return v
}

// anyUUID finds UUID-shaped text in any case; canonicalJSON rewrites a
// body only when it holds one with an upper-case letter.
var anyUUID = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// freeFormMembers hold the caller's own data, whose member names mean
// nothing to Latch: their values are kept as sent.
var freeFormMembers = map[string]bool{"data": true, "headers": true, "attributes": true}

// canonicalJSON returns body with the ids of its id members canonical
// (see isIDName), or body itself when there is nothing to change or it is
// not one valid JSON value (the decoder then reports the error).
func canonicalJSON(body []byte) []byte {
	if !hasUpperUUID(body) {
		return body
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber() // numbers come back as sent
	var doc any
	if err := d.Decode(&doc); err != nil || d.More() {
		return body
	}
	if !canonicalMembers(doc) {
		return body
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// hasUpperUUID reports whether b holds a UUID with an upper-case letter.
func hasUpperUUID(b []byte) bool {
	for _, m := range anyUUID.FindAll(b, -1) {
		if bytes.ContainsAny(m, "ABCDEF") {
			return true
		}
	}
	return false
}

// canonicalMembers rewrites, in place, the ids of v's id members and id
// lists, at any depth, and reports whether it changed any.
func canonicalMembers(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for name, child := range v {
			if freeFormMembers[name] {
				continue
			}
			if isIDName(name) {
				switch c := child.(type) {
				case string:
					if id := identity.CanonicalID(c); id != c {
						v[name], changed = id, true
					}
					continue
				case []any:
					for i, e := range c {
						if s, ok := e.(string); ok {
							if id := identity.CanonicalID(s); id != s {
								c[i], changed = id, true
							}
						}
					}
				}
			}
			if canonicalMembers(child) {
				changed = true
			}
		}
	case []any:
		for _, e := range v {
			if canonicalMembers(e) {
				changed = true
			}
		}
	}
	return changed
}
