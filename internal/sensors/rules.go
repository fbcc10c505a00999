package sensors

import (
	"math"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/sla"
)

// RuleType is what a rule watches.
type RuleType string

// The rule types.
const (
	Threshold RuleType = "threshold" // a device's value crosses a line (with hysteresis)
	Rate      RuleType = "rate"      // a device's value changes faster than so much per minute
	AreaSum   RuleType = "area_sum"  // the sum of an area's devices' latest values (crowd in an area)
	Silence   RuleType = "silence"   // a device has sent nothing for N minutes
)

// Label is the type's Chinese name.
func (t RuleType) Label() string {
	switch t {
	case Threshold:
		return "阈值"
	case Rate:
		return "变化率"
	case AreaSum:
		return "区域合计"
	case Silence:
		return "静默"
	}
	return string(t)
}

// Rule turns readings into incidents. Its scope is every device matching
// all of Kind, Device and Area that are set. The condition starts when the
// value reaches Raise (at or above; at or below when Below) and ends when
// it passes Clear the other way (hysteresis: between the two lines nothing
// changes). An incident ends only after the condition has stayed clear for
// ClearMinutes; if it comes back before, the same incident goes on, so a
// flapping sensor opens one incident, not one per flap.
type Rule struct {
	ID            string       `json:"id"`
	Version       int          `json:"version"`
	Name          string       `json:"name"`
	Type          RuleType     `json:"type"`
	Kind          string       `json:"kind,omitempty"`
	Device        string       `json:"device,omitempty"`
	Area          string       `json:"area,omitempty"`
	Raise         float64      `json:"raise"`                    // threshold, rate (per minute), area_sum
	Clear         float64      `json:"clear"`                    // hysteresis line; equal to Raise for none
	Below         bool         `json:"below,omitempty"`          // the condition is a low value (water level too low…)
	SilentMinutes int          `json:"silent_minutes,omitempty"` // silence
	ClearMinutes  int          `json:"clear_minutes"`            // how long clear before the incident ends
	UpdateMinutes int          `json:"update_minutes"`           // at most one update per this while it holds (0: 10)
	Category      string       `json:"category"`                 // the case's category
	Severity      sla.Severity `json:"severity"`
	Active        bool         `json:"active"`
}

// Check validates a rule (the category is the service's to check).
func (r Rule) Check() error {
	var f apperr.Fields
	if strings.TrimSpace(r.Name) == "" {
		f.Add("name", "请填写规则名称")
	}
	switch r.Type {
	case Threshold, Rate, AreaSum:
		if !finite(r.Raise) || !finite(r.Clear) {
			f.Add("raise", "阈值须为数字")
		} else if !r.Below && r.Clear > r.Raise || r.Below && r.Clear < r.Raise {
			f.Add("clear", "解除线须在触发线的另一侧（回差）")
		}
	case Silence:
		if r.SilentMinutes <= 0 {
			f.Add("silent_minutes", "请填写静默分钟数")
		}
	default:
		f.Add("type", "规则类型须为 threshold、rate、area_sum 或 silence")
	}
	if r.Type == AreaSum && r.Area == "" {
		f.Add("area", "区域合计规则须指定区域")
	}
	if r.Type != AreaSum && r.Kind == "" && r.Device == "" && r.Area == "" {
		f.Add("kind", "请指定设备类型、设备或区域")
	}
	if r.ClearMinutes < 0 || r.UpdateMinutes < 0 {
		f.Add("clear_minutes", "分钟数不能为负")
	}
	if r.Category == "" {
		f.Add("category", "请选择案件类别")
	}
	if !r.Severity.Valid() {
		f.Add("severity", "紧急程度无效")
	}
	return f.Err()
}

// matches reports whether the rule's scope takes the device.
func (r *Rule) matches(d *Device) bool {
	return (r.Kind == "" || r.Kind == d.Kind) && (r.Device == "" || r.Device == d.ID) &&
		(r.Area == "" || r.Area == d.AreaOf()) && d.State != Retired
}

func (r Rule) raises(v float64) bool {
	if r.Below {
		return v <= r.Raise
	}
	return v >= r.Raise
}

func (r Rule) clears(v float64) bool {
	if r.Below {
		return v > r.Clear
	}
	return v < r.Clear
}

func (r Rule) updateEvery() time.Duration {
	if r.UpdateMinutes <= 0 {
		return 10 * time.Minute
	}
	return time.Duration(r.UpdateMinutes) * time.Minute
}

// Incident is one condition of one rule on one subject (a device, or an
// area for area sums), from the moment it started until it cleared.
type Incident struct {
	Rule       string    `json:"rule"`
	Subject    string    `json:"subject"`
	Area       string    `json:"area,omitempty"`
	OpenedAt   time.Time `json:"opened_at"`
	Value      float64   `json:"value"`
	Peak       float64   `json:"peak"`
	LastAt     time.Time `json:"last_at"`              // the last reading that kept it
	ClearSince time.Time `json:"clear_since,omitzero"` // when the condition went clear; zero while it holds
	UpdatedAt  time.Time `json:"updated_at"`           // the last update told to the case
	Trigger    []Reading `json:"trigger,omitempty"`    // the readings that opened it
	CaseID     string    `json:"case_id,omitempty"`    // set by the service
}

// EventType is what happened to an incident.
type EventType string

// The incident events.
const (
	Opened  EventType = "opened"  // open a case
	Updated EventType = "updated" // note on the case: still holding, the value now
	Cleared EventType = "cleared" // note on the case: the condition ended
)

// Event is a change to an incident, for the service to write.
type Event struct {
	Type     EventType
	Rule     Rule
	Incident Incident // after the change
	At       time.Time
}

type incKey struct{ rule, subject string }

// Engine evaluates rules over a stream of valid readings. It is a pure
// state machine (no clock, no I/O: times come from readings and Tick) and is
// not safe for concurrent use.
type Engine struct {
	rules   []Rule
	devices map[string]Device
	last    map[string]Reading
	sums    map[sumKey]float64 // area and kind → sum of latest values; kind "" → all kinds
	open    map[incKey]*Incident
	start   time.Time // silence counts from here for devices never heard
}

// NewEngine makes an engine over the devices and the active rules.
func NewEngine(devices []Device, rules []Rule, start time.Time) *Engine {
	e := &Engine{devices: map[string]Device{}, last: map[string]Reading{}, sums: map[sumKey]float64{}, open: map[incKey]*Incident{}, start: start}
	for _, d := range devices {
		e.devices[d.ID] = d
	}
	e.SetRules(rules)
	return e
}

// SetRules replaces the rules; incidents of rules no longer active are
// forgotten (their cases stay as they are).
func (e *Engine) SetRules(rules []Rule) {
	e.rules = e.rules[:0]
	keep := map[string]bool{}
	for _, r := range rules {
		if r.Active {
			e.rules = append(e.rules, r)
			keep[r.ID] = true
		}
	}
	for k := range e.open {
		if !keep[k.rule] {
			delete(e.open, k)
		}
	}
}

// SetDevice adds or replaces a device.
func (e *Engine) SetDevice(d Device) {
	if old, ok := e.devices[d.ID]; ok {
		if r, ok := e.last[d.ID]; ok {
			e.addSum(old, -r.Value)
			e.addSum(d, r.Value)
		}
	}
	e.devices[d.ID] = d
}

// Device returns a registered device.
func (e *Engine) Device(id string) (Device, bool) {
	d, ok := e.devices[id]
	return d, ok
}

// Last is a device's last reading.
func (e *Engine) Last(id string) (Reading, bool) {
	r, ok := e.last[id]
	return r, ok
}

// Seed sets a device's last reading without evaluating rules (at start, or
// readings another node took), when newer than the one the engine has.
func (e *Engine) Seed(r Reading) {
	d, ok := e.devices[r.Device]
	if !ok {
		return
	}
	if old, ok := e.last[r.Device]; ok {
		if !r.At.After(old.At) {
			return
		}
		e.addSum(d, -old.Value)
	}
	e.last[r.Device] = r
	e.addSum(d, r.Value)
}

// Restore puts back an incident that was open (from the store).
func (e *Engine) Restore(inc Incident) {
	c := inc
	e.open[incKey{inc.Rule, inc.Subject}] = &c
}

// ResetOpen replaces the open incidents with incs (the store's, when the
// node's state is refreshed without rebuilding the engine): an incident the
// engine held that is not among them is forgotten, one it did not hold goes
// on as after Restore. Devices, last readings and sums stay.
func (e *Engine) ResetOpen(incs []Incident) {
	clear(e.open)
	for _, inc := range incs {
		e.Restore(inc)
	}
}

// Open lists the open incidents, oldest first.
func (e *Engine) Open() []Incident {
	out := make([]Incident, 0, len(e.open))
	for _, inc := range e.open {
		out = append(out, *inc)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].OpenedAt.Equal(out[j].OpenedAt) {
			return out[i].OpenedAt.Before(out[j].OpenedAt)
		}
		return out[i].Rule+out[i].Subject < out[j].Rule+out[j].Subject
	})
	return out
}

// AreaSum is the sum of the latest values of an area's devices of a kind
// ("" for every kind).
func (e *Engine) AreaSum(area, kind string) float64 { return e.sums[sumKey{area, kind}] }

// sumKey names an area sum (a struct, so a reading's sums build no strings).
type sumKey struct{ area, kind string }

func (e *Engine) addSum(d Device, v float64) {
	a := d.AreaOf()
	if a == "" {
		return
	}
	e.sums[sumKey{a, d.Kind}] += v
	e.sums[sumKey{a, ""}] += v
}

// Observe takes a valid reading (Validate said OK) and returns what it
// changed.
func (e *Engine) Observe(r Reading) []Event {
	d, ok := e.devices[r.Device]
	if !ok {
		return nil
	}
	prev, had := e.last[r.Device]
	if had && !r.At.After(prev.At) {
		return nil
	}
	if had {
		e.addSum(d, -prev.Value)
	}
	e.last[r.Device] = r
	e.addSum(d, r.Value)
	var out []Event
	for i := range e.rules {
		rule := &e.rules[i] // not copied: most rules do not match
		if !rule.matches(&d) {
			continue
		}
		switch rule.Type {
		case Threshold:
			trig := []Reading{r}
			if had {
				trig = []Reading{prev, r}
			}
			out = e.step(out, *rule, d.ID, d.AreaOf(), r.Value, r.At, trig)
		case Rate:
			if !had {
				continue
			}
			mins := r.At.Sub(prev.At).Minutes()
			out = e.step(out, *rule, d.ID, d.AreaOf(), (r.Value-prev.Value)/mins, r.At, []Reading{prev, r})
		case AreaSum:
			sum := e.sums[sumKey{rule.Area, rule.Kind}]
			out = e.step(out, *rule, rule.Area, rule.Area, sum, r.At, []Reading{r})
		case Silence:
			// A reading ends a silence at once.
			if inc, ok := e.open[incKey{rule.ID, d.ID}]; ok {
				inc.LastAt = r.At
				out = e.clear(out, *rule, inc, r.At)
			}
		}
	}
	return out
}

// step moves one rule's incident on a subject with a new value.
func (e *Engine) step(out []Event, rule Rule, subject, area string, v float64, at time.Time, trig []Reading) []Event {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return out
	}
	k := incKey{rule.ID, subject}
	inc := e.open[k]
	if inc == nil {
		if !rule.raises(v) {
			return out
		}
		inc = &Incident{Rule: rule.ID, Subject: subject, Area: area, OpenedAt: at, Value: v, Peak: v, LastAt: at, UpdatedAt: at, Trigger: trig}
		e.open[k] = inc
		return append(out, Event{Type: Opened, Rule: rule, Incident: *inc, At: at})
	}
	inc.Value = v
	if worse(rule, v, inc.Peak) {
		inc.Peak = v
	}
	switch {
	case rule.raises(v) || inc.ClearSince.IsZero() && !rule.clears(v):
		// Holding (or back before it had cleared long enough: the same
		// incident goes on).
		inc.LastAt = at
		inc.ClearSince = time.Time{}
		if at.Sub(inc.UpdatedAt) >= rule.updateEvery() {
			inc.UpdatedAt = at
			out = append(out, Event{Type: Updated, Rule: rule, Incident: *inc, At: at})
		}
	case rule.clears(v) || !inc.ClearSince.IsZero():
		if inc.ClearSince.IsZero() {
			inc.ClearSince = at
		}
		out = e.clear(out, rule, inc, at)
	}
	return out
}

// clear ends the incident when it has been clear long enough (silence ends
// at once).
func (e *Engine) clear(out []Event, rule Rule, inc *Incident, at time.Time) []Event {
	if inc.ClearSince.IsZero() {
		inc.ClearSince = at
	}
	if rule.Type != Silence && at.Sub(inc.ClearSince) < time.Duration(rule.ClearMinutes)*time.Minute {
		return out
	}
	delete(e.open, incKey{inc.Rule, inc.Subject})
	return append(out, Event{Type: Cleared, Rule: rule, Incident: *inc, At: at})
}

func worse(rule Rule, v, peak float64) bool {
	if rule.Below {
		return v < peak
	}
	return v > peak
}

// Tick advances the engine's clock: incidents clear long enough end, and
// silent devices open silence incidents.
func (e *Engine) Tick(now time.Time) []Event {
	var out []Event
	byID := map[string]Rule{}
	for _, r := range e.rules {
		byID[r.ID] = r
	}
	for _, inc := range e.Open() {
		rule, ok := byID[inc.Rule]
		if !ok || rule.Type == Silence || inc.ClearSince.IsZero() {
			continue
		}
		out = e.clear(out, rule, e.open[incKey{inc.Rule, inc.Subject}], now)
	}
	ids := make([]string, 0, len(e.devices))
	for id := range e.devices {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, rule := range e.rules {
		if rule.Type != Silence {
			continue
		}
		limit := time.Duration(rule.SilentMinutes) * time.Minute
		for _, id := range ids {
			d := e.devices[id]
			if !rule.matches(&d) {
				continue
			}
			k := incKey{rule.ID, id}
			if _, open := e.open[k]; open {
				continue
			}
			since := e.start
			if r, ok := e.last[id]; ok {
				since = r.At
			}
			if now.Sub(since) < limit {
				continue
			}
			inc := &Incident{Rule: rule.ID, Subject: id, Area: d.AreaOf(), OpenedAt: now, LastAt: since, UpdatedAt: now,
				Value: now.Sub(since).Minutes(), Peak: now.Sub(since).Minutes()}
			if r, ok := e.last[id]; ok {
				inc.Trigger = []Reading{r}
			}
			e.open[k] = inc
			out = append(out, Event{Type: Opened, Rule: rule, Incident: *inc, At: now})
		}
	}
	return out
}
