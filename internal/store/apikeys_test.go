package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

func TestAPIKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		created := time.Date(2026, 3, 1, 8, 0, 0, 123_000_000, time.UTC)
		put := func(k APIKey) error { return db.Write(ctx, func(tx *Tx) error { return tx.InsertAPIKey(ctx, k) }) }
		a := APIKey{ID: "k1", Name: "app", Hash: "h1", RegionPath: districtPath, RatePerMinute: 60, CreatedAt: created}
		b := APIKey{ID: "k2", Name: "bureau", Hash: "h2", RegionPath: streetPath, RatePerMinute: 5, CreatedAt: created.Add(time.Second)}
		for _, k := range []APIKey{a, b} {
			if err := put(k); err != nil {
				t.Fatal(err)
			}
		}
		for _, get := range []func() (APIKey, error){
			func() (APIKey, error) { return db.APIKeyByHash(ctx, "h1") },
			func() (APIKey, error) { return db.APIKey(ctx, "k1") },
			func() (APIKey, error) { return db.APIKey(ctx, "app") },
		} {
			if got, err := get(); err != nil || got != a {
				t.Fatalf("key %+v %v, want %+v", got, err, a)
			}
		}
		if _, err := db.APIKeyByHash(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		// An active name and a hash are unique.
		if err := put(APIKey{ID: "k3", Name: "app", Hash: "h3", RegionPath: districtPath, RatePerMinute: 1, CreatedAt: created}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate active name: %v", err)
		}
		if err := put(APIKey{ID: "k3", Name: "other", Hash: "h1", RegionPath: districtPath, RatePerMinute: 1, CreatedAt: created}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate hash: %v", err)
		}
		// Revoking ends the key; revoking twice, or an unknown key, is not found.
		revoked := created.Add(time.Hour)
		if err := db.Write(ctx, func(tx *Tx) error { return tx.RevokeAPIKey(ctx, "k1", revoked) }); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"k1", "nope"} {
			if err := db.Write(ctx, func(tx *Tx) error { return tx.RevokeAPIKey(ctx, id, revoked) }); !errors.Is(err, ErrNotFound) {
				t.Fatalf("revoke %s again: %v", id, err)
			}
		}
		if _, err := db.APIKeyByHash(ctx, "h1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoked key by hash: %v", err)
		}
		if _, err := db.APIKey(ctx, "app"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoked key by name: %v", err)
		}
		got, err := db.APIKey(ctx, "k1")
		if err != nil || got.Active() || !got.RevokedAt.Equal(revoked) {
			t.Fatalf("revoked key by id: %+v %v", got, err)
		}
		// The name is free again once revoked.
		c := APIKey{ID: "k4", Name: "app", Hash: "h4", RegionPath: districtPath, RatePerMinute: 30, CreatedAt: created.Add(2 * time.Hour)}
		if err := put(c); err != nil {
			t.Fatalf("reuse a revoked name: %v", err)
		}
		if got, err := db.APIKey(ctx, "app"); err != nil || got.ID != "k4" {
			t.Fatalf("active key by name: %+v %v", got, err)
		}
		list, err := db.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range list {
			ids = append(ids, fmt.Sprintf("%s:%v", k.ID, k.Active()))
		}
		if want := []string{"k1:false", "k4:true", "k2:true"}; !slices.Equal(ids, want) {
			t.Fatalf("list %v, want %v", ids, want)
		}
	})
}

func TestCasesPageAndStepsBetween(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var all []*cases.Case
		for i := range 7 {
			cat := "road.pothole"
			if i%3 == 2 {
				cat = "party.member"
			}
			all = append(all, newCase(fmt.Sprintf("C%d", i), func(c *cases.Case) {
				c.Category = cat
				c.ReportedAt = t0.Add(time.Duration(i) * time.Hour)
				c.UpdatedAt = c.ReportedAt
			}))
		}
		insert(t, db, all...)
		page := func(f CaseFilter, offset int) []string {
			t.Helper()
			f.Scope = Scope{All: true}
			got, err := db.CasesPage(ctx, f, offset)
			if err != nil {
				t.Fatal(err)
			}
			return ids(got)
		}
		if got, want := page(CaseFilter{Limit: 3}, 0), []string{"C6", "C5", "C4"}; !slices.Equal(got, want) {
			t.Fatalf("page 1: %v, want %v", got, want)
		}
		if got, want := page(CaseFilter{Limit: 3}, 3), []string{"C3", "C2", "C1"}; !slices.Equal(got, want) {
			t.Fatalf("page 2: %v, want %v", got, want)
		}
		if got, want := page(CaseFilter{Limit: 3, After: "C1"}, 6), []string{"C0"}; !slices.Equal(got, want) {
			t.Fatalf("page 3 (cursor ignored): %v, want %v", got, want)
		}
		if got, want := page(CaseFilter{Categories: []string{"party.member"}}, 0), []string{"C5", "C2"}; !slices.Equal(got, want) {
			t.Fatalf("by category: %v, want %v", got, want)
		}

		// Move C1 along two steps and C2 one, later on.
		err := db.Write(ctx, func(tx *Tx) error {
			for _, mv := range []struct {
				c      *cases.Case
				action cases.Action
				state  cases.State
				at     time.Duration
			}{
				{all[1], cases.ActAccept, cases.Accepted, 10 * time.Hour},
				{all[2], cases.ActAccept, cases.Accepted, 11 * time.Hour},
				{all[1], cases.ActUrge, cases.Accepted, 12 * time.Hour},
				{all[1], cases.ActDispatch, cases.Dispatched, 13 * time.Hour},
			} {
				n := *mv.c
				n.Version, n.State, n.UpdatedAt = mv.c.Version+1, mv.state, t0.Add(mv.at)
				if err := tx.UpdateCase(ctx, was(mv.c.Version), &n, stepOf(&n, mv.action), ClockRule{}); err != nil {
					return err
				}
				*mv.c = n
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		feed := func(f StepFilter) []string {
			t.Helper()
			got, err := db.StepsBetween(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range got {
				out = append(out, fmt.Sprintf("%s/%s/%s", s.CaseNumber, s.Step.Action, s.Category))
			}
			return out
		}
		win := StepFilter{From: t0.Add(10 * time.Hour), To: t0.Add(14 * time.Hour)}
		if got, want := feed(win), []string{"ZZC1/accept/road.pothole", "ZZC2/accept/party.member", "ZZC1/urge/road.pothole", "ZZC1/dispatch/road.pothole"}; !slices.Equal(got, want) {
			t.Fatalf("window: %v, want %v", got, want)
		}
		f := win
		f.Actions, f.Categories = []cases.Action{cases.ActAccept, cases.ActDispatch}, []string{"road.pothole"}
		if got, want := feed(f), []string{"ZZC1/accept/road.pothole", "ZZC1/dispatch/road.pothole"}; !slices.Equal(got, want) {
			t.Fatalf("filtered: %v, want %v", got, want)
		}
		f.Limit, f.Offset = 1, 1
		if got, want := feed(f), []string{"ZZC1/dispatch/road.pothole"}; !slices.Equal(got, want) {
			t.Fatalf("paged: %v, want %v", got, want)
		}
		// The window's end is exclusive; the reports (at t0…t0+6h) are before it.
		if got, want := feed(StepFilter{From: t0.Add(11 * time.Hour), To: t0.Add(13 * time.Hour)}), []string{"ZZC2/accept/party.member", "ZZC1/urge/road.pothole"}; !slices.Equal(got, want) {
			t.Fatalf("narrow window: %v, want %v", got, want)
		}
		if got := feed(StepFilter{From: t0.Add(20 * time.Hour), To: t0.Add(30 * time.Hour)}); len(got) != 0 {
			t.Fatalf("empty window: %v", got)
		}
	})
}
