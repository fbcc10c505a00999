package service

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// DefaultKeyRate is a new API key's rate limit, in reports a minute.
const DefaultKeyRate = 60

// MaxKeyRate bounds the rate limit an administrator may give a key.
const MaxKeyRate = 10000

// NewAPIKey is what an administrator gives to create an Open311 API key.
type NewAPIKey struct {
	Name          string `json:"name"`
	RegionCode    string `json:"region_code"`     // the region the key may report into
	RatePerMinute int    `json:"rate_per_minute"` // 0: DefaultKeyRate
	// ExtendedStatuses: the client reads FixMyStreet's extended status words.
	ExtendedStatuses bool `json:"extended_statuses"`
	// Hotline: the key of the 12345 hotline platform (work orders and
	// return visits, hotline.go).
	Hotline bool `json:"hotline"`
}

// CreateAPIKey validates and stores a new key and returns its secret, which
// is shown once and never stored.
// The command line's keys are recorded as the system's.
func (s *Service) CreateAPIKey(ctx context.Context, in NewAPIKey) (string, store.APIKey, error) {
	return s.createAPIKey(ctx, commandLine, in)
}

// commandLine is who the command line's changes are recorded as.
var commandLine = cases.Actor{Role: cases.RoleSystem, Name: "命令行"}

func (s *Service) createAPIKey(ctx context.Context, by cases.Actor, in NewAPIKey) (string, store.APIKey, error) {
	var f apperr.Fields
	name := strings.TrimSpace(in.Name)
	if n := len([]rune(name)); n == 0 || n > 50 {
		f.Add("name", "名称不能为空且不超过50字")
	}
	path, ok := s.RegionPath(strings.TrimSpace(in.RegionCode))
	if !ok {
		f.Add("region_code", "须指定密钥可上报的区域")
	}
	rate := in.RatePerMinute
	if rate == 0 {
		rate = DefaultKeyRate
	}
	if rate < 1 || rate > MaxKeyRate {
		f.Addf("rate_per_minute", "每分钟上报次数应在1到%d之间", MaxKeyRate)
	}
	if err := f.Err(); err != nil {
		return "", store.APIKey{}, err
	}
	secret, hash := auth.NewToken()
	k := store.APIKey{ID: id.New(), Name: name, Hash: hash, RegionPath: path, RatePerMinute: rate, CreatedAt: s.Now(), ExtendedStatuses: in.ExtendedStatuses, Hotline: in.Hotline}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(by, "api_key", k.ID, false, nil, k))
	})
	if errors.Is(err, store.ErrConflict) {
		return "", store.APIKey{}, apperr.Field("name", "已有同名的有效密钥")
	}
	if err != nil {
		return "", store.APIKey{}, err
	}
	return secret, k, nil
}

// APIKeys lists every key, active and revoked.
func (s *Service) APIKeys(ctx context.Context) ([]store.APIKey, error) { return s.db.APIKeys(ctx) }

// SetAPIKeyStatuses turns FixMyStreet's extended statuses on or off for a
// key, named by its ID or by the name of an active key (the command line).
func (s *Service) SetAPIKeyStatuses(ctx context.Context, idOrName string, extended bool) (store.APIKey, error) {
	return s.setAPIKeyStatuses(ctx, commandLine, idOrName, extended)
}

func (s *Service) setAPIKeyStatuses(ctx context.Context, by cases.Actor, idOrName string, extended bool) (store.APIKey, error) {
	k, err := s.db.APIKey(ctx, strings.TrimSpace(idOrName))
	if errors.Is(err, store.ErrNotFound) || err == nil && !k.Active() {
		return store.APIKey{}, apperr.New(apperr.NotFound, "密钥不存在或已吊销")
	}
	if err != nil {
		return store.APIKey{}, err
	}
	before := k
	k.ExtendedStatuses = extended
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetAPIKeyStatuses(ctx, k.ID, extended); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(by, "api_key", k.ID, true, before, k))
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, apperr.New(apperr.NotFound, "密钥不存在或已吊销")
	}
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

// RevokeAPIKey revokes a key, named by its ID or by the name of an active key.
// It stops working at once, on every node.
func (s *Service) RevokeAPIKey(ctx context.Context, idOrName string) (store.APIKey, error) {
	return s.revokeAPIKey(ctx, commandLine, idOrName)
}

func (s *Service) revokeAPIKey(ctx context.Context, by cases.Actor, idOrName string) (store.APIKey, error) {
	k, err := s.db.APIKey(ctx, strings.TrimSpace(idOrName))
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, apperr.New(apperr.NotFound, "密钥不存在")
	}
	if err != nil {
		return store.APIKey{}, err
	}
	if !k.Active() {
		return k, apperr.New(apperr.Conflict, "密钥已吊销")
	}
	now := s.Now()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeAPIKey(ctx, k.ID, now); err != nil {
			return err
		}
		after := k
		after.RevokedAt = now
		e := s.auditEntry(by, "api_key", k.ID, true, k, after)
		e.Action = "revoke"
		return tx.Audit(ctx, e)
	})
	if errors.Is(err, store.ErrNotFound) {
		return k, apperr.New(apperr.Conflict, "密钥已吊销")
	}
	if err != nil {
		return k, err
	}
	s.limiter().forget(k.ID)
	k.RevokedAt = now
	return k, nil
}

// KeyActor returns the actor a key reports as: a system actor named after the
// key, whose region (the key's scope) receives reports that no grid holds.
func KeyActor(k store.APIKey) cases.Actor {
	return cases.Actor{AccountID: "apikey:" + k.ID, Name: k.Name, Role: cases.RoleSystem, RegionPath: k.RegionPath}
}

// RateLimited is the cause of a TooMany error: when to try again.
type RateLimited struct{ RetryAfter time.Duration }

func (r *RateLimited) Error() string {
	return fmt.Sprintf("rate limited, retry after %s", r.RetryAfter)
}

// LookupAPIKey checks a key's secret for reading (the updates feed): a
// missing, unknown or revoked key is Forbidden; the rate limit, which counts
// reports, is not touched.
func (s *Service) LookupAPIKey(ctx context.Context, secret string) (store.APIKey, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		s.refused.KeyInvalid.Add(1)
		return store.APIKey{}, apperr.New(apperr.Forbidden, "缺少 api_key")
	}
	k, err := s.db.APIKeyByHash(ctx, auth.TokenHash(secret))
	if errors.Is(err, store.ErrNotFound) {
		s.refused.KeyInvalid.Add(1)
		return store.APIKey{}, apperr.New(apperr.Forbidden, "api_key 无效或已吊销")
	}
	return k, err
}

// UseAPIKey checks a key's secret and takes one report from its rate limit.
// A missing, unknown or revoked key is Forbidden; a key over its limit is
// TooMany, with a *RateLimited cause. The limit is a token bucket held in
// memory on each node, holding a minute's worth of reports.
func (s *Service) UseAPIKey(ctx context.Context, secret string) (cases.Actor, store.APIKey, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		s.refused.KeyInvalid.Add(1)
		return cases.Actor{}, store.APIKey{}, apperr.New(apperr.Forbidden, "缺少 api_key")
	}
	k, err := s.db.APIKeyByHash(ctx, auth.TokenHash(secret))
	if errors.Is(err, store.ErrNotFound) {
		s.refused.KeyInvalid.Add(1)
		return cases.Actor{}, store.APIKey{}, apperr.New(apperr.Forbidden, "api_key 无效或已吊销")
	}
	if err != nil {
		return cases.Actor{}, store.APIKey{}, err
	}
	if wait, ok := s.limiter().take(k.ID, k.RatePerMinute, s.cfg.Now()); !ok {
		e := apperr.Newf(apperr.TooMany, "上报过于频繁（每分钟最多%d次），请%d秒后再试", k.RatePerMinute, int(math.Ceil(wait.Seconds())))
		e.Err = &RateLimited{RetryAfter: wait}
		s.refused.KeyRateLimited.Add(1)
		return cases.Actor{}, k, e
	}
	return KeyActor(k), k, nil
}

// InKeyScope reports whether a point may be reported with the key: a point
// in a grid must lie in the key's region; a point in no grid, or no point,
// falls back to the key's region and is always in scope.
func (s *Service) InKeyScope(k store.APIKey, p *geo.Point) bool {
	if p == nil {
		return true
	}
	code, ok := s.Locate(*p)
	if !ok {
		return true
	}
	path, _ := s.RegionPath(code)
	return strings.HasPrefix(path, k.RegionPath)
}

// keyLimiter holds the token buckets of the keys used on this node.
type keyLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func (s *Service) limiter() *keyLimiter { return &s.keys }

// take removes one token from the key's bucket, which refills at rate a
// minute up to rate; when empty it says how long until the next token.
func (l *keyLimiter) take(keyID string, rate int, now time.Time) (time.Duration, bool) {
	if rate < 1 {
		rate = 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b, ok := l.buckets[keyID]
	if !ok {
		b = &bucket{tokens: float64(rate), at: now}
		l.buckets[keyID] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(float64(rate), b.tokens+d.Minutes()*float64(rate))
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := time.Duration((1 - b.tokens) / float64(rate) * float64(time.Minute))
	return wait, false
}

func (l *keyLimiter) forget(keyID string) {
	l.mu.Lock()
	delete(l.buckets, keyID)
	l.mu.Unlock()
}
