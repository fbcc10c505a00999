package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/store"
)

// TestExplainList prints the engine's plan and the time of the store's own
// list queries (ZHIZHI_BENCH_EXPLAIN=path/to/cases.db or a postgres:// URL),
// through store.DB.ExplainCases: what the list benchmark measures.
func TestExplainList(t *testing.T) {
	path := os.Getenv("ZHIZHI_BENCH_EXPLAIN")
	if path == "" {
		t.Skip("set ZHIZHI_BENCH_EXPLAIN to a list benchmark database")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	yes := true
	street := store.ScopeOf(cases.Actor{Role: cases.RoleCommander, RegionPath: "/500000/500103/500103014/"})
	district := store.ScopeOf(cases.Actor{Role: cases.RoleCommander, RegionPath: "/500000/500103/"})
	box := geo.Rect{Min: geo.Point{Lng: 106.55, Lat: 29.55}, Max: geo.Point{Lng: 106.553, Lat: 29.553}}
	open := []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack}
	for _, q := range []struct {
		name string
		f    store.CaseFilter
	}{
		{"street+state", store.CaseFilter{Scope: street, States: open[:1]}},
		{"street+open", store.CaseFilter{Scope: street, States: open}},
		{"category+overdue", store.CaseFilter{Scope: street, Category: "MS03", Overdue: &yes, Now: listNow}},
		{"text, common", store.CaseFilter{Scope: district, Text: "井盖"}},
		{"text, rare", store.CaseFilter{Scope: district, Text: "占道经营某某"}},
		{"map: open in box", store.CaseFilter{Scope: district, BBox: &box, States: open}},
		{"box, all history", store.CaseFilter{Scope: district, BBox: &box}},
		{"street", store.CaseFilter{Scope: street}},
		// The command board's panels (web/boardpanel.go): open cases past
		// due, critical ones, the newest; which partial index of open cases
		// the planner takes for them, if any (migrations 29, 31).
		{"board: open overdue, district", store.CaseFilter{Scope: district, Open: &yes, Overdue: &yes, Now: listNow}},
		{"board: open overdue, street", store.CaseFilter{Scope: street, Open: &yes, Overdue: &yes, Now: listNow}},
		{"board: open critical, district", store.CaseFilter{Scope: district, Open: &yes, Severity: "critical"}},
		{"board: open, street", store.CaseFilter{Scope: street, Open: &yes}},
	} {
		plan, err := db.ExplainCases(ctx, q.f)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		start := time.Now()
		got, err := db.Cases(ctx, q.f)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		t.Logf("%s: %d rows in %v\n%s", q.name, len(got), time.Since(start), plan)
	}
}
