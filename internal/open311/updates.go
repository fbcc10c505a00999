package open311

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// updates is GET servicerequestupdates: the steps a resident would follow,
// of the public categories, in the key's region (api_key required, as in
// FixMyStreet's extension; reading does not count against the key's rate
// limit). Two ways to read it:
//
//   - a time window (start_date, end_date; page, page_size), oldest first,
//     as FixMyStreet's fetch-comments asks;
//   - after=CURSOR: the updates committed after the cursor, in commit
//     order, page_size at a time; after=0 is the beginning.
//
// Every answer names, in a Link header with rel="next", the address to ask
// next: in a window, its next page while pages are full, then the feed's
// position as of this answer; after a cursor, the cursor of the last
// update given (or the same one when there was none). A follower that keeps
// asking for rel="next" sees every update exactly once (store.FeedCursor).
func (h *Handler) updates(c *call) error {
	ctx := c.ctx()
	q := &query{v: c.r.URL.Query()}
	key, err := h.svc.LookupAPIKey(ctx, q.get("api_key"))
	if err != nil {
		return err
	}
	f := store.StepFilter{Actions: feedActions, RegionPath: key.RegionPath}
	var page int
	if raw, ok := q.v["after"]; ok {
		cur, ok := decodeCursor(strings.TrimSpace(raw[0]))
		if !ok {
			q.probs = append(q.probs, problem{"after", "after 应为上一次答复 Link 头中 rel=\"next\" 给出的游标，或 0（从头读起）"})
		}
		f.After = &cur
		for _, k := range []string{"start_date", "end_date", "page"} {
			if q.get(k) != "" {
				q.probs = append(q.probs, problem{k, "使用 after 游标时不能同时指定 " + k})
			}
		}
		f.Limit, _ = q.page()
		if q.get("until") != "" {
			q.probs = append(q.probs, problem{"until", "使用 after 游标时不能同时指定 until"})
		}
	} else {
		f.From, f.To = q.window(h.svc.Now(), false)
		f.Limit, f.Offset = q.page()
		page = f.Offset/f.Limit + 1
		if raw := strings.TrimSpace(q.get("until")); raw != "" {
			// A later page of a window: it reads up to the position its
			// first page read to, so a step committed since cannot shift
			// the pages (a step's time may be earlier than one already
			// given: it was taken before the write queued); the cursor
			// after the window reads it.
			cur, ok := decodeCursor(raw)
			if !ok {
				q.probs = append(q.probs, problem{"until", "until 应为上一页答复 Link 头中 rel=\"next\" 给出的位置"})
			}
			f.Until = &cur
		}
	}
	if len(q.probs) > 0 {
		return invalid(q.probs)
	}
	f.Categories = h.codes(q)
	var steps []store.FeedStep
	var end store.FeedCursor
	if f.After == nil && f.Until == nil {
		// A window reads up to the feed's position as of its first page,
		// which its pages hand on (until=) and its last page hands on as
		// the cursor to follow.
		if end, err = h.db.FeedEnd(ctx); err != nil {
			return err
		}
		f.Until = &end
	} else if f.After == nil {
		end = *f.Until
	}
	if len(f.Categories) > 0 {
		if steps, err = h.db.StepsBetween(ctx, f); err != nil {
			return err
		}
		// Nothing goes out that a power loss could take back: the read
		// may see commits whose log is not yet synced (store.DB.Durable).
		if err = h.db.Durable(ctx); err != nil {
			return err
		}
	}
	base := h.baseURL(c.r)
	out := make([]update, 0, len(steps))
	for _, fs := range steps {
		u, err := h.updateOf(c, fs, base, key.ExtendedStatuses)
		if err != nil {
			return err
		}
		out = append(out, u)
	}
	next := url.Values{}
	for k, v := range c.r.URL.Query() {
		next[k] = v
	}
	next.Del("after")
	switch {
	case f.After != nil:
		cur := *f.After
		if len(steps) > 0 {
			cur = steps[len(steps)-1].Cursor
		}
		next.Set("after", encodeCursor(cur))
	case len(steps) == f.Limit:
		next.Set("page", strconv.Itoa(page+1))
		next.Set("until", encodeCursor(end))
	default:
		for _, k := range []string{"start_date", "end_date", "page", "until"} {
			next.Del(k)
		}
		next.Set("after", encodeCursor(end))
	}
	c.w.Header().Set("Link", "<"+base+c.r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	h.write(c, http.StatusOK, updatesDoc{Updates: out})
	return nil
}

// encodeCursor and decodeCursor keep a feed position opaque to clients.
func encodeCursor(c store.FeedCursor) string {
	if c.N == 0 && c.ID == "" {
		return "0"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(c.N, 10) + "." + c.ID))
}

func decodeCursor(s string) (store.FeedCursor, bool) {
	if s == "0" {
		return store.FeedCursor{}, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 100 {
		return store.FeedCursor{}, false
	}
	n, id, ok := strings.Cut(string(b), ".")
	if !ok {
		return store.FeedCursor{}, false
	}
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return store.FeedCursor{}, false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return store.FeedCursor{}, false
		}
	}
	return store.FeedCursor{N: v, ID: id}, true
}

// feedActions are the steps published as updates: those a resident would
// follow. Reminders, warnings, supervision, extension and parking requests,
// progress notes and the residents' own comments (群众留言, which came from
// a client) stay out.
var feedActions = []cases.Action{
	cases.ActAccept, cases.ActReject, cases.ActMerge, cases.ActDispatch, cases.ActRedispatch, cases.ActSign,
	cases.ActFeedback, cases.ActVerify, cases.ActClose, cases.ActReturn, cases.ActParkApprove, cases.ActResume,
	cases.ActReopen, cases.ActEscalate, cases.ActHandDown,
}

// notedActions are the updates whose note is published: the unit's result,
// the verification, the close, the reason a case was not taken on, and the
// resident's words that reopened it.
var notedActions = map[cases.Action]bool{cases.ActFeedback: true, cases.ActVerify: true, cases.ActClose: true, cases.ActReject: true, cases.ActReopen: true}

// updateOf shows a step as an update: what was done, by which unit, the
// public note, and the state it left the case in.
func (h *Handler) updateOf(c *call, fs store.FeedStep, base string, extended bool) (update, error) {
	s := fs.Step
	desc := s.Action.Label()
	unit := s.UnitID
	if s.Action == cases.ActDispatch || s.Action == cases.ActRedispatch {
		unit, _ = s.Data["lead_unit"].(string)
	}
	if u, ok := h.svc.Unit(unit); ok {
		desc += "（" + u.Name + "）"
	}
	if n := strings.TrimSpace(s.Note); n != "" && notedActions[s.Action] {
		desc += "：" + n
	}
	if s.Action == cases.ActMerge {
		if target, _ := s.Data["target"].(string); target != "" {
			t, err := h.db.Case(c.ctx(), target)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return update{}, err
			}
			if err == nil {
				desc += "：与 " + t.Number + " 为同一问题，合并办理"
			}
		}
	}
	desc = sentence(desc) + "当前状态：" + s.To.Label()
	status := "closed"
	if s.To.Open() {
		status = "open"
	}
	if extended {
		status = extendedStatus(s.Action, s.To)
	}
	u := update{ID: s.ID, RequestID: fs.CaseNumber, Status: status, Updated: stamp(s.At), Description: text(desc)}
	if len(s.Photos) > 0 {
		u.MediaURL = text(mediaURL(base, fs.CaseNumber, s.Photos[0]))
	}
	return u, nil
}

// sentence ends a text with one full stop: 。 unless it already ends in a
// sentence's end (a note that ends in 。 does not become 。。).
func sentence(s string) string {
	s = strings.TrimRight(s, " \t\n")
	for _, end := range []string{"。", "！", "？", "!", "?", ".", "…"} {
		if strings.HasSuffix(s, end) {
			return s
		}
	}
	return s + "。"
}

// extendedStatus maps a state (and the action that led to it) to
// FixMyStreet's extended status words (docs/open311.md has the table).
func extendedStatus(a cases.Action, to cases.State) string {
	switch a {
	case cases.ActEscalate, cases.ActHandDown:
		if to.Open() {
			return "internal_referral"
		}
	}
	switch to {
	case cases.Accepted:
		if a == cases.ActReopen {
			return "open"
		}
		return "investigating"
	case cases.Dispatched, cases.Parked:
		return "action_scheduled"
	case cases.Handling, cases.FedBack:
		return "in_progress"
	case cases.Closed:
		return "fixed"
	case cases.Rejected:
		return "not_councils_responsibility"
	case cases.Merged:
		return "duplicate"
	}
	return "open"
}

// postUpdate is POST servicerequestupdates: a resident's follow-up from a
// client app, kept in the case's timeline as their comment (群众留言); with
// status OPEN on a closed case it reopens the case, under the state
// machine's rules, with the resident's words as the reason. The client's
// update_id makes it idempotent: the same update again is answered with
// the same update_id and adds nothing.
func (h *Handler) postUpdate(c *call) error {
	ctx := c.ctx()
	form, files, err := readForm(c)
	if c.r.MultipartForm != nil {
		defer c.r.MultipartForm.RemoveAll()
	}
	if err != nil {
		return err
	}
	if len(files) > 0 {
		return invalid([]problem{{"media", "更新不接收照片文件，请用 media_url 提供链接"}})
	}
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	key, err := h.svc.LookupAPIKey(ctx, get("api_key"))
	if err != nil {
		return err
	}
	if _, _, err := h.svc.UseAPIKey(ctx, get("api_key")); err != nil {
		return err
	}
	var probs []problem
	number := get("service_request_id")
	if number == "" {
		probs = append(probs, problem{"service_request_id", "缺少 service_request_id"})
	}
	if get("update_id") == "" {
		probs = append(probs, problem{"update_id", "缺少 update_id（客户端的更新编号）"})
	} else if len(get("update_id")) > service.MaxClientUpdateID {
		probs = append(probs, problem{"update_id", "update_id 不能超过64个字符"})
	}
	desc := strings.TrimSpace(strings.ReplaceAll(form.Get("description"), "\r\n", "\n"))
	if desc == "" {
		probs = append(probs, problem{"description", "缺少 description（留言内容）"})
	} else if n := len([]rune(desc)); n > MaxDescription {
		probs = append(probs, problem{"description", "描述不能超过" + strconv.Itoa(MaxDescription) + "字（现有" + strconv.Itoa(n) + "字）"})
	}
	if s := get("updated_datetime"); s != "" {
		if _, ok := parseTime(s); !ok {
			probs = append(probs, problem{"updated_datetime", "应为带时区的 W3C 日期时间，如 2026-01-02T00:00:00+08:00"})
		}
	}
	var media string
	if m := get("media_url"); m != "" {
		if u, err := url.Parse(m); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m) > 1000 {
			probs = append(probs, problem{"media_url", "media_url 应为 http 或 https 的完整网址"})
		} else {
			media = u.String()
		}
	}
	if len(probs) > 0 {
		return invalid(probs)
	}
	cs, err := h.publicCase(c, number)
	if err != nil {
		return err
	}
	res, err := h.svc.PostClientUpdate(ctx, key, service.ClientUpdate{
		CaseID: cs.ID, UpdateID: get("update_id"), Note: desc, Name: fullName(get("first_name"), get("last_name")),
		MediaURL: media, Reopen: strings.EqualFold(get("status"), "open"),
	})
	var e *apperr.Error
	if errors.As(err, &e) && e.Kind == apperr.NotFound {
		return fail(http.StatusNotFound, "service_request_id “"+number+"”不存在")
	} else if err != nil {
		return err
	}
	h.write(c, http.StatusOK, postedUpdatesDoc{Updates: []postedUpdate{{ID: res.StepID}}})
	return nil
}
