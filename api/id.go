package api

import "strings"

// CanonicalID returns id as FusionAuth and Latch write ids: a UUID in the
// 8-4-4-4-12 form, in any case, comes back lowercase; anything else
// comes back unchanged. Ids are case-insensitive on input (FusionAuth's
// example kickstarts write them in upper case) and lowercase on output,
// so a token's aud is the lowercase application id however it was given.
func CanonicalID(id string) string {
	if len(id) != 36 {
		return id
	}
	upper := false
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return id
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			upper = true
		default:
			return id
		}
	}
	if !upper {
		return id
	}
	return strings.ToLower(id)
}
