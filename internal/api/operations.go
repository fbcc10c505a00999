package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
	"zhizhi/internal/operation"
	"zhizhi/internal/service"
)

// operationInput is an operation as posted: the areas' shapes are read
// one by one, so a bad polygon is named by its area (areas[1].shape).
type operationInput struct {
	ID            string      `json:"id"`
	Version       int         `json:"version"`
	Name          string      `json:"name"`
	Start         string      `json:"start"`
	End           string      `json:"end"`
	Kind          string      `json:"kind"`
	AlertCategory string      `json:"alert_category"`
	Areas         []areaInput `json:"areas"`
	Tasks         []taskInput `json:"tasks"`
}

// taskInput is a prepared task as posted (its moment read by itself, so a
// bad one is named tasks[N].at).
type taskInput struct {
	ID           string            `json:"id"`
	Area         string            `json:"area"`
	Title        string            `json:"title"`
	Description  string            `json:"description"`
	Category     string            `json:"category"`
	Unit         string            `json:"unit"`
	At           string            `json:"at"`
	Trigger      operation.Trigger `json:"trigger"`
	LimitMinutes int               `json:"limit_minutes"`
}

// parseTime reads an RFC 3339 time ("" is the zero time).
func parseTime(f *apperr.Fields, field, v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		f.Add(field, "时间格式应为 RFC 3339，如 2023-12-31T20:00:00+08:00")
	}
	return t
}

type areaInput struct {
	Key    string           `json:"key"`
	Name   string           `json:"name"`
	Shape  json.RawMessage  `json:"shape"`
	Yellow float64          `json:"yellow"`
	Red    float64          `json:"red"`
	Duty   []operation.Duty `json:"duty"`
}

func (in operationInput) operation() (operation.Operation, error) {
	var f apperr.Fields
	op := operation.Operation{ID: in.ID, Version: in.Version, Name: in.Name, Kind: in.Kind, AlertCategory: in.AlertCategory,
		Start: parseTime(&f, "start", in.Start), End: parseTime(&f, "end", in.End)}
	for i, t := range in.Tasks {
		op.Tasks = append(op.Tasks, operation.Task{ID: t.ID, Area: t.Area, Title: t.Title, Description: t.Description, Category: t.Category,
			Unit: t.Unit, Trigger: t.Trigger, LimitMinutes: t.LimitMinutes, At: parseTime(&f, fmt.Sprintf("tasks[%d].at", i), t.At)})
	}
	for i, a := range in.Areas {
		area := operation.Area{Key: a.Key, Name: a.Name, Yellow: a.Yellow, Red: a.Red, Duty: a.Duty}
		if raw := bytes.TrimSpace(a.Shape); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
			mp, err := geo.DecodeGeometry(raw)
			if err != nil {
				f.Add(fmt.Sprintf("areas[%d].shape", i), "区域范围不是有效的 GeoJSON 多边形："+err.Error())
			}
			area.Shape = mp
		}
		op.Areas = append(op.Areas, area)
	}
	return op, f.Err()
}

func (a *API) listOperations(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Operations(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) saveOperation(w http.ResponseWriter, r *http.Request) error {
	var in operationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	status := http.StatusCreated
	if id := r.PathValue("id"); id != "" {
		if in.ID != "" && in.ID != id {
			return apperr.Field("id", "编号与地址不一致")
		}
		in.ID = id
		if in.Version <= 0 {
			return apperr.Field("version", "请填写您看到的版本号")
		}
		status = http.StatusOK
	} else if in.Version != 0 {
		return apperr.Field("version", "新建活动的版本号须为0")
	}
	op, err := in.operation()
	if err != nil {
		return err
	}
	saved, err := a.svc.SaveOperation(r.Context(), actorOf(r), op)
	if err != nil {
		return err
	}
	writeJSON(w, status, saved)
	return nil
}

func (a *API) operationBoard(w http.ResponseWriter, r *http.Request) error {
	b, err := a.svc.Board(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (a *API) operationTasks(w http.ResponseWriter, r *http.Request) error {
	tasks, err := a.svc.OperationTasks(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": tasks})
	return nil
}

func (a *API) operationReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := a.svc.OperationReport(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// OperationLiveEvery is how often the live stream looks at the board.
var OperationLiveEvery = time.Second

// operationLive streams the operations board as server-sent events: a
// "board" event with the whole board (the same JSON as GET
// /api/v1/operations/{id}) whenever it changed, looked at every second, so
// the crowd figures follow the committed readings; a ping every 20 s.
func (a *API) operationLive(w http.ResponseWriter, r *http.Request) error {
	actor, id := actorOf(r), r.PathValue("id")
	b, err := a.svc.Board(r.Context(), actor, id)
	if err != nil {
		return err // before the stream starts: an honest 404
	}
	fl, err := openStream(w)
	if err != nil {
		return err
	}
	var last []byte
	send := func(b service.OperationBoard) {
		// The board's own time moves every second: compare without it.
		at := b.At
		b.At = time.Time{}
		key, err := json.Marshal(b)
		if err != nil || bytes.Equal(key, last) {
			return
		}
		last = key
		b.At = at
		data, _ := json.Marshal(b)
		fmt.Fprintf(w, "event: board\ndata: %s\n\n", data)
		fl.Flush()
	}
	send(b)
	tick := time.NewTicker(OperationLiveEvery)
	defer tick.Stop()
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		case <-tick.C:
			b, err := a.svc.Board(r.Context(), actor, id)
			if err != nil {
				if r.Context().Err() == nil {
					a.log.Warn("operation board", "operation", id, "err", err)
				}
				continue
			}
			send(b)
		}
	}
}
