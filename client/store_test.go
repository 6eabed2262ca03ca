package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

func sampleTokens() client.Tokens {
	return client.Tokens{
		AccessToken:  "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln",
		RefreshToken: "refresh-token",
		Expiry:       time.Unix(1_700_000_000, 0).UTC(),
		User:         &api.User{ID: testUserID, Email: testLogin, UserProfile: api.UserProfile{Data: map[string]any{"plan": "gold"}}},
		DPoPKey:      []byte{1, 2, 3},
	}
}

// testStoreSemantics checks what every TokenStore must do.
func testStoreSemantics(t *testing.T, s client.TokenStore) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Load(ctx); !errors.Is(err, client.ErrNoTokens) {
		t.Fatalf("Load of an empty store: %v, want ErrNoTokens", err)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatalf("Clear of an empty store: %v", err)
	}
	want := sampleTokens()
	if err := s.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load after Save (-want +got):\n%s", diff)
	}
	// What Load returns is a copy.
	got.User.Email = "changed"
	got.DPoPKey[0] = 9
	if again, _ := s.Load(ctx); again.User.Email != testLogin || again.DPoPKey[0] != 1 {
		t.Errorf("Load returned shared memory")
	}
	want.AccessToken = "second"
	want.User = nil
	if err := s.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx); err != nil || !cmp.Equal(want, got) {
		t.Errorf("Load after second Save = %+v, %v; want %+v", got, err, want)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx); !errors.Is(err, client.ErrNoTokens) {
		t.Errorf("Load after Clear: %v, want ErrNoTokens", err)
	}
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	testStoreSemantics(t, new(client.MemoryStore))
}

func TestFileStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testStoreSemantics(t, &client.FileStore{Path: filepath.Join(dir, "tokens"), KeyPath: filepath.Join(dir, "key")})
}

func TestFileStore_DefaultKeyPath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	if err := (&client.FileStore{Path: path}).Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".key"); err != nil {
		t.Errorf("key file: %v", err)
	}
}

func TestFileStore_Encrypted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	s := &client.FileStore{Path: path}
	tok := sampleTokens()
	if err := s.Save(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, testLogin} {
		if strings.Contains(string(data), secret) {
			t.Errorf("token file contains %q in the clear", secret)
		}
	}
	// A random nonce: saving the same tokens twice gives different files.
	if err := s.Save(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	data2, _ := os.ReadFile(path)
	if string(data) == string(data2) {
		t.Errorf("two saves wrote identical ciphertexts")
	}
}

func TestFileStore_WrongKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	if err := (&client.FileStore{Path: path, KeyPath: filepath.Join(dir, "key1")}).Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	// Another key, made by saving elsewhere.
	if err := (&client.FileStore{Path: filepath.Join(dir, "other"), KeyPath: filepath.Join(dir, "key2")}).Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	_, err := (&client.FileStore{Path: path, KeyPath: filepath.Join(dir, "key2")}).Load(t.Context())
	if err == nil || errors.Is(err, client.ErrNoTokens) {
		t.Errorf("Load with the wrong key: %v, want an error", err)
	}
	// A missing key is an error too, not an empty store.
	_, err = (&client.FileStore{Path: path, KeyPath: filepath.Join(dir, "absent")}).Load(t.Context())
	if err == nil || errors.Is(err, client.ErrNoTokens) {
		t.Errorf("Load with no key file: %v, want an error", err)
	}
}

func TestFileStore_Tampered(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	s := &client.FileStore{Path: path}
	if err := s.Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 5, len(data) / 2, len(data) - 1} {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x01
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(t.Context()); err == nil {
			t.Errorf("Load of a file with byte %d flipped succeeded", i)
		}
	}
	for _, bad := range [][]byte{nil, data[:10], data[:len(data)-1]} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(t.Context()); err == nil {
			t.Errorf("Load of a %d-byte file succeeded", len(bad))
		}
	}
}

func TestFileStore_Permissions(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	dir := t.TempDir()
	path, keyPath := filepath.Join(dir, "tokens"), filepath.Join(dir, "key")
	s := &client.FileStore{Path: path, KeyPath: keyPath}
	if err := s.Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, keyPath} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), mode)
		}
	}
	key, err := os.ReadFile(keyPath)
	if err != nil || len(key) != 32 {
		t.Fatalf("key file: %d bytes, %v", len(key), err)
	}

	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o666} {
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(t.Context()); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("Load with key mode %v: %v, want a refusal", mode, err)
		}
		if err := s.Save(t.Context(), sampleTokens()); err == nil {
			t.Errorf("Save with key mode %v succeeded", mode)
		}
	}
	if err := os.Chmod(keyPath, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context()); err != nil {
		t.Errorf("Load with key mode 0400: %v", err)
	}

	// A key file of the wrong size is refused.
	if err := os.WriteFile(filepath.Join(dir, "short"), key[:16], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&client.FileStore{Path: filepath.Join(dir, "t2"), KeyPath: filepath.Join(dir, "short")}).Save(t.Context(), sampleTokens()); err == nil {
		t.Errorf("Save with a 16-byte key succeeded")
	}
}

// Save replaces the file atomically: readers (here other FileStores, as
// other processes would be) see a whole old or new file, never a partial
// one, and no temporary file is left behind.
func TestFileStore_AtomicWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, keyPath := filepath.Join(dir, "tokens"), filepath.Join(dir, "key")
	writer := &client.FileStore{Path: path, KeyPath: keyPath}
	if err := writer.Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	// Hold the first file open: its inode cannot be reused, and an
	// in-place write would show through this handle.
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldData, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		reader := &client.FileStore{Path: path, KeyPath: keyPath}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := reader.Load(context.Background())
				if err != nil {
					t.Errorf("concurrent Load: %v", err)
					return
				}
				if !strings.HasPrefix(tok.RefreshToken, "refresh-") {
					t.Errorf("concurrent Load got %q", tok.RefreshToken)
					return
				}
			}
		})
	}
	for i := range 100 {
		tok := sampleTokens()
		tok.RefreshToken = "refresh-" + strings.Repeat("x", i*50)
		if err := writer.Save(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()

	fi1, err := old.Stat()
	if err != nil {
		t.Fatal(err)
	}
	fi2, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	held, err := io.ReadAll(old)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(fi1, fi2) || !bytes.Equal(held, oldData) {
		t.Errorf("Save wrote in place instead of renaming a new file over the old")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"key", "tokens"}, names); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

func TestFileStore_ClearKeepsKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := &client.FileStore{Path: filepath.Join(dir, "tokens"), KeyPath: filepath.Join(dir, "key")}
	if err := s.Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	key1, _ := os.ReadFile(s.KeyPath)
	if err := s.Clear(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file after Clear: %v", err)
	}
	if err := s.Save(t.Context(), sampleTokens()); err != nil {
		t.Fatal(err)
	}
	key2, _ := os.ReadFile(s.KeyPath)
	if string(key1) != string(key2) {
		t.Errorf("the key changed across Clear")
	}
}
