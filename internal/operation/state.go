package operation

import (
	"sort"
	"time"
)

// AreaState is an area's crowd as last seen: its level, the peak, and the
// moment it was restored after the event.
type AreaState struct {
	Area       string    `json:"area"`
	Level      Level     `json:"level"`
	Value      float64   `json:"value"`
	Since      time.Time `json:"since,omitzero"` // the level's start
	Peak       float64   `json:"peak"`
	PeakAt     time.Time `json:"peak_at,omitzero"`
	At         time.Time `json:"at,omitzero"` // the last value's time
	RestoredAt time.Time `json:"restored_at,omitzero"`
}

// LevelChange is an area going from one level to another.
type LevelChange struct {
	Area     string
	From, To Level
	Value    float64
	At       time.Time
}

// Up reports whether the change raises the level.
func (c LevelChange) Up() bool { return c.To.rank() > c.From.rank() }

// LevelOf is the level of a crowd coming from a level: it rises at a
// threshold and falls only once the crowd is Hysteresis below it.
func (a Area) LevelOf(from Level, v float64) Level {
	down := func(line float64) bool { return v < line*(1-Hysteresis) }
	switch {
	case v >= a.Red:
		return Red
	case from == Red && !down(a.Red):
		return Red
	case v >= a.Yellow:
		return Yellow
	case from.rank() >= 1 && !down(a.Yellow):
		return Yellow
	}
	return Green
}

// Step moves an area's state with a crowd value seen at a moment: the
// level (with hysteresis), the value and the peak. It returns the change
// of level, if any.
func (a Area) Step(st AreaState, v float64, at time.Time) (AreaState, *LevelChange) {
	if !finite(v) {
		return st, nil
	}
	st.Area = a.Key
	if st.Level == "" {
		st.Level, st.Since = Green, at
	}
	st.Value, st.At = v, at
	if v > st.Peak || st.PeakAt.IsZero() {
		st.Peak, st.PeakAt = v, at
	}
	to := a.LevelOf(st.Level, v)
	if to == st.Level {
		return st, nil
	}
	ch := &LevelChange{Area: a.Key, From: st.Level, To: to, Value: v, At: at}
	st.Level, st.Since = to, at
	return st, ch
}

// TaskState is where a prepared task is.
type TaskState string

// The task states.
const (
	Prepared   TaskState = "prepared"   // waiting for its moment or trigger
	Released   TaskState = "released"   // its case is reported
	Dispatched TaskState = "dispatched" // its case is dispatched to the unit, the clock runs
	Done       TaskState = "done"       // the unit fed back (or the case closed)
)

// Label is the state's Chinese name.
func (s TaskState) Label() string {
	switch s {
	case Prepared:
		return "待下达"
	case Released:
		return "已下达"
	case Dispatched:
		return "处置中"
	case Done:
		return "已完成"
	}
	return string(s)
}

// TaskRun is a task's release record.
type TaskRun struct {
	Task         string    `json:"task"`
	Area         string    `json:"area"`
	State        TaskState `json:"state"`
	ReleaseAt    time.Time `json:"release_at,omitzero"` // the planned moment (zero: on trigger)
	CaseID       string    `json:"case_id,omitempty"`
	ReleasedAt   time.Time `json:"released_at,omitzero"`
	DispatchedAt time.Time `json:"dispatched_at,omitzero"`
	DoneAt       time.Time `json:"done_at,omitzero"`
	Error        string    `json:"error,omitempty"` // the last failure to release or dispatch
}

// Due reports whether a prepared task is to be released now: a timed task
// once its moment has come, a red-triggered one when its area is red
// within the operation's window.
func Due(o Operation, t Task, run TaskRun, areaLevel Level, now time.Time) bool {
	if run.State != Prepared && run.State != "" {
		return false
	}
	switch t.Trigger {
	case OnTime:
		return !t.At.IsZero() && !now.Before(t.At)
	case OnRed:
		return areaLevel == Red && o.Watched(now)
	}
	return false
}

// Restored is the moment an area is restored: when every one of its
// post-event tasks is done, the last one's done time. ok is false while a
// task is not done, or when the area has no post-event task.
func Restored(o Operation, area string, runs map[string]TaskRun) (time.Time, bool) {
	var last time.Time
	n := 0
	for _, t := range o.Tasks {
		if t.Area != area || !t.PostEvent() {
			continue
		}
		n++
		r := runs[t.ID]
		if r.State != Done || r.DoneAt.IsZero() {
			return time.Time{}, false
		}
		if r.DoneAt.After(last) {
			last = r.DoneAt
		}
	}
	return last, n > 0
}

// Alert is an area alert: a sensor incident of one of the operation's
// alert rules, with its case.
type Alert struct {
	Area       string    `json:"area"`
	Level      Level     `json:"level"`
	OpenedAt   time.Time `json:"opened_at"`
	ClearedAt  time.Time `json:"cleared_at,omitzero"`
	Value      float64   `json:"value"`
	Peak       float64   `json:"peak"`
	CaseID     string    `json:"case_id,omitempty"`
	CaseNumber string    `json:"case_number,omitempty"`
}

// Event is one entry of an operation's timeline.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // level, alert, released, dispatched, done, restored
	Area   string    `json:"area,omitempty"`
	Text   string    `json:"text"`
	CaseID string    `json:"case_id,omitempty"`
}

// AreaReport is one area in the after-event report.
type AreaReport struct {
	Key            string    `json:"key"`
	Name           string    `json:"name"`
	Yellow         float64   `json:"yellow"`
	Red            float64   `json:"red"`
	Peak           float64   `json:"peak"`
	PeakAt         time.Time `json:"peak_at,omitzero"`
	PeakShare      float64   `json:"peak_share"` // the peak over the red threshold
	Alerts         int       `json:"alerts"`
	RestoredAt     time.Time `json:"restored_at,omitzero"`
	RestoreMinutes float64   `json:"restore_minutes"` // from the first post-event task's release to restoration; 0 when not restored
}

// TaskReport is one task in the after-event report.
type TaskReport struct {
	Task
	Run     TaskRun `json:"run"`
	Minutes float64 `json:"minutes"` // from release to done; 0 when not done
	OnTime  bool    `json:"on_time"` // done within its limit
}

// EventReport is the after-event report.
type EventReport struct {
	Operation Operation    `json:"operation"`
	Areas     []AreaReport `json:"areas"`
	Alerts    []Alert      `json:"alerts"`
	Tasks     []TaskReport `json:"tasks"`
	Timeline  []Event      `json:"timeline"`
}

// BuildReport computes the after-event report from the areas' states, the
// tasks' runs, the alerts and the recorded events.
func BuildReport(o Operation, states map[string]AreaState, runs map[string]TaskRun, alerts []Alert, events []Event) EventReport {
	r := EventReport{Operation: o, Alerts: append([]Alert{}, alerts...), Timeline: append([]Event{}, events...)}
	sort.SliceStable(r.Alerts, func(i, j int) bool { return r.Alerts[i].OpenedAt.Before(r.Alerts[j].OpenedAt) })
	names := map[string]string{}
	for _, a := range o.Areas {
		names[a.Key] = a.Name
	}
	for _, al := range r.Alerts {
		what := names[al.Area] + al.Level.Label() + "告警"
		if al.CaseNumber != "" {
			what += "，立案" + al.CaseNumber
		}
		r.Timeline = append(r.Timeline, Event{At: al.OpenedAt, Kind: "alert", Area: al.Area, CaseID: al.CaseID, Text: what})
		if !al.ClearedAt.IsZero() {
			r.Timeline = append(r.Timeline, Event{At: al.ClearedAt, Kind: "alert_cleared", Area: al.Area, CaseID: al.CaseID,
				Text: names[al.Area] + al.Level.Label() + "解除"})
		}
	}
	sort.SliceStable(r.Timeline, func(i, j int) bool { return r.Timeline[i].At.Before(r.Timeline[j].At) })
	for _, a := range o.Areas {
		st := states[a.Key]
		ar := AreaReport{Key: a.Key, Name: a.Name, Yellow: a.Yellow, Red: a.Red, Peak: st.Peak, PeakAt: st.PeakAt, RestoredAt: st.RestoredAt}
		if a.Red > 0 {
			ar.PeakShare = round(st.Peak/a.Red, 3)
		}
		for _, al := range alerts {
			if al.Area == a.Key {
				ar.Alerts++
			}
		}
		if !st.RestoredAt.IsZero() {
			var first time.Time
			for _, t := range o.Tasks {
				if t.Area != a.Key || !t.PostEvent() {
					continue
				}
				if rel := runs[t.ID].ReleasedAt; !rel.IsZero() && (first.IsZero() || rel.Before(first)) {
					first = rel
				}
			}
			if !first.IsZero() {
				ar.RestoreMinutes = round(st.RestoredAt.Sub(first).Minutes(), 1)
			}
		}
		r.Areas = append(r.Areas, ar)
	}
	tasks := append([]Task{}, o.Tasks...)
	SortTasks(tasks)
	for _, t := range tasks {
		run := runs[t.ID]
		tr := TaskReport{Task: t, Run: run}
		if run.State == Done && !run.DoneAt.IsZero() && !run.ReleasedAt.IsZero() {
			tr.Minutes = round(run.DoneAt.Sub(run.ReleasedAt).Minutes(), 1)
			tr.OnTime = run.DoneAt.Sub(run.ReleasedAt) <= time.Duration(t.LimitMinutes)*time.Minute
		}
		r.Tasks = append(r.Tasks, tr)
	}
	return r
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}
