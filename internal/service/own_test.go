package service_test

import (
	"context"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
)

// TestReportOwn: a signed-in resident's or enterprise's report goes
// through the residents' door: its source is the role's, its reporter the
// account; the form token is needed and used once (sent again: the same
// case); past the account's soft limit a report is held, past the hard one
// refused with 429; other roles cannot use the door.
func TestReportOwn(t *testing.T) {
	ctx := context.Background()
	p, pt := doorPlatform(t, service.DoorLimits{PhoneHold: 1, PhoneMax: 2, ClientHold: 50, ClientMax: 100})
	s := p.Service
	acct := func(username string) cases.Actor {
		a, err := p.DB.AccountByUsername(ctx, username)
		if err != nil {
			t.Fatal(err)
		}
		return s.ActorOf(a)
	}
	jumin, qiye := acct("jumin"), acct("qiye")
	rep := func(desc string) cases.Report {
		return cases.Report{Category: "MS03", Description: desc, Point: &pt, Source: cases.SourcePatrol, Severity: "critical", OnSpot: true}
	}

	if _, err := s.ReportOwn(ctx, acct("zhouchunyan"), service.Knock{Client: "c1", Token: token(t, s)}, rep("网格员走居民通道")); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a grid worker through the residents' door: %v", err)
	}
	if _, err := s.ReportOwn(ctx, jumin, service.Knock{Client: "c1", Token: "r-forged"}, rep("伪造表单")); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a forged token: %v", err)
	}

	tok := token(t, s)
	c, err := s.ReportOwn(ctx, jumin, service.Knock{Client: "c1", Token: tok}, rep("居民账号反映"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != cases.SourceResident || c.Reporter.AccountID != jumin.AccountID || c.Reporter.Name != jumin.Name || c.OnSpot || c.State == cases.Held {
		t.Fatalf("case %+v", c)
	}
	again, err := s.ReportOwn(ctx, jumin, service.Knock{Client: "c1", Token: tok}, rep("居民账号反映"))
	if err != nil || again.ID != c.ID {
		t.Fatalf("the same form again: %v %s, want %s", err, again.ID, c.ID)
	}
	e, err := s.ReportOwn(ctx, qiye, service.Knock{Client: "c2", Token: token(t, s)}, rep("企业诉求"))
	if err != nil || e.Source != cases.SourceEnterprise || e.Reporter.AccountID != qiye.AccountID {
		t.Fatalf("enterprise: %v %+v", err, e)
	}

	// The account's second report is held, the third refused.
	h, err := s.ReportOwn(ctx, jumin, service.Knock{Client: "c3", Token: token(t, s)}, rep("居民账号第二件"))
	if err != nil || h.State != cases.Held {
		t.Fatalf("second report: %v state %s", err, h.State)
	}
	_, err = s.ReportOwn(ctx, jumin, service.Knock{Client: "c4", Token: token(t, s)}, rep("居民账号第三件"))
	retryOf(t, err)

	// Their pin picker's map: the platform's outlines; units have none.
	if service.MapRoot(jumin) != service.PublicMapRoot || service.MapRoot(cases.Actor{}) != service.PublicMapRoot || service.MapRoot(acct("yj_staff")) != "" {
		t.Errorf("map roots %q %q %q", service.MapRoot(jumin), service.MapRoot(cases.Actor{}), service.MapRoot(acct("yj_staff")))
	}
	if b, ok, err := service.NewMaps(s).Home(ctx, cases.Actor{}); err != nil || !ok || !b.Contains(pt) {
		t.Errorf("the public map's bounds %+v %v %v do not hold a grid's point", b, ok, err)
	}
}
