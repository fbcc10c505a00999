package gridwork

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/textcheck"
)

// The party-building board's people in the grid (双报到): in-service party
// members report to the community where they live and join a grid's "N";
// the community keeps their registration, its volunteer groups, the service
// hours they give, and which cases a volunteer group helped with.

// PartyMember is an in-service party member (在职党员) reported to a
// community.
type PartyMember struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Org           string    `json:"org"` // work unit or party organisation (工作单位/所在党组织)
	Phone         string    `json:"phone"`
	Community     string    `json:"community"` // the community's code
	CommunityPath string    `json:"community_path"`
	Grid          string    `json:"grid,omitempty"` // the grid whose "N" they join
	GridPath      string    `json:"grid_path,omitempty"`
	GroupID       string    `json:"group_id,omitempty"` // the volunteer group they serve in
	ReportedOn    string    `json:"reported_on"`        // the day they reported (YYYY-MM-DD)
	Tasks         []string  `json:"tasks,omitempty"`    // tasks and volunteer services taken on (认领)
	Left          bool      `json:"left,omitempty"`     // no longer reported here (moved, transferred)
	Masked        bool      `json:"masked,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// VolunteerGroup is a community's volunteer group (志愿服务队): a
// unit-like party a case can be given to as a co-handler.
type VolunteerGroup struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Community     string    `json:"community"`
	CommunityPath string    `json:"community_path"`
	Services      string    `json:"services,omitempty"` // what the group offers
	UpdatedAt     time.Time `json:"updated_at"`
}

// ServiceHours is one member's time on one activity, with the case it
// helped if any.
type ServiceHours struct {
	ID            string    `json:"id"`
	MemberID      string    `json:"member_id"`
	MemberName    string    `json:"member_name,omitempty"`
	CommunityPath string    `json:"community_path"`
	Activity      string    `json:"activity"`
	On            string    `json:"on"` // the day (YYYY-MM-DD)
	Minutes       int       `json:"minutes"`
	CaseID        string    `json:"case_id,omitempty"`
	RecordedBy    string    `json:"recorded_by"`
	At            time.Time `json:"at"`
}

// CaseHelp records that a case was given to a volunteer group as a
// co-handler (the case's step carries the same).
type CaseHelp struct {
	CaseID        string    `json:"case_id"`
	GroupID       string    `json:"group_id"`
	CommunityPath string    `json:"community_path"`
	StepID        string    `json:"step_id"`
	At            time.Time `json:"at"`
}

// Bounds of the party records.
const (
	MaxOrg        = 100
	MaxTasks      = 20
	MaxTask       = 100
	MaxActivity   = 200
	MaxDayMinutes = 24 * 60
	// HoursBack is how many days back service hours may be entered.
	HoursBack = 90
)

const day = "2006-01-02"

// ParseDay reads a YYYY-MM-DD day.
func ParseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(day, s, shanghai)
	return t, err == nil
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

// Today is now's day in Asia/Shanghai.
func Today(now time.Time) string { return now.In(shanghai).Format(day) }

// CheckPartyMember validates a registration; now bounds the reporting day.
func CheckPartyMember(m PartyMember, now time.Time) error {
	var f apperr.Fields
	if strings.TrimSpace(m.Name) == "" {
		f.Add("name", "请填写姓名")
	} else if utf8.RuneCountInString(m.Name) > MaxName {
		f.Addf("name", "姓名不能超过%d个字符", MaxName)
	}
	textcheck.AddLine(&f, "name", m.Name)
	if strings.TrimSpace(m.Org) == "" {
		f.Add("org", "请填写工作单位或所在党组织")
	} else if utf8.RuneCountInString(m.Org) > MaxOrg {
		f.Addf("org", "工作单位不能超过%d个字符", MaxOrg)
	}
	textcheck.AddLine(&f, "org", m.Org)
	if m.Phone == "" {
		f.Add("phone", "请填写联系电话")
	} else if !validPhone(m.Phone) {
		f.Add("phone", "电话号码格式不正确")
	}
	if m.Community == "" {
		f.Add("community", "请选择报到社区")
	}
	if d, ok := ParseDay(m.ReportedOn); !ok {
		f.Add("reported_on", "报到日期应为YYYY-MM-DD")
	} else if d.After(now) {
		f.Add("reported_on", "报到日期不能晚于今天")
	}
	if len(m.Tasks) > MaxTasks {
		f.Addf("tasks", "认领任务最多%d项", MaxTasks)
	}
	for i, t := range m.Tasks {
		k := fmt.Sprintf("tasks[%d]", i)
		if strings.TrimSpace(t) == "" {
			f.Add(k, "认领任务不能为空")
		} else if utf8.RuneCountInString(t) > MaxTask {
			f.Addf(k, "认领任务不能超过%d个字符", MaxTask)
		}
		textcheck.AddLine(&f, k, t)
	}
	return f.Err()
}

// MaskMember hides a member's phone as the roster's people are shown.
func MaskMember(m PartyMember) PartyMember {
	m.Phone, m.Masked = cases.MaskPhone(m.Phone), true
	return m
}

// CheckGroup validates a volunteer group.
func CheckGroup(g VolunteerGroup) error {
	var f apperr.Fields
	if strings.TrimSpace(g.Name) == "" {
		f.Add("name", "请填写志愿服务队名称")
	} else if utf8.RuneCountInString(g.Name) > MaxOrg {
		f.Addf("name", "名称不能超过%d个字符", MaxOrg)
	}
	textcheck.AddLine(&f, "name", g.Name)
	if utf8.RuneCountInString(g.Services) > MaxActivity {
		f.Addf("services", "服务内容不能超过%d个字符", MaxActivity)
	}
	textcheck.AddLine(&f, "services", g.Services)
	if g.Community == "" {
		f.Add("community", "请选择社区")
	}
	return f.Err()
}

// CheckHours validates service hours: a member, an activity, a day within
// the last HoursBack days and not in the future, 1 minute to a day.
func CheckHours(h ServiceHours, now time.Time) error {
	var f apperr.Fields
	if h.MemberID == "" {
		f.Add("member_id", "请选择党员")
	}
	if strings.TrimSpace(h.Activity) == "" {
		f.Add("activity", "请填写服务内容")
	} else if utf8.RuneCountInString(h.Activity) > MaxActivity {
		f.Addf("activity", "服务内容不能超过%d个字符", MaxActivity)
	}
	textcheck.AddLine(&f, "activity", h.Activity)
	if d, ok := ParseDay(h.On); !ok {
		f.Add("on", "服务日期应为YYYY-MM-DD")
	} else if d.After(now) {
		f.Add("on", "服务日期不能晚于今天")
	} else if d.Before(now.In(shanghai).AddDate(0, 0, -HoursBack-1)) {
		f.Addf("on", "只能登记%d天内的服务时长", HoursBack)
	}
	if h.Minutes < 1 || h.Minutes > MaxDayMinutes {
		f.Add("minutes", "服务时长应为1分钟至24小时")
	}
	return f.Err()
}

// PartyRow is the party-building board's figures of one community (or the
// total of a street): members reported (those reported by the period's
// end and not left), hours served and cases helped in the period.
type PartyRow struct {
	Path        string  `json:"path"`
	Members     int     `json:"members"`
	InGrids     int     `json:"in_grids"` // of them, joined a grid's N
	Hours       float64 `json:"hours"`
	Activities  int     `json:"activities"`
	CasesHelped int     `json:"cases_helped"`
}

// PartyTally counts the board's figures per community path; the period is
// [from, to) with days compared in Asia/Shanghai. Rows come in path order.
func PartyTally(members []PartyMember, hours []ServiceHours, helps []CaseHelp, from, to time.Time) []PartyRow {
	rows := map[string]*PartyRow{}
	row := func(p string) *PartyRow {
		r := rows[p]
		if r == nil {
			r = &PartyRow{Path: p}
			rows[p] = r
		}
		return r
	}
	in := func(dayText string) bool {
		d, ok := ParseDay(dayText)
		return ok && !d.Before(from) && d.Before(to)
	}
	for _, m := range members {
		d, ok := ParseDay(m.ReportedOn)
		if m.Left || !ok || !d.Before(to) {
			continue
		}
		r := row(m.CommunityPath)
		r.Members++
		if m.Grid != "" {
			r.InGrids++
		}
	}
	minutes := map[string]int{}
	for _, h := range hours {
		if !in(h.On) {
			continue
		}
		row(h.CommunityPath).Activities++
		minutes[h.CommunityPath] += h.Minutes
	}
	for p, m := range minutes {
		row(p).Hours = float64(m) / 60
	}
	seen := map[string]bool{}
	for _, c := range helps {
		if c.At.Before(from) || !c.At.Before(to) || seen[c.CommunityPath+" "+c.CaseID] {
			continue
		}
		seen[c.CommunityPath+" "+c.CaseID] = true
		row(c.CommunityPath).CasesHelped++
	}
	out := make([]PartyRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// PartyTotal sums rows (a street's total of its communities; a case helped
// by two communities' groups counts in each, and twice in the total).
func PartyTotal(path string, rows []PartyRow) PartyRow {
	t := PartyRow{Path: path}
	for _, r := range rows {
		t.Members += r.Members
		t.InGrids += r.InGrids
		t.Hours += r.Hours
		t.Activities += r.Activities
		t.CasesHelped += r.CasesHelped
	}
	return t
}

// KeepsParty reports whether the actor keeps a community's party
// registrations, groups and hours: the community's staff and its grid
// chiefs (both have the community as region).
func KeepsParty(a cases.Actor, communityPath string) bool {
	switch a.Role {
	case cases.RoleCommunity, cases.RoleGridChief:
		return InGrid(a, communityPath)
	case cases.RoleSystem:
		return true
	}
	return false
}

// SeesParty reports whether the actor reads a community's party
// registrations (phones masked) and figures: its keepers, and the centers,
// leaders and administrators above it. A grid worker reads their own
// community's (their region lies under it).
func SeesParty(a cases.Actor, communityPath string) bool {
	switch a.Role {
	case cases.RoleGridWorker:
		return a.RegionPath != "" && strings.HasPrefix(a.RegionPath, communityPath)
	case cases.RoleCommunity, cases.RoleGridChief, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		return InGrid(a, communityPath)
	case cases.RoleSystem:
		return true
	}
	return false
}
