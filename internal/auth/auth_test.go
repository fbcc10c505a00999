package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("正确的密码", FastParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("unexpected hash format %q", h)
	}
	if err := Verify("正确的密码", h); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := Verify("错误的密码", h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: got %v", err)
	}
	h2, _ := Hash("正确的密码", FastParams)
	if h2 == h {
		t.Fatal("two hashes of one password must differ by salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AA"} {
		if err := Verify("x", bad); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", bad, err)
		}
	}
}

func TestToken(t *testing.T) {
	s1, h1 := NewToken()
	s2, _ := NewToken()
	if s1 == s2 || TokenHash(s1) != h1 || len(h1) != 64 || !strings.HasPrefix(s1, "zz_") {
		t.Fatal("tokens must be random and hash consistently")
	}
}
