package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
)

// Cadre training in the console (/training, issue 13): the figures per
// street and per department for a period (cadres trained, attendances,
// class hours, postings begun, cadres posted), and the forms that keep the
// records: a new course, a session of a course with its trainers and the
// cadres attending (by username), a cadre's practical posting. Every write
// goes through the service (audited as kind training); a refused form comes
// back with what was typed and the reasons. Leaders, commanders and
// administrators (the service's trainer rule).

type trainingView struct {
	Courses          []leaders.Course
	ByStreet, ByUnit []service.TrainingRow
	From, To         string
	Form             url.Values
	Which            string // the form sent back: course, session or posting
	Message          string
	Flash            string
	Cadre            string // the cadre a posting was just recorded for
	Now              string
}

func (v *trainingView) title() string { return "干部培训" }

// figTable is one table of the figures.
type figTable struct {
	ID, Label string
	Rows      []service.TrainingRow
}

// Tables are the figures by street and by department.
func (v *trainingView) Tables() []figTable {
	return []figTable{{"street", "街道", v.ByStreet}, {"unit", "部门", v.ByUnit}}
}

func (c *Console) trainingPage(w http.ResponseWriter, r *http.Request) error {
	v := &trainingView{Form: url.Values{}}
	switch r.URL.Query().Get("done") {
	case "course":
		v.Flash = "已新建课程"
	case "session":
		v.Flash = "已记录培训，参训干部的档案已更新"
	case "posting":
		v.Flash, v.Cadre = "已记录多岗位历练", r.URL.Query().Get("cadre")
	}
	return c.renderTraining(w, r, http.StatusOK, v)
}

func (c *Console) renderTraining(w http.ResponseWriter, r *http.Request, status int, v *trainingView) error {
	actor := actorOf(r)
	loc := c.svc.Calendar().Location()
	now := c.svc.Now().In(loc)
	v.Now = now.Format("2006-01-02T15:04")
	q := r.URL.Query()
	v.From, v.To = q.Get("from"), q.Get("to")
	if v.From == "" {
		v.From = now.Format("2006") + "-01-01"
	}
	if v.To == "" {
		v.To = now.Format("2006-01-02")
	}
	var fs apperr.Fields
	from, err := time.ParseInLocation("2006-01-02", v.From, loc)
	if err != nil {
		fs.Add("from", "开始日期格式应为 2026-01-01")
	}
	to, err := time.ParseInLocation("2006-01-02", v.To, loc)
	if err != nil {
		fs.Add("to", "结束日期格式应为 2026-12-31")
	}
	if err := fs.Err(); err != nil {
		return err
	}
	if v.Courses, err = c.svc.Courses(r.Context(), actor); err != nil {
		return err
	}
	if v.ByStreet, err = c.svc.TrainingFigures(r.Context(), actor, "street", from, to.AddDate(0, 0, 1)); err != nil {
		return err
	}
	if v.ByUnit, err = c.svc.TrainingFigures(r.Context(), actor, "unit", from, to.AddDate(0, 0, 1)); err != nil {
		return err
	}
	c.render(w, r, status, "training", v)
	return nil
}

// refusedTraining sends a form back with the service's reasons, or returns
// the error when it is not a refusal of the input.
func (c *Console) refusedTraining(w http.ResponseWriter, r *http.Request, which string, err error) error {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.Invalid {
		return err
	}
	msg := e.Message
	var reasons []string
	for _, fe := range e.Fields {
		reasons = append(reasons, fe.Reason+"（"+fe.Field+"）")
	}
	if len(reasons) > 0 {
		msg = strings.Join(reasons, "；")
	}
	return c.renderTraining(w, r, http.StatusBadRequest, &trainingView{Form: r.PostForm, Which: which, Message: msg})
}

func (c *Console) createCourse(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	hours, err := strconv.Atoi(strings.TrimSpace(f.Get("hours")))
	if err != nil {
		return c.refusedTraining(w, r, "course", apperr.Field("hours", "学时应为整数"))
	}
	_, err = c.svc.CreateCourse(r.Context(), actorOf(r), leaders.Course{Title: f.Get("title"), Topic: f.Get("topic"), Provider: f.Get("provider"), Hours: hours})
	if err != nil {
		return c.refusedTraining(w, r, "course", err)
	}
	http.Redirect(w, r, "/training?done=course", http.StatusSeeOther)
	return nil
}

// names splits a list typed with 、, commas or new lines.
func names(s string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(s, func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == '\n' || r == ' ' }) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// accountIDsOf resolves usernames to account IDs, naming each unknown one.
func (c *Console) accountIDsOf(r *http.Request, field string, usernames []string, fs *apperr.Fields) []string {
	var ids []string
	for i, u := range usernames {
		a, err := c.svc.DB().AccountByUsername(r.Context(), u)
		if err != nil {
			fs.Add(fmt.Sprintf("%s[%d]", field, i), "账号“"+u+"”不存在")
			continue
		}
		ids = append(ids, a.ID)
	}
	return ids
}

func (c *Console) recordSession(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	loc := c.svc.Calendar().Location()
	var fs apperr.Fields
	at, err := time.ParseInLocation("2006-01-02T15:04", f.Get("at"), loc)
	if err != nil {
		fs.Add("at", "请填写培训时间")
	}
	who := c.accountIDsOf(r, "attendees", names(f.Get("attendees")), &fs)
	if err := fs.Err(); err != nil {
		return c.refusedTraining(w, r, "session", err)
	}
	_, err = c.svc.RecordSession(r.Context(), actorOf(r), leaders.Session{CourseID: f.Get("course_id"), At: at, Place: f.Get("place"),
		Trainers: names(f.Get("trainers")), Attendees: who})
	if err != nil {
		return c.refusedTraining(w, r, "session", err)
	}
	http.Redirect(w, r, "/training?done=session", http.StatusSeeOther)
	return nil
}

func (c *Console) addPosting(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	loc := c.svc.Calendar().Location()
	var fs apperr.Fields
	p := leaders.Posting{Post: f.Get("post"), Note: strings.TrimSpace(f.Get("note"))}
	if ids := c.accountIDsOf(r, "cadre", names(f.Get("cadre")), &fs); len(ids) == 1 {
		p.CadreID = ids[0]
	} else if len(ids) > 1 {
		fs.Add("cadre", "一次只能记录一名干部的历练")
	}
	if t, err := time.ParseInLocation("2006-01-02", f.Get("from"), loc); err == nil {
		p.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", f.Get("to"), loc); err == nil {
		p.To = t
	}
	if err := fs.Err(); err != nil {
		return c.refusedTraining(w, r, "posting", err)
	}
	saved, err := c.svc.AddPosting(r.Context(), actorOf(r), p, strings.TrimSpace(f.Get("region")))
	if err != nil {
		return c.refusedTraining(w, r, "posting", err)
	}
	http.Redirect(w, r, "/training?done=posting&cadre="+url.QueryEscape(saved.CadreID), http.StatusSeeOther)
	return nil
}
