// Package seal keeps secrets the platform must be able to read back (webhook
// subscriptions' signing secrets, the SMS gateway's credentials) encrypted at
// rest: AES-256-GCM under the installation's secret key, with a purpose bound
// in as additional data, so a value sealed for one use does not open as
// another's. The key comes from configuration (ZHIZHI_SECRET_KEY or the
// -secret-key flag) or from a key file made once in the data directory
// (docs/operations.md). It is pure apart from LoadKey's file.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Prefix marks a sealed value: "sealed:v1:" and the base64 of nonce and
// ciphertext. A stored value without it is plaintext (written before
// secrets were sealed) and is sealed at start-up.
const Prefix = "sealed:v1:"

// KeyFile is the key file's name in the data directory.
const KeyFile = "secret.key"

// Key is the installation's 256-bit secret key.
type Key struct{ aead cipher.AEAD }

// New makes a key from 32 bytes.
func New(raw []byte) (*Key, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("secret key: %d bytes, want 32", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Key{aead: aead}, nil
}

// Random makes a fresh key (tests and tools that keep no secrets).
func Random() *Key {
	raw := make([]byte, 32)
	rand.Read(raw)
	k, _ := New(raw)
	return k
}

// Parse reads a key written as 64 hex digits or as base64 (standard or
// URL alphabet, padded or not) of 32 bytes.
func Parse(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if raw, err := hex.DecodeString(s); err == nil {
			return New(raw)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil && len(raw) == 32 {
			return New(raw)
		}
	}
	return nil, errors.New("secret key: want 32 bytes as 64 hex digits or base64")
}

// LoadKey returns the configured key (configured non-empty), else the key
// in dataDir's key file, which is made (32 random bytes, base64, mode 0600)
// when there is none. made says a new file was written.
func LoadKey(configured, dataDir string) (k *Key, made bool, err error) {
	if strings.TrimSpace(configured) != "" {
		k, err := Parse(configured)
		return k, false, err
	}
	if dataDir == "" {
		return nil, false, errors.New("secret key: none configured (ZHIZHI_SECRET_KEY) and no data directory for a key file")
	}
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := Parse(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, err
	}
	// O_EXCL: two nodes sharing the directory starting at once make one
	// key; the loser reads the winner's.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadKey("", dataDir)
	} else if err != nil {
		return nil, false, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n"); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Close(); err != nil {
		return nil, false, err
	}
	k, err = New(raw)
	return k, true, err
}

// IsSealed reports whether a stored value is sealed.
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Seal encrypts plain for a purpose (such as "webhook-secret"). The empty
// string stays empty (no secret is no secret).
func (k *Key) Seal(purpose, plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(purpose))
	return Prefix + base64.RawStdEncoding.EncodeToString(out)
}

// ErrKey says a sealed value does not open under this key: it was sealed
// under another key, for another purpose, or was altered.
var ErrKey = errors.New("sealed value does not open with this secret key")

// Open decrypts a sealed value for its purpose. A value that is not sealed
// (plaintext from before) is returned as it is.
func (k *Key) Open(purpose, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, Prefix)
	if !ok {
		return stored, nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", ErrKey
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return "", ErrKey
	}
	return string(plain), nil
}
