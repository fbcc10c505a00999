package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// Doors that strangers can knock on (issue 20). The residents' report page
// (/r) takes reports without an account, so it is guarded:
//   - every report needs a form token the page handed out (FormToken):
//     signed with the console key, it expires after TokenTTL and is good for
//     one report, on every node (the report's write records it in
//     form_tokens); the same form sent again by the same phone is the same
//     report and returns the case it made;
//   - per client address and per phone, past a soft threshold a report is
//     still taken and acknowledged but held for screening (cases.Held, no
//     clock, out of the live queue); past a hard one it is refused with 429
//     and when to retry, before any write;
//   - the whole door: past DoorHold reports in DoorWindow every further
//     report is held (a flood from many addresses);
//   - following a case by number and phone: each client address has
//     FollowMisses wrong pairs per FollowWindow, then 429. The case itself
//     is never locked, so the real resident is never locked out.
//
// The counts are per node, in memory (like the sign-in guard); the token is
// in the database. The client address is ClientAddr's: the connection's
// peer, or behind a trusted proxy the client it forwards for.

// DoorLimits are the anonymous doors' thresholds; zero fields take the
// defaults (DefaultDoorLimits).
type DoorLimits struct {
	ClientHold   int           // reports per client address in ClientWindow past which a report is held
	ClientMax    int           // … past which it is refused (429)
	ClientWindow time.Duration //
	PhoneHold    int           // reports per phone in PhoneWindow past which a report is held
	PhoneMax     int           // … past which it is refused (429)
	PhoneWindow  time.Duration //
	DoorHold     int           // reports through the door (all clients) in DoorWindow past which every report is held
	DoorWindow   time.Duration //
	FollowMisses int           // wrong number/phone pairs per client in FollowWindow, then 429
	FollowWindow time.Duration //
	TokenTTL     time.Duration // how long a form token is good for
}

// DefaultDoorLimits are the thresholds in force unless configured.
var DefaultDoorLimits = DoorLimits{
	ClientHold: 5, ClientMax: 20, ClientWindow: time.Hour,
	PhoneHold: 3, PhoneMax: 10, PhoneWindow: 24 * time.Hour,
	DoorHold: 30, DoorWindow: time.Minute,
	FollowMisses: 20, FollowWindow: time.Hour,
	TokenTTL: 24 * time.Hour,
}

func (l DoorLimits) withDefaults() DoorLimits {
	d := DefaultDoorLimits
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pickD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.ClientHold, d.ClientHold)
	pick(&l.ClientMax, d.ClientMax)
	pickD(&l.ClientWindow, d.ClientWindow)
	pick(&l.PhoneHold, d.PhoneHold)
	pick(&l.PhoneMax, d.PhoneMax)
	pickD(&l.PhoneWindow, d.PhoneWindow)
	pick(&l.DoorHold, d.DoorHold)
	pickD(&l.DoorWindow, d.DoorWindow)
	pick(&l.FollowMisses, d.FollowMisses)
	pickD(&l.FollowWindow, d.FollowWindow)
	pickD(&l.TokenTTL, d.TokenTTL)
	return l
}

// doorGuard is one node's count of anonymous reports and follow misses.
type doorGuard struct {
	lim      DoorLimits
	mu       sync.Mutex
	byClient *windows
	byPhone  *windows
	door     *windows
	misses   *windows
}

func newDoorGuard(l DoorLimits) *doorGuard {
	l = l.withDefaults()
	return &doorGuard{lim: l, byClient: newWindows(l.ClientWindow), byPhone: newWindows(l.PhoneWindow),
		door: newWindows(l.DoorWindow), misses: newWindows(l.FollowWindow)}
}

// doorKey is the one key of the whole door in its window.
const doorKey = "r"

// admit counts a report of a client and a phone (as taken until it is
// given back), or says how long they must wait (then nothing is counted).
// A report admitted past a soft threshold is held, for the reason given.
func (g *doorGuard) admit(client, phone string, now time.Time) (time.Duration, cases.HoldReason) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if wait := max(g.byClient.wait(client, g.lim.ClientMax, now), g.byPhone.wait(phone, g.lim.PhoneMax, now)); wait > 0 {
		return wait, ""
	}
	var why cases.HoldReason
	if g.door.add(doorKey, now) > g.lim.DoorHold {
		why = cases.HoldDoor
	}
	if g.byPhone.add(phone, now) > g.lim.PhoneHold {
		why = cases.HoldPhone
	}
	if client != "" && g.byClient.add(client, now) > g.lim.ClientHold {
		why = cases.HoldClient
	}
	return 0, why
}

// giveBack uncounts an admitted report that made no new case.
func (g *doorGuard) giveBack(client, phone string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byClient.take(client)
	g.byPhone.take(phone)
	g.door.take(doorKey)
}

// followWait is how long a client that guessed wrong too often must wait.
func (g *doorGuard) followWait(client string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.misses.wait(client, g.lim.FollowMisses, now)
}

// miss counts a wrong number/phone pair of a client.
func (g *doorGuard) miss(client string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.misses.add(client, now)
}

// Knock is who knocks at an anonymous door: the client's address and the
// form token the door's page handed out.
type Knock struct {
	Client string
	Token  string
}

// Form tokens: "r-" + base64url(12 random bytes + expiry as 4 bytes of Unix
// seconds) + base64url(the first 15 bytes of its HMAC under the console
// key). 44 characters of [A-Za-z0-9_-], so the token is also the report's
// client reference (cases.Report.ClientRef).
const (
	tokenPrefix  = "r-"
	tokenBodyLen = 22 // base64url of 16 bytes
	tokenMACLen  = 20 // base64url of 15 bytes
)

func (s *Service) formKey(ctx context.Context) ([]byte, error) {
	if k := s.formKeyCache.Load(); k != nil {
		return *k, nil
	}
	k, err := s.ConsoleKey(ctx)
	if err != nil {
		return nil, err
	}
	s.formKeyCache.Store(&k)
	return k, nil
}

func tokenMAC(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("form-token:" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:15])
}

// FormToken makes a new form token for the residents' report page.
func (s *Service) FormToken(ctx context.Context) (string, error) {
	key, err := s.formKey(ctx)
	if err != nil {
		return "", err
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw[:12]); err != nil {
		return "", err
	}
	binary.BigEndian.PutUint32(raw[12:], uint32(s.Now().Add(s.doors.lim.TokenTTL).Unix()))
	body := base64.RawURLEncoding.EncodeToString(raw)
	return tokenPrefix + body + tokenMAC(key, body), nil
}

// checkToken verifies a form token's signature and returns its expiry.
func (s *Service) checkToken(ctx context.Context, token string) (time.Time, error) {
	bad := apperr.Field("form_token", "表单已失效，请重新提交（如仍失败，请刷新页面后重新填写）")
	if len(token) != len(tokenPrefix)+tokenBodyLen+tokenMACLen || !strings.HasPrefix(token, tokenPrefix) {
		return time.Time{}, bad
	}
	body, mac := token[len(tokenPrefix):len(tokenPrefix)+tokenBodyLen], token[len(tokenPrefix)+tokenBodyLen:]
	key, err := s.formKey(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if !hmac.Equal([]byte(mac), []byte(tokenMAC(key, body))) {
		return time.Time{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) != 16 {
		return time.Time{}, bad
	}
	expires := time.Unix(int64(binary.BigEndian.Uint32(raw[12:])), 0).UTC()
	if !s.Now().Before(expires) {
		return time.Time{}, bad
	}
	return expires, nil
}

// PurgeFormTokens forgets the used form tokens that have expired (a token
// past its expiry is refused anyway). The sweeper calls it now and then.
func (s *Service) PurgeFormTokens(ctx context.Context) (int, error) {
	return s.db.PurgeFormTokens(ctx, s.Now())
}
