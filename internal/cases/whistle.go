package cases

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// Whistle-and-report (吹哨报到) and meetings on a case. Both belong to the
// case aggregate: they are stored in the case document and change only
// through Apply, so they share its transaction, version, timeline and events.

// WhistleKind is who whistles and whom.
type WhistleKind string

// The three whistles.
const (
	WhistleStreet     WhistleKind = "street"     // 街道吹哨、部门报到
	WhistleEnterprise WhistleKind = "enterprise" // 企业吹哨、部门报到
	WhistleGrid       WhistleKind = "grid"       // 网格吹哨、三长报到
)

// WhistleKinds lists the kinds.
var WhistleKinds = []WhistleKind{WhistleStreet, WhistleEnterprise, WhistleGrid}

// Label is the kind's Chinese name.
func (k WhistleKind) Label() string {
	switch k {
	case WhistleStreet:
		return "街道吹哨"
	case WhistleEnterprise:
		return "企业吹哨"
	case WhistleGrid:
		return "网格吹哨"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k WhistleKind) Valid() bool { return slices.Contains(WhistleKinds, k) }

// SummonsUnits reports whether the kind summons units (departments) rather
// than people (the heads of a grid).
func (k WhistleKind) SummonsUnits() bool { return k == WhistleStreet || k == WhistleEnterprise }

// WhistleKindsFor lists the kinds a role may whistle, the first being what an
// empty kind in a command means. The commander may also relay an
// enterprise's whistle ("through its street") on an enterprise case.
func WhistleKindsFor(r Role) []WhistleKind {
	switch r {
	case RoleCommander:
		return []WhistleKind{WhistleStreet, WhistleEnterprise}
	case RoleEnterprise:
		return []WhistleKind{WhistleEnterprise}
	case RoleGridWorker, RoleGridChief:
		return []WhistleKind{WhistleGrid}
	}
	return nil
}

// OnSiteRadius is how near the case's point (in meters) a report-in must be
// to count as on site.
const OnSiteRadius = 300

// MaxParties bounds the parties of one whistle.
const MaxParties = 30

// PartyRef names a party to summon: a unit or a person's account. Name and
// Title are resolved by the service from the unit or account; clients cannot
// set them.
type PartyRef struct {
	UnitID    string `json:"unit_id,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	Name      string `json:"-"`
	Title     string `json:"-"`
}

// Key is the party's key within a whistle: unit:<id> or person:<account>.
func (r PartyRef) Key() string {
	if r.UnitID != "" {
		return "unit:" + r.UnitID
	}
	return "person:" + r.AccountID
}

// Party is one summoned unit or person of a whistle, with its report-in clock.
type Party struct {
	Key        string     `json:"key"` // unit:<id> or person:<account>
	UnitID     string     `json:"unit_id,omitempty"`
	AccountID  string     `json:"account_id,omitempty"`
	Name       string     `json:"name"`
	Title      string     `json:"title,omitempty"` // a head's title, e.g. 街长
	ReportIn   sla.Clock  `json:"report_in"`
	ReportedAt time.Time  `json:"reported_at,omitzero"`
	ReportedBy string     `json:"reported_by,omitempty"` // the account that reported in
	Point      *geo.Point `json:"point,omitempty"`       // where the party reported in from
	Distance   float64    `json:"distance,omitempty"`    // meters from the case's point
	OnSite     bool       `json:"on_site,omitempty"`     // within OnSiteRadius of the case
	Late       bool       `json:"late,omitempty"`        // reported after the due, or turned red: a fact, never cleared
	Urges      int        `json:"urges,omitempty"`       // red cards: the report-in clock ran out before the party came
	Rating     Rating     `json:"rating,omitempty"`
	RatingNote string     `json:"rating_note,omitempty"`
	RatedAt    time.Time  `json:"rated_at,omitzero"`
	RatedBy    string     `json:"rated_by,omitempty"`
	LeftAt     time.Time  `json:"left_at,omitzero"` // left after the case closed (事不完、人不撤)
}

// Reported reports whether the party has reported in.
func (p Party) Reported() bool { return !p.ReportedAt.IsZero() }

// PartyStatus is where a party stands, as the report-in board shows it.
type PartyStatus string

// The statuses of a party.
const (
	PartyWaiting PartyStatus = "waiting" // 待报到: summoned, still within the limit
	PartyIn      PartyStatus = "in"      // 已报到: reported in on time
	PartyLateIn  PartyStatus = "late_in" // 迟到报到: reported in after the limit
	PartyRed     PartyStatus = "red"     // 超时未报到: past the limit and still not in
	PartyAbsent  PartyStatus = "absent"  // 未报到: the whistle ended without the party
)

// Label is the status's Chinese name.
func (s PartyStatus) Label() string {
	switch s {
	case PartyWaiting:
		return "待报到"
	case PartyIn:
		return "已报到"
	case PartyLateIn:
		return "迟到报到"
	case PartyRed:
		return "超时未报到"
	case PartyAbsent:
		return "未报到"
	}
	return string(s)
}

// Status returns the party's status at now.
func (p Party) Status(now time.Time) PartyStatus {
	switch {
	case p.Reported() && p.Late:
		return PartyLateIn
	case p.Reported():
		return PartyIn
	case !p.ReportIn.Stopped.IsZero():
		return PartyAbsent
	case p.Late || p.ReportIn.Overdue(now):
		return PartyRed
	}
	return PartyWaiting
}

// Whistle is one summons on a case: who whistled, why, whom, and by when
// they must report in.
type Whistle struct {
	ID            string      `json:"id"` // w1, w2, … per case
	Kind          WhistleKind `json:"kind"`
	InitiatorID   string      `json:"initiator_id"`
	InitiatorName string      `json:"initiator_name"`
	InitiatorRole Role        `json:"initiator_role"`
	Reason        string      `json:"reason"`
	At            time.Time   `json:"at"`
	Limit         sla.Limit   `json:"limit"` // the report-in limit
	Parties       []Party     `json:"parties"`
}

// MeetingKind is the kind of a meeting held on a case.
type MeetingKind string

// The kinds of meetings.
const (
	MeetingDispatch MeetingKind = "dispatch" // 调度会
	MeetingCouncil  MeetingKind = "council"  // 议事会
	MeetingCongress MeetingKind = "congress" // 居民代表大会
	MeetingBriefing MeetingKind = "briefing" // 专家说明会
)

// MeetingKinds lists the kinds of meetings.
var MeetingKinds = []MeetingKind{MeetingDispatch, MeetingCouncil, MeetingCongress, MeetingBriefing}

// Label is the meeting kind's Chinese name.
func (k MeetingKind) Label() string {
	switch k {
	case MeetingDispatch:
		return "调度会"
	case MeetingCouncil:
		return "议事会"
	case MeetingCongress:
		return "居民代表大会"
	case MeetingBriefing:
		return "专家说明会"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k MeetingKind) Valid() bool { return slices.Contains(MeetingKinds, k) }

// AttendeeKind is what an attendee is.
type AttendeeKind string

// The kinds of attendees.
const (
	AttendeeUnit     AttendeeKind = "unit"     // 部门
	AttendeePerson   AttendeeKind = "person"   // 人员 (an account, e.g. a head)
	AttendeeResident AttendeeKind = "resident" // 居民 (by name)
	AttendeeExpert   AttendeeKind = "expert"   // 专家 (by name)
)

// AttendeeKinds lists the kinds of attendees.
var AttendeeKinds = []AttendeeKind{AttendeeUnit, AttendeePerson, AttendeeResident, AttendeeExpert}

// Label is the attendee kind's Chinese name.
func (k AttendeeKind) Label() string {
	switch k {
	case AttendeeUnit:
		return "部门"
	case AttendeePerson:
		return "人员"
	case AttendeeResident:
		return "居民"
	case AttendeeExpert:
		return "专家"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k AttendeeKind) Valid() bool { return slices.Contains(AttendeeKinds, k) }

// Attendee is one participant of a meeting.
type Attendee struct {
	Kind      AttendeeKind `json:"kind"`
	Name      string       `json:"name,omitempty"`
	UnitID    string       `json:"unit_id,omitempty"`
	AccountID string       `json:"account_id,omitempty"`
	Title     string       `json:"title,omitempty"`
}

// Decision is a follow-up a meeting decided: a unit, a deadline, its clock.
type Decision struct {
	ID       string    `json:"id"` // d1, d2, … per case
	Text     string    `json:"text"`
	UnitID   string    `json:"unit_id"`
	UnitName string    `json:"unit_name,omitempty"`
	Due      time.Time `json:"due"`
	Clock    sla.Clock `json:"clock"`
	Done     bool      `json:"done,omitempty"`
	DoneAt   time.Time `json:"done_at,omitzero"`
	DoneBy   string    `json:"done_by,omitempty"`
	DoneNote string    `json:"done_note,omitempty"`
}

// Meeting is a meeting held on a case (or on one of its whistles).
type Meeting struct {
	ID           string      `json:"id"` // m1, m2, … per case
	Kind         MeetingKind `json:"kind"`
	WhistleID    string      `json:"whistle_id,omitempty"`
	At           time.Time   `json:"at"`
	Place        string      `json:"place"`
	ConvenerID   string      `json:"convener_id"`
	ConvenerName string      `json:"convener_name"`
	Attendees    []Attendee  `json:"attendees"`
	Shown        string      `json:"shown,omitempty"` // what was read out or shown
	Decisions    []Decision  `json:"decisions,omitempty"`
	RecordedAt   time.Time   `json:"recorded_at"`
}

// MeetingInput is what a command gives to record a meeting.
type MeetingInput struct {
	Kind      MeetingKind     `json:"kind"`
	At        time.Time       `json:"at,omitzero"` // default: now
	Place     string          `json:"place"`
	Attendees []Attendee      `json:"attendees,omitempty"`
	Shown     string          `json:"shown,omitempty"`
	Decisions []DecisionInput `json:"decisions,omitempty"`
}

// DecisionInput is one decision of a meeting as a command gives it.
type DecisionInput struct {
	Text     string    `json:"text"`
	UnitID   string    `json:"unit_id"`
	Due      time.Time `json:"due"`
	UnitName string    `json:"-"` // resolved by the service
}

// Limits on meeting inputs.
const (
	maxAttendees = 100
	maxDecisions = 50
	maxShort     = 100  // names, places
	maxText      = 2000 // what was shown, a decision
	maxMeetAhead = 90 * 24 * time.Hour
)

// whistleKey and decisionKey are the clocks' keys for the sweeper.
func whistleKey(wid, party string) string { return "whistle:" + wid + ":" + party + ":report_in" }
func decisionKey(mid, did string) string  { return "meeting:" + mid + ":" + did }

// parseWhistleKey splits whistle:<wid>:<party key>:report_in.
func parseWhistleKey(key string) (wid, party string, ok bool) {
	rest, ok := strings.CutPrefix(key, "whistle:")
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutSuffix(rest, ":report_in")
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}

// CaseClock reports whether a clock key is the case's own stage clock or a
// unit's task clock: the clocks whose running out may escalate the case. A
// party's report-in and a decision's deadline count against the party or the
// unit, not against the case.
func CaseClock(key string) bool {
	return strings.HasPrefix(key, "case:") || strings.HasPrefix(key, "task:")
}

// Whistle returns the index of a whistle by ID, or -1.
func (c *Case) Whistle(id string) int {
	for i := range c.Whistles {
		if c.Whistles[i].ID == id {
			return i
		}
	}
	return -1
}

// Party returns the index of a party in a whistle by key, or -1.
func (w *Whistle) Party(key string) int {
	for i := range w.Parties {
		if w.Parties[i].Key == key {
			return i
		}
	}
	return -1
}

// Decision returns the indexes of a decision by ID, or -1, -1.
func (c *Case) Decision(id string) (int, int) {
	for i := range c.Meetings {
		for j := range c.Meetings[i].Decisions {
			if c.Meetings[i].Decisions[j].ID == id {
				return i, j
			}
		}
	}
	return -1, -1
}

// isParty reports whether the actor is (or speaks for) a party: the unit's
// staff for a unit, the account itself for a person.
func isParty(a Actor, p Party) bool {
	if p.UnitID != "" {
		return a.Role == RoleUnit && a.UnitID != "" && a.UnitID == p.UnitID
	}
	return a.AccountID != "" && a.AccountID == p.AccountID
}

// involved reports whether the actor is summoned by a whistle of the case or
// has a decision to carry out: what puts a case in a unit's or a person's
// scope beyond its tasks.
func (c *Case) involved(a Actor) bool {
	for _, w := range c.Whistles {
		for _, p := range w.Parties {
			if isParty(a, p) {
				return true
			}
		}
	}
	if a.Role == RoleUnit && a.UnitID != "" {
		for _, m := range c.Meetings {
			for _, d := range m.Decisions {
				if d.UnitID == a.UnitID {
					return true
				}
			}
		}
	}
	return false
}

// pendingParty returns the first party the actor may report in for (in the
// given whistle, or in any), or -1, -1.
func (c *Case) pendingParty(a Actor, wid string) (int, int) {
	for i, w := range c.Whistles {
		if wid != "" && w.ID != wid {
			continue
		}
		for j, p := range w.Parties {
			if isParty(a, p) && !p.Reported() && p.ReportIn.Stopped.IsZero() {
				return i, j
			}
		}
	}
	return -1, -1
}

// whistleGuard holds the rules of the whistle actions that depend on the case
// beyond its state; it sees no command inputs (the console asks it which
// buttons to show).
func whistleGuard(c *Case, a Action, actor Actor) error {
	switch a {
	case ActWhistle:
		if actor.Role == RoleEnterprise && (actor.AccountID == "" || actor.AccountID != c.Reporter.AccountID) {
			return refuse("企业只能就本企业的诉求吹哨")
		}
	case ActReportIn:
		if i, _ := c.pendingParty(actor, ""); i < 0 {
			if c.involvedAsParty(actor) {
				return refuse("已报到")
			}
			return refuse("不在本案件的吹哨报到名单中")
		}
	case ActLeave:
		if !c.involvedAsParty(actor) {
			return refuse("不在本案件的吹哨报到名单中")
		}
		for _, w := range c.Whistles {
			for _, p := range w.Parties {
				if isParty(actor, p) && p.LeftAt.IsZero() {
					return nil
				}
			}
		}
		return refuse("已退出")
	case ActRateParty:
		unrated, mine := false, false
		for _, w := range c.Whistles {
			for _, p := range w.Parties {
				if p.Rating == "" {
					unrated = true
					mine = mine || (actor.AccountID != "" && w.InitiatorID == actor.AccountID)
				}
			}
		}
		if !unrated {
			return refuse("报到单位均已评价")
		}
		if actor.Role != RoleCommander && !mine {
			return refuse("只有吹哨人或指挥中心可以评价报到单位")
		}
	case ActDecisionDone:
		for _, m := range c.Meetings {
			for _, d := range m.Decisions {
				if !d.Done && (!actor.HandlesTasks() || d.UnitID == actor.UnitID) {
					return nil
				}
			}
		}
		return refuse("没有待落实的会议决定")
	}
	return nil
}

func (c *Case) involvedAsParty(a Actor) bool {
	for _, w := range c.Whistles {
		for _, p := range w.Parties {
			if isParty(a, p) {
				return true
			}
		}
	}
	return false
}

// whistleEffect carries out the whistle actions.
func whistleEffect(n *Case, step *Step, cmd Command, actor Actor, p Policy, now time.Time) error {
	switch cmd.Action {
	case ActWhistle:
		return n.whistle(step, cmd, actor, p, now)
	case ActReportIn:
		return n.reportIn(step, cmd, actor, now)
	case ActLeave:
		var keys []string
		for i := range n.Whistles {
			w := &n.Whistles[i]
			for j := range w.Parties {
				if pt := &w.Parties[j]; isParty(actor, *pt) && pt.LeftAt.IsZero() {
					pt.LeftAt = now
					keys = append(keys, w.ID+"/"+pt.Key)
				}
			}
		}
		step.Data = map[string]any{"parties": keys}
	case ActRateParty:
		return n.rateParty(step, cmd, actor, now)
	case ActMeeting:
		return n.meeting(step, cmd, actor, p, now)
	case ActDecisionDone:
		i, j := n.Decision(cmd.DecisionID)
		if i < 0 {
			return apperr.Field("decision_id", "会议决定不存在")
		}
		m := &n.Meetings[i]
		d := &m.Decisions[j]
		if actor.HandlesTasks() && d.UnitID != actor.UnitID {
			return refuse("该决定不由本单位落实")
		}
		if d.Done {
			return refuse("该决定已落实")
		}
		d.Done, d.DoneAt, d.DoneBy, d.DoneNote = true, now, actor.AccountID, step.Note
		d.Clock = stop(d.Clock, now)
		step.Data = map[string]any{"meeting_id": m.ID, "decision_id": d.ID, "unit_id": d.UnitID, "late": d.Clock.WasOverdue}
	}
	return nil
}

func (n *Case) whistle(step *Step, cmd Command, actor Actor, p Policy, now time.Time) error {
	var f apperr.Fields
	allowed := WhistleKindsFor(actor.Role)
	kind := cmd.Kind
	if kind == "" && len(allowed) > 0 {
		kind = allowed[0]
	}
	switch {
	case !kind.Valid():
		f.Add("kind", "吹哨类型应为 street（街道吹哨）、enterprise（企业吹哨）或 grid（网格吹哨）")
	case !slices.Contains(allowed, kind):
		f.Addf("kind", "%s不能发起“%s”", actor.Role.Label(), kind.Label())
	case kind == WhistleEnterprise && actor.Role == RoleCommander && n.Source != SourceEnterprise:
		f.Add("kind", "只有企业诉求可以代企业吹哨")
	}
	if len(cmd.Parties) > MaxParties {
		f.Addf("parties", "一次吹哨最多召集%d方", MaxParties)
	}
	seen := map[string]bool{}
	parties := make([]Party, 0, len(cmd.Parties))
	for i, r := range cmd.Parties {
		field := fmt.Sprintf("parties[%d]", i)
		switch {
		case r.UnitID != "" && r.AccountID != "":
			f.Add(field, "每一方只能是一个部门或一个人")
			continue
		case r.UnitID == "" && r.AccountID == "":
			f.Add(field, "请选择部门或人员")
			continue
		case kind.Valid() && kind.SummonsUnits() && r.UnitID == "":
			f.Addf(field, "“%s”召集的是部门", kind.Label())
			continue
		case kind == WhistleGrid && r.AccountID == "":
			f.Add(field, "“网格吹哨”召集的是三长（街长、路长、巷长、楼长、店长）")
			continue
		}
		key := r.Key()
		if seen[key] {
			f.Add(field, "重复")
			continue
		}
		seen[key] = true
		name := r.Name
		if name == "" {
			name = strings.TrimPrefix(strings.TrimPrefix(key, "unit:"), "person:")
		}
		parties = append(parties, Party{Key: key, UnitID: r.UnitID, AccountID: r.AccountID, Name: name, Title: r.Title})
	}
	limit := cmd.ReportInLimit
	if limit != (sla.Limit{}) {
		if err := limit.Validate(); err != nil {
			f.Add("report_in_limit", "请填写有效的报到时限")
		}
	} else if l, ok := p.ReportInLimits[kind]; ok {
		limit = l
	} else {
		limit = p.Limit(string(sla.ReportIn), n.Severity)
	}
	if err := f.Err(); err != nil {
		return err
	}
	w := Whistle{
		ID: "w" + strconv.Itoa(len(n.Whistles)+1), Kind: kind,
		InitiatorID: actor.AccountID, InitiatorName: actor.Name, InitiatorRole: actor.Role,
		Reason: step.Note, At: now, Limit: limit, Parties: parties,
	}
	keys := make([]string, len(parties))
	for i := range w.Parties {
		w.Parties[i].ReportIn = sla.Start(p.Calendar, now, limit, p.YellowShare)
		keys[i] = w.Parties[i].Key
	}
	n.Whistles = append(n.Whistles, w)
	step.Data = map[string]any{"whistle_id": w.ID, "kind": string(kind), "parties": keys, "limit": limit.String()}
	if len(w.Parties) > 0 {
		step.Data["due"] = w.Parties[0].ReportIn.Due
	}
	return nil
}

func (n *Case) reportIn(step *Step, cmd Command, actor Actor, now time.Time) error {
	if cmd.WhistleID != "" && n.Whistle(cmd.WhistleID) < 0 {
		return apperr.Field("whistle_id", "吹哨不存在")
	}
	if cmd.Point != nil && !cmd.Point.Valid() {
		return apperr.Field("point", "坐标无效")
	}
	i, j := n.pendingParty(actor, cmd.WhistleID)
	if i < 0 {
		return refuse("不在该吹哨的报到名单中或已报到")
	}
	w := &n.Whistles[i]
	pt := &w.Parties[j]
	pt.ReportIn = stop(pt.ReportIn, now)
	pt.ReportedAt, pt.ReportedBy = now, actor.AccountID
	pt.Late = pt.Late || pt.ReportIn.WasOverdue
	step.Data = map[string]any{"whistle_id": w.ID, "party_key": pt.Key, "party": pt.Name, "late": pt.Late, "due": pt.ReportIn.Due}
	if cmd.Point != nil {
		q := *cmd.Point
		pt.Point = &q
		if n.Point != nil {
			pt.Distance = math.Round(geo.Distance(q, *n.Point))
			pt.OnSite = pt.Distance <= OnSiteRadius
			step.Data["distance"] = pt.Distance
		}
		step.Data["on_site"] = pt.OnSite
	}
	return nil
}

func (n *Case) rateParty(step *Step, cmd Command, actor Actor, now time.Time) error {
	i := n.Whistle(cmd.WhistleID)
	if i < 0 {
		return apperr.Field("whistle_id", "吹哨不存在")
	}
	w := &n.Whistles[i]
	j := w.Party(cmd.PartyKey)
	if j < 0 {
		return apperr.Field("party_key", "该吹哨没有召集此单位或人员")
	}
	if actor.Role != RoleCommander && (actor.AccountID == "" || actor.AccountID != w.InitiatorID) {
		return refuse("只有吹哨人或指挥中心可以评价报到单位")
	}
	pt := &w.Parties[j]
	if pt.Rating != "" {
		return refuse("已评价过“%s”", pt.Name)
	}
	pt.Rating, pt.RatingNote, pt.RatedAt, pt.RatedBy = cmd.Rating, step.Note, now, actor.AccountID
	step.Data = map[string]any{"whistle_id": w.ID, "party_key": pt.Key, "party": pt.Name, "rating": string(cmd.Rating),
		"late": pt.Late, "urges": pt.Urges, "reported": pt.Reported()}
	return nil
}

func (n *Case) meeting(step *Step, cmd Command, actor Actor, p Policy, now time.Time) error {
	in := *cmd.Meeting
	var f apperr.Fields
	if !in.Kind.Valid() {
		f.Add("meeting.kind", "会议类型应为 dispatch（调度会）、council（议事会）、congress（居民代表大会）或 briefing（专家说明会）")
	}
	at := in.At
	if at.IsZero() {
		at = now
	}
	if at.Before(n.ReportedAt) || at.After(now.Add(maxMeetAhead)) {
		f.Add("meeting.at", "会议时间须在案件上报之后、90天以内")
	}
	place := strings.TrimSpace(in.Place)
	if place == "" || len([]rune(place)) > maxShort {
		f.Addf("meeting.place", "请填写会议地点（不超过%d字）", maxShort)
	}
	if len([]rune(in.Shown)) > maxText {
		f.Addf("meeting.shown", "不能超过%d字", maxText)
	}
	if BadText(place) {
		f.Add("meeting.place", "含有控制字符或无效的编码")
	}
	if BadText(in.Shown) {
		f.Add("meeting.shown", "含有控制字符或无效的编码")
	}
	var attendees []Attendee
	seen := map[string]bool{}
	wi := -1
	if cmd.WhistleID != "" {
		if wi = n.Whistle(cmd.WhistleID); wi < 0 {
			f.Add("whistle_id", "吹哨不存在")
		} else {
			// The whistle's parties are the meeting's first attendees.
			for _, pt := range n.Whistles[wi].Parties {
				a := Attendee{Kind: AttendeeUnit, Name: pt.Name, UnitID: pt.UnitID, AccountID: pt.AccountID, Title: pt.Title}
				if pt.UnitID == "" {
					a.Kind = AttendeePerson
				}
				seen[pt.Key] = true
				attendees = append(attendees, a)
			}
		}
	}
	if len(in.Attendees) > maxAttendees {
		f.Addf("meeting.attendees", "参会方不能超过%d个", maxAttendees)
	}
	for i, a := range in.Attendees {
		field := fmt.Sprintf("meeting.attendees[%d]", i)
		a.Name = strings.TrimSpace(a.Name)
		switch a.Kind {
		case AttendeeUnit:
			if a.UnitID == "" || a.AccountID != "" {
				f.Add(field, "部门参会须指定部门")
				continue
			}
		case AttendeePerson:
			if a.AccountID == "" && a.Name == "" {
				f.Add(field, "请填写参会人员")
				continue
			}
		case AttendeeResident, AttendeeExpert:
			if a.Name == "" || a.UnitID != "" || a.AccountID != "" {
				f.Addf(field, "%s参会请填写姓名", a.Kind.Label())
				continue
			}
		default:
			f.Add(field, "参会方类型应为 unit、person、resident 或 expert")
			continue
		}
		if len([]rune(a.Name)) > maxShort || len([]rune(a.Title)) > maxShort {
			f.Addf(field, "姓名和职务不能超过%d字", maxShort)
			continue
		}
		key := ""
		switch {
		case a.UnitID != "":
			key = "unit:" + a.UnitID
		case a.AccountID != "":
			key = "person:" + a.AccountID
		}
		if key != "" && seen[key] {
			continue // already there, from the whistle
		}
		if key != "" {
			seen[key] = true
		}
		if a.Name == "" {
			a.Name = strings.TrimPrefix(strings.TrimPrefix(key, "unit:"), "person:")
		}
		attendees = append(attendees, a)
	}
	if len(attendees) == 0 && f.Empty() {
		f.Add("meeting.attendees", "请填写参会方，或指定吹哨以带入报到单位")
	}
	if len(in.Decisions) > maxDecisions {
		f.Addf("meeting.decisions", "决定事项不能超过%d项", maxDecisions)
	}
	next := 0
	for _, m := range n.Meetings {
		next += len(m.Decisions)
	}
	var decisions []Decision
	for i, d := range in.Decisions {
		field := fmt.Sprintf("meeting.decisions[%d]", i)
		text := strings.TrimSpace(d.Text)
		if text == "" || len([]rune(text)) > maxText {
			f.Addf(field+".text", "请填写决定事项（不超过%d字）", maxText)
		} else if BadText(text) {
			f.Add(field+".text", "含有控制字符或无效的编码")
		}
		if d.UnitID == "" {
			f.Add(field+".unit_id", "请指定落实单位")
		}
		if !d.Due.After(now) {
			f.Add(field+".due", "完成时限须晚于现在")
		}
		next++
		decisions = append(decisions, Decision{ID: "d" + strconv.Itoa(next), Text: text, UnitID: d.UnitID, UnitName: d.UnitName, Due: d.Due})
	}
	if err := f.Err(); err != nil {
		return err
	}
	ids := make([]string, len(decisions))
	for i := range decisions {
		decisions[i].Due = decisions[i].Due.In(p.Calendar.Location())
		decisions[i].Clock = deadlineClock(p, now, decisions[i].Due)
		ids[i] = decisions[i].ID
	}
	m := Meeting{
		ID: "m" + strconv.Itoa(len(n.Meetings)+1), Kind: in.Kind, WhistleID: cmd.WhistleID, At: at, Place: place,
		ConvenerID: actor.AccountID, ConvenerName: actor.Name, Attendees: attendees, Shown: strings.TrimSpace(in.Shown),
		Decisions: decisions, RecordedAt: now,
	}
	n.Meetings = append(n.Meetings, m)
	step.Data = map[string]any{"meeting_id": m.ID, "kind": string(m.Kind), "place": m.Place, "attendees": len(attendees), "decisions": ids}
	if m.WhistleID != "" {
		step.Data["whistle_id"] = m.WhistleID
	}
	return nil
}

// deadlineClock is a clock from now to a fixed instant (a decision's due),
// yellow at the policy's share of the way.
func deadlineClock(p Policy, now, due time.Time) sla.Clock {
	loc := p.Calendar.Location()
	d := due.Sub(now)
	l := sla.Limit{Amount: int(math.Ceil(d.Minutes())), Unit: sla.Minutes}
	if l.Amount > sla.MaxAmount {
		l = sla.Limit{Amount: int(math.Ceil(d.Hours() / 24)), Unit: sla.Days}
	}
	yellow := time.Duration(math.Round(float64(d)*p.YellowShare/float64(time.Second))) * time.Second
	return sla.Clock{Limit: l, Start: now.In(loc), Due: due.In(loc), YellowAt: now.Add(yellow).In(loc)}
}

// warnWhistle records what a warning on a party's or a decision's clock
// means: a party still out when its report-in clock runs out turns red and is
// urged (a red card that counts against it). A warning on a clock that is no
// longer running is refused, so the sweeper drops it.
func (n *Case) warnWhistle(step *Step, cmd Command, now time.Time) error {
	if wid, key, ok := parseWhistleKey(cmd.Clock); ok {
		i := n.Whistle(wid)
		j := -1
		if i >= 0 {
			j = n.Whistles[i].Party(key)
		}
		if j < 0 {
			return refuse("没有该报到计时")
		}
		pt := &n.Whistles[i].Parties[j]
		if !running(pt.ReportIn) || pt.Reported() {
			return refuse("报到计时已结束")
		}
		if cmd.Level == "yellow" && now.After(pt.ReportIn.Due) {
			return refuse("报到计时已超期") // the red card says more; a late sweep drops the yellow
		}
		step.Data["whistle_id"], step.Data["party_key"], step.Data["party"] = wid, key, pt.Name
		if cmd.Level == "red" {
			pt.Late = true
			pt.Urges++
			step.Data["urges"] = pt.Urges
			if step.Note == "" {
				step.Note = fmt.Sprintf("%s超过报到时限（%s）仍未报到，亮红牌催办", pt.Name, n.Whistles[i].Limit.String())
			}
		}
		return nil
	}
	if rest, ok := strings.CutPrefix(cmd.Clock, "meeting:"); ok {
		mid, did, _ := strings.Cut(rest, ":")
		i, j := n.Decision(did)
		if i < 0 || n.Meetings[i].ID != mid {
			return refuse("没有该决定事项计时")
		}
		d := n.Meetings[i].Decisions[j]
		if d.Done || !running(d.Clock) {
			return refuse("决定事项计时已结束")
		}
		if cmd.Level == "yellow" && now.After(d.Clock.Due) {
			return refuse("决定事项计时已超期")
		}
		step.Data["meeting_id"], step.Data["decision_id"], step.Data["unit_id"] = mid, did, d.UnitID
	}
	return nil
}

// endWhistles stops what a case's end leaves running: the report-in clocks
// of parties that never came (they stay late if their time had run out) and
// the clocks of undone decisions (they stay undone, on the record).
func (n *Case) endWhistles(now time.Time) {
	for i := range n.Whistles {
		for j := range n.Whistles[i].Parties {
			pt := &n.Whistles[i].Parties[j]
			if !pt.Reported() {
				pt.ReportIn = stop(pt.ReportIn, now)
				pt.Late = pt.Late || pt.ReportIn.WasOverdue
			}
		}
	}
	for i := range n.Meetings {
		for j := range n.Meetings[i].Decisions {
			if d := &n.Meetings[i].Decisions[j]; !d.Done {
				d.Clock = stop(d.Clock, now)
			}
		}
	}
}

// eachWhistleClock calls fn with every report-in clock of a party still out
// and every clock of an undone decision.
func (n *Case) eachWhistleClock(fn func(*sla.Clock)) {
	for i := range n.Whistles {
		for j := range n.Whistles[i].Parties {
			if pt := &n.Whistles[i].Parties[j]; !pt.Reported() {
				fn(&pt.ReportIn)
			}
		}
	}
	for i := range n.Meetings {
		for j := range n.Meetings[i].Decisions {
			if d := &n.Meetings[i].Decisions[j]; !d.Done {
				fn(&d.Clock)
			}
		}
	}
}

// whistleClocks lists the running clocks of parties and decisions.
func (c *Case) whistleClocks() []ClockRef {
	var out []ClockRef
	for _, w := range c.Whistles {
		for _, pt := range w.Parties {
			if !pt.Reported() && running(pt.ReportIn) {
				out = append(out, ClockRef{Key: whistleKey(w.ID, pt.Key), UnitID: pt.UnitID, Clock: pt.ReportIn})
			}
		}
	}
	for _, m := range c.Meetings {
		for _, d := range m.Decisions {
			if !d.Done && running(d.Clock) {
				out = append(out, ClockRef{Key: decisionKey(m.ID, d.ID), UnitID: d.UnitID, Clock: d.Clock})
			}
		}
	}
	return out
}

// cloneWhistles deep-copies whistles and meetings so Apply never changes its input.
func (c *Case) cloneWhistles() {
	if c.Whistles != nil {
		ws := make([]Whistle, len(c.Whistles))
		for i, w := range c.Whistles {
			w.Parties = slices.Clone(w.Parties)
			ws[i] = w
		}
		c.Whistles = ws
	}
	if c.Meetings != nil {
		ms := make([]Meeting, len(c.Meetings))
		for i, m := range c.Meetings {
			m.Attendees = slices.Clone(m.Attendees)
			m.Decisions = slices.Clone(m.Decisions)
			ms[i] = m
		}
		c.Meetings = ms
	}
}
