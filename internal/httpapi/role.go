package httpapi

import (
	"net/http"

	"github.com/latchid/latch/api"
)

// The Role API, /api/application/{id}/role[/{roleId}]: FusionAuth's way
// to change an application's roles after it is made, since a PUT of the
// application leaves them alone. Requests are ApplicationRequests whose
// role counts (the application in them is ignored); answers carry the
// role only. API key permissions name it /api/application/role.

// createRole serves POST /api/application/{id}/role[/{roleId}].
func (s *Server) createRole(w http.ResponseWriter, r *http.Request) error {
	var req api.ApplicationRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	var in api.ApplicationRole
	if req.Role != nil {
		in = *req.Role
	}
	role, err := s.id.CreateRole(r.Context(), tenantID, r.PathValue("id"), r.PathValue("roleId"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ApplicationResponse{Role: &role})
}

// updateRole serves PUT (replace) and PATCH (RFC 7396 merge into the
// role) of /api/application/{id}/role/{roleId}.
func (s *Server) updateRole(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	appID, roleID := r.PathValue("id"), r.PathValue("roleId")
	var req api.ApplicationRequest
	if r.Method == http.MethodPatch {
		current, err := s.id.Role(r.Context(), tenantID, appID, roleID)
		if err != nil {
			return err
		}
		if err := patchJSON(r, api.ApplicationRequest{Role: &current}, &req); err != nil {
			return err
		}
	} else if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var in api.ApplicationRole
	if req.Role != nil {
		in = *req.Role
	}
	role, err := s.id.UpdateRole(r.Context(), tenantID, appID, roleID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ApplicationResponse{Role: &role})
}

// deleteRole serves DELETE /api/application/{id}/role/{roleId} and
// DELETE /api/application/{id}/role?name=.
func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	if err := s.id.DeleteRole(r.Context(), tenantID, r.PathValue("id"), r.PathValue("roleId"), query(r, "name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
