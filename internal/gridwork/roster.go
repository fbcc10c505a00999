package gridwork

import (
	"strings"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/textcheck"
)

// PlaceKind is the kind of a place on a grid's roster.
type PlaceKind string

// The kinds of place.
const (
	Building  PlaceKind = "building"  // 楼栋
	Household PlaceKind = "household" // 住户
	Shop      PlaceKind = "shop"      // 商铺
	KeyPlace  PlaceKind = "key_place" // 重点场所
)

// PlaceKinds lists the kinds in the order the console shows them.
var PlaceKinds = []PlaceKind{Building, Household, Shop, KeyPlace}

// Valid reports whether k is a known kind.
func (k PlaceKind) Valid() bool {
	for _, x := range PlaceKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Label is the kind's Chinese name.
func (k PlaceKind) Label() string {
	switch k {
	case Building:
		return "楼栋"
	case Household:
		return "住户"
	case Shop:
		return "商铺"
	case KeyPlace:
		return "重点场所"
	}
	return string(k)
}

// ParsePlaceKind reads a kind by code or Chinese name (a roster file may
// use either).
func ParsePlaceKind(s string) (PlaceKind, bool) {
	s = strings.TrimSpace(s)
	for _, k := range PlaceKinds {
		if string(k) == s || k.Label() == s {
			return k, true
		}
	}
	return "", false
}

// Place is a building, household, shop or key place of a grid. A household
// or shop may sit in a building of the roster (Building names its ID).
type Place struct {
	ID        string     `json:"id"`
	GridCode  string     `json:"grid_code"`
	GridPath  string     `json:"grid_path"`
	Kind      PlaceKind  `json:"kind"`
	Name      string     `json:"name"`               // 3栋2单元501, 民乐村菜市场
	Building  string     `json:"building,omitempty"` // the ID of the building it is in
	Address   string     `json:"address,omitempty"`
	Point     *geo.Point `json:"point,omitempty"`
	Note      string     `json:"note,omitempty"`
	People    int        `json:"people"` // people recorded at the place
	UpdatedAt time.Time  `json:"updated_at"`
}

// Person is someone recorded at a place: only what the grid's work needs
// and the law allows (name, phone, relation to the place, care tags), kept
// until RetainUntil and then removed. Name and phone are personal data:
// shown masked (MaskPerson) and revealed only to the roles SeesPeople
// allows, each reveal recorded.
type Person struct {
	ID          string    `json:"id"`
	PlaceID     string    `json:"place_id"`
	GridPath    string    `json:"grid_path"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone,omitempty"`
	Relation    string    `json:"relation,omitempty"` // 户主, 家庭成员, 租户, 经营者
	Tags        []string  `json:"tags,omitempty"`     // 独居老人, 残疾人, 低保户 …: who needs care
	RecordedAt  time.Time `json:"recorded_at"`
	RetainUntil time.Time `json:"retain_until"`
	Masked      bool      `json:"masked"` // name and phone are masked in this copy
}

// Roster limits.
const (
	MaxName       = 50
	MaxTags       = 10
	DefaultRetain = 3 * 365 * 24 * time.Hour // kept three years after recording unless told otherwise
	MaxRetain     = 5 * 365 * 24 * time.Hour
)

// CheckPlace validates a place of the roster.
func CheckPlace(p Place) error {
	var f apperr.Fields
	if p.GridCode == "" {
		f.Add("grid", "请选择网格")
	}
	if !p.Kind.Valid() {
		f.Add("kind", "类型应为楼栋、住户、商铺或重点场所")
	}
	if p.Name == "" {
		f.Add("name", "请填写名称或门牌")
	} else if utf8.RuneCountInString(p.Name) > MaxPlace {
		f.Addf("name", "名称不能超过%d个字符", MaxPlace)
	}
	textcheck.AddLine(&f, "name", p.Name)
	if utf8.RuneCountInString(p.Address) > 200 {
		f.Add("address", "地址不能超过200个字符")
	}
	textcheck.AddLine(&f, "address", p.Address)
	if utf8.RuneCountInString(p.Note) > MaxNote {
		f.Addf("note", "备注不能超过%d个字符", MaxNote)
	}
	textcheck.AddBlock(&f, "note", p.Note)
	if p.Point != nil && !p.Point.Valid() {
		f.Add("point", "坐标无效")
	}
	if p.Kind == Building && p.Building != "" {
		f.Add("building", "楼栋不能再属于其他楼栋")
	}
	return f.Err()
}

// CheckPerson validates a person of the roster.
func CheckPerson(p Person, now time.Time) error {
	var f apperr.Fields
	if p.PlaceID == "" {
		f.Add("place_id", "请选择所在的住户或商铺")
	}
	if p.Name == "" {
		f.Add("name", "请填写姓名")
	} else if utf8.RuneCountInString(p.Name) > MaxName {
		f.Addf("name", "姓名不能超过%d个字符", MaxName)
	}
	textcheck.AddLine(&f, "name", p.Name)
	if p.Phone != "" && !validPhone(p.Phone) {
		f.Add("phone", "电话号码格式不正确")
	}
	if utf8.RuneCountInString(p.Relation) > 20 {
		f.Add("relation", "关系不能超过20个字符")
	}
	textcheck.AddLine(&f, "relation", p.Relation)
	if len(p.Tags) > MaxTags {
		f.Addf("tags", "标签最多%d个", MaxTags)
	}
	for _, t := range p.Tags {
		if t == "" || utf8.RuneCountInString(t) > 20 {
			f.Add("tags", "每个标签1到20个字符")
			break
		}
		textcheck.AddLine(&f, "tags", t)
	}
	if !p.RetainUntil.IsZero() {
		if !p.RetainUntil.After(now) {
			f.Add("retain_until", "保存期限应晚于现在")
		} else if p.RetainUntil.After(now.Add(MaxRetain)) {
			f.Add("retain_until", "个人信息最多保存5年")
		}
	}
	return f.Err()
}

// validPhone accepts digits with an optional leading + and hyphens, 5 to
// 20 digits (a mobile, a landline with its area code, an extension).
func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' || (r == '+' && i == 0):
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 20
}

// Expired reports whether a person's record has passed its retention.
func (p Person) Expired(now time.Time) bool {
	return !p.RetainUntil.IsZero() && !now.Before(p.RetainUntil)
}

// MaskName keeps a name's first character: 杨诗培 → 杨**.
func MaskName(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:1]) + strings.Repeat("*", len(r)-1)
}

// MaskPerson is the person as every listing shows them: name and phone
// masked.
func MaskPerson(p Person) Person {
	p.Name, p.Phone, p.Masked = MaskName(p.Name), cases.MaskPhone(p.Phone), true
	return p
}

// InGrid reports whether a region role's scope holds a grid: the grid's
// path lies in the actor's region subtree.
func InGrid(a cases.Actor, gridPath string) bool {
	return a.RegionPath != "" && gridPath != "" && strings.HasPrefix(gridPath, a.RegionPath)
}

// SeesRoster reports whether the actor may read a grid's roster, patrols
// and visits (masked): the grid's own people (grid workers, chiefs), the
// community's staff, and the centers, leaders and administrators above it.
// Unit staff, heads, residents and enterprises may not.
func SeesRoster(a cases.Actor, gridPath string) bool {
	switch a.Role {
	case cases.RoleSystem:
		return true
	case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleCommunity, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		return InGrid(a, gridPath)
	}
	return false
}

// SeesPeople reports whether the actor may reveal a person's name and
// phone: only those who serve the household in person, the grid's workers
// and chiefs and the community's staff of that grid. Every reveal is
// recorded (the service's audit trail, personal_data read).
func SeesPeople(a cases.Actor, gridPath string) bool {
	switch a.Role {
	case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleCommunity:
		return InGrid(a, gridPath)
	}
	return false
}

// KeepsRoster reports whether the actor may change a grid's roster, team
// and plan: its grid workers and chiefs and the community's staff.
func KeepsRoster(a cases.Actor, gridPath string) bool {
	if a.Role == cases.RoleSystem {
		return true
	}
	return SeesPeople(a, gridPath)
}

// Works reports whether the actor may record patrols and visits in a
// grid: its grid workers and chiefs.
func Works(a cases.Actor, gridPath string) bool {
	switch a.Role {
	case cases.RoleGridWorker, cases.RoleGridChief:
		return InGrid(a, gridPath)
	case cases.RoleSystem:
		return true
	}
	return false
}
