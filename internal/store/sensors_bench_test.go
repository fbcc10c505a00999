package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"zhizhi/internal/sensors"
)

// BenchmarkInsertReadings commits b.N batches of 1,500 readings of 1,000
// devices (each device every 100 ms, in time order, as the MQTT ingest's
// group commit takes them) into a fresh database, under the readings' key of
// migration 26, (at, device), and under migration 16's, (device, at), made
// again in the same run for the comparison. It reports the readings a
// second over the whole run and over its last quarter (the rate once the
// table has grown), on SQLite and, with ZHIZHI_TEST_POSTGRES, PostgreSQL.
//
//	go test ./internal/store -run '^$' -bench InsertReadings -benchtime 400x
func BenchmarkInsertReadings(b *testing.B) {
	for _, engine := range []Dialect{SQLite, Postgres} {
		if engine == Postgres && os.Getenv(pgEnv) == "" {
			continue
		}
		for _, key := range []string{"at,device", "device,at"} {
			b.Run(fmt.Sprintf("%s/key=%s", engine, key), func(b *testing.B) {
				benchInsertReadings(b, key)
			})
		}
	}
}

func benchInsertReadings(b *testing.B, key string) {
	ctx := context.Background()
	dsn := testDSN(b)
	db, err := Open(ctx, dsn, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	engine := engineOf(b)
	if key == "device,at" {
		undo := []string{`DROP TABLE readings`, `CREATE TABLE readings (device TEXT NOT NULL, at BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL,
			PRIMARY KEY (device, at)) WITHOUT ROWID`, `CREATE INDEX readings_at ON readings (at)`}
		if engine == Postgres {
			undo = []string{`ALTER TABLE readings DROP CONSTRAINT readings_pkey`, `ALTER TABLE readings ADD PRIMARY KEY (device, at)`}
		}
		for _, q := range undo {
			if _, err := db.Raw().ExecContext(ctx, q); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
		}
	}
	const devices, batch = 1000, 1500
	now := time.Now().UTC()
	ds := make([]sensors.Device, devices)
	for i := range ds {
		ds[i] = sensors.Device{ID: fmt.Sprintf("BG%04d", i), Kind: "crowd", State: sensors.Active}
	}
	if err := db.Write(ctx, func(tx *Tx) error {
		if err := tx.PutDeviceKind(ctx, sensors.Kind{Code: "crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 1e6}, now); err != nil {
			return err
		}
		return tx.PutDevices(ctx, ds, now)
	}); err != nil {
		b.Fatal(err)
	}
	base := now.Add(-time.Hour)
	rs := make([]sensors.Reading, batch)
	j := 0
	start := time.Now()
	var lastQuarter time.Time
	b.ResetTimer()
	for i := range b.N {
		if i == b.N*3/4 {
			lastQuarter = time.Now()
		}
		for k := range rs {
			rs[k] = sensors.Reading{Device: ds[j%devices].ID, Kind: "crowd", Value: float64(j % 100), At: base.Add(time.Duration(j/devices) * 100 * time.Millisecond)}
			j++
		}
		if err := db.Write(ctx, func(tx *Tx) error { _, err := tx.InsertReadings(ctx, rs); return err }); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "readings/s")
	if q := b.N - b.N*3/4; q > 0 && !lastQuarter.IsZero() {
		b.ReportMetric(float64(q*batch)/time.Since(lastQuarter).Seconds(), "last-quarter-readings/s")
	}
	b.ReportMetric(float64(b.N*batch), "readings")
}
