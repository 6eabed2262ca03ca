package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// adminRoutes registers the API-key-only APIs that manage tenants,
// applications, users, registrations, keys, webhooks and API keys.
func (s *Server) adminRoutes() {
	h := func(pattern string, fn handlerFunc) { s.mux.Handle(pattern, s.handle(authAPIKey, fn)) }
	// Server-wide APIs: keys locked to a tenant may not call them.
	sh := func(pattern string, fn handlerFunc) { s.mux.Handle(pattern, s.handle(authSuperKey, fn)) }

	h("POST /api/user", s.createUser)
	h("POST /api/user/{id}", s.createUser)
	h("GET /api/user", s.findUser)
	h("GET /api/user/{id}", s.getUser)
	h("PUT /api/user/{id}", s.updateUser)
	h("PATCH /api/user/{id}", s.patchUser)
	h("DELETE /api/user/{id}", s.deleteUser)
	h("POST /api/user/import", s.importUsers)

	h("POST /api/user/registration", s.register)
	h("POST /api/user/registration/{userId}", s.register)
	h("POST /api/user/registration/{userId}/{applicationId}", s.register)
	h("GET /api/user/registration/{userId}/{applicationId}", s.getRegistration)
	h("PUT /api/user/registration/{userId}/{applicationId}", s.updateRegistration)
	h("DELETE /api/user/registration/{userId}/{applicationId}", s.deleteRegistration)

	h("POST /api/application", s.createApplication)
	h("POST /api/application/{id}", s.createApplication)
	h("GET /api/application", s.listApplications)
	h("GET /api/application/{id}", s.getApplication)
	h("PUT /api/application/{id}", s.updateApplication)
	h("PATCH /api/application/{id}", s.updateApplication)
	h("DELETE /api/application/{id}", s.deleteApplication)
	h("POST /api/application/{id}/role", s.createRole)
	h("POST /api/application/{id}/role/{roleId}", s.createRole)
	h("PUT /api/application/{id}/role/{roleId}", s.updateRole)
	h("PATCH /api/application/{id}/role/{roleId}", s.updateRole)
	h("DELETE /api/application/{id}/role", s.deleteRole)
	h("DELETE /api/application/{id}/role/{roleId}", s.deleteRole)

	sh("POST /api/tenant", s.createTenant)
	sh("POST /api/tenant/{id}", s.createTenant)
	h("GET /api/tenant", s.listTenants)
	h("GET /api/tenant/{id}", s.getTenant)
	h("PUT /api/tenant/{id}", s.updateTenant)
	h("PATCH /api/tenant/{id}", s.updateTenant)
	h("DELETE /api/tenant/{id}", s.deleteTenant)

	sh("POST /api/key/generate", s.generateKey)
	sh("POST /api/key/generate/{id}", s.generateKey)
	h("GET /api/key", s.listKeys)
	h("GET /api/key/{id}", s.getKey)
	sh("DELETE /api/key/{id}", s.deleteKey)

	sh("POST /api/webhook", s.createWebhook)
	sh("POST /api/webhook/{id}", s.createWebhook)
	sh("GET /api/webhook", s.listWebhooks)
	sh("GET /api/webhook/{id}", s.getWebhook)
	sh("PUT /api/webhook/{id}", s.updateWebhook)
	sh("PATCH /api/webhook/{id}", s.updateWebhook)
	sh("DELETE /api/webhook/{id}", s.deleteWebhook)

	sh("POST /api/api-key", s.createAPIKey)
	sh("POST /api/api-key/{id}", s.createAPIKey)
	sh("GET /api/api-key", s.listAPIKeys)
	sh("GET /api/api-key/{id}", s.getAPIKey)
	sh("DELETE /api/api-key/{id}", s.deleteAPIKey)
}

// --- users

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var req api.UserRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	resp, err := s.id.CreateUser(r.Context(), tenantID, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	u, err := s.id.GetUser(r.Context(), tenantID, r.PathValue("id"), true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.UserResponse{User: &u})
}

// findUser serves GET /api/user?email= | ?username= | ?loginId=.
func (s *Server) findUser(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	email, username, loginID := query(r, "email"), query(r, "username"), query(r, "loginId")
	var u api.User
	switch {
	case email != "":
		u, err = s.id.FindUser(r.Context(), tenantID, email, "")
	case username != "":
		u, err = s.id.FindUser(r.Context(), tenantID, "", username)
	case loginID != "":
		if u, err = s.id.FindUser(r.Context(), tenantID, loginID, ""); err != nil {
			u, err = s.id.FindUser(r.Context(), tenantID, "", loginID)
		}
	default:
		return api.GeneralError("[invalid]", "Specify a user id in the path, or the email, username or loginId parameter.")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.UserResponse{User: &u})
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	reactivate, err := boolQuery(r, "reactivate")
	if err != nil {
		return err
	}
	if reactivate {
		return s.reactivateUser(w, r)
	}
	var req api.UserRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.saveUser(w, s.withEventInfo(r, req.EventInfo, ""), req.User)
}

// reactivateUser serves PUT /api/user/{id}?reactivate=true, FusionAuth's
// Reactivate a User: it makes a deactivated user active and ignores any
// body (FusionAuth's clients send none).
func (s *Server) reactivateUser(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	u, err := s.id.ReactivateUser(r.Context(), tenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.UserResponse{User: &u})
}

// patchUser merges the body into the user (RFC 7396) and saves the result.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	current, err := s.id.GetUser(r.Context(), tenantID, r.PathValue("id"), false)
	if err != nil {
		return err
	}
	current.Registrations = nil
	var merged api.UserRequest
	if err := patchJSON(r, api.UserRequest{User: current}, &merged); err != nil {
		return err
	}
	return s.saveUser(w, r, merged.User)
}

func (s *Server) saveUser(w http.ResponseWriter, r *http.Request, u api.User) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	reactivate, err := boolQuery(r, "reactivate")
	if err != nil {
		return err
	}
	out, err := s.id.UpdateUser(r.Context(), tenantID, r.PathValue("id"), u, reactivate)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.UserResponse{User: &out})
}

// deleteUser deactivates a user, or deletes it with hardDelete (query or body).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	var req api.UserDeleteRequest
	if isJSON(r) {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	if query(r, "hardDelete") != "" {
		hard, err := boolQuery(r, "hardDelete")
		if err != nil {
			return err
		}
		req.HardDelete = hard
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	r = s.withEventInfo(r, req.EventInfo, "")
	if err := s.id.DeleteUser(r.Context(), tenantID, r.PathValue("id"), req.HardDelete); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) importUsers(w http.ResponseWriter, r *http.Request) error {
	var req api.ImportRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	if err := s.id.ImportUsers(r.Context(), tenantID, req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// --- registrations

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var req api.RegistrationRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	resp, err := s.id.Register(r.Context(), tenantID, r.PathValue("userId"), r.PathValue("applicationId"), req, s.client(r, "", nil))
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getRegistration(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	reg, err := s.id.GetRegistration(r.Context(), tenantID, r.PathValue("userId"), r.PathValue("applicationId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.RegistrationResponse{Registration: &reg})
}

func (s *Server) updateRegistration(w http.ResponseWriter, r *http.Request) error {
	var req api.RegistrationRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	reg, err := s.id.UpdateRegistration(r.Context(), tenantID, r.PathValue("userId"), r.PathValue("applicationId"), req.Registration)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.RegistrationResponse{Registration: &reg})
}

func (s *Server) deleteRegistration(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	if err := s.id.DeleteRegistration(r.Context(), tenantID, r.PathValue("userId"), r.PathValue("applicationId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// --- applications

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) error {
	req := api.ApplicationRequest{Application: identity.DefaultApplication()}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	app, err := s.id.CreateApplication(r.Context(), tenantID, r.PathValue("id"), req.Application)
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, api.ApplicationResponse{Application: &app})
}

// listApplications serves GET /api/application, client secrets included:
// the caller's key may read applications (see mayReadClientSecrets).
func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	apps, err := s.id.ListApplicationsWithSecrets(r.Context(), tenantID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ApplicationResponse{Applications: orEmpty(apps)})
}

// getApplication serves GET /api/application/{id}, with the client
// secret, as listApplications.
func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	app, err := s.id.GetApplicationWithSecret(r.Context(), tenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ApplicationResponse{Application: &app})
}

// updateApplication serves PUT (replace) and PATCH (RFC 7396 merge), and
// PUT ?reactivate=true, FusionAuth's Reactivate an Application, which
// makes a deactivated application active and ignores any body
// (FusionAuth's clients send none).
func (s *Server) updateApplication(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var req api.ApplicationRequest
	if r.Method == http.MethodPut {
		reactivate, err := boolQuery(r, "reactivate")
		if err != nil {
			return err
		}
		if reactivate {
			app, err := s.id.ReactivateApplication(r.Context(), tenantID, id)
			if err != nil {
				return err
			}
			return writeApplication(w, r, app)
		}
	}
	if r.Method == http.MethodPatch {
		current, err := s.id.GetApplication(r.Context(), tenantID, id)
		if err != nil {
			return err
		}
		if err := patchJSON(r, api.ApplicationRequest{Application: current}, &req); err != nil {
			return err
		}
	} else {
		req.Application = identity.DefaultApplication()
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	app, err := s.id.UpdateApplication(r.Context(), tenantID, id, req.Application)
	if err != nil {
		return err
	}
	return writeApplication(w, r, app)
}

// writeApplication answers a change of an application (PUT, PATCH,
// reactivation) with it, and with its client secret only if the caller's
// key may read applications: a key allowed to change them but not to
// read them learns no secret it did not set.
func writeApplication(w http.ResponseWriter, r *http.Request, app api.Application) error {
	if !mayReadClientSecrets(r) {
		app.OAuthConfiguration.ClientSecret = ""
	}
	return writeJSON(w, http.StatusOK, api.ApplicationResponse{Application: &app})
}

// mayReadClientSecrets reports whether the request's API key may read
// applications (GET /api/application), and so their client secrets, as
// FusionAuth returns them to API keys. The secrets are sealed at rest and
// never logged; see SECURITY.md.
func mayReadClientSecrets(r *http.Request) bool {
	k, ok := r.Context().Value(ctxAPIKey).(*storage.APIKey)
	return ok && k != nil && identity.Permits(k.Endpoints, http.MethodGet, "/api/application")
}

// deleteApplication deactivates an application, or deletes it (with its
// registrations and refresh tokens) with hardDelete=true.
func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	hard, err := boolQuery(r, "hardDelete")
	if err != nil {
		return err
	}
	if err := s.id.DeleteApplication(r.Context(), tenantID, r.PathValue("id"), hard); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// --- tenants

// keyTenant refuses a tenant-locked API key access to another tenant.
func (s *Server) keyTenant(r *http.Request, id string) error {
	locked, err := s.tenant(r)
	if err != nil {
		return err
	}
	if locked != "" && id != "" && locked != id {
		return status(http.StatusNotFound)
	}
	return nil
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) error {
	req := api.TenantRequest{Tenant: identity.DefaultTenant()}
	req.Tenant.Name = ""
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Tenant.JWTConfiguration.AccessTokenKeyID == "" {
		def, err := s.id.ResolveTenant(r.Context(), "")
		if err != nil {
			all, lerr := s.id.ListTenants(r.Context())
			if lerr != nil || len(all) == 0 {
				return err
			}
			def = all[0]
		}
		req.Tenant.JWTConfiguration.AccessTokenKeyID = def.JWTConfiguration.AccessTokenKeyID
		req.Tenant.JWTConfiguration.IDTokenKeyID = def.JWTConfiguration.IDTokenKeyID
	}
	t, err := s.id.CreateTenant(r.Context(), r.PathValue("id"), req.Tenant)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.TenantResponse{Tenant: &t})
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) error {
	locked, err := s.tenant(r)
	if err != nil {
		return err
	}
	all, err := s.id.ListTenants(r.Context())
	if err != nil {
		return err
	}
	out := []api.Tenant{}
	for _, t := range all {
		if locked == "" || t.ID == locked {
			out = append(out, t)
		}
	}
	return writeJSON(w, http.StatusOK, api.TenantResponse{Tenants: out})
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.keyTenant(r, id); err != nil {
		return err
	}
	t, err := s.id.GetTenant(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.TenantResponse{Tenant: &t})
}

// updateTenant serves PUT (replace) and PATCH (RFC 7396 merge).
func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.keyTenant(r, id); err != nil {
		return err
	}
	current, err := s.id.GetTenant(r.Context(), id)
	if err != nil {
		return err
	}
	var req api.TenantRequest
	if r.Method == http.MethodPatch {
		if err := patchJSON(r, api.TenantRequest{Tenant: current}, &req); err != nil {
			return err
		}
	} else {
		req.Tenant = identity.DefaultTenant()
		req.Tenant.JWTConfiguration.AccessTokenKeyID = current.JWTConfiguration.AccessTokenKeyID
		req.Tenant.JWTConfiguration.IDTokenKeyID = current.JWTConfiguration.IDTokenKeyID
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	t, err := s.id.UpdateTenant(r.Context(), id, req.Tenant)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.TenantResponse{Tenant: &t})
}

func (s *Server) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.keyTenant(r, id); err != nil {
		return err
	}
	if err := s.id.DeleteTenant(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// --- signing keys

func (s *Server) generateKey(w http.ResponseWriter, r *http.Request) error {
	var req api.KeyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k, err := s.id.GenerateKey(r.Context(), r.PathValue("id"), req.Key)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.KeyResponse{Key: &k})
}

// listKeys serves GET /api/key: every key, or to an API key locked to a
// tenant the keys that tenant signs with. Keys are server-wide, so the
// X-FusionAuth-TenantId header does not narrow the list.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.id.ListKeys(r.Context(), lockedTenant(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.KeyResponse{Keys: orEmpty(keys)})
}

// getKey serves GET /api/key/{id}, within the keys listKeys shows.
func (s *Server) getKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.id.GetKey(r.Context(), lockedTenant(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.KeyResponse{Key: &k})
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.id.DeleteKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// --- API keys

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req api.APIKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k, err := s.id.CreateAPIKey(r.Context(), r.PathValue("id"), req.APIKey)
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, api.APIKeyResponse{APIKey: &k})
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.id.ListAPIKeys(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.APIKeyResponse{APIKeys: orEmpty(keys)})
}

func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.id.GetAPIKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.APIKeyResponse{APIKey: &k})
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.id.DeleteAPIKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// --- helpers

// patchJSON applies the request body as an RFC 7396 merge patch to
// current (marshalled as JSON) and decodes the result into dst.
func patchJSON(r *http.Request, current any, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var patch any
	if err := unmarshalJSON(body, &patch); err != nil {
		return err
	}
	if _, ok := patch.(map[string]any); !ok {
		return invalidJSON("A PATCH body must be a JSON object.")
	}
	b, err := json.Marshal(current)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	merged, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		return err
	}
	return unmarshalJSON(merged, dst)
}

// mergePatch implements RFC 7396: objects merge member by member, null
// removes, anything else replaces.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// orEmpty makes a nil list encode as [] rather than be omitted.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
