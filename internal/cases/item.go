package cases

import (
	"strings"
	"time"
	"unicode/utf8"

	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// Item is a case as a list shows it (issue 19, "a listing returns what a
// list shows, and the detail page the rest"): the queue's columns, the
// flags a row marks, the units at work, and the case's countdown. It is
// made when the case is written (the store keeps it beside the document) so
// a page of fifty is read without decoding fifty whole cases; the case page
// reads the document. Its JSON names are the case's own where the meaning is
// the same.
type Item struct {
	ID          string       `json:"id"`
	Number      string       `json:"number"`
	Version     int          `json:"version"`
	Source      Source       `json:"source"`
	Category    string       `json:"category"`
	Board       string       `json:"board"`
	Severity    sla.Severity `json:"severity"`
	State       State        `json:"state"`
	Stage       Stage        `json:"stage,omitempty"`
	Summary     string       `json:"summary"` // the description, cut at SummaryRunes characters
	Address     string       `json:"address,omitempty"`
	Point       *geo.Point   `json:"point,omitempty"`
	GridCode    string       `json:"grid_code,omitempty"`
	RegionPath  string       `json:"region_path"`
	CenterPath  string       `json:"center_path"`
	PhotoCount  int          `json:"photo_count,omitempty"`
	Tasks       []ItemTask   `json:"tasks,omitempty"` // every unit's task, lead first as dispatched
	Supervised  bool         `json:"supervised,omitempty"`
	Whistled    bool         `json:"whistled,omitempty"` // someone blew a whistle on the case (吹哨)
	Urges       int          `json:"urges,omitempty"`
	Reopens     int          `json:"reopens,omitempty"`
	OnSpot      bool         `json:"on_spot,omitempty"`
	MergedInto  string       `json:"merged_into,omitempty"`
	WasOverdue  bool         `json:"was_overdue,omitempty"`
	ParkedUntil time.Time    `json:"parked_until,omitzero"`
	ReportedAt  time.Time    `json:"reported_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	ClosedAt    time.Time    `json:"closed_at,omitzero"`
}

// ItemTask is a unit's part in a listed case.
type ItemTask struct {
	UnitID string    `json:"unit_id"`
	Role   TaskRole  `json:"role"`
	State  TaskState `json:"state"`
}

// ItemClocks are what a listed case's countdown is computed from at the
// moment of the listing: the headline clock (HeadlineClocks' first due:
// its key, due and yellow times) and the first due of every running clock
// (Overdue's test). Running clocks' times only change when the case is
// written, so they are kept with the item.
type ItemClocks struct {
	Key      string    `json:"key,omitempty"`
	Due      time.Time `json:"due,omitzero"`
	YellowAt time.Time `json:"yellow_at,omitzero"`
	FirstDue time.Time `json:"first_due,omitzero"`
}

// SummaryRunes is how much of the description an item carries.
const SummaryRunes = 100

// ItemOf returns the case as a list shows it, and its clocks.
func ItemOf(c *Case) (Item, ItemClocks) {
	it := Item{
		ID: c.ID, Number: c.Number, Version: c.Version, Source: c.Source, Category: c.Category, Board: c.Board,
		Severity: c.Severity, State: c.State, Stage: c.Stage, Summary: Summarize(c.Description, SummaryRunes),
		Address: c.Address, GridCode: c.GridCode, RegionPath: c.RegionPath, CenterPath: c.CenterPath,
		PhotoCount: len(c.Photos), Supervised: c.Supervised, Whistled: len(c.Whistles) > 0, Urges: c.Urges,
		Reopens: c.Reopens, OnSpot: c.OnSpot, MergedInto: c.MergedInto, WasOverdue: c.WasOverdue,
		ParkedUntil: c.ParkedUntil, ReportedAt: c.ReportedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt,
	}
	if c.Point != nil {
		p := *c.Point
		it.Point = &p
	}
	for _, t := range c.Tasks {
		it.Tasks = append(it.Tasks, ItemTask{UnitID: t.UnitID, Role: t.Role, State: t.State})
	}
	var ck ItemClocks
	for _, rc := range c.HeadlineClocks() {
		if ck.Due.IsZero() || rc.Clock.Due.Before(ck.Due) {
			ck.Key, ck.Due, ck.YellowAt = rc.Key, rc.Clock.Due, rc.Clock.YellowAt
		}
	}
	for _, rc := range c.RunningClocks() {
		if ck.FirstDue.IsZero() || rc.Clock.Due.Before(ck.FirstDue) {
			ck.FirstDue = rc.Clock.Due
		}
	}
	return it, ck
}

// Overdue reports, like Case.Overdue, whether a running clock is past due
// at now.
func (k ItemClocks) Overdue(now time.Time) bool {
	return !k.FirstDue.IsZero() && now.After(k.FirstDue)
}

// Status is the headline clock's colour at now, as Case's headline clock
// gives it (sla.Clock.Status of a running clock); "" when no clock runs.
func (k ItemClocks) Status(now time.Time) sla.Status {
	if k.Due.IsZero() {
		return ""
	}
	return sla.Clock{Due: k.Due, YellowAt: k.YellowAt}.Status(now)
}

// Summarize cuts text to at most n characters, marking a cut with "…", on
// one line (line breaks and tabs become spaces).
func Summarize(text string, n int) string {
	text = strings.TrimSpace(text)
	if strings.ContainsAny(text, "\r\n\t") {
		text = strings.Join(strings.Fields(text), " ")
	}
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	i, count := 0, 0
	for j := range text {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return strings.TrimRight(text[:i], " ") + "…"
}
