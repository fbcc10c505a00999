// Package leaders is the leaders' work at the grassroots (四下基层): pairings
// (包联) of a leader with streets, communities, grids and key enterprises,
// on-site office visits (现场办公) whose problems become cases, lists
// (清单化闭环) of cases and key rectification projects (重点整治整改项目)
// with milestones (节点), and supervision (督办) of a case with its own
// clock on the official calendar. It is pure: no SQL, no HTTP; the service
// stores what it returns and changes cases only through the case loop.
package leaders

import (
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
	"zhizhi/internal/textcheck"
)

// TargetKind is what a leader is paired with.
type TargetKind string

// The kinds of pairing target.
const (
	TargetStreet     TargetKind = "street"     // 街道
	TargetCommunity  TargetKind = "community"  // 社区
	TargetGrid       TargetKind = "grid"       // 网格
	TargetEnterprise TargetKind = "enterprise" // 重点企业
)

// TargetKinds lists every kind of pairing target.
var TargetKinds = []TargetKind{TargetStreet, TargetCommunity, TargetGrid, TargetEnterprise}

// Label is the kind's Chinese name.
func (k TargetKind) Label() string {
	switch k {
	case TargetStreet:
		return "街道"
	case TargetCommunity:
		return "社区"
	case TargetGrid:
		return "网格"
	case TargetEnterprise:
		return "重点企业"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k TargetKind) Valid() bool { return slices.Contains(TargetKinds, k) }

// Pairing (包联) ties a leader to a street, community, grid or key
// enterprise for a period. RegionPath is the target's region (for an
// enterprise, the region it sits in); the leader's pages start from it.
type Pairing struct {
	ID         string     `json:"id"`
	LeaderID   string     `json:"leader_id"`
	LeaderName string     `json:"leader_name"`
	Kind       TargetKind `json:"kind"`
	Target     string     `json:"target"`           // a region code, or an enterprise's unified social credit code
	TargetName string     `json:"target_name"`      // the region's or the enterprise's name
	Region     string     `json:"region,omitempty"` // an enterprise's street or community code (a region target is its own)
	RegionPath string     `json:"region_path"`
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"` // exclusive
	Note       string     `json:"note,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Validate checks a pairing's own fields; the service checks the leader
// and the target exist.
func (p *Pairing) Validate() error {
	var f apperr.Fields
	if p.LeaderID == "" {
		f.Add("leader_id", "请选择包联领导")
	}
	if p.Kind == "" {
		f.Add("kind", "请选择包联对象类型")
	} else if !p.Kind.Valid() {
		f.Add("kind", "包联对象类型应为 street、community、grid 或 enterprise")
	}
	p.Target = strings.TrimSpace(p.Target)
	if p.Target == "" {
		f.Add("target", "请选择包联对象")
	}
	p.TargetName = strings.TrimSpace(p.TargetName)
	if p.Kind == TargetEnterprise && p.TargetName == "" {
		f.Add("target_name", "请填写企业名称")
	}
	if p.Kind == TargetEnterprise && p.Region == "" {
		f.Add("region", "请选择企业所在的街道或社区")
	}
	if len([]rune(p.TargetName)) > 100 {
		f.Add("target_name", "名称不能超过100字")
	}
	textcheck.AddLine(&f, "target", p.Target)
	textcheck.AddLine(&f, "target_name", p.TargetName)
	checkPeriod(&f, p.From, p.To)
	checkNote(&f, "note", p.Note, 500)
	return f.Err()
}

// ActiveAt reports whether the pairing holds at t.
func (p Pairing) ActiveAt(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

func checkPeriod(f *apperr.Fields, from, to time.Time) {
	switch {
	case from.IsZero():
		f.Add("from", "请填写开始日期")
	case to.IsZero():
		f.Add("to", "请填写结束日期")
	case !to.After(from):
		f.Add("to", "结束日期须晚于开始日期")
	case to.Sub(from) > 6*366*24*time.Hour:
		f.Add("to", "期限不能超过六年")
	}
}

func checkNote(f *apperr.Fields, field, s string, max int) {
	if len([]rune(s)) > max {
		f.Addf(field, "不能超过%d字", max)
	}
	textcheck.AddBlock(f, field, s)
}

// Place is where a visit happened: a point, a region, or an enterprise.
type Place struct {
	Point      *geo.Point `json:"point,omitempty"`
	RegionCode string     `json:"region_code,omitempty"` // a street, community or grid
	Enterprise string     `json:"enterprise,omitempty"`  // an enterprise's name
	Address    string     `json:"address,omitempty"`
}

// Problem is one problem raised at a visit; it becomes a case.
type Problem struct {
	Category    string       `json:"category"`
	Description string       `json:"description"`
	Severity    sla.Severity `json:"severity,omitempty"`
	Point       *geo.Point   `json:"point,omitempty"` // where the problem is, when not the visit's place
	Address     string       `json:"address,omitempty"`
}

// Visit is an on-site office visit (现场办公).
type Visit struct {
	ID         string    `json:"id"`
	LeaderID   string    `json:"leader_id"`
	LeaderName string    `json:"leader_name"`
	RecordedBy string    `json:"recorded_by"` // the account that recorded it: the leader, or a secretary on their behalf
	Recorder   string    `json:"recorder"`    // that account's name
	Place      Place     `json:"place"`
	RegionPath string    `json:"region_path"` // where the visit took place
	StreetCode string    `json:"street_code,omitempty"`
	At         time.Time `json:"at"`
	Attendees  []string  `json:"attendees,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	Problems   []Problem `json:"problems,omitempty"`
	CaseIDs    []string  `json:"case_ids,omitempty"` // the case each problem became, in order
	ClientRef  string    `json:"client_ref,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// MaxProblems is the most problems one visit may raise.
const MaxProblems = 30

// Validate checks a visit as recorded (now is the server's time: a visit
// cannot lie in the future, nor more than a year back).
func (v *Visit) Validate(now time.Time) error {
	var f apperr.Fields
	if v.LeaderID == "" {
		f.Add("leader_id", "请选择领导")
	}
	switch {
	case v.At.IsZero():
		f.Add("at", "请填写现场办公时间")
	case v.At.After(now.Add(10 * time.Minute)):
		f.Add("at", "现场办公时间不能晚于现在")
	case v.At.Before(now.AddDate(-1, 0, 0)):
		f.Add("at", "只能补录一年以内的现场办公")
	}
	pl := v.Place
	if pl.Point == nil && pl.RegionCode == "" && strings.TrimSpace(pl.Enterprise) == "" {
		f.Add("place", "请标注地点、选择区域或填写企业")
	}
	if pl.Point != nil && !cases.PointValid(*pl.Point) {
		f.Add("place.point", "坐标无效")
	}
	textcheck.AddLine(&f, "place.enterprise", pl.Enterprise)
	textcheck.AddLine(&f, "place.address", pl.Address)
	if len([]rune(pl.Address)) > 200 || len([]rune(pl.Enterprise)) > 100 {
		f.Add("place.address", "地址不能超过200字，企业名称不能超过100字")
	}
	if len(v.Attendees) > 50 {
		f.Add("attendees", "参加人员不能超过50人")
	}
	for i, a := range v.Attendees {
		v.Attendees[i] = strings.TrimSpace(a)
		if v.Attendees[i] == "" || len([]rune(a)) > 50 {
			f.Addf(fieldAt("attendees", i), "请填写参加人员姓名（不超过50字）")
		}
		textcheck.AddLine(&f, fieldAt("attendees", i), a)
	}
	checkNote(&f, "summary", v.Summary, 2000)
	if len(v.Problems) > MaxProblems {
		f.Addf("problems", "一次现场办公最多记录%d个问题", MaxProblems)
	}
	for i, p := range v.Problems {
		pre := fieldAt("problems", i) + "."
		if p.Category == "" {
			f.Add(pre+"category", "请选择问题类别")
		}
		if strings.TrimSpace(p.Description) == "" {
			f.Add(pre+"description", "请描述问题")
		}
		if p.Severity != "" && !p.Severity.Valid() {
			f.Add(pre+"severity", "紧急程度无效")
		}
		if p.Point != nil && !cases.PointValid(*p.Point) {
			f.Add(pre+"point", "坐标无效")
		}
	}
	return f.Err()
}

func fieldAt(name string, i int) string {
	return name + "[" + itoa(i) + "]"
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// Report is the case report a visit's problem becomes: source visit,
// reported by the leader (whoever records it).
func (v Visit) Report(i int) cases.Report {
	p := v.Problems[i]
	pt, addr := p.Point, strings.TrimSpace(p.Address)
	if pt == nil {
		pt = v.Place.Point
	}
	if addr == "" {
		addr = v.Place.Address
		if addr == "" {
			addr = v.Place.Enterprise
		}
	}
	return cases.Report{
		Source:      cases.SourceVisit,
		Reporter:    cases.Reporter{AccountID: v.LeaderID, Name: v.LeaderName},
		Point:       pt,
		Address:     addr,
		Category:    p.Category,
		Severity:    p.Severity,
		Description: p.Description,
	}
}
