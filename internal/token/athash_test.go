package token

import "testing"

func TestLeftHalfHash(t *testing.T) {
	// The access token and at_hash of OpenID Connect Core's example
	// (Appendix A.3, RS256), then the other algorithms' hash lengths.
	const example = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
	tests := []struct {
		alg, want string
		wantErr   bool
	}{
		{alg: RS256, want: "77QmUPtjPfzWtF2AnpK9RQ"},
		{alg: ES256, want: "77QmUPtjPfzWtF2AnpK9RQ"},
		{alg: HS256, want: "77QmUPtjPfzWtF2AnpK9RQ"},
		{alg: EdDSA, want: "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM"},
		{alg: "none", wantErr: true},
		{alg: "PS256", wantErr: true},
	}
	for _, tc := range tests {
		got, err := LeftHalfHash(tc.alg, example)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("LeftHalfHash(%s) = %q, %v; want %q (error %v)", tc.alg, got, err, tc.want, tc.wantErr)
		}
	}
}
