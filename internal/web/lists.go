package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// Lists (清单, /lists, issue 13): the lists of the signed-in person's
// region (a leader's list, the key rectification project list, monthly
// topics, street lists), and each list's board: every item's state, clock,
// owner and last step until all are closed, with urge (催办) and supervise
// (督办) on each open case. Both go through the service: urge is the case
// action, supervise the case action with its supervision clock.

type listsView struct {
	Lists []leaders.List
	Kind  leaders.ListKind
	Kinds []leaders.ListKind
}

func (v *listsView) title() string { return "清单" }

func (c *Console) listsPage(w http.ResponseWriter, r *http.Request) error {
	kind := leaders.ListKind(r.URL.Query().Get("kind"))
	if kind != "" && !kind.Valid() {
		return apperr.Field("kind", "清单类型无效")
	}
	list, err := c.svc.Lists(r.Context(), actorOf(r), store.ListFilter{Kind: kind})
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "lists", &listsView{Lists: list, Kind: kind, Kinds: leaders.ListKinds})
	return nil
}

type listBoardView struct {
	service.Board
	Flash     string
	CanSteer  bool // may urge and supervise
	Limits    []string
	Supervise string // the case whose supervise form is open
}

func (v *listBoardView) title() string { return v.List.Name }

func (c *Console) listBoard(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	b, err := c.svc.ListBoard(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := &listBoardView{Board: b, CanSteer: actor.Role == cases.RoleLeader || actor.Role == cases.RoleCommander,
		Limits: []string{"1工作日", "3工作日", "5工作日", "10工作日"}}
	switch r.URL.Query().Get("done") {
	case "urge":
		v.Flash = "已催办"
	case "supervise":
		v.Flash = "已督办，督办时限自即刻起按工作日历计算"
	}
	c.render(w, r, http.StatusOK, "list", v)
	return nil
}

// listUrge urges one case of a list (the case action urge).
func (c *Console) listUrge(w http.ResponseWriter, r *http.Request) error {
	listID := r.PathValue("id")
	if _, err := c.svc.ListBoard(r.Context(), actorOf(r), listID); err != nil {
		return err
	}
	cmd := cases.Command{Action: cases.ActUrge, Note: strings.TrimSpace(r.PostForm.Get("note"))}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	if _, _, err := c.svc.Act(r.Context(), actorOf(r), r.PostForm.Get("case_id"), cmd, version); err != nil {
		return err
	}
	http.Redirect(w, r, "/lists/"+url.PathEscape(listID)+"?done=urge", http.StatusSeeOther)
	return nil
}

// listSupervise supervises one case of a list, with a deadline.
func (c *Console) listSupervise(w http.ResponseWriter, r *http.Request) error {
	listID := r.PathValue("id")
	in := service.SuperviseInput{Note: r.PostForm.Get("note"), ListID: listID}
	in.Version, _ = strconv.Atoi(r.PostForm.Get("version"))
	if v := r.PostForm.Get("limit"); v != "" {
		l, err := sla.ParseLimit(v)
		if err != nil {
			return apperr.Field("limit", "督办时限格式应如“3工作日”")
		}
		in.Limit = l
	}
	if _, _, err := c.svc.Supervise(r.Context(), actorOf(r), r.PostForm.Get("case_id"), in); err != nil {
		return err
	}
	http.Redirect(w, r, "/lists/"+url.PathEscape(listID)+"?done=supervise", http.StatusSeeOther)
	return nil
}

// listExport downloads a list's board as Excel (format=xlsx, the default)
// or CSV: every item the reader may see with its state, clock, owner and
// last step.
func (c *Console) listExport(w http.ResponseWriter, r *http.Request) error {
	b, err := c.svc.ListBoard(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "" {
		q := r.URL.Query()
		q.Set("format", "xlsx")
		r.URL.RawQuery = q.Encode()
	}
	loc := c.svc.Calendar().Location()
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	s := sheet{Name: "清单", Header: []string{"类型", "编号", "事项", "状态", "时限", "到期", "责任单位", "最新进展", "进展时间", "督办", "催办次数"}}
	for _, it := range b.Items {
		kind, clock, sup := "案件", "", ""
		if it.Kind == leaders.ItemProject {
			kind = "重点整治整改项目"
		}
		if it.Clock != "" {
			clock = it.Clock.Label()
		}
		if it.Supervised {
			sup = "是"
		}
		s.Rows = append(s.Rows, []any{kind, it.Number, it.Title, it.StateLabel, clock, at(it.Due), it.Owner, it.LastStep, at(it.LastAt), sup, it.Urges})
	}
	return c.sendSheets(w, r, b.List.Name, []sheet{s})
}
