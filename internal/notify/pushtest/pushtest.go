// Package pushtest is a local push service for tests: it stands in for a
// browser vendor's push service (the endpoint a browser's
// PushManager.subscribe hands out), holding the browser's side of a
// subscription — a P-256 key pair and an auth secret the test made — so
// that it can check each push request as a push service and a browser
// would: the VAPID JWT (RFC 8292: ES256 under the key the request names,
// which must be the installation's, audience the endpoint's origin, not
// expired) and the aes128gcm payload (RFC 8291 / RFC 8188), which it
// decrypts. A request that fails either check fails the test.
package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Service is the local push service and the browser's keys of one
// subscription (every path under URL is an endpoint of it).
type Service struct {
	URL  string
	srv  *httptest.Server
	priv *ecdh.PrivateKey
	auth []byte
	t    testing.TB
	mu   sync.Mutex
	got  []Message
	key  string // the VAPID public key expected
}

// Message is one push the service accepted, decrypted.
type Message struct {
	Endpoint string
	Plain    []byte
	Urgency  string
	Topic    string
}

// New starts a push service for the test; it stops when the test ends.
func New(t testing.TB) *Service {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ps := &Service{priv: priv, auth: make([]byte, 16), t: t}
	rand.Read(ps.auth)
	ps.srv = httptest.NewServer(http.HandlerFunc(ps.serve))
	ps.URL = ps.srv.URL
	t.Cleanup(ps.srv.Close)
	return ps
}

// Endpoint is an endpoint of the service, as a browser would be given.
func (ps *Service) Endpoint(path string) string { return ps.URL + "/push/" + path }

// Keys are the subscription's keys as PushSubscription.toJSON gives them:
// the browser's public key (uncompressed point) and the auth secret,
// base64url without padding.
func (ps *Service) Keys() (p256dh, auth string) {
	return base64.RawURLEncoding.EncodeToString(ps.priv.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(ps.auth)
}

// Expect sets the VAPID public key (base64url, as the server hands it to
// browsers) every request must be signed under.
func (ps *Service) Expect(vapidPublic string) {
	ps.mu.Lock()
	ps.key = vapidPublic
	ps.mu.Unlock()
}

// Messages returns the pushes accepted so far.
func (ps *Service) Messages() []Message {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return slices.Clone(ps.got)
}

func (ps *Service) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := ps.checkVAPID(r.Header.Get("Authorization")); err != nil {
		ps.t.Errorf("VAPID: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		ps.t.Errorf("headers %v", r.Header)
	}
	plain, err := ps.decrypt(body)
	if err != nil {
		ps.t.Errorf("decrypt: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ps.mu.Lock()
	ps.got = append(ps.got, Message{Endpoint: ps.URL + r.URL.Path, Plain: plain, Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic")})
	ps.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

func (ps *Service) checkVAPID(h string) error {
	ps.mu.Lock()
	key := ps.key
	ps.mu.Unlock()
	if key == "" {
		return fmt.Errorf("the test set no VAPID key to expect")
	}
	rest, ok := strings.CutPrefix(h, "vapid t=")
	if !ok {
		return fmt.Errorf("authorization %q", h)
	}
	tok, k, ok := strings.Cut(rest, ", k=")
	if !ok {
		return fmt.Errorf("authorization %q", h)
	}
	want, _ := base64.RawURLEncoding.DecodeString(strings.TrimRight(key, "="))
	if wantAlt, err := base64.URLEncoding.DecodeString(key); err == nil {
		want = wantAlt
	}
	kb, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil || !bytes.Equal(kb, want) {
		return fmt.Errorf("k is not the installation's key")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("jwt %q", tok)
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), kb)
	if x == nil {
		return fmt.Errorf("bad key")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("signature does not verify")
	}
	var hdr struct{ Alg string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(hb, &hdr)
	var claims struct {
		Aud string
		Exp int64
		Sub string
	}
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(cb, &claims); err != nil {
		return err
	}
	if hdr.Alg != "ES256" || claims.Aud != ps.URL || claims.Exp < time.Now().Unix() || claims.Exp > time.Now().Add(24*time.Hour).Unix() ||
		!strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return fmt.Errorf("claims %+v alg %s", claims, hdr.Alg)
	}
	return nil
}

// decrypt opens an aes128gcm body (RFC 8188) with the keys of RFC 8291.
func (ps *Service) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("short body")
	}
	salt, idlen := body[:16], int(body[20])
	if len(body) < 21+idlen {
		return nil, fmt.Errorf("short header")
	}
	asPub, ct := body[21:21+idlen], body[21+idlen:]
	peer, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, err
	}
	secret, err := ps.priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), ps.priv.PublicKey().Bytes()...), asPub...)
	ikm, err := hkdf.Key(sha256.New, secret, ps.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, fmt.Errorf("no last-record delimiter")
	}
	return plain[:i], nil
}
