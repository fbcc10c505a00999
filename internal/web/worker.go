package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// workerView is the grid worker's phone home: what to verify, what is open
// in the grid, what they reported.
type workerView struct {
	Flash    string
	Verify   []verifyItem
	Open     []row
	Mine     []row
	GridName string
}

func (v *workerView) title() string { return "我的网格" }

// verifyItem is a case waiting for verification with the report's photos
// and the units' feedback side by side.
type verifyItem struct {
	row
	Feedback []taskView
}

const phoneList = 50

func (c *Console) worker(w http.ResponseWriter, r *http.Request) error {
	ctx, actor := r.Context(), actorOf(r)
	now := c.svc.Now()
	v := &workerView{GridName: joinNames(c.svc.PathNames(actor.RegionPath), 2)}
	if n := r.URL.Query().Get("reported"); n != "" {
		v.Flash = "已上报，案件编号 " + n
	}
	fed, err := c.svc.List(ctx, actor, store.CaseFilter{States: []cases.State{cases.FedBack}, Limit: phoneList})
	if err != nil {
		return err
	}
	for _, cs := range fed {
		if !cases.Allowed(&cs, cases.ActVerify, actor) {
			continue
		}
		it := verifyItem{row: c.rowOf(cs, now)}
		for _, t := range cs.Tasks {
			if t.State == cases.TaskFedBack || t.Feedback != "" {
				it.Feedback = append(it.Feedback, taskView{Task: t, UnitName: c.unitName(t.UnitID)})
			}
		}
		v.Verify = append(v.Verify, it)
	}
	open := true
	list, err := c.svc.List(ctx, actor, store.CaseFilter{Open: &open, RegionPath: actor.RegionPath, Limit: phoneList})
	if err != nil {
		return err
	}
	sortQueue(list, now)
	for _, cs := range list {
		v.Open = append(v.Open, c.rowOf(cs, now))
	}
	mine, err := c.svc.List(ctx, actor, store.CaseFilter{Reporter: actor.AccountID, Limit: 20})
	if err != nil {
		return err
	}
	for _, cs := range mine {
		v.Mine = append(v.Mine, c.rowOf(cs, now))
	}
	c.render(w, r, http.StatusOK, "worker", v)
	return nil
}

func joinNames(names []string, skip int) string {
	if len(names) > skip {
		names = names[skip:]
	}
	s := ""
	for i, n := range names {
		if i > 0 {
			s += " · "
		}
		s += n
	}
	return s
}

// reportView is the report form.
type reportView struct {
	Values     url.Values
	Errors     map[string]string
	Message    string
	Sources    []cases.Source
	Categories []cases.Category
	Severities []sla.Severity
	Photos     []string
}

func (v *reportView) title() string { return "上报问题" }

// Val is a value the form had when it was sent back.
func (v *reportView) Val(name string) string { return v.Values.Get(name) }

// Has reports whether a multi-valued input had value.
func (v *reportView) Has(name, value string) bool {
	for _, s := range v.Values[name] {
		if s == value {
			return true
		}
	}
	return false
}

// Err is one input's error.
func (v *reportView) Err(name string) string { return v.Errors[name] }

// sourcesFor lists the sources a role reports from, as the report rules
// allow them (cases.New checks again).
func sourcesFor(r cases.Role) []cases.Source {
	switch r {
	case cases.RoleGridWorker, cases.RoleGridChief:
		return []cases.Source{cases.SourcePatrol, cases.SourceResident, cases.SourceHotline}
	}
	return []cases.Source{cases.SourcePatrol}
}

func (c *Console) newReportView(r *http.Request) *reportView {
	var cats []cases.Category
	for _, cat := range c.svc.Categories() {
		if cat.Active {
			cats = append(cats, cat)
		}
	}
	sort.SliceStable(cats, func(i, j int) bool { return cats[i].Board < cats[j].Board })
	return &reportView{Values: url.Values{}, Sources: sourcesFor(actorOf(r).Role), Categories: cats, Severities: sla.Severities()}
}

func (c *Console) reportPage(w http.ResponseWriter, r *http.Request) error {
	c.render(w, r, http.StatusOK, "report", c.newReportView(r))
	return nil
}

func (c *Console) report(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm == nil {
		if err := r.ParseForm(); err != nil {
			return apperr.Field("body", "表单无法解析")
		}
	}
	rep, err := c.reportOf(r)
	if err != nil {
		// Name the report's other mistakes too, by validating it without
		// storing anything.
		cat, ok := c.svc.Category(rep.Category)
		if !ok {
			cat = cases.Category{Code: rep.Category, Active: true}
		}
		_, _, verr := cases.New(rep, cat, cases.Placement{}, "", "", actorOf(r), c.svc.Policy(cat), c.svc.Now())
		err = mergeFields(err, verr)
		if !ok {
			err = mergeFields(err, apperr.Field("category", "请选择问题类别"))
		}
	} else {
		var cs cases.Case
		cs, err = c.svc.Report(r.Context(), actorOf(r), rep)
		if err == nil {
			http.Redirect(w, r, "/m?reported="+url.QueryEscape(cs.Number), http.StatusSeeOther)
			return nil
		}
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	v := c.newReportView(r)
	v.Values, v.Errors, v.Message = r.PostForm, fieldMap(err), "请按提示修改后重新提交"
	for _, p := range rep.Photos {
		v.Photos = append(v.Photos, p.Hash)
	}
	c.render(w, r, http.StatusBadRequest, "report", v)
	return nil
}

// inboxView is a unit's list of cases with its task and clocks.
type inboxView struct {
	Unit  string
	Items []inboxItem
}

func (v *inboxView) title() string { return "待办" }

// inboxItem is one case of a unit's queue: the unit's part in it (its task,
// or a whistle's summons, or a meeting's decision) and the unit's own
// countdown.
type inboxItem struct {
	row
	Task      taskView
	Part      string // 主办, 协办, 吹哨报到, 会议决定
	PartState string // the task's state, the party's report-in status, or the decision's
	pending   bool   // something of the unit's own waits: sign, or report in
}

func (c *Console) inbox(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	items, err := c.unitQueue(r.Context(), actor, actor.UnitID, c.svc.Now())
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "inbox", &inboxView{Unit: c.unitName(actor.UnitID), Items: items})
	return nil
}

// unitQueue lists the open cases of one unit that the actor may see, each
// with the unit's part and the unit's own countdown (unitItem): 待签收 and
// 待报到 first, then 处置中, then the rest, each by due. The inbox and the
// board workbench (workbench.go) both draw it.
func (c *Console) unitQueue(ctx context.Context, actor cases.Actor, unitID string, now time.Time) ([]inboxItem, error) {
	open := true
	list, err := c.svc.List(ctx, actor, store.CaseFilter{Open: &open, Unit: unitID, Limit: queueLimit})
	if err != nil {
		return nil, err
	}
	var items []inboxItem
	for _, cs := range list {
		items = append(items, c.unitItem(cs, unitID, now))
	}
	rank := func(it inboxItem) int {
		switch {
		case it.pending:
			return 0
		case it.Task.State == cases.TaskSigned:
			return 1
		}
		return 2
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if a.Due.IsZero() != b.Due.IsZero() {
			return !a.Due.IsZero()
		}
		return a.Due.Before(b.Due)
	})
	return items, nil
}

// unitItem is one case as a unit's queue shows it. The unit's part is its
// active task (主办 or 协办), else a whistle's summons (吹哨报到, with the
// party's report-in status), else a meeting's decision (会议决定). The
// countdown and the row's colour are the unit's own running clock that falls
// due first (sign, handle, report-in, decision): never another unit's or the
// center's, so a case waiting for verification that the unit has finished
// shows no countdown rather than someone else's red.
func (c *Console) unitItem(cs cases.Case, unitID string, now time.Time) inboxItem {
	it := inboxItem{row: row{Case: cs, Now: now}}
	if i := cs.TaskOf(unitID); i >= 0 {
		t := cs.Tasks[i]
		it.Task = taskView{Task: t, UnitName: c.unitName(t.UnitID)}
		it.Part, it.PartState, it.pending = taskRoleLabel(t.Role), taskStateLabel(t.State), t.State == cases.TaskDispatched
	} else if p, ok := summons(&cs, unitID); ok {
		st := p.Status(now)
		it.Part, it.PartState = "吹哨报到", st.Label()
		it.pending = st == cases.PartyWaiting || st == cases.PartyRed
	} else {
		it.Part, it.PartState = "会议决定", "已落实"
		for _, m := range cs.Meetings {
			for _, d := range m.Decisions {
				if d.UnitID == unitID && !d.Done {
					it.PartState = "待落实"
				}
			}
		}
	}
	for _, rc := range cs.RunningClocks() {
		if rc.UnitID != unitID {
			continue
		}
		if it.Due.IsZero() || rc.Clock.Due.Before(it.Due) {
			it.Due, it.Yellow, it.Status = rc.Clock.Due, rc.Clock.YellowAt, rc.Clock.Status(now)
			it.ClockName = ownClockName(rc.Key)
		}
	}
	if it.Due.IsZero() && cs.State == cases.Parked {
		it.Status = sla.Paused
	}
	return it
}

// summons is the unit's party in the case's latest whistle that summoned it.
func summons(cs *cases.Case, unitID string) (cases.Party, bool) {
	for i := len(cs.Whistles) - 1; i >= 0; i-- {
		for _, p := range cs.Whistles[i].Parties {
			if p.UnitID == unitID {
				return p, true
			}
		}
	}
	return cases.Party{}, false
}

// ownClockName names a unit's own clock in its queue.
func ownClockName(key string) string {
	switch {
	case strings.HasSuffix(key, ":sign"):
		return "签收"
	case strings.HasSuffix(key, ":handle"):
		return "处置"
	case strings.HasPrefix(key, "whistle:"):
		return "报到"
	case strings.HasPrefix(key, "meeting:"):
		return "会议决定"
	}
	return ""
}

// mineView lists what a resident or an enterprise reported.
type mineView struct {
	Rows []row
	Own  bool // a resident or an enterprise: may report from here
}

func (v *mineView) title() string { return "我的诉求" }

func (c *Console) mine(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	list, err := c.svc.List(r.Context(), actor, store.CaseFilter{Reporter: actor.AccountID, Limit: 100})
	if err != nil {
		return err
	}
	now := c.svc.Now()
	v := &mineView{Own: ownRole(actor)}
	for _, cs := range list {
		v.Rows = append(v.Rows, c.rowOf(cs, now))
	}
	c.render(w, r, http.StatusOK, "mine", v)
	return nil
}
