package service_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/server/servertest"
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

	check := func(when string) {
		t.Helper()
		want := map[evaluation.SubjectKind]map[string]evaluation.Counts{}
		f := store.CaseFilter{Scope: store.Scope{All: true}, Limit: store.MaxPage}
		n := 0
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
				for _, fact := range evaluation.Facts(&list[i], steps, loc) {
					if want[fact.Kind] == nil {
						want[fact.Kind] = map[string]evaluation.Counts{}
					}
					c := want[fact.Kind][fact.Subject]
					if c == nil {
						c = evaluation.Counts{}
						want[fact.Kind][fact.Subject] = c
					}
					for m, v := range fact.Counts {
						c[m] += v
					}
				}
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
		for _, k := range []evaluation.SubjectKind{evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.District, evaluation.Unit, evaluation.Inspector} {
			got, err := p.DB.RollupCounts(ctx, k, "", 0, 99999999)
			if err != nil {
				t.Fatal(err)
			}
			// A subject whose counts all went back to zero keeps its row.
			for sub, c := range got {
				if len(c) == 0 && want[k][sub] == nil {
					delete(got, sub)
				}
			}
			if w := want[k]; !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
				t.Errorf("%s: %s rollups differ from the recount:\n got %v\nwant %v", when, k, got, w)
			}
		}
	}

	// The first roll has no watermark: it builds the rollups from the cases.
	if _, err := s.Roll(ctx, s.Now()); err != nil {
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
		nc, err := s.ReportAnonymous(ctx, cases.Report{Source: cases.SourceResident, Point: c.Point, Category: c.Category,
			Description: "路面有坑，请尽快处理", Reporter: cases.Reporter{Name: "张三", Phone: "13800000000"}})
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
	// Steps younger than the lag wait for the next roll.
	if n, err := s.Roll(ctx, s.Now().Add(-time.Minute)); err != nil || n != 0 {
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
