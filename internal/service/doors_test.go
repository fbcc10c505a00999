package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/geo"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
)

// doorPlatform opens the demo (no history) with the given door limits, on
// SQLite or, with ZHIZHI_TEST_POSTGRES, PostgreSQL; it returns the platform
// and a point inside a grid.
func doorPlatform(t *testing.T, lim service.DoorLimits) (*server.Platform, geo.Point) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dsn, drop, err := storetest.DSN(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	p, err := server.Open(ctx, server.Config{DB: dsn, DataDir: dir, DefaultCenter: demo.District, Doors: lim,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	grids, err := p.DB.Regions(ctx, store.RegionFilter{Level: "grid", WithShape: true})
	if err != nil || len(grids) == 0 {
		t.Fatal("no grids", err)
	}
	return p, grids[0].Shape.Centroid()
}

// anonReport is a resident's report from a phone at a point.
func anonReport(pt geo.Point, phone, desc string) cases.Report {
	return cases.Report{Category: "MS03", Description: desc, Point: &pt, Reporter: cases.Reporter{Phone: phone}}
}

func token(t *testing.T, s *service.Service) string {
	t.Helper()
	tok, err := s.FormToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func retryOf(t *testing.T, err error) time.Duration {
	t.Helper()
	var rl *service.RateLimited
	if !apperr.Is(err, apperr.TooMany) || !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("want 429 with a retry time, got %v", err)
	}
	return rl.RetryAfter
}

// TestAnonymousFlood plays the flood of issue 20 against the residents'
// door: one token sent many times makes one case; many tokens from one
// client or one phone are held past the soft limit and refused (429) past
// the hard one; held reports have no clock, stay out of the live queue and
// the evaluation, and the center releases or bulk-rejects them.
func TestAnonymousFlood(t *testing.T) {
	ctx := context.Background()
	p, pt := doorPlatform(t, service.DoorLimits{ClientHold: 2, ClientMax: 4, PhoneHold: 2, PhoneMax: 3, DoorHold: 1000,
		FollowMisses: 3})
	s := p.Service
	all := cases.Actor{AccountID: "t", Role: cases.RoleAdmin, RegionPath: "/"}

	// One form token, forty posts at once, from one client with forty
	// phones: one case; the others are refused and change nothing (the
	// token is used, or the client has too many reports in flight).
	tok := token(t, s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var made []cases.Case
	refused, conflicts := 0, 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.ReportAnonymous(ctx, service.Knock{Client: "198.51.100.1", Token: tok},
				anonReport(pt, fmt.Sprintf("1391000%04d", i), "同一表单反复提交"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made = append(made, c)
			case apperr.Is(err, apperr.Conflict):
				refused++
				conflicts++
			case apperr.Is(err, apperr.TooMany):
				refused++
			default:
				t.Errorf("post %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if len(made) != 1 || refused != 39 || conflicts == 0 {
		t.Fatalf("one token posted 40 times: %d cases, %d refused (%d as used)", len(made), refused, conflicts)
	}
	if n, _ := s.Count(ctx, all, store.CaseFilter{Text: "同一表单反复提交"}); n != 1 {
		t.Fatalf("%d cases stored for one token", n)
	}
	// The posts that lost the token were counted against the client until
	// given back: the one that won was held for the client when it was
	// admitted third or fourth, live when first or second.
	var held []cases.Case
	switch w := made[0]; {
	case w.State == cases.Held && w.Hold != nil && w.Hold.Reason == cases.HoldClient:
		held = append(held, w)
	case w.State != cases.Reported:
		t.Fatalf("the post that won: %s %+v", w.State, w.Hold)
	}
	// The same form sent again by its own phone is the same report.
	again, err := s.ReportAnonymous(ctx, service.Knock{Client: "198.51.100.1", Token: tok}, anonReport(pt, made[0].Reporter.Phone, "同一表单反复提交"))
	if err != nil || again.ID != made[0].ID {
		t.Fatalf("the same form again: %v, case %s want %s", err, again.ID, made[0].ID)
	}
	// Another phone with the used form: refused, with a clear message.
	_, err = s.ReportAnonymous(ctx, service.Knock{Client: "198.51.100.3", Token: tok}, anonReport(pt, "13910009999", "同一表单反复提交"))
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.Conflict || e.Message == "" {
		t.Fatalf("a used form from another phone: %v", err)
	}
	// A forged or made-up token is refused before anything.
	forged := tok[:len(tok)-3] + "AAA"
	for _, bad := range []string{"", "r-abc", forged} {
		if _, err := s.ReportAnonymous(ctx, service.Knock{Client: "198.51.100.9", Token: bad}, anonReport(pt, "13920000000", "伪造表单")); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("token %q: %v, want invalid", bad, err)
		}
	}

	// One client, a fresh token each time, a new phone each time: two go
	// live, two are held, the fifth is refused with when to retry.
	var live []cases.Case
	for i := range 5 {
		c, err := s.ReportAnonymous(ctx, service.Knock{Client: "198.51.100.2", Token: token(t, s)},
			anonReport(pt, fmt.Sprintf("1392000%04d", i), fmt.Sprintf("同一来源第%d件", i+1)))
		switch {
		case i < 2:
			if err != nil || c.State != cases.Reported {
				t.Fatalf("report %d: %v %s", i+1, err, c.State)
			}
			live = append(live, c)
		case i < 4:
			if err != nil || c.State != cases.Held || c.Hold == nil || c.Hold.Reason != cases.HoldClient {
				t.Fatalf("report %d: %v %s %+v, want held for the client", i+1, err, c.State, c.Hold)
			}
			held = append(held, c)
		default:
			if wait := retryOf(t, err); wait > time.Hour {
				t.Errorf("retry after %s", wait)
			}
		}
	}
	// One phone from many clients: held past two, refused past three.
	for i := range 4 {
		c, err := s.ReportAnonymous(ctx, service.Knock{Client: fmt.Sprintf("203.0.113.%d", i+1), Token: token(t, s)},
			anonReport(pt, "13930000000", fmt.Sprintf("同一电话第%d件", i+1)))
		switch {
		case i < 2:
			if err != nil || c.State != cases.Reported {
				t.Fatalf("phone report %d: %v %s", i+1, err, c.State)
			}
		case i == 2:
			if err != nil || c.State != cases.Held || c.Hold.Reason != cases.HoldPhone {
				t.Fatalf("phone report 3: %v %s", err, c.State)
			}
			held = append(held, c)
		default:
			retryOf(t, err)
		}
	}

	// Held: no clock, out of the live queue and of the evaluation, in the
	// holding queue of the case's center.
	yes := true
	open, err := s.List(ctx, all, store.CaseFilter{Open: &yes, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range open {
		if c.State == cases.Held {
			t.Errorf("held case %s in the open listing", c.Number)
		}
	}
	center := cases.Actor{AccountID: "cmd", Name: "指挥长", Role: cases.RoleCommander, RegionPath: held[0].CenterPath}
	queue, total, err := s.HeldQueue(ctx, center, "", 50)
	if err != nil || total != len(held) || len(queue) != len(held) {
		t.Fatalf("holding queue: %d of %d listed, want %d (%v)", len(queue), total, len(held), err)
	}
	for _, h := range held {
		c, steps, err := s.Case(ctx, center, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.RunningClocks()) != 0 || c.Stage != "" {
			t.Errorf("held case %s has clocks %+v", c.Number, c.RunningClocks())
		}
		if fs := evaluation.Facts(&c, steps, time.UTC); len(fs) != 0 {
			t.Errorf("held case %s counts in the evaluation: %+v", c.Number, fs)
		}
	}
	// A sweep a year on fires the live cases' clocks, nothing of the held.
	if _, err := s.Sweep(ctx, time.Now().Add(365*24*time.Hour), 1000); err != nil {
		t.Fatal(err)
	}
	for _, h := range held {
		if c, steps, _ := s.Case(ctx, center, h.ID); c.State != cases.Held || len(steps) != 1 {
			t.Errorf("held case %s after a sweep: %s, %d steps", c.Number, c.State, len(steps))
		}
	}
	if _, steps, _ := s.Case(ctx, center, live[0].ID); len(steps) < 2 {
		t.Errorf("the sweep fired nothing on a live case (%d steps): the check above proves nothing", len(steps))
	}

	// The center releases one: its accept clock starts now; it is live.
	before := time.Now()
	got, err := s.Screen(ctx, center, []string{held[0].ID}, cases.Command{Action: cases.ActRelease})
	if err != nil || len(got.Done) != 1 {
		t.Fatalf("release: %+v %v", got, err)
	}
	rel, _, _ := s.Case(ctx, center, held[0].ID)
	if rel.State != cases.Reported || rel.Stage != cases.StageAccept || rel.Clock.Start.Before(before.Add(-time.Second)) || len(rel.RunningClocks()) != 1 {
		t.Fatalf("released: %s %s clock %+v", rel.State, rel.Stage, rel.Clock)
	}
	// A reject needs a reason; then the rest go at once. The released one,
	// the live ones and a case of another center are left alone.
	ids := []string{live[0].ID}
	for _, h := range held {
		ids = append(ids, h.ID)
	}
	if _, err := s.Screen(ctx, center, ids, cases.Command{Action: cases.ActReject}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a bulk reject without a reason: %v", err)
	}
	got, err = s.Screen(ctx, center, ids, cases.Command{Action: cases.ActReject, Note: "同一来源批量提交，经甄别不予受理"})
	if err != nil || len(got.Done) != len(held)-1 || len(got.Failed) != 2 || got.Failed[live[0].ID] == "" || got.Failed[held[0].ID] == "" {
		t.Fatalf("bulk reject: %+v %v", got, err)
	}
	for _, id := range got.Done {
		c, steps, _ := s.Case(ctx, center, id)
		if c.State != cases.Rejected || !c.Screened() || len(evaluation.Facts(&c, steps, time.UTC)) != 0 {
			t.Errorf("rejected from the queue: %s screened %v", c.State, c.Screened())
		}
	}
	if c, _, _ := s.Case(ctx, center, live[0].ID); c.State != cases.Reported {
		t.Errorf("a live case was touched by the bulk reject: %s", c.State)
	}
	if _, total, _ := s.HeldQueue(ctx, center, "", 50); total != 0 {
		t.Errorf("%d still held", total)
	}
}

// TestAnonymousDoorFlood: a flood from many addresses and phones is held
// once the whole door has taken DoorHold reports in its window.
func TestAnonymousDoorFlood(t *testing.T) {
	ctx := context.Background()
	p, pt := doorPlatform(t, service.DoorLimits{DoorHold: 3, DoorWindow: time.Hour})
	s := p.Service
	for i := range 6 {
		c, err := s.ReportAnonymous(ctx, service.Knock{Client: fmt.Sprintf("192.0.2.%d", i+10), Token: token(t, s)},
			anonReport(pt, fmt.Sprintf("1394000%04d", i), "入口涌入"))
		if err != nil {
			t.Fatal(err)
		}
		if want := i >= 3; (c.State == cases.Held) != want || (want && c.Hold.Reason != cases.HoldDoor) {
			t.Errorf("report %d: %s %+v", i+1, c.State, c.Hold)
		}
	}
}

// TestFollowGuessing: a client that guesses phones is throttled; the case
// is not locked: the resident, from another address, follows it.
func TestFollowGuessing(t *testing.T) {
	ctx := context.Background()
	p, pt := doorPlatform(t, service.DoorLimits{FollowMisses: 3})
	s := p.Service
	c, err := s.ReportAnonymous(ctx, service.Knock{Client: "192.0.2.50", Token: token(t, s)}, anonReport(pt, "13712345678", "猜测电话测试"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, err := s.FollowAnonymous(ctx, "198.51.100.66", c.Number, fmt.Sprintf("1370000%04d", i)); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	// The guesser waits, even with the right phone now …
	_, _, err = s.FollowAnonymous(ctx, "198.51.100.66", c.Number, "13712345678")
	retryOf(t, err)
	if _, err := s.RateAnonymous(ctx, "198.51.100.66", c.Number, "13712345678", cases.Satisfied, ""); !apperr.Is(err, apperr.TooMany) {
		t.Errorf("rating from the guessing client: %v", err)
	}
	// … the resident does not.
	got, _, err := s.FollowAnonymous(ctx, "192.0.2.50", c.Number, "137 1234 5678")
	if err != nil || got.ID != c.ID {
		t.Fatalf("the resident is locked out: %v", err)
	}
	// Wrong input (no phone) is not a guess.
	for range 5 {
		if _, _, err := s.FollowAnonymous(ctx, "192.0.2.51", c.Number, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatal(err)
		}
	}
	if _, _, err := s.FollowAnonymous(ctx, "192.0.2.51", c.Number, "13712345678"); err != nil {
		t.Fatalf("empty inputs counted as guesses: %v", err)
	}
}
