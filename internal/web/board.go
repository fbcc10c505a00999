package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/routing"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// queueLimit is how many cases the other queues (the unit inbox, the
// grid worker's list, the alerts) read at once.
const queueLimit = 200

// boardPage is how many cases one page of the board queue shows; the next
// page starts after the last one's sort key (a keyset cursor, so new
// reports never shift the pages after the first).
const boardPage = 50

// boardFilter is the board's filter form, read from the query string and
// checked: a value that names nothing is refused with the field named.
type boardFilter struct {
	State      string // "" = open cases, "all", or a state
	Board      string
	Category   string
	Overdue    bool
	Text       string
	Region     string // a region code from the map
	From, To   string // report dates, yyyy-mm-dd, both days included
	Unit       string // a unit with any part in the case
	Source     string
	Severity   string
	Community  string // a community code
	Grid       string // a grid code
	Supervised string // "", "1" (督办中) or "0"
	Whistled   string // "", "1" (吹过哨) or "0"
	Sort       string // store.Sorts; "" is store.SortReported
	After      string // the page's cursor (store.Cursor)

	regionPath string
	from, to   time.Time
	cursor     *store.Cursor
}

// filterParams are the query-string parameters of the board's filter, in
// the order Query writes them.
var filterParams = []string{"state", "board", "category", "overdue", "q", "region", "from", "to", "unit", "source",
	"severity", "community", "grid", "supervised", "whistled", "sort"}

func (f *boardFilter) fields() []*string {
	return []*string{&f.State, &f.Board, &f.Category, nil, &f.Text, &f.Region, &f.From, &f.To, &f.Unit, &f.Source,
		&f.Severity, &f.Community, &f.Grid, &f.Supervised, &f.Whistled, &f.Sort}
}

// boardFilterOf reads and checks the board's filter.
func (c *Console) boardFilterOf(r *http.Request) (boardFilter, error) {
	return c.parseBoardFilter(r.URL.Query())
}

func (c *Console) parseBoardFilter(q url.Values) (boardFilter, error) {
	var f boardFilter
	for i, p := range filterParams {
		if ptr := f.fields()[i]; ptr != nil {
			*ptr = strings.TrimSpace(q.Get(p))
		}
	}
	f.After = strings.TrimSpace(q.Get("after"))
	var fe apperr.Fields
	switch q.Get("overdue") {
	case "", "0":
	case "1", "on":
		f.Overdue = true
	default:
		fe.Add("overdue", "“只看超期”的值应为 1")
	}
	if f.State != "" && f.State != "all" && !cases.State(f.State).Valid() {
		fe.Add("state", "“状态”没有“"+cut(f.State, 20)+"”这一项")
	}
	if f.Board != "" && !cases.Board(f.Board).Valid() {
		fe.Add("board", "“板块”没有“"+cut(f.Board, 20)+"”这一项")
	}
	if f.Category != "" {
		if _, ok := c.svc.Category(f.Category); !ok {
			fe.Add("category", "“类别”没有“"+cut(f.Category, 20)+"”这一项")
		}
	}
	if r := []rune(f.Text); len(r) > 100 {
		f.Text = string(r[:100])
	}
	loc := c.svc.Calendar().Location()
	day := func(field, label, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			fe.Add(field, "“"+label+"”应为 年-月-日 的日期，如 2026-03-09")
		}
		return t
	}
	f.from = day("from", "上报日期自", f.From)
	if f.to = day("to", "上报日期至", f.To); !f.to.IsZero() {
		f.to = f.to.AddDate(0, 0, 1)
	}
	if !f.from.IsZero() && !f.to.IsZero() && !f.from.Before(f.to) {
		fe.Add("to", "“上报日期至”不能早于“上报日期自”")
	}
	if f.Unit != "" {
		if _, ok := c.svc.Unit(f.Unit); !ok {
			fe.Add("unit", "“承办单位”不存在")
		}
	}
	if f.Source != "" && !slices.Contains(cases.Sources, cases.Source(f.Source)) {
		fe.Add("source", "“来源”没有“"+cut(f.Source, 20)+"”这一项")
	}
	if f.Severity != "" && !sla.Severity(f.Severity).Valid() {
		fe.Add("severity", "“紧急程度”应为 一般、紧急 或 特急")
	}
	regionAt := func(field, label, code string, depth int) string {
		if code == "" {
			return ""
		}
		p, ok := c.svc.RegionPath(code)
		if !ok || (depth > 0 && routing.Depth(p) != depth) {
			fe.Add(field, "“"+label+"”不存在")
			return ""
		}
		return p
	}
	region := regionAt("region", "地图区域", f.Region, 0)
	community := regionAt("community", "社区", f.Community, 4)
	grid := regionAt("grid", "网格", f.Grid, 5)
	f.regionPath = region
	for _, p := range []string{community, grid} {
		if p == "" {
			continue
		}
		if f.regionPath != "" && !strings.HasPrefix(p, f.regionPath) && !strings.HasPrefix(f.regionPath, p) {
			fe.Add("grid", "所选网格、社区与地图区域互不包含，请只保留一个")
			continue
		}
		if len(p) > len(f.regionPath) {
			f.regionPath = p
		}
	}
	for _, b := range []struct{ field, label, v string }{{"supervised", "督办", f.Supervised}, {"whistled", "吹哨", f.Whistled}} {
		if b.v != "" && b.v != "1" && b.v != "0" {
			fe.Add(b.field, "“"+b.label+"”的值应为 1（是）或 0（否）")
		}
	}
	if f.Sort == store.SortReported {
		f.Sort = ""
	}
	if f.Sort != "" && !store.ValidSort(f.Sort) {
		fe.Add("sort", "“排序”应为 上报时间、时限 或 紧急程度")
	}
	if f.After != "" {
		cur, ok := store.ParseCursor(f.After)
		if !ok {
			fe.Add("after", "翻页位置无效，请回到第一页")
		}
		f.cursor = &cur
	}
	return f, fe.Err()
}

// Query writes the filter back as a query string, without the page's
// cursor (for live row refreshes, exports and saved filters).
func (f boardFilter) Query() string {
	v := url.Values{}
	for i, p := range filterParams {
		if ptr := f.fields()[i]; ptr != nil && *ptr != "" {
			v.Set(p, *ptr)
		}
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	return v.Encode()
}

// With is the filter's query string with one parameter changed (the sort
// links, the next page).
func (f boardFilter) With(key, value string) string {
	v, _ := url.ParseQuery(f.Query())
	if value == "" {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	return v.Encode()
}

// URL is Query for a link's href (checked, so safe in a URL).
func (f boardFilter) URL() template.URL { return template.URL(f.Query()) }

// WithURL is With for a link's href.
func (f boardFilter) WithURL(key, value string) template.URL { return template.URL(f.With(key, value)) }

// Any reports whether any filter is set (the sort is not a filter).
func (f boardFilter) Any() bool { return f.With("sort", "") != "" }

// sortKey is the order the store lists in.
func (f boardFilter) sortKey() string {
	if f.Sort == "" {
		return store.SortReported
	}
	return f.Sort
}

// store turns the filter into the store's.
func (f boardFilter) store() store.CaseFilter {
	sf := store.CaseFilter{Board: f.Board, Category: f.Category, Text: f.Text, RegionPath: f.regionPath,
		From: f.from, To: f.to, Unit: f.Unit, Source: f.Source, Severity: f.Severity}
	switch f.State {
	case "":
		open := true
		sf.Open = &open
	case "all":
	default:
		sf.States = []cases.State{cases.State(f.State)}
	}
	if f.Overdue {
		t := true
		sf.Overdue = &t
	}
	yesNo := func(s string) *bool {
		if s == "" {
			return nil
		}
		b := s == "1"
		return &b
	}
	sf.Supervised, sf.Whistled = yesNo(f.Supervised), yesNo(f.Whistled)
	return sf
}

type boardView struct {
	Filter      boardFilter
	Rows        []row
	Total       int
	More        bool         // more than Total match: the count stopped at service.ListTotalCap
	Next        template.URL // the next page's query string, "" on the last page
	First       bool         // the first page: live reports are inserted on top
	Today       service.Today
	States      []cases.State
	Boards      []cases.Board
	Categories  []cases.Category
	Sources     []cases.Source
	Severities  []sla.Severity
	Units       []cases.Unit
	Communities []service.RegionChoice
	Grids       []service.RegionChoice
	Saved       []store.SavedFilter
	Sorts       []sortChoice
	Now         time.Time
	Map         *mapPanel // nil when the region has no shapes (map.go)
	Alerts      []alert
	Panel       *panelView // ?case=ID: the action panel rendered with the page (also without script)
	Batch       batchForm
}

type sortChoice struct {
	Key, Label string
	Query      template.URL
	On         bool
}

func (v *boardView) title() string { return "一屏掌控" }

func (c *Console) board(w http.ResponseWriter, r *http.Request) error {
	ctx, actor := r.Context(), actorOf(r)
	f, err := c.boardFilterOf(r)
	if err != nil {
		return err
	}
	now := c.svc.Now()
	sf := f.store()
	total, more, err := c.svc.CountUpTo(ctx, actor, sf, service.ListTotalCap)
	if err != nil {
		return err
	}
	sf.Sort, sf.Cursor, sf.Limit = f.sortKey(), f.cursor, boardPage+1
	list, err := c.svc.List(ctx, actor, sf)
	if err != nil {
		return err
	}
	today, err := c.today(ctx, actor)
	if err != nil {
		return err
	}
	v := &boardView{Filter: f, Total: total, More: more, Today: today, States: cases.States, Boards: cases.Boards,
		Categories: c.svc.Categories(), Sources: cases.Sources, Severities: sla.Severities(), Now: now,
		Map: c.mapPanelFor(r, f), First: f.After == "", Batch: c.batchFormFor(actor)}
	if len(list) > boardPage {
		list = list[:boardPage]
		v.Next = f.WithURL("after", store.CursorOf(list[len(list)-1], f.sortKey()).String())
	}
	for _, cs := range list {
		v.Rows = append(v.Rows, c.rowOf(cs, now))
	}
	for _, u := range c.svc.Units() {
		if u.Active {
			v.Units = append(v.Units, u)
		}
	}
	// The community and grid choices: those of the commander's region, or
	// of the region chosen on the map, once that is a district or
	// narrower. A city's commander picks a district on the map first: the
	// city's 11,000 communities in one list were of no use, and rendering
	// them took 40 ms of every view of the board.
	within := actor
	if p, ok := c.svc.RegionPath(f.Region); ok && f.Region != "" && strings.HasPrefix(p, actor.RegionPath) {
		within.RegionPath = p
	}
	var choices []service.RegionChoice
	if routing.Depth(within.RegionPath) >= 2 {
		choices = c.svc.RegionsUnder(within, 3)
	}
	for _, rc := range choices {
		p, _ := c.svc.RegionPath(rc.Code)
		switch routing.Depth(p) {
		case 4:
			v.Communities = append(v.Communities, rc)
		case 5:
			if f.Community != "" && strings.Contains(p, "/"+f.Community+"/") {
				v.Grids = append(v.Grids, rc)
			}
		}
	}
	for _, s := range []struct{ key, label string }{{"", "上报时间"}, {store.SortDue, "时限"}, {store.SortSeverity, "紧急程度"}} {
		v.Sorts = append(v.Sorts, sortChoice{Key: s.key, Label: s.label, Query: f.WithURL("sort", s.key), On: f.Sort == s.key})
	}
	if v.Saved, err = c.svc.SavedFilters(ctx, actor); err != nil {
		return err
	}
	if v.Alerts, err = c.alerts(ctx, actor); err != nil {
		return err
	}
	if id := r.URL.Query().Get("case"); id != "" {
		flash := ""
		if a := cases.Action(r.URL.Query().Get("done")); a != "" {
			if _, ok := cases.RuleOf(a); ok {
				flash = "已" + a.Label()
			}
		}
		p, err := c.panelOf(r, id, nil, flash)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		v.Panel = p
	}
	c.render(w, r, http.StatusOK, "board", v)
	return nil
}

// statusRank orders clocks by urgency.
var statusRank = map[sla.Status]int{sla.Red: 0, sla.Yellow: 1, sla.Green: 2, sla.Paused: 3}

// sortQueue orders a short list by urgency: red, yellow, green, paused,
// each by due time (the alerts and the grid worker's list).
func sortQueue(list []cases.Case, now time.Time) {
	type key struct {
		rank int
		due  time.Time
	}
	keys := make(map[string]key, len(list))
	for _, cs := range list {
		k := key{rank: 4}
		for _, rc := range cs.RunningClocks() {
			if k.due.IsZero() || rc.Clock.Due.Before(k.due) {
				k.due = rc.Clock.Due
			}
			if rk := statusRank[rc.Clock.Status(now)]; rk < k.rank {
				k.rank = rk
			}
		}
		if !cs.State.Open() {
			k.rank = 5
		}
		keys[cs.ID] = k
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := keys[list[i].ID], keys[list[j].ID]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if !a.due.Equal(b.due) {
			if a.due.IsZero() || b.due.IsZero() {
				return b.due.IsZero()
			}
			return a.due.Before(b.due)
		}
		return list[i].ID > list[j].ID
	})
}

// boardRow renders one queue row if the case still matches the board's
// filter, or 204 so the page's script removes it.
func (c *Console) boardRow(w http.ResponseWriter, r *http.Request) error {
	f, err := c.boardFilterOf(r)
	if err != nil {
		return err
	}
	sf := f.store()
	sf.IDs, sf.Limit = []string{r.PathValue("id")}, 1
	list, err := c.svc.List(r.Context(), actorOf(r), sf)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	c.renderFragment(w, "board", "row", c.rowOf(list[0], c.svc.Now()))
	return nil
}

func (c *Console) boardFigures(w http.ResponseWriter, r *http.Request) error {
	today, err := c.today(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	c.renderFragment(w, "board", "figures", today)
	return nil
}

// figuresTTL is how long the figures of one scope are reused: every live
// event makes each open board ask for them again, and they read the day's
// timeline, so boards of the same scope share one reading per few seconds.
const figuresTTL = 5 * time.Second

func (c *Console) today(ctx context.Context, actor cases.Actor) (service.Today, error) {
	key := string(actor.Role) + "|" + actor.RegionPath + "|" + actor.UnitID
	return c.figures.Get(key, func() (service.Today, error) { return c.svc.TodayFigures(ctx, actor) })
}
