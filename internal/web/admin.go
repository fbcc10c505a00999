package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/region"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// Administration (系统管理): regions and grids, units, categories with their
// time limits, the working calendar, and accounts. Every change goes
// through the service (ImportRegions, PutUnit, PutCategory, PutCalendar,
// CreateAccount, UpdateAccount), which validates it; the forms show each field's problem
// next to its input. An administrator with a region works within it.

var admins = access{roles: []cases.Role{cases.RoleAdmin}}

// adminTabs are the sections of the administration pages.
var adminTabs = []struct{ ID, Label string }{
	{"regions", "区域与网格"}, {"units", "部门与板块"}, {"categories", "类别与时限"}, {"calendar", "工作日历"}, {"accounts", "账号"},
	{"pairings", "领导包联"},    // leaders' pairings (pairings.go)
	{"secretaries", "领导秘书"}, // a leader's secretaries (secretaries.go)
	{"apikeys", "API 密钥"},   // the Open311 keys' page (apikeys.go)
	{"webhooks", "推送订阅"},    // webhook subscriptions (webhooks.go)
	{"sms", "短信网关"},         // the SMS gateway (smsgateway.go)
	{"audit", "操作记录"},       // the audit log (admin_auditlog.go)
}

// adminView is every administration page; Tab says which section shows.
type adminView struct {
	DistrictWide bool // may change district-wide settings (categories, calendar)
	Tab          string
	Tabs         []struct{ ID, Label string }
	Flash        string
	Message      string // a form's general error
	Errors       map[string]string
	Values       url.Values

	// regions
	Counts   []levelCount
	Crumbs   []store.RegionRecord
	Children []store.RegionRecord
	Under    string // the code the list and exports are under
	Problems []importProblem
	Omitted  int

	// units
	Units       []cases.Unit
	UnitPlaces  map[string]string // unit ID → its region's name
	EditUnit    bool
	UnitRegions []store.RegionRecord
	UnitKinds   []string
	UnitFilter  unitFilter // the list's filter (?kind=&street=)
	UnitTotal   int        // units in scope before the filter
	Streets     []store.RegionRecord
	BoardUnits  []cases.Unit // the boards a post or section may belong to
	Trees       []streetTree // each street's boards, posts, sections and their staff
	Audit       []auditRow   // the trail of the unit or category being edited

	// categories
	Categories []cases.Category
	Category   *cases.Category
	Stages     []sla.Stage
	Severities []sla.Severity
	Defaults   sla.Table
	BoardList  []cases.Board
	CatLevels  []struct{ Value, Label string }

	// calendar
	Years []yearCoverage
	// The calendar view: one year of months (calendar.go's calendarYear).
	CalYear          int
	CalMonths        []calMonth
	CalPrev, CalNext int

	// accounts
	Accounts     []accountRow
	AccountTotal int
	Roles        []cases.Role
	AllUnits     []cases.Unit
	RegionChoice []store.RegionRecord
	EditAccount  *store.Account   // the account the edit form changes
	AccountLock  store.SignInLock // its failed sign-ins and lock
	NewCategory  bool             // the category form creates one

	// audit
	AuditLog *auditLogView
}

func (v *adminView) title() string {
	for _, t := range adminTabs {
		if t.ID == v.Tab {
			return "系统管理 · " + t.Label
		}
	}
	return "系统管理"
}

// Val is a value the form had when it was sent back.
func (v *adminView) Val(name string) string { return v.Values.Get(name) }

// Err is one input's error.
func (v *adminView) Err(name string) string { return v.Errors[name] }

type levelCount struct {
	Label string
	N     int
}

// importProblem is one row of an import's problems, in words.
type importProblem struct {
	Where, Field, Reason string
}

type yearCoverage struct {
	Year    int
	Builtin bool
}

type accountRow struct {
	store.Account
	Phone   string // masked
	Place   string
	Unit    string
	Created string
}

func (c *Console) adminPage(w http.ResponseWriter, r *http.Request, status int, v *adminView) {
	v.Tabs = adminTabs
	v.DistrictWide = service.DistrictWide(actorOf(r))
	if v.Values == nil {
		v.Values = url.Values{}
	}
	c.render(w, r, status, "admin", v)
}

func (c *Console) adminHome(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/admin/regions", http.StatusSeeOther)
	return nil
}

// inScope reports whether a region path lies within the administrator's
// region (an administrator without one has the whole installation).
func inScope(a cases.Actor, p string) bool { return strings.HasPrefix(p, a.RegionPath) }

// adminFields turns a validation error into input name → reason, with the
// service's field names renamed to the form's.
func adminFields(err error, rename func(string) string) map[string]string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	out := map[string]string{}
	for _, f := range e.Fields {
		name := f.Field
		if rename != nil {
			name = rename(name)
		}
		if prev, ok := out[name]; ok && prev != f.Reason {
			out[name] = prev + "；" + f.Reason
			continue
		}
		out[name] = f.Reason
	}
	return out
}

// ---- regions ---------------------------------------------------------------

func (c *Console) adminRegions(w http.ResponseWriter, r *http.Request) error {
	v := &adminView{Tab: "regions"}
	if n := r.URL.Query().Get("imported"); n != "" {
		v.Flash = "已导入 " + n + " 个区域，地图和网格定位已更新"
	}
	return c.regionsPage(w, r, http.StatusOK, v)
}

func (c *Console) regionsPage(w http.ResponseWriter, r *http.Request, status int, v *adminView) error {
	ctx, actor := r.Context(), actorOf(r)
	db := c.svc.DB()
	counts, err := db.CountRegions(ctx)
	if err != nil {
		return err
	}
	for _, l := range region.AllLevels() {
		v.Counts = append(v.Counts, levelCount{Label: l.Label(), N: counts[l]})
	}
	// The list: children of the region asked for (default: the
	// administrator's own region, or the roots).
	under := r.URL.Query().Get("under")
	if under == "" {
		under = lastPathCode(actor.RegionPath)
	}
	if p, ok := c.svc.RegionPath(under); !ok || !inScope(actor, p) {
		under = lastPathCode(actor.RegionPath)
	}
	v.Under = under
	if under == "" {
		v.Children, err = db.Regions(ctx, store.RegionFilter{Level: region.City})
	} else {
		p, _ := c.svc.RegionPath(under)
		for _, code := range strings.Split(strings.Trim(p, "/"), "/") {
			rp, _ := c.svc.RegionPath(code)
			if inScope(actor, rp) {
				if rec, err := db.Region(ctx, code); err == nil {
					rec.Shape = nil
					v.Crumbs = append(v.Crumbs, rec)
				}
			}
		}
		v.Children, err = db.Regions(ctx, store.RegionFilter{Parent: under})
	}
	if err != nil {
		return err
	}
	c.adminPage(w, r, status, v)
	return nil
}

func lastPathCode(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	return parts[len(parts)-1]
}

// adminImportRegions takes an uploaded GeoJSON or CSV file through
// service.ImportRegions: all of it or nothing, with every problem listed
// by row.
func (c *Console) adminImportRegions(w http.ResponseWriter, r *http.Request) error {
	v := &adminView{Tab: "regions", Errors: map[string]string{}, Values: r.PostForm}
	file, fh, err := r.FormFile("file")
	if err != nil {
		v.Errors["file"] = "请选择要导入的 GeoJSON 或 CSV 文件"
		return c.regionsPage(w, r, http.StatusBadRequest, v)
	}
	defer file.Close()
	format := r.PostFormValue("format")
	if format == "" {
		switch strings.ToLower(path.Ext(fh.Filename)) {
		case ".csv", ".txt":
			format = "csv"
		case ".geojson", ".json":
			format = "geojson"
		default:
			v.Errors["format"] = "无法从文件名判断格式，请选择 GeoJSON 或 CSV"
			return c.regionsPage(w, r, http.StatusBadRequest, v)
		}
	}
	n, err := c.svc.ImportRegionsAs(r.Context(), actorOf(r), file, format)
	if err != nil {
		var ie *region.ImportError
		switch {
		case errors.As(err, &ie):
			v.Message = messageOf(err)
			for _, p := range ie.Problems {
				v.Problems = append(v.Problems, problemOf(ie.Format, p))
			}
			v.Omitted = ie.Omitted
		case apperr.Is(err, apperr.Invalid):
			v.Message = "导入失败，未导入任何数据"
			for _, f := range adminFieldList(err) {
				v.Problems = append(v.Problems, importProblem{Where: "文件", Field: fieldLabel(f.Field), Reason: f.Reason})
			}
		default:
			return err
		}
		return c.regionsPage(w, r, http.StatusBadRequest, v)
	}
	http.Redirect(w, r, "/admin/regions?imported="+strconv.Itoa(n), http.StatusSeeOther)
	return nil
}

func adminFieldList(err error) []apperr.FieldError {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// problemOf words one import problem: where (the CSV line or the GeoJSON
// feature), which field, why.
func problemOf(format string, p region.Problem) importProblem {
	where := "整个文件"
	switch {
	case p.Row == 0:
	case format == region.FormatCSV:
		where = fmt.Sprintf("第 %d 行", p.Row)
	default:
		where = fmt.Sprintf("第 %d 个要素", p.Row)
	}
	return importProblem{Where: where, Field: fieldLabel(p.Field), Reason: p.Reason}
}

// fieldLabel names an import field in Chinese where it is one of the usual.
func fieldLabel(f string) string {
	base := strings.TrimPrefix(f, "properties.")
	switch {
	case base == "code":
		return "代码（code）"
	case base == "name":
		return "名称（name）"
	case base == "level":
		return "级别（level）"
	case base == "parent_code" || base == "parent":
		return "上级代码（parent_code）"
	case strings.HasPrefix(f, "geometry"):
		return "边界（" + f + "）"
	}
	return f
}

// adminExportRegions sends the regions under a code as CSV or GeoJSON.
func (c *Console) adminExportRegions(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	q := r.URL.Query()
	under, format := q.Get("under"), q.Get("format")
	if under == "" {
		under = lastPathCode(actor.RegionPath)
	}
	if p, ok := c.svc.RegionPath(under); under != "" && (!ok || !inScope(actor, p)) {
		return apperr.Field("under", "区域不存在或不在您的管辖范围内")
	}
	ext := map[string]string{"csv": ".csv", "geojson": ".geojson"}[format]
	if ext == "" {
		return apperr.Field("format", "导出格式应为 csv 或 geojson")
	}
	name := "regions"
	if under != "" {
		name = "regions-" + under
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/geo+json; charset=utf-8")
	}
	w.Header().Set("Content-Disposition", disposition(name+ext))
	return c.svc.ExportRegions(r.Context(), w, under, format)
}

// ---- units -----------------------------------------------------------------

func (c *Console) unitRegions(r *http.Request) ([]store.RegionRecord, error) {
	actor := actorOf(r)
	var out []store.RegionRecord
	for _, l := range []region.Level{region.City, region.District, region.Street, region.Community} {
		rs, err := c.svc.DB().Regions(r.Context(), store.RegionFilter{Level: l, Under: actor.RegionPath})
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (c *Console) unitsPage(w http.ResponseWriter, r *http.Request, status int, v *adminView) error {
	actor := actorOf(r)
	v.UnitPlaces = map[string]string{}
	v.UnitKinds, v.BoardList = cases.UnitKinds, cases.Boards
	q := r.URL.Query()
	v.UnitFilter = unitFilter{Kind: q.Get("kind"), Street: q.Get("street")}
	streetPath, _ := c.svc.RegionPath(v.UnitFilter.Street)
	for _, u := range c.svc.Units() {
		if !inScope(actor, u.RegionPath) {
			continue
		}
		if u.Kind == cases.UnitBoard {
			v.BoardUnits = append(v.BoardUnits, u)
		}
		v.UnitTotal++
		if (v.UnitFilter.Kind != "" && u.Kind != v.UnitFilter.Kind) || (streetPath != "" && !strings.HasPrefix(u.RegionPath, streetPath)) {
			continue
		}
		v.Units = append(v.Units, u)
		v.UnitPlaces[u.ID] = c.svc.RegionName(lastPathCode(u.RegionPath))
	}

	sort.SliceStable(v.BoardUnits, func(i, j int) bool {
		a, b := v.BoardUnits[i], v.BoardUnits[j]
		if a.RegionPath != b.RegionPath {
			return a.RegionPath < b.RegionPath
		}
		return boardIndex(a.Board) < boardIndex(b.Board)
	})
	var err error
	if v.UnitRegions, err = c.unitRegions(r); err != nil {
		return err
	}
	for _, rg := range v.UnitRegions {
		if rg.Level == region.Street {
			v.Streets = append(v.Streets, rg)
		}
	}
	if v.Trees, err = c.streetTrees(r, v.BoardUnits); err != nil {
		return err
	}
	c.adminPage(w, r, status, v)
	return nil
}

// unitFilter narrows the units list to a kind and a street.
type unitFilter struct{ Kind, Street string }

func boardIndex(b cases.Board) int {
	for i, x := range cases.Boards {
		if x == b {
			return i
		}
	}
	return len(cases.Boards)
}

// streetTree is one street's organisation: its boards, each with its posts
// and sections, each with the accounts that staff it.
type streetTree struct {
	Code, Name string
	Boards     []unitNode
}

type unitNode struct {
	Unit  cases.Unit
	Staff []store.Account
	Desks []unitNode
}

// streetTrees builds each street's tree from its board units (in order).
func (c *Console) streetTrees(r *http.Request, boards []cases.Unit) ([]streetTree, error) {
	accounts, err := c.svc.Accounts(r.Context(), actorOf(r))
	if err != nil {
		return nil, err
	}
	staff := map[string][]store.Account{}
	for _, a := range accounts {
		if a.UnitID != "" {
			a.PasswordHash = ""
			staff[a.UnitID] = append(staff[a.UnitID], a)
		}
	}
	var out []streetTree
	for _, b := range boards {
		code := lastPathCode(b.RegionPath)
		if len(out) == 0 || out[len(out)-1].Code != code {
			out = append(out, streetTree{Code: code, Name: c.svc.RegionName(code)})
		}
		node := unitNode{Unit: b, Staff: staff[b.ID]}
		subs := c.svc.SubUnits(b.ID)
		sort.SliceStable(subs, func(i, j int) bool {
			if subs[i].Kind != subs[j].Kind {
				return subs[i].Kind == cases.UnitPost
			}
			return subs[i].ID < subs[j].ID
		})
		for _, d := range subs {
			node.Desks = append(node.Desks, unitNode{Unit: d, Staff: staff[d.ID]})
		}
		t := &out[len(out)-1]
		t.Boards = append(t.Boards, node)
	}
	return out, nil
}

// CodeOf is the last code of a region path (a unit's street).
func (v *adminView) CodeOf(path string) string { return lastPathCode(path) }

// UnitsOfKind are the form's units of one kind (AllUnits), for the
// account form's grouped select.
func (v *adminView) UnitsOfKind(kind string) []cases.Unit {
	var out []cases.Unit
	for _, u := range v.AllUnits {
		if u.Kind == kind {
			out = append(out, u)
		}
	}
	return out
}

// KindLabel names a unit kind in Chinese.
func (v *adminView) KindLabel(kind string) string { return cases.UnitKindLabel(kind) }

func (c *Console) adminUnits(w http.ResponseWriter, r *http.Request) error {
	v := &adminView{Tab: "units", Values: url.Values{"active": {"1"}, "kind": {"department"}}}
	q := r.URL.Query()
	if id := q.Get("saved"); id != "" {
		v.Flash = "已保存部门：" + c.unitName(id)
	}
	if id := q.Get("edit"); id != "" {
		u, ok := c.svc.Unit(id)
		if !ok || !inScope(actorOf(r), u.RegionPath) {
			return apperr.New(apperr.NotFound, "部门不存在")
		}
		v.EditUnit = true
		v.Values = url.Values{"id": {u.ID}, "name": {u.Name}, "kind": {u.Kind}, "region": {lastPathCode(u.RegionPath)}, "mode": {"edit"},
			"board": {string(u.Board)}, "parent": {u.Parent}}
		if u.Active {
			v.Values.Set("active", "1")
		}
		var err error
		if v.Audit, err = c.auditTrail(r, "unit", u.ID); err != nil {
			return err
		}
	}
	return c.unitsPage(w, r, http.StatusOK, v)
}

var unitIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func (c *Console) adminSaveUnit(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	f := r.PostForm
	edit := f.Get("mode") == "edit"
	v := &adminView{Tab: "units", Values: f, EditUnit: edit, Errors: map[string]string{}}
	u := cases.Unit{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Kind: f.Get("kind"), Active: f.Get("active") != "",
		Board: cases.Board(f.Get("board")), Parent: f.Get("parent")}
	switch u.Kind {
	case cases.UnitDepartment, cases.UnitCommunity:
		// Neither belongs to a board: what the form's other selects hold
		// does not apply.
		u.Board, u.Parent = "", ""
	case cases.UnitBoard:
		u.Parent = ""
	case cases.UnitPost, cases.UnitSection:
		if p, ok := c.svc.Unit(u.Parent); ok && u.Board == "" {
			u.Board = p.Board // the board follows the chosen parent
		}
		if p, ok := c.svc.Unit(u.Parent); u.Parent != "" && (!ok || !inScope(actor, p.RegionPath)) {
			v.Errors["parent"] = "所属板块不存在或不在您的管辖范围内"
		}
	}
	old, exists := c.svc.Unit(u.ID)
	switch {
	case !unitIDRE.MatchString(u.ID):
		v.Errors["id"] = "编号为1–40位小写字母、数字、下划线或横线，以字母或数字开头"
	case edit && (!exists || !inScope(actor, old.RegionPath)):
		v.Errors["id"] = "要修改的部门不存在"
	case !edit && exists:
		v.Errors["id"] = "编号已被“" + old.Name + "”使用，请换一个"
	}
	p, ok := c.svc.RegionPath(f.Get("region"))
	switch {
	case f.Get("region") == "":
		v.Errors["region"] = "请选择所属区域"
	case !ok || !inScope(actor, p):
		v.Errors["region"] = "所属区域不存在或不在您的管辖范围内"
	}
	u.RegionPath = p
	if len(v.Errors) == 0 {
		err := c.svc.PutUnit(r.Context(), actor, u)
		if apperr.Is(err, apperr.Invalid) {
			v.Errors = adminFields(err, func(s string) string {
				if s == "region_path" {
					return "region"
				}
				return s
			})
		} else if err != nil {
			return err
		}
	}
	if len(v.Errors) > 0 {
		v.Message = "部门未保存，请修改标出的内容"
		if edit && exists && inScope(actor, old.RegionPath) {
			var err error
			if v.Audit, err = c.auditTrail(r, "unit", u.ID); err != nil {
				return err
			}
		}
		return c.unitsPage(w, r, http.StatusBadRequest, v)
	}
	http.Redirect(w, r, "/admin/units?saved="+url.QueryEscape(u.ID), http.StatusSeeOther)
	return nil
}

// ---- categories ------------------------------------------------------------

func (c *Console) categoriesPage(w http.ResponseWriter, r *http.Request, status int, v *adminView) error {
	v.Categories = c.svc.Categories()
	v.Stages, v.Severities, v.Defaults = sla.Stages(), sla.Severities(), sla.DefaultTable()
	v.BoardList, v.CatLevels = cases.Boards, catLevels
	actor := actorOf(r)
	for _, u := range c.svc.Units() {
		if u.Active && inScope(actor, u.RegionPath) || (v.Category != nil && u.ID == v.Category.DefaultUnit) {
			v.AllUnits = append(v.AllUnits, u)
		}
	}
	c.adminPage(w, r, status, v)
	return nil
}

// categoryValues fills the form from a category.
func categoryValues(cat cases.Category) url.Values {
	v := url.Values{"code": {cat.Code}, "name": {cat.Name}, "board": {string(cat.Board)}, "level": {cat.Level},
		"default_unit": {cat.DefaultUnit}, "keywords": {strings.Join(cat.Keywords, "，")}, "description": {cat.Description}}
	if cat.Public {
		v.Set("public", "1")
	}
	if cat.Active {
		v.Set("active", "1")
	}
	for st, row := range cat.Limits {
		for sev, l := range row {
			v.Set("limit."+string(st)+"."+string(sev), l.String())
		}
	}
	return v
}

func (c *Console) adminCategories(w http.ResponseWriter, r *http.Request) error {
	v := &adminView{Tab: "categories"}
	q := r.URL.Query()
	if code := q.Get("saved"); code != "" {
		v.Flash = "已保存类别：" + c.catName(code)
	}
	if q.Get("new") != "" {
		v.Category, v.NewCategory = &cases.Category{}, true
		v.Values = url.Values{"board": {string(cases.Boards[0])}, "level": {"community"}, "active": {"1"}}
	} else if code := q.Get("edit"); code != "" {
		cat, ok := c.svc.Category(code)
		if !ok {
			return apperr.New(apperr.NotFound, "类别不存在")
		}
		v.Category, v.Values = &cat, categoryValues(cat)
		var err error
		if v.Audit, err = c.auditTrail(r, "category", cat.Code); err != nil {
			return err
		}
	}
	return c.categoriesPage(w, r, http.StatusOK, v)
}

var listSep = regexp.MustCompile(`[,，、;；\s]+`)

func (c *Console) adminSaveCategory(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	code := strings.TrimSpace(f.Get("code"))
	cat, ok := c.svc.Category(code)
	isNew := f.Get("mode") == "new"
	v := &adminView{Tab: "categories", Values: f, Errors: map[string]string{}, Category: &cat, NewCategory: isNew}
	switch {
	case isNew && ok:
		v.Errors["code"] = "编码已被“" + cat.Name + "”使用"
	case isNew:
		cat = cases.Category{Code: code}
	case !ok:
		return apperr.New(apperr.NotFound, "类别不存在")
	}
	n := cat // keeps the questions and anything else the form does not edit
	n.Name, n.Board, n.Level = strings.TrimSpace(f.Get("name")), cases.Board(f.Get("board")), f.Get("level")
	n.DefaultUnit, n.Description = f.Get("default_unit"), strings.TrimSpace(f.Get("description"))
	n.Public, n.Active = f.Get("public") != "", f.Get("active") != ""
	n.Keywords = nil
	for _, k := range listSep.Split(f.Get("keywords"), -1) {
		if k = strings.TrimSpace(k); k != "" {
			n.Keywords = append(n.Keywords, k)
		}
	}
	// Limits: a blank cell falls back (to the stage's normal limit, then to
	// the defaults); a stage left wholly blank keeps the default row.
	table := sla.Table{}
	filled := false
	for _, st := range sla.Stages() {
		for _, sev := range sla.Severities() {
			name := "limit." + string(st) + "." + string(sev)
			s := strings.TrimSpace(f.Get(name))
			if s == "" {
				continue
			}
			l, err := sla.ParseLimit(s)
			if err != nil {
				v.Errors[name] = adminFieldList(err)[0].Reason
				continue
			}
			if table[st] == nil {
				table[st] = map[sla.Severity]sla.Limit{}
			}
			table[st][sev], filled = l, true
		}
	}
	if filled {
		def := sla.DefaultTable()
		for _, st := range sla.Stages() {
			row, has := table[st]
			switch {
			case !has:
				table[st] = def[st]
			case row[sla.Normal] == (sla.Limit{}):
				name := "limit." + string(st) + ".normal"
				if v.Errors[name] == "" {
					v.Errors[name] = "填写了“" + st.Label() + "”环节的其他时限时，须同时填写一般时限"
				}
			}
		}
		n.Limits = table
	} else {
		n.Limits = nil
	}
	if len(v.Errors) > 0 {
		// Name the form's other mistakes too, not only the limits'.
		for k, m := range adminFields(n.Validate(), nil) {
			if v.Errors[k] == "" {
				v.Errors[k] = m
			}
		}
	} else {
		err := c.svc.PutCategory(r.Context(), actorOf(r), n)
		if apperr.Is(err, apperr.Invalid) {
			v.Errors = adminFields(err, func(s string) string {
				// "handle.urgent.amount" → the limit's cell
				parts := strings.Split(s, ".")
				if len(parts) >= 2 && sla.Stage(parts[0]).Valid() {
					return "limit." + parts[0] + "." + parts[1]
				}
				return s
			})
		} else if err != nil {
			return err
		}
	}
	if len(v.Errors) > 0 {
		v.Message = "类别未保存，请修改标出的内容"
		if !isNew && ok {
			var err error
			if v.Audit, err = c.auditTrail(r, "category", cat.Code); err != nil {
				return err
			}
		}
		return c.categoriesPage(w, r, http.StatusBadRequest, v)
	}
	http.Redirect(w, r, "/admin/categories?saved="+url.QueryEscape(n.Code), http.StatusSeeOther)
	return nil
}

// catLevels are a category's owning levels.
var catLevels = []struct{ Value, Label string }{{"grid", "网格级"}, {"community", "社区级"}, {"street", "街道级"}, {"district", "区级"}, {"city", "市级"}}

// levelLabel names a category's owning level.
func levelLabel(l string) string {
	for _, x := range catLevels {
		if x.Value == l {
			return x.Label
		}
	}
	return l
}

// LevelLabel names a category's owning level.
func (v *adminView) LevelLabel(l string) string { return levelLabel(l) }

// DefaultLimit is the default limit of a stage and severity, as a hint.
func (v *adminView) DefaultLimit(st sla.Stage, sev sla.Severity) string {
	if l, ok := v.Defaults[st][sev]; ok {
		return l.String()
	}
	return ""
}

// Known reports whether a category form error shows beside its input.
func (v *adminView) Known(k string) bool {
	switch k {
	case "code", "name", "board", "level", "default_unit":
		return true
	}
	return strings.HasPrefix(k, "limit.")
}

// LimitsText summarises a category's limits for the list.
func (v *adminView) LimitsText(cat cases.Category) string {
	if len(cat.Limits) == 0 {
		return "默认"
	}
	var parts []string
	for _, st := range sla.Stages() {
		if l, ok := cat.Limits[st][sla.Normal]; ok {
			parts = append(parts, st.Label()+l.String())
		}
	}
	return strings.Join(parts, " · ")
}

// ---- calendar --------------------------------------------------------------

func (c *Console) calendarPage(w http.ResponseWriter, r *http.Request, status int, v *adminView) error {
	now := c.svc.Now().In(c.svc.Calendar().Location())
	builtin := calendar.Default()
	for y := now.Year() - 1; y <= now.Year()+1; y++ {
		v.Years = append(v.Years, yearCoverage{Year: y, Builtin: builtin.HasYear(y)})
	}
	year := now.Year()
	if y, err := strconv.Atoi(r.FormValue("year")); err == nil && y >= 2001 && y <= 2099 {
		year = y
	}
	// The view shows the overlay as the form holds it (unsaved clicks and
	// all) when it reads, else as saved.
	overlay := c.svc.CalendarConfig(r.Context()).Overlay
	if v.Values != nil {
		if o, err := calendar.ParseOverlay(v.Values.Get("overlay")); err == nil {
			overlay = o
		}
	}
	v.CalYear, v.CalPrev, v.CalNext = year, year-1, year+1
	v.CalMonths = calendarYear(year, overlay)
	c.adminPage(w, r, status, v)
	return nil
}

func (c *Console) adminCalendar(w http.ResponseWriter, r *http.Request) error {
	v := &adminView{Tab: "calendar"}
	if r.URL.Query().Get("saved") != "" {
		v.Flash = "已保存工作日历，新的时限按此计算"
	}
	cfg := c.svc.CalendarConfig(r.Context())
	hours := cfg.Hours
	if len(hours) == 0 {
		hours = calendar.DefaultHours()
	}
	var hs []string
	for _, h := range hours {
		hs = append(hs, h.String())
	}
	v.Values = url.Values{"hours": {strings.Join(hs, "\n")}, "overlay": {formatOverlay(cfg.Overlay)}}
	return c.calendarPage(w, r, http.StatusOK, v)
}

var lineIndexRE = regexp.MustCompile(`^(hours|overlay|line)\[(\d+)\]`)

func (c *Console) adminSaveCalendar(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	v := &adminView{Tab: "calendar", Values: f, Errors: map[string]string{}}
	var cfg calendar.Config
	var lines []string
	for i, line := range strings.Split(strings.ReplaceAll(f.Get("hours"), "，", "\n"), "\n") {
		if line = strings.TrimSpace(strings.Trim(line, ",")); line == "" {
			continue
		}
		s, err := calendar.ParseSpan(line)
		if err != nil {
			lines = append(lines, fmt.Sprintf("第 %d 行“%s”：%s", i+1, line, adminFieldList(err)[0].Reason))
			continue
		}
		cfg.Hours = append(cfg.Hours, s)
	}
	if len(lines) > 0 {
		v.Errors["hours"] = strings.Join(lines, "；")
	} else if len(cfg.Hours) == 0 {
		v.Errors["hours"] = "至少需要一个工作时间段，如 08:30-12:00"
	}
	overlay, err := calendar.ParseOverlay(f.Get("overlay"))
	if err != nil {
		if !apperr.Is(err, apperr.Invalid) {
			return err
		}
		v.Errors["overlay"] = lineErrors(err, "行")
	}
	// A click on a day of the calendar view without the script submits
	// the form with that date: flip it, then save as the form is.
	if d := f.Get("toggle"); d != "" && err == nil {
		if overlay, err = calendar.Toggle(overlay, d); err != nil {
			v.Errors["overlay"] = adminFieldList(err)[0].Reason
		} else {
			f.Set("overlay", formatOverlay(overlay))
		}
	}
	cfg.Overlay = overlay
	if len(v.Errors) == 0 {
		err := c.svc.PutCalendarAs(r.Context(), actorOf(r), cfg)
		if apperr.Is(err, apperr.Invalid) {
			for _, fe := range adminFieldList(err) {
				key := "hours"
				if strings.HasPrefix(fe.Field, "overlay") {
					key = "overlay"
				}
				v.Errors[key] = strings.TrimPrefix(v.Errors[key]+"；"+lineText(fe, "条")+fe.Reason, "；")
			}
		} else if err != nil {
			return err
		}
	}
	if len(v.Errors) > 0 {
		v.Message = "工作日历未保存，请修改标出的内容"
		return c.calendarPage(w, r, http.StatusBadRequest, v)
	}
	back := "/admin/calendar?saved=1"
	if y, err := strconv.Atoi(f.Get("year")); err == nil && y >= 2001 && y <= 2099 {
		back += "&year=" + strconv.Itoa(y)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// lineErrors words field errors named "line[3].kind" as 第 3 行：….
func lineErrors(err error, unit string) string {
	var out []string
	for _, fe := range adminFieldList(err) {
		out = append(out, lineText(fe, unit)+fe.Reason)
	}
	return strings.Join(out, "；")
}

func lineText(fe apperr.FieldError, unit string) string {
	m := lineIndexRE.FindStringSubmatch(fe.Field)
	if m == nil {
		return ""
	}
	n, _ := strconv.Atoi(m[2])
	if m[1] != "line" {
		n++ // hours[0], overlay[0] count from zero
	}
	return fmt.Sprintf("第 %d %s：", n, unit)
}

// ---- accounts --------------------------------------------------------------

// maxAccountRows bounds the account list; a search narrows it.
const maxAccountRows = 500

// maxRegionChoices bounds the region suggestions of the account form.
const maxRegionChoices = 3000

func (c *Console) accountsPage(w http.ResponseWriter, r *http.Request, status int, v *adminView) error {
	ctx, actor := r.Context(), actorOf(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v.Values.Set("q", q)
	all, err := c.scopedAccounts(r, q) // the same list the export writes (list_export.go)
	if err != nil {
		return err
	}
	for _, a := range all {
		u, hasUnit := c.svc.Unit(a.UnitID)
		v.AccountTotal++
		if len(v.Accounts) >= maxAccountRows {
			continue
		}
		row := accountRow{Account: a, Phone: cases.MaskPhone(a.Phone), Place: joinNames(c.svc.PathNames(a.RegionPath), 1),
			Created: c.when(a.CreatedAt)}
		row.PasswordHash = ""
		if hasUnit {
			row.Unit = u.Name
		}
		v.Accounts = append(v.Accounts, row)
	}
	v.Roles, v.UnitKinds = cases.Roles, cases.UnitKinds
	for _, u := range c.svc.Units() {
		if u.Active && inScope(actor, u.RegionPath) {
			v.AllUnits = append(v.AllUnits, u)
		}
	}
	for _, l := range []region.Level{region.District, region.Street, region.Community, region.Grid} {
		rs, err := c.svc.DB().Regions(ctx, store.RegionFilter{Level: l, Under: actor.RegionPath})
		if err != nil {
			return err
		}
		if len(v.RegionChoice)+len(rs) > maxRegionChoices {
			break
		}
		v.RegionChoice = append(v.RegionChoice, rs...)
	}
	c.adminPage(w, r, status, v)
	return nil
}

func (c *Console) adminAccounts(w http.ResponseWriter, r *http.Request) error {
	v := &adminView{Tab: "accounts", Values: url.Values{"role": {string(cases.RoleGridWorker)}}}
	q := r.URL.Query()
	if u := q.Get("created"); u != "" {
		v.Flash = "已创建账号：" + u
	}
	if u := q.Get("saved"); u != "" {
		v.Flash = "已保存账号：" + u
	}
	if id := q.Get("edit"); id != "" {
		a, err := c.accountInScope(r, id)
		if err != nil {
			return err
		}
		v.EditAccount = &a
		if v.AccountLock, err = c.svc.SignInLockOf(r.Context(), a.ID); err != nil {
			return err
		}
		v.Values = url.Values{"role": {string(cases.RoleGridWorker)}, "e.name": {a.Name}, "e.role": {string(a.Role)},
			"e.region_code": {lastPathCode(a.RegionPath)}, "e.unit_id": {a.UnitID}, "e.title": {a.Title}, "e.phone": {a.Phone}}
		if a.Active {
			v.Values.Set("e.active", "1")
		}
	}
	return c.accountsPage(w, r, http.StatusOK, v)
}

// accountInScope reads an account the administrator may change: one whose
// region or unit lies within the administrator's region.
func (c *Console) accountInScope(r *http.Request, id string) (store.Account, error) {
	actor := actorOf(r)
	a, err := c.svc.DB().Account(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return a, apperr.New(apperr.NotFound, "账号不存在")
	}
	if err != nil {
		return a, err
	}
	u, hasUnit := c.svc.Unit(a.UnitID)
	if (a.RegionPath != "" && !inScope(actor, a.RegionPath)) || (a.Role == cases.RoleUnit && (!hasUnit || !inScope(actor, u.RegionPath))) {
		return a, apperr.New(apperr.NotFound, "账号不存在")
	}
	a.PasswordHash = ""
	return a, nil
}

// adminUpdateAccount saves the edit form of one account. The form's inputs
// are named "e.<field>" so that the create form beside it keeps its values.
func (c *Console) adminUpdateAccount(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	old, err := c.accountInScope(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := r.PostForm
	v := &adminView{Tab: "accounts", Values: url.Values{"role": {string(cases.RoleGridWorker)}}, Errors: map[string]string{}, EditAccount: &old}
	for k, x := range f {
		v.Values[k] = x
	}
	role := cases.Role(f.Get("e.role"))
	in := service.AccountChange{Name: ptr(f.Get("e.name")), Role: &role, RegionCode: ptr(strings.TrimSpace(f.Get("e.region_code"))),
		UnitID: ptr(f.Get("e.unit_id")), Title: ptr(strings.TrimSpace(f.Get("e.title"))), Phone: ptr(strings.TrimSpace(f.Get("e.phone"))),
		Active: ptr(f.Get("e.active") != "")}
	if f.Get("e.unlock") != "" {
		in.Unlock = ptr(true)
	}
	switch role {
	case cases.RoleUnit, cases.RoleResident:
		in.RegionCode = nil
	case cases.RoleCommunity:
		// A community's staff work in the community of their unit.
		if u, ok := c.svc.Unit(*in.UnitID); ok && *in.RegionCode == "" && u.Kind == cases.UnitCommunity {
			in.RegionCode = ptr(lastPathCode(u.RegionPath))
		}
	}
	if role != cases.RoleUnit && role != cases.RoleCommunity {
		in.UnitID = nil
	}
	if p := f.Get("e.password"); p != "" || f.Get("e.password2") != "" {
		in.Password = &p
		if p != f.Get("e.password2") {
			v.Errors["e.password2"] = "两次输入的密码不一致"
		}
	}
	if _, ok := cases.NormalizeStaffPhone(*in.Phone); *in.Phone != "" && *in.Phone != old.Phone && !ok {
		v.Errors["e.phone"] = cases.PhoneHint // named with the form's other mistakes
	}
	switch role {
	case cases.RoleUnit, cases.RoleCommunity:
		if u, ok := c.svc.Unit(*in.UnitID); ok && !inScope(actor, u.RegionPath) {
			v.Errors["e.unit_id"] = "该部门不在您的管辖范围内"
		}
	case cases.RoleResident:
	default:
		if p, ok := c.svc.RegionPath(*in.RegionCode); ok && !inScope(actor, p) {
			v.Errors["e.region_code"] = "该区域不在您的管辖范围内"
		}
	}
	if len(v.Errors) == 0 {
		_, err := c.svc.UpdateAccount(r.Context(), actor, old.ID, in, auth.DefaultParams)
		if apperr.Is(err, apperr.Invalid) {
			v.Errors = adminFields(err, func(s string) string { return "e." + s })
		} else if err != nil {
			return err
		}
	}
	if len(v.Errors) > 0 {
		v.Message = "账号未保存，请修改标出的内容"
		return c.accountsPage(w, r, http.StatusBadRequest, v)
	}
	http.Redirect(w, r, "/admin/accounts?saved="+url.QueryEscape(old.Username), http.StatusSeeOther)
	return nil
}

func ptr[T any](v T) *T { return &v }

func (c *Console) adminCreateAccount(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	f := r.PostForm
	v := &adminView{Tab: "accounts", Values: f, Errors: map[string]string{}}
	in := service.NewAccount{Username: strings.TrimSpace(f.Get("username")), Name: strings.TrimSpace(f.Get("name")),
		Role: cases.Role(f.Get("role")), RegionCode: strings.TrimSpace(f.Get("region_code")), UnitID: f.Get("unit_id"),
		Phone: strings.TrimSpace(f.Get("phone")), Title: strings.TrimSpace(f.Get("title")), Password: f.Get("password")}
	if _, ok := cases.NormalizeStaffPhone(in.Phone); in.Phone != "" && !ok {
		v.Errors["phone"] = cases.PhoneHint // named with the form's other mistakes
	}
	if in.Password != f.Get("password2") {
		v.Errors["password2"] = "两次输入的密码不一致"
	}
	if u, ok := c.svc.Unit(in.UnitID); ok && in.Role == cases.RoleCommunity && in.RegionCode == "" && u.Kind == cases.UnitCommunity {
		in.RegionCode = lastPathCode(u.RegionPath) // a community's staff work in the community of their unit
	}
	switch in.Role {
	case cases.RoleUnit, cases.RoleCommunity:
		if u, ok := c.svc.Unit(in.UnitID); ok && !inScope(actor, u.RegionPath) {
			v.Errors["unit_id"] = "该部门不在您的管辖范围内"
		}
	case cases.RoleResident:
	default:
		if p, ok := c.svc.RegionPath(in.RegionCode); ok && !inScope(actor, p) {
			v.Errors["region_code"] = "该区域不在您的管辖范围内"
		}
	}
	if len(v.Errors) == 0 {
		in.By = actorOf(r)
		_, err := c.svc.CreateAccount(r.Context(), in, auth.DefaultParams)
		if apperr.Is(err, apperr.Invalid) {
			v.Errors = adminFields(err, nil)
		} else if err != nil {
			return err
		}
	}
	if len(v.Errors) > 0 {
		v.Message = "账号未创建，请修改标出的内容"
		return c.accountsPage(w, r, http.StatusBadRequest, v)
	}
	http.Redirect(w, r, "/admin/accounts?created="+url.QueryEscape(in.Username), http.StatusSeeOther)
	return nil
}
