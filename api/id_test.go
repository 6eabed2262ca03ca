package api

import "testing"

func TestCanonicalID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"E9FDB985-9173-4E01-9D73-AC2D60D1DC8E", "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e"},
		{"e9fdb985-9173-4E01-9d73-ac2d60d1dc8e", "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e"},
		{"e9fdb985-9173-4e01-9d73-ac2d60d1dc8e", "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e"},
		{"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"},
		// Not UUIDs: unchanged, for the caller's validation.
		{"", ""},
		{"Store", "Store"},
		{"E9FDB985-9173-4E01-9D73-AC2D60D1DC8", "E9FDB985-9173-4E01-9D73-AC2D60D1DC8"},
		{"E9FDB985-9173-4E01-9D73-AC2D60D1DC8G", "E9FDB985-9173-4E01-9D73-AC2D60D1DC8G"},
		{"E9FDB985x9173-4E01-9D73-AC2D60D1DC8E", "E9FDB985x9173-4E01-9D73-AC2D60D1DC8E"},
		{"{E9FDB985-9173-4E01-9D73-AC2D60D1DC}", "{E9FDB985-9173-4E01-9D73-AC2D60D1DC}"},
		{"ANA@EXAMPLE.ORG", "ANA@EXAMPLE.ORG"},
	} {
		if got := CanonicalID(tc.in); got != tc.want {
			t.Errorf("CanonicalID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
