package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"zhizhi/internal/geo"
	"zhizhi/internal/sensors"
	"zhizhi/internal/sla"
)

func TestSensorStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Hour)
		kind := sensors.Kind{Code: "crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 100000}
		d1 := sensors.Device{ID: "JFB-1", Kind: "crowd", Point: geo.Point{Lng: 106.577, Lat: 29.557}, Area: "jfb", State: sensors.Active}
		d2 := d1
		d2.ID = "JFB-2"
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutDeviceKind(ctx, kind, now); err != nil {
				return err
			}
			return tx.PutDevices(ctx, []sensors.Device{d1, d2}, now)
		}); err != nil {
			t.Fatal(err)
		}
		// A device of an unknown kind is refused by the database too.
		bad := d1
		bad.ID, bad.Kind = "X", "nope"
		if err := db.Write(ctx, func(tx *Tx) error { return tx.PutDevices(ctx, []sensors.Device{bad}, now) }); err == nil {
			t.Error("device of an unknown kind stored")
		}

		rs := []sensors.Reading{
			{Device: "JFB-1", Value: 10, At: now.Add(10 * time.Second)},
			{Device: "JFB-1", Value: 30, At: now.Add(20 * time.Second)},
			{Device: "JFB-2", Value: 5, At: now.Add(70 * time.Second)},
			{Device: "JFB-1", Value: 30, At: now.Add(20 * time.Second)}, // the same reading twice in one batch
		}
		var fresh []bool
		if err := db.Write(ctx, func(tx *Tx) (err error) { fresh, err = tx.InsertReadings(ctx, rs); return err }); err != nil {
			t.Fatal(err)
		}
		if !fresh[0] || !fresh[1] || !fresh[2] || fresh[3] {
			t.Errorf("fresh %v", fresh)
		}
		// Redelivered: nothing new, nothing counted twice.
		if err := db.Write(ctx, func(tx *Tx) (err error) { fresh, err = tx.InsertReadings(ctx, rs[:2]); return err }); err != nil {
			t.Fatal(err)
		}
		if fresh[0] || fresh[1] {
			t.Errorf("redelivery stored again: %v", fresh)
		}
		got, err := db.Readings(ctx, "JFB-1", now, now.Add(time.Hour), 100)
		if err != nil || len(got) != 2 || got[1].Value != 30 {
			t.Fatalf("readings %v %v", got, err)
		}
		m, err := db.Series(ctx, "JFB-1", "m", now, now.Add(time.Hour))
		if err != nil || len(m) != 1 || m[0].N != 2 || m[0].Avg != 20 || m[0].Min != 10 || m[0].Max != 30 {
			t.Fatalf("minute series %+v %v", m, err)
		}
		// A later batch in the same minute folds into its aggregate.
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.InsertReadings(ctx, []sensors.Reading{{Device: "JFB-1", Value: 2, At: now.Add(30 * time.Second)}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		h, err := db.Series(ctx, "JFB-1", "h", now, now.Add(time.Hour))
		if err != nil || len(h) != 1 || h[0].N != 3 || h[0].Min != 2 || h[0].Max != 30 {
			t.Fatalf("hour series %+v %v", h, err)
		}
		dev, err := db.Device(ctx, "JFB-1")
		if err != nil || dev.LastValue != 2 || !dev.LastAt.Equal(now.Add(30*time.Second)) {
			t.Fatalf("device last %+v %v", dev, err)
		}
		heard, err := db.DevicesHeardSince(ctx, now.Add(time.Minute))
		if err != nil || len(heard) != 1 || heard[0].Device != "JFB-2" {
			t.Errorf("heard %+v %v", heard, err)
		}
		list, err := db.Devices(ctx, DeviceFilter{Area: "jfb", After: "JFB-1"})
		if err != nil || len(list) != 1 || list[0].ID != "JFB-2" {
			t.Errorf("devices %+v %v", list, err)
		}

		// Rejects are counted per device and problem.
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.CountReject(ctx, "JFB-1", sensors.OutOfRange, 2, `{"value":-1}`, now); err != nil {
				return err
			}
			return tx.CountReject(ctx, "JFB-1", sensors.OutOfRange, 1, `{"value":-2}`, now.Add(time.Second))
		}); err != nil {
			t.Fatal(err)
		}
		rej, err := db.Rejects(ctx, "JFB-1", 10)
		if err != nil || len(rej) != 1 || rej[0].N != 3 || rej[0].Sample != `{"value":-2}` {
			t.Errorf("rejects %+v %v", rej, err)
		}

		// Rules are versioned: a stale version is a conflict, every version
		// is kept.
		rule := sensors.Rule{ID: "r1", Name: "人流", Type: sensors.AreaSum, Area: "jfb", Raise: 10, Clear: 8, Category: "c", Severity: sla.Urgent, Active: true}
		save := func(r sensors.Rule) (sensors.Rule, error) {
			var out sensors.Rule
			err := db.Write(ctx, func(tx *Tx) (err error) { out, err = tx.PutSensorRule(ctx, r, "admin", now); return err })
			return out, err
		}
		v1, err := save(rule)
		if err != nil || v1.Version != 1 {
			t.Fatalf("save %v %v", v1, err)
		}
		v1.Raise = 20
		v2, err := save(v1)
		if err != nil || v2.Version != 2 {
			t.Fatalf("save v2 %v %v", v2, err)
		}
		if _, err := save(v1); !errors.Is(err, ErrConflict) {
			t.Errorf("stale version saved: %v", err)
		}
		rules, _ := db.SensorRules(ctx)
		vers, _ := db.SensorRuleVersions(ctx, "r1")
		if len(rules) != 1 || rules[0].Raise != 20 || len(vers) != 2 || vers[1].Raise != 10 {
			t.Errorf("rules %+v versions %+v", rules, vers)
		}

		// One open incident per rule and subject.
		inc := IncidentRow{ID: "i1", RuleVersion: 2, State: "open", Incident: sensors.Incident{Rule: "r1", Subject: "jfb", OpenedAt: now, UpdatedAt: now, Value: 12, Peak: 12}}
		claim := func(r IncidentRow) (IncidentRow, bool) {
			var out IncidentRow
			var ok bool
			if err := db.Write(ctx, func(tx *Tx) (err error) { out, ok, err = tx.ClaimIncident(ctx, r); return err }); err != nil {
				t.Fatal(err)
			}
			return out, ok
		}
		if _, ok := claim(inc); !ok {
			t.Fatal("first claim refused")
		}
		other := inc
		other.ID = "i2"
		if have, ok := claim(other); ok || have.ID != "i1" {
			t.Fatalf("second open incident claimed: %+v %v", have, ok)
		}
		inc.State, inc.ClearedAt, inc.Incident.CaseID = "cleared", now.Add(time.Hour), "case-1"
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SaveIncident(ctx, inc) }); err != nil {
			t.Fatal(err)
		}
		if _, ok := claim(other); !ok {
			t.Error("a new incident after the first cleared was refused")
		}
		all, err := db.Incidents(ctx, IncidentFilter{})
		if err != nil || len(all) != 2 || all[0].ID != "i2" || all[1].Incident.CaseID != "case-1" || all[1].State != "cleared" {
			t.Errorf("incidents %+v %v", all, err)
		}
		open, _ := db.Incidents(ctx, IncidentFilter{State: "open"})
		if len(open) != 1 {
			t.Errorf("open %+v", open)
		}

		// Retention: old raw readings go, aggregates stay longer.
		n, err := db.PruneReadings(ctx, now.Add(8*24*time.Hour), Retention{Raw: 7 * 24 * time.Hour, Minute: 30 * 24 * time.Hour, Hour: 365 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 && engineOf(t) == SQLite {
			t.Errorf("pruned %d", n)
		}
		if got, _ := db.Readings(ctx, "JFB-1", now, now.Add(time.Hour), 100); len(got) != 0 {
			t.Errorf("readings left %v", got)
		}
		if m, _ := db.Series(ctx, "JFB-1", "m", now, now.Add(time.Hour)); len(m) != 1 {
			t.Errorf("minute aggregates pruned too early: %v", m)
		}
		if _, err := db.PruneReadings(ctx, now.Add(40*24*time.Hour), Retention{Raw: 7 * 24 * time.Hour, Minute: 30 * 24 * time.Hour, Hour: 365 * 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		if m, _ := db.Series(ctx, "JFB-1", "m", now, now.Add(time.Hour)); len(m) != 0 {
			t.Errorf("minute aggregates kept: %v", m)
		}
		if h, _ := db.Series(ctx, "JFB-1", "h", now, now.Add(time.Hour)); len(h) != 1 {
			t.Errorf("hour aggregates pruned: %v", h)
		}
	})
}

// TestReadingPartitions: on PostgreSQL readings land in daily partitions
// that the retention drops whole.
func TestReadingPartitions(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		if engineOf(t) != Postgres {
			t.Skip("PostgreSQL only")
		}
		db := openTestDB(t)
		ctx := context.Background()
		now := time.Now().UTC()
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutDeviceKind(ctx, sensors.Kind{Code: "k", Name: "k", Unit: "u", Min: 0, Max: 1}, now); err != nil {
				return err
			}
			if err := tx.PutDevices(ctx, []sensors.Device{{ID: "d", Kind: "k", State: sensors.Active}}, now); err != nil {
				return err
			}
			_, err := tx.InsertReadings(ctx, []sensors.Reading{{Device: "d", Value: 1, At: now}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		keep := Retention{Raw: 7 * 24 * time.Hour, Minute: 30 * 24 * time.Hour, Hour: 365 * 24 * time.Hour}
		if _, err := db.PruneReadings(ctx, now, keep); err != nil {
			t.Fatal(err)
		}
		part := func() string {
			var name string
			if err := db.read.QueryRowContext(ctx, `SELECT tableoid::regclass::text FROM readings WHERE device = 'd'`).Scan(&name); err != nil {
				return err.Error()
			}
			return name
		}
		if got, want := part(), "readings_"+now.Format("20060102"); got != want {
			t.Errorf("reading in %s, want %s", got, want)
		}
		if _, err := db.PruneReadings(ctx, now.AddDate(0, 0, 9), keep); err != nil {
			t.Fatal(err)
		}
		var exists bool
		db.read.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, "readings_"+now.Format("20060102")).Scan(&exists)
		if exists {
			t.Error("old partition not dropped")
		}
	})
}

// TestReadingsKeyedByTime: migration 26 moves the readings stored under the
// key (device, at) to the key (at, device), on SQLite and on every
// PostgreSQL partition, and a redelivered reading is still refused.
func TestReadingsKeyedByTime(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		dsn := testDSN(t)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		db, err := Open(ctx, dsn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		keep := Retention{Raw: 7 * 24 * time.Hour, Minute: 30 * 24 * time.Hour, Hour: 365 * 24 * time.Hour}
		if _, err := db.PruneReadings(ctx, now, keep); err != nil { // PostgreSQL: today's partition
			t.Fatal(err)
		}
		// The schema as migration 16 left it.
		undo := []string{`DROP TABLE readings`, `CREATE TABLE readings (device TEXT NOT NULL, at BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL,
			PRIMARY KEY (device, at)) WITHOUT ROWID`, `CREATE INDEX readings_at ON readings (at)`}
		if db.Dialect == Postgres {
			undo = []string{`ALTER TABLE readings DROP CONSTRAINT readings_pkey`, `ALTER TABLE readings ADD PRIMARY KEY (device, at)`}
		}
		undo = append(undo, `DELETE FROM schema_migrations WHERE version = 26`)
		for _, q := range undo {
			if _, err := db.Raw().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		old := []sensors.Reading{
			{Device: "B", Value: 1, At: now.Add(-48 * time.Hour)}, // PostgreSQL: the default partition
			{Device: "A", Value: 2, At: now},
			{Device: "B", Value: 3, At: now},
			{Device: "A", Value: 4, At: now.Add(time.Second)},
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutDeviceKind(ctx, sensors.Kind{Code: "k", Name: "k", Unit: "u", Min: 0, Max: 10}, now); err != nil {
				return err
			}
			if err := tx.PutDevices(ctx, []sensors.Device{{ID: "A", Kind: "k", State: sensors.Active}, {ID: "B", Kind: "k", State: sensors.Active}}, now); err != nil {
				return err
			}
			_, err := tx.InsertReadings(ctx, old)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()

		db = mustOpen(t, dsn) // migration 26 runs
		var first string
		q := `SELECT name FROM pragma_table_info('readings') WHERE pk = 1`
		if db.Dialect == Postgres {
			q = `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
				WHERE i.indrelid = 'readings'::regclass AND i.indisprimary`
		}
		if err := db.Raw().QueryRowContext(ctx, q).Scan(&first); err != nil || first != "at" {
			t.Errorf("the readings' key starts with %q (%v), want at", first, err)
		}
		for _, d := range []string{"A", "B"} {
			got, err := db.Readings(ctx, d, now.Add(-72*time.Hour), now.Add(time.Hour), 10)
			if err != nil || len(got) != 2 {
				t.Fatalf("%s after the migration: %v %v", d, got, err)
			}
		}
		var fresh []bool
		again := append(old, sensors.Reading{Device: "B", Value: 5, At: now.Add(time.Second)})
		if err := db.Write(ctx, func(tx *Tx) (err error) { fresh, err = tx.InsertReadings(ctx, again); return err }); err != nil {
			t.Fatal(err)
		}
		if fresh[0] || fresh[1] || fresh[2] || fresh[3] || !fresh[4] {
			t.Errorf("after the migration, fresh %v: want only the new reading", fresh)
		}
		if n, _ := db.CountReadings(ctx, ""); n != 5 {
			t.Errorf("%d readings, want 5", n)
		}
		if h, _ := db.Series(ctx, "B", "h", now.Truncate(time.Hour), now.Add(time.Hour)); len(h) != 1 || h[0].N != 2 {
			t.Errorf("B's hour aggregate %+v: the replays were counted", h)
		}
	})
}
