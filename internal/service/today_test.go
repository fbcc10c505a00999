package service_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestTodayFiguresFromRollups: the command board's today figures come from
// the rollups, for the viewer's region only, and follow reports, acceptances
// and closures once rolled; the time they are as of is given.
func TestTodayFiguresFromRollups(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("today", 300)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	actor := func(u string) cases.Actor {
		acct, err := p.DB.AccountByUsername(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		return s.ActorOf(acct)
	}
	street, other, district, city := actor("syl_zhihui"), actor("jfb_zhihui"), actor("qu_zhihui"), actor("shi_zhihui")
	if _, err := s.Roll(ctx, s.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for name, a := range map[string]cases.Actor{"street": street, "other": other, "district": district, "city": city} {
		td, err := s.TodayFigures(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if td.AsOf.IsZero() {
			t.Errorf("%s: no as-of time", name)
		}
		before[name+".reported"], before[name+".accepted"], before[name+".closed"] = td.Reported, td.Accepted, td.Closed
	}

	// Three reports in the street: one accepted, one solved... closed by
	// the center after acceptance.
	some, err := p.DB.Cases(ctx, store.CaseFilter{Scope: store.ScopeOf(street), Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	reported, accepted := 0, 0
	for _, c := range some {
		if c.Point == nil || reported == 3 {
			continue
		}
		tok, err := s.FormToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := s.ReportAnonymous(ctx, service.Knock{Token: tok}, cases.Report{Source: cases.SourceResident, Point: c.Point, Category: c.Category,
			Description: "楼道堆放杂物，请清理", Reporter: cases.Reporter{Name: "李四", Phone: "13800000001"}})
		if err != nil {
			continue
		}
		reported++
		if reported == 1 {
			if _, _, err := s.Act(ctx, street, nc.ID, cases.Command{Action: cases.ActAccept}, 0); err != nil {
				t.Fatal(err)
			}
			accepted++
		}
	}
	if reported != 3 {
		t.Fatalf("reported %d", reported)
	}
	if _, err := s.Roll(ctx, s.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]cases.Actor{"street": street, "other": other, "district": district, "city": city} {
		td, err := s.TodayFigures(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		wantR, wantA := before[name+".reported"], before[name+".accepted"]
		if name != "other" {
			wantR, wantA = wantR+reported, wantA+accepted
		}
		if td.Reported != wantR || td.Accepted != wantA || td.Closed != before[name+".closed"] {
			t.Errorf("%s: today %+v, want reported %d accepted %d closed %d", name, td, wantR, wantA, before[name+".closed"])
		}
	}
}

// TestTodayOverdueCount: the board's 超期未结 equals a direct count of the
// cases in the viewer's region that are open (not closed, not held) with a
// running clock past due now (for the city and the district, read from the
// overdue gauge: as of the last sweep), for the city, a district, two
// streets and a grid worker (whose scope adds their own reports); the store's count
// (store.CountOverdue) does so at later times too, when most open cases are
// past due, and equals the general count with the open and overdue filters.
func TestTodayOverdueCount(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("overdue", 400)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	// Twelve reports of a grid worker, open with running clocks: the demo's
	// open cases depend on the day it is made (on some days only a few are
	// open), and the counts below need some to compare.
	acct, err := p.DB.AccountByUsername(ctx, "yangshipei")
	if err != nil {
		t.Fatal(err)
	}
	worker := s.ActorOf(acct)
	parts := strings.Split(strings.Trim(worker.RegionPath, "/"), "/")
	g, err := p.DB.Region(ctx, parts[len(parts)-1])
	if err != nil {
		t.Fatal(err)
	}
	at := g.Shape.Centroid()
	for i := range 12 {
		if _, err := s.Report(ctx, worker, cases.Report{Source: cases.SourcePatrol, Category: "MS03", Description: fmt.Sprintf("巡查发现垃圾堆放%d处", i+1), Point: &at}); err != nil {
			t.Fatal(err)
		}
	}
	// The city's and the district's figure is the overdue gauge, as of the
	// sweeper: a sweep at swept turns red what fell due since the demo.
	swept := s.Now()
	for {
		n, err := s.Sweep(ctx, swept, 200)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	var all []cases.Case
	f := store.CaseFilter{Scope: store.Scope{All: true}, Limit: store.MaxPage}
	for {
		list, err := p.DB.Cases(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			break
		}
		all = append(all, list...)
		f.After = list[len(list)-1].ID
	}
	count := func(a cases.Actor, now time.Time) int {
		n := 0
		for i := range all {
			c := &all[i]
			if !c.ClosedAt.IsZero() || c.State == cases.Held || !cases.CanSee(a, c) {
				continue
			}
			for _, r := range c.RunningClocks() {
				if r.Clock.Due.Before(now) {
					n++
					break
				}
			}
		}
		return n
	}
	most := 0
	for _, u := range []string{"shi_zhihui", "qu_zhihui", "syl_zhihui", "jfb_zhihui", "yangshipei"} {
		acct, err := p.DB.AccountByUsername(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		a := s.ActorOf(acct)
		td, err := s.TodayFigures(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		at := s.Now()
		if u == "shi_zhihui" || u == "qu_zhihui" {
			at = swept
		}
		if want := count(a, at); td.Overdue != want {
			t.Errorf("%s: 超期未结 %d, counted %d", u, td.Overdue, want)
		}
		for _, later := range []time.Duration{time.Hour, 50 * time.Hour, 10 * 24 * time.Hour} {
			at := s.Now().Add(later)
			got, err := p.DB.CountOverdue(ctx, store.ScopeOf(a), at)
			if err != nil {
				t.Fatal(err)
			}
			open, overdue := true, true
			general, err := p.DB.CountCases(ctx, store.CaseFilter{Scope: store.ScopeOf(a), Open: &open, Overdue: &overdue, Now: at})
			if err != nil {
				t.Fatal(err)
			}
			if want := count(a, at); got != want || general != want {
				t.Errorf("%s in %v: CountOverdue %d, CountCases %d, counted %d", u, later, got, general, want)
			}
			most = max(most, got)
		}
	}
	if most < 10 {
		t.Errorf("at most %d overdue cases: too few to check", most)
	}
}

// TestOverdueGaugeFollowsWork: the overdue gauge (store/gauge.go) equals its
// recount from the cases after the demo, a random workload, a sweep two days
// later and a rebuild; after the sweep, the board's 超期未结 for the city and
// the district (read from the gauge) equals the live count of open cases
// due before the sweep's time.
func TestOverdueGaugeFollowsWork(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("gauge", 400)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	check := func(when string) {
		t.Helper()
		got, err := p.DB.Gauge(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.DB.RecountGauge(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: gauge %v, recount %v", when, got, want)
		}
	}
	check("demo")
	randomWorkload(t, s, p.DB, 150)
	check("workload")
	at := s.Now().Add(50*time.Hour + 7*time.Millisecond)
	for {
		n, err := s.Sweep(ctx, at, 200)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	check("swept")
	for _, u := range []string{"shi_zhihui", "qu_zhihui"} {
		acct, err := p.DB.AccountByUsername(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		sc := store.ScopeOf(s.ActorOf(acct))
		red, err := p.DB.CountRed(ctx, sc, at)
		if err != nil {
			t.Fatal(err)
		}
		live, err := p.DB.CountOverdue(ctx, sc, at)
		if err != nil {
			t.Fatal(err)
		}
		if red != live || live < 10 {
			t.Errorf("%s: gauge %d, live count %d at the sweep's time (want equal, at least 10)", u, red, live)
		}
		td, err := s.TodayFigures(ctx, s.ActorOf(acct))
		if err != nil {
			t.Fatal(err)
		}
		if td.Overdue != red {
			t.Errorf("%s: today's 超期未结 %d, gauge %d", u, td.Overdue, red)
		}
	}
	if err := p.DB.RebuildGauge(ctx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}
