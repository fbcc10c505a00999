package region

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
)

// Region is one node of the administrative tree.
type Region struct {
	Code       string           `json:"code"`
	Name       string           `json:"name"`
	Level      Level            `json:"level"`
	ParentCode string           `json:"parent_code"` // "" for a city, the root
	Shape      geo.MultiPolygon `json:"shape,omitempty"`
}

// MaxNameLen is the longest region name accepted, in characters. Real names
// are short (朝天门街道解放东路社区第三网格 is 15); the cap keeps pasted
// paragraphs out of map labels.
const MaxNameLen = 64

// codeLen is the length of a code at each level: the 6-digit division code
// for cities and districts, then 3 digits each for street, community and
// the grid serial (the 12-digit statistical code drops its trailing 000 for
// a street; a grid code is the community code plus a serial, as in the
// unit-grid codes of GB/T 30428).
var codeLen = map[Level]int{City: 6, District: 6, Street: 9, Community: 12, Grid: 15}

// provinces are the first two digits of the provincial-level divisions in
// GB/T 2260; any real code starts with one of them.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

// CodeProblem returns why code cannot be the code of a region at level, in
// Chinese, or "" when it can. It checks the form only; the relation to the
// parent is ParentProblem's.
func CodeProblem(level Level, code string) string {
	want, ok := codeLen[level]
	if !ok {
		return "级别未知，无法校验代码"
	}
	if code == "" {
		return "缺少区划代码"
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return "区划代码只能由数字组成"
		}
	}
	if len(code) != want {
		return fmt.Sprintf("%s代码应为 %d 位数字，实际为 %d 位", level.Label(), want, len(code))
	}
	if !provinces[code[:2]] {
		return fmt.Sprintf("代码前两位 %s 不是有效的省级代码", code[:2])
	}
	switch level {
	case City:
		// A municipality (500000) or a prefecture-level city (510100): the
		// county digits are 00.
		if code[4:] != "00" {
			return "市级代码应以 00 结尾，如 500000"
		}
	case District:
		if code[4:] == "00" {
			return "区(县)代码最后两位不能是 00（那是市级代码）"
		}
	default:
		if code[len(code)-3:] == "000" {
			return fmt.Sprintf("%s代码最后 3 位不能是 000", level.Label())
		}
		// The leading digits must themselves be a valid code one level up,
		// so a grid code is checked all the way to its district.
		parent := level.ParentLevel()
		if p := CodeProblem(parent, code[:codeLen[parent]]); p != "" {
			return fmt.Sprintf("前 %d 位不是有效的%s代码：%s", codeLen[parent], parent.Label(), p)
		}
	}
	return ""
}

// ParentProblem returns why a region of the given level and code cannot sit
// under a parent with parentCode at parentLevel, in Chinese, or "" when it
// can. A city must have no parent; every other region needs a parent exactly
// one level up whose code its own extends (a district shares its city's
// first two digits, the province).
func ParentProblem(level Level, code string, parentLevel Level, parentCode string) string {
	return parentProblem(level, code, parentLevel, parentCode, true)
}

// parentProblem is ParentProblem that can skip the code prefix check, for a
// code already refused on its own: the prefix complaint would only repeat it.
func parentProblem(level Level, code string, parentLevel Level, parentCode string, checkPrefix bool) string {
	if level == City {
		if parentCode != "" {
			return "市级区划是树的根，不能有上级"
		}
		return ""
	}
	if parentCode == "" {
		return "缺少上级区划代码"
	}
	if !parentLevel.Valid() {
		return fmt.Sprintf("上级区划 %s 不存在", parentCode)
	}
	if want := level.ParentLevel(); parentLevel != want {
		return fmt.Sprintf("上级 %s 是%s，而%s的上级应是%s", parentCode, parentLevel.Label(), level.Label(), want.Label())
	}
	if !checkPrefix {
		return ""
	}
	if level == District {
		if len(code) < 2 || len(parentCode) < 2 || code[:2] != parentCode[:2] {
			return fmt.Sprintf("区(县)代码 %s 的前两位应与所属市 %s 相同", code, parentCode)
		}
		return ""
	}
	if !strings.HasPrefix(code, parentCode) {
		return fmt.Sprintf("代码 %s 应以上级代码 %s 开头", code, parentCode)
	}
	return ""
}

// NameProblem returns why name cannot be a region name, in Chinese, or ""
// when it can. Names are shown on maps and exported to spreadsheets, so
// control characters and leading formula characters (=, +, -, @, which
// Excel would run) are refused.
func NameProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "缺少名称"
	case !utf8.ValidString(name):
		return "名称不是有效的 UTF-8 文本"
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Sprintf("名称过长，最多 %d 个字", MaxNameLen)
	case strings.TrimSpace(name) != name:
		return "名称首尾不能有空格"
	case strings.ContainsAny(name[:1], "=+-@"):
		return "名称不能以 = + - @ 开头"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "名称不能含有控制字符"
		}
	}
	return ""
}

// Validate checks r on its own and against its parent's level (pass "" when
// r is a city or the parent is unknown to the caller, which then gets a
// refusal for the missing parent). It returns an *apperr.Error of kind
// Invalid listing every offending field, or nil.
func (r Region) Validate(parentLevel Level) error {
	var f apperr.Fields
	if p := NameProblem(r.Name); p != "" {
		f.Add("name", p)
	}
	if !r.Level.Valid() {
		f.Addf("level", "未知级别「%s」，应为 city、district、street、community 或 grid", r.Level)
	} else {
		codeOK := true
		if p := CodeProblem(r.Level, r.Code); p != "" {
			f.Add("code", p)
			codeOK = false
		}
		if p := parentProblem(r.Level, r.Code, parentLevel, r.ParentCode, codeOK); p != "" {
			f.Add("parent_code", p)
		}
	}
	if field, reason := shapeProblem(r.Level, r.Shape, "shape"); reason != "" {
		f.Add(field, reason)
	}
	return f.Err()
}

// shapeProblem checks that a grid has a shape and that any shape is valid;
// field is the name under which the shape appears.
func shapeProblem(level Level, shape geo.MultiPolygon, field string) (string, string) {
	if len(shape) == 0 {
		if level == Grid {
			return field, "网格必须有边界（Polygon 或 MultiPolygon）"
		}
		return "", ""
	}
	if err := shape.Validate(); err != nil {
		var ge *geo.GeometryError
		if errors.As(err, &ge) && ge.Path != "" {
			return field + "." + ge.Path, ge.Reason
		}
		return field, err.Error()
	}
	return "", ""
}

// Path returns the materialised path of the region with code under a parent
// whose path is parentPath ("" for a root): "/500000/500103/" for Yuzhong.
// Every path begins and ends with "/", so a subtree is the set of paths that
// begin with the subtree root's path, and one code can never be mistaken
// for the prefix of another.
func Path(parentPath, code string) string {
	if parentPath == "" {
		parentPath = "/"
	}
	return parentPath + code + "/"
}

// PathCodes splits a materialised path into its codes, root first.
func PathCodes(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// BuildPaths returns the materialised path of every region, keyed by code.
// Every parent must be among regions; a missing parent, a repeated code or a
// cycle is an *apperr.Error of kind Invalid.
func BuildPaths(regions []Region) (map[string]string, error) {
	byCode := make(map[string]*Region, len(regions))
	for i := range regions {
		r := &regions[i]
		if _, dup := byCode[r.Code]; dup {
			return nil, apperr.Newf(apperr.Invalid, "区划代码 %s 重复", r.Code)
		}
		byCode[r.Code] = r
	}
	paths := make(map[string]string, len(regions))
	// Walk up from each region to the first ancestor with a known path, then
	// fill in the paths on the way down; the walk is iterative so a long
	// (malformed) chain cannot exhaust the stack.
	var chain []*Region
	for i := range regions {
		chain = chain[:0]
		r := &regions[i]
		base := ""
		for {
			if p, ok := paths[r.Code]; ok {
				base = p
				break
			}
			if len(chain) > len(regions) {
				// Longer than the whole list: the walk is going round.
				return nil, apperr.Newf(apperr.Invalid, "区划 %s 的上级关系成环", r.Code)
			}
			chain = append(chain, r)
			if r.ParentCode == "" {
				break
			}
			parent, ok := byCode[r.ParentCode]
			if !ok {
				return nil, apperr.Newf(apperr.Invalid, "区划 %s 的上级 %s 不存在", r.Code, r.ParentCode)
			}
			r = parent
		}
		for j := len(chain) - 1; j >= 0; j-- {
			base = Path(base, chain[j].Code)
			paths[chain[j].Code] = base
		}
	}
	return paths, nil
}
