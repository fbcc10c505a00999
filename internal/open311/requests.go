package open311

import (
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/textcheck"
)

// Limits on what a client may send or ask for.
const (
	maxForm   = 1 << 20                             // a form-encoded body
	maxMedia  = 9                                   // photos on one request (the platform's limit)
	maxUpload = maxMedia*service.MaxPhoto + maxForm // a multipart body
	maxWindow = 90 * 24 * time.Hour                 // start_date … end_date
	maxIDs    = store.MaxPage                       // service_request_id list
)

// mediaLine starts the line a media_url is kept on in the description, so
// the center sees the link and GET requests can show it back.
const mediaLine = "附件链接："

// readForm reads a form-encoded or multipart body (parameters in the query
// string count too) and returns the multipart files named media.
func readForm(c *call) (url.Values, []*multipart.FileHeader, error) {
	mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	// The body is bounded by the route (bodyLimits): a multipart body at
	// maxUpload, a form at maxForm.
	if mt == "multipart/form-data" {
		if err := c.r.ParseMultipartForm(8 << 20); err != nil {
			return nil, nil, requestBodyError(err)
		}
		var files []*multipart.FileHeader
		for _, name := range []string{"media", "media[]"} {
			files = append(files, c.r.MultipartForm.File[name]...)
		}
		return c.r.Form, files, textcheck.Values(c.r.Form)
	}
	if err := c.r.ParseForm(); err != nil {
		return nil, nil, requestBodyError(err)
	}
	return c.r.Form, nil, textcheck.Values(c.r.Form)
}

func requestBodyError(err error) *failure {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return fail(http.StatusRequestEntityTooLarge, "请求体过大（表单不超过1MB，照片每张不超过10MB、最多9张）")
	}
	return fail(http.StatusBadRequest, "无法解析请求体：应为 application/x-www-form-urlencoded 或 multipart/form-data")
}

// create is POST requests: the report goes through service.Report like any
// other, with the key's system actor and source open311. Everything that can
// be checked is checked before anything is stored, so a refused request
// leaves nothing behind.
func (h *Handler) create(c *call) error {
	ctx := c.ctx()
	form, files, err := readForm(c)
	if c.r.MultipartForm != nil {
		defer c.r.MultipartForm.RemoveAll()
	}
	if err != nil {
		return err
	}
	p, probs := parseForm(form)
	actor, key, err := h.svc.UseAPIKey(ctx, p.APIKey)
	if err != nil {
		return err
	}
	var cat cases.Category
	if p.ServiceCode != "" {
		var ok bool
		if cat, ok = h.svc.Category(p.ServiceCode); !ok || !offered(cat) {
			return fail(http.StatusNotFound, "service_code “"+p.ServiceCode+"”不存在")
		}
	}
	if len(files) > maxMedia {
		probs = append(probs, problem{"media", "照片不能超过9张"})
	}
	address := p.AddressString
	if p.AddressID != "" {
		path, ok := h.svc.RegionPath(p.AddressID)
		switch {
		case !ok:
			probs = append(probs, problem{"address_id", "address_id 应为本平台的区划或网格编码"})
		case !strings.HasPrefix(path, key.RegionPath):
			return fail(http.StatusForbidden, "address_id 不在该 api_key 可上报的区域内")
		default:
			// The case falls back to this region when no grid holds it.
			actor.RegionPath = path
			if address == "" {
				address = h.svc.RegionName(p.AddressID)
			}
		}
	}
	desc := p.Description
	if desc == "" {
		desc = cat.Name // the spec makes a description optional; the platform needs one
	}
	if p.MediaURL != "" {
		desc += "\n" + mediaLine + p.MediaURL
		if len([]rune(desc)) > MaxDescription {
			probs = append(probs, problem{"description", "描述连同 media_url 不能超过4000字"})
		}
	}
	answers, extra := splitAttributes(cat, p.Attributes)
	if p.PhoneDropped {
		extra = append(extra, cases.Extra{Key: phoneNoteKey, Value: "客户端提供的电话号码无法识别，未保存"})
	}
	rep := cases.Report{
		Source: cases.SourceOpen311, Reporter: cases.Reporter{Name: fullName(p.FirstName, p.LastName), Phone: p.Phone},
		Point: p.Point, Address: address, Category: p.ServiceCode, Description: desc, Answers: normalizeAnswers(cat, answers),
		Extra: extra,
	}
	if len(probs) > 0 {
		if p.ServiceCode != "" {
			// Name the attributes' mistakes too, in the same answer.
			if _, err := cat.Answer(rep.Answers); err != nil {
				probs = append(probs, problemsOf(err)...)
			}
		}
		return invalid(probs)
	}
	// A dry run of the domain's own checks (the answers against the service
	// definition, the reporter's name and phone…) before photos are stored.
	if _, _, err := cases.New(rep, cat, cases.Placement{}, "", "", actor, h.svc.Policy(cat), h.svc.Now()); err != nil {
		return err
	}
	if !h.svc.InKeyScope(key, p.Point) {
		return fail(http.StatusForbidden, "该位置不在该 api_key 可上报的区域内")
	}
	for i, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		photo, err := h.svc.SavePhoto(f, service.DeclaredType(fh.Header.Get("Content-Type"), fh.Filename))
		f.Close()
		if e := (*apperr.Error)(nil); errors.As(err, &e) && e.Kind == apperr.Invalid {
			reason := e.Message
			if len(e.Fields) > 0 {
				reason = e.Fields[0].Reason
			}
			return invalid([]problem{{"media", "第" + strconv.Itoa(i+1) + "张（" + fh.Filename + "）：" + reason}})
		} else if err != nil {
			return err
		}
		rep.Photos = append(rep.Photos, photo)
	}
	cs, err := h.svc.Report(ctx, actor, rep)
	if err != nil {
		return err
	}
	h.write(c, http.StatusOK, requestsDoc[created]{Requests: []created{{ID: cs.Number, ServiceNotice: text(h.notice(&cs))}}})
	return nil
}

// phoneNoteKey names the note left in a report's extra fields when the
// phone a client sent could not be read as a phone.
const phoneNoteKey = "电话号码"

// splitAttributes separates the attributes the service defines (the
// category's questions, checked as answers) from those it does not: clients
// send their own routinely (FixMyStreet's fixmystreet_id, closest_address,
// easting, northing…). Those are kept as the case's extra fields, in code
// order, a list joined by ", "; past cases.MaxExtras fields, or past the
// bounds of a name or a value, what does not fit is cut and said so.
func splitAttributes(cat cases.Category, in map[string]any) (map[string]any, []cases.Extra) {
	known := map[string]bool{}
	for _, q := range cat.Questions {
		known[q.Code] = true
	}
	var answers map[string]any
	var codes []string
	for code, v := range in {
		if known[code] {
			if answers == nil {
				answers = map[string]any{}
			}
			answers[code] = v
		} else {
			codes = append(codes, code)
		}
	}
	sort.Strings(codes)
	var extra []cases.Extra
	dropped := 0
	for _, code := range codes {
		if len(extra) == cases.MaxExtras-2 || utf8.RuneCountInString(code) > cases.MaxExtraKey {
			dropped++
			continue
		}
		var v string
		switch x := in[code].(type) {
		case string:
			v = x
		case []string:
			v = strings.Join(x, ", ")
		}
		if r := []rune(v); len(r) > cases.MaxExtraValue {
			v = string(r[:cases.MaxExtraValue-1]) + "…"
		}
		extra = append(extra, cases.Extra{Key: code, Value: v})
	}
	if dropped > 0 {
		extra = append(extra, cases.Extra{Key: "未保存", Value: strconv.Itoa(dropped) + "项附加信息超出上限，未保存"})
	}
	return answers, extra
}

// normalizeAnswers turns datetime answers given in any W3C form into the
// RFC 3339 the domain checks; everything else goes as sent.
func normalizeAnswers(cat cases.Category, in map[string]any) map[string]any {
	for _, q := range cat.Questions {
		if s, ok := in[q.Code].(string); ok && q.Type == cases.QDateTime {
			if t, ok := parseTime(s); ok {
				in[q.Code] = t.Format(time.RFC3339)
			}
		}
	}
	return in
}

// notice says who handles the case: its center.
func (h *Handler) notice(c *cases.Case) string {
	parts := strings.Split(strings.Trim(c.CenterPath, "/"), "/")
	name := h.svc.RegionName(parts[len(parts)-1])
	if name == "" {
		return ""
	}
	return "由" + name + "基层治理指挥中心受理办理，可凭编号查询进度"
}

// requestOf shows a case as a GeoReport request.
func (h *Handler) requestOf(c *cases.Case, base string, extended bool) request {
	cat, _ := h.svc.Category(c.Category)
	status := "closed"
	if c.State.Open() {
		status = "open"
	}
	if extended {
		status = extendedStatus("", c.State)
	}
	r := request{
		ID: c.Number, Status: status, StatusNotes: text(c.State.Label()), ServiceName: text(cat.Name), ServiceCode: c.Category,
		Description: text(c.Description), AgencyResponsible: text(h.leadUnit(c)), ServiceNotice: text(h.notice(c)),
		Requested: stamp(c.ReportedAt), Updated: stamp(c.UpdatedAt), Expected: stamp(expected(c)),
		Address: text(c.Address), AddressID: text(c.GridCode),
	}
	if status == "closed" && !c.ClosedAt.IsZero() {
		// The spec: for a closed request, the date it was closed (a later
		// rating does not move it).
		r.Updated = stamp(c.ClosedAt)
	}
	if c.Point != nil {
		r.Lat, r.Long = coord{c.Point.Lat, true}, coord{c.Point.Lng, true}
	}
	if len(c.Photos) > 0 {
		r.MediaURL = text(mediaURL(base, c.Number, c.Photos[0]))
	} else if u, ok := mediaLinkOf(c.Description); ok {
		r.MediaURL = text(u)
	}
	return r
}

// mediaLinkOf finds the media_url kept on the description's last line.
func mediaLinkOf(desc string) (string, bool) {
	last := desc[strings.LastIndexByte(desc, '\n')+1:]
	link, ok := strings.CutPrefix(last, mediaLine)
	if !ok {
		return "", false
	}
	if u, err := url.Parse(link); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return link, true
}

// leadUnit is the name of the case's lead unit: the active one, or the last
// one that finished the work.
func (h *Handler) leadUnit(c *cases.Case) string {
	i := c.LeadTask()
	if i < 0 {
		for j, t := range c.Tasks {
			if t.Role == cases.Lead && t.State == cases.TaskDone {
				i = j
			}
		}
	}
	if i < 0 {
		return ""
	}
	if u, ok := h.svc.Unit(c.Tasks[i].UnitID); ok {
		return u.Name
	}
	return c.Tasks[i].UnitID
}

// expected is the earliest deadline among the case's headline clocks (while
// it waits for verification, the verification's, not a co-unit's).
func expected(c *cases.Case) time.Time {
	var due time.Time
	for _, r := range c.HeadlineClocks() {
		if due.IsZero() || r.Clock.Due.Before(due) {
			due = r.Clock.Due
		}
	}
	return due
}

var photoExt = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}

// mediaURL is the public address of a photo of a request.
func mediaURL(base, number string, p cases.Photo) string {
	return base + Prefix + "media/" + url.PathEscape(number) + "/" + p.Hash + photoExt[p.Type]
}

// query reads GET parameters; an empty one counts as absent.
type query struct {
	v     url.Values
	probs []problem
}

func (q *query) get(k string) string { return strings.TrimSpace(q.v.Get(k)) }

func (q *query) when(k string) time.Time {
	s := q.get(k)
	if s == "" {
		return time.Time{}
	}
	t, ok := parseTime(s)
	if !ok {
		q.probs = append(q.probs, problem{k, "应为带时区的 W3C 日期时间，如 2026-01-02T00:00:00+08:00"})
	}
	return t
}

func (q *query) list(k string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range q.v[k] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" && !seen[s] {
				out = append(out, s)
				seen[s] = true
			}
		}
	}
	return out
}

// window reads start_date and end_date: at most 90 days apart; one alone
// spans 90 days from it; neither is the last 90 days (unless allowOpen, when
// no window is returned).
func (q *query) window(now time.Time, allowOpen bool) (from, to time.Time) {
	start, end := q.when("start_date"), q.when("end_date")
	switch {
	case start.IsZero() && end.IsZero():
		if allowOpen {
			return time.Time{}, time.Time{}
		}
		end = now
		start = end.Add(-maxWindow)
	case start.IsZero():
		start = end.Add(-maxWindow)
	case end.IsZero():
		end = start.Add(maxWindow)
	}
	if end.Before(start) {
		q.probs = append(q.probs, problem{"end_date", "end_date 不能早于 start_date"})
	} else if end.Sub(start) > maxWindow {
		q.probs = append(q.probs, problem{"end_date", "start_date 与 end_date 相隔不能超过90天"})
	}
	// end_date is inclusive; the store's bound is exclusive.
	return start, end.Add(time.Millisecond)
}

// page reads page (from 1) and page_size (1…1000, default 1000).
func (q *query) page() (limit, offset int) {
	limit, pg := store.MaxPage, 1
	if s := q.get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			q.probs = append(q.probs, problem{"page_size", "page_size 应为正整数"})
		} else {
			limit = min(n, store.MaxPage)
		}
	}
	if s := q.get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			q.probs = append(q.probs, problem{"page", "page 应为从1起的整数"})
		} else {
			pg = n
		}
	}
	return limit, (pg - 1) * limit
}

// codes reads service_code (a comma list) as the public categories it names;
// absent, all public categories.
func (h *Handler) codes(q *query) []string {
	asked := q.list("service_code")
	if len(asked) == 0 {
		return h.publicCodes()
	}
	var out []string
	for _, code := range asked {
		if h.public(code) {
			out = append(out, code)
		}
	}
	return out
}

// readKey reads the optional api_key of a GET: reading is open, but a
// client that names its key reads its own region only, with the statuses
// it chose. A key named and not valid is refused.
func (h *Handler) readKey(c *call, q *query) (store.APIKey, bool, error) {
	if q.get("api_key") == "" {
		return store.APIKey{}, false, nil
	}
	k, err := h.svc.LookupAPIKey(c.ctx(), q.get("api_key"))
	return k, err == nil, err
}

// inKey reports whether a case may be shown to a client that named its key.
func inKey(k store.APIKey, keyed bool, c *cases.Case) bool {
	return !keyed || strings.HasPrefix(c.RegionPath, k.RegionPath)
}

// list is GET requests.
func (h *Handler) list(c *call) error {
	ctx := c.ctx()
	q := &query{v: c.r.URL.Query()}
	base := h.baseURL(c.r)
	key, keyed, err := h.readKey(c, q)
	if err != nil {
		return err
	}
	var out []request
	if ids := q.list("service_request_id"); len(ids) > 0 {
		// A list of ids overrides every other parameter.
		if len(ids) > maxIDs {
			return invalid([]problem{{"service_request_id", "一次最多查询" + strconv.Itoa(maxIDs) + "个编号"}})
		}
		for _, id := range ids {
			cs, err := h.db.Case(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if h.public(cs.Category) && inKey(key, keyed, &cs) {
				out = append(out, h.requestOf(&cs, base, key.ExtendedStatuses))
			}
		}
		h.write(c, http.StatusOK, requestsDoc[request]{Requests: out})
		return nil
	}
	f := store.CaseFilter{Scope: store.Scope{All: true}, Categories: h.codes(q)}
	if keyed {
		f.Scope = store.Scope{RegionPath: key.RegionPath}
	}
	after, before := q.when("updated_after"), q.when("updated_before")
	if !after.IsZero() {
		f.UpdatedFrom = after.Add(time.Millisecond) // strictly after
	}
	f.UpdatedTo = before
	// With updated_after or updated_before a follower asks for changes: the
	// default 90 days of requested_datetime then does not apply.
	f.From, f.To = q.window(h.svc.Now(), !after.IsZero() || !before.IsZero())
	for _, s := range q.list("status") {
		switch s {
		case "open":
			f.States = append(f.States, openStates()...)
		case "closed":
			f.States = append(f.States, cases.Closed, cases.Rejected, cases.Merged)
		default:
			q.probs = append(q.probs, problem{"status", "status 应为 open 或 closed"})
		}
	}
	if len(f.States) == 0 {
		// Every state but held: a report held for screening (待甄别) is
		// not published until the center releases it.
		f.States = append(openStates(), cases.Closed, cases.Rejected, cases.Merged)
	}
	var offset int
	f.Limit, offset = q.page()
	if len(q.probs) > 0 {
		return invalid(q.probs)
	}
	if len(f.Categories) > 0 {
		list, err := h.db.CasesPage(ctx, f, offset)
		if err != nil {
			return err
		}
		for i := range list {
			out = append(out, h.requestOf(&list[i], base, key.ExtendedStatuses))
		}
	}
	h.write(c, http.StatusOK, requestsDoc[request]{Requests: out})
	return nil
}

func openStates() []cases.State {
	var out []cases.State
	for _, s := range cases.States {
		if s.Open() && s != cases.Held {
			out = append(out, s)
		}
	}
	return out
}

// publicCase reads a published case by its number (or ID).
func (h *Handler) publicCase(c *call, idOrNumber string) (cases.Case, error) {
	cs, err := h.db.Case(c.ctx(), idOrNumber)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !h.public(cs.Category)) {
		return cases.Case{}, fail(http.StatusNotFound, "service_request_id “"+idOrNumber+"”不存在")
	}
	return cs, err
}

// one is GET requests/{id}.
func (h *Handler) one(c *call) error {
	key, keyed, err := h.readKey(c, &query{v: c.r.URL.Query()})
	if err != nil {
		return err
	}
	cs, err := h.publicCase(c, c.args[0])
	if err != nil {
		return err
	}
	if !inKey(key, keyed, &cs) {
		return fail(http.StatusNotFound, "service_request_id “"+c.args[0]+"”不存在")
	}
	h.write(c, http.StatusOK, requestsDoc[request]{Requests: []request{h.requestOf(&cs, h.baseURL(c.r), key.ExtendedStatuses)}})
	return nil
}

// token is GET tokens/{token}. Every service is realtime, so POST answers
// with the case number and never a token; a case's internal ID serves as
// its token for clients that ask anyway.
func (h *Handler) token(c *call) error {
	cs, err := h.db.Case(c.ctx(), c.args[0])
	if errors.Is(err, store.ErrNotFound) || (err == nil && (cs.ID != c.args[0] || !h.public(cs.Category))) {
		return fail(http.StatusNotFound, "token “"+c.args[0]+"”不存在")
	} else if err != nil {
		return err
	}
	h.write(c, http.StatusOK, requestsDoc[tokenAnswer]{Requests: []tokenAnswer{{ID: cs.Number, Token: cs.ID}}})
	return nil
}

// media serves a photo of a published request: one reported with it, or one
// attached to a published update.
func (h *Handler) media(c *call) error {
	number, file := c.args[0], c.args[1]
	hash, _, _ := strings.Cut(file, ".")
	cs, err := h.publicCase(c, number)
	if err != nil {
		return err
	}
	photo, ok := findPhoto(cs.Photos, hash)
	if !ok {
		steps, err := h.db.Steps(c.ctx(), cs.ID)
		if err != nil {
			return err
		}
		for _, s := range steps {
			if p, found := findPhoto(s.Photos, hash); found && isFeedAction(s.Action) {
				photo, ok = p, true
				break
			}
		}
	}
	if !ok {
		return fail(http.StatusNotFound, "照片不存在")
	}
	f, err := h.svc.OpenPhoto(photo.Hash)
	if err != nil {
		return err
	}
	defer f.Close()
	c.w.Header().Set("Content-Type", photo.Type)
	c.w.Header().Set("X-Content-Type-Options", "nosniff")
	c.w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(c.w, c.r, "", time.Time{}, f)
	return nil
}

func findPhoto(ps []cases.Photo, hash string) (cases.Photo, bool) {
	for _, p := range ps {
		if p.Hash == hash {
			return p, true
		}
	}
	return cases.Photo{}, false
}

func isFeedAction(a cases.Action) bool {
	for _, f := range feedActions {
		if f == a {
			return true
		}
	}
	return false
}
