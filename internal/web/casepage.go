package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// caseView is everything the case page shows.
type caseView struct {
	Case     cases.Case
	Appeals  []appealChoice // the case's overdue appeals, with unit names
	Row      row
	Category cases.Category
	Place    []string
	Answers  []answerView
	Tasks    []taskView
	Steps    []cases.Step
	Dups     []row
	Forms    []*actionForm
	Flash    string
	Error    string // a refusal not tied to one form
	Now      time.Time
	// Supervisions: who supervises the case, each with its own clock.
	Supervisions []service.SupervisionView
	// CanReveal: the reader's role may ask for the reporter's full phone
	// (each time recorded); Revealed: this page shows it.
	CanReveal, Revealed bool
	// Prints are the paper forms this case has (print.go).
	Prints []printForm
	// OnBehalf is "由秘书 X 代 Y 录入" for a case a secretary recorded at
	// a leader's visit (the report step's data).
	OnBehalf string
}

func (v *caseView) title() string { return "案件 " + v.Case.Number }

type answerView struct{ Prompt, Value string }

type taskView struct {
	cases.Task
	UnitName     string
	SignStatus   sla.Status
	HandleStatus sla.Status
}

// actionForm is the form of one action the signed-in person may take now.
type actionForm struct {
	Action    cases.Action
	Label     string
	Key       string // keyboard shortcut
	Inputs    map[string]bool
	Required  map[string]bool
	NoteLabel string
	Danger    bool
	CaseID    string
	Version   int
	CSRF      string
	Open      bool   // shown unfolded: the next step of the loop, or a form sent back
	From      string // "board" in the board's panel: the answer is the panel again

	Values  url.Values
	Errors  map[string]string
	Message string

	Units        []cases.Unit
	DefaultLead  string
	Dups         []row
	WhistleKinds []cases.WhistleKind
	Heads        []store.Account
	Parties      []partyChoice
	Decisions    []cases.Decision
	Extension    *cases.ExtensionRequest
	Park         *cases.ParkRequest
	Appeals      []appealChoice // appeal_review, appeal_decide: the appeals waiting for this stage
	PassLegend   string         // the passed input's legend and choices (verify by default)
	PassYes      string
	PassNo       string
	Severities   []sla.Severity
	Severity     sla.Severity
	Ratings      []cases.Rating
	ExtUnits     []sla.Unit
	MeetingKinds []cases.MeetingKind
	Whistles     []partyChoice // meeting: the case's whistles to hold it on
}

type partyChoice struct{ Value, Label string }

// decisionRow is one row of the meeting form's decisions.
type decisionRow struct{ Text, Unit, Due string }

// spareDecisions is how many empty decision rows the meeting form offers
// (a script adds more; without one, a meeting with more decisions is
// recorded in two goes).
const spareDecisions = 3

// DecisionRows are the meeting form's decision rows: those sent back, then
// empty ones up to spareDecisions, and always one empty row.
func (f *actionForm) DecisionRows() []decisionRow {
	var rows []decisionRow
	if f.Values != nil {
		texts, units, dues := f.Values["decision_text"], f.Values["decision_unit"], f.Values["decision_due"]
		for i := range max(len(texts), len(units), len(dues)) {
			r := decisionRow{Text: at(texts, i), Unit: at(units, i), Due: at(dues, i)}
			if r != (decisionRow{}) {
				rows = append(rows, r)
			}
		}
	}
	for len(rows) < spareDecisions || rows[len(rows)-1] != (decisionRow{}) {
		rows = append(rows, decisionRow{})
	}
	return rows
}

// meetingFromWhistle starts the meeting form from a whistle: the one asked
// for (?meeting=w1, the report-in board's 召开会议), else the case's latest.
// The whistle is chosen and its summoned units are ticked as attendees (the
// rules add every party of the whistle anyway, people included).
func (c *Console) meetingFromWhistle(f *actionForm, cs *cases.Case, want string) {
	for _, w := range cs.Whistles {
		label := w.Kind.Label() + "（" + c.whenShort(w.At) + "，召集" + strconv.Itoa(len(w.Parties)) + "方）"
		f.Whistles = append(f.Whistles, partyChoice{Value: w.ID, Label: label})
	}
	if len(cs.Whistles) == 0 {
		return
	}
	wi := len(cs.Whistles) - 1
	if want != "" {
		if i := cs.Whistle(want); i >= 0 {
			wi = i
		}
		f.Open = true
	}
	w := cs.Whistles[wi]
	f.Values = url.Values{"whistle_id": {w.ID}, "meeting_kind": {string(cases.MeetingDispatch)}}
	for _, p := range w.Parties {
		if p.UnitID != "" && slices.ContainsFunc(f.Units, func(u cases.Unit) bool { return u.ID == p.UnitID }) {
			f.Values.Add("meeting_units", p.UnitID)
		}
	}
}

// appealChoice is an appeal waiting for a review or a decision.
type appealChoice struct {
	cases.Appeal
	UnitName string
}

// Val is the value the form had when it was sent back with errors.
func (f *actionForm) Val(name string) string { return f.Values.Get(name) }

// Checked reports whether a checkbox or radio had value when sent back, or
// (first rendering) whether it is the default.
func (f *actionForm) Checked(name, value string) bool {
	if f.Values == nil {
		return false
	}
	return slices.Contains(f.Values[name], value)
}

// Selected tells whether value is the selected option of a select.
func (f *actionForm) Selected(name, value, def string) bool {
	if f.Values != nil {
		return f.Values.Get(name) == value
	}
	return value == def
}

// Err is the error of one input.
func (f *actionForm) Err(name string) string { return f.Errors[name] }

// actionInputs says which inputs each action's form shows beyond what the
// rule requires (a note can go with most actions).
var actionInputs = map[cases.Action][]string{
	cases.ActAccept:        {"severity", "note"},
	cases.ActReject:        {"note"},
	cases.ActMerge:         {"target", "note"},
	cases.ActDispatch:      {"lead_unit", "co_units", "note"},
	cases.ActRedispatch:    {"lead_unit", "co_units", "note"},
	cases.ActSign:          {},
	cases.ActHandle:        {"note", "photos"},
	cases.ActFeedback:      {"note", "photos"},
	cases.ActVerify:        {"passed", "note", "photos"},
	cases.ActClose:         {"note"},
	cases.ActRate:          {"rating", "note"},
	cases.ActReturn:        {"note"},
	cases.ActExtendRequest: {"extension", "note"},
	cases.ActExtendApprove: {},
	cases.ActExtendDeny:    {"note"},
	cases.ActParkRequest:   {"until", "note"},
	cases.ActParkApprove:   {},
	cases.ActParkDeny:      {"note"},
	cases.ActResume:        {},
	cases.ActReopen:        {"note"},
	cases.ActEscalate:      {"note"},
	cases.ActUrge:          {"note"},
	cases.ActSupervise:     {"note"},
	cases.ActWhistle:       {"whistle", "note"},
	cases.ActReportIn:      {"point"},
	cases.ActLeave:         {},
	cases.ActRateParty:     {"party_ref", "rating", "note"},
	cases.ActMeeting:       {"meeting"},
	cases.ActDecisionDone:  {"decision_id", "note"},
	cases.ActPlace:         {"point", "note"},
	cases.ActAppeal:        {"note"},
	cases.ActAppealReview:  {"appeal_unit", "note"},
	cases.ActAppealDecide:  {"appeal_unit", "note"},
}

// primary are the actions of the loop's main path: the first of them a
// person may take is shown unfolded, the others folded.
var primary = map[cases.Action]bool{cases.ActAccept: true, cases.ActDispatch: true, cases.ActSign: true, cases.ActFeedback: true,
	cases.ActVerify: true, cases.ActClose: true, cases.ActRate: true, cases.ActExtendApprove: true, cases.ActParkApprove: true,
	cases.ActReportIn: true, cases.ActResume: true, cases.ActAppealReview: true, cases.ActAppealDecide: true}

// actionKeys are the keyboard shortcuts of the common actions.
var actionKeys = map[cases.Action]string{
	cases.ActAccept: "a", cases.ActReject: "x", cases.ActMerge: "m", cases.ActDispatch: "d",
	cases.ActRedispatch: "r", cases.ActSign: "s", cases.ActFeedback: "f", cases.ActVerify: "v",
	cases.ActClose: "c", cases.ActEscalate: "e", cases.ActUrge: "u", cases.ActReturn: "b",
}

var dangerous = map[cases.Action]bool{cases.ActReject: true, cases.ActReturn: true, cases.ActEscalate: true, cases.ActExtendDeny: true, cases.ActParkDeny: true}

func noteLabel(a cases.Action) string {
	switch a {
	case cases.ActReject, cases.ActReturn, cases.ActReopen, cases.ActExtendRequest, cases.ActParkRequest, cases.ActEscalate, cases.ActExtendDeny, cases.ActParkDeny:
		return "原因"
	case cases.ActFeedback:
		return "处置结果"
	case cases.ActHandle:
		return "处置进展"
	case cases.ActWhistle:
		return "吹哨事由"
	case cases.ActVerify:
		return "核查情况"
	case cases.ActRate:
		return "评价意见"
	case cases.ActSupervise:
		return "督办意见"
	case cases.ActAppeal:
		return "申诉理由"
	case cases.ActAppealReview:
		return "审核意见"
	case cases.ActAppealDecide:
		return "审批意见"
	}
	return "说明"
}

// failed is a form sent back: its action, what was typed, and what was wrong.
type failed struct {
	Action  cases.Action
	Values  url.Values
	Errors  map[string]string
	Message string
}

func (c *Console) casePage(w http.ResponseWriter, r *http.Request) error {
	if ownRole(actorOf(r)) {
		flash := ""
		if a := cases.Action(r.URL.Query().Get("done")); a == cases.ActRate {
			flash = "感谢您的评价！"
		} else if _, ok := cases.RuleOf(a); ok {
			flash = "已" + a.Label()
		}
		return c.ownCase(w, r, http.StatusOK, r.PathValue("id"), nil, flash)
	}
	v, err := c.caseView(r, r.PathValue("id"), nil)
	if err != nil {
		return err
	}
	if a := cases.Action(r.URL.Query().Get("done")); a != "" {
		if _, ok := cases.RuleOf(a); ok {
			v.Flash = "已" + a.Label()
			switch a {
			case cases.ActAppeal:
				v.Flash = "已提交超时豁免申请"
			case cases.ActAppealReview:
				v.Flash = "已完成中心审核"
			case cases.ActAppealDecide:
				v.Flash = "已完成区级审批"
			}
		}
	}
	c.render(w, r, http.StatusOK, "case", v)
	return nil
}

func (c *Console) caseView(r *http.Request, id string, fail *failed) (*caseView, error) {
	ctx, actor := r.Context(), actorOf(r)
	cs, steps, err := c.svc.Case(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	now := c.svc.Now()
	v := &caseView{Case: cs, Row: c.rowOf(cs, now), Steps: steps, Now: now, Place: c.svc.PathNames(cs.RegionPath),
		CanReveal: cases.SeesPhones(actor) && cs.Reporter.Phone != ""}
	if cs.Supervised {
		if v.Supervisions, err = c.svc.Supervisions(ctx, actor, "", cs.ID); err != nil {
			return nil, err
		}
	}
	v.Category, _ = c.svc.Category(cs.Category)
	v.Prints = printable(&cs, steps)
	for _, st := range steps {
		if st.Action == cases.ActReport {
			sec, _ := st.Data["secretary"].(string)
			lead, _ := st.Data["leader"].(string)
			if sec != "" {
				v.OnBehalf = "由秘书 " + sec + " 代 " + lead + " 录入"
			}
			break
		}
	}
	for _, q := range v.Category.Questions {
		if a, ok := cs.Answers[q.Code]; ok {
			v.Answers = append(v.Answers, answerView{Prompt: q.Prompt, Value: answerText(q, a)})
		}
	}
	for _, ap := range cs.Appeals {
		v.Appeals = append(v.Appeals, appealChoice{Appeal: ap, UnitName: c.unitName(ap.UnitID)})
	}
	for _, t := range cs.Tasks {
		// A clock the close stopped over a unit that never signed or fed
		// back is 未完成 (超期未完成), never 按期完成 (cases.Task.SignStatus).
		v.Tasks = append(v.Tasks, taskView{Task: t, UnitName: c.unitName(t.UnitID), SignStatus: t.SignStatus(now), HandleStatus: t.HandleStatus(now)})
	}
	if cs.State.Open() {
		dups, err := c.svc.Duplicates(ctx, actor, cs)
		if err != nil {
			return nil, err
		}
		for _, d := range dups {
			v.Dups = append(v.Dups, c.rowOf(d, now))
		}
	}
	for _, a := range c.svc.Actions(&cs, actor) {
		f, err := c.formOf(r, &cs, a, v.Dups)
		if err != nil {
			return nil, err
		}
		if fail != nil && fail.Action == a {
			f.Values, f.Errors, f.Message, f.Open = fail.Values, fail.Errors, fail.Message, true
		}
		v.Forms = append(v.Forms, f)
	}
	if fail == nil {
		opened := false
		for _, f := range v.Forms {
			if primary[f.Action] {
				f.Open, opened = true, true
				break
			}
		}
		// An accepted case the library does not let this center dispatch
		// (a district matter at a street): escalating is the next step.
		if !opened && cs.State == cases.Accepted {
			for _, f := range v.Forms {
				if f.Action == cases.ActEscalate {
					f.Open = true
				}
			}
		}
	}
	if fail != nil && !slices.ContainsFunc(v.Forms, func(f *actionForm) bool { return f.Action == fail.Action }) {
		v.Error = fail.Message
		if v.Error == "" {
			for _, e := range fail.Errors {
				v.Error += e + " "
			}
		}
	}
	return v, nil
}

func answerText(q cases.Question, a any) string {
	name := func(k string) string {
		for _, ch := range q.Choices {
			if ch.Key == k {
				return ch.Name
			}
		}
		return k
	}
	switch x := a.(type) {
	case string:
		if q.Type == cases.QSingle {
			return name(x)
		}
		return x
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, name(fmt.Sprint(e)))
		}
		return strings.Join(out, "、")
	case []string:
		var out []string
		for _, e := range x {
			out = append(out, name(e))
		}
		return strings.Join(out, "、")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(a)
}

// formOf builds the form of one action with the choices it needs.
func (c *Console) formOf(r *http.Request, cs *cases.Case, a cases.Action, dups []row) (*actionForm, error) {
	rule, _ := cases.RuleOf(a)
	f := &actionForm{Action: a, Label: rule.Label, Key: actionKeys[a], Inputs: map[string]bool{}, Required: map[string]bool{},
		NoteLabel: noteLabel(a), Danger: dangerous[a], CaseID: cs.ID, Version: cs.Version, CSRF: c.csrfToken(r)}
	for _, in := range actionInputs[a] {
		f.Inputs[in] = true
	}
	f.PassLegend, f.PassYes, f.PassNo = "核查结果", "通过，已解决", "不通过，返工"
	for _, need := range rule.Requires {
		f.Required[string(need)] = true
		switch need {
		case cases.FParties:
			f.Inputs["whistle"] = true
		case cases.FWhistle, cases.FParty:
			f.Inputs["party_ref"] = true
		default:
			f.Inputs[string(need)] = true
		}
	}
	switch a {
	case cases.ActAccept:
		f.Severities, f.Severity = sla.Severities(), cs.Severity
	case cases.ActDispatch, cases.ActRedispatch:
		// Only the units the graded classification library lets this
		// center send the case to; the suggestion first.
		f.Units = c.svc.DispatchTargets(*cs)
		sort.SliceStable(f.Units, func(i, j int) bool { return unitOrder(f.Units[i]) < unitOrder(f.Units[j]) })
		if u, ok := c.svc.SuggestUnit(r.Context(), *cs); ok {
			f.DefaultLead = u.ID
		}
		if i := cs.LeadTask(); i >= 0 {
			f.DefaultLead = cs.Tasks[i].UnitID
		}
	case cases.ActMerge:
		f.Dups = dups
	case cases.ActRate, cases.ActRateParty:
		f.Ratings = []cases.Rating{cases.Satisfied, cases.BasicSatisfied, cases.Unsatisfied}
	case cases.ActExtendRequest:
		f.ExtUnits = []sla.Unit{sla.WorkDays, sla.WorkHours, sla.Days}
	case cases.ActExtendApprove, cases.ActExtendDeny:
		f.Extension = cs.Extension
	case cases.ActParkApprove, cases.ActParkDeny:
		f.Park = cs.Park
	case cases.ActWhistle:
		actor := actorOf(r)
		f.WhistleKinds = cases.WhistleKindsFor(actor.Role)
		if slices.ContainsFunc(f.WhistleKinds, cases.WhistleKind.SummonsUnits) {
			f.Units = c.unitsFor(cs)
		}
		if slices.Contains(f.WhistleKinds, cases.WhistleGrid) {
			heads, err := c.svc.Heads(r.Context(), cs.RegionPath)
			if err != nil {
				return nil, err
			}
			f.Heads = heads
		}
	case cases.ActMeeting:
		f.MeetingKinds, f.Units = cases.MeetingKinds, c.unitsFor(cs)
		c.meetingFromWhistle(f, cs, r.URL.Query().Get("meeting"))
	case cases.ActAppealReview, cases.ActAppealDecide:
		want := cases.AppealPendingReview
		f.PassLegend, f.PassYes, f.PassNo = "审核结果", "通过，报区级审批", "不通过，驳回"
		if a == cases.ActAppealDecide {
			want = cases.AppealPendingApproval
			f.PassLegend, f.PassYes, f.PassNo = "审批结果", "批准豁免", "不予批准"
		}
		for _, ap := range cs.Appeals {
			if ap.State == want {
				f.Appeals = append(f.Appeals, appealChoice{Appeal: ap, UnitName: c.unitName(ap.UnitID)})
			}
		}
	case cases.ActDecisionDone:
		actor := actorOf(r)
		for _, m := range cs.Meetings {
			for _, d := range m.Decisions {
				if !d.Done && (!actor.HandlesTasks() || d.UnitID == actor.UnitID) {
					f.Decisions = append(f.Decisions, d)
				}
			}
		}
	}
	if a == cases.ActRateParty {
		for _, w := range cs.Whistles {
			for _, p := range w.Parties {
				if p.Rating == "" {
					f.Parties = append(f.Parties, partyChoice{Value: w.ID + "|" + p.Key, Label: w.Kind.Label() + "：" + p.Name})
				}
			}
		}
	}
	return f, nil
}

// unitOrder puts a street's own posts and sections first in a dispatch
// form, then communities, then departments.
func unitOrder(u cases.Unit) int {
	switch u.Kind {
	case cases.UnitPost:
		return 0
	case cases.UnitSection:
		return 1
	case cases.UnitCommunity:
		return 2
	}
	return 3
}

// unitsFor lists the active units that can work on a case: district units
// and the sections of the case's own street.
func (c *Console) unitsFor(cs *cases.Case) []cases.Unit {
	var out []cases.Unit
	for _, u := range c.svc.Units() {
		if u.Active && u.Kind != cases.UnitBoard && (u.RegionPath == "" || strings.HasPrefix(cs.CenterPath, u.RegionPath) || strings.HasPrefix(cs.RegionPath, u.RegionPath)) {
			out = append(out, u)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// act takes an action from a case page form through the service. A refused
// or invalid action sends the page back with the reasons next to the form.
func (c *Console) act(w http.ResponseWriter, r *http.Request) error {
	actor, id := actorOf(r), r.PathValue("id")
	if r.PostForm == nil {
		if err := r.ParseForm(); err != nil {
			return apperr.Field("body", "表单无法解析")
		}
	}
	cmd, err := c.commandOf(r, actor)
	switch {
	case cmd.Action == "":
		err = apperr.Field("action", "请选择操作")
	case cmd.Action == cases.ActWarn || cmd.Action == cases.ActReport || cmd.Action == cases.ActSolvedOnSpot:
		err = apperr.Field("action", "该操作不能在此执行")
	}
	if err == nil {
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		_, _, err = c.svc.Act(r.Context(), actor, id, cmd, version)
	} else if apperr.Is(err, apperr.Invalid) && cmd.Action != "" {
		err = c.dryRun(r, id, cmd, err)
	}
	fromBoard := r.PostFormValue("from") == "board"
	if err == nil {
		switch {
		case fromBoard && r.Header.Get("X-Requested-With") != "":
			return c.renderPanel(w, r, http.StatusOK, id, nil, "已"+cmd.Action.Label())
		case fromBoard:
			http.Redirect(w, r, "/board?case="+url.QueryEscape(id)+"&done="+url.QueryEscape(string(cmd.Action)), http.StatusSeeOther)
		default:
			http.Redirect(w, r, "/cases/"+url.PathEscape(id)+"?done="+url.QueryEscape(string(cmd.Action)), http.StatusSeeOther)
		}
		return nil
	}
	var status int
	fail := &failed{Action: cmd.Action, Values: r.PostForm}
	switch apperr.KindOf(err) {
	case apperr.Invalid:
		status, fail.Errors = http.StatusBadRequest, fieldMap(err)
		if _, ok := fail.Errors["action"]; ok {
			fail.Message = fail.Errors["action"]
		}
	case apperr.Refused, apperr.Conflict, apperr.Forbidden:
		status, fail.Message = http.StatusConflict, messageOf(err)
		if apperr.Is(err, apperr.Forbidden) {
			status = http.StatusForbidden
		}
	default:
		return err
	}
	// Uploaded files were stored: keep them as hashes so they are not lost.
	if cmd.Photos != nil {
		fail.Values = cloneValues(r.PostForm)
		fail.Values.Del("photo")
		for _, p := range cmd.Photos {
			fail.Values.Add("photo", p.Hash)
		}
	}
	if fromBoard && r.Header.Get("X-Requested-With") != "" {
		return c.renderPanel(w, r, status, id, fail, "")
	}
	if ownRole(actor) {
		return c.ownCase(w, r, status, id, fail, "")
	}
	v, verr := c.caseView(r, id, fail)
	if verr != nil {
		return verr
	}
	c.render(w, r, status, "case", v)
	return nil
}

// dryRun adds to the errors of inputs that could not be read the rules'
// other complaints about the command, by applying it to the case without
// storing anything, so the form shows every mistake at once.
func (c *Console) dryRun(r *http.Request, id string, cmd cases.Command, perr error) error {
	actor := actorOf(r)
	cs, _, err := c.svc.Case(r.Context(), actor, id)
	if err != nil {
		return err
	}
	cat, _ := c.svc.Category(cs.Category)
	_, _, err = cases.Apply(cs, cmd, actor, c.svc.Policy(cat), c.svc.Now())
	return mergeFields(perr, err)
}

// mergeFields adds b's field errors to a's, for fields a does not name.
func mergeFields(a, b error) error {
	var f apperr.Fields
	have := map[string]bool{}
	for k, v := range fieldMap(a) {
		f.Add(k, v)
		have[k] = true
	}
	if apperr.Is(b, apperr.Invalid) {
		for k, v := range fieldMap(b) {
			if !have[k] {
				f.Add(k, v)
			}
		}
	}
	return f.Err()
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, s := range v {
		out[k] = append([]string(nil), s...)
	}
	return out
}

// revealPhone shows the case page with the reporter's full phone number,
// after the service has recorded the read (POST, so that a link or a
// prefetch never reveals a number).
func (c *Console) revealPhone(w http.ResponseWriter, r *http.Request) error {
	rep, err := c.svc.RevealPhone(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := c.caseView(r, r.PathValue("id"), nil)
	if err != nil {
		return err
	}
	v.Case.Reporter.Phone, v.Revealed = rep.Phone, true
	v.Flash = "已显示完整电话，本次查看已记录"
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, http.StatusOK, "case", v)
	return nil
}
