package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/service"
)

// The party-building board's people in the grid (双报到, docs/gridwork.md):
// /party is the community's page — the in-service party members reported
// there (register and change), its volunteer groups, service hours, giving
// a case to a group — and the board's figures of the month; centers,
// leaders and administrators see the figures of their region and may open
// a community's board read-only (?community=).

var partyReaders = access{roles: []cases.Role{cases.RoleCommunity, cases.RoleGridChief, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}

// partyView is the /party page.
type partyView struct {
	Flash    string
	Problems []string
	Values   url.Values
	Board    *service.PartyView
	Hours    []gridwork.ServiceHours
	Figures  service.PartyFigures
	Today    string
}

func (v *partyView) title() string { return "党员双报到" }

// communityOfActor is the community whose board the page opens: the
// query's, or the actor's own region when it is a community.
func (c *Console) communityOfActor(r *http.Request) string {
	if q := r.URL.Query().Get("community"); q != "" {
		return q
	}
	a := actorOf(r)
	segs := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	if code := segs[len(segs)-1]; len(code) == 12 {
		return code
	}
	return ""
}

func (c *Console) partyPage(w http.ResponseWriter, r *http.Request) error {
	return c.renderParty(w, r, http.StatusOK, r.URL.Query().Get("done"), nil, nil)
}

func (c *Console) renderParty(w http.ResponseWriter, r *http.Request, status int, flash string, form url.Values, fail error) error {
	ctx, actor := r.Context(), actorOf(r)
	v := &partyView{Flash: flash, Values: form, Problems: fieldErrors(fail), Today: gridwork.Today(c.svc.Now())}
	if fail != nil && len(v.Problems) == 0 {
		v.Problems = []string{fail.Error()}
	}
	if v.Values == nil {
		v.Values = url.Values{}
	}
	if code := c.communityOfActor(r); code != "" {
		b, err := c.svc.Party(ctx, actor, code)
		if err != nil {
			return err
		}
		v.Board = &b
		if v.Hours, err = c.svc.ServiceHoursOf(ctx, actor, code, "", ""); err != nil {
			return err
		}
		if len(v.Hours) > 50 {
			v.Hours = v.Hours[:50]
		}
	}
	f, err := c.svc.PartyFigures(ctx, actor, "", "")
	if err != nil {
		return err
	}
	v.Figures = f
	c.render(w, r, status, "party", v)
	return nil
}

// partyPost runs one of the page's forms (what: member, group, hours,
// volunteers); bad input comes back on the page naming the problem, with
// what was typed.
func (c *Console) partyPost(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.Field("body", "表单无法解析")
	}
	ctx, actor, f := r.Context(), actorOf(r), r.PostForm
	community := c.communityOfActor(r)
	var done string
	var err error
	switch r.PathValue("what") {
	case "member":
		m := gridwork.PartyMember{ID: f.Get("id"), Name: f.Get("name"), Org: f.Get("org"), Phone: f.Get("phone"), Community: community,
			Grid: f.Get("grid"), GroupID: f.Get("group_id"), ReportedOn: f.Get("reported_on"), Left: f.Get("left") == "1"}
		for _, t := range strings.Split(f.Get("tasks"), "\n") {
			if t = strings.TrimSpace(t); t != "" {
				m.Tasks = append(m.Tasks, t)
			}
		}
		if m.ID != "" && m.Phone == "" {
			err = apperr.Field("phone", "修改登记请重新填写联系电话")
			break
		}
		if _, err = c.svc.PutPartyMember(ctx, actor, m); err == nil {
			done = "已登记报到党员：" + m.Name
		}
	case "group":
		g := gridwork.VolunteerGroup{Name: f.Get("name"), Services: f.Get("services"), Community: community}
		if _, err = c.svc.PutVolunteerGroup(ctx, actor, g); err == nil {
			done = "已建立志愿服务队：" + g.Name
		}
	case "hours":
		minutes := 0
		if s := strings.TrimSpace(f.Get("hours")); s != "" {
			h, perr := strconv.ParseFloat(s, 64)
			if perr != nil {
				err = apperr.Field("hours", "服务时长应为小时数，如 1.5")
				break
			}
			minutes = int(h*60 + 0.5)
		}
		h := gridwork.ServiceHours{MemberID: f.Get("member_id"), Activity: f.Get("activity"), On: f.Get("on"), Minutes: minutes, CaseID: f.Get("case_id")}
		if _, err = c.svc.RecordServiceHours(ctx, actor, h); err == nil {
			done = "已登记服务时长"
		}
	case "volunteers":
		var res service.VolunteerResult
		if res, err = c.svc.GiveToVolunteers(ctx, actor, f.Get("case_id"), f.Get("group_id"), f.Get("note")); err == nil {
			done = "已请志愿服务队协办案件 " + res.Case.Number
		}
	default:
		return apperr.New(apperr.NotFound, "页面不存在")
	}
	if err != nil {
		if !apperr.Is(err, apperr.Invalid) && !apperr.Is(err, apperr.Refused) && !apperr.Is(err, apperr.Conflict) {
			return err
		}
		return c.renderParty(w, r, http.StatusBadRequest, "", f, err)
	}
	http.Redirect(w, r, "/party?done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}
