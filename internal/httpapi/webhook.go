package httpapi

import (
	"net/http"

	"github.com/latchid/latch/api"
)

// The Webhook API (FusionAuth's /api/webhook). Webhooks are server-wide,
// and their headers may hold the receivers' credentials, so tenant-locked
// API keys may not use it.

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req api.WebhookRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	h, err := s.id.CreateWebhook(r.Context(), r.PathValue("id"), req.Webhook)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.WebhookResponse{Webhook: &h})
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hooks, err := s.id.ListWebhooks(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.WebhookResponse{Webhooks: orEmpty(hooks)})
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	h, err := s.id.GetWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.WebhookResponse{Webhook: &h})
}

// updateWebhook serves PUT (replace) and PATCH (RFC 7396 merge).
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req api.WebhookRequest
	if r.Method == http.MethodPatch {
		current, err := s.id.GetWebhook(r.Context(), id)
		if err != nil {
			return err
		}
		if err := patchJSON(r, api.WebhookRequest{Webhook: current}, &req); err != nil {
			return err
		}
	} else if err := decodeJSON(r, &req); err != nil {
		return err
	}
	h, err := s.id.UpdateWebhook(r.Context(), id, req.Webhook)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.WebhookResponse{Webhook: &h})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.id.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
