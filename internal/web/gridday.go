package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/service"
)

// The grid worker's day on the phone (issue 15, docs/gridwork.md): /m/day
// shows each grid's plan (a patrol due?), today's patrols and visits, the
// week's coverage, follow-ups due and cases to verify, and runs a patrol
// (static/patrol.js records the track with the browser's geolocation in
// IndexedDB and uploads it once, by its client reference); /m/visit
// records a household visit; /m/team is the grid chief's and the
// community's view of the team and its week.

var (
	gridWorkers = access{roles: []cases.Role{cases.RoleGridWorker, cases.RoleGridChief}}
	gridLeads   = access{roles: []cases.Role{cases.RoleGridWorker, cases.RoleGridChief, cases.RoleCommunity}}
)

// dayView is the grid worker's day.
type dayView struct {
	Flash string
	Days  []dayGrid
}

func (v *dayView) title() string { return "今日工作" }

// dayGrid is one grid's day, with its coverage as a percentage.
type dayGrid struct {
	service.GridDay
	Percent int
	Minutes int
	Meters  int
}

func (c *Console) gridDay(w http.ResponseWriter, r *http.Request) error {
	days, err := c.svc.Today(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	v := &dayView{}
	if p := r.URL.Query().Get("visited"); p != "" {
		v.Flash = "已记录走访：" + p
	}
	for _, d := range days {
		g := dayGrid{GridDay: d, Percent: int(d.Week.Share*100 + 0.5)}
		for _, p := range d.PatrolsToday {
			g.Minutes += int(p.Seconds / 60)
			g.Meters += int(p.Meters)
		}
		v.Days = append(v.Days, g)
	}
	c.render(w, r, http.StatusOK, "gridday", v)
	return nil
}

// visitView is the visit form.
type visitView struct {
	Values     url.Values
	Errors     map[string]string
	Message    string
	Grids      []service.GridRef
	Kinds      []gridwork.PlaceKind
	Outcomes   []gridwork.Outcome
	Categories []cases.Category
	Needs      []int
}

func (v *visitView) title() string { return "记录走访" }

// Val is a value the form had when it was sent back.
func (v *visitView) Val(name string) string { return v.Values.Get(name) }

// NeedVal is a need's value: need<i>.<field>.
func (v *visitView) NeedVal(i int, field string) string {
	return v.Values.Get("need" + strconv.Itoa(i) + "." + field)
}

// Err is one input's error.
func (v *visitView) Err(name string) string { return v.Errors[name] }

// NeedErr is one need input's error.
func (v *visitView) NeedErr(i int, field string) string {
	return v.Errors["need"+strconv.Itoa(i)+"."+field]
}

var needFieldRE = regexp.MustCompile(`^needs\[(\d+)\]\.(\w+)$`)

// visitErrors names an invalid visit's fields by the form's inputs: a
// need's field by the form's row (rows[n] is the row of the n-th need
// sent; blank rows are not sent).
func visitErrors(err error, rows []int) map[string]string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	out := map[string]string{}
	for _, f := range e.Fields {
		name := f.Field
		if m := needFieldRE.FindStringSubmatch(name); m != nil {
			if n, _ := strconv.Atoi(m[1]); n < len(rows) {
				name = "need" + strconv.Itoa(rows[n]) + "." + m[2]
			}
		}
		if prev, ok := out[name]; ok {
			out[name] = prev + "；" + f.Reason
		} else {
			out[name] = f.Reason
		}
	}
	return out
}

// visitNeeds is how many needs the form offers.
const visitNeeds = 3

func (c *Console) newVisitView(r *http.Request) (*visitView, error) {
	grids, err := c.svc.GridsOf(r.Context(), actorOf(r))
	if err != nil {
		return nil, err
	}
	var cats []cases.Category
	for _, cat := range c.svc.Categories() {
		if cat.Active {
			cats = append(cats, cat)
		}
	}
	v := &visitView{Values: url.Values{}, Grids: grids, Kinds: gridwork.PlaceKinds, Categories: cats,
		Outcomes: []gridwork.Outcome{gridwork.Answered, gridwork.ToCase, gridwork.FollowUp}}
	for i := 0; i < visitNeeds; i++ {
		v.Needs = append(v.Needs, i)
	}
	return v, nil
}

func (c *Console) householdVisitPage(w http.ResponseWriter, r *http.Request) error {
	v, err := c.newVisitView(r)
	if err != nil {
		return err
	}
	// The visit's reference, made when the form opens: sending the form
	// twice records one visit.
	v.Values.Set("client_ref", "web-"+id.New())
	v.Values.Set("place_kind", string(gridwork.Household))
	c.render(w, r, http.StatusOK, "gridvisit", v)
	return nil
}

func (c *Console) householdVisit(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm == nil {
		if err := r.ParseForm(); err != nil {
			return apperr.Field("body", "表单无法解析")
		}
	}
	f := r.PostForm
	in := gridwork.VisitInput{ClientRef: f.Get("client_ref"), Grid: f.Get("grid"), PlaceKind: gridwork.PlaceKind(f.Get("place_kind")),
		Place: strings.TrimSpace(f.Get("place")), Note: strings.TrimSpace(f.Get("note")), At: c.svc.Now()}
	var fe apperr.Fields
	var rows []int
	loc := c.svc.Calendar().Location()
	for i := 0; i < visitNeeds; i++ {
		get := func(k string) string { return strings.TrimSpace(f.Get("need" + strconv.Itoa(i) + "." + k)) }
		if get("text") == "" {
			continue
		}
		n := gridwork.Need{Text: get("text"), Outcome: gridwork.Outcome(get("outcome")), Answer: get("answer"), Category: get("category"), Promise: get("promise")}
		if n.Outcome != gridwork.ToCase {
			n.Category = ""
		}
		if d := get("due"); d != "" && n.Outcome == gridwork.FollowUp {
			t, err := time.ParseInLocation("2006-01-02", d, loc)
			if err != nil {
				fe.Add("need"+strconv.Itoa(i)+".due", "日期格式不正确")
			} else {
				t = t.Add(18 * time.Hour) // by the end of that working day
				n.Due = &t
			}
		}
		in.Needs = append(in.Needs, n)
		rows = append(rows, i)
	}
	err := fe.Err()
	if err == nil {
		var res service.VisitResult
		res, err = c.svc.RecordHouseholdVisit(r.Context(), actorOf(r), in)
		if err == nil {
			http.Redirect(w, r, "/m/day?visited="+url.QueryEscape(res.Visit.Place), http.StatusSeeOther)
			return nil
		}
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	v, verr := c.newVisitView(r)
	if verr != nil {
		return verr
	}
	v.Values, v.Errors, v.Message = f, visitErrors(err, rows), "请按提示修改后重新提交"
	c.render(w, r, http.StatusBadRequest, "gridvisit", v)
	return nil
}

// teamView is the team of each grid the reader leads, and the week's work.
type teamView struct {
	Period  string
	Teams   []service.TeamView
	Workers []gridwork.Figure
	Grids   []gridwork.Figure
}

func (v *teamView) title() string { return "网格队伍" }

func (c *Console) gridTeam(w http.ResponseWriter, r *http.Request) error {
	ctx, actor := r.Context(), actorOf(r)
	grids, err := c.svc.GridsOf(ctx, actor)
	if err != nil {
		return err
	}
	v := &teamView{}
	for _, g := range grids {
		t, err := c.svc.Team(ctx, actor, g.Code)
		if err != nil {
			return err
		}
		v.Teams = append(v.Teams, t)
	}
	now := c.svc.Now().In(c.svc.Calendar().Location())
	y, wk := now.ISOWeek()
	fig, err := c.svc.GridFigures(ctx, actor, "", strconv.Itoa(y)+"-W"+pad2(wk))
	if err != nil {
		return err
	}
	v.Period = fig.Period.Label
	for _, f := range fig.Figures {
		if f.Kind == "worker" {
			v.Workers = append(v.Workers, f)
		} else {
			v.Grids = append(v.Grids, f)
		}
	}
	c.render(w, r, http.StatusOK, "gridteam", v)
	return nil
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
