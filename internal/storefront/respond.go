package storefront

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// maxBodyBytes caps every request body.
const maxBodyBytes = 64 << 10

// writeJSON writes v as the JSON body with status. Every answer but the
// catalogue is per user, so none may be cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes an ErrorResponse.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, ErrorResponse{Error: code, Message: message})
}

// unavailable answers 503 for a Latch that cannot be reached.
func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "The identity service is unavailable; try again later.")
}

// internalError answers 500; the cause goes to the log, not to the app.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, msg string, err error) {
	s.log.Error("storefront: "+msg, "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, CodeInternal, "Internal error.")
}

// decodeJSON reads a JSON object of at most maxBodyBytes into v and
// answers 400 (or 415 for a body that says it is not JSON) when it cannot;
// it reports whether v was filled. With optional, an empty body leaves v
// as it is.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).")
			return false
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if err == nil {
		// One JSON value, nothing after it.
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.Is(err, io.EOF) && optional:
		return true
	case errors.As(err, &tooBig):
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The request body exceeds "+strconv.Itoa(maxBodyBytes>>10)+" KiB.")
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The request needs a JSON body.")
	default:
		// The decoder's message may quote the body: it stays out of the
		// answer and out of the log (it could hold a password).
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The request body is not the JSON object expected.")
	}
	return false
}

// statusWriter records the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// discardWriter takes an answer nobody will see: the mux's 404 and 405,
// and guard's refusal of a logout, which the storefront answers itself.
type discardWriter struct {
	h      http.Header
	status int
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: http.Header{}} }

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}
