package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"zhizhi/internal/id"
	"zhizhi/internal/operation"
)

// PutOperation stores an operation: a new one when expect is 0, else the
// next version of the one at version expect (ErrConflict if it moved). Its
// areas get their rows (kept with their state when already there); its
// tasks get theirs, a task not yet released taking its new area and
// moment, a task dropped from the operation losing its row unless
// released. The operation is returned with its new version.
func (t *Tx) PutOperation(ctx context.Context, op operation.Operation, expect int, now time.Time) (operation.Operation, error) {
	op.Version = expect + 1
	op.UpdatedAt = now
	doc, err := json.Marshal(op)
	if err != nil {
		return op, err
	}
	if expect == 0 {
		_, err = t.Exec(ctx, `INSERT INTO operations (id, name, starts_at, ends_at, region_path, version, updated_at, doc) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			op.ID, op.Name, ms(op.Start), ms(op.End), op.RegionPath, op.Version, ms(now), string(doc))
		if errors.Is(translate(err), ErrConflict) {
			return op, ErrConflict
		}
	} else {
		var res interface{ RowsAffected() (int64, error) }
		res, err = t.Exec(ctx, `UPDATE operations SET name = $2, starts_at = $3, ends_at = $4, region_path = $5, version = $6, updated_at = $7, doc = $8 WHERE id = $1 AND version = $9`,
			op.ID, op.Name, ms(op.Start), ms(op.End), op.RegionPath, op.Version, ms(now), string(doc), expect)
		if err == nil {
			if n, _ := res.RowsAffected(); n != 1 {
				return op, ErrConflict
			}
		}
	}
	if err != nil {
		return op, fmt.Errorf("put operation: %w", translate(err))
	}
	for _, a := range op.Areas {
		if _, err := t.Exec(ctx, `INSERT INTO operation_areas (operation_id, area) VALUES ($1, $2) ON CONFLICT DO NOTHING`, op.ID, a.Key); err != nil {
			return op, fmt.Errorf("put operation area: %w", err)
		}
	}
	keep := map[string]bool{}
	for _, tk := range op.Tasks {
		keep[tk.ID] = true
		if _, err := t.Exec(ctx, `INSERT INTO operation_tasks (operation_id, task_id, area, state, release_at) VALUES ($1,$2,$3,'prepared',$4)
			ON CONFLICT (operation_id, task_id) DO UPDATE SET area = excluded.area, release_at = excluded.release_at WHERE operation_tasks.state = 'prepared'`,
			op.ID, tk.ID, tk.Area, ms0(tk.At)); err != nil {
			return op, fmt.Errorf("put operation task: %w", err)
		}
	}
	rows, err := t.Query(ctx, `SELECT task_id FROM operation_tasks WHERE operation_id = $1 AND state = 'prepared'`, op.ID)
	if err != nil {
		return op, fmt.Errorf("operation tasks: %w", err)
	}
	var drop []string
	for rows.Next() {
		var tid string
		if err := rows.Scan(&tid); err != nil {
			rows.Close()
			return op, err
		}
		if !keep[tid] {
			drop = append(drop, tid)
		}
	}
	rows.Close()
	for _, tid := range drop {
		if _, err := t.Exec(ctx, `DELETE FROM operation_tasks WHERE operation_id = $1 AND task_id = $2 AND state = 'prepared'`, op.ID, tid); err != nil {
			return op, fmt.Errorf("drop operation task: %w", err)
		}
	}
	return op, nil
}

// Operation reads one operation.
func (db *DB) Operation(ctx context.Context, opID string) (operation.Operation, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM operations WHERE id = $1`, opID).Scan(&doc)
	if err != nil {
		return operation.Operation{}, translate(err)
	}
	var op operation.Operation
	return op, json.Unmarshal([]byte(doc), &op)
}

// Operations lists the operations, latest start first; with since set,
// only those that ended after it.
func (db *DB) Operations(ctx context.Context, since time.Time) ([]operation.Operation, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM operations WHERE ends_at > $1 ORDER BY starts_at DESC, id DESC`, ms0(since))
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", translate(err))
	}
	defer rows.Close()
	var out []operation.Operation
	for rows.Next() {
		var doc string
		var op operation.Operation
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &op); err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	return out, rows.Err()
}

func tm(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// OperationAreas reads the state of an operation's areas by key.
func (db *DB) OperationAreas(ctx context.Context, opID string) (map[string]operation.AreaState, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT area, level, value, since, peak, peak_at, at, restored_at FROM operation_areas WHERE operation_id = $1`, opID)
	if err != nil {
		return nil, fmt.Errorf("operation areas: %w", translate(err))
	}
	defer rows.Close()
	out := map[string]operation.AreaState{}
	for rows.Next() {
		var st operation.AreaState
		var level string
		var since, peakAt, at, restored int64
		if err := rows.Scan(&st.Area, &level, &st.Value, &since, &st.Peak, &peakAt, &at, &restored); err != nil {
			return nil, err
		}
		st.Level, st.Since, st.PeakAt, st.At, st.RestoredAt = operation.Level(level), tm(since), tm(peakAt), tm(at), tm(restored)
		out[st.Area] = st
	}
	return out, rows.Err()
}

// SaveAreaState writes an area's new value and level, provided its level
// is still from (another node may have moved it first: then nothing is
// written and changed is false). The peak only ever rises.
func (t *Tx) SaveAreaState(ctx context.Context, opID string, st operation.AreaState, from operation.Level) (bool, error) {
	res, err := t.Exec(ctx, `UPDATE operation_areas SET level = $3, value = $4, since = $5, at = $6,
		peak = CASE WHEN peak < $7 OR peak_at = 0 THEN $7 ELSE peak END,
		peak_at = CASE WHEN peak < $7 OR peak_at = 0 THEN $8 ELSE peak_at END
		WHERE operation_id = $1 AND area = $2 AND level = $9`,
		opID, st.Area, string(st.Level), st.Value, ms0(st.Since), ms0(st.At), st.Peak, ms0(st.PeakAt), string(from))
	if err != nil {
		return false, fmt.Errorf("save area state: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RestoreArea records the moment an area was restored, once.
func (t *Tx) RestoreArea(ctx context.Context, opID, area string, at time.Time) (bool, error) {
	res, err := t.Exec(ctx, `UPDATE operation_areas SET restored_at = $3 WHERE operation_id = $1 AND area = $2 AND restored_at = 0`, opID, area, ms(at))
	if err != nil {
		return false, fmt.Errorf("restore area: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// OperationTasks reads the release records of an operation's tasks by ID.
func (db *DB) OperationTasks(ctx context.Context, opID string) (map[string]operation.TaskRun, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT task_id, area, state, release_at, case_id, released_at, dispatched_at, done_at, error FROM operation_tasks WHERE operation_id = $1`, opID)
	if err != nil {
		return nil, fmt.Errorf("operation tasks: %w", translate(err))
	}
	defer rows.Close()
	out := map[string]operation.TaskRun{}
	for rows.Next() {
		var r operation.TaskRun
		var state string
		var rel, released, disp, done int64
		if err := rows.Scan(&r.Task, &r.Area, &state, &rel, &r.CaseID, &released, &disp, &done, &r.Error); err != nil {
			return nil, err
		}
		r.State, r.ReleaseAt, r.ReleasedAt, r.DispatchedAt, r.DoneAt = operation.TaskState(state), tm(rel), tm(released), tm(disp), tm(done)
		out[r.Task] = r
	}
	return out, rows.Err()
}

// ClaimTaskRelease marks a prepared task released with its case, in the
// transaction that reports the case: false when it is no longer prepared
// (released by another node), and then the caller must write nothing.
func (t *Tx) ClaimTaskRelease(ctx context.Context, opID, taskID, caseID string, at time.Time) (bool, error) {
	res, err := t.Exec(ctx, `UPDATE operation_tasks SET state = 'released', case_id = $3, released_at = $4, error = '' WHERE operation_id = $1 AND task_id = $2 AND state = 'prepared'`,
		opID, taskID, caseID, ms(at))
	if err != nil {
		return false, fmt.Errorf("claim task: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MoveTask moves a task from one state to the next (dispatched or done)
// at a moment, provided it is still in from.
func (t *Tx) MoveTask(ctx context.Context, opID, taskID string, from, to operation.TaskState, at time.Time) (bool, error) {
	col := "dispatched_at"
	if to == operation.Done {
		col = "done_at"
	}
	res, err := t.Exec(ctx, `UPDATE operation_tasks SET state = $4, `+col+` = $5, error = '' WHERE operation_id = $1 AND task_id = $2 AND state = $3`,
		opID, taskID, string(from), string(to), ms(at))
	if err != nil {
		return false, fmt.Errorf("move task: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// TaskError records why a task could not be released or dispatched (it is
// tried again at the next tick).
func (t *Tx) TaskError(ctx context.Context, opID, taskID, msg string) error {
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := t.Exec(ctx, `UPDATE operation_tasks SET error = $3 WHERE operation_id = $1 AND task_id = $2`, opID, taskID, msg)
	return err
}

// AddOperationEvent appends an entry to an operation's timeline.
func (t *Tx) AddOperationEvent(ctx context.Context, opID string, ev operation.Event) error {
	_, err := t.Exec(ctx, `INSERT INTO operation_events (id, operation_id, at, kind, area, text, case_id) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		id.At(ev.At), opID, ms(ev.At), ev.Kind, ev.Area, ev.Text, ev.CaseID)
	if err != nil {
		return fmt.Errorf("operation event: %w", err)
	}
	return nil
}

// OperationEvents reads an operation's timeline in time order.
func (db *DB) OperationEvents(ctx context.Context, opID string) ([]operation.Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT at, kind, area, text, case_id FROM operation_events WHERE operation_id = $1 ORDER BY at, id`, opID)
	if err != nil {
		return nil, fmt.Errorf("operation events: %w", translate(err))
	}
	defer rows.Close()
	var out []operation.Event
	for rows.Next() {
		var ev operation.Event
		var at int64
		if err := rows.Scan(&at, &ev.Kind, &ev.Area, &ev.Text, &ev.CaseID); err != nil {
			return nil, err
		}
		ev.At = tm(at)
		out = append(out, ev)
	}
	return out, rows.Err()
}
