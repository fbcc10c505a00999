package web

import (
	"context"
	"net/http"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// The board workbench (板块工作台): for a post or a section, its queue with
// the unit's own countdowns and its figures; for a board head, every post and
// section of the board, each with its queue and figures, and the board's
// totals. Read-only: the actions stay on the case page. Every read goes
// through the service's scoped List and Count, so a post sees only its own
// cases and a head only the board's.

// workbenchDays is the window of the "fed back or closed" figure.
const workbenchDays = 7

// benchFigures are the figures of one desk, or of the whole board.
type benchFigures struct {
	Open, Overdue, DueSoon, Done int
}

// benchDesk is one post or section with its queue.
type benchDesk struct {
	Unit    cases.Unit
	Items   []inboxItem
	Figures benchFigures
}

type workbenchView struct {
	Unit   cases.Unit // the account's unit: a post, a section or a board
	Board  string     // the board's label, 民生服务…
	Street string
	Head   bool // the account heads the board: every desk shows
	Desks  []benchDesk
	Totals benchFigures
	Days   int
	Only   string // the one desk a head asked for (?unit=)
}

func (v *workbenchView) title() string { return "板块工作台" }

// benchUnit reports whether a unit's staff have a workbench.
func benchUnit(u cases.Unit) bool {
	return u.Kind == cases.UnitBoard || u.Kind == cases.UnitPost || u.Kind == cases.UnitSection
}

// hasWorkbench reports whether the actor's unit has a workbench (for the nav
// and the home page).
func (c *Console) hasWorkbench(a cases.Actor) bool {
	if a.Role != cases.RoleUnit {
		return false
	}
	u, ok := c.svc.Unit(a.UnitID)
	return ok && benchUnit(u)
}

func (c *Console) workbench(w http.ResponseWriter, r *http.Request) error {
	ctx, actor := r.Context(), actorOf(r)
	u, ok := c.svc.Unit(actor.UnitID)
	if !ok || !benchUnit(u) {
		return apperr.New(apperr.Forbidden, "板块工作台只对板块负责人、板块岗位和街道科室开放")
	}
	now := c.svc.Now()
	v := &workbenchView{Unit: u, Board: u.Board.Label(), Street: c.svc.RegionName(lastPathCode(u.RegionPath)),
		Head: u.Kind == cases.UnitBoard, Days: workbenchDays}
	// The desks the page shows: a head's posts and sections, or one's own.
	desks := []cases.Unit{u}
	if v.Head {
		desks = c.svc.SubUnits(u.ID)
	}
	if only := r.URL.Query().Get("unit"); only != "" {
		var pick []cases.Unit
		for _, d := range desks {
			if d.ID == only {
				pick = append(pick, d)
			}
		}
		if len(pick) == 0 {
			return apperr.New(apperr.Forbidden, "您只能查看本岗位（本板块）的工作台")
		}
		desks, v.Only = pick, only
	}
	dueSoon := map[string]bool{}
	for _, d := range desks {
		items, err := c.unitQueue(ctx, actor, d.ID, now)
		if err != nil {
			return err
		}
		desk := benchDesk{Unit: d}
		for _, it := range items {
			if it.Task.UnitID != d.ID {
				continue // no active task of this desk (summoned by a whistle, a decision…)
			}
			desk.Items = append(desk.Items, it)
			if it.Status == sla.Yellow {
				desk.Figures.DueSoon++
				dueSoon[it.ID] = true
			}
		}
		if err := c.benchCount(ctx, actor, d.ID, now, &desk.Figures); err != nil {
			return err
		}
		v.Desks = append(v.Desks, desk)
	}
	switch {
	case v.Head && v.Only == "":
		// The board's totals: each case once, however many desks it has.
		if err := c.benchCount(ctx, actor, "", now, &v.Totals); err != nil {
			return err
		}
		v.Totals.DueSoon = len(dueSoon)
	case len(v.Desks) == 1:
		v.Totals = v.Desks[0].Figures
	}
	c.render(w, r, http.StatusOK, "workbench", v)
	return nil
}

// benchCount fills the counted figures of one desk (or, with unitID empty,
// of everything the actor's scope holds) through the service's scoped Count.
func (c *Console) benchCount(ctx context.Context, actor cases.Actor, unitID string, now time.Time, f *benchFigures) error {
	open, overdue := true, true
	var err error
	if f.Open, err = c.svc.Count(ctx, actor, store.CaseFilter{Open: &open, ActiveUnit: unitID, Now: now}); err != nil {
		return err
	}
	if f.Overdue, err = c.svc.Count(ctx, actor, store.CaseFilter{Open: &open, Overdue: &overdue, ActiveUnit: unitID, Now: now}); err != nil {
		return err
	}
	f.Done, err = c.svc.Count(ctx, actor, store.CaseFilter{States: []cases.State{cases.FedBack, cases.Closed}, Unit: unitID,
		UpdatedFrom: now.Add(-workbenchDays * 24 * time.Hour), Now: now})
	return err
}
