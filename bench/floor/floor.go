// Package floor is the least a refresh endpoint can do: one SQLite writer
// (WAL, synchronous=FULL, so an fsync per commit), a rotation that is one
// conditional UPDATE of a token's hash, and an ES256 JWT signed per
// refresh. It has no features (no users, expiry, reuse detection or
// audit), so that its cost is the floor a real server's is compared with.
// Opened without durability (synchronous=OFF: no fsync at all), the same
// work shows the ceiling of a refresh on the machine: what its HTTP, its
// signature and its one write cost, and nothing else.
package floor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the driver Latch uses
)

// Server serves POST /issue (a new refresh token), POST /refresh (form
// field refresh_token: a JWT and the next refresh token) and GET /health.
type Server struct {
	db  *sql.DB
	key *ecdsa.PrivateKey
	kid string
}

// Open opens (creating) the token database at path. durable is false for
// the ceiling: no fsync, so a commit may be lost to a crash.
func Open(ctx context.Context, path string, durable bool) (*Server, error) {
	sync := "FULL"
	if !durable {
		sync = "OFF"
	}
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("floor: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tokens (
		id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, rotated_at INTEGER NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("floor: open %s: %w", path, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Server{db: db, key: key, kid: "floor"}, nil
}

// Close closes the database.
func (s *Server) Close() error { return s.db.Close() }

// SQLiteVersion returns the version of the SQLite library in use.
func (s *Server) SQLiteVersion(ctx context.Context) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v)
	return v, err
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /issue", s.issue)
	mux.HandleFunc("POST /refresh", s.refresh)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	return mux
}

// Serve serves on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type answer struct {
	Token        string `json:"access_token,omitempty"`
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request) {
	value, hash := newToken()
	if _, err := s.db.ExecContext(r.Context(), "INSERT INTO tokens (hash, rotated_at) VALUES (?, ?)",
		hash, time.Now().UnixMicro()); err != nil {
		http.Error(w, "storage", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, answer{RefreshToken: value})
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	presented := r.PostFormValue("refresh_token")
	if presented == "" {
		http.Error(w, "refresh_token missing", http.StatusBadRequest)
		return
	}
	old := sha256.Sum256([]byte(presented))
	value, hash := newToken()
	res, err := s.db.ExecContext(r.Context(), "UPDATE tokens SET hash = ?, rotated_at = ? WHERE hash = ?",
		hash, time.Now().UnixMicro(), old[:])
	if err != nil {
		http.Error(w, "storage", http.StatusServiceUnavailable)
		return
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		http.Error(w, "invalid refresh token", http.StatusUnauthorized)
		return
	}
	jwt, err := s.sign(presented)
	if err != nil {
		http.Error(w, "sign", http.StatusInternalServerError)
		return
	}
	writeJSON(w, answer{Token: jwt, RefreshToken: value})
}

// newToken returns a fresh 256-bit token and its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	v := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(v))
	return v, h[:]
}

var b64 = base64.RawURLEncoding

// sign returns an ES256 JWT (RFC 7515, 7518 §3.4) with the claims a
// refresh answers with, its subject standing for the session.
func (s *Server) sign(session string) (string, error) {
	now := time.Now().Unix()
	sub := sha256.Sum256([]byte(session))
	header := `{"alg":"ES256","typ":"JWT","kid":"` + s.kid + `"}`
	claims := `{"iss":"floor","sub":"` + b64.EncodeToString(sub[:8]) + `","aud":"bench","iat":` +
		strconv.FormatInt(now, 10) + `,"exp":` + strconv.FormatInt(now+300, 10) + `}`
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(claims))
	digest := sha256.Sum256([]byte(input))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}

// PublicKey returns the key JWTs are signed with.
func (s *Server) PublicKey() *ecdsa.PublicKey { return &s.key.PublicKey }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
