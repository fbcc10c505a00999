package store

import (
	"context"
	"slices"
	"testing"

	"zhizhi/internal/cases"
)

// TestWhistleScope checks that listings agree with cases.CanSee for parties
// summoned by a whistle and units charged with a meeting's decision: they
// see the case although they have no task on it.
func TestWhistleScope(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		whistled := newCase("W01", func(c *cases.Case) {
			c.State = cases.Handling
			c.Whistles = []cases.Whistle{{ID: "w1", Kind: cases.WhistleKind("street"), Parties: []cases.Party{
				{Key: "unit:u-fire", UnitID: "u-fire", Name: "消防"},
				{Key: "person:acct-head", AccountID: "acct-head", Name: "楼长"},
			}}}
			c.Meetings = []cases.Meeting{{ID: "m1", Decisions: []cases.Decision{{ID: "d1", Text: "整改", UnitID: "u-dec"}}}}
		})
		plain := newCase("W02")
		insert(t, db, whistled, plain)
		sibling := "/500000/500103/500103009/"
		for _, tc := range []struct {
			name  string
			actor cases.Actor
			want  []string
		}{
			{"summoned unit", cases.Actor{Role: cases.RoleUnit, UnitID: "u-fire", AccountID: "acct-fire"}, []string{"W01"}},
			{"decision unit", cases.Actor{Role: cases.RoleUnit, UnitID: "u-dec", AccountID: "acct-dec"}, []string{"W01"}},
			{"other unit", cases.Actor{Role: cases.RoleUnit, UnitID: "u-other", AccountID: "acct-o"}, nil},
			{"summoned head elsewhere", cases.Actor{Role: cases.RoleHead, RegionPath: sibling, AccountID: "acct-head"}, []string{"W01"}},
			{"other head elsewhere", cases.Actor{Role: cases.RoleHead, RegionPath: sibling, AccountID: "acct-h2"}, nil},
		} {
			got, err := db.Cases(ctx, CaseFilter{Scope: ScopeOf(tc.actor)})
			if err != nil || !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: got %v %v, want %v", tc.name, ids(got), err, tc.want)
			}
			for _, c := range []*cases.Case{whistled, plain} {
				listed := slices.Contains(ids(got), c.ID)
				if cases.CanSee(tc.actor, c) != listed {
					t.Errorf("%s: CanSee(%s) = %v but listed = %v", tc.name, c.ID, !listed, listed)
				}
			}
		}
	})
}
