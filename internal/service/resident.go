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
// phone number is required; the reporter's name is optional.
func (s *Service) ReportAnonymous(ctx context.Context, r cases.Report) (cases.Case, error) {
	phone := normalPhone(r.Reporter.Phone)
	if phone == "" {
		return cases.Case{}, apperr.Field("reporter.phone", "请留下联系电话，以便回访")
	}
	r.Reporter.Phone = phone
	r.Source = cases.SourceResident
	a := anonymousActor(phone)
	if strings.TrimSpace(r.Reporter.Name) != "" {
		a.Name = strings.TrimSpace(r.Reporter.Name)
	}
	r.Reporter.AccountID = a.AccountID
	return s.Report(ctx, a, r)
}

// FollowAnonymous returns a case by its number to the resident who reported
// it, proven by the phone number given at the report. Any mismatch is "not
// found", so numbers cannot be probed.
func (s *Service) FollowAnonymous(ctx context.Context, number, phone string) (cases.Case, []cases.Step, error) {
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
	c, steps, err := s.Case(ctx, anonymousActor(phone), strings.TrimSpace(number))
	if err != nil {
		return cases.Case{}, nil, apperr.New(apperr.NotFound, "案件编号或电话不正确")
	}
	return c, steps, nil
}

// RateAnonymous lets the resident who reported a case rate it once it is
// closed, proven by the phone number given at the report.
func (s *Service) RateAnonymous(ctx context.Context, number, phone string, rating cases.Rating, note string) (cases.Case, error) {
	c, _, err := s.FollowAnonymous(ctx, number, phone)
	if err != nil {
		return cases.Case{}, err
	}
	n, _, err := s.Act(ctx, anonymousActor(phone), c.ID, cases.Command{Action: cases.ActRate, Rating: rating, Note: note}, 0)
	return n, err
}
