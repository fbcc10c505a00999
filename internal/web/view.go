package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// parsePages parses each page template with the layout and the shared
// partials into its own set, so pages can define the same block names.
func (c *Console) parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"catName":    c.catName,
		"unitName":   c.unitName,
		"boardLabel": func(b string) string { return cases.Board(b).Label() },
		"unitKind":   cases.UnitKindLabel,
		"placeOf":    c.placeOf,
		"gridName":   func(code string) string { return c.svc.RegionName(code) },
		"when":       c.when,
		"whenShort":  c.whenShort,
		"ms":         func(t time.Time) int64 { return t.UnixMilli() },
		"photoURL":   c.svc.PhotoURL,
		"asset":      assetURL,
		"thumbURL":   c.svc.ThumbURL,
		"weekday": func(date string) int { // 0 Sunday … 6 Saturday; -1 for a bad date
			d, err := time.Parse("2006-01-02", date)
			if err != nil {
				return -1
			}
			return int(d.Weekday())
		},
		"cut":       cut,
		"hours":     func(minutes int) string { return fmt.Sprintf("%.1f", float64(minutes)/60) },
		"taskRole":  taskRoleLabel,
		"taskState": taskStateLabel,
		"status":    func(c sla.Clock, now time.Time) sla.Status { return c.Status(now) },
		"has":       func(m map[string]string, k string) bool { _, ok := m[k]; return ok },
		"join":      strings.Join,
		// qs marks a query string the console wrote itself (a checked board
		// filter) as safe after "?" in a link.
		"qs":      func(s string) template.URL { return template.URL(s) },
		"inc":     func(i int) int { return i + 1 },
		"known":   func(k string) bool { return knownInputs[k] },
		"outcome": c.stepOutcome,
		"qiyeQ":   func(f formLike, q cases.Question) qiyeField { return qiyeField{F: f, Q: q} },
		"reportKnown": func(k string) bool {
			return reportInputs[k] || strings.HasPrefix(k, "answers.")
		},
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", f))
	}
	return pages
}

func (c *Console) catName(code string) string {
	if cat, ok := c.svc.Category(code); ok {
		return cat.Name
	}
	return code
}

func (c *Console) unitName(id string) string {
	if u, ok := c.svc.Unit(id); ok {
		return u.Name
	}
	return id
}

// placeOf names where a case is: its grid's community and grid, or the
// region it fell back to.
func (c *Console) placeOf(cs cases.Case) string {
	names := c.svc.PathNames(cs.RegionPath)
	if len(names) > 2 {
		names = names[2:] // drop city and district: the board is within them
	}
	s := strings.Join(names, " · ")
	if cs.GridCode == "" {
		s += "（无网格）"
	}
	return s
}

func (c *Console) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(c.svc.Calendar().Location()).Format("2006-01-02 15:04")
}

func (c *Console) whenShort(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	l := t.In(c.svc.Calendar().Location())
	n := c.svc.Now().In(l.Location())
	if l.Year() == n.Year() && l.YearDay() == n.YearDay() {
		return l.Format("15:04")
	}
	return l.Format("01-02 15:04")
}

func cut(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

// stepOutcome is what a step decided, for the timeline: the verdict of an
// appeal's review or decision; which party got which rating; the rating of
// the case; the units a close left unfinished.
func (c *Console) stepOutcome(s cases.Step) string {
	if client, _ := s.Data["client"].(string); client != "" {
		// A resident's words sent by a client app (Open311).
		out := "经“" + client + "”转来"
		if name, _ := s.Data["name"].(string); name != "" {
			out += "，留言人：" + name
		}
		if u, _ := s.Data["media_url"].(string); u != "" {
			out += "，附件链接：" + u
		}
		return out
	}
	if extra := stringsOf(s.Data["extra"]); len(extra) > 0 {
		return "客户端附加信息：" + strings.Join(extra, "；")
	}
	switch s.Action {
	case cases.ActRateParty:
		name, _ := s.Data["party"].(string)
		if key, _ := s.Data["party_key"].(string); strings.HasPrefix(key, "unit:") {
			name = c.unitName(strings.TrimPrefix(key, "unit:"))
		}
		r, _ := s.Data["rating"].(string)
		return "评价“" + name + "”：" + cases.Rating(r).Label()
	case cases.ActRate:
		if r, _ := s.Data["rating"].(string); r != "" {
			return "评价：" + cases.Rating(r).Label()
		}
	case cases.ActVerify, cases.ActClose:
		var names []string
		for _, u := range stringsOf(s.Data["unfinished"]) {
			names = append(names, c.unitName(u))
		}
		if len(names) > 0 {
			return "结案时未反馈，任务记为未完成：" + strings.Join(names, "、")
		}
	}
	passed, ok := s.Data["passed"].(bool)
	if !ok {
		return ""
	}
	switch s.Action {
	case cases.ActAppealReview:
		if passed {
			return "审核通过，报区级审批"
		}
		return "审核不通过，申诉驳回"
	case cases.ActAppealDecide:
		if passed {
			return "批准豁免"
		}
		return "不予批准，申诉驳回"
	}
	return ""
}

// stringsOf reads a list of strings from step data, as stored ([]any after
// a round trip through JSON) or as built ([]string).
func stringsOf(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func taskRoleLabel(r cases.TaskRole) string {
	if r == cases.Lead {
		return "主办"
	}
	return "协办"
}

func taskStateLabel(s cases.TaskState) string {
	switch s {
	case cases.TaskDispatched:
		return "待签收"
	case cases.TaskSigned:
		return "处置中"
	case cases.TaskFedBack:
		return "已反馈"
	case cases.TaskDone:
		return "已办结"
	case cases.TaskUnfinished:
		return "未完成"
	case cases.TaskCancelled:
		return "已撤回"
	}
	return string(s)
}

// knownInputs are the form inputs that show their own errors; any other
// field error is listed above the form's button.
var knownInputs = map[string]bool{"severity": true, "lead_unit": true, "co_units": true, "target": true, "passed": true,
	"whistle_id": true, "party_key": true, "rating": true, "extension": true, "until": true, "parties": true, "kind": true,
	"meeting": true, "decision_id": true, "note": true, "photos": true, "point": true, "appeal_unit": true}

// reportInputs are the report form's inputs that show their own errors.
var reportInputs = map[string]bool{"description": true, "category": true, "point": true, "address": true, "photos": true,
	"solved_on_spot": true, "source": true, "severity": true, "reporter_name": true, "reporter_phone": true}

// row is a case in a list, with the clock that falls due first.
type row struct {
	cases.Case
	Due, Yellow time.Time
	Status      sla.Status
	ClockName   string
	Now         time.Time
}

// rowOf picks the running clock that falls due first: what a countdown
// shows. While the case waits for verification that is the verify clock (or
// a party's or decision's), never a co-unit's own (cases.HeadlineClocks).
func (c *Console) rowOf(cs cases.Case, now time.Time) row {
	r := row{Case: cs, Now: now}
	for _, rc := range cs.HeadlineClocks() {
		if r.Due.IsZero() || rc.Clock.Due.Before(r.Due) {
			r.Due, r.Yellow, r.Status = rc.Clock.Due, rc.Clock.YellowAt, rc.Clock.Status(now)
			r.ClockName = c.clockName(rc)
		}
	}
	if r.Due.IsZero() && cs.State == cases.Parked {
		r.Status = sla.Paused
	}
	return r
}

// clockName says which deadline a clock is, in Chinese.
func (c *Console) clockName(rc cases.ClockRef) string {
	k := rc.Key
	switch {
	case k == "case:accept":
		return "受理"
	case k == "case:dispatch":
		return "派遣"
	case k == "case:verify":
		return "核查"
	case strings.HasSuffix(k, ":sign"):
		return c.unitName(rc.UnitID) + "签收"
	case strings.HasSuffix(k, ":handle"):
		return c.unitName(rc.UnitID) + "处置"
	case strings.HasPrefix(k, "whistle:"):
		return "吹哨报到"
	case strings.HasPrefix(k, "meeting:"):
		return "会议决定"
	case cases.SupervisionClock(k):
		return "督办"
	}
	return k
}

// CountdownText is the server's first rendering of a countdown; the page's
// script keeps it ticking.
func (r row) CountdownText() string {
	switch {
	case r.Status == sla.Paused:
		return "暂停"
	case r.Due.IsZero():
		return ""
	}
	d := r.Due.Sub(r.Now)
	if d < 0 {
		return "超期" + span(-d)
	}
	return "剩" + span(d)
}

// span writes a duration the way a countdown reads: 2天3时, 3时05分, 4分07秒.
func span(d time.Duration) string {
	s := int64(d / time.Second)
	days, h, m, sec := s/86400, s%86400/3600, s%3600/60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%d天%d时", days, h)
	case h > 0:
		return fmt.Sprintf("%d时%02d分", h, m)
	}
	return fmt.Sprintf("%d分%02d秒", m, sec)
}

// StatusClass is the CSS class of the clock's colour.
func (r row) StatusClass() string {
	if r.Status == "" {
		return "clock-none"
	}
	return "clock-" + string(r.Status)
}

// RowClass is the CSS class of a list row by its clock's colour.
func (r row) RowClass() string {
	if r.Status == "" {
		return "r-none"
	}
	return "r-" + string(r.Status)
}
