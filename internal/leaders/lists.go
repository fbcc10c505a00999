package leaders

import (
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/textcheck"
)

// ListKind is what a list is for.
type ListKind string

// The kinds of list.
const (
	ListLeader  ListKind = "leader"  // 领导清单: the problems a leader raised or took on
	ListProject ListKind = "project" // 重点整治整改项目清单
	ListMonthly ListKind = "monthly" // 每月一题
	ListStreet  ListKind = "street"  // 街道清单
)

// ListKinds lists every kind of list.
var ListKinds = []ListKind{ListLeader, ListProject, ListMonthly, ListStreet}

// Label is the kind's Chinese name.
func (k ListKind) Label() string {
	switch k {
	case ListLeader:
		return "领导清单"
	case ListProject:
		return "重点整治整改项目清单"
	case ListMonthly:
		return "每月一题"
	case ListStreet:
		return "街道清单"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k ListKind) Valid() bool { return slices.Contains(ListKinds, k) }

// List is a named set of items with an owner and a period (清单).
type List struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Kind       ListKind  `json:"kind"`
	OwnerID    string    `json:"owner_id"`
	OwnerName  string    `json:"owner_name"`
	RegionPath string    `json:"region_path"` // whose list: a district's, a street's
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`              // exclusive
	Topic      string    `json:"topic,omitempty"` // 每月一题: the month's problem
	CreatedAt  time.Time `json:"created_at"`
}

// Validate checks a list's own fields.
func (l *List) Validate() error {
	var f apperr.Fields
	l.Name = strings.TrimSpace(l.Name)
	if n := len([]rune(l.Name)); n == 0 || n > 100 {
		f.Add("name", "名称不能为空且不超过100字")
	}
	textcheck.AddLine(&f, "name", l.Name)
	if l.Kind == "" {
		f.Add("kind", "请选择清单类型")
	} else if !l.Kind.Valid() {
		f.Add("kind", "清单类型应为 leader、project、monthly 或 street")
	}
	if l.OwnerID == "" {
		f.Add("owner_id", "请选择清单责任人")
	}
	checkPeriod(&f, l.From, l.To)
	if l.Kind == ListMonthly {
		if strings.TrimSpace(l.Topic) == "" {
			f.Add("topic", "每月一题须写明本月的题目")
		}
		if !l.To.IsZero() && l.To.Sub(l.From) > 32*24*time.Hour {
			f.Add("to", "每月一题的期限不能超过一个月")
		}
	}
	checkNote(&f, "topic", l.Topic, 500)
	return f.Err()
}

// ItemKind is what an item of a list is.
type ItemKind string

// An item is a case or a project.
const (
	ItemCase    ItemKind = "case"
	ItemProject ItemKind = "project"
)

// Item is one entry of a list.
type Item struct {
	ListID  string    `json:"list_id"`
	Kind    ItemKind  `json:"kind"`
	RefID   string    `json:"ref_id"`
	AddedBy string    `json:"added_by"`
	AddedAt time.Time `json:"added_at"`
}

// ProjectState is where a project stands.
type ProjectState string

// The states of a project.
const (
	ProjectOpen   ProjectState = "open"   // 推进中
	ProjectClosed ProjectState = "closed" // 已销号: every milestone met and verified
)

// Label is the state's Chinese name.
func (s ProjectState) Label() string {
	if s == ProjectClosed {
		return "已销号"
	}
	return "推进中"
}

// Milestone (节点) is a dated step of a project, with evidence. Its clock
// runs on the official calendar from the project's start (or from the
// previous milestone's due), for its limit.
type Milestone struct {
	Seq      int           `json:"seq"`
	Title    string        `json:"title"`
	Limit    sla.Limit     `json:"limit"`
	Clock    sla.Clock     `json:"clock"`
	Evidence string        `json:"evidence,omitempty"`
	Photos   []cases.Photo `json:"photos,omitempty"`
	MetAt    time.Time     `json:"met_at,omitzero"`
	MetBy    string        `json:"met_by,omitempty"`
}

// Met reports whether the milestone is reached.
func (m Milestone) Met() bool { return !m.MetAt.IsZero() }

// Project is a key rectification project (重点整治整改项目).
type Project struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Goal       string       `json:"goal"`
	LeadUnit   string       `json:"lead_unit"`
	CoUnits    []string     `json:"co_units,omitempty"`
	RegionPath string       `json:"region_path"`
	CaseID     string       `json:"case_id,omitempty"` // the case it grew from; its meetings are the project's
	OwnerID    string       `json:"owner_id"`
	State      ProjectState `json:"state"`
	Milestones []Milestone  `json:"milestones"`
	Start      time.Time    `json:"start"`
	VerifiedBy string       `json:"verified_by,omitempty"`
	Verdict    string       `json:"verdict,omitempty"`
	ClosedAt   time.Time    `json:"closed_at,omitzero"`
	CreatedAt  time.Time    `json:"created_at"`
	Version    int          `json:"version"`
}

// MilestoneInput is a milestone as planned.
type MilestoneInput struct {
	Title string    `json:"title"`
	Limit sla.Limit `json:"limit"`
}

// MaxMilestones is the most milestones a project may have.
const MaxMilestones = 20

// NewProject validates a project and starts its milestones' clocks on the
// calendar, one after another from start.
func NewProject(p Project, ms []MilestoneInput, cal *calendar.Calendar, start time.Time) (Project, error) {
	var f apperr.Fields
	p.Name, p.Goal = strings.TrimSpace(p.Name), strings.TrimSpace(p.Goal)
	if n := len([]rune(p.Name)); n == 0 || n > 100 {
		f.Add("name", "项目名称不能为空且不超过100字")
	}
	textcheck.AddLine(&f, "name", p.Name)
	if p.Goal == "" {
		f.Add("goal", "请写明整治目标")
	}
	checkNote(&f, "goal", p.Goal, 2000)
	if p.LeadUnit == "" {
		f.Add("lead_unit", "请选择牵头单位")
	}
	for i, u := range p.CoUnits {
		if u == "" || u == p.LeadUnit || slices.Index(p.CoUnits, u) < i {
			f.Add(fieldAt("co_units", i), "配合单位不能为空，不能与牵头单位或其他配合单位重复")
		}
	}
	if len(ms) == 0 {
		f.Add("milestones", "请至少设置一个节点")
	}
	if len(ms) > MaxMilestones {
		f.Addf("milestones", "节点不能超过%d个", MaxMilestones)
	}
	at := start
	p.Milestones = nil
	for i, m := range ms {
		pre := fieldAt("milestones", i) + "."
		m.Title = strings.TrimSpace(m.Title)
		if n := len([]rune(m.Title)); n == 0 || n > 100 {
			f.Add(pre+"title", "节点名称不能为空且不超过100字")
		}
		textcheck.AddLine(&f, pre+"title", m.Title)
		var lf apperr.Fields
		if err := m.Limit.Validate(); err != nil {
			for _, fe := range err.(*apperr.Error).Fields {
				lf.Add(pre+"limit."+fe.Field, fe.Reason)
			}
			f.Merge(lf.Err())
			continue
		}
		c := sla.Start(cal, at, m.Limit, 0)
		p.Milestones = append(p.Milestones, Milestone{Seq: i + 1, Title: m.Title, Limit: m.Limit, Clock: c})
		at = c.Due
	}
	if err := f.Err(); err != nil {
		return Project{}, err
	}
	p.State, p.Start, p.Version = ProjectOpen, start, 1
	return p, nil
}

// MeetMilestone records that milestone seq is reached, with its evidence;
// its clock stops (late if past due).
func (p Project) MeetMilestone(seq int, evidence string, photos []cases.Photo, by string, now time.Time) (Project, error) {
	if p.State != ProjectOpen {
		return p, apperr.New(apperr.Refused, "项目已销号，节点不能再变更")
	}
	var f apperr.Fields
	evidence = strings.TrimSpace(evidence)
	if evidence == "" && len(photos) == 0 {
		f.Add("evidence", "请写明完成情况或上传照片作为佐证")
	}
	checkNote(&f, "evidence", evidence, 2000)
	if len(photos) > 9 {
		f.Add("photos", "照片不能超过9张")
	}
	i := slices.IndexFunc(p.Milestones, func(m Milestone) bool { return m.Seq == seq })
	if i < 0 {
		f.Add("seq", "节点不存在")
	}
	if err := f.Err(); err != nil {
		return p, err
	}
	if p.Milestones[i].Met() {
		return p, apperr.Newf(apperr.Refused, "节点“%s”已完成", p.Milestones[i].Title)
	}
	ms := slices.Clone(p.Milestones)
	at := now
	if at.Before(ms[i].Clock.Start) {
		at = ms[i].Clock.Start // met before its planned start: on time
	}
	c, err := ms[i].Clock.Stop(at)
	if err != nil {
		return p, err
	}
	ms[i].Clock, ms[i].Evidence, ms[i].Photos, ms[i].MetAt, ms[i].MetBy = c, evidence, photos, now, by
	p.Milestones = ms
	p.Version++
	return p, nil
}

// Verify closes the project (销号) once every milestone is met.
func (p Project) Verify(by, verdict string, now time.Time) (Project, error) {
	if p.State != ProjectOpen {
		return p, apperr.New(apperr.Refused, "项目已销号")
	}
	var f apperr.Fields
	verdict = strings.TrimSpace(verdict)
	if verdict == "" {
		f.Add("verdict", "请写明验收意见")
	}
	checkNote(&f, "verdict", verdict, 2000)
	if err := f.Err(); err != nil {
		return p, err
	}
	for _, m := range p.Milestones {
		if !m.Met() {
			return p, apperr.Newf(apperr.Refused, "节点“%s”尚未完成，项目不能销号", m.Title)
		}
	}
	p.State, p.VerifiedBy, p.Verdict, p.ClosedAt = ProjectClosed, by, verdict, now
	p.Version++
	return p, nil
}

// Late counts the milestones past due at now (met late, or still open
// after their due).
func (p Project) Late(now time.Time) int {
	n := 0
	for _, m := range p.Milestones {
		if m.Clock.Overdue(now) {
			n++
		}
	}
	return n
}

// Next returns the first milestone not met, or nil.
func (p Project) Next() *Milestone {
	for i := range p.Milestones {
		if !p.Milestones[i].Met() {
			return &p.Milestones[i]
		}
	}
	return nil
}

// Supervision (督办) is a leader's or a center's pressing of one case, with
// a deadline: its own clock on the official calendar, stopped when the case
// closes.
type Supervision struct {
	ID             string    `json:"id"`
	CaseID         string    `json:"case_id"`
	ListID         string    `json:"list_id,omitempty"`
	SupervisorID   string    `json:"supervisor_id"`
	SupervisorName string    `json:"supervisor_name"`
	Note           string    `json:"note"`
	Limit          sla.Limit `json:"limit"`
	Clock          sla.Clock `json:"clock"`
	At             time.Time `json:"at"`
}

// NewSupervision validates a supervision and starts its clock at now.
func NewSupervision(s Supervision, cal *calendar.Calendar, now time.Time) (Supervision, error) {
	var f apperr.Fields
	s.Note = strings.TrimSpace(s.Note)
	if s.Note == "" {
		f.Add("note", "请写明督办要求")
	}
	checkNote(&f, "note", s.Note, 2000)
	if s.CaseID == "" {
		f.Add("case_id", "请选择督办的案件")
	}
	if err := s.Limit.Validate(); err != nil {
		for _, fe := range err.(*apperr.Error).Fields {
			f.Add("limit."+fe.Field, fe.Reason)
		}
	}
	if err := f.Err(); err != nil {
		return s, err
	}
	s.At = now
	s.Clock = sla.Start(cal, now, s.Limit, 0)
	return s, nil
}

// ClockFor returns the supervision's clock as the case stands: the case's
// own record of it (paused while parked, stopped at the end, swept), or for
// a supervision recorded before cases kept it, stopped at the case's close
// (on time or late), running otherwise.
func (s Supervision) ClockFor(c *cases.Case) sla.Clock {
	if c != nil {
		if cs, ok := c.SupervisionOf(s.ID); ok {
			return cs.Clock
		}
	}
	if c != nil && !c.State.Open() && !c.ClosedAt.IsZero() && s.Clock.Stopped.IsZero() {
		at := c.ClosedAt
		if at.Before(s.Clock.Start) {
			at = s.Clock.Start
		}
		if st, err := s.Clock.Stop(at); err == nil {
			return st
		}
	}
	return s.Clock
}

// CanSee reports whether an actor may read a leader record placed at path
// and owned (or led) by owner: the owner, the system, and leaders,
// commanders and administrators whose region holds it.
func CanSee(a cases.Actor, path, owner string) bool {
	switch a.Role {
	case cases.RoleSystem:
		return true
	case cases.RoleLeader, cases.RoleCommander, cases.RoleAdmin:
		if a.RegionPath != "" && strings.HasPrefix(path, a.RegionPath) {
			return true
		}
	}
	return a.AccountID != "" && a.AccountID == owner
}

// Steers reports whether an actor may lead a leader record at path: create
// lists and projects, add items, supervise, verify. Leaders and commanders
// whose region holds it.
func Steers(a cases.Actor, path string) bool {
	if a.Role == cases.RoleSystem {
		return true
	}
	return (a.Role == cases.RoleLeader || a.Role == cases.RoleCommander) && a.RegionPath != "" && strings.HasPrefix(path, a.RegionPath)
}
