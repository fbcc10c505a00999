package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/operation"
	"zhizhi/internal/sensors"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// Big-event operations (大型活动, issue 16, S3; docs/sensors.md). An
// operation's areas are watched by two area-sum sensor rules each (yellow
// and red), so an alert is an incident of the existing rules' machinery:
// one case per incident, noted while it holds and when it clears. The
// operation loop (OperationTick, every node, each sensor tick) follows
// each area's crowd level, releases the prepared tasks as cases dispatched
// with their own limits (each claimed in the report's own write, so once
// over every node and across restarts), notes when they are done and
// records the moment each area is restored.

// operationActor is the operation's commander, in whose name its tasks are
// reported, accepted and dispatched (prepared orders signed in advance).
func operationActor(op operation.Operation) cases.Actor {
	return cases.Actor{AccountID: op.Owner, Name: op.OwnerName, Role: cases.RoleCommander, RegionPath: op.RegionPath}
}

// canSeeOperation: commanders, leaders and administrators whose region
// holds the operation's or lies inside it; unit staff of a unit with a task
// or a person on duty in it.
func canSeeOperation(actor cases.Actor, op operation.Operation) bool {
	switch actor.Role {
	case cases.RoleSystem:
		return true
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		return actor.RegionPath != "" && (strings.HasPrefix(op.RegionPath, actor.RegionPath) || strings.HasPrefix(actor.RegionPath, op.RegionPath))
	case cases.RoleUnit:
		for _, t := range op.Tasks {
			if t.Unit == actor.UnitID {
				return true
			}
		}
		for _, a := range op.Areas {
			for _, d := range a.Duty {
				if d.Unit != "" && d.Unit == actor.UnitID {
					return true
				}
			}
		}
	}
	return false
}

// CanPlanOperations reports whether the actor may plan operations: the
// commanders (a district's or a street's command center).
func CanPlanOperations(actor cases.Actor) bool {
	return actor.Role == cases.RoleCommander && actor.RegionPath != ""
}

// CanChangeOperation reports whether the actor may save a new version of
// an operation: a commander of its center or of a center above it.
func CanChangeOperation(actor cases.Actor, op operation.Operation) bool {
	return CanPlanOperations(actor) && strings.HasPrefix(op.RegionPath, actor.RegionPath)
}

// SaveOperation creates an operation (op.Version 0) or saves the next
// version of one (op.Version: the version the caller saw). Commanders
// plan them: a new one is their center's and is released in their name;
// a commander of that center or above may change it. Every problem is
// named by its field; nothing is stored then.
func (s *Service) SaveOperation(ctx context.Context, actor cases.Actor, op operation.Operation) (operation.Operation, error) {
	if actor.Role != cases.RoleCommander {
		return op, apperr.New(apperr.Forbidden, "大型活动由指挥中心制定")
	}
	expect := op.Version
	var before *operation.Operation
	if expect > 0 {
		old, err := s.db.Operation(ctx, op.ID)
		if errors.Is(err, store.ErrNotFound) {
			return op, apperr.New(apperr.NotFound, "活动不存在")
		} else if err != nil {
			return op, err
		}
		if !CanChangeOperation(actor, old) {
			return op, apperr.New(apperr.Forbidden, "只有本中心或上级指挥中心可以修改该活动")
		}
		op.RegionPath, op.Owner, op.OwnerName = old.RegionPath, old.Owner, old.OwnerName
		before = &old
	} else {
		if op.ID != "" && !operation.ValidKey(op.ID) && !sensors.ValidCode(op.ID) {
			return op, apperr.Field("id", "活动编号无效")
		}
		if op.ID == "new" {
			// /operations/new is the console's planning form.
			return op, apperr.Field("id", "活动编号不能为 new")
		}
		if op.ID == "" {
			op.ID = id.New()
		}
		op.RegionPath, op.Owner, op.OwnerName = actor.RegionPath, actor.AccountID, actor.Name
	}
	if len(op.ID) > 30 {
		return op, apperr.Field("id", "活动编号不能超过30个字符")
	}
	op.Normalize()
	var f apperr.Fields
	f.Merge(op.Check())
	if op.Kind != "" {
		kinds, err := s.db.DeviceKinds(ctx)
		if err != nil {
			return op, err
		}
		found := false
		for _, k := range kinds {
			found = found || k.Code == op.Kind
		}
		if !found {
			f.Add("kind", "设备类型不存在")
		}
	}
	category := func(field, code string) {
		if code == "" {
			return
		}
		c, ok := s.Category(code)
		switch {
		case !ok:
			f.Add(field, "类别不存在")
		case !c.Active:
			f.Add(field, "类别已停用")
		default:
			for _, q := range c.Questions {
				if q.Required {
					f.Add(field, "该类别有必答问题，无法自动立案，请选择其他类别")
					return
				}
			}
		}
	}
	category("alert_category", op.AlertCategory)
	for i, t := range op.Tasks {
		category(fmt.Sprintf("tasks[%d].category", i), t.Category)
		if t.Unit != "" {
			if u, ok := s.Unit(t.Unit); !ok || !u.Dispatchable() {
				f.Add(fmt.Sprintf("tasks[%d].unit", i), "承办单位不存在、已停用或不能直接承办")
			}
		}
	}
	for i, a := range op.Areas {
		// Its tasks' cases are placed at the area's centre and handled in
		// the commander's name: the area must lie in the center's region.
		if len(a.Shape) > 0 && a.Shape.Validate() == nil {
			c := a.Shape.Centroid()
			code, ok := s.Locate(c)
			path, _ := s.RegionPath(code)
			if !ok || !strings.HasPrefix(path, op.RegionPath) {
				f.Add(fmt.Sprintf("areas[%d].shape", i), "区域不在本指挥中心的辖区内")
			}
		}
		for j, d := range a.Duty {
			if d.Unit != "" {
				if _, ok := s.Unit(d.Unit); !ok {
					f.Add(fmt.Sprintf("areas[%d].duty[%d].unit", i, j), "单位不存在")
				}
			}
		}
	}
	if err := f.Err(); err != nil {
		return op, err
	}
	now := s.Now()
	var saved operation.Operation
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		saved, err = tx.PutOperation(ctx, op, expect, now)
		if errors.Is(err, store.ErrConflict) {
			if expect == 0 {
				return apperr.Field("id", "活动编号已存在")
			}
			return apperr.New(apperr.Conflict, "活动已被他人修改，请刷新后重试")
		} else if err != nil {
			return err
		}
		var b any
		if before != nil {
			b = *before
		}
		return tx.Audit(ctx, s.auditEntry(actor, "operation", op.ID, before != nil, b, saved))
	})
	if err != nil {
		return op, err
	}
	return saved, s.syncOperationRules(ctx, saved, now)
}

// alertRules are the sensor rules that raise an operation's alerts: per
// area, an area sum of its crowd counters at the yellow line (normal
// severity) and at the red line (urgent), each clearing 5% below its line
// after 5 minutes. They are active while the operation is watched.
func alertRules(op operation.Operation, now time.Time) []sensors.Rule {
	var out []sensors.Rule
	for _, a := range op.Areas {
		for _, lv := range []operation.Level{operation.Yellow, operation.Red} {
			line, sev := a.Yellow, sla.Normal
			if lv == operation.Red {
				line, sev = a.Red, sla.Urgent
			}
			out = append(out, sensors.Rule{ID: operation.AlertRuleID(op.ID, a.Key, lv), Name: op.Name + "·" + a.Name + lv.Label(),
				Type: sensors.AreaSum, Kind: op.Kind, Area: a.Key, Raise: line, Clear: line * (1 - operation.Hysteresis),
				ClearMinutes: 5, UpdateMinutes: 10, Category: op.AlertCategory, Severity: sev, Active: op.Watched(now)})
		}
	}
	return out
}

// syncOperationRules saves the operation's alert rules that differ from
// those in force (a new area, a new line, the window opening or closing),
// and deactivates those of areas it no longer has. Another node saving the
// same version first is no failure.
func (s *Service) syncOperationRules(ctx context.Context, op operation.Operation, now time.Time) error {
	have, err := s.db.SensorRules(ctx)
	if err != nil {
		return err
	}
	byID := map[string]sensors.Rule{}
	for _, r := range have {
		byID[r.ID] = r
	}
	want := alertRules(op, now)
	keep := map[string]bool{}
	prefix := "op-" + op.ID + "-"
	for _, r := range have {
		if strings.HasPrefix(r.ID, prefix) && r.Active {
			keep[r.ID] = false
		}
	}
	var save []sensors.Rule
	for _, r := range want {
		keep[r.ID] = true
		if old, ok := byID[r.ID]; ok {
			r.Version = old.Version
			if old == r {
				continue
			}
		}
		save = append(save, r)
	}
	for rid, kept := range keep {
		if !kept {
			r := byID[rid]
			r.Active = false
			save = append(save, r)
		}
	}
	for _, r := range save {
		if _, err := s.saveSensorRule(ctx, cases.System, r); err != nil && !apperr.Is(err, apperr.Conflict) {
			return fmt.Errorf("operation %s rule %s: %w", op.ID, r.ID, err)
		}
	}
	// Rules saved by another process on the same SQLite file (a replay's
	// simulator) reach no listener: the node's engine is reloaded when it
	// does not run the rules the database has.
	if st := s.sens.Load(); st != nil && len(save) == 0 {
		st.mu.Lock()
		stale := false
		for _, r := range want {
			if have, ok := byID[r.ID]; ok && st.rules[r.ID] != have {
				stale = true
			}
		}
		st.mu.Unlock()
		if stale {
			return s.reloadSensors(ctx)
		}
	}
	return nil
}

// Operations lists the operations the actor may see, latest first.
func (s *Service) Operations(ctx context.Context, actor cases.Actor) ([]operation.Operation, error) {
	all, err := s.db.Operations(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	out := []operation.Operation{}
	for _, op := range all {
		if canSeeOperation(actor, op) {
			out = append(out, op)
		}
	}
	return out, nil
}

// Operation reads one operation in the actor's sight.
func (s *Service) Operation(ctx context.Context, actor cases.Actor, opID string) (operation.Operation, error) {
	op, err := s.db.Operation(ctx, opID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !canSeeOperation(actor, op) {
		return op, apperr.New(apperr.NotFound, "活动不存在")
	}
	return op, err
}

// BoardArea is an area on the operations board.
type BoardArea struct {
	operation.AreaState
	Name   string           `json:"name"`
	Yellow float64          `json:"yellow"`
	Red    float64          `json:"red"`
	Share  float64          `json:"share"` // the crowd over the red line
	Duty   []operation.Duty `json:"duty"`
}

// BoardTask is a prepared task on the board: its release, its case and the
// case's clock for the unit.
type BoardTask struct {
	operation.Task
	UnitName   string            `json:"unit_name"`
	Run        operation.TaskRun `json:"run"`
	CaseNumber string            `json:"case_number,omitempty"`
	CaseState  string            `json:"case_state,omitempty"`
	Due        time.Time         `json:"due,omitzero"` // the unit's handling deadline
	Overdue    bool              `json:"overdue"`
}

// OperationBoard is the live operations board.
type OperationBoard struct {
	Operation operation.Operation `json:"operation"`
	Phase     string              `json:"phase"`
	At        time.Time           `json:"at"`
	Areas     []BoardArea         `json:"areas"`
	Alerts    []operation.Alert   `json:"alerts"`
	Tasks     []BoardTask         `json:"tasks"`
}

// Board returns the operation's board: each area's crowd (this node's
// engine's area sum while the operation is watched, so it follows the
// readings as they are committed; the last recorded value otherwise)
// against its lines, the alerts with their cases, the tasks with their
// cases' clocks, the people on duty and the restoration times.
func (s *Service) Board(ctx context.Context, actor cases.Actor, opID string) (OperationBoard, error) {
	op, err := s.Operation(ctx, actor, opID)
	if err != nil {
		return OperationBoard{}, err
	}
	now := s.Now()
	b := OperationBoard{Operation: op, Phase: op.Phase(now), At: now, Areas: []BoardArea{}, Tasks: []BoardTask{}}
	states, err := s.db.OperationAreas(ctx, op.ID)
	if err != nil {
		return b, err
	}
	for _, a := range op.Areas {
		st := states[a.Key]
		st.Area = a.Key
		if st.Level == "" {
			st.Level = operation.Green
		}
		if op.Watched(now) {
			v, err := s.AreaSum(ctx, a.Key, op.Kind)
			if err != nil {
				return b, err
			}
			st, _ = a.Step(st, v, now)
		}
		ba := BoardArea{AreaState: st, Name: a.Name, Yellow: a.Yellow, Red: a.Red, Duty: a.Duty}
		if ba.Duty == nil {
			ba.Duty = []operation.Duty{}
		}
		if a.Red > 0 {
			ba.Share = float64(int(st.Value/a.Red*1000)) / 1000
		}
		b.Areas = append(b.Areas, ba)
	}
	if b.Alerts, err = s.operationAlerts(ctx, op); err != nil {
		return b, err
	}
	runs, err := s.db.OperationTasks(ctx, op.ID)
	if err != nil {
		return b, err
	}
	tasks := append([]operation.Task{}, op.Tasks...)
	operation.SortTasks(tasks)
	for _, t := range tasks {
		bt := BoardTask{Task: t, Run: runs[t.ID]}
		if u, ok := s.Unit(t.Unit); ok {
			bt.UnitName = u.Name
		}
		if bt.Run.CaseID != "" {
			if c, err := s.db.Case(ctx, bt.Run.CaseID); err == nil {
				bt.CaseNumber, bt.CaseState = c.Number, c.State.Label()
				if i := unitTask(&c, t.Unit); i >= 0 {
					h := c.Tasks[i].Handle
					bt.Due = h.Due
					bt.Overdue = h.Status(now) == sla.Red || c.Tasks[i].FedBackAt.After(h.Due) && !h.Due.IsZero()
				}
			}
		}
		b.Tasks = append(b.Tasks, bt)
	}
	return b, nil
}

// unitTask is the index of the unit's lead task on the case (the last
// one), or -1.
func unitTask(c *cases.Case, unit string) int {
	at := -1
	for i, t := range c.Tasks {
		if t.UnitID == unit && t.Role == cases.Lead {
			at = i
		}
	}
	return at
}

// operationAlerts are the incidents of the operation's alert rules.
func (s *Service) operationAlerts(ctx context.Context, op operation.Operation) ([]operation.Alert, error) {
	out := []operation.Alert{}
	for _, a := range op.Areas {
		for _, lv := range []operation.Level{operation.Yellow, operation.Red} {
			rows, err := s.db.Incidents(ctx, store.IncidentFilter{Rule: operation.AlertRuleID(op.ID, a.Key, lv)})
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				al := operation.Alert{Area: a.Key, Level: lv, OpenedAt: r.Incident.OpenedAt, ClearedAt: r.ClearedAt,
					Value: r.Incident.Value, Peak: r.Incident.Peak, CaseID: r.Incident.CaseID}
				if al.CaseID != "" {
					if c, err := s.db.Case(ctx, al.CaseID); err == nil {
						al.CaseNumber = c.Number
					}
				}
				out = append(out, al)
			}
		}
	}
	return out, nil
}

// OperationTasks returns the release status of the operation's tasks.
func (s *Service) OperationTasks(ctx context.Context, actor cases.Actor, opID string) ([]BoardTask, error) {
	b, err := s.Board(ctx, actor, opID)
	return b.Tasks, err
}

// OperationReport is the after-event report.
func (s *Service) OperationReport(ctx context.Context, actor cases.Actor, opID string) (operation.EventReport, error) {
	op, err := s.Operation(ctx, actor, opID)
	if err != nil {
		return operation.EventReport{}, err
	}
	states, err := s.db.OperationAreas(ctx, op.ID)
	if err != nil {
		return operation.EventReport{}, err
	}
	runs, err := s.db.OperationTasks(ctx, op.ID)
	if err != nil {
		return operation.EventReport{}, err
	}
	alerts, err := s.operationAlerts(ctx, op)
	if err != nil {
		return operation.EventReport{}, err
	}
	events, err := s.db.OperationEvents(ctx, op.ID)
	if err != nil {
		return operation.EventReport{}, err
	}
	return operation.BuildReport(op, states, runs, alerts, events), nil
}

// OperationTick runs the operation loop once on this node: for every
// operation not ended a day ago, its alert rules follow its window, its
// areas' levels follow the crowd, due tasks are released and dispatched,
// done tasks noted and restored areas recorded. Every step is a
// conditional write, so nodes ticking together do each thing once.
func (s *Service) OperationTick(ctx context.Context) error {
	now := s.Now()
	ops, err := s.db.Operations(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	var first error
	for _, op := range ops {
		if now.Before(op.Start.Add(-2 * time.Hour)) {
			continue
		}
		if err := s.tickOperation(ctx, op, now); err != nil {
			s.log.Error("operation tick", "operation", op.ID, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (s *Service) tickOperation(ctx context.Context, op operation.Operation, now time.Time) error {
	if err := s.syncOperationRules(ctx, op, now); err != nil {
		return err
	}
	states, err := s.db.OperationAreas(ctx, op.ID)
	if err != nil {
		return err
	}
	if op.Watched(now) {
		for _, a := range op.Areas {
			v, err := s.AreaSum(ctx, a.Key, op.Kind)
			if err != nil {
				return err
			}
			prev := states[a.Key]
			if prev.Level == "" {
				prev.Level = operation.Green
			}
			st, ch := a.Step(prev, v, now)
			if ch == nil && st.Value == prev.Value && !prev.At.IsZero() {
				continue
			}
			err = s.db.Write(ctx, func(tx *store.Tx) error {
				ok, err := tx.SaveAreaState(ctx, op.ID, st, prev.Level)
				if err != nil || !ok || ch == nil {
					return err
				}
				verb := "升至"
				if !ch.Up() {
					verb = "降至"
				}
				return tx.AddOperationEvent(ctx, op.ID, operation.Event{At: now, Kind: "level", Area: a.Key,
					Text: fmt.Sprintf("%s客流%.0f人，%s%s", a.Name, v, verb, ch.To.Label())})
			})
			if err != nil {
				return err
			}
			states[a.Key] = st
		}
	}
	runs, err := s.db.OperationTasks(ctx, op.ID)
	if err != nil {
		return err
	}
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, t := range op.Tasks {
		run, ok := runs[t.ID]
		if !ok {
			continue
		}
		if operation.Due(op, t, run, states[t.Area].Level, now) {
			keep(s.releaseTask(ctx, op, t, now))
		}
	}
	if runs, err = s.db.OperationTasks(ctx, op.ID); err != nil {
		return err
	}
	for _, t := range op.Tasks {
		switch run := runs[t.ID]; run.State {
		case operation.Released:
			keep(s.dispatchTask(ctx, op, t, run))
		case operation.Dispatched:
			keep(s.followTask(ctx, op, t, run))
		}
	}
	if runs, err = s.db.OperationTasks(ctx, op.ID); err != nil {
		return err
	}
	for _, a := range op.Areas {
		if !states[a.Key].RestoredAt.IsZero() {
			continue
		}
		when, ok := operation.Restored(op, a.Key, runs)
		if !ok {
			continue
		}
		keep(s.db.Write(ctx, func(tx *store.Tx) error {
			ok, err := tx.RestoreArea(ctx, op.ID, a.Key, when)
			if err != nil || !ok {
				return err
			}
			return tx.AddOperationEvent(ctx, op.ID, operation.Event{At: when, Kind: "restored", Area: a.Key, Text: a.Name + "收尾任务全部完成，区域恢复"})
		}))
	}
	return first
}

var errTaskTaken = errors.New("task released elsewhere")

// releaseTask reports a due task's case in the commander's name, claiming
// the task in the same write: a task released by another node makes no
// case, and a retry of a release whose answer was lost finds its case by
// the client reference.
func (s *Service) releaseTask(ctx context.Context, op operation.Operation, t operation.Task, now time.Time) error {
	area, _ := op.Area(t.Area)
	pt := area.Shape.Centroid()
	desc := fmt.Sprintf("【大型活动·预置任务】%s：%s（%s），须在%d分钟内完成。", op.Name, t.Title, area.Name, t.LimitMinutes)
	if t.Description != "" {
		desc += t.Description
	}
	rep := cases.Report{Source: cases.SourceOperation, Reporter: cases.Reporter{AccountID: op.Owner, Name: op.OwnerName},
		Category: t.Category, Severity: sla.Urgent, Description: desc, ClientRef: "op-" + op.ID + "-" + t.ID,
		Extra: []cases.Extra{{Key: "operation", Value: op.ID}, {Key: "operation_task", Value: t.ID}, {Key: "operation_area", Value: t.Area}}}
	if pt.Valid() {
		rep.Point = &pt
	} else {
		rep.Address = area.Name
	}
	why := "按时下达"
	if t.Trigger == operation.OnRed {
		why = area.Name + "红色预警触发"
	}
	_, _, err := s.report(ctx, operationActor(op), rep, nil, func(tx *store.Tx, c *cases.Case) error {
		ok, err := tx.ClaimTaskRelease(ctx, op.ID, t.ID, c.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return errTaskTaken
		}
		return tx.AddOperationEvent(ctx, op.ID, operation.Event{At: now, Kind: "released", Area: t.Area, CaseID: c.ID,
			Text: fmt.Sprintf("下达“%s”（%s），案件%s", t.Title, why, c.Number)})
	})
	if errors.Is(err, errTaskTaken) {
		return nil
	}
	if err != nil {
		s.taskError(ctx, op, t, "下达失败："+err.Error())
		return fmt.Errorf("release %s/%s: %w", op.ID, t.ID, err)
	}
	return nil
}

func (s *Service) taskError(ctx context.Context, op operation.Operation, t operation.Task, msg string) {
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.TaskError(ctx, op.ID, t.ID, msg) }); err != nil {
		s.log.Error("operation task error", "operation", op.ID, "task", t.ID, "err", err)
	}
}

// dispatchTask accepts a released task's case and dispatches it to the
// task's unit with the task's limit (the unit's sign and handle clocks),
// in the commander's name; then the task is dispatched.
func (s *Service) dispatchTask(ctx context.Context, op operation.Operation, t operation.Task, run operation.TaskRun) error {
	actor := operationActor(op)
	for range 3 {
		c, err := s.db.Case(ctx, run.CaseID)
		if err != nil {
			return err
		}
		var cmd cases.Command
		switch c.State {
		case cases.Reported:
			cmd = cases.Command{Action: cases.ActAccept}
		case cases.Accepted:
			cmd = cases.Command{Action: cases.ActDispatch, Lead: t.Unit, TaskLimit: sla.Limit{Amount: t.LimitMinutes, Unit: sla.Minutes},
				Note: fmt.Sprintf("大型活动预置任务，限%d分钟", t.LimitMinutes)}
		default:
			at := s.Now()
			if i := unitTask(&c, t.Unit); i >= 0 {
				at = c.Tasks[i].DispatchedAt
			}
			return s.db.Write(ctx, func(tx *store.Tx) error {
				ok, err := tx.MoveTask(ctx, op.ID, t.ID, operation.Released, operation.Dispatched, at)
				if err != nil || !ok {
					return err
				}
				u, _ := s.Unit(t.Unit)
				return tx.AddOperationEvent(ctx, op.ID, operation.Event{At: at, Kind: "dispatched", Area: t.Area, CaseID: c.ID,
					Text: fmt.Sprintf("“%s”派至%s，限%d分钟", t.Title, u.Name, t.LimitMinutes)})
			})
		}
		if _, _, err := s.Act(ctx, actor, c.ID, cmd, c.Version); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				continue // another node moved it: read it again
			}
			s.taskError(ctx, op, t, "派遣失败："+err.Error())
			return fmt.Errorf("dispatch %s/%s: %w", op.ID, t.ID, err)
		}
	}
	return nil
}

// followTask notes a dispatched task done when its unit fed back (or its
// case closed).
func (s *Service) followTask(ctx context.Context, op operation.Operation, t operation.Task, run operation.TaskRun) error {
	c, err := s.db.Case(ctx, run.CaseID)
	if err != nil {
		return err
	}
	var done time.Time
	if i := unitTask(&c, t.Unit); i >= 0 && !c.Tasks[i].FedBackAt.IsZero() {
		done = c.Tasks[i].FedBackAt
	} else if c.State == cases.Closed || c.State == cases.Merged || c.State == cases.Rejected {
		done = c.ClosedAt
	}
	if done.IsZero() {
		return nil
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		ok, err := tx.MoveTask(ctx, op.ID, t.ID, operation.Dispatched, operation.Done, done)
		if err != nil || !ok {
			return err
		}
		mins := done.Sub(run.ReleasedAt).Minutes()
		return tx.AddOperationEvent(ctx, op.ID, operation.Event{At: done, Kind: "done", Area: t.Area, CaseID: c.ID,
			Text: fmt.Sprintf("“%s”完成，用时%.1f分钟（时限%d分钟）", t.Title, mins, t.LimitMinutes)})
	})
}
