package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
)

// TestVisitTotalsAgainstRecount stores random visits by three leaders in two
// streets over three months, their cases in random states, and checks the
// totals by leader, street and month, and the drill-down, against a count
// made in Go from what was stored, on both engines.
func TestVisitTotalsAgainstRecount(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		rnd := rand.New(rand.NewPCG(7, 13))
		streets := []string{"500103001", "500103014"}
		leadersIDs := []string{"l1", "l2", "l3"}
		type want struct{ visits, problems, solved int }
		byLeader, byStreet, byMonth := map[string]*want{}, map[string]*want{}, map[string]*want{}
		get := func(m map[string]*want, k string) *want {
			if m[k] == nil {
				m[k] = &want{}
			}
			return m[k]
		}
		var visits []leaders.Visit
		var cs []*cases.Case
		n := 0
		for i := 0; i < 60; i++ {
			st := streets[rnd.IntN(2)]
			at := t0.Add(time.Duration(rnd.IntN(90*24)) * time.Hour)
			v := leaders.Visit{ID: "v" + itoa(i), LeaderID: leadersIDs[rnd.IntN(3)], RecordedBy: "r", StreetCode: st,
				RegionPath: "/500000/500103/" + st + "/", At: at}
			k := rnd.IntN(4)
			solved := 0
			for j := 0; j < k; j++ {
				n++
				state := []cases.State{cases.Reported, cases.Handling, cases.Closed, cases.Closed}[rnd.IntN(4)]
				c := newCase("c"+itoa(n), func(c *cases.Case) { c.State = state })
				cs = append(cs, c)
				v.CaseIDs = append(v.CaseIDs, c.ID)
				if state == cases.Closed {
					solved++
				}
			}
			visits = append(visits, v)
			for _, w := range []*want{get(byLeader, v.LeaderID), get(byStreet, st), get(byMonth, at.In(sh).Format("2006-01"))} {
				w.visits++
				w.problems += k
				w.solved += solved
			}
		}
		insert(t, db, cs...)
		if err := db.Write(ctx, func(tx *Tx) error {
			for _, v := range visits {
				if err := tx.InsertVisit(ctx, v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for by, m := range map[TotalsBy]map[string]*want{TotalsByLeader: byLeader, TotalsByStreet: byStreet, TotalsByMonth: byMonth} {
			rows, err := db.VisitTotals(ctx, VisitFilter{}, by, sh)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(m) {
				t.Fatalf("%s: %d rows, want %d", by, len(rows), len(m))
			}
			for _, r := range rows {
				w := m[r.Key]
				if w == nil || r.Visits != w.visits || r.Problems != w.problems || r.Solved != w.solved {
					t.Fatalf("%s %s: %+v, recount %+v", by, r.Key, r, w)
				}
			}
		}
		// A narrower window and one leader: drill-down and totals agree.
		f := VisitFilter{LeaderID: "l2", From: t0.AddDate(0, 1, 0), To: t0.AddDate(0, 2, 0)}
		rows, err := db.VisitTotals(ctx, f, TotalsByLeader, sh)
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		solved, err := db.VisitCaseIDs(ctx, f, &yes, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all, err := db.VisitCaseIDs(ctx, f, nil, 1000)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		if len(rows) == 1 {
			got = rows[0].Problems
			if rows[0].Solved != len(solved) {
				t.Fatalf("solved %d, drill-down %d", rows[0].Solved, len(solved))
			}
		}
		if got != len(all) {
			t.Fatalf("problems %d, drill-down %d", got, len(all))
		}
		listed, err := db.Visits(ctx, VisitFilter{StreetCode: "500103014", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != byStreet["500103014"].visits {
			t.Fatalf("visits of 500103014: %d, want %d", len(listed), byStreet["500103014"].visits)
		}
	})
}

// TestLeaderRecordsStore: lists, items, projects with their version check,
// supervisions and pairings round-trip on both engines.
func TestLeaderRecordsStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		l := leaders.List{ID: "L1", Name: "区级重点整治整改项目清单", Kind: leaders.ListProject, OwnerID: "o", RegionPath: "/500000/500103/",
			From: t0, To: t0.AddDate(1, 0, 0)}
		p := leaders.Project{ID: "P1", Name: "n", RegionPath: "/500000/500103/", LeadUnit: "cg", State: leaders.ProjectOpen, Version: 1, CaseID: "c1"}
		err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutList(ctx, l); err != nil {
				return err
			}
			if err := tx.InsertProject(ctx, p); err != nil {
				return err
			}
			if err := tx.AddItem(ctx, leaders.Item{ListID: "L1", Kind: leaders.ItemProject, RefID: "P1", AddedBy: "o", AddedAt: t0}); err != nil {
				return err
			}
			if err := tx.AddItem(ctx, leaders.Item{ListID: "L1", Kind: leaders.ItemProject, RefID: "P1", AddedBy: "o", AddedAt: t0}); !errors.Is(err, ErrConflict) {
				t.Errorf("an item added twice: %v", err)
			}
			found, err := tx.ListAt(ctx, leaders.ListProject, "/500000/500103/", t0.AddDate(0, 3, 0))
			if err != nil || found.ID != "L1" {
				t.Errorf("ListAt: %v %+v", err, found)
			}
			if _, err := tx.ListAt(ctx, leaders.ListProject, "/500000/500103/", t0.AddDate(2, 0, 0)); !errors.Is(err, ErrNotFound) {
				t.Errorf("ListAt outside the period: %v", err)
			}
			if got, err := tx.ProjectOfCase(ctx, "c1"); err != nil || got.ID != "P1" {
				t.Errorf("ProjectOfCase: %v", err)
			}
			p2 := p
			p2.Version = 2
			if err := tx.UpdateProject(ctx, p2, 1); err != nil {
				return err
			}
			if err := tx.UpdateProject(ctx, p2, 1); !errors.Is(err, ErrConflict) {
				t.Errorf("a stale project update: %v", err)
			}
			if err := tx.InsertSupervision(ctx, leaders.Supervision{ID: "S1", CaseID: "c1", SupervisorID: "o", At: t0}, gridPath); err != nil {
				return err
			}
			return tx.PutPairing(ctx, leaders.Pairing{ID: "PA", LeaderID: "o", RegionPath: streetPath, From: t0, To: t0.AddDate(1, 0, 0)})
		})
		if err != nil {
			t.Fatal(err)
		}
		items, err := db.Items(ctx, "L1")
		if err != nil || len(items) != 1 || items[0].RefID != "P1" {
			t.Fatalf("items %v %+v", err, items)
		}
		got, err := db.Project(ctx, "P1")
		if err != nil || got.Version != 2 {
			t.Fatalf("project %v %+v", err, got)
		}
		if _, err := db.Project(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing project: %v", err)
		}
		sv, err := db.Supervisions(ctx, SupervisionFilter{Under: "/500000/500103/"})
		if err != nil || len(sv) != 1 {
			t.Fatalf("supervisions %v %+v", err, sv)
		}
		if sv, _ := db.Supervisions(ctx, SupervisionFilter{Under: "/500000/500104/"}); len(sv) != 0 {
			t.Fatal("a supervision outside the subtree listed")
		}
		ps, err := db.Pairings(ctx, PairingFilter{Under: "/500000/500103/", At: t0.AddDate(0, 1, 0)})
		if err != nil || len(ps) != 1 {
			t.Fatalf("pairings %v %+v", err, ps)
		}
		if ps, _ := db.Pairings(ctx, PairingFilter{At: t0.AddDate(2, 0, 0)}); len(ps) != 0 {
			t.Fatal("a pairing listed outside its period")
		}
	})
}

func itoa(i int) string {
	b := []byte{}
	if i == 0 {
		return "0"
	}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
