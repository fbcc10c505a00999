package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/geo"
	"zhizhi/internal/operation"
)

func TestOperationStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		start := time.Date(2023, 12, 31, 12, 0, 0, 0, time.UTC)
		at := start.Add(4*time.Hour + 5*time.Minute)
		sq := geo.MultiPolygon{{{{Lng: 106.57, Lat: 29.55}, {Lng: 106.58, Lat: 29.55}, {Lng: 106.58, Lat: 29.56}, {Lng: 106.57, Lat: 29.55}}}}
		op := operation.Operation{ID: "OP1", Name: "跨年夜", Start: start, End: start.Add(6 * time.Hour), Kind: "crowd", AlertCategory: "AQ01",
			RegionPath: "/500000/500103/", Owner: "a1",
			Areas: []operation.Area{{Key: "jfb-square", Name: "广场", Shape: sq, Yellow: 80, Red: 100}},
			Tasks: []operation.Task{
				{ID: "clean", Area: "jfb-square", Title: "清扫", Category: "c", Unit: "u", At: at, LimitMinutes: 15},
				{ID: "extra", Area: "jfb-square", Title: "多余", Category: "c", Unit: "u", At: at, LimitMinutes: 15},
			}}
		put := func(op operation.Operation, expect int) (operation.Operation, error) {
			var out operation.Operation
			err := db.Write(ctx, func(tx *Tx) error {
				var err error
				out, err = tx.PutOperation(ctx, op, expect, start)
				return err
			})
			return out, err
		}
		saved, err := put(op, 0)
		if err != nil || saved.Version != 1 {
			t.Fatalf("put: %v %+v", err, saved)
		}
		if _, err := put(op, 0); !errors.Is(err, ErrConflict) {
			t.Errorf("second insert: %v", err)
		}
		if _, err := put(saved, 5); !errors.Is(err, ErrConflict) {
			t.Errorf("stale version: %v", err)
		}
		got, err := db.Operation(ctx, "OP1")
		if err != nil || got.Name != "跨年夜" || len(got.Areas[0].Shape) != 1 || !got.Tasks[0].At.Equal(at) {
			t.Fatalf("read: %v %+v", err, got)
		}
		if _, err := db.Operation(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing: %v", err)
		}
		list, _ := db.Operations(ctx, start.Add(7*time.Hour))
		all, _ := db.Operations(ctx, time.Time{})
		if len(list) != 0 || len(all) != 1 {
			t.Errorf("lists %d %d", len(list), len(all))
		}

		// The area's level moves only from the level the writer saw; the
		// peak only rises.
		step := func(st operation.AreaState, from operation.Level) bool {
			var ok bool
			if err := db.Write(ctx, func(tx *Tx) (err error) { ok, err = tx.SaveAreaState(ctx, "OP1", st, from); return }); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !step(operation.AreaState{Area: "jfb-square", Level: operation.Red, Value: 120, Peak: 120, PeakAt: start, At: start, Since: start}, operation.Green) {
			t.Error("first move refused")
		}
		if step(operation.AreaState{Area: "jfb-square", Level: operation.Yellow, Value: 90, Peak: 90, PeakAt: start, At: start}, operation.Green) {
			t.Error("move from a stale level written")
		}
		if !step(operation.AreaState{Area: "jfb-square", Level: operation.Red, Value: 110, Peak: 110, PeakAt: start.Add(time.Minute), At: start.Add(time.Minute)}, operation.Red) {
			t.Error("value refused")
		}
		areas, _ := db.OperationAreas(ctx, "OP1")
		if a := areas["jfb-square"]; a.Level != operation.Red || a.Value != 110 || a.Peak != 120 || !a.PeakAt.Equal(start) {
			t.Errorf("area %+v", a)
		}

		// A release is claimed once, even by writers racing.
		var wg sync.WaitGroup
		wins := make(chan string, 4)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ok bool
				caseID := string(rune('A' + i))
				if err := db.Write(ctx, func(tx *Tx) (err error) { ok, err = tx.ClaimTaskRelease(ctx, "OP1", "clean", caseID, at); return }); err != nil {
					t.Error(err)
				}
				if ok {
					wins <- caseID
				}
			}()
		}
		wg.Wait()
		close(wins)
		var won []string
		for w := range wins {
			won = append(won, w)
		}
		runs, _ := db.OperationTasks(ctx, "OP1")
		if len(won) != 1 || runs["clean"].CaseID != won[0] || runs["clean"].State != operation.Released || !runs["clean"].ReleasedAt.Equal(at) {
			t.Fatalf("claims %v, run %+v", won, runs["clean"])
		}
		move := func(from, to operation.TaskState, when time.Time) bool {
			var ok bool
			if err := db.Write(ctx, func(tx *Tx) (err error) { ok, err = tx.MoveTask(ctx, "OP1", "clean", from, to, when); return }); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !move(operation.Released, operation.Dispatched, at) || move(operation.Released, operation.Dispatched, at) || !move(operation.Dispatched, operation.Done, at.Add(9*time.Minute)) {
			t.Error("task moves")
		}
		// Saving the operation again drops the unreleased task it no longer
		// has and keeps the released one's record.
		saved.Tasks = saved.Tasks[:0]
		if _, err := put(saved, 1); err != nil {
			t.Fatal(err)
		}
		runs, _ = db.OperationTasks(ctx, "OP1")
		if _, ok := runs["extra"]; ok || runs["clean"].State != operation.Done || !runs["clean"].DoneAt.Equal(at.Add(9*time.Minute)) {
			t.Errorf("runs after save %+v", runs)
		}
		var once [2]bool
		for i := range once {
			if err := db.Write(ctx, func(tx *Tx) (err error) {
				once[i], err = tx.RestoreArea(ctx, "OP1", "jfb-square", at.Add(9*time.Minute))
				return
			}); err != nil {
				t.Fatal(err)
			}
		}
		if !once[0] || once[1] {
			t.Errorf("restored %v", once)
		}
		for i, text := range []string{"b", "a"} {
			ev := operation.Event{At: at.Add(-time.Duration(i) * time.Minute), Kind: "level", Area: "jfb-square", Text: text}
			if err := db.Write(ctx, func(tx *Tx) error { return tx.AddOperationEvent(ctx, "OP1", ev) }); err != nil {
				t.Fatal(err)
			}
		}
		evs, err := db.OperationEvents(ctx, "OP1")
		if err != nil || len(evs) != 2 || evs[0].Text != "a" {
			t.Errorf("events %v %+v", err, evs)
		}
	})
}
