package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestRollupsMatchRecount: on the demo, the rollups kept by Roll (after
// reports and actions) and rebuilt by RebuildRollups equal the facts of
// every case summed in memory, for every subject kind and subject.
func TestRollupsMatchRecount(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("rollup", 700)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	loc := s.Calendar().Location()

	kinds := []evaluation.SubjectKind{evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.District,
		evaluation.Unit, evaluation.Inspector, evaluation.Intake, evaluation.ShiftLead, evaluation.Dispatcher}
	check := func(when string) {
		t.Helper()
		var all []evaluation.Fact
		f := store.CaseFilter{Scope: store.Scope{All: true}, Limit: store.MaxPage}
		n, factBytes := 0, 0
		for {
			list, err := p.DB.Cases(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for i := range list {
				steps, err := p.DB.Steps(ctx, list[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				fs := evaluation.Facts(&list[i], steps, loc)
				b, _ := json.Marshal(fs)
				factBytes += len(b)
				all = append(all, fs...)
			}
			n += len(list)
			if len(list) == 0 {
				break
			}
			f.After = list[len(list)-1].ID
		}
		if n <= 700 {
			t.Fatalf("only %d cases counted", n)
		}
		var stored, docs int
		if err := p.DB.Raw().QueryRowContext(ctx, `SELECT COALESCE(SUM(LENGTH(doc)), 0), COUNT(*) FROM case_facts`).Scan(&stored, &docs); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: case_facts %d bytes a case (the facts as plain JSON: %d bytes a case)", when, stored/max(docs, 1), factBytes/n)
		now := s.Now().In(loc)
		month := now.Year()*10000 + int(now.Month())*100
		prev := now.AddDate(0, -1, 0)
		today := evaluation.DayOf(now, loc)
		ranges := [][2]int{
			{0, 99999999},           // everything
			{month + 1, month + 31}, // this month, whole
			{prev.Year()*10000 + int(prev.Month())*100 + 15, month + 10}, // across two months
			{today, today}, // a day
		}
		for _, r := range ranges {
			want := map[evaluation.SubjectKind]map[string]evaluation.Counts{}
			for _, fact := range all {
				if fact.Day < r[0] || fact.Day > r[1] {
					continue
				}
				if want[fact.Kind] == nil {
					want[fact.Kind] = map[string]evaluation.Counts{}
				}
				c := want[fact.Kind][fact.Subject]
				if c == nil {
					c = evaluation.Counts{}
					want[fact.Kind][fact.Subject] = c
				}
				for m, v := range fact.Counts {
					if c[m] += v; c[m] == 0 {
						delete(c, m)
					}
				}
			}
			for _, k := range kinds {
				got, err := p.DB.RollupCounts(ctx, k, "", r[0], r[1])
				if err != nil {
					t.Fatal(err)
				}
				// A subject whose counts all went back to zero keeps its row.
				for sub, c := range got {
					if len(c) == 0 && len(want[k][sub]) == 0 {
						delete(got, sub)
					}
				}
				for sub, c := range want[k] {
					if len(c) == 0 {
						delete(want[k], sub)
					}
				}
				if w := want[k]; !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
					t.Errorf("%s %v: %s rollups differ from the recount:\n got %v\nwant %v", when, r, k, got, w)
				}
			}
		}
	}

	// The first roll has no watermark: it builds the rollups from the cases.
	rolledAt := s.Now()
	if _, err := s.Roll(ctx, rolledAt); err != nil {
		t.Fatal(err)
	}
	check("first roll")

	// Reports and actions, then a roll past the lag.
	var commanders []cases.Actor
	for _, u := range []string{"syl_zhihui", "jfb_zhihui", "qu_zhihui", "shi_zhihui"} {
		acct, err := p.DB.AccountByUsername(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		commanders = append(commanders, s.ActorOf(acct))
	}
	some, err := p.DB.Cases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	reported, acted := 0, 0
	for i, c := range some {
		if c.Point == nil {
			continue
		}
		tok, err := s.FormToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := s.ReportAnonymous(ctx, service.Knock{Token: tok}, cases.Report{Source: cases.SourceResident, Point: c.Point, Category: c.Category,
			Description: "路面有坑，请尽快处理", Reporter: cases.Reporter{Name: "张三", Phone: fmt.Sprintf("1380000%04d", i)}})
		if err != nil {
			continue
		}
		reported++
		cmd := cases.Command{Action: cases.ActAccept}
		if i%2 == 1 {
			cmd = cases.Command{Action: cases.ActReject, Note: "重复上报"}
		}
		for _, a := range commanders {
			if _, _, err := s.Act(ctx, a, nc.ID, cmd, 0); err == nil {
				acted++
				break
			}
		}
	}
	t.Logf("reported %d, acted on %d", reported, acted)
	if reported == 0 || acted == 0 {
		t.Fatalf("reported %d, acted on %d", reported, acted)
	}
	acted += randomWorkload(t, s, p.DB, 300)
	// Steps younger than the lag wait for the next roll: a roll up to the
	// first roll's time finds nothing (not "a minute ago": under the race
	// detector the workload alone takes longer than that).
	if n, err := s.Roll(ctx, rolledAt); err != nil || n != 0 {
		t.Errorf("roll before the lag: %d cases, %v", n, err)
	}
	n, err := s.Roll(ctx, s.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n < reported {
		t.Errorf("rolled %d cases, want at least %d", n, reported)
	}
	check("roll")
	// Nothing changed since: rolling again finds nothing.
	if n, err := s.Roll(ctx, s.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("second roll: %d cases, %v", n, err)
	}

	if n, err := s.RebuildRollups(ctx); err != nil || n <= 700 {
		t.Fatalf("rebuild: %d cases, %v", n, err)
	}
	check("rebuild")
}

// randomWorkload takes n random actions on the cases (accept, reject,
// dispatch, re-dispatch, sign, feed back, return, verify, close, rate,
// whistle, report in…) by the accounts allowed to, through the service, and
// returns how many were taken.
func randomWorkload(t *testing.T, s *service.Service, db *store.DB, n int) int {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewSource(11))
	accts, err := db.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var actors []cases.Actor
	for _, a := range accts {
		actors = append(actors, s.ActorOf(a))
	}
	list, err := db.Cases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, Limit: store.MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	unitSet := map[string]bool{}
	var open []string
	for _, c := range list {
		for _, tk := range c.Tasks {
			unitSet[tk.UnitID] = true
		}
		open = append(open, c.ID)
	}
	var units []string
	for u := range unitSet {
		units = append(units, u)
	}
	if len(units) == 0 || len(open) == 0 {
		t.Fatal("no units or cases in the demo")
	}
	ratings := []cases.Rating{cases.Satisfied, cases.BasicSatisfied, cases.Unsatisfied}
	done, errs, took := 0, map[cases.Action]int{}, map[cases.Action]int{}
	for i := 0; i < n*20 && done < n; i++ {
		c, err := db.Case(ctx, open[rnd.Intn(len(open))])
		if err != nil {
			t.Fatal(err)
		}
		var a cases.Actor
		var acts []cases.Action
		for _, j := range rnd.Perm(len(actors)) {
			for _, x := range cases.Actions(&c, actors[j]) {
				switch x {
				case cases.ActMerge, cases.ActPlace, cases.ActMeeting, cases.ActDecisionDone, cases.ActExtendRequest,
					cases.ActParkRequest, cases.ActEscalate, cases.ActHandDown, cases.ActUrge, cases.ActSupervise, cases.ActHandle:
					continue
				}
				acts = append(acts, x)
			}
			if len(acts) > 0 {
				a = actors[j]
				break
			}
		}
		if len(acts) == 0 {
			continue
		}
		act := acts[rnd.Intn(len(acts))]
		if act == cases.ActReopen && rnd.Intn(10) > 0 {
			continue // most demo cases are closed: reopen now and then only
		}
		passed := rnd.Intn(3) > 0
		cmd := cases.Command{Action: act, Note: "测试说明", Lead: units[rnd.Intn(len(units))], Passed: &passed,
			Rating: ratings[rnd.Intn(3)], Parties: []cases.PartyRef{{UnitID: units[rnd.Intn(len(units))]}}}
		if ts := s.DispatchTargets(c); len(ts) > 0 {
			cmd.Lead = ts[rnd.Intn(len(ts))].ID
		}
		if _, _, err := s.Act(ctx, a, c.ID, cmd, 0); err == nil {
			done++
			took[act]++
		} else {
			errs[act]++
		}
	}
	t.Logf("random workload: %d actions %v; refused %v", done, took, errs)
	if done < n/4 {
		t.Fatalf("random workload: only %d actions taken", done)
	}
	return done
}
