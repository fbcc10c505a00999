package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/routing"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The leaders' dashboard (数据看板): cases of a period by board, category,
// area and day, the honest on-time close rate and the open overdue cases,
// counted by the database in the viewer's scope (service.Dashboard). Every
// bar drills down to the cases behind it; the view exports to CSV and Excel.

// dashForm is the dashboard's filter as the form and the links carry it.
type dashForm struct {
	Days     string // 7, 30, 90, 365, or "" when From/To are given
	From, To string // YYYY-MM-DD, both days included
	Board    string
	Category string
	Region   string
}

// periods are the quick choices of the period select.
var periods = []struct{ Days, Label string }{{"7", "近7天"}, {"30", "近30天"}, {"90", "近90天"}, {"365", "近一年"}}

// dashFormOf reads the filter; the period defaults to the last 30 days.
func (c *Console) dashFormOf(q url.Values) (dashForm, service.DashboardFilter, map[string]string) {
	f := dashForm{Days: q.Get("days"), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Board: q.Get("board"), Category: q.Get("category"), Region: strings.TrimSpace(q.Get("region"))}
	errs := map[string]string{}
	loc := c.svc.Calendar().Location()
	n := c.svc.Now().In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	df := service.DashboardFilter{Board: f.Board, Category: f.Category, Region: f.Region}
	if f.Board != "" && !cases.Board(f.Board).Valid() {
		errs["board"] = "板块应为 party、economy、services 或 safety"
		df.Board = ""
	}
	days, err := strconv.Atoi(f.Days)
	if err != nil || days < 1 || days > service.MaxDashboardDays {
		days = 0
	}
	if days > 0 || f.From == "" && f.To == "" {
		// A period chosen from the list wins over the dates shown with it.
		if days == 0 {
			days = 30
		}
		f.Days = strconv.Itoa(days)
		df.From, df.To = today.AddDate(0, 0, 1-days), today.AddDate(0, 0, 1)
		f.From, f.To = df.From.Format("2006-01-02"), today.Format("2006-01-02")
	} else {
		f.Days = ""
		from, err1 := time.ParseInLocation("2006-01-02", f.From, loc)
		to, err2 := time.ParseInLocation("2006-01-02", f.To, loc)
		if err1 != nil || err2 != nil {
			errs["period"] = "日期格式应为 年-月-日，如 2026-03-01"
		} else if to.Before(from) {
			errs["period"] = "结束日期不能早于开始日期"
		}
		df.From, df.To = from, to.AddDate(0, 0, 1)
	}
	return f, df, errs
}

// dashErr is the Invalid error of the filter's problems, in a fixed order.
func dashErr(errs map[string]string) error {
	var f apperr.Fields
	for _, k := range []string{"period", "board"} {
		if r, ok := errs[k]; ok {
			f.Add(k, r)
		}
	}
	return f.Err()
}

// query writes the filter as a query string with some fields changed.
func (f dashForm) query(set ...string) string {
	v := url.Values{}
	if f.Days != "" {
		v.Set("days", f.Days)
	} else {
		v.Set("from", f.From)
		v.Set("to", f.To)
	}
	for k, s := range map[string]string{"board": f.Board, "category": f.Category, "region": f.Region} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i] == "from" || set[i] == "to" {
			v.Del("days")
		}
		if set[i+1] == "" {
			v.Del(set[i])
		} else {
			v.Set(set[i], set[i+1])
		}
	}
	return v.Encode()
}

// chartItem is one bar or slice: its name, counts and where a click leads.
type chartItem struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Reported int    `json:"reported"`
	Closed   int    `json:"closed"`
	Overdue  int    `json:"overdue"`
	Href     string `json:"href"`
}

// chart is one chart of the dashboard, with the table that shows the same
// numbers without JavaScript.
type chart struct {
	ID    string      `json:"id"`
	Title string      `json:"title"`
	Kind  string      `json:"kind"` // pie, hbar, bar, day
	Items []chartItem `json:"items"`
}

type crumb struct{ Href, Name string }

type dashboardView struct {
	Form       dashForm
	Errors     map[string]string
	D          service.Dashboard
	Rate       string // the on-time close rate, "—" when there is nothing to rate
	Charts     []chart
	Periods    []struct{ Days, Label string }
	Boards     []cases.Board
	Categories []cases.Category
	Crumbs     []crumb
	OverdueURL string
	CasesURL   string
	ExportURL  string
}

func (v *dashboardView) title() string { return "数据看板" }

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	form, df, errs := c.dashFormOf(r.URL.Query())
	v := &dashboardView{Form: form, Errors: errs, Periods: periods, Boards: cases.Boards, Categories: c.svc.Categories()}
	status := http.StatusOK
	if len(errs) == 0 {
		d, err := c.svc.Dashboard(r.Context(), actor, df)
		switch {
		case apperr.Is(err, apperr.Invalid):
			status, v.Errors = http.StatusBadRequest, fieldMap(err)
		case err != nil:
			return err
		default:
			v.D = d
		}
	} else {
		status = http.StatusBadRequest
	}
	if len(v.Errors) == 0 {
		c.fillDashboard(v, actor)
	}
	c.render(w, r, status, "dashboard", v)
	return nil
}

// fillDashboard turns the figures into charts with their drill-down links
// and the region's breadcrumb.
func (c *Console) fillDashboard(v *dashboardView, actor cases.Actor) {
	d, f := v.D, v.Form
	v.Rate = rateText(d.Totals)
	v.CasesURL = "/dashboard/cases?" + f.query()
	v.ExportURL = "/dashboard/export?" + f.query()
	v.OverdueURL = "/dashboard/cases?" + f.query("overdue", "1")
	items := func(rows []service.StatRow, href func(service.StatRow) string) []chartItem {
		out := make([]chartItem, 0, len(rows))
		for _, r := range rows {
			out = append(out, chartItem{Key: r.Key, Name: r.Name, Reported: r.Reported, Closed: r.Closed, Overdue: r.OpenOverdue, Href: href(r)})
		}
		return out
	}
	list := func(k string) func(service.StatRow) string {
		return func(r service.StatRow) string { return "/dashboard/cases?" + f.query(k, r.Key) }
	}
	area := func(r service.StatRow) string {
		if r.Key == "" {
			return ""
		}
		if d.AreaDim == store.ByGrid {
			return "/dashboard/cases?" + f.query("region", r.Key)
		}
		return "/dashboard?" + f.query("region", r.Key)
	}
	day := func(r service.StatRow) string { return "/dashboard/cases?" + f.query("from", r.Key, "to", r.Key) }
	v.Charts = []chart{
		{ID: "board", Title: "各板块案件", Kind: "pie", Items: items(d.ByBoard, list("board"))},
		{ID: "category", Title: fmt.Sprintf("案件最多的%d类问题", service.TopCategories), Kind: "hbar", Items: items(d.ByCategory, list("category"))},
		{ID: "area", Title: "各" + service.AreaLabel(d.AreaDim) + "案件", Kind: "bar", Items: items(d.ByArea, area)},
		{ID: "day", Title: "每日上报与办结", Kind: "day", Items: items(d.ByDay, day)},
	}
	// The breadcrumb: the actor's own region, then down to the filter's.
	names := c.svc.PathNames(d.RegionPath)
	codes := strings.Split(strings.Trim(d.RegionPath, "/"), "/")
	own := routing.Depth(actor.RegionPath) - 1
	for i, code := range codes {
		if i < own || i >= len(names) {
			continue
		}
		reg := code
		if i == own {
			reg = ""
		}
		v.Crumbs = append(v.Crumbs, crumb{Href: "/dashboard?" + f.query("region", reg), Name: c.svc.RegionName(code)})
	}
}

func rateText(r service.StatRow) string {
	rate, ok := r.OnTimeRate()
	if !ok {
		return "—"
	}
	return strconv.FormatFloat(rate*100, 'f', 1, 64) + "%"
}

// RateOf is a row's on-time close rate as text, for the tables.
func (v *dashboardView) RateOf(r service.StatRow) string { return rateText(r) }

// Err is one field's error.
func (v *dashboardView) Err(name string) string { return v.Errors[name] }

// statSheets are the dashboard's tables for an export.
func statSheets(d service.Dashboard) []sheet {
	header := []string{"名称", "上报", "已办结", "按期办结", "未结", "超期未结", "按期办结率"}
	rows := func(list []service.StatRow) [][]any {
		out := make([][]any, 0, len(list))
		for _, r := range list {
			out = append(out, []any{r.Name, r.Reported, r.Closed, r.OnTime, r.Open, r.OpenOverdue, rateText(r)})
		}
		return out
	}
	return []sheet{
		{Name: "合计", Header: header, Rows: rows([]service.StatRow{d.Totals})},
		{Name: "按板块", Header: header, Rows: rows(d.ByBoard)},
		{Name: "按类别（前" + strconv.Itoa(service.TopCategories) + "）", Header: header, Rows: rows(d.ByCategory)},
		{Name: "按" + service.AreaLabel(d.AreaDim), Header: header, Rows: rows(d.ByArea)},
		{Name: "按日期", Header: header, Rows: rows(d.ByDay)},
	}
}

// dashboardExport writes the dashboard's current view as CSV or Excel.
func (c *Console) dashboardExport(w http.ResponseWriter, r *http.Request) error {
	_, df, errs := c.dashFormOf(r.URL.Query())
	if len(errs) > 0 {
		return dashErr(errs)
	}
	d, err := c.svc.Dashboard(r.Context(), actorOf(r), df)
	if err != nil {
		return err
	}
	sheets := statSheets(d)
	name := "数据看板_" + df.From.In(c.svc.Calendar().Location()).Format("20060102") + "-" +
		df.To.Add(-time.Second).In(c.svc.Calendar().Location()).Format("20060102")
	return c.sendSheets(w, r, name, sheets)
}

// sendSheets sends sheets as a download in the format the query asks for.
func (c *Console) sendSheets(w http.ResponseWriter, r *http.Request, name string, sheets []sheet) error {
	format := r.URL.Query().Get("format")
	h := w.Header()
	switch format {
	case "csv":
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", disposition(name+".csv"))
		return writeCSV(w, sheets)
	case "xlsx":
		h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		h.Set("Content-Disposition", disposition(name+".xlsx"))
		return writeXLSX(w, sheets, c.svc.Now())
	}
	return apperr.Field("format", "导出格式应为 csv 或 xlsx")
}

// disposition names a download, in UTF-8 for browsers and in ASCII for the rest.
func disposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, name)
	if strings.Trim(ascii, "._-") == "" || strings.HasPrefix(ascii, ".") {
		ascii = "zhizhi" + ascii
	}
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// ---- the cases behind a figure ------------------------------------------

// dashCasesPage is how many cases the drill-down list shows at once.
const dashCasesPage = 100

type dashCasesView struct {
	Form      dashForm
	Overdue   bool
	Label     string // what the list is
	Rows      []row
	Total     int
	Next      string // the next page's link
	Back      string
	BackLabel string // "" for 返回看板
	Export    string // the export link, without its format
}

func (v *dashCasesView) title() string { return "案件明细" }

// dashCaseFilter is the listing behind a dashboard link: the dashboard's
// filter, or with overdue=1 the open overdue cases now, whenever reported.
func (c *Console) dashCaseFilter(r *http.Request) (dashForm, store.CaseFilter, bool, error) {
	actor := actorOf(r)
	q := r.URL.Query()
	form, df, errs := c.dashFormOf(q)
	if len(errs) > 0 {
		return form, store.CaseFilter{}, false, dashErr(errs)
	}
	cf, err := c.svc.DashboardCases(actor, df)
	if err != nil {
		return form, cf, false, err
	}
	overdue := q.Get("overdue") == "1"
	if overdue {
		t := true
		cf.From, cf.To, cf.Open, cf.Overdue = time.Time{}, time.Time{}, &t, &t
	}
	return form, cf, overdue, nil
}

// listPage fills a case list's total and one page of rows (after the
// query's cursor) and returns the cursor of the next page ("" when this
// page is the last).
func (c *Console) listPage(r *http.Request, v *dashCasesView, cf store.CaseFilter, size int) (string, error) {
	ctx, actor := r.Context(), actorOf(r)
	var err error
	if v.Total, err = c.svc.Count(ctx, actor, cf); err != nil {
		return "", err
	}
	cf.Limit, cf.After = size, r.URL.Query().Get("after")
	list, err := c.svc.List(ctx, actor, cf)
	if err != nil {
		return "", err
	}
	now := c.svc.Now()
	for _, cs := range list {
		v.Rows = append(v.Rows, c.rowOf(cs, now))
	}
	if len(list) == size {
		return list[len(list)-1].ID, nil
	}
	return "", nil
}

func (c *Console) dashboardCases(w http.ResponseWriter, r *http.Request) error {
	form, cf, overdue, err := c.dashCaseFilter(r)
	if err != nil {
		return err
	}
	v := &dashCasesView{Form: form, Overdue: overdue, Back: "/dashboard?" + form.query()}
	last, err := c.listPage(r, v, cf, dashCasesPage)
	if err != nil {
		return err
	}
	extra := []string{}
	if overdue {
		extra = []string{"overdue", "1"}
	}
	if last != "" {
		v.Next = "/dashboard/cases?" + form.query(append(extra, "after", last)...)
	}
	v.Export = "/dashboard/cases/export?" + form.query(extra...)
	v.Label = c.dashLabel(form, overdue)
	c.render(w, r, http.StatusOK, "dashboard.cases", v)
	return nil
}

// dashLabel says in words what a drill-down lists.
func (c *Console) dashLabel(f dashForm, overdue bool) string {
	var parts []string
	if overdue {
		parts = append(parts, "当前超期未结")
	} else if f.From == f.To {
		parts = append(parts, f.From+" 上报")
	} else {
		parts = append(parts, f.From+" 至 "+f.To+" 上报")
	}
	if f.Region != "" {
		parts = append(parts, c.svc.RegionName(f.Region))
	}
	if f.Board != "" {
		parts = append(parts, cases.Board(f.Board).Label())
	}
	if f.Category != "" {
		parts = append(parts, c.catName(f.Category))
	}
	return strings.Join(parts, " · ")
}

// dashboardCasesExport writes every case behind a figure as CSV or Excel,
// streamed a page at a time: no row cap.
func (c *Console) dashboardCasesExport(w http.ResponseWriter, r *http.Request) error {
	form, cf, overdue, err := c.dashCaseFilter(r)
	if err != nil {
		return err
	}
	return c.exportCases(w, r, cf, "案件明细_"+strings.ReplaceAll(c.dashLabel(form, overdue), " ", ""))
}

// exportCases writes every case of a filter as CSV or Excel (?format=),
// streamed a page at a time: no row cap.
func (c *Console) exportCases(w http.ResponseWriter, r *http.Request, cf store.CaseFilter, name string) error {
	ctx, actor := r.Context(), actorOf(r)
	var err error
	if f := r.URL.Query().Get("format"); f != "csv" && f != "xlsx" {
		return apperr.Field("format", "导出格式应为 csv 或 xlsx")
	}
	s := sheet{Name: "案件明细", Header: []string{"编号", "状态", "板块", "类别", "紧急程度", "来源", "街道", "社区", "网格", "地址", "描述", "上报时间", "办结时间", "曾超期"}}
	cf.Limit = 500 // the most one listing returns
	done := false
	page := func() ([][]any, error) {
		if done {
			return nil, nil
		}
		list, err := c.svc.List(ctx, actor, cf)
		if err != nil {
			return nil, err
		}
		if len(list) < cf.Limit {
			done = true
		} else {
			cf.After = list[len(list)-1].ID
		}
		rows := make([][]any, 0, len(list))
		for _, cs := range list {
			names := c.svc.PathNames(cs.RegionPath)
			level := func(i int) string {
				if i < len(names) {
					return names[i]
				}
				return ""
			}
			late := "否"
			if cs.WasOverdue {
				late = "是"
			}
			rows = append(rows, []any{cs.Number, cs.State.Label(), cases.Board(cs.Board).Label(), c.catName(cs.Category),
				cs.Severity.Label(), cs.Source.Label(), level(2), level(3), level(4), cs.Address, cs.Description,
				c.when(cs.ReportedAt), c.when(cs.ClosedAt), late})
		}
		return rows, nil
	}
	// The first page is read before anything is sent, so an error there is
	// still an ordinary error page.
	if s.Rows, err = page(); err != nil {
		return err
	}
	s.More = page
	return c.sendSheets(w, r, name, []sheet{s})
}
