package cases

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
	"zhizhi/internal/textcheck"
)

// Report is what someone sends when raising a problem.
type Report struct {
	Source      Source         `json:"source"`
	Reporter    Reporter       `json:"reporter"`
	Point       *geo.Point     `json:"point,omitempty"`
	Address     string         `json:"address,omitempty"`
	Category    string         `json:"category"`
	Severity    sla.Severity   `json:"severity,omitempty"`
	Description string         `json:"description"`
	Answers     map[string]any `json:"answers,omitempty"`
	Photos      []Photo        `json:"photos,omitempty"`
	OnSpot      bool           `json:"solved_on_spot,omitempty"` // the reporter fixed it at once
	ClientRef   string         `json:"client_ref,omitempty"`     // the reporter's own ID for this report: sending it again returns the same case
	Hold        HoldReason     `json:"-"`                        // set by the service: the report is held for screening (hold.go)
	Note        string         `json:"note,omitempty"`           // on the spot: what was done
}

// Placement is where the service placed a report: its grid (or none), the
// region path it falls under and the center that owns it.
type Placement struct {
	GridCode   string
	RegionPath string
	CenterPath string
}

// Which roles may report from which sources.
var reportSources = map[Role][]Source{
	RoleGridWorker: {SourcePatrol, SourceResident, SourceHotline},
	RoleGridChief:  {SourcePatrol, SourceResident, SourceHotline},
	RoleHead:       {SourcePatrol},
	RoleCommunity:  {SourcePatrol, SourceResident, SourceHotline},
	RoleCommander:  {SourceHotline, SourceResident, SourcePatrol, SourceVisit, SourceEnterprise},
	RoleLeader:     {SourceVisit},
	RoleEnterprise: {SourceEnterprise},
	RoleResident:   {SourceResident},
	RoleSystem:     {SourceSensor, SourceOpen311, SourceResident, SourceHotline, SourcePatrol, SourceVisit, SourceEnterprise},
}

// MaxDescription is the longest description accepted, in characters (it
// matches Open311's limit).
const MaxDescription = 4000

// New validates a report and makes the case in state reported (or closed when
// solved on the spot), with its first timeline step. The caller supplies the
// ID, the human number, the category and the placement.
func New(r Report, cat Category, place Placement, caseID, number string, actor Actor, p Policy, now time.Time) (Case, Step, error) {
	p = p.withDefaults()
	var f apperr.Fields
	if r.Source == "" {
		f.Add("source", "请选择来源")
	} else if !r.Source.Valid() {
		f.Add("source", "来源无效")
	} else if !slices.Contains(reportSources[actor.Role], r.Source) {
		f.Addf("source", "%s不能以“%s”来源上报", actor.Role.Label(), r.Source.Label())
	}
	desc := strings.TrimSpace(r.Description)
	if desc == "" {
		f.Add("description", "请描述问题")
	} else if len([]rune(desc)) > MaxDescription {
		f.Addf("description", "不能超过%d字", MaxDescription)
	}
	if r.Point == nil && strings.TrimSpace(r.Address) == "" {
		f.Add("point", "请标注位置或填写地址")
	}
	if r.Point != nil && !PointValid(*r.Point) {
		f.Add("point", "坐标无效")
	}
	textcheck.AddBlock(&f, "description", r.Description)
	textcheck.AddBlock(&f, "note", r.Note)
	textcheck.AddLine(&f, "address", r.Address)
	textcheck.AddLine(&f, "reporter.name", r.Reporter.Name)
	if len([]rune(r.Address)) > 200 {
		f.Add("address", "地址不能超过200字")
	}
	if !cat.Active {
		f.Add("category", "类别已停用")
	}
	sev := r.Severity
	if sev == "" {
		sev = sla.Normal
	} else if !sev.Valid() {
		f.Add("severity", "紧急程度无效")
	}
	if len([]rune(r.Reporter.Name)) > 50 {
		f.Add("reporter.name", "姓名不能超过50字")
	}
	if r.Reporter.Phone != "" && !validPhone(r.Reporter.Phone) {
		f.Add("reporter.phone", "电话号码格式不正确")
	}
	if r.ClientRef != "" && !clientRefRE.MatchString(r.ClientRef) {
		f.Add("client_ref", "客户端编号只能包含字母、数字、下划线和横线，最长64位")
	}
	if len(r.Photos) > 9 {
		f.Add("photos", "照片不能超过9张")
	}
	if r.OnSpot {
		if actor.Role != RoleGridWorker && actor.Role != RoleGridChief {
			f.Add("solved_on_spot", "只有网格员可以就地解决")
		}
		if len(r.Photos) == 0 {
			f.Add("photos", "就地解决须上传处置照片作为凭证")
		}
		// 小事不出村: only what the grid or the community owns is solved on
		// the spot, and only inside the reporter's own grid.
		if cat.Level != "grid" && cat.Level != "community" && cat.Level != "" {
			f.Addf("solved_on_spot", "“%s”不是网格或社区事项，须上报由指挥中心处置，不能就地解决", cat.Name)
		}
		switch {
		case place.GridCode == "":
			f.Add("point", "就地解决须标注位置，且位置须在您负责的网格内")
		case actor.RegionPath == "" || !strings.HasPrefix(place.RegionPath, actor.RegionPath):
			f.Add("point", "该位置不在您负责的网格内，只能就地解决本网格的问题，请改为上报")
		}
	}
	answers, err := cat.Answer(r.Answers)
	if err != nil {
		if e, ok := err.(*apperr.Error); ok {
			for _, fe := range e.Fields {
				f.Add(fe.Field, fe.Reason)
			}
		}
	}
	if err := f.Err(); err != nil {
		return Case{}, Step{}, err
	}
	c := Case{
		ID: caseID, Number: number, Version: 1, Source: r.Source, Reporter: r.Reporter,
		Point: r.Point, Address: strings.TrimSpace(r.Address),
		GridCode: place.GridCode, RegionPath: place.RegionPath, CenterPath: place.CenterPath,
		Category: cat.Code, Board: string(cat.Board), Severity: sev,
		Description: desc, Answers: answers, Photos: r.Photos,
		State: Reported, ReportedAt: now, UpdatedAt: now, ClientRef: r.ClientRef,
	}
	if c.Reporter.AccountID == "" && actor.Role != RoleSystem {
		c.Reporter.AccountID = actor.AccountID
	}
	if c.Reporter.Name == "" && actor.Role != RoleSystem {
		c.Reporter.Name = actor.Name
	}
	step := Step{
		CaseID: caseID, Seq: 1, At: now, ActorID: actor.AccountID, ActorName: actor.Name, Role: actor.Role,
		UnitID: actor.UnitID, Action: ActReport, To: Reported, Note: desc, Photos: r.Photos,
	}
	if place.GridCode == "" {
		step.Data = map[string]any{"no_grid": true}
	}
	if r.OnSpot {
		c.State, c.OnSpot, c.ClosedAt = Closed, true, now
		step.Action, step.To = ActSolvedOnSpot, Closed
		if n := strings.TrimSpace(r.Note); n != "" {
			step.Note = n
		}
		return c, step, nil
	}
	if r.Hold != "" {
		hold(&c, &step, r.Hold, now)
		return c, step, nil
	}
	c.Stage, c.Clock = StageAccept, p.start(limitAccept, sev, now)
	return c, step, nil
}

// PointValid reports whether a point is a real position: in range, and not
// (0, 0), which is what an empty point object decodes to.
func PointValid(p geo.Point) bool { return p.Valid() && !(p.Lng == 0 && p.Lat == 0) }

// BadText reports whether text cannot be multi-line text (invalid UTF-8, a
// NUL byte or another control character; tab, line feed and carriage return
// are allowed): textcheck.Block, the one check every door shares.
func BadText(s string) bool { return textcheck.Block(s) != "" }

var clientRefRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validPhone(p string) bool {
	if len(p) < 5 || len(p) > 20 {
		return false
	}
	for i, r := range p {
		if !(r >= '0' && r <= '9') && !(r == '-' && i > 0) && !(r == '+' && i == 0) {
			return false
		}
	}
	return true
}
