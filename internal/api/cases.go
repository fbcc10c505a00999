package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

func (a *API) signIn(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	token, acct, err := a.svc.SignInFrom(r.Context(), a.clientAddr(r), in.Username, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": token, "account": acct})
	return nil
}

func (a *API) signOut(w http.ResponseWriter, r *http.Request) error {
	secret := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if c, err := r.Cookie(TokenCookie); secret == "" && err == nil {
		secret = c.Value
	}
	if err := a.svc.SignOut(r.Context(), secret); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	acct, err := a.db.Account(r.Context(), actorOf(r).AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, acct)
	return nil
}

func (a *API) uploadPhoto(w http.ResponseWriter, r *http.Request) error {
	var body io.Reader = r.Body
	declared := service.DeclaredType(r.Header.Get("Content-Type"), "")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		f, fh, err := r.FormFile("photo")
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		if err != nil {
			return apperr.Field("photo", "请选择照片文件（表单字段 photo）")
		}
		defer f.Close()
		body, declared = f, service.DeclaredType(fh.Header.Get("Content-Type"), fh.Filename)
	}
	p, err := a.svc.SavePhoto(body, declared)
	if err != nil {
		return err
	}
	// The uploader may see what it sent.
	p.URL, p.ThumbURL = a.svc.PhotoURL(p.Hash), a.svc.ThumbURL(p.Hash)
	writeJSON(w, http.StatusCreated, p)
	return nil
}

// photo serves a photo by its signed address only: a hash alone is not
// enough (issue 20).
func (a *API) photo(w http.ResponseWriter, r *http.Request) error {
	hash, q := r.PathValue("hash"), r.URL.Query()
	if err := a.svc.CheckPhotoURL(hash, q.Get("e"), q.Get("s")); err != nil {
		return err
	}
	open := a.svc.OpenPhoto
	switch q.Get("v") {
	case "":
	case "thumb": // the thumbnail, made once and kept
		open = a.svc.OpenThumb
	default:
		return apperr.Field("v", "v 只能为空或 thumb")
	}
	f, err := open(hash)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.Header().Set("Content-Type", http.DetectContentType(head[:n]))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Cached until the address expires (a new address comes every 12 hours).
	w.Header().Set("Cache-Control", "private, max-age=43200, immutable")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

func (a *API) report(w http.ResponseWriter, r *http.Request) error {
	var in cases.Report
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.svc.Report(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+c.ID)
	writeJSON(w, http.StatusCreated, a.svc.WithPhotoURLs(cases.Redact(actorOf(r), c)))
	return nil
}

// caseFilter reads the list filters from the query string.
func caseFilter(r *http.Request) (store.CaseFilter, error) {
	q := r.URL.Query()
	var f store.CaseFilter
	var errs apperr.Fields
	for _, s := range splitList(q.Get("state")) {
		st := cases.State(s)
		if !st.Valid() {
			errs.Addf("state", "未知状态“%s”", s)
		}
		f.States = append(f.States, st)
	}
	if v := q.Get("open"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs.Add("open", "应为 true 或 false")
		}
		f.Open = &b
	}
	if v := q.Get("region"); v != "" {
		f.RegionPath = v // a region code; resolved by the caller
	}
	f.Grid, f.Category, f.Board, f.Unit, f.Source = q.Get("grid"), q.Get("category"), q.Get("board"), q.Get("unit"), q.Get("source")
	if f.Board != "" && !cases.Board(f.Board).Valid() {
		errs.Add("board", "板块应为 party、economy、services 或 safety")
	}
	if f.Source != "" && !cases.Source(f.Source).Valid() {
		errs.Add("source", "来源无效")
	}
	if v := q.Get("severity"); v != "" {
		if !sla.Severity(v).Valid() {
			errs.Add("severity", "紧急程度无效")
		}
		f.Severity = v
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs.Add("overdue", "应为 true 或 false")
		}
		f.Overdue = &b
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				errs.Add(p.name, "应为带时区的时间，如 2026-01-02T15:04:05+08:00")
			}
			*p.dst = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		errs.Add("to", "结束时间须晚于开始时间")
	}
	f.Text = q.Get("q")
	if len([]rune(f.Text)) > 100 {
		errs.Add("q", "搜索词不能超过100字")
	}
	if v := q.Get("bbox"); v != "" {
		parts := strings.Split(v, ",")
		var n [4]float64
		ok := len(parts) == 4
		for i := 0; ok && i < 4; i++ {
			x, err := strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
			ok = err == nil
			n[i] = x
		}
		rect := geo.Rect{Min: geo.Point{Lng: n[0], Lat: n[1]}, Max: geo.Point{Lng: n[2], Lat: n[3]}}
		if !ok || !rect.Min.Valid() || !rect.Max.Valid() || rect.Min.Lng > rect.Max.Lng || rect.Min.Lat > rect.Max.Lat {
			errs.Add("bbox", "应为 最小经度,最小纬度,最大经度,最大纬度")
		}
		f.BBox = &rect
	}
	f.After = q.Get("after")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			errs.Add("limit", "应为1到500之间的整数")
		}
		f.Limit = n
	}
	return f, errs.Err()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a *API) resolveRegion(f *store.CaseFilter) error {
	if f.RegionPath == "" {
		return nil
	}
	p, ok := a.svc.RegionPath(f.RegionPath)
	if !ok {
		return apperr.Field("region", "区域不存在")
	}
	f.RegionPath = p
	return nil
}

func (a *API) listCases(w http.ResponseWriter, r *http.Request) error {
	f, err := caseFilter(r)
	if err != nil {
		return err
	}
	if err := a.resolveRegion(&f); err != nil {
		return err
	}
	// The cases behind one figure of the evaluation (service.DrillQuery).
	drill := false
	if q := r.URL.Query(); q.Get("fact") != "" || q.Get("period") != "" {
		if err := a.svc.Drill(&f, q.Get("fact"), q.Get("period")); err != nil {
			return err
		}
		drill = true
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if fullListing.Load() {
		return a.listFull(w, r, f, drill)
	}
	list, err := a.svc.ListItems(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	var total *int
	if drill {
		// A figure's list says its size, to be checked against the figure.
		n, err := a.svc.Count(r.Context(), actorOf(r), f)
		if err != nil {
			return err
		}
		total = &n
	}
	next := ""
	if len(list) == f.Limit {
		next = list[len(list)-1].ID()
	}
	size := 64
	for i := range list {
		size += len(list[i].JSON) + 160
	}
	body := appendListPage(make([]byte, 0, size), list, a.svc.Now(), next, total)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
}

// listPage is a page of a case listing (documented by its type; written by
// appendListPage).
type listPage struct {
	Items []listItem `json:"items"`
	Next  string     `json:"next,omitempty"`
	Total *int       `json:"total,omitempty"`
}

// listItem is a case in a listing (GET /api/v1/cases): what a list shows
// (cases.Item: no reporter, the description cut to a summary, the units'
// tasks without their clocks, photos counted) and its countdown at the
// moment of the answer, as the case's own answer gives it. The case page
// (GET /api/v1/cases/{id}) has the rest.
type listItem struct {
	cases.Item
	Overdue  bool       `json:"overdue"`
	Status   string     `json:"clock_status,omitempty"`
	Due      *time.Time `json:"due,omitempty"`
	ClockKey string     `json:"clock_key,omitempty"` // the headline clock: case:accept, task:UNIT:sign, whistle:…
}

// appendListPage appends the listPage of list at now, as encoding/json
// writes it with HTML not escaped (TestListEncoderAgrees), to buf: each
// item's JSON as the store keeps it, encoded when its case was written,
// with its countdown at now in place of its closing brace. No item is
// decoded or encoded again (issue 19: decoding the cases and encoding the
// answer were half of a page's time).
func appendListPage(buf []byte, list []store.CaseItem, now time.Time, next string, total *int) []byte {
	buf = append(buf, `{"items":[`...)
	for i := range list {
		it := &list[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, it.JSON[:len(it.JSON)-1]...) // without its closing brace
		buf = append(buf, `,"overdue":`...)
		buf = strconv.AppendBool(buf, it.Clocks.Overdue(now))
		if st := it.Clocks.Status(now); st != "" {
			buf = append(buf, `,"clock_status":"`...)
			buf = append(buf, st...)
			buf = append(buf, '"')
		}
		if !it.Clocks.Due.IsZero() {
			// As time.Time's MarshalJSON writes it.
			buf = append(buf, `,"due":"`...)
			buf = it.Clocks.Due.AppendFormat(buf, time.RFC3339Nano)
			buf = append(buf, '"')
		}
		if it.Clocks.Key != "" {
			buf = append(buf, `,"clock_key":`...)
			buf = appendJSON(buf, it.Clocks.Key)
		}
		buf = append(buf, '}')
	}
	buf = append(buf, ']')
	if next != "" {
		buf = append(buf, `,"next":`...)
		buf = appendJSON(buf, next)
	}
	if total != nil {
		buf = append(buf, `,"total":`...)
		buf = strconv.AppendInt(buf, int64(*total), 10)
	}
	return append(buf, "}\n"...)
}

// appendJSON appends v (a string) as encoding/json writes it, HTML not
// escaped.
func appendJSON(buf []byte, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // a string always encodes
	}
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// fullListing makes the listing answer whole cases read from their
// documents and encoded by encoding/json, as it did before issue 19.
var fullListing atomic.Bool

// ListFullCases makes GET /api/v1/cases answer as it did before issue 19
// (on) or with list items (off, the default). It exists so that a benchmark
// can compare the two in one run (internal/bench, BenchmarkCasePageHTTP);
// the full answer is not the documented one.
func ListFullCases(on bool) { fullListing.Store(on) }

// listFull is the listing before issue 19: every case's document decoded,
// redacted and answered whole.
func (a *API) listFull(w http.ResponseWriter, r *http.Request, f store.CaseFilter, drill bool) error {
	list, err := a.svc.List(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	out := map[string]any{"items": a.summaries(list)}
	if drill {
		n, err := a.svc.Count(r.Context(), actorOf(r), f)
		if err != nil {
			return err
		}
		out["total"] = n
	}
	if len(list) == f.Limit {
		out["next"] = list[len(list)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// summary is a case in a listing: the fields a queue shows, plus its clock.
type summary struct {
	cases.Case
	Overdue bool       `json:"overdue"`
	Status  string     `json:"clock_status,omitempty"`
	Due     *time.Time `json:"due,omitempty"`
}

// summaries are the listing of cases, with their photos' signed addresses.
func (a *API) summaries(list []cases.Case) []summary {
	now := a.svc.Now()
	out := make([]summary, len(list))
	for i, c := range list {
		out[i] = summarize(a.svc.WithPhotoURLs(c), now)
	}
	return out
}

func summarize(c cases.Case, now time.Time) summary {
	s := summary{Case: c, Overdue: c.Overdue(now)}
	var due time.Time
	var worst sla.Status
	// The case's countdown, as the console shows it: while it waits for
	// verification, the verification's clock, not a co-unit's.
	for _, rc := range c.HeadlineClocks() {
		if due.IsZero() || rc.Clock.Due.Before(due) {
			due = rc.Clock.Due
			worst = rc.Clock.Status(now)
		}
	}
	if !due.IsZero() {
		s.Due, s.Status = &due, string(worst)
	}
	return s
}

func (a *API) caseDetail(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	c, steps, err := a.svc.Case(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"case": summarize(a.svc.WithPhotoURLs(c), a.svc.Now()), "steps": a.svc.StepsWithPhotoURLs(steps), "actions": a.svc.Actions(&c, actor),
	})
	return nil
}

// actRequest is a command with the version the client saw (absent: no
// check; present: it must be a version, 1 or more).
type actRequest struct {
	cases.Command
	Version *int `json:"version,omitempty"`
}

func (a *API) act(w http.ResponseWriter, r *http.Request) error {
	var in actRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Action == "" {
		return apperr.Field("action", "请指定操作")
	}
	if in.Action == cases.ActWarn || in.Action == cases.ActReport || in.Action == cases.ActSolvedOnSpot || in.Action == cases.ActComment || in.Action == cases.ActSensor {
		return apperr.Field("action", "该操作不能通过此接口执行")
	}
	if in.Action == cases.ActVolunteer {
		return apperr.Field("action", "请志愿服务队协办请使用 POST /api/v1/cases/{id}/volunteers")
	}
	expect := 0
	if in.Version != nil {
		if *in.Version < 1 {
			return apperr.Field("version", "版本号应为您看到的案件版本（从1起）")
		}
		expect = *in.Version
	}
	actor := actorOf(r)
	c, step, err := a.svc.Act(r.Context(), actor, r.PathValue("id"), in.Command, expect)
	if err != nil {
		return err
	}
	step.Photos = a.svc.StepsWithPhotoURLs([]cases.Step{step})[0].Photos
	writeJSON(w, http.StatusOK, map[string]any{"case": summarize(a.svc.WithPhotoURLs(cases.Redact(actor, c)), a.svc.Now()), "step": step})
	return nil
}

func (a *API) duplicates(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	c, _, err := a.svc.Case(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	list, err := a.svc.Duplicates(r.Context(), actor, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": a.summaries(list)})
	return nil
}

func (a *API) suggest(w http.ResponseWriter, r *http.Request) error {
	text := r.URL.Query().Get("text")
	if strings.TrimSpace(text) == "" {
		return apperr.Field("text", "请提供问题描述")
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": a.svc.Suggest(text, 5)})
	return nil
}

func (a *API) locate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lng, err1 := strconv.ParseFloat(q.Get("lng"), 64)
	lat, err2 := strconv.ParseFloat(q.Get("lat"), 64)
	p := geo.Point{Lng: lng, Lat: lat}
	if err1 != nil || err2 != nil || !p.Valid() {
		var f apperr.Fields
		if err1 != nil || lng < -180 || lng > 180 {
			f.Add("lng", "经度无效")
		}
		if err2 != nil || lat < -90 || lat > 90 {
			f.Add("lat", "纬度无效")
		}
		if f.Empty() {
			f.Add("lng", "坐标无效")
		}
		return f.Err()
	}
	code, names, ok := a.svc.Placement(p)
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"grid": nil, "message": "该位置不在任何网格内，将由指挥中心人工定位"})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"grid": code, "names": names})
	return nil
}

// reporter answers the reporter's full phone number and records the read.
func (a *API) reporter(w http.ResponseWriter, r *http.Request) error {
	rep, err := a.svc.RevealPhone(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": rep.Name, "phone": rep.Phone})
	return nil
}
