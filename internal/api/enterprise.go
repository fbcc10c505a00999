package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/service"
)

// Enterprise services (issue 14, docs/enterprise.md): the catalog, the
// registry and its import, the one form, the three levels' follow-up,
// policy classes and the figures. Every route is signed; the service
// decides by role and scope (an enterprise its own, a liaison or leader the
// enterprises assigned to them, commanders and administrators their region,
// the catalog district-wide administrators).

// MaxEnterpriseImport bounds an enterprise import file.
const MaxEnterpriseImport = 4 << 20

func (a *API) enterpriseServices(w http.ResponseWriter, r *http.Request) error {
	all := r.URL.Query().Get("all") == "true"
	list, err := a.svc.Catalog(r.Context(), all && actorOf(r).Role == cases.RoleAdmin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) putEnterpriseService(w http.ResponseWriter, r *http.Request) error {
	var s enterprise.Service
	if err := decode(r, &s); err != nil {
		return err
	}
	if s.Code == "" {
		s.Code = r.PathValue("code")
	}
	if s.Code != r.PathValue("code") {
		return apperr.Field("code", "编码与地址不一致")
	}
	if err := a.svc.PutService(r.Context(), actorOf(r), s); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) listEnterprises(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Enterprises(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// enterpriseBody is an enterprise to register, with its liaison and leader
// by account ID or username.
type enterpriseBody struct {
	enterprise.Enterprise
	Liaison string `json:"liaison,omitempty"`
	Leader  string `json:"leader,omitempty"`
}

func (a *API) putEnterprise(w http.ResponseWriter, r *http.Request) error {
	var in enterpriseBody
	if err := decode(r, &in); err != nil {
		return err
	}
	in.ID = r.PathValue("id")
	e, err := a.svc.PutEnterprise(r.Context(), actorOf(r), service.EnterpriseIn{Enterprise: in.Enterprise, Liaison: in.Liaison, Leader: in.Leader})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if in.ID == "" {
		status = http.StatusCreated
	}
	writeJSON(w, status, e)
	return nil
}

func (a *API) importEnterprises(w http.ResponseWriter, r *http.Request) error {
	// Read whole (bounded by MaxEnterpriseImport), so a body over the
	// limit is 413, not a row problem.
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	rows, probs := enterprise.ReadFile(raw)
	n, probs, err := a.svc.ImportEnterprises(r.Context(), actorOf(r), rows, probs)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		return problemsError(probs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"imported": n})
	return nil
}

// problemsError is an import's row problems as one invalid error: each
// field is rows[line].column (or file for the whole file).
func problemsError(probs []enterprise.Problem) error {
	var f apperr.Fields
	for _, p := range probs {
		field := "file"
		if p.Line > 0 {
			field = fmt.Sprintf("rows[%d]", p.Line)
			if p.Field != "" {
				field += "." + p.Field
			}
		} else if p.Field != "" {
			field = p.Field
		}
		f.Add(field, p.Reason)
	}
	return f.Err()
}

func (a *API) addEnterpriseMember(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AccountID string `json:"account_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.svc.AddMember(r.Context(), actorOf(r), r.PathValue("id"), in.AccountID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) askEnterprise(w http.ResponseWriter, r *http.Request) error {
	var in service.RequestIn
	if err := decode(r, &in); err != nil {
		return err
	}
	req, err := a.svc.Ask(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, req)
	return nil
}

func (a *API) listRequests(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Requests(r.Context(), actorOf(r), r.URL.Query().Get("open") == "true")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// requestDetail is a request with its case and timeline, and the reader's
// level (enterprise, liaison, leader, or "" for a commander above).
type requestDetail struct {
	Request enterprise.Request `json:"request"`
	Case    summary            `json:"case"`
	Steps   []cases.Step       `json:"steps"`
	Level   string             `json:"level"`
}

func (a *API) requestDetail(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.Request(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, requestDetail{Request: v.Request, Case: summarize(a.svc.WithPhotoURLs(v.Case), a.svc.Now()),
		Steps: a.svc.StepsWithPhotoURLs(v.Steps), Level: string(v.Level)})
	return nil
}

func (a *API) followRequest(w http.ResponseWriter, r *http.Request) error {
	var in service.FollowIn
	if err := decode(r, &in); err != nil {
		return err
	}
	req, err := a.svc.Follow(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (a *API) listClasses(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Classes(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) putClass(w http.ResponseWriter, r *http.Request) error {
	var c enterprise.Class
	if err := decode(r, &c); err != nil {
		return err
	}
	c.ID, c.Questions = "", nil
	c, err := a.svc.PutClass(r.Context(), actorOf(r), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// classDetail is a class with its sign-ins.
type classDetail struct {
	Class      enterprise.Class        `json:"class"`
	Attendance []enterprise.Attendance `json:"attendance"`
}

func (a *API) classDetail(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.Class(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if v.Attendance == nil {
		v.Attendance = []enterprise.Attendance{}
	}
	writeJSON(w, http.StatusOK, classDetail{Class: v.Class, Attendance: v.Attendance})
	return nil
}

func (a *API) signInClass(w http.ResponseWriter, r *http.Request) error {
	// No body is needed; one sent is read (so an oversized one is 413).
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return bodyError(err)
	}
	if err := a.svc.SignInClass(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) raiseQuestion(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.svc.RaiseQuestion(r.Context(), actorOf(r), r.PathValue("id"), in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (a *API) enterpriseFigures(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := a.svc.Now()
	from, to := now.AddDate(-1, 0, 0), now.Add(time.Minute)
	var f apperr.Fields
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := strings.TrimSpace(q.Get(p.name)); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if d, err2 := time.ParseInLocation("2006-01-02", v, a.svc.Calendar().Location()); err2 == nil {
					t, err = d, nil
				}
			}
			if err != nil {
				f.Add(p.name, "时间格式应为 RFC 3339 或 2006-01-02")
			}
			*p.t = t
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	out, err := a.svc.Figures(r.Context(), actorOf(r), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
