package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// Residents may report without an account: they leave a phone number for
// the follow-up call, and the number (with the case number) is what lets
// them follow the case and rate it. The phone is never used as an
// identifier in the clear: the case's reporter account is a hash of it.

// normalPhone strips what people type around a mainland number.
func normalPhone(p string) string {
	p = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(strings.TrimSpace(p))
	p = strings.TrimPrefix(p, "+86")
	return p
}

// anonymousActor is the resident behind a phone number.
func anonymousActor(phone string) cases.Actor {
	sum := sha256.Sum256([]byte("zhizhi-resident:" + normalPhone(phone)))
	return cases.Actor{AccountID: "anon:" + hex.EncodeToString(sum[:10]), Name: "居民", Role: cases.RoleResident}
}

// ReportAnonymous takes a resident's report made without an account. The
// phone number is required; the reporter's name is optional. The knock's
// form token is used up by the report (the same form sent again by the same
// phone returns the case it made); the client and the phone are counted
// (doors.go): past the soft thresholds the report is held for screening,
// past the hard ones it is refused with 429.
func (s *Service) ReportAnonymous(ctx context.Context, k Knock, r cases.Report) (cases.Case, error) {
	phone := normalPhone(r.Reporter.Phone)
	if phone == "" {
		return cases.Case{}, apperr.Field("reporter.phone", "请留下联系电话，以便回访")
	}
	expires, err := s.checkToken(ctx, k.Token)
	if err != nil {
		return cases.Case{}, err
	}
	r.Reporter.Phone = phone
	r.Source = cases.SourceResident
	r.ClientRef = k.Token
	a := anonymousActor(phone)
	if strings.TrimSpace(r.Reporter.Name) != "" {
		a.Name = strings.TrimSpace(r.Reporter.Name)
	}
	r.Reporter.AccountID = a.AccountID
	wait, why := s.doors.admit(k.Client, a.AccountID, s.Now())
	if wait > 0 {
		return cases.Case{}, tooMany("提交过于频繁，请稍后再试；如情况紧急，请拨打12345热线", wait)
	}
	r.Hold = why
	c, replay, err := s.report(ctx, a, r, &formUse{token: k.Token, expires: expires}, nil)
	if err != nil || replay {
		s.doors.giveBack(k.Client, a.AccountID)
	}
	return c, err
}

// FollowAnonymous returns a case by its number to the resident who reported
// it, proven by the phone number given at the report. Any mismatch is "not
// found", so numbers cannot be probed; a client that gives too many wrong
// pairs waits (429), the case stays open to everyone else.
func (s *Service) FollowAnonymous(ctx context.Context, client, number, phone string) (cases.Case, []cases.Step, error) {
	if strings.TrimSpace(number) == "" || normalPhone(phone) == "" {
		var f apperr.Fields
		if strings.TrimSpace(number) == "" {
			f.Add("number", "请输入案件编号")
		}
		if normalPhone(phone) == "" {
			f.Add("phone", "请输入上报时留下的电话")
		}
		return cases.Case{}, nil, f.Err()
	}
	if wait := s.doors.followWait(client, s.Now()); wait > 0 {
		return cases.Case{}, nil, tooMany("查询错误次数过多，请稍后再试", wait)
	}
	c, steps, err := s.Case(ctx, anonymousActor(phone), strings.TrimSpace(number))
	if err != nil {
		s.doors.miss(client, s.Now())
		return cases.Case{}, nil, apperr.New(apperr.NotFound, "案件编号或电话不正确")
	}
	return c, steps, nil
}

// RateAnonymous lets the resident who reported a case rate it once it is
// closed, proven by the phone number given at the report.
func (s *Service) RateAnonymous(ctx context.Context, client, number, phone string, rating cases.Rating, note string) (cases.Case, error) {
	c, _, err := s.FollowAnonymous(ctx, client, number, phone)
	if err != nil {
		return cases.Case{}, err
	}
	n, _, err := s.Act(ctx, anonymousActor(phone), c.ID, cases.Command{Action: cases.ActRate, Rating: rating, Note: note}, 0)
	return n, err
}

// ReportOwn takes the report of a signed-in resident or enterprise from
// their own pages: the same door as the anonymous one (the form token is
// used up by the report, the same form sent again returns the case it made;
// the client address and the account are counted, held past the soft
// thresholds, refused with 429 past the hard ones), with the account as the
// reporter and the source its role's (resident or enterprise).
func (s *Service) ReportOwn(ctx context.Context, actor cases.Actor, k Knock, r cases.Report) (cases.Case, error) {
	switch actor.Role {
	case cases.RoleResident:
		r.Source = cases.SourceResident
	case cases.RoleEnterprise:
		r.Source = cases.SourceEnterprise
	default:
		return cases.Case{}, apperr.New(apperr.Forbidden, "只有居民和企业账号可以在此反映问题")
	}
	if actor.AccountID == "" {
		return cases.Case{}, apperr.New(apperr.Unauthorized, "请先登录")
	}
	expires, err := s.checkToken(ctx, k.Token)
	if err != nil {
		return cases.Case{}, err
	}
	r.Reporter.Phone = normalPhone(r.Reporter.Phone)
	r.Reporter.AccountID = actor.AccountID
	if strings.TrimSpace(r.Reporter.Name) == "" {
		r.Reporter.Name = actor.Name
	}
	r.ClientRef = k.Token
	r.OnSpot, r.Note, r.Hold, r.Severity = false, "", "", ""
	key := "acct:" + actor.AccountID
	wait, why := s.doors.admit(k.Client, key, s.Now())
	if wait > 0 {
		return cases.Case{}, tooMany("提交过于频繁，请稍后再试；如情况紧急，请拨打12345热线", wait)
	}
	r.Hold = why
	c, replay, err := s.report(ctx, actor, r, &formUse{token: k.Token, expires: expires}, nil)
	if err != nil || replay {
		s.doors.giveBack(k.Client, key)
	}
	return c, err
}
