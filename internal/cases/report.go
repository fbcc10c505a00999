package cases

import (
	"fmt"
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
	Extra       []Extra        `json:"extra,omitempty"`          // what a client app sent beyond the category's questions (Open311 attributes it does not define)
}

// Extra is one field a client app sent that the platform does not define
// (FixMyStreet's fixmystreet_id, closest_address, easting…): kept with the
// case, shown in its timeline, never interpreted.
type Extra struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Limits on a report's extra fields.
const (
	MaxExtras     = 30
	MaxExtraKey   = 64
	MaxExtraValue = 500
)

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
	RoleCommander:  {SourceHotline, SourceResident, SourcePatrol, SourceVisit, SourceEnterprise, SourceOperation},
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
	checkExtras(&f, r.Extra)
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
		Description: desc, Answers: answers, Photos: r.Photos, Extra: r.Extra,
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
	if len(r.Extra) > 0 {
		// The timeline shows what the client sent beyond the questions.
		if step.Data == nil {
			step.Data = map[string]any{}
		}
		extra := make([]string, len(r.Extra))
		for i, x := range r.Extra {
			extra[i] = x.Key + "：" + x.Value
		}
		step.Data["extra"] = extra
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

// checkExtras bounds what a client may attach: a few dozen short fields of
// clean text with distinct keys.
func checkExtras(f *apperr.Fields, xs []Extra) {
	if len(xs) > MaxExtras {
		f.Addf("extra", "附加信息不能超过%d项", MaxExtras)
		return
	}
	seen := map[string]bool{}
	for i, x := range xs {
		name := fmt.Sprintf("extra[%d]", i)
		switch {
		case strings.TrimSpace(x.Key) == "" || len([]rune(x.Key)) > MaxExtraKey:
			f.Addf(name, "附加信息的名称须为1到%d个字符", MaxExtraKey)
		case seen[x.Key]:
			f.Addf(name, "附加信息“%s”重复", x.Key)
		case len([]rune(x.Value)) > MaxExtraValue:
			f.Addf(name, "附加信息“%s”不能超过%d字", x.Key, MaxExtraValue)
		}
		seen[x.Key] = true
		textcheck.AddLine(f, name, x.Key)
		textcheck.AddBlock(f, name, x.Value)
	}
}

// NormalizePhone reads a phone number as people type it: full-width digits,
// spaces, dots, hyphens and brackets (023 6388 1234, (023) 6388-1234,
// ０２３－６３８８１２３４), and China's +86 or 0086 in front of a mobile or
// landline number. It returns the digits (a landline keeps one hyphen after
// its area code: 023-63881234) and whether the result is a phone number the
// platform accepts.
func NormalizePhone(s string) (string, bool) {
	if n, ok := NormalizeStaffPhone(s); ok {
		return n, true // a mobile, or a landline with its area code (and extension)
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == '＋':
			if b.Len() > 0 {
				return s, false
			}
			b.WriteByte('+')
		case r == ' ' || r == '\u3000' || r == '-' || r == '－' || r == '.' || r == '(' || r == ')' || r == '（' || r == '）':
		default:
			return s, false
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+86"):
		d = d[3:]
	case strings.HasPrefix(d, "0086"):
		d = d[4:]
	}
	switch {
	case mobileRE.MatchString(d):
		return d, true
	case strings.HasPrefix(d, "+"):
		// A foreign number: E.164, up to 15 digits.
		return d, len(d) >= 8 && len(d) <= 16
	}
	if d != "" && d[0] != '0' && len(d) >= 9 && len(d) <= 10 {
		d = "0" + d // a landline written after +86 drops the trunk 0: +86 23 6388 1234
	}
	if m := landlineRE.FindStringSubmatch(d); m != nil {
		return m[1] + "-" + m[2], true
	}
	if d != "" && len(d) >= 5 && len(d) <= 8 && d[0] != '0' {
		return d, true // a local or service number (12345, 63881234)
	}
	return s, false
}

var (
	mobileRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	// Area codes: 010 and 02X take two digits after the 0, the rest three.
	landlineRE = regexp.MustCompile(`^(010|02[0-9]|0[3-9][0-9]{2})([0-9]{7,8})$`)
)

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
