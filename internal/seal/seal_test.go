package seal

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k := Random()
	s := k.Seal("webhook-secret", "s3cret-value")
	if !IsSealed(s) || strings.Contains(s, "s3cret") {
		t.Fatalf("sealed %q", s)
	}
	if s2 := k.Seal("webhook-secret", "s3cret-value"); s2 == s {
		t.Error("two seals of one value are equal (nonce reused)")
	}
	if got, err := k.Open("webhook-secret", s); err != nil || got != "s3cret-value" {
		t.Errorf("open: %q %v", got, err)
	}
	for name, try := range map[string]func() (string, error){
		"another purpose": func() (string, error) { return k.Open("sms-gateway", s) },
		"another key":     func() (string, error) { return Random().Open("webhook-secret", s) },
		"altered":         func() (string, error) { return k.Open("webhook-secret", s[:len(s)-2]+"AA") },
		"not base64":      func() (string, error) { return k.Open("webhook-secret", Prefix+"!!") },
	} {
		if got, err := try(); !errors.Is(err, ErrKey) || got != "" {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	if got, err := k.Open("x", "plain-old"); err != nil || got != "plain-old" {
		t.Errorf("plaintext: %q %v", got, err)
	}
	if k.Seal("x", "") != "" {
		t.Error("empty sealed to something")
	}
}

func TestParse(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i)
	}
	for _, s := range []string{hex.EncodeToString(raw), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"} {
		if _, err := Parse(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "short", hex.EncodeToString(raw[:16]), strings.Repeat("z", 64)} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k, made, err := LoadKey("", dir)
	if err != nil || !made {
		t.Fatalf("first start: %v made %v", err, made)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
	k2, made, err := LoadKey("", dir)
	if err != nil || made {
		t.Fatalf("second start: %v made %v", err, made)
	}
	if got, err := k2.Open("p", k.Seal("p", "v")); err != nil || got != "v" {
		t.Errorf("the file's key differs: %q %v", got, err)
	}
	// A configured key wins over the file.
	kc, _, err := LoadKey(strings.Repeat("ab", 32), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Open("p", k.Seal("p", "v")); err == nil {
		t.Error("the configured key opened the file key's value")
	}
	if _, _, err := LoadKey("", ""); err == nil {
		t.Error("no key and no directory: no error")
	}
}
