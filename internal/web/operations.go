package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"zhizhi/internal/operation"
	"zhizhi/internal/service"
)

// The operations' pages (大型活动, scenario S3): the list (/operations),
// the live operations board (/operations/{id}: crowd per area against its
// lines, alerts and their cases, prepared tasks with their clocks, the
// people on duty, the restoration time per area; operations.js keeps it
// live from the API's stream GET /api/v1/operations/{id}/live, the
// server-sent events the case board uses too, swapping in the board's
// fragment ?part=board when the stream says it changed) and the after-event
// report (/operations/{id}/report, exported as CSV or Excel). Commanders
// plan operations with the planning form (operations_form.go) or the API.

type operationsView struct {
	Items   []opRow
	CanPlan bool // a commander: the form to plan one is offered
}

type opRow struct {
	operation.Operation
	Phase   string
	CanEdit bool
}

func (v *operationsView) title() string { return "大型活动" }

func (c *Console) operationsList(w http.ResponseWriter, r *http.Request) error {
	list, err := c.svc.Operations(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	now := c.svc.Now()
	actor := actorOf(r)
	v := &operationsView{CanPlan: service.CanPlanOperations(actor)}
	for _, op := range list {
		v.Items = append(v.Items, opRow{Operation: op, Phase: operation.PhaseLabel(op.Phase(now)), CanEdit: service.CanChangeOperation(actor, op)})
	}
	c.render(w, r, http.StatusOK, "operations", v)
	return nil
}

type opBoardView struct {
	service.OperationBoard
	PhaseLabel string
	AreaNames  map[string]string
	CanEdit    bool
	Saved      string // the version just saved by the form
}

func (v *opBoardView) title() string { return v.Operation.Name }

// Pct is a share as a width in percent, at most 100.
func (v *opBoardView) Pct(share float64) string {
	return strconv.FormatFloat(min(100, share*100), 'f', 1, 64)
}

func (c *Console) operationPage(w http.ResponseWriter, r *http.Request) error {
	b, err := c.svc.Board(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := &opBoardView{OperationBoard: b, PhaseLabel: operation.PhaseLabel(b.Phase), AreaNames: map[string]string{},
		CanEdit: service.CanChangeOperation(actorOf(r), b.Operation), Saved: r.URL.Query().Get("saved")}
	if _, err := strconv.Atoi(v.Saved); err != nil {
		v.Saved = ""
	}
	for _, a := range b.Operation.Areas {
		v.AreaNames[a.Key] = a.Name
	}
	if r.URL.Query().Get("part") == "board" {
		c.renderFragment(w, "operation", "opboard", v)
		return nil
	}
	c.render(w, r, http.StatusOK, "operation", v)
	return nil
}

type opReportView struct {
	operation.EventReport
	AreaNames map[string]string
}

func (v *opReportView) title() string { return v.Operation.Name + " 活动报告" }

func (c *Console) operationReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := c.svc.OperationReport(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := &opReportView{EventReport: rep, AreaNames: map[string]string{}}
	for _, a := range rep.Operation.Areas {
		v.AreaNames[a.Key] = a.Name
	}
	c.render(w, r, http.StatusOK, "operation.report", v)
	return nil
}

// operationExport sends the after-event report as CSV or Excel: the
// areas, the alerts, the tasks and the timeline, a sheet each.
func (c *Console) operationExport(w http.ResponseWriter, r *http.Request) error {
	rep, err := c.svc.OperationReport(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	loc := c.svc.Calendar().Location()
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04:05")
	}
	num := func(f float64) any {
		if f == float64(int(f)) {
			return int(f)
		}
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	names := map[string]string{}
	areas := sheet{Name: "区域", Header: []string{"区域编码", "区域", "黄色阈值", "红色阈值", "峰值客流", "峰值时间", "峰值/红色阈值", "告警次数", "恢复时间", "恢复用时（分钟）"}}
	for _, a := range rep.Areas {
		names[a.Key] = a.Name
		restore := any("")
		if !a.RestoredAt.IsZero() {
			restore = num(a.RestoreMinutes)
		}
		areas.Rows = append(areas.Rows, []any{a.Key, a.Name, num(a.Yellow), num(a.Red), num(a.Peak), at(a.PeakAt),
			fmt.Sprintf("%.1f%%", a.PeakShare*100), a.Alerts, at(a.RestoredAt), restore})
	}
	alerts := sheet{Name: "告警", Header: []string{"区域", "级别", "开始", "解除", "峰值", "案件编号"}}
	for _, al := range rep.Alerts {
		alerts.Rows = append(alerts.Rows, []any{names[al.Area], al.Level.Label(), at(al.OpenedAt), at(al.ClearedAt), num(al.Peak), al.CaseNumber})
	}
	tasks := sheet{Name: "预置任务", Header: []string{"任务", "区域", "承办单位", "下达方式", "计划时间", "下达时间", "派遣时间", "完成时间", "时限（分钟）", "用时（分钟）", "按时", "状态"}}
	for _, t := range rep.Tasks {
		how := "按时下达"
		if t.Trigger == operation.OnRed {
			how = "红色预警触发"
		}
		unit := t.Unit
		if u, ok := c.svc.Unit(t.Unit); ok {
			unit = u.Name
		}
		state := t.Run.State
		if state == "" {
			state = operation.Prepared
		}
		onTime, used := "", any("")
		if state == operation.Done {
			onTime, used = "否", num(t.Minutes)
			if t.OnTime {
				onTime = "是"
			}
		}
		tasks.Rows = append(tasks.Rows, []any{t.Title, names[t.Area], unit, how, at(t.At), at(t.Run.ReleasedAt), at(t.Run.DispatchedAt),
			at(t.Run.DoneAt), t.LimitMinutes, used, onTime, state.Label()})
	}
	timeline := sheet{Name: "时间线", Header: []string{"时间", "区域", "事件"}}
	for _, ev := range rep.Timeline {
		timeline.Rows = append(timeline.Rows, []any{at(ev.At), names[ev.Area], ev.Text})
	}
	return c.sendSheets(w, r, rep.Operation.Name+"_活动报告", []sheet{areas, alerts, tasks, timeline})
}
