package gridwork

import (
	"fmt"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/textcheck"
)

// TeamRole is a place in a grid's "1+3+N" team.
type TeamRole string

// The roles of the team: 1 chief; 3 = full-time and part-time grid
// worker and grid instructor; N = party members, volunteers and others.
const (
	Chief      TeamRole = "chief"      // 网格长
	FullTime   TeamRole = "full_time"  // 专职网格员
	PartTime   TeamRole = "part_time"  // 兼职网格员
	Instructor TeamRole = "instructor" // 网格指导员
	Member     TeamRole = "member"     // 党员
	Volunteer  TeamRole = "volunteer"  // 志愿者
	Other      TeamRole = "other"      // 其他力量（楼栋长、物业、商户代表…）
)

// TeamRoles lists the roles in team order.
var TeamRoles = []TeamRole{Chief, FullTime, PartTime, Instructor, Member, Volunteer, Other}

// Label is the role's Chinese name.
func (r TeamRole) Label() string {
	switch r {
	case Chief:
		return "网格长"
	case FullTime:
		return "专职网格员"
	case PartTime:
		return "兼职网格员"
	case Instructor:
		return "网格指导员"
	case Member:
		return "党员"
	case Volunteer:
		return "志愿者"
	case Other:
		return "其他力量"
	}
	return string(r)
}

// Part is the role's part of "1+3+N": "1", "3" or "N".
func (r TeamRole) Part() string {
	switch r {
	case Chief:
		return "1"
	case FullTime, PartTime, Instructor:
		return "3"
	}
	return "N"
}

// Valid reports whether r is a known role.
func (r TeamRole) Valid() bool {
	for _, x := range TeamRoles {
		if x == r {
			return true
		}
	}
	return false
}

// TeamMember is one person of a grid's team: an account of the platform
// (AccountID) or someone without one (a volunteer known by name).
type TeamMember struct {
	AccountID string   `json:"account_id,omitempty"`
	Name      string   `json:"name"`
	Role      TeamRole `json:"role"`
	// Photo is the member's portrait (a stored photo's hash), shown on the
	// grid's printable poster; optional.
	Photo string `json:"photo,omitempty"`
}

// MaxTeam bounds a grid's team.
const MaxTeam = 200

// CheckTeam validates a grid's whole team: one chief at most, every member
// named (or an account, whose name the service fills in) with a known
// role, no account twice.
func CheckTeam(team []TeamMember) error {
	var f apperr.Fields
	if len(team) > MaxTeam {
		f.Addf("team", "一个网格的队伍最多%d人", MaxTeam)
	}
	chiefs := 0
	seen := map[string]bool{}
	for i, m := range team {
		at := func(k string) string { return fmt.Sprintf("team[%d].%s", i, k) }
		if m.Name == "" && m.AccountID == "" {
			f.Add(at("name"), "请填写姓名或选择账号")
		} else if utf8.RuneCountInString(m.Name) > MaxName {
			f.Addf(at("name"), "姓名不能超过%d个字符", MaxName)
		}
		textcheck.AddLine(&f, at("name"), m.Name)
		if !m.Role.Valid() {
			f.Add(at("role"), "角色应为网格长、专职网格员、兼职网格员、网格指导员、党员、志愿者或其他力量")
		}
		if m.Role == Chief {
			chiefs++
			if chiefs > 1 {
				f.Add(at("role"), "一个网格只有一名网格长")
			}
		}
		if m.AccountID != "" {
			if seen[m.AccountID] {
				f.Add(at("account_id"), "同一账号不能在队伍中出现两次")
			}
			seen[m.AccountID] = true
		}
	}
	return f.Err()
}

// TeamShape counts a team by its parts: chiefs, the three, and N.
func TeamShape(team []TeamMember) (one, three, n int) {
	for _, m := range team {
		switch m.Role.Part() {
		case "1":
			one++
		case "3":
			three++
		default:
			n++
		}
	}
	return
}
