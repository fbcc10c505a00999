package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"zhizhi/internal/gridwork"
)

// TestGridWork: patrols and visits are stored once per person and client
// reference and listed by grid subtree, person and time; the roster's
// places count their people, people past retention are purged; teams and
// plans are replaced whole; on both engines.
func TestGridWork(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
		g9 := "/500000/500103/500103014/500103014006/500103014006009/"
		g1 := "/500000/500103/500103014/500103014006/500103014006001/"
		write := func(fn func(tx *Tx) error) error { return db.Write(ctx, fn) }
		p := func(id, worker, ref, path, grid string, start time.Time) gridwork.Patrol {
			return gridwork.Patrol{ID: id, WorkerID: worker, ClientRef: ref, GridPath: path, GridCode: grid, StartedAt: start,
				EndedAt: start.Add(time.Hour), Seconds: 3600, Meters: 1234.5, Track: "_p~iF~ps|U_ulLnnqC", Cells: []int{1, 2}, CaseIDs: []string{}}
		}
		for _, x := range []gridwork.Patrol{p("P1", "w9", "r1", g9, "500103014006009", at), p("P2", "w9", "r2", g9, "500103014006009", at.Add(24*time.Hour)),
			p("P3", "w1", "r1", g1, "500103014006001", at)} {
			if err := write(func(tx *Tx) error { return tx.InsertPatrol(ctx, x) }); err != nil {
				t.Fatal(err)
			}
		}
		// The same worker and client reference again: refused as a conflict.
		if err := write(func(tx *Tx) error { return tx.InsertPatrol(ctx, p("P4", "w9", "r1", g9, "500103014006009", at)) }); !errors.Is(err, ErrConflict) {
			t.Fatalf("a patrol stored twice: %v, want ErrConflict", err)
		}
		var got gridwork.Patrol
		if err := write(func(tx *Tx) error {
			var err error
			got, err = tx.PatrolByClientRef(ctx, "w9", "r1")
			return err
		}); err != nil || got.ID != "P1" || got.Meters != 1234.5 || got.Track != "_p~iF~ps|U_ulLnnqC" {
			t.Fatalf("patrol by client ref: %+v %v", got, err)
		}
		for _, tc := range []struct {
			name string
			f    GridFilter
			want []string
		}{
			{"all, newest first", GridFilter{}, []string{"P2", "P3", "P1"}},
			{"one grid", GridFilter{Under: g9}, []string{"P2", "P1"}},
			{"the community", GridFilter{Under: "/500000/500103/500103014/500103014006/"}, []string{"P2", "P3", "P1"}},
			{"one worker", GridFilter{PersonID: "w1"}, []string{"P3"}},
			{"a day", GridFilter{From: at.Add(time.Hour), To: at.Add(48 * time.Hour)}, []string{"P2"}},
			{"a wildcard is not a wildcard", GridFilter{Under: "%"}, []string{"P2", "P3", "P1"}},
			{"another street", GridFilter{Under: "/500000/500103/500103001/"}, nil},
		} {
			ps, err := db.Patrols(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, x := range ps {
				ids = append(ids, x.ID)
			}
			if len(ids) != len(tc.want) || (len(ids) > 0 && (ids[0] != tc.want[0] || ids[len(ids)-1] != tc.want[len(tc.want)-1])) {
				t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
			}
		}
		due := at.Add(72 * time.Hour)
		v := gridwork.Visit{ID: "V1", GridPath: g9, VisitorID: "w9", VisitorName: "杨诗培", VisitInput: gridwork.VisitInput{ClientRef: "v1", Grid: "500103014006009",
			PlaceKind: gridwork.Household, Place: "3栋501", At: at, Needs: []gridwork.Need{{Text: "助餐", Outcome: gridwork.FollowUp, Promise: "问社区", Due: &due}}}}
		if err := write(func(tx *Tx) error { return tx.InsertGridVisit(ctx, v) }); err != nil {
			t.Fatal(err)
		}
		v2 := v
		v2.ID = "V2"
		if err := write(func(tx *Tx) error { return tx.InsertGridVisit(ctx, v2) }); !errors.Is(err, ErrConflict) {
			t.Fatalf("a visit stored twice: %v", err)
		}
		vs, err := db.GridVisits(ctx, GridFilter{Under: g9})
		if err != nil || len(vs) != 1 || len(vs[0].Needs) != 1 || !vs[0].Needs[0].Due.Equal(due) {
			t.Fatalf("visits %+v %v", vs, err)
		}
		// The roster.
		b := gridwork.Place{ID: "B1", GridCode: "500103014006009", GridPath: g9, Kind: gridwork.Building, Name: "3栋", UpdatedAt: at}
		h := gridwork.Place{ID: "H1", GridCode: "500103014006009", GridPath: g9, Kind: gridwork.Household, Name: "3栋501", Building: "B1", UpdatedAt: at}
		if err := write(func(tx *Tx) error {
			if err := tx.PutPlace(ctx, b); err != nil {
				return err
			}
			if err := tx.PutPlace(ctx, h); err != nil {
				return err
			}
			if err := tx.PutPerson(ctx, gridwork.Person{ID: "X1", PlaceID: "H1", GridPath: g9, Name: "张三", Phone: "13800001234", RetainUntil: at.AddDate(3, 0, 0)}); err != nil {
				return err
			}
			return tx.PutPerson(ctx, gridwork.Person{ID: "X2", PlaceID: "H1", GridPath: g9, Name: "李四", RetainUntil: at.Add(time.Hour)})
		}); err != nil {
			t.Fatal(err)
		}
		dup := h
		dup.ID = "H2"
		if err := write(func(tx *Tx) error { return tx.PutPlace(ctx, dup) }); !errors.Is(err, ErrConflict) {
			t.Errorf("two households of one name in a grid: %v", err)
		}
		places, err := db.Places(ctx, "500103014006009")
		if err != nil || len(places) != 2 || places[1].ID != "H1" || places[1].People != 2 || places[0].People != 0 {
			t.Fatalf("places %+v %v", places, err)
		}
		if err := write(func(tx *Tx) error {
			f, err := tx.PlaceByName(ctx, "500103014006009", gridwork.Household, "3栋501")
			if err != nil || f.ID != "H1" {
				return errors.Join(err, errors.New("place by name: "+f.ID))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var purged int
		if err := write(func(tx *Tx) error { var err error; purged, err = tx.PurgePeople(ctx, at.Add(2*time.Hour)); return err }); err != nil || purged != 1 {
			t.Fatalf("purged %d, %v", purged, err)
		}
		if ppl, _ := db.People(ctx, "H1"); len(ppl) != 1 || ppl[0].Phone != "13800001234" {
			t.Fatalf("people after purge %+v", ppl)
		}
		if _, err := db.Person(ctx, "X2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a purged person: %v", err)
		}
		// Team and plan, replaced whole.
		if _, err := db.Team(ctx, "500103014006009"); !errors.Is(err, ErrNotFound) {
			t.Errorf("no team yet: %v", err)
		}
		for _, n := range []int{3, 1} {
			tm := Team{GridCode: "500103014006009", UpdatedAt: at}
			for i := 0; i < n; i++ {
				tm.Members = append(tm.Members, gridwork.TeamMember{Name: "志愿者", Role: gridwork.Volunteer})
			}
			if err := write(func(tx *Tx) error { return tx.PutTeam(ctx, "500103014006009", g9, tm) }); err != nil {
				t.Fatal(err)
			}
		}
		if tm, err := db.Team(ctx, "500103014006009"); err != nil || len(tm.Members) != 1 {
			t.Errorf("team %+v %v", tm, err)
		}
		if err := write(func(tx *Tx) error {
			return tx.PutPlan(ctx, g9, gridwork.Plan{GridCode: "500103014006009", PerWeek: 3, MinMinutes: 20})
		}); err != nil {
			t.Fatal(err)
		}
		if pl, err := db.Plan(ctx, "500103014006009"); err != nil || pl.PerWeek != 3 || pl.MinMinutes != 20 {
			t.Errorf("plan %+v %v", pl, err)
		}
		// Residents' messages: found by their link's hash, updated, a
		// blocked phone known per grid.
		m := gridwork.Message{ID: "M1", GridCode: "500103014006009", GridPath: g9, State: gridwork.Waiting, CreatedAt: at,
			MessageInput: gridwork.MessageInput{Phone: "13900001111", Text: "垃圾没人收"}}
		if err := write(func(tx *Tx) error { return tx.InsertMessage(ctx, m, "follow1", "phone1") }); err != nil {
			t.Fatal(err)
		}
		m2 := m
		m2.ID = "M2"
		if err := write(func(tx *Tx) error { return tx.InsertMessage(ctx, m2, "follow1", "phone1") }); !errors.Is(err, ErrConflict) {
			t.Errorf("two messages under one link: %v", err)
		}
		if got, err := db.MessageByFollow(ctx, "follow1"); err != nil || got.ID != "M1" || got.Text != "垃圾没人收" {
			t.Fatalf("message by link: %+v %v", got, err)
		}
		m.State = gridwork.Blocked
		blocked := false
		if err := write(func(tx *Tx) error {
			if err := tx.UpdateMessage(ctx, m); err != nil {
				return err
			}
			var err error
			blocked, err = tx.PhoneBlocked(ctx, "500103014006009", "phone1")
			return err
		}); err != nil || !blocked {
			t.Fatalf("blocked %v %v", blocked, err)
		}
		if ms, _ := db.Messages(ctx, GridFilter{Under: g9}); len(ms) != 1 || ms[0].State != gridwork.Blocked {
			t.Errorf("messages %+v", ms)
		}
	})
}
