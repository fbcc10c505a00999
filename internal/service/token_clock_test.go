package service

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
)

// TestTokenExpiryFollowsServiceClock: a session is issued and checked on
// the service's clock (here months behind the real one): it is good on
// that clock until SessionTTL has passed, though on the real clock it
// would have ended long ago, and refused once the service's clock passes
// its expiry, though on the real clock it would still run, cached or not;
// a check cached shortly before the end is not trusted past it.
func TestTokenExpiryFollowsServiceClock(t *testing.T) {
	ctx := context.Background()
	s, clock := keyWorld(t)
	if !clock.Now().Add(SessionTTL).Before(time.Now()) {
		t.Fatalf("the test clock %v must be more than a session behind the real clock", clock.Now())
	}
	if _, err := s.CreateAccount(ctx, NewAccount{Username: "w1", Name: "网格员", Role: cases.RoleGridWorker, RegionCode: "500103001001001", Password: "password123"}, auth.FastParams); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.SignIn(ctx, "w1", "password123")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); err != nil { // and cached
		t.Fatalf("a fresh session: %v", err)
	}
	clock.Add(SessionTTL - time.Minute)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatalf("a session a minute before its end: %v", err)
	}
	// Checked (and cached) ten seconds before its end, it is refused a
	// second after its end: the cache never outlives the token.
	clock.Add(50 * time.Second)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatalf("a session ten seconds before its end: %v", err)
	}
	clock.Add(11 * time.Second)
	if _, err := s.Authenticate(ctx, tok); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("a session a second after its end, checked ten seconds before: %v, want Unauthorized", err)
	}
	clock.Add(time.Minute)
	if _, err := s.Authenticate(ctx, tok); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("a session a minute after its end: %v, want Unauthorized", err)
	}
}
