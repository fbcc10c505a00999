package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/service"
)

// The enterprise's phone-first page (issue 14, docs/enterprise.md): the
// catalog in four colours, the one form, and its requests with their
// stage. The form is server-rendered: picking a service reloads the page
// with that service's questions (and its category's), so it needs no
// script.

var (
	enterprises = access{roles: []cases.Role{cases.RoleEnterprise}}
	// followers are the three levels' staff and those above them: section
	// liaisons (unit and community staff), street leaders, commanders,
	// administrators; the service narrows each to its own.
	followers     = access{roles: []cases.Role{cases.RoleUnit, cases.RoleCommunity, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}
	requestReader = access{roles: []cases.Role{cases.RoleEnterprise, cases.RoleUnit, cases.RoleCommunity, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}
	organizers    = access{roles: []cases.Role{cases.RoleUnit, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}
	classReaders  = access{roles: []cases.Role{cases.RoleEnterprise, cases.RoleUnit, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}
	catalogAdmins = access{roles: []cases.Role{cases.RoleAdmin}}
	figureReaders = access{roles: []cases.Role{cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}
)

// formState is a form's values and errors, for pages that show a form again
// with what was typed and what was wrong.
type formState struct {
	Values  url.Values
	Errors  map[string]string
	Message string
}

// Val is a field's value as typed.
func (f *formState) Val(k string) string { return f.Values.Get(k) }

// Has says whether a multiple-choice field has value v.
func (f *formState) Has(k, v string) bool { return slices.Contains(f.Values[k], v) }

// Err is what was wrong with a field.
func (f *formState) Err(k string) string { return f.Errors[k] }

// formLike is what a form's template reads of its state.
type formLike interface {
	Val(k string) string
	Has(k, v string) bool
	Err(k string) string
}

// qiyeField is one question of the one form with the form's state.
type qiyeField struct {
	F formLike
	Q cases.Question
}

// colorGroup is one colour of the catalog.
type colorGroup struct {
	Color    enterprise.Color
	Services []enterprise.Service
}

// qiyeView is the enterprise's page.
type qiyeView struct {
	formState
	Enterprise enterprise.Enterprise
	Missing    string // the account has no enterprise yet
	Groups     []colorGroup
	Service    *enterprise.Service
	Category   cases.Category // the category whose questions the form asks too
	ClassID    string
	Question   int
	Requests   []requestRow
}

func (v *qiyeView) title() string { return "企业服务" }

// requestRow is a request in a list, with its case's state.
type requestRow struct {
	enterprise.Request
	State     cases.State
	Stage     string
	ContactSt string // the contact clock's status
	AnswerSt  string // the answer clock's status
}

func (c *Console) requestRows(r *http.Request, list []enterprise.Request) []requestRow {
	now := c.svc.Now()
	out := make([]requestRow, 0, len(list))
	for _, q := range list {
		row := requestRow{Request: q, ContactSt: string(q.Contact.Status(now)), AnswerSt: string(q.Answer.Status(now))}
		if cs, err := c.svc.DB().Case(r.Context(), q.CaseID); err == nil {
			row.State = cs.State
		}
		row.Stage = q.Stage(row.State)
		out = append(out, row)
	}
	return out
}

func (c *Console) qiyeHome(w http.ResponseWriter, r *http.Request) error {
	v, err := c.qiyeViewOf(r, &formState{Values: r.URL.Query()})
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye", v)
	return nil
}

// qiyeViewOf builds the enterprise's page for the form state given.
func (c *Console) qiyeViewOf(r *http.Request, f *formState) (*qiyeView, error) {
	actor := actorOf(r)
	v := &qiyeView{formState: *f}
	e, err := c.svc.MyEnterprise(r.Context(), actor)
	if apperr.Is(err, apperr.NotFound) {
		v.Missing = messageOf(err)
		return v, nil
	} else if err != nil {
		return nil, err
	}
	v.Enterprise = e
	list, err := c.svc.Catalog(r.Context(), false)
	if err != nil {
		return nil, err
	}
	for _, col := range enterprise.Colors {
		g := colorGroup{Color: col}
		for _, s := range list {
			if s.Color == col {
				g.Services = append(g.Services, s)
			}
			if s.Code == f.Val("service") {
				x := s
				v.Service = &x
			}
		}
		v.Groups = append(v.Groups, g)
	}
	if v.Service != nil {
		v.Category, _ = c.svc.Category(v.Service.Category)
	}
	v.ClassID = f.Val("class_id")
	v.Question, _ = strconv.Atoi(f.Val("question"))
	reqs, err := c.svc.Requests(r.Context(), actor, false)
	if err != nil {
		return nil, err
	}
	if len(reqs) > 50 {
		reqs = reqs[:50]
	}
	v.Requests = c.requestRows(r, reqs)
	return v, nil
}

// answersOf reads the form's answers.* fields (a multiple choice as a list).
func answersOf(form url.Values) map[string]any {
	out := map[string]any{}
	for k, vals := range form {
		code, ok := strings.CutPrefix(k, "answers.")
		if !ok || code == "" {
			continue
		}
		var keep []string
		for _, s := range vals {
			if strings.TrimSpace(s) != "" {
				keep = append(keep, s)
			}
		}
		switch len(keep) {
		case 0:
		case 1:
			out[code] = keep[0]
		default:
			out[code] = keep
		}
	}
	return out
}

func (c *Console) qiyeAsk(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	in := service.RequestIn{Service: f.Get("service"), Words: f.Get("words"), Answers: answersOf(f), ClassID: f.Get("class_id")}
	in.Seq, _ = strconv.Atoi(f.Get("question"))
	req, err := c.svc.Ask(r.Context(), actorOf(r), in)
	if err == nil {
		http.Redirect(w, r, "/qiye/requests/"+req.ID+"?asked=1", http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	v, verr := c.qiyeViewOf(r, &formState{Values: f, Errors: fieldMap(err), Message: "请按提示修改后重新提交"})
	if verr != nil {
		return verr
	}
	c.render(w, r, http.StatusBadRequest, "qiye", v)
	return nil
}
