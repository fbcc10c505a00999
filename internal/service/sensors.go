package service

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/id"
	"zhizhi/internal/sensors"
	"zhizhi/internal/store"
	"zhizhi/internal/xlsx"
)

// sensorState is a node's view of the sensors: the kind catalog, the rules
// and the rules' engine over the devices, loaded on first use (a node that
// takes no readings never loads 650,000 devices).
type sensorState struct {
	mu     sync.Mutex // the engine and the maps; held from validation to the engine's step (after events)
	kinds  map[string]sensors.Kind
	rules  map[string]sensors.Rule
	engine *sensors.Engine
	rows   map[string]store.IncidentRow // rule "\x00" subject → the open incident's row
	seeded time.Time                    // other nodes' readings seeded up to here
	devGen int64                        // the devices' generation the engine's devices were read at

	events sync.Mutex // a batch's whole run, so its incidents are written in the engine's order; taken before mu

	accepted, rejected atomic.Int64
}

// SensorCounts are this node's ingest counters since it started.
type SensorCounts struct{ Accepted, Rejected int64 }

// SensorCounts returns the node's ingest counters (zero before any reading).
func (s *Service) SensorCounts() SensorCounts {
	st := s.sens.Load()
	if st == nil {
		return SensorCounts{}
	}
	return SensorCounts{st.accepted.Load(), st.rejected.Load()}
}

func (s *Service) sensorState(ctx context.Context) (*sensorState, error) {
	if st := s.sens.Load(); st != nil {
		return st, nil
	}
	s.sensMu.Lock()
	defer s.sensMu.Unlock()
	if st := s.sens.Load(); st != nil {
		return st, nil
	}
	st := &sensorState{}
	if err := s.loadSensors(ctx, st); err != nil {
		return nil, err
	}
	s.sens.Store(st)
	return st, nil
}

// loadSensors (re)builds the state from the database: the kinds, the rules
// and the open incidents always; the devices only when an import changed
// them since the engine read them (the devices' generation), since reading
// and indexing every device is what a reload costs (9–19 s at 657,800
// devices), and every change of any reference data reloads. When the
// devices are read again, nothing of the old engine is kept but what the
// database has (the devices' last readings and the open incidents);
// otherwise the engine keeps its devices, their last readings and sums, and
// takes the rules and the open incidents from the database.
func (s *Service) loadSensors(ctx context.Context, st *sensorState) error {
	gen, err := s.db.DevicesGeneration(ctx) // before the devices, so a later import reloads again
	if err != nil {
		return err
	}
	kinds, err := s.db.DeviceKinds(ctx)
	if err != nil {
		return err
	}
	rules, err := s.db.SensorRules(ctx)
	if err != nil {
		return err
	}
	st.mu.Lock()
	same := st.engine != nil && st.devGen == gen
	st.mu.Unlock()
	var devs []store.DeviceRow
	if !same {
		if devs, err = s.db.Devices(ctx, store.DeviceFilter{}); err != nil {
			return err
		}
	}
	open, err := s.db.Incidents(ctx, store.IncidentFilter{State: "open"})
	if err != nil {
		return err
	}
	rows := map[string]store.IncidentRow{}
	for _, r := range open {
		rows[r.Incident.Rule+"\x00"+r.Incident.Subject] = r
	}
	if same {
		incs := make([]sensors.Incident, len(open))
		for i, r := range open {
			incs[i] = r.Incident
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.devGen != gen { // reloaded with newer devices meanwhile
			return nil
		}
		st.setReference(kinds, rules)
		st.engine.SetRules(rules)
		st.engine.ResetOpen(incs)
		st.rows = rows
		return nil
	}
	now := s.Now()
	plain := make([]sensors.Device, len(devs))
	for i, d := range devs {
		plain[i] = d.Device
	}
	e := sensors.NewEngine(plain, rules, now)
	for _, d := range devs {
		if !d.LastAt.IsZero() {
			e.Seed(sensors.Reading{Device: d.ID, Kind: d.Kind, Value: d.LastValue, At: d.LastAt})
		}
	}
	for _, r := range open {
		e.Restore(r.Incident)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.engine != nil && st.devGen > gen { // reloaded with newer devices meanwhile
		return nil
	}
	st.setReference(kinds, rules)
	st.engine, st.rows, st.seeded, st.devGen = e, rows, now, gen
	return nil
}

// setReference sets the kind catalog and the rules (st.mu held).
func (st *sensorState) setReference(kinds []sensors.Kind, rules []sensors.Rule) {
	st.kinds = map[string]sensors.Kind{}
	for _, k := range kinds {
		st.kinds[k.Code] = k
	}
	st.rules = map[string]sensors.Rule{}
	for _, r := range rules {
		st.rules[r.ID] = r
	}
}

// reloadSensors refreshes a loaded state after reference data changed.
func (s *Service) reloadSensors(ctx context.Context) error {
	st := s.sens.Load()
	if st == nil {
		return nil
	}
	return s.loadSensors(ctx, st)
}

// DeviceKinds lists the kind catalog.
func (s *Service) DeviceKinds(ctx context.Context) ([]sensors.Kind, error) {
	return s.db.DeviceKinds(ctx)
}

// PutDeviceKind validates and stores a kind of device, with its audit row.
func (s *Service) PutDeviceKind(ctx context.Context, actor cases.Actor, k sensors.Kind) error {
	if err := requireDistrictWide(actor, "设备类型"); err != nil {
		return err
	}
	k.Name, k.Unit = strings.TrimSpace(k.Name), strings.TrimSpace(k.Unit)
	if err := k.Check(); err != nil {
		return err
	}
	kinds, err := s.db.DeviceKinds(ctx)
	if err != nil {
		return err
	}
	var old *sensors.Kind
	for i := range kinds {
		if kinds[i].Code == k.Code {
			old = &kinds[i]
		}
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutDeviceKind(ctx, k, s.Now()); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "device_kind", k.Code, old != nil, old, k))
	}); err != nil {
		return err
	}
	return s.changed(ctx)
}

// RowProblem is every problem of one row of an import.
type RowProblem struct {
	Row      int                 `json:"row"` // 1 = the first row after the header
	Problems []apperr.FieldError `json:"problems"`
}

// DeviceColumns are the columns of a device import, in order (the header
// row names them; Chinese names are accepted too).
var DeviceColumns = []string{"id", "kind", "name", "lng", "lat", "area", "risk_point", "unit", "state"}

var deviceColumnCN = map[string]string{"编号": "id", "类型": "kind", "名称": "name", "经度": "lng", "纬度": "lat",
	"区域": "area", "风险点": "risk_point", "权属单位": "unit", "状态": "state"}

// MaxDeviceImport is the most rows one import takes.
const MaxDeviceImport = 100000

// ImportDevices reads devices from CSV (a header row, then one device a
// row; Excel's UTF-8 CSV with its byte-order mark is fine) and stores them
// all, placed in their grids, or none: when any row has a problem the
// answer lists every problem of every such row and nothing is stored.
func (s *Service) ImportDevices(ctx context.Context, actor cases.Actor, r io.Reader) (int, []RowProblem, error) {
	if err := requireDistrictWide(actor, "感知设备"); err != nil {
		return 0, nil, err
	}
	cr, err := deviceRows(r)
	if err != nil {
		return 0, nil, err
	}
	head, err := cr.Read()
	var pe *csv.ParseError
	if err == io.EOF || errors.As(err, &pe) {
		return 0, nil, apperr.Field("file", "无法读取表头（须为CSV或Excel文件）")
	} else if err != nil {
		return 0, nil, err // the body could not be read (past its limit…)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if en, ok := deviceColumnCN[h]; ok {
			h = en
		}
		col[h] = i
	}
	var miss []string
	for _, c := range []string{"id", "kind", "lng", "lat"} {
		if _, ok := col[c]; !ok {
			miss = append(miss, c)
		}
	}
	if len(miss) > 0 {
		return 0, nil, apperr.Field("file", "表头缺少列："+strings.Join(miss, "、"))
	}
	kinds, err := s.db.DeviceKinds(ctx)
	if err != nil {
		return 0, nil, err
	}
	kindOf := map[string]*sensors.Kind{}
	for i := range kinds {
		kindOf[kinds[i].Code] = &kinds[i]
	}
	var devs []sensors.Device
	var probs []RowProblem
	seen := map[string]int{}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if row > MaxDeviceImport {
			return 0, nil, apperr.Field("file", fmt.Sprintf("一次最多导入%d行", MaxDeviceImport))
		}
		var f apperr.Fields
		if err != nil {
			if errors.As(err, &pe) {
				f.Add("row", "CSV格式错误："+pe.Err.Error())
				probs = append(probs, RowProblem{Row: row, Problems: rowFieldsOf(f.Err())})
				continue
			}
			return 0, nil, err
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		d := sensors.Device{ID: get("id"), Kind: get("kind"), Name: get("name"), Area: get("area"),
			RiskPoint: get("risk_point"), Unit: get("unit"), State: sensors.DeviceState(get("state"))}
		if d.State == "" {
			d.State = sensors.Active
		}
		lng, err1 := strconv.ParseFloat(get("lng"), 64)
		lat, err2 := strconv.ParseFloat(get("lat"), 64)
		if err1 != nil || err2 != nil {
			f.Add("point", "经纬度须为数字")
		} else {
			d.Point = geo.Point{Lng: lng, Lat: lat}
		}
		if err := d.Check(kindOf[d.Kind]); err != nil {
			for _, fe := range rowFieldsOf(err) {
				if fe.Field != "point" || (err1 == nil && err2 == nil) {
					f.Add(fe.Field, fe.Reason)
				}
			}
		}
		if d.Unit != "" {
			if _, ok := s.Unit(d.Unit); !ok {
				f.Add("unit", "权属单位不存在")
			}
		}
		if prev, ok := seen[d.ID]; ok && d.ID != "" {
			f.Addf("id", "与第%d行编号重复", prev)
		}
		seen[d.ID] = row
		if !f.Empty() {
			probs = append(probs, RowProblem{Row: row, Problems: rowFieldsOf(f.Err())})
			continue
		}
		if g, ok := s.Locate(d.Point); ok {
			d.Grid = g
		}
		devs = append(devs, d)
	}
	if len(probs) > 0 {
		// The error names every problem as rows[N].field, so the API's
		// answer lists them too.
		var f apperr.Fields
		for _, p := range probs {
			for _, fe := range p.Problems {
				f.Addf(fmt.Sprintf("rows[%d].%s", p.Row, fe.Field), "%s", fe.Reason)
			}
		}
		e := f.Err().(*apperr.Error)
		e.Message = fmt.Sprintf("%d行有问题，未导入任何设备", len(probs))
		return 0, probs, e
	}
	if len(devs) == 0 {
		return 0, nil, apperr.Field("file", "文件中没有设备")
	}
	now := s.Now()
	const chunk = 2000
	for lo := 0; lo < len(devs); lo += chunk {
		part := devs[lo:min(lo+chunk, len(devs))]
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutDevices(ctx, part, now) }); err != nil {
			return 0, nil, err
		}
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		return tx.Audit(ctx, s.auditEntry(actor, "devices", "import", false, nil, map[string]any{"devices": len(devs)}))
	}); err != nil {
		return 0, nil, err
	}
	return len(devs), nil, s.changed(ctx)
}

func rowFieldsOf(err error) []apperr.FieldError {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	if err != nil {
		return []apperr.FieldError{{Field: "row", Reason: err.Error()}}
	}
	return nil
}

// Devices lists devices.
func (s *Service) Devices(ctx context.Context, f store.DeviceFilter) ([]store.DeviceRow, error) {
	return s.db.Devices(ctx, f)
}

// SensorRules lists the rules in force.
func (s *Service) SensorRules(ctx context.Context) ([]sensors.Rule, error) {
	return s.db.SensorRules(ctx)
}

// SaveSensorRule validates and saves a new version of a rule (r.Version is
// the version the caller saw, 0 for a new rule), with its audit row.
func (s *Service) SaveSensorRule(ctx context.Context, actor cases.Actor, r sensors.Rule) (sensors.Rule, error) {
	if err := requireDistrictWide(actor, "感知规则"); err != nil {
		return r, err
	}
	return s.saveSensorRule(ctx, actor, r)
}

// saveSensorRule is SaveSensorRule once the actor may (an operation's
// alert rules are saved by the operation's write path, operations.go).
func (s *Service) saveSensorRule(ctx context.Context, actor cases.Actor, r sensors.Rule) (sensors.Rule, error) {
	r.Name = strings.TrimSpace(r.Name)
	var f apperr.Fields
	f.Merge(r.Check())
	if r.Category != "" {
		if c, ok := s.Category(r.Category); !ok {
			f.Add("category", "类别不存在")
		} else if !c.Active {
			f.Add("category", "类别已停用")
		} else {
			for _, q := range c.Questions {
				if q.Required {
					f.Add("category", "该类别有必答问题，感知规则无法作答，请选择其他类别")
					break
				}
			}
		}
	}
	if r.ID != "" && !sensors.ValidCode(r.ID) {
		f.Add("id", "规则编号无效")
	}
	if err := f.Err(); err != nil {
		return r, err
	}
	if r.ID == "" {
		r.ID = id.New()
	}
	olds, err := s.db.SensorRuleVersions(ctx, r.ID)
	if err != nil {
		return r, err
	}
	var saved sensors.Rule
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		saved, err = tx.PutSensorRule(ctx, r, actor.AccountID, s.Now())
		if errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, "规则已被他人修改，请刷新后重试")
		} else if err != nil {
			return err
		}
		var before any
		if len(olds) > 0 {
			before = olds[0]
		}
		return tx.Audit(ctx, s.auditEntry(actor, "sensor_rule", r.ID, len(olds) > 0, before, saved))
	})
	if err != nil {
		return r, err
	}
	return saved, s.changed(ctx)
}

// Incoming is a reading as received: parsed (or not), with its raw payload
// for the rejects' sample.
type Incoming struct {
	Reading sensors.Reading
	Problem sensors.Problem // from parsing; OK when it parsed
	Raw     string
}

// IngestResult is what became of a batch of readings, one problem per
// reading (OK for those stored; a redelivered reading already stored is
// Replayed).
type IngestResult struct {
	Problems []sensors.Problem `json:"problems"`
	Accepted int               `json:"accepted"`
	Rejected int               `json:"rejected"`
}

// Ingest is the one write path of readings, from MQTT and HTTP alike: it
// validates each reading against the registry, stores the valid ones (raw,
// aggregates, the devices' last readings) and counts the others per device
// and problem in one durable write, then runs the rules and writes their
// incidents (a case through Report, updates through Act). It returns after
// the readings are committed; an error means none of them was.
func (s *Service) Ingest(ctx context.Context, in []Incoming) (IngestResult, error) {
	st, err := s.sensorState(ctx)
	if err != nil {
		return IngestResult{}, err
	}
	now := s.Now()
	res := IngestResult{Problems: make([]sensors.Problem, len(in))}
	// Locks in one order everywhere, events then mu: the incidents are
	// written in the order the engine made them, one batch after another.
	st.events.Lock()
	defer st.events.Unlock()
	st.mu.Lock()
	locked := true
	defer func() {
		if locked {
			st.mu.Unlock()
		}
	}()
	var good []sensors.Reading
	var goodAt []int
	for i, x := range in {
		p := x.Problem
		if p == sensors.OK {
			r := x.Reading
			var devp *sensors.Device
			var kindp *sensors.Kind
			if d, ok := st.engine.Device(r.Device); ok {
				devp = &d
				if k, ok := st.kinds[d.Kind]; ok {
					kindp = &k
				}
			}
			p = sensors.Validate(r, devp, kindp, now)
			if p == sensors.OK {
				r.Kind = devp.Kind
				r.At = r.At.Truncate(time.Millisecond)
				good = append(good, r)
				goodAt = append(goodAt, i)
			}
		}
		res.Problems[i] = p
	}
	type rejKey struct {
		device  string
		problem sensors.Problem
	}
	rej := map[rejKey]int{}
	sample := map[rejKey]string{}
	var rejOrder []rejKey
	for i, p := range res.Problems {
		if p == sensors.OK {
			continue
		}
		k := rejKey{in[i].Reading.Device, p}
		if !sensors.ValidCode(k.device) {
			k.device = "" // a device that cannot exist is counted together
		}
		if rej[k] == 0 {
			rejOrder = append(rejOrder, k)
		}
		rej[k]++
		sample[k] = in[i].Raw
	}
	var fresh []bool
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if fresh, err = tx.InsertReadings(ctx, good); err != nil {
			return err
		}
		for j := range good {
			if !fresh[j] {
				// Already stored: the broker's redelivery of a reading
				// this node or another one committed.
				k := rejKey{good[j].Device, sensors.Replayed}
				if rej[k] == 0 {
					rejOrder = append(rejOrder, k)
				}
				rej[k]++
			}
		}
		for _, k := range rejOrder {
			if err := tx.CountReject(ctx, k.device, k.problem, rej[k], sample[k], now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return IngestResult{}, err
	}
	var evs []sensors.Event
	for j, r := range good {
		if !fresh[j] {
			res.Problems[goodAt[j]] = sensors.Replayed
			continue
		}
		evs = append(evs, st.engine.Observe(r)...)
	}
	for _, p := range res.Problems {
		if p == sensors.OK {
			res.Accepted++
		} else {
			res.Rejected++
		}
	}
	st.accepted.Add(int64(res.Accepted))
	st.rejected.Add(int64(res.Rejected))
	for _, k := range rejOrder {
		s.log.Debug("readings refused", "device", k.device, "problem", string(k.problem), "n", rej[k])
	}
	st.mu.Unlock()
	locked = false
	for _, ev := range evs {
		if err := s.sensorEvent(ctx, st, ev); err != nil {
			// The readings are committed; an incident that failed is
			// logged and tried again by the next event of its rule.
			s.log.Error("sensor incident", "rule", ev.Rule.ID, "subject", ev.Incident.Subject, "event", string(ev.Type), "err", err)
		}
	}
	return res, nil
}

// SensorTick advances the rules' clock on this node: other nodes' readings
// since the last tick are seeded into the engine (area sums count every
// node's readings), incidents clear long enough end and silent devices open
// silence incidents.
func (s *Service) SensorTick(ctx context.Context) error {
	st, err := s.sensorState(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	st.mu.Lock()
	since := st.seeded.Add(-5 * time.Second)
	st.mu.Unlock()
	heard, err := s.db.DevicesHeardSince(ctx, since)
	if err != nil {
		return err
	}
	st.events.Lock()
	defer st.events.Unlock()
	st.mu.Lock()
	for _, r := range heard {
		st.engine.Seed(r)
	}
	st.seeded = now
	evs := st.engine.Tick(now)
	st.mu.Unlock()
	var first error
	for _, ev := range evs {
		if err := s.sensorEvent(ctx, st, ev); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// OpenIncidents lists the incidents open on this node's engine.
func (s *Service) OpenIncidents(ctx context.Context) ([]sensors.Incident, error) {
	st, err := s.sensorState(ctx)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.engine.Open(), nil
}

// AreaSum is the sum of an area's latest readings of a kind on this node.
func (s *Service) AreaSum(ctx context.Context, area, kind string) (float64, error) {
	st, err := s.sensorState(ctx)
	if err != nil {
		return 0, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.engine.AreaSum(area, kind), nil
}

// sensorEvent writes one incident event: an opening claims the incident (one
// open per rule and subject over every node) and reports its case; an update
// or a clearing is noted on the case with the sensor action.
func (s *Service) sensorEvent(ctx context.Context, st *sensorState, ev sensors.Event) error {
	key := ev.Rule.ID + "\x00" + ev.Incident.Subject
	st.mu.Lock()
	row, known := st.rows[key]
	kind := st.kinds[ev.Rule.Kind]
	dev, _ := st.engine.Device(ev.Incident.Subject)
	if ev.Rule.Type == sensors.AreaSum && len(ev.Incident.Trigger) > 0 {
		dev, _ = st.engine.Device(ev.Incident.Trigger[len(ev.Incident.Trigger)-1].Device)
	}
	if k, ok := st.kinds[dev.Kind]; ok && kind.Code == "" {
		kind = k
	}
	st.mu.Unlock()
	switch ev.Type {
	case sensors.Opened:
		row = store.IncidentRow{ID: id.At(ev.At), RuleVersion: ev.Rule.Version, State: "open", Incident: ev.Incident}
		var claimed bool
		if err := s.db.Write(ctx, func(tx *store.Tx) (err error) {
			row, claimed, err = tx.ClaimIncident(ctx, row)
			return err
		}); err != nil {
			return err
		}
		st.mu.Lock()
		st.rows[key] = row
		st.mu.Unlock()
		if !claimed && row.Incident.CaseID != "" {
			return nil // another node opened it and its case
		}
		if ev.Rule.Type == sensors.Silence {
			if err := s.db.Write(ctx, func(tx *store.Tx) error {
				return tx.SetDeviceState(ctx, dev.ID, sensors.Silent, ev.At)
			}); err != nil {
				return err
			}
		}
		c, err := s.Report(ctx, cases.System, s.incidentReport(ev, row.ID, dev, kind))
		if err != nil {
			return fmt.Errorf("report incident %s: %w", row.ID, err)
		}
		row.Incident.CaseID = c.ID
		st.mu.Lock()
		st.rows[key] = row
		st.mu.Unlock()
		return s.db.Write(ctx, func(tx *store.Tx) error { return tx.SaveIncident(ctx, row) })
	case sensors.Updated, sensors.Cleared:
		if !known {
			open, err := s.db.Incidents(ctx, store.IncidentFilter{State: "open", Rule: ev.Rule.ID})
			if err != nil {
				return err
			}
			for _, o := range open {
				if o.Incident.Subject == ev.Incident.Subject {
					row, known = o, true
				}
			}
			if !known {
				return nil // cleared by another node
			}
		}
		caseID := row.Incident.CaseID
		row.Incident = ev.Incident
		row.Incident.CaseID = caseID
		note := incidentNote(ev, kind)
		if ev.Type == sensors.Cleared {
			row.State, row.ClearedAt = "cleared", ev.At
			st.mu.Lock()
			delete(st.rows, key)
			st.mu.Unlock()
		} else {
			st.mu.Lock()
			st.rows[key] = row
			st.mu.Unlock()
		}
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.SaveIncident(ctx, row) }); err != nil {
			return err
		}
		if caseID == "" {
			return nil
		}
		_, _, err := s.Act(ctx, cases.System, caseID, cases.Command{Action: cases.ActSensor, Note: note}, 0)
		var ae *apperr.Error
		if errors.As(err, &ae) && (ae.Kind == apperr.Refused || ae.Kind == apperr.NotFound) {
			// The case has closed (or was merged): the incident goes on
			// in the registry only.
			return nil
		}
		return err
	}
	return nil
}

// incidentReport is the case an incident opens.
func (s *Service) incidentReport(ev sensors.Event, incidentID string, dev sensors.Device, kind sensors.Kind) cases.Report {
	r := ev.Rule
	inc := ev.Incident
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + kind.Unit }
	var what string
	switch r.Type {
	case sensors.Threshold:
		line := "达到"
		if r.Below {
			line = "低于"
		}
		what = fmt.Sprintf("设备%s（%s）读数%s，%s触发线%s", dev.ID, kind.Name, num(inc.Value), line, num(r.Raise))
	case sensors.Rate:
		what = fmt.Sprintf("设备%s（%s）每分钟变化%s，达到触发线%s/分钟", dev.ID, kind.Name, num(round2(inc.Value)), num(r.Raise))
	case sensors.AreaSum:
		what = fmt.Sprintf("区域%s合计%s，达到触发线%s", r.Area, num(inc.Value), num(r.Raise))
	case sensors.Silence:
		what = fmt.Sprintf("设备%s（%s）已%d分钟无读数", dev.ID, kind.Name, int(inc.Value))
	}
	desc := fmt.Sprintf("【感知告警】%s：%s。", r.Name, what)
	if dev.RiskPoint != "" {
		desc += "风险点：" + dev.RiskPoint + "。"
	}
	extra := []cases.Extra{
		{Key: "sensor_rule", Value: fmt.Sprintf("%s v%d", r.ID, r.Version)},
		{Key: "sensor_incident", Value: incidentID},
		{Key: "sensor_subject", Value: inc.Subject},
	}
	for i, t := range inc.Trigger {
		extra = append(extra, cases.Extra{Key: fmt.Sprintf("reading_%d", i+1),
			Value: fmt.Sprintf("%s %s %s", t.Device, t.At.Format(time.RFC3339Nano), num(t.Value))})
	}
	p := dev.Point
	rep := cases.Report{Source: cases.SourceSensor, Reporter: cases.Reporter{AccountID: "sensor", Name: "感知设备"},
		Category: r.Category, Severity: r.Severity, Description: desc, Extra: extra, ClientRef: "sensor-" + incidentID}
	if p.Valid() && (p.Lng != 0 || p.Lat != 0) {
		rep.Point = &p
	} else {
		rep.Address = "区域" + inc.Area
	}
	return rep
}

func incidentNote(ev sensors.Event, kind sensors.Kind) string {
	num := func(v float64) string { return strconv.FormatFloat(round2(v), 'f', -1, 64) + kind.Unit }
	inc := ev.Incident
	if ev.Rule.Type == sensors.Silence {
		return fmt.Sprintf("设备恢复上报，静默%s结束", ev.At.Sub(inc.LastAt).Round(time.Minute))
	}
	if ev.Type == sensors.Cleared {
		return fmt.Sprintf("告警解除：当前%s，峰值%s，持续%s", num(inc.Value), num(inc.Peak), ev.At.Sub(inc.OpenedAt).Round(time.Second))
	}
	return fmt.Sprintf("告警持续：当前%s，峰值%s", num(inc.Value), num(inc.Peak))
}

func round2(v float64) float64 { return float64(int64(v*100)) / 100 }

// SensorSettings tune the sensors' background work.
type SensorSettings struct {
	Tick      time.Duration   // how often rules' clocks advance (default 15 s)
	Retention store.Retention // raw readings and aggregates (defaults: 7 days, 30 days, 2 years)
}

// RunSensors advances the rules' clock and prunes old readings until ctx
// ends. Every node runs it (pruning twice is harmless).
func (s *Service) RunSensors(ctx context.Context, set SensorSettings) {
	if set.Tick <= 0 {
		set.Tick = 15 * time.Second
	}
	if set.Retention.Raw <= 0 {
		set.Retention.Raw = 7 * 24 * time.Hour
	}
	if set.Retention.Minute <= 0 {
		set.Retention.Minute = 30 * 24 * time.Hour
	}
	if set.Retention.Hour <= 0 {
		set.Retention.Hour = 2 * 365 * 24 * time.Hour
	}
	tick := time.NewTicker(set.Tick)
	defer tick.Stop()
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.SensorTick(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("sensor tick", "err", err)
		}
		if err := s.OperationTick(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("operation tick", "err", err)
		}
		if now := s.Now(); now.Sub(pruned) > time.Hour {
			if _, err := s.db.PruneReadings(ctx, now, set.Retention); err != nil && ctx.Err() == nil {
				s.log.Error("prune readings", "err", err)
			}
			pruned = now
		}
	}
}

// MaxHTTPReadings is the most readings one HTTP request may carry, and
// MaxReadingsBody the most bytes of its body.
const (
	MaxHTTPReadings = 5000
	MaxReadingsBody = 2 << 20
)

// MaxDeviceImportBytes is the most bytes of a device import (CSV).
const MaxDeviceImportBytes = 16 << 20

// IngestAs takes readings posted over HTTP (a JSON array, each naming its
// device and kind) by a gateway's account: a district-wide administrator.
// Bad readings are answered one problem each, like MQTT's, never refused
// as a whole; a body that is not an array is.
func (s *Service) IngestAs(ctx context.Context, actor cases.Actor, body []byte) (IngestResult, error) {
	if err := requireDistrictWide(actor, "感知读数接入"); err != nil {
		return IngestResult{}, err
	}
	rs, probs, err := sensors.ParseBatch(body)
	if err != nil {
		return IngestResult{}, err
	}
	if len(rs) == 0 {
		return IngestResult{}, apperr.Field("body", "没有读数")
	}
	if len(rs) > MaxHTTPReadings {
		return IngestResult{}, apperr.Field("body", fmt.Sprintf("一次最多提交%d条读数", MaxHTTPReadings))
	}
	in := make([]Incoming, len(rs))
	for i := range rs {
		in[i] = Incoming{Reading: rs[i], Problem: probs[i], Raw: fmt.Sprintf("%s %s %v %s", rs[i].Device, rs[i].Kind, rs[i].Value, rs[i].At.Format(time.RFC3339))}
	}
	return s.Ingest(ctx, in)
}

// DeviceView is one device's page: the device, its kind, its series and
// its refused readings.
type DeviceView struct {
	Device  store.DeviceRow   `json:"device"`
	Kind    sensors.Kind      `json:"kind"`
	Grain   string            `json:"grain"` // m (minutes) or h (hours)
	Series  []store.Aggregate `json:"series"`
	Rejects []store.Reject    `json:"rejects"`
}

// Device returns a device's page: the series of the last hours (grain m:
// the last 3 hours by minute; h: the last 7 days by hour).
func (s *Service) Device(ctx context.Context, id, grain string) (DeviceView, error) {
	d, err := s.db.Device(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return DeviceView{}, apperr.New(apperr.NotFound, "设备不存在")
	} else if err != nil {
		return DeviceView{}, err
	}
	v := DeviceView{Device: d, Grain: grain}
	kinds, err := s.db.DeviceKinds(ctx)
	if err != nil {
		return v, err
	}
	for _, k := range kinds {
		if k.Code == d.Kind {
			v.Kind = k
		}
	}
	now := s.Now()
	span := 3 * time.Hour
	switch grain {
	case "", "m":
		v.Grain = "m"
	case "h":
		span = 7 * 24 * time.Hour
	default:
		return v, apperr.Field("grain", "粒度须为 m（分钟）或 h（小时）")
	}
	if v.Series, err = s.db.Series(ctx, id, v.Grain, now.Add(-span), now.Add(time.Minute)); err != nil {
		return v, err
	}
	v.Rejects, err = s.db.Rejects(ctx, id, 20)
	return v, err
}

// rowSource gives an import's rows one by one (io.EOF after the last).
type rowSource interface{ Read() ([]string, error) }

// sheetRows are the rows of a worksheet, read whole.
type sheetRows [][]string

func (s *sheetRows) Read() ([]string, error) {
	if len(*s) == 0 {
		return nil, io.EOF
	}
	r := (*s)[0]
	*s = (*s)[1:]
	return r, nil
}

// deviceRows reads a device import: an Excel workbook (.xlsx, its first
// worksheet; told by the zip signature) or CSV.
func deviceRows(r io.Reader) (rowSource, error) {
	br := bufio.NewReader(r)
	if sig, _ := br.Peek(4); xlsx.IsXLSX(sig) {
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, err // past the body's limit…
		}
		rows, err := xlsx.Read(data)
		if err != nil {
			return nil, apperr.Field("file", "无法读取Excel文件："+err.Error())
		}
		sr := sheetRows(rows)
		return &sr, nil
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return cr, nil
}
