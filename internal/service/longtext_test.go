package service_test

import (
	"context"
	"slices"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
)

// TestLongReportText: a report with the longest description accepted
// (cases.MaxDescription characters, all different-looking) is written and
// found by a word near its end, and a short report accepted with the
// longest note (2,000 characters) too; on PostgreSQL both were refused
// with an internal error before migration 39 (the text did not fit a
// btree entry of the street and district indexes). SQLite, or PostgreSQL
// with ZHIZHI_TEST_POSTGRES.
func TestLongReportText(t *testing.T) {
	ctx := context.Background()
	p, _ := doorPlatform(t, service.DoorLimits{})
	s := p.Service
	gw, pt := gridWorker(t, p.DB)
	worker := s.ActorOf(gw)
	commander := cases.Actor{AccountID: "cmd", Name: "指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	report := func(desc string) cases.Case {
		t.Helper()
		c, err := s.Report(ctx, worker, cases.Report{Source: cases.SourcePatrol, Category: "MS03", Description: desc,
			Point: &geo.Point{Lng: pt.Lng, Lat: pt.Lat}})
		if err != nil {
			t.Fatalf("a report of %d characters: %v", len([]rune(desc)), err)
		}
		return c
	}
	found := func(what, id, word string) {
		t.Helper()
		for _, f := range []store.CaseFilter{{Text: word}, {Text: word, RegionPath: worker.RegionPath}} {
			got, err := s.List(ctx, commander, f)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if !slices.Contains(ids, id) {
				t.Errorf("%s: %q in %q finds %v, not %s", what, word, f.RegionPath, ids, id)
			}
		}
		if n, err := s.Count(ctx, commander, store.CaseFilter{Text: word}); err != nil || n < 1 {
			t.Errorf("%s: count %d %v", what, n, err)
		}
	}
	desc := storetest.RandomHan(1, cases.MaxDescription)
	long := report(desc)
	r := []rune(desc)
	found("the longest description", long.ID, string(r[len(r)-6:len(r)-2]))
	found("the longest description, a short word", long.ID, string(r[len(r)-9:len(r)-7]))

	short := report("楼道堆放杂物")
	note := storetest.RandomHan(2, 2000)
	if _, _, err := s.Act(ctx, commander, short.ID, cases.Command{Action: cases.ActAccept, Note: note}, 0); err != nil {
		t.Fatalf("a note of 2,000 characters: %v", err)
	}
	n := []rune(note)
	found("the longest note", short.ID, string(n[len(n)-5:len(n)-1]))
}
