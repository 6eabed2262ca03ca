package httpapi_test

import "testing"

// TestImplements: the route table says which requests Latch serves, as a
// kickstart asks before it runs them. A wildcard is an id: a path with
// something else there belongs to an API Latch does not have, though a
// route matches it; a route with an id of no object is still served.
func TestImplements(t *testing.T) {
	e := newEnv(t)
	routes, ok := e.srv.Handler().(interface {
		Implements(method, path string) bool
	})
	if !ok {
		t.Fatalf("the handler %T does not say which routes it implements", e.srv.Handler())
	}
	const id = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/application", true},
		{"POST", "/api/application/" + id, true},
		{"PATCH", "/api/tenant/" + id, true},
		{"PUT", "/api/tenant/" + id, true},
		{"POST", "/api/user/registration/" + id, true},
		{"POST", "/api/user/registration", true},
		{"POST", "/api/user/import", true},
		{"POST", "/api/key/generate/" + id, true},
		{"POST", "/api/user/" + "3C219E58-ED0E-4B18-AD48-F4F92793AE32", true},
		{"GET", "/api/status", true},
		{"HEAD", "/api/status", true},
		{"POST", "/api/theme/" + id, false},
		{"PATCH", "/api/theme/" + id, false},
		{"POST", "/api/email/template/" + id, false},
		{"PATCH", "/api/system-configuration", false},
		{"POST", "/api/lambda", false},
		{"POST", "/api/message/template/" + id, false},
		{"POST", "/api/user/family", false},
		{"POST", "/api/user/family/" + id, false},
		{"POST", "/api/user/action", false},
		{"POST", "/api/application/" + id + "/role", true},
		{"DELETE", "/api/application/" + id + "/role/" + id, true},
		{"POST", "/api/user/not-an-id", false},
		{"POST", "/api/status", false},
		{"DELETE", "/api/login", false},
		{"POST", "/", false},
		{"POST", "/api/application/", false},
	} {
		if got := routes.Implements(tc.method, tc.path); got != tc.want {
			t.Errorf("Implements(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
