package service

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sign-in under attack (issue 20). A password hash costs 64 MiB and tens of
// milliseconds, so an unguarded sign-in door lets anyone exhaust a node's
// memory. The guard:
//   - counts failures per client address and per username on each node and
//     answers 429 (with when to retry) before hashing once a client or a
//     name has failed too often in a window;
//   - bounds concurrent hashes (signInSlots); a request that cannot get a
//     slot in signInWait is 429;
//   - answers an unknown username after the usual time of a real check,
//     without hashing;
//   - locks an account in the database (every node) after lockAfter
//     consecutive failures for lockFor; an administrator can unlock it.
const (
	clientFailures = 30               // failed sign-ins per client address …
	clientWindow   = 10 * time.Minute // … in this window
	nameFailures   = 5                // failed sign-ins per username …
	nameWindow     = 5 * time.Minute  // … in this window
	lockAfter      = 10               // consecutive failures that lock an account …
	lockFor        = 30 * time.Minute // … for this long
	signInWait     = 3 * time.Second  // the longest wait for a hash slot
)

// signInGuard is one node's sign-in throttle.
type signInGuard struct {
	mu       sync.Mutex
	byClient *windows
	byName   *windows
	slots    chan struct{}
	verifyNs atomic.Int64 // moving average of a real password check
}

func newSignInGuard() *signInGuard {
	g := &signInGuard{byClient: newWindows(clientWindow), byName: newWindows(nameWindow),
		slots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	g.verifyNs.Store(int64(60 * time.Millisecond))
	return g
}

// attempt counts a sign-in attempt of a client and a name as a failure
// until it succeeds (so attempts in flight count at once), or says how long
// the client or the name must wait first (then nothing is counted).
func (g *signInGuard) attempt(client, name string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if wait := max(g.byClient.wait(client, clientFailures, now), g.byName.wait(name, nameFailures, now)); wait > 0 {
		return wait
	}
	g.byClient.add(client, now)
	g.byName.add(name, now)
	return 0
}

// succeeded takes back a successful attempt: the name's failures are
// forgotten, the client's attempt uncounted.
func (g *signInGuard) succeeded(client, name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byName.forget(name)
	g.byClient.take(client)
}

// uncount takes back an attempt that was not tried (no hash slot).
func (g *signInGuard) uncount(client, name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byClient.take(client)
	g.byName.take(name)
}

// acquire takes a hash slot, waiting at most signInWait.
func (g *signInGuard) acquire(ctx context.Context) bool {
	t := time.NewTimer(signInWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (g *signInGuard) release() { <-g.slots }

// observe folds a real check's duration into the average.
func (g *signInGuard) observe(d time.Duration) {
	old := g.verifyNs.Load()
	g.verifyNs.Store(old + (int64(d)-old)/8)
}

// pause waits as long as a real check usually takes (an unknown name).
func (g *signInGuard) pause(ctx context.Context) {
	t := time.NewTimer(time.Duration(g.verifyNs.Load()))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// nameKey is how a username is counted (case-insensitively, trimmed).
func nameKey(username string) string { return strings.ToLower(strings.TrimSpace(username)) }
