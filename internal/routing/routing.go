// Package routing holds the graded classification library's rules (分级分类库):
// which center may send a case of a category to which unit. It is pure: the
// service consults it before the state machine, so the API, the console,
// Open311 and timers all route the same way.
//
// The rules, with depths of the region tree (city 1, district 2, street 3,
// community 4, grid 5):
//   - A center handles only what its level owns or what lies below it: a
//     category owned above the center (a district matter at a street) is
//     escalated, never dispatched (lower levels escalate what is not theirs).
//   - A unit below the center must hold the case: a street's boards, posts and
//     sections serve their own street, a community its own cases. A street
//     never reaches another street's sections.
//   - Pushing down needs the lower level's list: a unit below the center takes
//     only categories owned at its level or lower (a street may send a
//     community matter to the community, not a street matter; the district
//     sends a street matter down to the street, not a district matter).
//   - Departments are at the center's level or above it (a street calls on
//     its own district's departments; the district on its own and the
//     city's), never another district's.
package routing

import (
	"fmt"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// Depth is the number of codes in a materialised path: city 1, district 2,
// street 3, community 4, grid 5; 0 for an empty path.
func Depth(path string) int {
	p := strings.Trim(path, "/")
	if p == "" {
		return 0
	}
	return strings.Count(p, "/") + 1
}

// LevelDepth is the depth of an owning level, 0 if unknown.
func LevelDepth(level string) int {
	switch level {
	case "city":
		return 1
	case "district":
		return 2
	case "street":
		return 3
	case "community":
		return 4
	case "grid":
		return 5
	}
	return 0
}

// LevelLabel is an owning level's Chinese name.
func LevelLabel(level string) string {
	switch level {
	case "city":
		return "市级"
	case "district":
		return "区级"
	case "street":
		return "街道"
	case "community":
		return "社区"
	case "grid":
		return "网格"
	}
	return level
}

// Levels lists the owning levels from the top down.
var Levels = []string{"city", "district", "street", "community", "grid"}

func centerLabel(depth int) string {
	switch depth {
	case 1:
		return "市指挥中心"
	case 2:
		return "区指挥中心"
	case 3:
		return "街道指挥中心"
	}
	return "指挥中心"
}

func refuse(format string, args ...any) error {
	return apperr.Newf(apperr.Refused, format, args...)
}

// Owned reports whether the center at centerPath may dispatch cases of the
// category at all, or must escalate them.
func Owned(centerPath string, cat cases.Category) error {
	cd, ld := Depth(centerPath), LevelDepth(cat.Level)
	if ld == 0 {
		return refuse("类别“%s”未设定责任层级，请管理员在分级分类库中设定", cat.Name)
	}
	if ld < cd {
		return refuse("“%s”属%s事项，不在%s的清单内，请上提上级指挥中心", cat.Name, LevelLabel(cat.Level), centerLabel(cd))
	}
	return nil
}

// Dispatch checks that the center at centerPath may send a case placed at
// regionPath, of the category, to the unit. The error is Refused and says
// why, in Chinese.
func Dispatch(centerPath, regionPath string, cat cases.Category, u cases.Unit) error {
	if err := Owned(centerPath, cat); err != nil {
		return err
	}
	if !u.Active {
		return refuse("“%s”已停用", u.Name)
	}
	if u.Kind == cases.UnitBoard {
		return refuse("“%s”是板块，请派给板块的岗位或科室", u.Name)
	}
	cd, ud, ld := Depth(centerPath), Depth(u.RegionPath), LevelDepth(cat.Level)
	switch u.Kind {
	case cases.UnitDepartment:
		if ud > cd {
			if !strings.HasPrefix(u.RegionPath, centerPath) || !strings.HasPrefix(regionPath, u.RegionPath) {
				return refuse("“%s”不是案件所在地区的部门，不能派遣", u.Name)
			}
			break // a department below the center: pushed down, checked below
		}
		if !strings.HasPrefix(centerPath, u.RegionPath) {
			return refuse("“%s”是其他地区的部门，不能派遣", u.Name)
		}
		return nil
	case cases.UnitPost, cases.UnitSection:
		if !strings.HasPrefix(regionPath, u.RegionPath) {
			return refuse("“%s”是其他街道的科室或岗位，不能派遣", u.Name)
		}
	case cases.UnitCommunity:
		if !strings.HasPrefix(regionPath, u.RegionPath) {
			return refuse("“%s”不是案件所在的社区，只能派给案件所在社区", u.Name)
		}
	default:
		return refuse("“%s”的类型无效", u.Name)
	}
	if !strings.HasPrefix(u.RegionPath, centerPath) {
		return refuse("“%s”不属于本中心的辖区，不能派遣", u.Name)
	}
	if ud > cd && ld < ud {
		return refuse("“%s”属%s事项，不在%s的清单内，不能下派给“%s”", cat.Name, LevelLabel(cat.Level), unitLevelLabel(ud), u.Name)
	}
	return nil
}

func unitLevelLabel(depth int) string {
	switch depth {
	case 2:
		return "区级"
	case 3:
		return "街道"
	case 4:
		return "社区"
	}
	return "下级"
}

// HandDown returns the center one level below centerPath that holds the
// case (纵向交办: the district hands a case down to its street), or an error if
// the category is not on that level's list or the case lies at the center's
// own level.
func HandDown(centerPath, regionPath string, cat cases.Category) (string, error) {
	cd := Depth(centerPath)
	if cd >= 3 {
		return "", refuse("街道指挥中心是最基层的指挥中心，不能再交办")
	}
	if Depth(regionPath) <= cd || !strings.HasPrefix(regionPath, centerPath) {
		return "", refuse("案件没有落在下级辖区内，请先定位")
	}
	if ld := LevelDepth(cat.Level); ld <= cd {
		return "", refuse("“%s”属%s事项，不在下级的清单内，不能交办", cat.Name, LevelLabel(cat.Level))
	}
	parts := strings.Split(strings.Trim(regionPath, "/"), "/")
	return "/" + strings.Join(parts[:cd+1], "/") + "/", nil
}

// Suggest proposes the lead unit for a case of the category at the center:
// the case's community for community and grid matters at a street; else a
// post (or a section) of the category's board in the case's street; else the
// category's default unit. Every proposal passes Dispatch; ok is false when
// the center must escalate or nothing fits.
func Suggest(centerPath, regionPath string, cat cases.Category, units []cases.Unit) (cases.Unit, bool) {
	if Owned(centerPath, cat) != nil {
		return cases.Unit{}, false
	}
	fits := func(u cases.Unit) bool { return Dispatch(centerPath, regionPath, cat, u) == nil }
	sorted := slices.Clone(units)
	slices.SortFunc(sorted, func(a, b cases.Unit) int { return strings.Compare(a.ID, b.ID) })
	pick := func(kind string, board cases.Board) (cases.Unit, bool) {
		for _, u := range sorted {
			if u.Kind == kind && (board == "" || u.Board == board) && fits(u) {
				return u, true
			}
		}
		return cases.Unit{}, false
	}
	if LevelDepth(cat.Level) >= 4 {
		if u, ok := pick(cases.UnitCommunity, ""); ok {
			return u, true
		}
	}
	if LevelDepth(cat.Level) >= 3 {
		if u, ok := pick(cases.UnitPost, cat.Board); ok {
			return u, true
		}
		if u, ok := pick(cases.UnitSection, cat.Board); ok {
			return u, true
		}
	}
	for _, u := range units {
		if u.ID == cat.DefaultUnit && fits(u) {
			return u, true
		}
	}
	return cases.Unit{}, false
}

// ValidateUnit checks a unit's kind against where it sits: departments at a
// district or city, boards, posts and sections at a street (with their board,
// posts and sections under a board unit of the same street and board), and
// communities at a community. parent is the Parent unit when one is named.
func ValidateUnit(u cases.Unit, parent *cases.Unit) error {
	var f apperr.Fields
	d := Depth(u.RegionPath)
	switch u.Kind {
	case cases.UnitDepartment:
		if d != 1 && d != 2 {
			f.Add("region_path", "职能部门应属于区或市")
		}
		if u.Parent != "" {
			f.Add("parent", "职能部门不隶属于板块")
		}
	case cases.UnitBoard, cases.UnitPost, cases.UnitSection:
		if d != 3 {
			f.Add("region_path", cases.UnitKindLabel(u.Kind)+"应属于一个街道")
		}
		if !u.Board.Valid() {
			f.Add("board", "请选择所属板块（党的建设、经济发展、民生服务、平安法治）")
		}
		if u.Kind == cases.UnitBoard {
			if u.Parent != "" {
				f.Add("parent", "板块不隶属于其他单位")
			}
			break
		}
		switch {
		case u.Parent == "" && u.Kind == cases.UnitPost:
			f.Add("parent", "岗位须属于本街道的一个板块")
		case u.Parent == "":
		case parent == nil:
			f.Add("parent", "所属板块不存在")
		case parent.Kind != cases.UnitBoard || parent.RegionPath != u.RegionPath || parent.Board != u.Board:
			f.Add("parent", fmt.Sprintf("“%s”不是本街道的%s板块", parent.Name, u.Board.Label()))
		}
	case cases.UnitCommunity:
		if d != 4 {
			f.Add("region_path", "社区单位应属于一个社区")
		}
		if u.Parent != "" || u.Board != "" {
			f.Add("parent", "社区单位不隶属于板块")
		}
	default:
		f.Add("kind", "类型应为职能部门、街道板块、板块岗位、街道科室或社区")
	}
	return f.Err()
}
