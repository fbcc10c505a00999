package service_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestSignInGuard: a name that failed too often is refused with 429 and a
// retry time before any hash; so is a client address that failed too
// often, whatever name it tries; a locked account is refused even with the
// right password until an administrator unlocks it; an unknown name is
// refused like a wrong password.
func TestSignInGuard(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("signin", 20)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	kind := func(err error) apperr.Kind { return apperr.KindOf(err) }

	// Five wrong passwords for one name, then even the right one waits.
	for i := range 5 {
		if _, _, err := s.SignInFrom(ctx, "192.0.2.1", "syl_zhihui", "wrong-password"); kind(err) != apperr.Unauthorized {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, _, err = s.SignInFrom(ctx, "192.0.2.2", "syl_zhihui", demo.Password)
	var rl *service.RateLimited
	if kind(err) != apperr.TooMany || !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("sixth attempt: %v", err)
	}
	// Other names are not held up.
	if _, _, err := s.SignInFrom(ctx, "192.0.2.2", "jfb_zhihui", demo.Password); err != nil {
		t.Fatalf("another name: %v", err)
	}
	// An unknown name is refused like a wrong password.
	if _, _, err := s.SignInFrom(ctx, "192.0.2.3", "nobody_here", "whatever1"); kind(err) != apperr.Unauthorized {
		t.Errorf("unknown name: %v", err)
	}
	// A client that failed 30 times (over many names) is held up for every name.
	for i := range 30 {
		s.SignInFrom(ctx, "192.0.2.9", "ghost"+string(rune('a'+i%26))+string(rune('a'+i/26)), "wrong-password")
	}
	if _, _, err := s.SignInFrom(ctx, "192.0.2.9", "qu_zhihui", demo.Password); kind(err) != apperr.TooMany {
		t.Errorf("a client past its failures: %v", err)
	}
	if _, _, err := s.SignInFrom(ctx, "192.0.2.10", "qu_zhihui", demo.Password); err != nil {
		t.Errorf("another client: %v", err)
	}

	// The lock: ten failures in the database (as from several nodes).
	acct, err := p.DB.AccountByUsername(ctx, "leader")
	if err != nil {
		t.Fatal(err)
	}
	var lock store.SignInLock
	if err := p.DB.Write(ctx, func(tx *store.Tx) error {
		for range 10 {
			if lock, err = tx.SignInFailed(ctx, acct.ID, s.Now(), 10, 30*time.Minute); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !lock.Locked(s.Now()) {
		t.Fatalf("ten failures did not lock: %+v", lock)
	}
	if _, _, err := s.SignInFrom(ctx, "192.0.2.20", "leader", demo.Password); kind(err) != apperr.TooMany {
		t.Fatalf("locked account with the right password: %v", err)
	}
	admin, _ := p.DB.AccountByUsername(ctx, "admin")
	yes := true
	if _, err := s.UpdateAccount(ctx, s.ActorOf(admin), acct.ID, service.AccountChange{Unlock: &yes}, auth.DefaultParams); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SignInFrom(ctx, "192.0.2.20", "leader", demo.Password); err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
	if l, _ := s.SignInLockOf(ctx, acct.ID); l.Failures != 0 || l.Locked(s.Now()) {
		t.Errorf("lock after a good sign-in: %+v", l)
	}
}

// TestSignInFlood: 64 clients hammering one account with wrong passwords
// for two seconds do not keep a real user from signing in, and almost none
// of their attempts cost a password hash.
func TestSignInFlood(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("flood", 20)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	var unauthorized, limited, other atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _, err := s.SignInFrom(ctx, "203.0.113.66", "syl_zhihui", "not-the-password")
				switch apperr.KindOf(err) {
				case apperr.Unauthorized:
					unauthorized.Add(1)
				case apperr.TooMany:
					limited.Add(1)
				default:
					other.Add(1)
				}
				// A client's round trip: without it 64 goroutines spinning
				// on 2 cores starve everything, the guard included.
				time.Sleep(time.Millisecond)
			}
		}()
	}
	// The flood's allowance of wrong attempts is hashed first (on a loaded
	// machine that takes a while); from then on the flood is refused before
	// any hashing, and the real user, from elsewhere, gets in during it.
	for end := time.Now().Add(20 * time.Second); unauthorized.Load() < 5 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if _, acct, err := s.SignInFrom(ctx, "198.51.100.7", "qu_zhihui", demo.Password); err != nil || acct.Role != cases.RoleCommander {
		t.Errorf("a real sign-in during the flood: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("flood: %d refused as wrong (hashed), %d refused as too many, %d other", unauthorized.Load(), limited.Load(), other.Load())
	if other.Load() != 0 {
		t.Errorf("%d attempts failed otherwise", other.Load())
	}
	// At most the per-name allowance plus what was in flight got a hash.
	if n := unauthorized.Load(); n > 5+64 {
		t.Errorf("%d wrong attempts were hashed", n)
	}
	if limited.Load() == 0 {
		t.Error("the flood was never limited")
	}
}
