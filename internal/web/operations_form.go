package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/operation"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
)

// The planning form of an operation (大型活动, S3): its name and window,
// its areas (each drawn on the map, imported from a GeoJSON file or typed
// as vertex lines; its crowd lines and the people on duty) and its
// prepared tasks. Commanders plan operations (/operations/new, POST
// /operations); a commander of the operation's center or above changes
// one (/operations/{id}/edit, POST /operations/{id}), carrying the version
// the form was opened on, so a save over another's is refused (409). The
// form works without the page's script: the rows are numbered fields
// (area.0.name, task.1.at…), "再加一个区域/任务" posts the form back with
// one more row, and each area's shape is a textarea (map.js draws into it).
// Every field is checked by operation.Check and the service; each error is
// shown by its field, and nothing is saved then.

// opPlanners may open the planning form: the commanders (the service
// decides which operation each may change).
var opPlanners = access{roles: []cases.Role{cases.RoleCommander}}

// maxShapeFile bounds one area's GeoJSON file.
const maxShapeFile = 2 << 20

// maxOperationForm bounds the planning form: a few area files and the
// fields.
const maxOperationForm = 4*maxShapeFile + maxForm

// maxFormRows bounds the rows a posted form may declare.
const maxFormRows = 60

type opFormArea struct {
	Row                           int
	Key, Name, Yellow, Red, Shape string
	Duty                          string
}

type opFormTask struct {
	Row                                    int
	ID, Area, Title, Description, Category string
	Unit, Trigger, At, Limit               string
}

type opFormView struct {
	ID       string // "" while new
	Version  int
	Values   url.Values // the operation's own fields
	Areas    []opFormArea
	Tasks    []opFormTask
	Errors   map[string]string
	Message  string
	Conflict bool

	Kinds []sensors.Kind
	Cats  []cases.Category // categories cases can be raised in without questions
	Units []cases.Unit
}

func (v *opFormView) title() string {
	if v.ID == "" {
		return "制定大型活动"
	}
	return "修改大型活动"
}

// Val is an operation field's value.
func (v *opFormView) Val(k string) string { return v.Values.Get(k) }

// Err is what was wrong with a field (area.0.red, task.1.at, name…).
func (v *opFormView) Err(k string) string { return v.Errors[k] }

// AreaLabel names an area row in the tasks' area lists.
func (v *opFormView) AreaLabel(a opFormArea) string {
	s := "区域" + strconv.Itoa(a.Row+1)
	if a.Name != "" {
		s += "：" + a.Name
	}
	return s
}

// Action is where the form posts.
func (v *opFormView) Action() string {
	if v.ID == "" {
		return "/operations"
	}
	return "/operations/" + url.PathEscape(v.ID)
}

func (c *Console) opFormView(r *http.Request, v *opFormView) (*opFormView, error) {
	var err error
	if v.Kinds, err = c.svc.DeviceKinds(r.Context()); err != nil {
		return nil, err
	}
	for _, cat := range c.svc.Categories() {
		ok := cat.Active
		for _, q := range cat.Questions {
			ok = ok && !q.Required
		}
		if ok {
			v.Cats = append(v.Cats, cat)
		}
	}
	for _, u := range c.svc.Units() {
		if u.Dispatchable() {
			v.Units = append(v.Units, u)
		}
	}
	if v.Values == nil {
		v.Values = url.Values{}
	}
	return v, nil
}

// opFormOf is the form of a stored operation.
func (c *Console) opFormOf(op operation.Operation) *opFormView {
	loc := c.svc.Calendar().Location()
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02T15:04")
	}
	v := &opFormView{ID: op.ID, Version: op.Version, Values: url.Values{"id": {op.ID}, "name": {op.Name}, "start": {at(op.Start)},
		"end": {at(op.End)}, "kind": {op.Kind}, "alert_category": {op.AlertCategory}}}
	rows := map[string]int{}
	for i, a := range op.Areas {
		rows[a.Key] = i
		num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
		v.Areas = append(v.Areas, opFormArea{Row: i, Key: a.Key, Name: a.Name, Yellow: num(a.Yellow), Red: num(a.Red),
			Shape: operation.ShapeText(a.Shape), Duty: operation.DutyText(a.Duty)})
	}
	for i, t := range op.Tasks {
		v.Tasks = append(v.Tasks, opFormTask{Row: i, ID: t.ID, Area: strconv.Itoa(rows[t.Area]), Title: t.Title, Description: t.Description,
			Category: t.Category, Unit: t.Unit, Trigger: string(t.Trigger), At: at(t.At), Limit: strconv.Itoa(t.LimitMinutes)})
	}
	return v
}

// operationNew is the empty planning form: one area and one task to fill.
func (c *Console) operationNew(w http.ResponseWriter, r *http.Request) error {
	if !service.CanPlanOperations(actorOf(r)) {
		return apperr.New(apperr.Forbidden, "大型活动由指挥中心制定")
	}
	v := &opFormView{Values: url.Values{}, Areas: []opFormArea{{}}, Tasks: []opFormTask{{}}}
	if kinds, err := c.svc.DeviceKinds(r.Context()); err == nil {
		for _, k := range kinds {
			if k.Code == "crowd" {
				v.Values.Set("kind", k.Code) // the demo's and the usual crowd counters
			}
		}
	}
	v, err := c.opFormView(r, v)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "operation.form", v)
	return nil
}

// operationEdit is the form of an operation the commander may change.
func (c *Console) operationEdit(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	op, err := c.svc.Operation(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !service.CanChangeOperation(actor, op) {
		return apperr.New(apperr.Forbidden, "只有本中心或上级指挥中心可以修改该活动")
	}
	v, err := c.opFormView(r, c.opFormOf(op))
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "operation.form", v)
	return nil
}

// operationSave creates (POST /operations) or changes (POST
// /operations/{id}) an operation from the form; "do=area" or "do=task"
// shows the form again with one more row, saving nothing.
func (c *Console) operationSave(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	id := r.PathValue("id")
	if !service.CanPlanOperations(actor) {
		return apperr.New(apperr.Forbidden, "大型活动由指挥中心制定")
	}
	v, op, bad := c.readOpForm(r, id)
	switch r.PostForm.Get("do") {
	case "area":
		if len(v.Areas) < operation.MaxAreas {
			v.Areas = append(v.Areas, opFormArea{Row: len(v.Areas)})
		}
		return c.renderOpForm(w, r, http.StatusOK, v)
	case "task":
		if len(v.Tasks) < operation.MaxTasks {
			v.Tasks = append(v.Tasks, opFormTask{Row: len(v.Tasks), Area: "0"})
		}
		return c.renderOpForm(w, r, http.StatusOK, v)
	}
	if bad.err != nil {
		// The form's own errors, over what the operation's check finds in
		// the rest.
		op.Normalize()
		v.Errors = bad.formErrors(op.Check())
		if v.Errors == nil {
			v.Errors = map[string]string{}
		}
		for k, msg := range bad.formErrors(bad.err) {
			v.Errors[k] = msg
		}
		v.Message = "请按提示修改后重新提交，活动尚未保存"
		return c.renderOpForm(w, r, http.StatusBadRequest, v)
	}
	saved, err := c.svc.SaveOperation(r.Context(), actor, op)
	if err == nil {
		http.Redirect(w, r, "/operations/"+url.PathEscape(saved.ID)+"?saved="+strconv.Itoa(saved.Version), http.StatusSeeOther)
		return nil
	}
	if apperr.Is(err, apperr.Conflict) {
		v.Conflict = true
		v.Message = "已被他人修改：您打开表单之后，该活动已保存了新的版本。请重新载入最新版本后再修改（您填写的内容如下，可对照重填）。"
		return c.renderOpForm(w, r, http.StatusConflict, v)
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	v.Errors = bad.formErrors(err)
	v.Message = "请按提示修改后重新提交，活动尚未保存"
	return c.renderOpForm(w, r, http.StatusBadRequest, v)
}

func (c *Console) renderOpForm(w http.ResponseWriter, r *http.Request, status int, v *opFormView) error {
	v, err := c.opFormView(r, v)
	if err != nil {
		return err
	}
	c.render(w, r, status, "operation.form", v)
	return nil
}

// opFormRead is what reading the form found: its own errors (a number
// that is none, a file that is no GeoJSON) and where each of the
// operation's areas and tasks came from.
type opFormRead struct {
	err      error
	areaRows []int // the operation's area i is the form's row areaRows[i]
	taskRows []int
}

var opFieldRE = regexp.MustCompile(`^(areas|tasks)\[(\d+)\]\.?(.*)$`)
var dutyFieldRE = regexp.MustCompile(`^duty\[(\d+)\]\.(.*)$`)

// formErrors maps the errors' fields to the form's inputs: areas[1].red →
// area.R.red (R: the area's row), areas[0].duty[2].phone → area.R.duty
// (naming the line), tasks[0].limit_minutes → task.R.limit.
func (rd opFormRead) formErrors(err error) map[string]string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	out := map[string]string{}
	add := func(k, msg string) {
		if prev, ok := out[k]; ok && prev != msg {
			msg = prev + "；" + msg
		}
		out[k] = msg
	}
	for _, f := range e.Fields {
		m := opFieldRE.FindStringSubmatch(f.Field)
		if m == nil {
			add(f.Field, f.Reason)
			continue
		}
		i, _ := strconv.Atoi(m[2])
		rows, prefix := rd.areaRows, "area."
		if m[1] == "tasks" {
			rows, prefix = rd.taskRows, "task."
		}
		if i >= len(rows) {
			add(m[1], f.Reason)
			continue
		}
		name, msg := m[3], f.Reason
		if d := dutyFieldRE.FindStringSubmatch(name); d != nil {
			n, _ := strconv.Atoi(d[1])
			name, msg = "duty", fmt.Sprintf("第%d行：%s", n+1, f.Reason)
		}
		switch name {
		case "limit_minutes":
			name = "limit"
		case "id":
			name = "title" // the task's number is the form's own
		case "":
			name = "key"
		}
		add(prefix+strconv.Itoa(rows[i])+"."+name, msg)
	}
	return out
}

// readOpForm reads the posted form into its view (the values as typed)
// and the operation, skipping blank rows and rows marked for removal.
func (c *Console) readOpForm(r *http.Request, id string) (*opFormView, operation.Operation, opFormRead) {
	f := r.PostForm
	loc := c.svc.Calendar().Location()
	var bad apperr.Fields
	var rd opFormRead
	v := &opFormView{ID: id, Values: url.Values{}}
	for _, k := range []string{"id", "name", "start", "end", "kind", "alert_category"} {
		v.Values.Set(k, strings.TrimSpace(f.Get(k)))
	}
	if id != "" {
		v.Values.Set("id", id)
	}
	op := operation.Operation{ID: v.Val("id"), Name: v.Val("name"), Kind: v.Val("kind"), AlertCategory: v.Val("alert_category")}
	if id != "" {
		n, err := strconv.Atoi(f.Get("version"))
		if err != nil || n <= 0 {
			bad.Add("version", "表单缺少版本号，请重新打开修改页面")
		}
		op.Version, v.Version = n, n
	}
	timeOf := func(field, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := localTime(s, loc)
		if err != nil {
			bad.Add(field, "时间格式应为 2024-12-31 20:00")
		}
		return t
	}
	op.Start, op.End = timeOf("start", v.Val("start")), timeOf("end", v.Val("end"))
	rows := func(name string) int {
		n, _ := strconv.Atoi(f.Get(name))
		return max(0, min(n, maxFormRows))
	}
	keyOfRow := map[int]string{}
	for row := range rows("areas") {
		p := "area." + strconv.Itoa(row) + "."
		a := opFormArea{Row: row, Key: strings.TrimSpace(f.Get(p + "key")), Name: strings.TrimSpace(f.Get(p + "name")),
			Yellow: strings.TrimSpace(f.Get(p + "yellow")), Red: strings.TrimSpace(f.Get(p + "red")),
			Shape: strings.TrimSpace(f.Get(p + "shape")), Duty: strings.TrimSpace(f.Get(p + "duty"))}
		// A GeoJSON file given for the area replaces its shape's text.
		if r.MultipartForm != nil {
			if fhs := r.MultipartForm.File[p+"file"]; len(fhs) > 0 && fhs[0].Size > 0 {
				text, err := readShapeFile(fhs[0])
				if err != nil {
					bad.Add(p+"shape", fhs[0].Filename+"："+err.Error())
				} else {
					a.Shape = text
				}
			}
		}
		if f.Get(p+"remove") != "" {
			continue
		}
		blank := a == (opFormArea{Row: row})
		fr := len(v.Areas) // the row as shown again
		a.Row = fr
		v.Areas = append(v.Areas, a)
		if blank {
			continue
		}
		fp := "area." + strconv.Itoa(fr) + "."
		area := operation.Area{Key: a.Key, Name: a.Name, Duty: operation.DutyFromText(a.Duty)}
		area.Yellow = opNumber(&bad, fp+"yellow", a.Yellow, "请填写黄色阈值（人数）")
		area.Red = opNumber(&bad, fp+"red", a.Red, "请填写红色阈值（人数）")
		shape, err := operation.ShapeFromText(a.Shape)
		if err != nil {
			bad.Add(fp+"shape", "区域范围无效："+err.Error())
		}
		area.Shape = shape
		keyOfRow[row] = a.Key
		op.Areas = append(op.Areas, area)
		rd.areaRows = append(rd.areaRows, fr)
	}
	newRow := map[string]string{} // the tasks' area: posted row → row shown again
	shown := 0
	for row := range rows("areas") {
		if f.Get("area."+strconv.Itoa(row)+".remove") == "" {
			newRow[strconv.Itoa(row)] = strconv.Itoa(shown)
			shown++
		}
	}
	used := map[string]bool{}
	for row := range rows("tasks") {
		used[strings.TrimSpace(f.Get("task."+strconv.Itoa(row)+".id"))] = true
	}
	seq := 0
	for row := range rows("tasks") {
		p := "task." + strconv.Itoa(row) + "."
		if f.Get(p+"remove") != "" {
			continue
		}
		t := opFormTask{ID: strings.TrimSpace(f.Get(p + "id")), Area: f.Get(p + "area"), Title: strings.TrimSpace(f.Get(p + "title")),
			Description: strings.TrimSpace(f.Get(p + "description")), Category: f.Get(p + "category"), Unit: f.Get(p + "unit"),
			Trigger: f.Get(p + "trigger"), At: strings.TrimSpace(f.Get(p + "at")), Limit: strings.TrimSpace(f.Get(p + "limit"))}
		areaRow, _ := strconv.Atoi(t.Area)
		t.Area = newRow[t.Area]
		fr := len(v.Tasks)
		t.Row = fr
		if t.Title == "" && t.Description == "" && t.Category == "" && t.Unit == "" && t.At == "" && t.Limit == "" {
			v.Tasks = append(v.Tasks, t)
			continue // a blank row
		}
		if t.ID == "" {
			for {
				seq++
				if cand := "t" + strconv.Itoa(seq); !used[cand] {
					t.ID, used[cand] = cand, true
					break
				}
			}
		}
		v.Tasks = append(v.Tasks, t)
		fp := "task." + strconv.Itoa(fr) + "."
		task := operation.Task{ID: t.ID, Area: keyOfRow[areaRow], Title: t.Title, Description: t.Description, Category: t.Category,
			Unit: t.Unit, Trigger: operation.Trigger(t.Trigger)}
		if task.Trigger == operation.OnTime {
			task.At = timeOf(fp+"at", t.At)
		} else if t.At != "" {
			task.At = timeOf(fp+"at", t.At) // refused by Check: a triggered task has no moment
		}
		if t.Limit == "" {
			bad.Add(fp+"limit", "请填写处置时限（分钟）")
		} else if n, err := strconv.Atoi(t.Limit); err != nil {
			bad.Add(fp+"limit", "处置时限须为整数分钟")
		} else {
			task.LimitMinutes = n
		}
		op.Tasks = append(op.Tasks, task)
		rd.taskRows = append(rd.taskRows, fr)
	}
	if len(v.Areas) == 0 {
		v.Areas = []opFormArea{{}}
	}
	rd.err = bad.Err()
	return v, op, rd
}

// opNumber reads a positive number of people.
func opNumber(bad *apperr.Fields, field, s, empty string) float64 {
	if s == "" {
		bad.Add(field, empty)
		return 0
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		bad.Add(field, "请填写数字")
	}
	return n
}

// readShapeFile reads an area's GeoJSON file as the shape's text.
func readShapeFile(fh *multipart.FileHeader) (string, error) {
	if fh.Size > maxShapeFile {
		return "", fmt.Errorf("文件超过%dMB", maxShapeFile>>20)
	}
	file, err := fh.Open()
	if err != nil {
		return "", errors.New("文件读取失败")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxShapeFile+1))
	if err != nil {
		return "", errors.New("文件读取失败")
	}
	mp, err := operation.ShapeFromGeoJSON(data)
	if err != nil {
		return "", fmt.Errorf("不是有效的 GeoJSON 多边形：%w", err)
	}
	if len(mp) == 0 {
		return "", errors.New("文件中没有多边形")
	}
	return operation.ShapeText(mp), nil
}
