// Package notify decides who is told of what: it turns a case's timeline
// step (or a clock event, which is a step too, or a message at a grid's door)
// into events with their audience, following the platform's scope rules, and
// holds the per-person preferences (which events, quiet hours) and the SMS
// gateway's settings and templates. It is pure: no SQL, no HTTP.
package notify

import (
	"slices"
	"strings"
	"time"

	"zhizhi/internal/cases"
)

// Kind is what a notification is about.
type Kind string

// The kinds of notifications to working people.
const (
	Dispatched        Kind = "dispatched"         // 派遣至本单位
	Whistled          Kind = "whistled"           // 吹哨报到
	ReportInDue       Kind = "report_in_due"      // 报到即将到期或已超时
	ClockYellow       Kind = "clock_yellow"       // 黄灯预警
	ClockRed          Kind = "clock_red"          // 红灯超时
	Returned          Kind = "returned"           // 回退或核查未通过
	ToVerify          Kind = "to_verify"          // 待核查
	ExtensionAsked    Kind = "extension_asked"    // 申请延期或挂账
	ExtensionAnswered Kind = "extension_answered" // 延期或挂账已审批
	Supervised        Kind = "supervised"         // 督办
	DoorMessage       Kind = "door_message"       // 网格门口留言
	ListOverdue       Kind = "list_overdue"       // 清单事项超期
	WebhookPaused     Kind = "webhook_paused"     // 推送订阅因连续失败已暂停
)

// The kinds of messages to a resident who reported with a phone (SMS only).
const (
	ResidentAccepted   Kind = "resident_accepted"   // 已受理
	ResidentRejected   Kind = "resident_rejected"   // 不予受理
	ResidentDispatched Kind = "resident_dispatched" // 已派遣
	ResidentClosed     Kind = "resident_closed"     // 已办结，请评价
)

// Kinds lists the kinds to working people, in the order the console shows them.
var Kinds = []Kind{Dispatched, Whistled, ReportInDue, ClockYellow, ClockRed, Returned, ToVerify,
	ExtensionAsked, ExtensionAnswered, Supervised, DoorMessage, ListOverdue, WebhookPaused}

// ResidentKinds lists the kinds sent to residents.
var ResidentKinds = []Kind{ResidentAccepted, ResidentRejected, ResidentDispatched, ResidentClosed}

// Label is the kind's Chinese name.
func (k Kind) Label() string {
	switch k {
	case Dispatched:
		return "派遣至本单位"
	case Whistled:
		return "吹哨报到"
	case ReportInDue:
		return "报到提醒"
	case ClockYellow:
		return "黄灯预警"
	case ClockRed:
		return "红灯超时"
	case Returned:
		return "回退与返工"
	case ToVerify:
		return "待核查"
	case ExtensionAsked:
		return "延期或挂账申请"
	case ExtensionAnswered:
		return "延期或挂账审批结果"
	case Supervised:
		return "督办"
	case DoorMessage:
		return "网格留言"
	case ListOverdue:
		return "清单事项超期"
	case WebhookPaused:
		return "推送订阅已暂停"
	case ResidentAccepted:
		return "群众短信：已受理"
	case ResidentRejected:
		return "群众短信：不予受理"
	case ResidentDispatched:
		return "群众短信：已派遣"
	case ResidentClosed:
		return "群众短信：已办结"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) || slices.Contains(ResidentKinds, k) }

// Resident reports whether k is a message to a resident.
func (k Kind) Resident() bool { return slices.Contains(ResidentKinds, k) }

// Audience names who an event is for, by the same handles the scope rules
// use; the service turns it into accounts when it fans the event out.
type Audience struct {
	Units      []string `json:"units,omitempty"`       // the staff of these units (unit and community roles)
	Accounts   []string `json:"accounts,omitempty"`    // these people
	Center     string   `json:"center,omitempty"`      // the commanders whose region is this center's path
	Grid       string   `json:"grid,omitempty"`        // the grid workers and grid chiefs of this grid's path
	Supervisor bool     `json:"supervisor,omitempty"`  // the leaders supervising the case
	ListOwners bool     `json:"list_owners,omitempty"` // the owners of the leaders' lists that hold the case
	Admins     string   `json:"admins,omitempty"`      // the administrators whose region holds this path (it or an ancestor)
	Phone      string   `json:"phone,omitempty"`       // a resident's number (SMS only)
	Except     string   `json:"except,omitempty"`      // the account that acted: never told of its own step
}

// Empty reports whether nobody is named.
func (a Audience) Empty() bool {
	return len(a.Units) == 0 && len(a.Accounts) == 0 && a.Center == "" && a.Grid == "" && !a.Supervisor && !a.ListOwners && a.Admins == "" && a.Phone == ""
}

// Event is one thing to tell people: written in the transaction of the
// change, fanned out to each person's inbox and channels afterwards.
type Event struct {
	Kind     Kind      `json:"kind"`
	Urgent   bool      `json:"urgent,omitempty"` // sent even in quiet hours
	CaseID   string    `json:"case_id,omitempty"`
	Number   string    `json:"number,omitempty"`
	Category string    `json:"category,omitempty"`
	Title    string    `json:"title"`
	Body     string    `json:"body,omitempty"`
	Link     string    `json:"link,omitempty"` // the console page it concerns
	At       time.Time `json:"at"`
	To       Audience  `json:"to"`
}

// FromStep returns the events one step of a case makes: the case as it is
// after the step. The step's actor is never told of its own step.
func FromStep(c *cases.Case, s *cases.Step) []Event {
	base := Event{CaseID: c.ID, Number: c.Number, Category: c.Category, At: s.At, Link: "/cases/" + c.ID}
	mk := func(k Kind, urgent bool, title string, to Audience) Event {
		e := base
		e.Kind, e.Urgent, e.Title, e.Body = k, urgent, title, s.Note
		to.Except = s.ActorID
		e.To = to
		return e
	}
	var out []Event
	add := func(e Event) {
		if !e.To.Empty() {
			out = append(out, e)
		}
	}
	resident := func(k Kind) {
		if c.Reporter.Phone == "" || c.Source == cases.SourceSensor {
			return
		}
		e := base
		e.Kind, e.Title, e.Link = k, k.Label(), ""
		e.To = Audience{Phone: c.Reporter.Phone}
		add(e)
	}
	switch s.Action {
	case cases.ActAccept:
		resident(ResidentAccepted)
	case cases.ActReject:
		resident(ResidentRejected)
	case cases.ActDispatch, cases.ActRedispatch:
		add(mk(Dispatched, false, "案件"+c.Number+"已派遣至本单位，请及时签收", Audience{Units: c.Units()}))
		if s.Action == cases.ActDispatch {
			resident(ResidentDispatched)
		}
	case cases.ActClose:
		resident(ResidentClosed)
	case cases.ActVerify:
		if passed, _ := s.Data["passed"].(bool); passed {
			if s.To == cases.Closed {
				resident(ResidentClosed)
			}
		} else if i := c.LeadTask(); i >= 0 {
			add(mk(Returned, false, "案件"+c.Number+"核查未通过，请返工", Audience{Units: []string{c.Tasks[i].UnitID}}))
		}
	case cases.ActReturn:
		add(mk(Returned, false, "案件"+c.Number+"被承办单位回退，请重新派遣", Audience{Center: c.CenterPath}))
	case cases.ActFeedback:
		if c.State == cases.FedBack {
			to := Audience{Center: c.CenterPath}
			if c.GridCode != "" {
				to = Audience{Grid: c.RegionPath}
			}
			add(mk(ToVerify, false, "案件"+c.Number+"已反馈处置结果，请核查", to))
		}
	case cases.ActExtendRequest:
		add(mk(ExtensionAsked, false, "案件"+c.Number+"申请延期，请审批", Audience{Center: c.CenterPath}))
	case cases.ActParkRequest:
		add(mk(ExtensionAsked, false, "案件"+c.Number+"申请挂账，请审批", Audience{Center: c.CenterPath}))
	case cases.ActExtendApprove, cases.ActExtendDeny, cases.ActParkApprove, cases.ActParkDeny:
		unit, _ := s.Data["unit_id"].(string)
		if unit == "" {
			unit = s.UnitID
		}
		if unit == "" {
			unit = leadUnit(c)
		}
		what := map[cases.Action]string{cases.ActExtendApprove: "延期申请已同意", cases.ActExtendDeny: "延期申请未同意",
			cases.ActParkApprove: "挂账申请已同意", cases.ActParkDeny: "挂账申请未同意"}[s.Action]
		if unit != "" {
			add(mk(ExtensionAnswered, false, "案件"+c.Number+what, Audience{Units: []string{unit}}))
		}
	case cases.ActSupervise:
		add(mk(Supervised, false, "案件"+c.Number+"被督办，请加快办理", Audience{Units: c.Units(), Center: c.CenterPath}))
	case cases.ActWhistle:
		to := Audience{}
		for _, w := range c.Whistles {
			wid, _ := s.Data["whistle_id"].(string)
			if w.ID != wid {
				continue
			}
			for _, p := range w.Parties {
				if p.UnitID != "" {
					to.Units = append(to.Units, p.UnitID)
				} else if p.AccountID != "" {
					to.Accounts = append(to.Accounts, p.AccountID)
				}
			}
		}
		add(mk(Whistled, true, "案件"+c.Number+"吹哨，请按时报到", to))
	case cases.ActWarn:
		out = append(out, warnEvents(c, s, mk)...)
	}
	return out
}

func leadUnit(c *cases.Case) string {
	if i := c.LeadTask(); i >= 0 {
		return c.Tasks[i].UnitID
	}
	return ""
}

// warnEvents are the events of a clock turning yellow or red: the party the
// clock runs against; at red also the center's commanders and the leaders
// supervising the case. Red is urgent.
func warnEvents(c *cases.Case, s *cases.Step, mk func(Kind, bool, string, Audience) Event) []Event {
	key, _ := s.Data["clock"].(string)
	level, _ := s.Data["level"].(string)
	red := level == "red"
	kind, word := ClockYellow, "即将到期（黄灯）"
	if red {
		kind, word = ClockRed, "已超时（红灯）"
	}
	var out []Event
	add := func(e Event) {
		if !e.To.Empty() {
			out = append(out, e)
		}
	}
	parts := strings.Split(key, ":")
	switch {
	case len(parts) == 2 && parts[0] == "case":
		to := Audience{Center: c.CenterPath, Supervisor: red}
		if cases.Stage(parts[1]) == cases.StageVerify && c.GridCode != "" {
			to.Grid = c.RegionPath
		}
		add(mk(kind, red, "案件"+c.Number+clockLabel(parts[1])+word, to))
		if red {
			add(mk(ListOverdue, false, "清单事项超期：案件"+c.Number+clockLabel(parts[1])+"已超时", Audience{ListOwners: true}))
		}
	case len(parts) == 3 && parts[0] == "task":
		add(mk(kind, red, "案件"+c.Number+"本单位"+clockLabel(parts[2])+word, Audience{Units: []string{parts[1]}}))
		if red {
			add(mk(kind, true, "案件"+c.Number+"承办单位"+clockLabel(parts[2])+word, Audience{Center: c.CenterPath, Supervisor: true}))
			add(mk(ListOverdue, false, "清单事项超期：案件"+c.Number+"承办单位"+clockLabel(parts[2])+"已超时", Audience{ListOwners: true}))
		}
	case len(parts) >= 4 && parts[0] == "whistle":
		wid, party := parts[1], strings.Join(parts[2:len(parts)-1], ":")
		for _, w := range c.Whistles {
			if w.ID != wid {
				continue
			}
			for _, p := range w.Parties {
				if p.Key != party || !p.ReportedAt.IsZero() {
					continue
				}
				to := Audience{}
				if p.UnitID != "" {
					to.Units = []string{p.UnitID}
				} else if p.AccountID != "" {
					to.Accounts = []string{p.AccountID}
				}
				what := "报到即将到期"
				if red {
					what = "报到已超时"
				}
				add(mk(ReportInDue, red, "案件"+c.Number+"吹哨"+what, to))
				if red {
					add(mk(ReportInDue, true, "案件"+c.Number+"被吹哨单位"+p.Name+"报到超时", Audience{Center: c.CenterPath}))
				}
			}
		}
	case len(parts) >= 2 && parts[0] == "meeting":
		for _, m := range c.Meetings {
			for _, d := range m.Decisions {
				if "meeting:"+m.ID+":"+d.ID == key && d.UnitID != "" {
					add(mk(kind, red, "案件"+c.Number+"会议决定落实"+word, Audience{Units: []string{d.UnitID}}))
				}
			}
		}
	}
	return out
}

func clockLabel(stage string) string {
	switch stage {
	case "accept":
		return "受理"
	case "dispatch":
		return "派遣"
	case "verify":
		return "核查"
	case "sign":
		return "签收"
	case "handle":
		return "处置"
	}
	return stage
}

// Message is a message left at a grid's door: the grid's people are told.
func Message(gridPath, gridCode string, at time.Time) Event {
	return Event{Kind: DoorMessage, Title: "网格" + gridCode + "有新的群众留言", Link: "/m/messages", At: at,
		To: Audience{Grid: gridPath}}
}

// SubscriptionPaused tells the administrators of a webhook subscription's
// scope (path: its region, or its unit's region) that it was paused for
// failing, with the reason; the link opens its delivery log.
func SubscriptionPaused(subID, name, path, reason string, at time.Time) Event {
	return Event{Kind: WebhookPaused, Title: "推送订阅“" + name + "”已暂停", Body: reason,
		Link: "/admin/webhooks/" + subID, At: at, To: Audience{Admins: path}}
}
