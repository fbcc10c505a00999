package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// On-site office visits (现场办公, issue 13): the visit form (/m/onsite,
// made for a phone on site: the place from the phone's position or a
// paired street or community, who attended, up to five problems, each of
// which becomes a case reported by the leader), the visit page with its
// cases, the visits listing and the totals (四下基层统计) per leader,
// street or month with drill-down to the visits and the cases. The form
// lies in the service worker's scope (/m) and works without signal: its
// script (static/onsite.js) keeps each visit on the phone and sends it once
// to the API with its client reference. Without the script it posts to
// /visits, which keeps what was typed when the service refuses it.

// visitSlots is how many problem rows the form offers.
const visitSlots = 5

type visitFormView struct {
	Categories []cases.Category
	Regions    []leaders.Pairing // the leader's paired places to pick
	Form       url.Values
	Message    string
	Slots      []int
	Secretary  bool
	Leaders    []leaders.Secretary // the leaders a secretary records for
	Now        string
}

func (v *visitFormView) title() string { return "记录现场办公" }

// visitFormMoved sends the form's old address to the phone's one.
func (c *Console) visitFormMoved(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/m/onsite", http.StatusFound)
	return nil
}

func (c *Console) visitForm(w http.ResponseWriter, r *http.Request) error {
	return c.renderVisitForm(w, r, http.StatusOK, url.Values{}, "")
}

func (c *Console) renderVisitForm(w http.ResponseWriter, r *http.Request, status int, form url.Values, msg string) error {
	actor := actorOf(r)
	v := &visitFormView{Form: form, Message: msg, Secretary: actor.Role != cases.RoleLeader,
		Now: c.svc.Now().In(c.svc.Calendar().Location()).Format("2006-01-02T15:04")}
	for _, cat := range c.svc.Categories() {
		if cat.Active {
			v.Categories = append(v.Categories, cat)
		}
	}
	for i := 0; i < visitSlots; i++ {
		v.Slots = append(v.Slots, i)
	}
	if v.Secretary {
		ls, err := c.svc.Secretaries(r.Context(), actor, "", "me")
		if err != nil {
			return err
		}
		v.Leaders = ls
	}
	if actor.Role == cases.RoleLeader {
		ps, err := c.svc.Pairings(r.Context(), actor, "me", c.svc.Now())
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Kind != leaders.TargetEnterprise {
				v.Regions = append(v.Regions, p)
			}
		}
	}
	c.render(w, r, status, "visitnew", v)
	return nil
}

// recordVisit records the form's visit through the service.
func (c *Console) recordVisit(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	v := leaders.Visit{LeaderID: strings.TrimSpace(f.Get("leader_id")), ClientRef: f.Get("client_ref"), Summary: f.Get("summary"),
		Place: leaders.Place{RegionCode: f.Get("region_code"), Address: strings.TrimSpace(f.Get("address")), Enterprise: strings.TrimSpace(f.Get("enterprise"))}}
	var msg []string
	if at, err := time.ParseInLocation("2006-01-02T15:04", f.Get("at"), c.svc.Calendar().Location()); err == nil {
		v.At = at
	} else {
		msg = append(msg, "请填写现场办公时间")
	}
	if f.Get("lng") != "" || f.Get("lat") != "" {
		lng, e1 := strconv.ParseFloat(f.Get("lng"), 64)
		lat, e2 := strconv.ParseFloat(f.Get("lat"), 64)
		if e1 != nil || e2 != nil {
			msg = append(msg, "坐标格式不正确")
		} else {
			v.Place.Point = &geo.Point{Lng: lng, Lat: lat}
		}
	}
	for _, a := range strings.FieldsFunc(f.Get("attendees"), func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == '\n' }) {
		if a = strings.TrimSpace(a); a != "" {
			v.Attendees = append(v.Attendees, a)
		}
	}
	for i := 0; i < visitSlots; i++ {
		k := strconv.Itoa(i)
		d := strings.TrimSpace(f.Get("problem_" + k))
		if d == "" {
			continue
		}
		v.Problems = append(v.Problems, leaders.Problem{Category: f.Get("category_" + k), Description: d})
	}
	if len(msg) > 0 {
		return c.renderVisitForm(w, r, http.StatusBadRequest, f, strings.Join(msg, "；"))
	}
	saved, _, err := c.svc.RecordVisit(r.Context(), actorOf(r), v)
	var e *apperr.Error
	if errors.As(err, &e) && e.Kind == apperr.Invalid {
		text := e.Message
		for _, fe := range e.Fields {
			text += "；" + fe.Reason + "（" + fe.Field + "）"
		}
		return c.renderVisitForm(w, r, http.StatusBadRequest, f, text)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/visits/"+url.PathEscape(saved.ID)+"?done=1", http.StatusSeeOther)
	return nil
}

type visitPageView struct {
	Visit leaders.Visit
	Cases []cases.Case
	Flash string
}

// OnBehalf is "由秘书 X 代 Y 录入" for a visit a secretary recorded.
func (v *visitPageView) OnBehalf() string { return v.Visit.OnBehalf() }

func (v *visitPageView) title() string { return "现场办公记录" }

func (c *Console) visitPage(w http.ResponseWriter, r *http.Request) error {
	v, list, err := c.svc.Visit(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	pv := &visitPageView{Visit: v, Cases: list}
	if r.URL.Query().Get("done") != "" {
		pv.Flash = "已记录现场办公，提出的问题已作为案件上报并列入领导清单"
	}
	c.render(w, r, http.StatusOK, "visit", pv)
	return nil
}

// periodOf reads ?from=&to= as dates (YYYY-MM-DD, to inclusive) in the
// calendar's zone; the default is the current year.
func (c *Console) periodOf(q url.Values) (store.VisitFilter, string, string, error) {
	loc := c.svc.Calendar().Location()
	now := c.svc.Now().In(loc)
	from, to := q.Get("from"), q.Get("to")
	if from == "" {
		from = now.Format("2006") + "-01-01"
	}
	if to == "" {
		to = now.Format("2006-01-02")
	}
	f := store.VisitFilter{LeaderID: q.Get("leader"), StreetCode: q.Get("street")}
	var fs apperr.Fields
	a, err := time.ParseInLocation("2006-01-02", from, loc)
	if err != nil {
		fs.Add("from", "开始日期格式应为 2026-01-01")
	}
	b, err := time.ParseInLocation("2006-01-02", to, loc)
	if err != nil {
		fs.Add("to", "结束日期格式应为 2026-12-31")
	}
	f.From, f.To = a, b.AddDate(0, 0, 1)
	if m := q.Get("month"); m != "" {
		if t, err := time.ParseInLocation("2006-01", m, loc); err == nil {
			f.From, f.To = t, t.AddDate(0, 1, 0)
		} else {
			fs.Add("month", "月份格式应为 2026-05")
		}
	}
	return f, from, to, fs.Err()
}

type visitsView struct {
	Visits         []leaders.Visit
	From, To       string
	Leader, Street string
}

func (v *visitsView) title() string { return "现场办公记录" }

func (c *Console) visitsPage(w http.ResponseWriter, r *http.Request) error {
	f, from, to, err := c.periodOf(r.URL.Query())
	if err != nil {
		return err
	}
	f.Limit = 500
	list, err := c.svc.Visits(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "visits", &visitsView{Visits: list, From: from, To: to, Leader: f.LeaderID, Street: f.StreetCode})
	return nil
}

type totalsView struct {
	By       string
	Rows     []service.TotalRow
	Sum      store.VisitTotal
	From, To string
	Cases    []cases.Case // the drill-down, when ?cases= asks for it
	Drill    string
}

func (v *totalsView) title() string { return "四下基层统计" }

func (c *Console) visitTotals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, from, to, err := c.periodOf(q)
	if err != nil {
		return err
	}
	by := q.Get("by")
	if by == "" {
		by = "leader"
	}
	actor := actorOf(r)
	rows, err := c.svc.Totals(r.Context(), actor, f, store.TotalsBy(by))
	if err != nil {
		return err
	}
	v := &totalsView{By: by, Rows: rows, From: from, To: to}
	for _, t := range rows {
		v.Sum.Visits += t.Visits
		v.Sum.Problems += t.Problems
		v.Sum.Solved += t.Solved
	}
	if d := q.Get("cases"); d != "" {
		var solved *bool
		if d == "solved" {
			yes := true
			solved = &yes
		}
		v.Drill = d
		if v.Cases, err = c.svc.TotalCases(r.Context(), actor, f, solved, 500); err != nil {
			return err
		}
	}
	c.render(w, r, http.StatusOK, "totals", v)
	return nil
}
