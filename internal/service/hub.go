package service

import (
	"encoding/json"
	"sync"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
)

// Event is a change to a case, as live subscribers receive it.
type Event struct {
	CaseID   string       `json:"case_id"`
	Number   string       `json:"number"`
	Version  int          `json:"version"`
	Action   cases.Action `json:"action"`
	State    cases.State  `json:"state"`
	Category string       `json:"category"`
	Severity string       `json:"severity"`
	GridCode string       `json:"grid_code,omitempty"`
	At       time.Time    `json:"at"`
	Actor    string       `json:"actor"`
	Note     string       `json:"note,omitempty"`
	// Data is the step's data: for a whistle, report-in or warning, which
	// whistle and party, late or not; what a live report-in board needs.
	Data map[string]any `json:"data,omitempty"`
	// Kind is "project" for a change to a key rectification project (a
	// milestone met, the project verified: ProjectAct), with ProjectID and
	// the project's Version; empty for a case's step.
	Kind      string `json:"kind,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	// Scope fields, used to decide who may receive the event; not sent.
	project    *leaders.Project // a project event: its readers are the project's
	regionPath string
	centerPath string
	units      []string // tasks, whistled units and units with a decision
	accounts   []string // people summoned by a whistle
	reporter   string
	enc        *encoded // the JSON, made once for every subscriber (Publish)
}

// encoded is an event's JSON, shared by the subscribers it is sent to.
type encoded struct {
	once sync.Once
	b    []byte
}

// JSON returns the event as subscribers receive it, encoded once however
// many subscribers are sent the same published event.
func (e *Event) JSON() []byte {
	if e.enc == nil {
		b, _ := json.Marshal(e)
		return b
	}
	e.enc.once.Do(func() { e.enc.b, _ = json.Marshal(e) })
	return e.enc.b
}

func eventOf(c *cases.Case, s *cases.Step) Event {
	e := Event{CaseID: c.ID, Number: c.Number, Version: c.Version, Action: s.Action, State: c.State,
		Category: c.Category, Severity: string(c.Severity), GridCode: c.GridCode, At: s.At, Actor: s.ActorName,
		regionPath: c.RegionPath, centerPath: c.CenterPath, reporter: c.Reporter.AccountID}
	for _, t := range c.Tasks {
		e.units = append(e.units, t.UnitID)
	}
	for _, w := range c.Whistles {
		for _, p := range w.Parties {
			if p.UnitID != "" {
				e.units = append(e.units, p.UnitID)
			} else {
				e.accounts = append(e.accounts, p.AccountID)
			}
		}
	}
	for _, m := range c.Meetings {
		for _, d := range m.Decisions {
			e.units = append(e.units, d.UnitID)
		}
	}
	if s.Action != cases.ActReport {
		e.Note, e.Data = s.Note, s.Data
	}
	return e
}

// projectEvent is a project's change as the list board hears it.
func projectEvent(p leaders.Project, action string, actor cases.Actor, at time.Time) Event {
	return Event{Kind: "project", ProjectID: p.ID, Number: p.Name, Version: p.Version, Action: cases.Action(action),
		At: at, Actor: actor.Name, project: &p}
}

// visible reports whether the actor may see the event's case, with the same
// rule as cases.CanSee (a project event: the project's readers).
func (e Event) visible(a cases.Actor) bool {
	if e.project != nil {
		return canSeeProject(a, *e.project)
	}
	c := cases.Case{RegionPath: e.regionPath, CenterPath: e.centerPath, Reporter: cases.Reporter{AccountID: e.reporter}}
	for _, u := range e.units {
		c.Tasks = append(c.Tasks, cases.Task{UnitID: u})
	}
	if len(e.accounts) > 0 {
		w := cases.Whistle{}
		for _, acct := range e.accounts {
			w.Parties = append(w.Parties, cases.Party{AccountID: acct})
		}
		c.Whistles = []cases.Whistle{w}
	}
	return cases.CanSee(a, &c)
}

// Hub fans case events out to live subscribers within their scope.
type Hub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription is one live listener. Events arrive on C (shared with the
// other subscribers: read only); if the listener is too slow, events are
// dropped and Lost is set so it can resynchronise.
type Subscription struct {
	C     chan *Event
	actor cases.Actor
	hub   *Hub
	mu    sync.Mutex
	lost  bool
}

// NewHub makes an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscribe starts listening for the actor's events.
func (h *Hub) Subscribe(a cases.Actor) *Subscription {
	s := &Subscription{C: make(chan *Event, 256), actor: a, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close stops the subscription.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}

// Lost reports, and clears, whether events were dropped.
func (s *Subscription) Lost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lost
	s.lost = false
	return l
}

// Publish sends an event to every subscriber allowed to see it. It never
// blocks: a full subscriber loses the event and is told so.
func (h *Hub) Publish(e Event) {
	p := &e
	p.enc = &encoded{}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !e.visible(s.actor) {
			continue
		}
		select {
		case s.C <- p:
		default:
			s.mu.Lock()
			s.lost = true
			s.mu.Unlock()
		}
	}
}

// Lose marks every subscriber as having lost events, so each resynchronises
// (used when events from other nodes may have been missed).
func (h *Hub) Lose() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		s.lost = true
		s.mu.Unlock()
	}
}

// Len is the number of live subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
