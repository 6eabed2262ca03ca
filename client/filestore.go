package client

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// StoreKeyFile is the name of the key file of the FileStores FileStoreFor
// makes, shared by the backends of one data directory.
const StoreKeyFile = "tokens.key"

// FileStoreFor returns the FileStore an app keeps in its data directory
// dir for the backend at backend: the tokens in a file of that backend's
// own, named by its scheme, host and port ("tokens-https-shop.example.com-443"),
// so that a build pointed at another backend never sends it this one's
// tokens; the key in StoreKeyFile.
func FileStoreFor(dir string, backend *url.URL) *FileStore {
	port := backend.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(backend.Scheme)]
	}
	name := strings.ToLower(backend.Scheme + "-" + backend.Hostname() + "-" + port)
	name = "tokens-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, name)
	return &FileStore{Path: filepath.Join(dir, name), KeyPath: filepath.Join(dir, StoreKeyFile)}
}

// FileStore is a TokenStore in a file, encrypted with AES-256-GCM under a
// key kept in a second file. It is safe for concurrent use and must not be
// copied after first use.
//
// The token file holds a 4-byte format tag, a random 12-byte nonce and the
// sealed JSON of the Tokens, the DPoP device key included; the tag is
// authenticated too. A file that does not decrypt makes Load fail, and the
// Client then fails closed (see TokenStore). Save writes a
// temporary file in the same directory (mode 0600), syncs it and renames it
// over Path, so a reader or a crash sees the old Tokens or the new ones.
//
// The key file holds 32 random bytes. Save creates it (mode 0600) when it
// is absent; Load and Save refuse a key file that the group or others may
// access (except on Windows, which has no such bits). The encryption is
// only as good as the key's hiding place: on a phone, prefer a TokenStore
// backed by the platform's Keychain or Keystore, or keep the key there.
type FileStore struct {
	// Path is the token file. It must be set (see Validate).
	Path string
	// KeyPath is the key file. Empty means Path + ".key".
	KeyPath string

	mu sync.Mutex
}

// fileTag starts every token file: format version 1.
var fileTag = []byte("LCT1")

const (
	keySize   = 32
	nonceSize = 12
)

// Validate checks Path and KeyPath without touching the file system:
// Path must be set, both must name a file rather than a directory (no
// trailing separator), and the key file must not be the token file. It
// returns a *ConfigError, which Load, Save and Clear return too, before
// anything else; Client.Validate calls it for a Client using the store.
func (s *FileStore) Validate() error {
	if s == nil {
		return &ConfigError{Field: "Store", Err: errors.New("nil *FileStore")}
	}
	if s.Path == "" {
		return &ConfigError{Field: "FileStore.Path", Err: ErrNotSet}
	}
	if err := checkFilePath(s.Path); err != nil {
		return &ConfigError{Field: "FileStore.Path", Value: s.Path, Err: err}
	}
	if s.KeyPath != "" {
		if err := checkFilePath(s.KeyPath); err != nil {
			return &ConfigError{Field: "FileStore.KeyPath", Value: s.KeyPath, Err: err}
		}
	}
	if filepath.Clean(s.Path) == filepath.Clean(s.keyPath()) {
		return &ConfigError{Field: "FileStore.KeyPath", Value: s.keyPath(), Err: errors.New("is the token file itself: the key must be kept in a file of its own")}
	}
	return nil
}

// checkFilePath reports why a non-empty path cannot name a file.
func checkFilePath(path string) error {
	if strings.IndexByte(path, 0) >= 0 {
		return errors.New("holds a NUL byte")
	}
	if base := filepath.Base(path); os.IsPathSeparator(path[len(path)-1]) || base == "." || base == ".." {
		return errors.New("names a directory: want the path of a file")
	}
	return nil
}

// Load implements TokenStore. A missing token file yields ErrNoTokens; a
// file that does not decrypt (wrong key, tampering) yields an error, and
// so does a configuration that Validate refuses.
func (s *FileStore) Load(ctx context.Context) (Tokens, error) {
	if err := s.Validate(); err != nil {
		return Tokens{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Tokens{}, ErrNoTokens
	} else if err != nil {
		return Tokens{}, fmt.Errorf("client: read token file: %w", err)
	}
	key, err := readKey(s.keyPath())
	if err != nil {
		return Tokens{}, err
	}
	plain, err := unseal(key, data)
	if err != nil {
		return Tokens{}, fmt.Errorf("client: token file %s: %w", s.Path, err)
	}
	var t Tokens
	if err := json.Unmarshal(plain, &t); err != nil {
		return Tokens{}, fmt.Errorf("client: token file %s: %w", s.Path, err)
	}
	return t, nil
}

// Save implements TokenStore. It fails, writing nothing, when Validate
// does.
func (s *FileStore) Save(ctx context.Context, t Tokens) error {
	if err := s.Validate(); err != nil {
		return err
	}
	plain, err := json.Marshal(t)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, err := readKey(s.keyPath())
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(s.keyPath())
	}
	if err != nil {
		return err
	}
	sealed, err := seal(key, plain)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.Path, sealed); err != nil {
		return fmt.Errorf("client: write token file: %w", err)
	}
	return nil
}

// Clear implements TokenStore: it removes the token file (with the DPoP
// device key in it) and keeps the encryption key. A Client holding a DPoP
// key does not call it when a session ends; it saves the key alone. It
// fails, removing nothing, when Validate does.
func (s *FileStore) Clear(ctx context.Context) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("client: remove token file: %w", err)
	}
	return nil
}

func (s *FileStore) keyPath() string {
	if s.KeyPath != "" {
		return s.KeyPath
	}
	return s.Path + ".key"
}

// readKey reads a key file, refusing one that is not private to its owner.
func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("client: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("client: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("client: key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("client: key file %s has mode %v: group and others must have no access (chmod 600)", path, fi.Mode().Perm())
	}
	key, err := io.ReadAll(io.LimitReader(f, keySize+1))
	if err != nil {
		return nil, fmt.Errorf("client: read key file: %w", err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("client: key file %s holds %d bytes, want %d", path, len(key), keySize)
	}
	return key, nil
}

// createKey creates a key file with 32 random bytes, mode 0600. If another
// process created it first, that key is used.
func createKey(path string) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("client: create key file: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("client: write key file: %w", err)
	}
	return key, nil
}

func seal(key, plain []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(fileTag)+nonceSize, len(fileTag)+nonceSize+len(plain)+aead.Overhead())
	copy(out, fileTag)
	nonce := out[len(fileTag):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plain, fileTag), nil
}

func unseal(key, data []byte) ([]byte, error) {
	if len(data) < len(fileTag)+nonceSize || !bytes.Equal(data[:len(fileTag)], fileTag) {
		return nil, errors.New("not a token file this version can read")
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := data[len(fileTag) : len(fileTag)+nonceSize]
	plain, err := aead.Open(nil, nonce, data[len(fileTag)+nonceSize:], fileTag)
	if err != nil {
		return nil, errors.New("cannot decrypt: wrong key or tampered file")
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// writeFileAtomic writes data to a temporary file beside path (mode 0600),
// syncs it, renames it over path and syncs the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if cerr := f.Chmod(0o600); cerr != nil && runtime.GOOS != "windows" {
		return cerr
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename durable; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
