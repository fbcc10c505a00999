package service

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/store"
)

// TestBatchAct: one action on several cases, case by case through Act: the
// cases the rules allow are done, the others are refused with the reason,
// and a refused case does not stop the rest.
func TestBatchAct(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	gw := cases.Actor{AccountID: "gw", Name: "网格员", Role: cases.RoleGridWorker, RegionPath: "/500000/500103/500103001/500103001001/500103001001001/"}
	cmd := cases.Actor{AccountID: "cmd", Name: "指挥员", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	var ids []string
	for i := range 3 {
		c, err := s.Report(ctx, gw, cases.Report{Source: cases.SourcePatrol, Reporter: cases.Reporter{AccountID: "gw", Name: "网格员"},
			Point: &geo.Point{Lng: 106.505, Lat: 29.505}, Category: "MS01", Description: fmt.Sprintf("路面破损%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	// The second case is accepted already: accepting it again is refused.
	if _, _, err := s.Act(ctx, cmd, ids[1], cases.Command{Action: cases.ActAccept}, 0); err != nil {
		t.Fatal(err)
	}
	accept := func(cases.Case) []cases.Command { return []cases.Command{{Action: cases.ActAccept}} }
	res, err := s.BatchAct(ctx, cmd, append(ids, "NOSUCHCASE", ids[0]), accept)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results, want 4 (the repeated ID once): %+v", len(res), res)
	}
	want := []bool{true, false, true, false}
	for i, r := range res {
		if r.Done != want[i] {
			t.Errorf("case %d (%s): done %v, want %v (%s)", i, r.Number, r.Done, want[i], r.Reason)
		}
		if !r.Done && r.Reason == "" {
			t.Errorf("case %d refused with no reason", i)
		}
	}
	if c, _, _ := s.Case(ctx, cmd, ids[2]); c.State != cases.Accepted {
		t.Errorf("the third case after the batch: %s", c.State)
	}
	// A grid worker may not accept: every case refused, none changed.
	res, err = s.BatchAct(ctx, gw, ids[:1], accept)
	if err != nil || res[0].Done || res[0].Reason == "" {
		t.Errorf("a grid worker's batch accept: %+v %v", res, err)
	}
	if _, err := s.BatchAct(ctx, cmd, nil, accept); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("an empty batch: %v", err)
	}
	many := make([]string, MaxBatch+1)
	if _, err := s.BatchAct(ctx, cmd, many, accept); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a batch past the cap: %v", err)
	}
	// Nothing to do on a case: skipped, not done.
	res, _ = s.BatchAct(ctx, cmd, ids[:1], func(cases.Case) []cases.Command { return nil })
	if res[0].Done || !res[0].Skipped {
		t.Errorf("nothing to do: %+v", res[0])
	}
}

// TestSavedFilterRules: a name is required, each person keeps at most
// MaxSavedFilters, and a person deletes only their own.
func TestSavedFilterRules(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	for _, id := range []string{"c1", "c2"} {
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			return tx.PutAccount(ctx, store.Account{ID: id, Username: id, Name: id, Role: cases.RoleCommander, RegionPath: "/500000/500103/", PasswordHash: "h", Active: true})
		}); err != nil {
			t.Fatal(err)
		}
	}
	a := cases.Actor{AccountID: "c1", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	b := cases.Actor{AccountID: "c2", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	if _, err := s.SaveFilter(ctx, a, "  ", "overdue=1"); !strings.Contains(strings.Join(fieldsOf(err), ","), "name") {
		t.Errorf("an empty name: %v", err)
	}
	var first store.SavedFilter
	for i := range store.MaxSavedFilters {
		f, err := s.SaveFilter(ctx, a, fmt.Sprintf("筛选%02d", i), "overdue=1")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = f
		}
	}
	if _, err := s.SaveFilter(ctx, a, "再多一个", "overdue=1"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("past the cap: %v", err)
	}
	if _, err := s.SaveFilter(ctx, a, "筛选00", "source=hotline"); err != nil {
		t.Errorf("replacing one by name at the cap: %v", err)
	}
	if list, _ := s.SavedFilters(ctx, a); len(list) != store.MaxSavedFilters {
		t.Errorf("%d filters, want %d", len(list), store.MaxSavedFilters)
	}
	if err := s.DeleteFilter(ctx, b, first.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("another person's filter: %v", err)
	}
	if err := s.DeleteFilter(ctx, a, first.ID); err != nil {
		t.Errorf("delete: %v", err)
	}
}
