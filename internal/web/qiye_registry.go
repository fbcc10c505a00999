package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
)

// The enterprise registry: the enterprises the reader follows or keeps,
// and, for commanders and administrators, the Excel or CSV import that lists every
// problem of every row and saves nothing until there is none.

var registrars = access{roles: []cases.Role{cases.RoleCommander, cases.RoleAdmin}}

// maxEnterpriseImport bounds the registry's import file.
const maxEnterpriseImport = 4 << 20

type registryPage struct {
	formState
	Enterprises []enterprise.Enterprise
	CanImport   bool
	Problems    []enterprise.Problem
	Imported    string
	Linked      string
	Columns     []string
}

func (v *registryPage) title() string { return "企业名录" }

func (c *Console) registryPageOf(r *http.Request) (*registryPage, error) {
	actor := actorOf(r)
	list, err := c.svc.Enterprises(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	p := &registryPage{Enterprises: list, CanImport: actor.Role == cases.RoleCommander || actor.Role == cases.RoleAdmin,
		Imported: r.URL.Query().Get("imported"), Linked: r.URL.Query().Get("linked")}
	for _, col := range enterprise.Columns {
		p.Columns = append(p.Columns, col.Header)
	}
	return p, nil
}

func (c *Console) qiyeRegistry(w http.ResponseWriter, r *http.Request) error {
	p, err := c.registryPageOf(r)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye.registry", p)
	return nil
}

func (c *Console) qiyeImport(w http.ResponseWriter, r *http.Request) error {
	file, _, err := r.FormFile("file")
	if err != nil {
		return apperr.Field("file", "请选择 Excel（.xlsx）或 CSV 文件")
	}
	defer file.Close()
	raw, err := io.ReadAll(io.LimitReader(file, maxEnterpriseImport+1))
	if err != nil {
		return err
	}
	if len(raw) > maxEnterpriseImport {
		return apperr.BodyTooLarge(maxEnterpriseImport)
	}
	rows, probs := enterprise.ReadFile(raw)
	n, probs, err := c.svc.ImportEnterprises(r.Context(), actorOf(r), rows, probs)
	if err != nil {
		return err
	}
	if len(probs) == 0 {
		http.Redirect(w, r, "/qiye/enterprises?imported="+strconv.Itoa(n), http.StatusSeeOther)
		return nil
	}
	p, err := c.registryPageOf(r)
	if err != nil {
		return err
	}
	p.Problems = probs
	c.render(w, r, http.StatusBadRequest, "qiye.registry", p)
	return nil
}

// qiyeAddMember links an enterprise account (by username) to an enterprise
// of the registry.
func (c *Console) qiyeAddMember(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	var err error = apperr.Field("username", "账号不存在")
	if a, aerr := c.svc.DB().AccountByUsername(r.Context(), strings.TrimSpace(f.Get("username"))); aerr == nil {
		err = c.svc.AddMember(r.Context(), actorOf(r), f.Get("enterprise_id"), a.ID)
	}
	if err == nil {
		http.Redirect(w, r, "/qiye/enterprises?linked="+url.QueryEscape(f.Get("username")), http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	p, perr := c.registryPageOf(r)
	if perr != nil {
		return perr
	}
	errs := fieldMap(err)
	if msg, ok := errs["account_id"]; ok {
		errs["username"] = msg
	}
	p.formState = formState{Values: f, Errors: errs, Message: "请按提示修改后重新提交"}
	c.render(w, r, http.StatusBadRequest, "qiye.registry", p)
	return nil
}
