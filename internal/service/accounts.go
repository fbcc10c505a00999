package service

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
	"zhizhi/internal/textcheck"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// SignIn checks a username and password and returns a new session token.
// The client is unknown: only the per-name limits apply.
func (s *Service) SignIn(ctx context.Context, username, password string) (string, store.Account, error) {
	return s.SignInFrom(ctx, "", username, password)
}

// SignInFrom checks a username and password from a client address and
// returns a new session token, behind the sign-in guard (signin_guard.go):
// a client or a name that failed too often, or a locked account, is 429
// with when to retry, without a password hash; an unknown name answers in
// a real check's time without one.
func (s *Service) SignInFrom(ctx context.Context, client, username, password string) (string, store.Account, error) {
	var f apperr.Fields
	if strings.TrimSpace(username) == "" {
		f.Add("username", "请输入用户名")
	}
	if password == "" {
		f.Add("password", "请输入密码")
	}
	if err := f.Err(); err != nil {
		return "", store.Account{}, err
	}
	g, name, now := s.signIn, nameKey(username), time.Now()
	if wait := g.attempt(client, name, now); wait > 0 {
		s.refused.SignInThrottled.Add(1)
		return "", store.Account{}, tooMany(fmt.Sprintf("登录失败次数过多，请%d分钟后再试", int(math.Ceil(wait.Minutes()))), wait)
	}
	bad := apperr.New(apperr.Unauthorized, "用户名或密码错误")
	acct, err := s.db.AccountByUsername(ctx, strings.TrimSpace(username))
	if errors.Is(err, store.ErrNotFound) {
		g.pause(ctx)
		s.refused.SignInFailed.Add(1)
		return "", store.Account{}, bad
	}
	if err != nil {
		return "", store.Account{}, err
	}
	lock, err := s.db.SignInLockOf(ctx, acct.ID)
	if err != nil {
		return "", store.Account{}, err
	}
	if lock.Locked(s.Now()) {
		wait := lock.LockedUntil.Sub(s.Now())
		s.refused.SignInLocked.Add(1)
		return "", store.Account{}, tooMany("密码错误次数过多，账号已锁定至"+lock.LockedUntil.In(s.Calendar().Location()).Format("15:04")+"，请稍后再试或联系管理员解锁", wait)
	}
	if !g.acquire(ctx) {
		g.uncount(client, name) // not the client's doing
		s.refused.SignInBusy.Add(1)
		return "", store.Account{}, tooMany("登录请求过多，请稍后再试", time.Second)
	}
	start := time.Now()
	verr := auth.Verify(password, acct.PasswordHash)
	g.observe(time.Since(start))
	g.release()
	if verr != nil || !acct.Active {
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.SignInFailed(ctx, acct.ID, s.Now(), lockAfter, lockFor)
			return err
		}); err != nil {
			return "", store.Account{}, err
		}
		s.refused.SignInFailed.Add(1)
		return "", store.Account{}, bad
	}
	g.succeeded(client, name)
	secret, hash := auth.NewToken()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if lock.Failures > 0 || !lock.LockedUntil.IsZero() {
			if err := tx.ClearSignInLock(ctx, acct.ID); err != nil {
				return err
			}
		}
		return tx.PutToken(ctx, hash, acct.ID, "session", "", s.Now().Add(SessionTTL))
	})
	if err != nil {
		return "", store.Account{}, err
	}
	return secret, acct, nil
}

// tooMany is a 429 with when to retry.
func tooMany(msg string, wait time.Duration) error {
	e := apperr.New(apperr.TooMany, msg)
	e.Err = &RateLimited{RetryAfter: wait}
	return e
}

// SignInLockOf is an account's run of failed sign-ins, for its
// administrators.
func (s *Service) SignInLockOf(ctx context.Context, accountID string) (store.SignInLock, error) {
	return s.db.SignInLockOf(ctx, accountID)
}

// SignOut revokes a token.
// Every other node forgets the token at once (a notice with the commit).
func (s *Service) SignOut(ctx context.Context, secret string) error {
	hash := auth.TokenHash(secret)
	s.forgetTokenHash(hash)
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteToken(ctx, hash); err != nil {
			return err
		}
		return tx.NotifyTokens(ctx, s.node, hash)
	})
}

// IssueToken makes a long-lived API token for an account (for tools and tests).
func (s *Service) IssueToken(ctx context.Context, accountID, name string, ttl time.Duration) (string, error) {
	secret, hash := auth.NewToken()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		return tx.PutToken(ctx, hash, accountID, "api", name, s.Now().Add(ttl))
	})
	return secret, err
}

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{2,32}$`)

// NewAccount is what an administrator gives to create an account.
type NewAccount struct {
	Username   string     `json:"username"`
	Name       string     `json:"name"`
	Role       cases.Role `json:"role"`
	RegionCode string     `json:"region_code,omitempty"`
	UnitID     string     `json:"unit_id,omitempty"`
	Phone      string     `json:"phone,omitempty"`
	Title      string     `json:"title,omitempty"` // a head's title, one of HeadTitles (街长, 楼长…)
	Password   string     `json:"password"`
	// PasswordHash, when set, is stored instead of hashing Password (the
	// demo hashes its one password once for hundreds of accounts).
	PasswordHash string `json:"-"`
	// By is who creates the account, for the audit trail (System if unset).
	By cases.Actor `json:"-"`
}

// CreateAccount validates and stores a new account.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount, params auth.Params) (store.Account, error) {
	var f apperr.Fields
	if !usernameRE.MatchString(in.Username) {
		f.Add("username", "用户名为2–32位字母、数字、下划线、点或横线")
	}
	if n := len([]rune(strings.TrimSpace(in.Name))); n == 0 || n > 50 {
		f.Add("name", "姓名不能为空且不超过50字")
	}
	textcheck.AddLine(&f, "name", in.Name)
	textcheck.AddLine(&f, "title", in.Title)
	if in.Phone = strings.TrimSpace(in.Phone); in.Phone != "" {
		if n, ok := cases.NormalizeStaffPhone(in.Phone); ok {
			in.Phone = n
		} else {
			f.Add("phone", cases.PhoneHint)
		}
	}
	if !in.Role.Valid() {
		f.Add("role", "角色无效")
	}
	if len(in.Password) < 8 && in.PasswordHash == "" {
		f.Add("password", "密码至少8位")
	}
	in.Title = strings.TrimSpace(in.Title)
	if in.Role == cases.RoleHead {
		titles, err := s.HeadTitles(ctx)
		if err != nil {
			return store.Account{}, err
		}
		if !slices.Contains(titles, in.Title) {
			f.Addf("title", "三长须选择职务：%s", strings.Join(titles, "、"))
		}
	} else if len([]rune(in.Title)) > 20 {
		f.Add("title", "职务不能超过20字")
	}
	path := ""
	switch in.Role {
	case cases.RoleUnit:
		if u, ok := s.Unit(in.UnitID); !ok || !u.Active || u.Kind == cases.UnitCommunity {
			f.Add("unit_id", "部门账号须指定有效的部门、板块、岗位或科室")
		}
	case cases.RoleCommunity:
		u, ok := s.Unit(in.UnitID)
		p, okp := s.RegionPath(in.RegionCode)
		switch {
		case !ok || !u.Active || u.Kind != cases.UnitCommunity:
			f.Add("unit_id", "社区账号须指定有效的社区单位")
		case !okp || p != u.RegionPath:
			f.Add("region_code", "社区账号的区域须是其社区单位所在的社区")
		}
		path = p
	case cases.RoleResident:
	case cases.RoleEnterprise:
		// An enterprise belongs to the street it sits in: its reports
		// without a point land at that street's center.
		p, ok := s.RegionPath(in.RegionCode)
		if !ok || s.ref.Load().levels[in.RegionCode] != region.Street {
			f.Add("region_code", "企业账号须指定所在街道")
		}
		path = p
	default:
		p, ok := s.RegionPath(in.RegionCode)
		if !ok {
			f.Add("region_code", "须指定账号管辖的区域")
		}
		path = p
	}
	if err := f.Err(); err != nil {
		return store.Account{}, err
	}
	by := in.By
	if by.Role == "" {
		by = cases.System
	}
	if !s.administersAccount(by, store.Account{Role: in.Role, RegionPath: path, UnitID: in.UnitID}) {
		return store.Account{}, apperr.New(apperr.Forbidden, "只能在本辖区内创建账号")
	}
	hash := in.PasswordHash
	if hash == "" {
		var err error
		if hash, err = auth.Hash(in.Password, params); err != nil {
			return store.Account{}, err
		}
	}
	a := store.Account{ID: id.New(), Username: in.Username, Name: strings.TrimSpace(in.Name), Role: in.Role,
		RegionPath: path, UnitID: in.UnitID, Phone: in.Phone, Title: in.Title, PasswordHash: hash, Active: true, CreatedAt: s.Now()}
	if in.Role != cases.RoleUnit && in.Role != cases.RoleCommunity {
		a.UnitID = ""
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutAccount(ctx, a); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(by, "account", a.ID, false, nil, a))
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Account{}, apperr.Field("username", "用户名已存在")
	}
	return a, err
}

// tokenCacheTTL bounds how long a node trusts a token it has checked. A
// revocation on another node reaches this node with the commit's notice
// (PostgreSQL); the TTL is the bound if a notice is lost.
const tokenCacheTTL = 30 * time.Second

type cachedToken struct {
	actor cases.Actor
	until time.Time
}

// Authenticate returns the actor owning a bearer token. Checked tokens are
// cached for a short time so that a busy node does not read the database on
// every request. A token's expiry, set on the service's clock when it was
// issued, is checked on the same clock.
func (s *Service) Authenticate(ctx context.Context, secret string) (cases.Actor, error) {
	if secret == "" {
		return cases.Actor{}, apperr.New(apperr.Unauthorized, "请先登录")
	}
	hash := auth.TokenHash(secret)
	now := s.Now()
	s.tokMu.Lock()
	if e, ok := s.tokens[hash]; ok && now.Before(e.until) {
		s.tokMu.Unlock()
		return e.actor, nil
	}
	gen := s.tokGen
	s.tokMu.Unlock()
	acct, expires, err := s.db.TokenAccount(ctx, hash, now)
	if errors.Is(err, store.ErrNotFound) {
		return cases.Actor{}, apperr.New(apperr.Unauthorized, "登录已失效，请重新登录")
	}
	if err != nil {
		return cases.Actor{}, err
	}
	s.tokMu.Lock()
	if s.tokens == nil || len(s.tokens) > 100000 {
		s.tokens = map[string]cachedToken{}
	}
	if gen == s.tokGen { // not cleared (an account changed) while we read
		// Trusted for tokenCacheTTL, never past the token's own expiry.
		until := now.Add(tokenCacheTTL)
		if expires.Before(until) {
			until = expires
		}
		s.tokens[hash] = cachedToken{actor: s.ActorOf(acct), until: until}
	}
	s.tokMu.Unlock()
	return s.ActorOf(acct), nil
}

// forgetAllTokens empties the token cache, after an account's tokens were
// revoked or its details changed.
func (s *Service) forgetAllTokens() {
	s.tokMu.Lock()
	s.tokens = map[string]cachedToken{}
	s.tokGen++
	s.tokMu.Unlock()
}

func (s *Service) forgetTokenHash(hash string) {
	s.tokMu.Lock()
	delete(s.tokens, hash)
	s.tokGen++ // a check of this token in flight must not cache it
	s.tokMu.Unlock()
}
