package web

import (
	"net/http"
	"strconv"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/store"
)

// The liaison's and the street leader's follow-up page: the requests of the
// enterprises assigned to them (a commander's or administrator's: those of
// their region), open ones first with the contact and answer clocks, the
// escalated ones marked; and the enterprises they follow.

type followPage struct {
	All         bool
	Escalated   []requestRow
	Open        []requestRow
	Done        []requestRow
	Enterprises []enterprise.Enterprise
	Leader      bool
	Classes     bool // the reader may open the policy classes (street organizers)
}

func (v *followPage) title() string { return "企业服务跟进" }

func (c *Console) qiyeFollowList(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	all := r.URL.Query().Get("all") == "1"
	list, err := c.svc.Requests(r.Context(), actor, !all)
	if err != nil {
		return err
	}
	p := &followPage{All: all, Leader: actor.Role == cases.RoleLeader, Classes: c.svc.OrganizesClasses(actor)}
	for _, row := range c.requestRows(r, list) {
		switch {
		case row.AnsweredAt.IsZero() && !row.EscalatedAt.IsZero():
			p.Escalated = append(p.Escalated, row)
		case row.AnsweredAt.IsZero():
			p.Open = append(p.Open, row)
		default:
			p.Done = append(p.Done, row)
		}
	}
	p.Enterprises, err = c.svc.Enterprises(r.Context(), actor)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye.follow", p)
	return nil
}

// figureRow is a figure row with its rates and its key's name.
type figureRow struct {
	store.RequestFigure
	Name string
}

func share(n, d int) string {
	if d == 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(n)*100/float64(d), 'f', 1, 64) + "%"
}

// ContactRate, AnswerRate, ResolveRate and SatisfyRate are the row's rates.
func (f figureRow) ContactRate() string { return share(f.ContactedOnTime, f.Requests) }
func (f figureRow) AnswerRate() string  { return share(f.AnsweredOnTime, f.Requests) }
func (f figureRow) ResolveRate() string { return share(f.Resolved, f.Requests) }
func (f figureRow) SatisfyRate() string { return share(f.Satisfied, f.Rated) }

type figuresPage struct {
	From, To string
	Tables   []figureTable
	Totals   store.ServiceTotals
}

type figureTable struct {
	Title string
	Rows  []figureRow
}

func (v *figuresPage) title() string { return "企业服务统计" }

func (c *Console) figuresPageOf(r *http.Request) (*figuresPage, error) {
	loc := c.svc.Calendar().Location()
	now := c.svc.Now().In(loc)
	from := time.Date(now.Year()-1, now.Month(), now.Day(), 0, 0, 0, 0, loc)
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	var f apperr.Fields
	if s := r.URL.Query().Get("from"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			f.Add("from", "开始日期格式应为 2006-01-02")
		}
		from = t
	}
	if s := r.URL.Query().Get("to"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			f.Add("to", "结束日期格式应为 2006-01-02")
		}
		to = t.AddDate(0, 0, 1)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	figs, err := c.svc.Figures(r.Context(), actorOf(r), from, to)
	if err != nil {
		return nil, err
	}
	p := &figuresPage{From: from.Format("2006-01-02"), To: to.AddDate(0, 0, -1).Format("2006-01-02"), Totals: figs.Totals}
	names := map[string]string{}
	if list, err := c.svc.Catalog(r.Context(), true); err == nil {
		for _, s := range list {
			names["service:"+s.Code] = s.Name
		}
	}
	for _, t := range []struct{ by, title string }{{"color", "按四色"}, {"service", "按服务事项"}, {"liaison", "按联络员"}, {"unit", "按承办单位"}} {
		tab := figureTable{Title: t.title}
		for _, row := range figs.By[t.by] {
			fr := figureRow{RequestFigure: row, Name: row.Key}
			switch t.by {
			case "color":
				fr.Name = enterprise.Color(row.Key).Label()
			case "service":
				fr.Name = names["service:"+row.Key]
			case "liaison":
				if a, err := c.svc.DB().Account(r.Context(), row.Key); err == nil {
					fr.Name = a.Name
				}
			case "unit":
				fr.Name = c.unitName(row.Key)
			}
			if fr.Name == "" {
				fr.Name = "（未归类）"
			}
			tab.Rows = append(tab.Rows, fr)
		}
		p.Tables = append(p.Tables, tab)
	}
	return p, nil
}

func (c *Console) qiyeFigures(w http.ResponseWriter, r *http.Request) error {
	p, err := c.figuresPageOf(r)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye.figures", p)
	return nil
}

// qiyeFiguresExport sends the figures as an Excel workbook (?format=csv: a
// CSV file), one sheet per table and one of the totals.
func (c *Console) qiyeFiguresExport(w http.ResponseWriter, r *http.Request) error {
	p, err := c.figuresPageOf(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "" {
		q := r.URL.Query()
		q.Set("format", "xlsx")
		r.URL.RawQuery = q.Encode()
	}
	sheets := []sheet{{Name: "总量", Header: []string{"时间段", "服务企业", "楼宇课堂", "企业签到", "参加企业"},
		Rows: [][]any{{p.From + "至" + p.To, p.Totals.EnterprisesServed, p.Totals.ClassesHeld, p.Totals.Attendances, p.Totals.Attending}}}}
	for _, t := range p.Tables {
		s := sheet{Name: t.Title, Header: []string{"名称", "诉求", "已联系", "按时联系", "按时联系率", "已答复", "按时答复", "按时答复率", "办结", "办结率", "评价", "满意", "满意率", "提级"}}
		for _, x := range t.Rows {
			s.Rows = append(s.Rows, []any{x.Name, x.Requests, x.Contacted, x.ContactedOnTime, x.ContactRate(), x.Answered, x.AnsweredOnTime,
				x.AnswerRate(), x.Resolved, x.ResolveRate(), x.Rated, x.Satisfied, x.SatisfyRate(), x.Escalated})
		}
		sheets = append(sheets, s)
	}
	return c.sendSheets(w, r, "企业服务统计"+p.From+"至"+p.To, sheets)
}
