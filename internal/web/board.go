package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// queueLimit is how many cases the board lists at once: the red ones first,
// then the newest open ones.
const queueLimit = 200

// boardFilter is the board's filter form, read from the query string.
type boardFilter struct {
	State    string // "" = open cases, "all", or a state
	Board    string
	Category string
	Overdue  bool
	Text     string
	Region   string // a region code from the map (boardFilterOf)

	regionPath string
}

func filterOf(q url.Values) boardFilter {
	f := boardFilter{State: q.Get("state"), Board: q.Get("board"), Category: q.Get("category"),
		Overdue: q.Get("overdue") != "", Text: strings.TrimSpace(q.Get("q"))}
	if f.State != "all" && f.State != "" && !cases.State(f.State).Valid() {
		f.State = ""
	}
	if f.Board != "" && !cases.Board(f.Board).Valid() {
		f.Board = ""
	}
	if r := []rune(f.Text); len(r) > 100 {
		f.Text = string(r[:100])
	}
	return f
}

// Query writes the filter back as a query string (for live row refreshes).
func (f boardFilter) Query() string {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "board": f.Board, "category": f.Category, "q": f.Text, "region": f.Region} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	return v.Encode()
}

// store turns the filter into the store's, for open or closed cases.
func (f boardFilter) store(open *bool) store.CaseFilter {
	sf := store.CaseFilter{Board: f.Board, Category: f.Category, Text: f.Text, RegionPath: f.regionPath}
	switch f.State {
	case "", "all":
		sf.Open = open
	default:
		sf.States = []cases.State{cases.State(f.State)}
	}
	if f.Overdue {
		t := true
		sf.Overdue = &t
	}
	return sf
}

type boardView struct {
	Filter     boardFilter
	Rows       []row
	Total      int
	Today      service.Today
	States     []cases.State
	Boards     []cases.Board
	Categories []cases.Category
	Now        time.Time
	Map        *mapPanel // nil when the region has no shapes (map.go)
	Alerts     []alert
	Panel      *panelView // ?case=ID: the action panel rendered with the page (also without script)
}

func (v *boardView) title() string { return "一屏掌控" }

func (c *Console) board(w http.ResponseWriter, r *http.Request) error {
	ctx, actor := r.Context(), actorOf(r)
	f := c.boardFilterOf(r)
	now := c.svc.Now()
	list, total, err := c.queue(r, actor, f, now)
	if err != nil {
		return err
	}
	today, err := c.today(ctx, actor)
	if err != nil {
		return err
	}
	v := &boardView{Filter: f, Total: total, Today: today, States: cases.States, Boards: cases.Boards,
		Categories: c.svc.Categories(), Now: now, Map: c.mapPanelFor(r, f)}
	for _, cs := range list {
		v.Rows = append(v.Rows, c.rowOf(cs, now))
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

// queue reads the board's cases: open ones first (red ones, then the newest),
// sorted by urgency; with "all", the latest closed ones after them.
func (c *Console) queue(r *http.Request, actor cases.Actor, f boardFilter, now time.Time) ([]cases.Case, int, error) {
	ctx := r.Context()
	open := true
	if f.State != "" && f.State != "all" {
		sf := f.store(nil)
		sf.Limit = queueLimit
		list, err := c.svc.List(ctx, actor, sf)
		if err != nil {
			return nil, 0, err
		}
		total, err := c.svc.Count(ctx, actor, f.store(nil))
		sortQueue(list, now)
		return list, total, err
	}
	sf := f.store(&open)
	total, err := c.svc.Count(ctx, actor, sf)
	if err != nil {
		return nil, 0, err
	}
	red := sf
	t := true
	red.Overdue, red.Limit = &t, queueLimit/2
	list, err := c.svc.List(ctx, actor, red)
	if err != nil {
		return nil, 0, err
	}
	sf.Limit = queueLimit
	newest, err := c.svc.List(ctx, actor, sf)
	if err != nil {
		return nil, 0, err
	}
	seen := map[string]bool{}
	for _, cs := range list {
		seen[cs.ID] = true
	}
	for _, cs := range newest {
		if !seen[cs.ID] && len(list) < queueLimit {
			seen[cs.ID] = true
			list = append(list, cs)
		}
	}
	sortQueue(list, now)
	if f.State == "all" {
		closed := false
		cf := f.store(&closed)
		cf.Limit = 50
		done, err := c.svc.List(ctx, actor, cf)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, done...)
		n, err := c.svc.Count(ctx, actor, f.store(&closed))
		if err != nil {
			return nil, 0, err
		}
		total += n
	}
	return list, total, nil
}

// statusRank orders clocks by urgency.
var statusRank = map[sla.Status]int{sla.Red: 0, sla.Yellow: 1, sla.Green: 2, sla.Paused: 3}

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
	actor := actorOf(r)
	f := c.boardFilterOf(r)
	var sf store.CaseFilter
	switch f.State {
	case "all":
		sf = f.store(nil)
	default:
		open := true
		sf = f.store(&open)
		if f.State != "" {
			sf = f.store(nil)
		}
	}
	sf.IDs, sf.Limit = []string{r.PathValue("id")}, 1
	list, err := c.svc.List(r.Context(), actor, sf)
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
