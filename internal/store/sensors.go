package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/sensors"
)

// PutDeviceKind inserts or replaces a kind of device.
func (t *Tx) PutDeviceKind(ctx context.Context, k sensors.Kind, at time.Time) error {
	_, err := t.Exec(ctx, `INSERT INTO device_kinds (code, name, unit, min_value, max_value, updated_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, unit = excluded.unit, min_value = excluded.min_value,
			max_value = excluded.max_value, updated_at = excluded.updated_at`,
		k.Code, k.Name, k.Unit, k.Min, k.Max, ms(at))
	if err != nil {
		return fmt.Errorf("put device kind %s: %w", k.Code, err)
	}
	return nil
}

// DeviceKinds lists the kind catalog by code.
func (db *DB) DeviceKinds(ctx context.Context) ([]sensors.Kind, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT code, name, unit, min_value, max_value FROM device_kinds ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list device kinds: %w", translate(err))
	}
	defer rows.Close()
	var out []sensors.Kind
	for rows.Next() {
		var k sensors.Kind
		if err := rows.Scan(&k.Code, &k.Name, &k.Unit, &k.Min, &k.Max); err != nil {
			return nil, fmt.Errorf("list device kinds: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeviceRow is a registered device with its last accepted reading.
type DeviceRow struct {
	sensors.Device
	LastValue float64   `json:"last_value"`
	LastAt    time.Time `json:"last_at,omitzero"`
}

// PutDevices inserts or updates devices (the last reading of one already
// registered is kept) and moves the devices' generation on (see
// DevicesGeneration).
func (t *Tx) PutDevices(ctx context.Context, ds []sensors.Device, at time.Time) error {
	if len(ds) > 0 {
		if _, err := t.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('devices_generation', '1')
			ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)`); err != nil {
			return fmt.Errorf("devices generation: %w", err)
		}
	}
	for _, d := range ds {
		_, err := t.Exec(ctx, `INSERT INTO devices (id, kind, name, lng, lat, grid, area, risk_point, unit_id, state, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, lng = excluded.lng, lat = excluded.lat,
				grid = excluded.grid, area = excluded.area, risk_point = excluded.risk_point, unit_id = excluded.unit_id,
				state = excluded.state, updated_at = excluded.updated_at`,
			d.ID, d.Kind, d.Name, d.Point.Lng, d.Point.Lat, d.Grid, d.Area, d.RiskPoint, d.Unit, string(d.State), ms(at))
		if err != nil {
			return fmt.Errorf("put device %s: %w", d.ID, err)
		}
	}
	return nil
}

// DevicesGeneration is a number that changes with every PutDevices that
// committed (0 before any): a node whose sensor state was loaded at the
// same generation has every device as the database has it, but for their
// last readings and the silent/active state, which readings and the rules
// keep up to date.
func (db *DB) DevicesGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := db.read.QueryRowContext(ctx, `SELECT CAST(value AS BIGINT) FROM settings WHERE key = 'devices_generation'`).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("devices generation: %w", translate(err))
	}
	return g, nil
}

// SetDeviceState sets a device's state (the silence rule marks it silent,
// a reading active again).
func (t *Tx) SetDeviceState(ctx context.Context, id string, state sensors.DeviceState, at time.Time) error {
	_, err := t.Exec(ctx, `UPDATE devices SET state = $2, updated_at = $3 WHERE id = $1 AND state <> 'retired'`, id, string(state), ms(at))
	if err != nil {
		return fmt.Errorf("device %s state: %w", id, err)
	}
	return nil
}

const deviceCols = `id, kind, name, lng, lat, grid, area, risk_point, unit_id, state, last_value, last_at`

func scanDevice(row interface{ Scan(...any) error }) (DeviceRow, error) {
	var d DeviceRow
	var state string
	var last int64
	err := row.Scan(&d.ID, &d.Kind, &d.Name, &d.Point.Lng, &d.Point.Lat, &d.Grid, &d.Area, &d.RiskPoint, &d.Unit, &state, &d.LastValue, &last)
	d.State = sensors.DeviceState(state)
	if last > 0 {
		d.LastAt = time.UnixMilli(last).UTC()
	}
	return d, err
}

// Device reads one device.
func (db *DB) Device(ctx context.Context, id string) (DeviceRow, error) {
	d, err := scanDevice(db.read.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = $1`, id))
	if err != nil {
		return d, fmt.Errorf("device %s: %w", id, translate(err))
	}
	return d, nil
}

// DeviceFilter selects devices; zero fields do not filter.
type DeviceFilter struct {
	Kind  string
	Area  string
	State sensors.DeviceState
	After string // keyset cursor: devices with an ID above this
	Limit int    // 0: all
}

// Devices lists devices by ID.
func (db *DB) Devices(ctx context.Context, f DeviceFilter) ([]DeviceRow, error) {
	q := `SELECT ` + deviceCols + ` FROM devices WHERE id > $1`
	args := []any{f.After}
	if f.Kind != "" {
		args = append(args, f.Kind)
		q += fmt.Sprintf(` AND kind = $%d`, len(args))
	}
	if f.Area != "" {
		args = append(args, f.Area)
		q += fmt.Sprintf(` AND area = $%d`, len(args))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		q += fmt.Sprintf(` AND state = $%d`, len(args))
	}
	// Ordered by the filter's index (kind, id), (area, id) or (state, id)
	// (the same order, the column being fixed), so the planner walks that
	// index instead of the whole table in id order: at 657,800 devices an
	// area of 80 devices took 100 ms a page the other way.
	switch {
	case f.Area != "":
		q += ` ORDER BY area, id`
	case f.Kind != "":
		q += ` ORDER BY kind, id`
	case f.State != "":
		q += ` ORDER BY state, id`
	default:
		q += ` ORDER BY id`
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", translate(err))
	}
	defer rows.Close()
	var out []DeviceRow
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DevicesHeardSince lists the last readings of the devices heard at or
// after since (other nodes' readings, for the rules of this one).
func (db *DB) DevicesHeardSince(ctx context.Context, since time.Time) ([]sensors.Reading, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, kind, last_value, last_at FROM devices WHERE last_at >= $1`, ms(since))
	if err != nil {
		return nil, fmt.Errorf("devices heard: %w", translate(err))
	}
	defer rows.Close()
	var out []sensors.Reading
	for rows.Next() {
		var r sensors.Reading
		var at int64
		if err := rows.Scan(&r.Device, &r.Kind, &r.Value, &at); err != nil {
			return nil, fmt.Errorf("devices heard: %w", err)
		}
		r.At = time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountDevices counts the registered devices.
func (db *DB) CountDevices(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM devices`).Scan(&n)
	return n, translate(err)
}

// PutSensorRule saves a new version of a rule (the version in r is the
// one the caller read, 0 for a new rule) and returns the saved version. A
// rule changed meanwhile is ErrConflict.
func (t *Tx) PutSensorRule(ctx context.Context, r sensors.Rule, actor string, at time.Time) (sensors.Rule, error) {
	var have int
	err := t.QueryRow(ctx, `SELECT version FROM sensor_rules WHERE id = $1`, r.ID).Scan(&have)
	if err != nil && err != sql.ErrNoRows {
		return r, fmt.Errorf("rule %s: %w", r.ID, translate(err))
	}
	if have != r.Version {
		return r, fmt.Errorf("rule %s is at version %d, not %d: %w", r.ID, have, r.Version, ErrConflict)
	}
	r.Version = have + 1
	doc, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	if _, err := t.Exec(ctx, `INSERT INTO sensor_rules (id, version, doc, active, updated_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc, active = excluded.active, updated_at = excluded.updated_at`,
		r.ID, r.Version, string(doc), boolInt(r.Active), ms(at)); err != nil {
		return r, fmt.Errorf("save rule %s: %w", r.ID, err)
	}
	if _, err := t.Exec(ctx, `INSERT INTO sensor_rule_versions (id, version, doc, actor_id, at) VALUES ($1,$2,$3,$4,$5)`,
		r.ID, r.Version, string(doc), actor, ms(at)); err != nil {
		return r, fmt.Errorf("save rule %s version: %w", r.ID, err)
	}
	return r, nil
}

// SensorRules lists the rules in force (active or not) by ID.
func (db *DB) SensorRules(ctx context.Context) ([]sensors.Rule, error) {
	return scanRules(db.read.QueryContext(ctx, `SELECT doc FROM sensor_rules ORDER BY id`))
}

// SensorRuleVersions lists every saved version of a rule, newest first.
func (db *DB) SensorRuleVersions(ctx context.Context, id string) ([]sensors.Rule, error) {
	return scanRules(db.read.QueryContext(ctx, `SELECT doc FROM sensor_rule_versions WHERE id = $1 ORDER BY version DESC`, id))
}

func scanRules(rows *sql.Rows, err error) ([]sensors.Rule, error) {
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", translate(err))
	}
	defer rows.Close()
	var out []sensors.Rule
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list rules: %w", err)
		}
		var r sensors.Rule
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			return nil, fmt.Errorf("rule document: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// The readings' statements take the whole batch in one parameter: on
// SQLite a JSON array read with jsonb_each (one statement text, prepared
// once on the writer: a multi-row VALUES list is parsed again for every
// batch, and SQLite looks its $N parameters up one by one, so parsing it
// grows with the square of its rows), on PostgreSQL one array per column
// read with unnest. jsonb_each rather than json_each: json_each hands each
// row's array back as JSON text, which every ->> then parsed again (a
// third of the writer's time; the batch's rows went from ≈ 27,000 to
// ≈ 45,000 a second in BenchmarkInsertReadings).
const (
	sqlInsertReadingsLite = `INSERT INTO readings (device, at, value)
		SELECT j.value->>0, j.value->>1, j.value->>2 FROM jsonb_each($1) AS j WHERE true
		ON CONFLICT DO NOTHING RETURNING device, at`
	sqlInsertReadingsPG = `INSERT INTO readings (device, at, value)
		SELECT * FROM unnest($1::text[], $2::int8[], $3::float8[])
		ON CONFLICT DO NOTHING RETURNING device, at`
	sqlFoldAggsLite = `INSERT INTO reading_aggs (device, grain, bucket, n, sum_v, min_v, max_v)
		SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5, j.value->>6 FROM jsonb_each($1) AS j WHERE true
		ON CONFLICT (device, grain, bucket) DO UPDATE SET n = reading_aggs.n + excluded.n, sum_v = reading_aggs.sum_v + excluded.sum_v,
			min_v = min(reading_aggs.min_v, excluded.min_v), max_v = max(reading_aggs.max_v, excluded.max_v)`
	sqlFoldAggsPG = `INSERT INTO reading_aggs (device, grain, bucket, n, sum_v, min_v, max_v)
		SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::float8[], $6::float8[], $7::float8[])
		ON CONFLICT (device, grain, bucket) DO UPDATE SET n = reading_aggs.n + excluded.n, sum_v = reading_aggs.sum_v + excluded.sum_v,
			min_v = LEAST(reading_aggs.min_v, excluded.min_v), max_v = GREATEST(reading_aggs.max_v, excluded.max_v)`
	sqlLastReadingLite = `UPDATE devices SET last_value = x.v, last_at = x.at, state = CASE WHEN state = 'silent' THEN 'active' ELSE state END
		FROM (SELECT j.value->>0 AS id, j.value->>1 AS v, j.value->>2 AS at FROM jsonb_each($1) AS j) AS x
		WHERE devices.id = x.id AND devices.last_at < x.at`
	sqlLastReadingPG = `UPDATE devices SET last_value = x.v, last_at = x.at, state = CASE WHEN state = 'silent' THEN 'active' ELSE state END
		FROM unnest($1::text[], $2::float8[], $3::int8[]) AS x(id, v, at)
		WHERE devices.id = x.id AND devices.last_at < x.at`
)

// jsonRows builds a JSON array of arrays (the SQLite statements' one
// parameter) without reflection.
type jsonRows struct{ b []byte }

func (j *jsonRows) row() {
	if len(j.b) == 0 {
		j.b = append(j.b, '[')
	} else {
		j.b = append(j.b, ',')
	}
	j.b = append(j.b, '[')
}

func (j *jsonRows) end() { j.b = append(j.b, ']') }

func (j *jsonRows) str(s string, first bool) {
	if !first {
		j.b = append(j.b, ',')
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			j.b = append(j.b, q...)
			return
		}
	}
	j.b = append(j.b, '"')
	j.b = append(j.b, s...)
	j.b = append(j.b, '"')
}

func (j *jsonRows) int(n int64) { j.b = strconv.AppendInt(append(j.b, ','), n, 10) }

// intAt appends an integer, the row's first value when first.
func (j *jsonRows) intAt(n int64, first bool) {
	if first {
		j.b = strconv.AppendInt(j.b, n, 10)
		return
	}
	j.int(n)
}

// float appends a finite number (readings are validated finite).
func (j *jsonRows) float(f float64) { j.b = strconv.AppendFloat(append(j.b, ','), f, 'g', -1, 64) }

func (j *jsonRows) String() string {
	if len(j.b) == 0 {
		return "[]"
	}
	return string(j.b) + "]"
}

// InsertReadings stores valid readings (raw, the devices' last readings and
// the minute and hour aggregates, folded in memory first: one row per
// device and bucket of the batch) in three statements and returns, per
// reading, whether it was new: one already stored (same device and time: a
// redelivery) is not stored or counted again.
func (t *Tx) InsertReadings(ctx context.Context, rs []sensors.Reading) ([]bool, error) {
	fresh := make([]bool, len(rs))
	if len(rs) == 0 {
		return fresh, nil
	}
	type key struct {
		device string
		at     int64
	}
	inserted := make(map[key]bool, len(rs))
	var rows *sql.Rows
	var err error
	if t.dialect == Postgres {
		devs, ats, vals := make([]string, len(rs)), make([]int64, len(rs)), make([]float64, len(rs))
		for i, r := range rs {
			devs[i], ats[i], vals[i] = r.Device, ms(r.At), r.Value
		}
		rows, err = t.Query(ctx, sqlInsertReadingsPG, devs, ats, vals)
	} else {
		var j jsonRows
		for _, r := range rs {
			j.row()
			j.str(r.Device, true)
			j.int(ms(r.At))
			j.float(r.Value)
			j.end()
		}
		rows, err = t.Query(ctx, sqlInsertReadingsLite, j.String())
	}
	if err != nil {
		return nil, fmt.Errorf("insert readings: %w", err)
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.device, &k.at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insert readings: %w", err)
		}
		inserted[k] = true
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("insert readings: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert readings: %w", err)
	}
	type agg struct {
		n             int64
		sum, min, max float64
	}
	type aggKey struct {
		device string
		grain  byte
		bucket int64
	}
	aggs := map[aggKey]*agg{}
	var order []aggKey
	last := map[string]sensors.Reading{}
	var lastOrder []string
	for i, r := range rs {
		k := key{r.Device, ms(r.At)}
		if !inserted[k] {
			continue
		}
		delete(inserted, k) // the same reading twice in one batch counts once
		fresh[i] = true
		if l, ok := last[r.Device]; !ok || r.At.After(l.At) {
			if !ok {
				lastOrder = append(lastOrder, r.Device)
			}
			last[r.Device] = r
		}
		for _, g := range [2]struct {
			grain byte
			size  int64
		}{{'m', 60_000}, {'h', 3_600_000}} {
			ak := aggKey{r.Device, g.grain, k.at / g.size * g.size}
			a := aggs[ak]
			if a == nil {
				a = &agg{min: r.Value, max: r.Value}
				aggs[ak] = a
				order = append(order, ak)
			}
			a.n++
			a.sum += r.Value
			a.min = min(a.min, r.Value)
			a.max = max(a.max, r.Value)
		}
	}
	if len(order) == 0 {
		return fresh, nil
	}
	if t.dialect == Postgres {
		n := len(order)
		devs, grains, buckets, ns := make([]string, n), make([]string, n), make([]int64, n), make([]int64, n)
		sums, mins, maxs := make([]float64, n), make([]float64, n), make([]float64, n)
		for i, ak := range order {
			a := aggs[ak]
			devs[i], grains[i], buckets[i], ns[i] = ak.device, string(ak.grain), ak.bucket, a.n
			sums[i], mins[i], maxs[i] = a.sum, a.min, a.max
		}
		if _, err := t.Exec(ctx, sqlFoldAggsPG, devs, grains, buckets, ns, sums, mins, maxs); err != nil {
			return nil, fmt.Errorf("reading aggregates: %w", err)
		}
		ids, vals, ats := make([]string, len(lastOrder)), make([]float64, len(lastOrder)), make([]int64, len(lastOrder))
		for i, d := range lastOrder {
			ids[i], vals[i], ats[i] = d, last[d].Value, ms(last[d].At)
		}
		if _, err := t.Exec(ctx, sqlLastReadingPG, ids, vals, ats); err != nil {
			return nil, fmt.Errorf("device last reading: %w", err)
		}
		return fresh, nil
	}
	var j jsonRows
	for _, ak := range order {
		a := aggs[ak]
		j.row()
		j.str(ak.device, true)
		j.str(string(ak.grain), false)
		j.int(ak.bucket)
		j.int(a.n)
		j.float(a.sum)
		j.float(a.min)
		j.float(a.max)
		j.end()
	}
	if _, err := t.Exec(ctx, sqlFoldAggsLite, j.String()); err != nil {
		return nil, fmt.Errorf("reading aggregates: %w", err)
	}
	j = jsonRows{}
	for _, d := range lastOrder {
		j.row()
		j.str(d, true)
		j.float(last[d].Value)
		j.int(ms(last[d].At))
		j.end()
	}
	if _, err := t.Exec(ctx, sqlLastReadingLite, j.String()); err != nil {
		return nil, fmt.Errorf("device last reading: %w", err)
	}
	return fresh, nil
}

// CountReject counts a refused reading against its device ("" when the
// reading named none) and problem, keeping the latest sample (cut to 200
// bytes).
func (t *Tx) CountReject(ctx context.Context, device string, problem sensors.Problem, n int, sample string, at time.Time) error {
	if len(sample) > 200 {
		sample = strings.ToValidUTF8(sample[:200], "")
	}
	_, err := t.Exec(ctx, `INSERT INTO reading_rejects (device, problem, n, last_at, sample) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (device, problem) DO UPDATE SET n = reading_rejects.n + excluded.n, last_at = excluded.last_at, sample = excluded.sample`,
		device, string(problem), n, ms(at), sample)
	if err != nil {
		return fmt.Errorf("count rejected reading: %w", err)
	}
	return nil
}

// Reject is the count of one device's readings refused for one problem.
type Reject struct {
	Device  string          `json:"device"`
	Problem sensors.Problem `json:"problem"`
	N       int64           `json:"n"`
	LastAt  time.Time       `json:"last_at"`
	Sample  string          `json:"sample"`
}

// Rejects lists refused readings' counts, of one device or (device "") of
// all, most recent first.
func (db *DB) Rejects(ctx context.Context, device string, limit int) ([]Reject, error) {
	q := `SELECT device, problem, n, last_at, sample FROM reading_rejects`
	var args []any
	if device != "" {
		q += ` WHERE device = $1`
		args = append(args, device)
	}
	q += fmt.Sprintf(` ORDER BY last_at DESC, device, problem LIMIT %d`, max(limit, 1))
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list rejects: %w", translate(err))
	}
	defer rows.Close()
	var out []Reject
	for rows.Next() {
		var r Reject
		var p string
		var at int64
		if err := rows.Scan(&r.Device, &p, &r.N, &at, &r.Sample); err != nil {
			return nil, fmt.Errorf("list rejects: %w", err)
		}
		r.Problem, r.LastAt = sensors.Problem(p), time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Readings lists a device's raw readings in [from, to), oldest first.
func (db *DB) Readings(ctx context.Context, device string, from, to time.Time, limit int) ([]sensors.Reading, error) {
	rows, err := db.read.QueryContext(ctx, fmt.Sprintf(`SELECT at, value FROM readings WHERE device = $1 AND at >= $2 AND at < $3
		ORDER BY at LIMIT %d`, max(limit, 1)), device, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("list readings: %w", translate(err))
	}
	defer rows.Close()
	var out []sensors.Reading
	for rows.Next() {
		r := sensors.Reading{Device: device}
		var at int64
		if err := rows.Scan(&at, &r.Value); err != nil {
			return nil, fmt.Errorf("list readings: %w", err)
		}
		r.At = time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Aggregate is a device's readings over one minute or hour.
type Aggregate struct {
	At  time.Time `json:"at"` // the start of the minute or hour
	N   int64     `json:"n"`
	Avg float64   `json:"avg"`
	Min float64   `json:"min"`
	Max float64   `json:"max"`
}

// Series lists a device's aggregates of a grain ("m" or "h") in [from, to),
// oldest first.
func (db *DB) Series(ctx context.Context, device, grain string, from, to time.Time) ([]Aggregate, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT bucket, n, sum_v, min_v, max_v FROM reading_aggs
		WHERE device = $1 AND grain = $2 AND bucket >= $3 AND bucket < $4 ORDER BY bucket`, device, grain, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("series: %w", translate(err))
	}
	defer rows.Close()
	var out []Aggregate
	for rows.Next() {
		var a Aggregate
		var at int64
		var sum float64
		if err := rows.Scan(&at, &a.N, &sum, &a.Min, &a.Max); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
		a.At = time.UnixMilli(at).UTC()
		if a.N > 0 {
			a.Avg = sum / float64(a.N)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Retention says how long readings are kept.
type Retention struct {
	Raw    time.Duration // raw readings (e.g. 7 days)
	Minute time.Duration // minute aggregates (e.g. 30 days)
	Hour   time.Duration // hour aggregates (e.g. 2 years)
}

// PruneReadings deletes what is older than the retention and returns how
// many raw readings went. On PostgreSQL it first makes the daily partitions
// of today and the next two days (so new readings land in a partition that
// can be dropped whole) and drops the daily partitions wholly before the
// raw retention.
func (db *DB) PruneReadings(ctx context.Context, now time.Time, keep Retention) (int64, error) {
	cut := func(d time.Duration) int64 { return ms(now.Add(-d)) }
	if db.Dialect == Postgres {
		day := now.UTC().Truncate(24 * time.Hour)
		for i := 0; i < 3; i++ {
			from := day.AddDate(0, 0, i)
			name := "readings_" + from.Format("20060102")
			// A partition cannot be made over rows already in the default
			// one: move them in the same statement sequence.
			if err := db.Write(ctx, func(tx *Tx) error {
				var exists bool
				if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil || exists {
					return err
				}
				lo, hi := ms(from), ms(from.AddDate(0, 0, 1))
				if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (LIKE readings INCLUDING DEFAULTS)`, name)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s SELECT * FROM readings_default WHERE at >= %d AND at < %d`, name, lo, hi)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM readings_default WHERE at >= %d AND at < %d`, lo, hi)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE readings ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)`, name, lo, hi))
				return err
			}); err != nil {
				return 0, fmt.Errorf("readings partition %s: %w", name, err)
			}
		}
		rows, err := db.read.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'readings'::regclass AND c.relname LIKE 'readings_2%'`)
		if err != nil {
			return 0, fmt.Errorf("readings partitions: %w", err)
		}
		var old []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return 0, err
			}
			d, err := time.Parse("20060102", strings.TrimPrefix(name, "readings_"))
			if err == nil && ms(d.AddDate(0, 0, 1)) <= cut(keep.Raw) {
				old = append(old, name)
			}
		}
		rows.Close()
		for _, name := range old {
			if err := db.Write(ctx, func(tx *Tx) error {
				_, err := tx.Exec(ctx, `DROP TABLE `+name)
				return err
			}); err != nil {
				return 0, fmt.Errorf("drop %s: %w", name, err)
			}
		}
	}
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM readings WHERE at < $1`, cut(keep.Raw))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM reading_aggs WHERE grain = 'm' AND bucket < $1`, cut(keep.Minute)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM reading_aggs WHERE grain = 'h' AND bucket < $1`, cut(keep.Hour))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune readings: %w", err)
	}
	return n, nil
}

// IncidentRow is a stored incident.
type IncidentRow struct {
	ID          string           `json:"id"`
	RuleVersion int              `json:"rule_version"`
	State       string           `json:"state"` // open, cleared
	ClearedAt   time.Time        `json:"cleared_at,omitzero"`
	Incident    sensors.Incident `json:"incident"`
}

// ClaimIncident stores a new open incident unless one of the same rule and
// subject is open already; then it returns that one and false.
func (t *Tx) ClaimIncident(ctx context.Context, row IncidentRow) (IncidentRow, bool, error) {
	doc, err := json.Marshal(row.Incident)
	if err != nil {
		return row, false, err
	}
	inc := row.Incident
	res, err := t.Exec(ctx, `INSERT INTO sensor_incidents (id, rule_id, rule_version, subject, area, state, opened_at, updated_at, value, peak, case_id, doc)
		VALUES ($1,$2,$3,$4,$5,'open',$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING`,
		row.ID, inc.Rule, row.RuleVersion, inc.Subject, inc.Area, ms(inc.OpenedAt), ms(inc.UpdatedAt), inc.Value, inc.Peak, inc.CaseID, string(doc))
	if err != nil {
		return row, false, fmt.Errorf("claim incident: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return row, true, nil
	}
	have, err := scanIncident(t.QueryRow(ctx, `SELECT `+incidentCols+` FROM sensor_incidents WHERE rule_id = $1 AND subject = $2 AND state = 'open'`, inc.Rule, inc.Subject))
	if err != nil {
		return row, false, fmt.Errorf("open incident: %w", translate(err))
	}
	return have, false, nil
}

// SaveIncident writes an incident's state (its value, peak, case, and
// whether it has cleared).
func (t *Tx) SaveIncident(ctx context.Context, row IncidentRow) error {
	doc, err := json.Marshal(row.Incident)
	if err != nil {
		return err
	}
	inc := row.Incident
	_, err = t.Exec(ctx, `UPDATE sensor_incidents SET state = $2, cleared_at = $3, updated_at = $4, value = $5, peak = $6, case_id = $7, doc = $8 WHERE id = $1`,
		row.ID, row.State, ms0(row.ClearedAt), ms(inc.UpdatedAt), inc.Value, inc.Peak, inc.CaseID, string(doc))
	if err != nil {
		return fmt.Errorf("save incident %s: %w", row.ID, err)
	}
	return nil
}

func ms0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

const incidentCols = `id, rule_version, state, cleared_at, doc`

func scanIncident(row interface{ Scan(...any) error }) (IncidentRow, error) {
	var r IncidentRow
	var cleared int64
	var doc string
	if err := row.Scan(&r.ID, &r.RuleVersion, &r.State, &cleared, &doc); err != nil {
		return r, err
	}
	if cleared > 0 {
		r.ClearedAt = time.UnixMilli(cleared).UTC()
	}
	return r, json.Unmarshal([]byte(doc), &r.Incident)
}

// IncidentFilter selects incidents.
type IncidentFilter struct {
	State  string // open, cleared; "" both
	Rule   string
	Before string // keyset cursor: incidents with an ID below this
	Limit  int
}

// Incidents lists incidents newest first.
func (db *DB) Incidents(ctx context.Context, f IncidentFilter) ([]IncidentRow, error) {
	q := `SELECT ` + incidentCols + ` FROM sensor_incidents WHERE 1 = 1`
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.State != "" {
		q += ` AND state = ` + arg(f.State)
	}
	if f.Rule != "" {
		q += ` AND rule_id = ` + arg(f.Rule)
	}
	if f.Before != "" {
		q += ` AND id < ` + arg(f.Before)
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", translate(err))
	}
	defer rows.Close()
	var out []IncidentRow
	for rows.Next() {
		r, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountReadings counts the raw readings stored, of one device or (device
// "") of all.
func (db *DB) CountReadings(ctx context.Context, device string) (int64, error) {
	var n int64
	var err error
	if device == "" {
		err = db.read.QueryRowContext(ctx, `SELECT count(*) FROM readings`).Scan(&n)
	} else {
		err = db.read.QueryRowContext(ctx, `SELECT count(*) FROM readings WHERE device = $1`, device).Scan(&n)
	}
	return n, translate(err)
}
