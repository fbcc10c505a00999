package webhook

import (
	"encoding/json"
	"time"

	"zhizhi/internal/cases"
)

// Event is the body of a delivery: one step of a case. It carries no
// personal data of the reporter (name, phone); the step's note (the unit's
// reply at feedback, the reason of a return) is there, as the receiver
// needs it.
type Event struct {
	ID    string    `json:"id"`   // the idempotency key: the step's ID, the same for every subscription and attempt
	Kind  string    `json:"kind"` // the step's action
	Label string    `json:"label"`
	At    time.Time `json:"at"`
	Case  CaseInfo  `json:"case"`
	Step  StepInfo  `json:"step"`
}

// CaseInfo is the case as it stands after the step.
type CaseInfo struct {
	ID         string    `json:"id"`
	Number     string    `json:"number"`
	Version    int       `json:"version"`
	State      string    `json:"state"`
	Source     string    `json:"source"`
	Category   string    `json:"category"`
	Severity   string    `json:"severity,omitempty"`
	RegionPath string    `json:"region_path"`
	GridCode   string    `json:"grid_code,omitempty"`
	Address    string    `json:"address,omitempty"`
	Lng        *float64  `json:"lng,omitempty"`
	Lat        *float64  `json:"lat,omitempty"`
	ReportedAt time.Time `json:"reported_at"`
	DueAt      time.Time `json:"due_at,omitzero"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	LeadUnit   string    `json:"lead_unit,omitempty"`
	Rating     string    `json:"rating,omitempty"`
	HotlineNo  string    `json:"hotline_no,omitempty"` // the 12345 work order's number, for cases from the hotline
	Feedback   string    `json:"feedback,omitempty"`   // the lead unit's latest reply (反馈), once fed back
}

// StepInfo is the step that made the event.
type StepInfo struct {
	Seq       int            `json:"seq"`
	Action    string         `json:"action"`
	From      string         `json:"from,omitempty"`
	To        string         `json:"to"`
	Role      string         `json:"role"`
	ActorName string         `json:"actor_name,omitempty"`
	UnitID    string         `json:"unit_id,omitempty"`
	Note      string         `json:"note,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// HotlineNoKey is the extra field that keeps a hotline case's 12345 number.
const HotlineNoKey = "hotline_no"

// Build makes the event of a step of a case, as written to the outbox in
// the step's own transaction.
func Build(c *cases.Case, s *cases.Step) Event {
	e := Event{
		ID: s.ID, Kind: string(s.Action), Label: s.Action.Label(), At: s.At.UTC(),
		Case: CaseInfo{
			ID: c.ID, Number: c.Number, Version: c.Version, State: string(c.State), Source: string(c.Source),
			Category: c.Category, Severity: string(c.Severity), RegionPath: c.RegionPath, GridCode: c.GridCode,
			Address: c.Address, ReportedAt: c.ReportedAt.UTC(), ClosedAt: c.ClosedAt.UTC(), Rating: string(c.Rating),
		},
		Step: StepInfo{Seq: s.Seq, Action: string(s.Action), From: string(s.From), To: string(s.To), Role: string(s.Role),
			UnitID: s.UnitID, Note: s.Note, Data: s.Data},
	}
	if s.Role != cases.RoleResident && s.Role != cases.RoleEnterprise {
		e.Step.ActorName = s.ActorName
	}
	if c.Point != nil {
		lng, lat := c.Point.Lng, c.Point.Lat
		e.Case.Lng, e.Case.Lat = &lng, &lat
	}
	for _, r := range c.RunningClocks() {
		if e.Case.DueAt.IsZero() || r.Clock.Due.Before(e.Case.DueAt) {
			e.Case.DueAt = r.Clock.Due.UTC()
		}
	}
	if c.ClosedAt.IsZero() {
		e.Case.ClosedAt = time.Time{}
	}
	if i := c.LeadTask(); i >= 0 {
		e.Case.LeadUnit = c.Tasks[i].UnitID
	} else {
		for _, t := range c.Tasks {
			if t.Role == cases.Lead {
				e.Case.LeadUnit = t.UnitID
			}
		}
	}
	for _, x := range c.Extra {
		if x.Key == HotlineNoKey {
			e.Case.HotlineNo = x.Value
		}
	}
	for _, t := range c.Tasks {
		if t.Role == cases.Lead && t.Feedback != "" {
			e.Case.Feedback = t.Feedback
		}
	}
	return e
}

// Encode is the event's body as sent.
func (e Event) Encode() ([]byte, error) { return json.Marshal(e) }
