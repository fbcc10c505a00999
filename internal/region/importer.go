package region

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
)

// MaxProblems is how many problems an import lists. A file with the wrong
// columns can have one problem per row; past this many the rest are only
// counted, which keeps the error (and the response carrying it) bounded.
const MaxProblems = 1000

// MaxRegions is the most regions one file may hold. All of Chongqing is
// about 75,000 (62,000 grids and the levels above); the cap stops a runaway
// file from exhausting memory before the caller's size limit would.
const MaxRegions = 500_000

// Problem is one reason an import file was refused.
type Problem struct {
	// Row is the 1-based feature number in a GeoJSON file or the line number
	// in a CSV file (the header is line 1); 0 for the file as a whole.
	Row int `json:"row"`
	// Field names the offending member within the feature or row, such as
	// "properties.code", "geometry.coordinates[0][3]" or "parent_code";
	// "" for the whole feature, row or file.
	Field  string `json:"field"`
	Reason string `json:"reason"` // user-facing, in Chinese
}

// The import formats, as named in ImportError.Format.
const (
	FormatGeoJSON = "geojson"
	FormatCSV     = "csv"
)

// ImportError lists everything wrong with an import file. Nothing from such
// a file may be stored: a half-imported tree is worse than none.
type ImportError struct {
	Format   string    // FormatGeoJSON or FormatCSV
	Problems []Problem // in row order, at most MaxProblems
	Omitted  int       // further problems found but not listed
}

// Error implements error with a summary of the first few problems, for logs.
func (e *ImportError) Error() string {
	var b strings.Builder
	b.WriteString(e.message())
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; %s: %s", e.fieldPath(p), p.Reason)
	}
	return b.String()
}

func (e *ImportError) message() string {
	if e.Omitted > 0 {
		return fmt.Sprintf("导入文件有 %d 处问题（仅列出前 %d 处），未导入任何数据",
			len(e.Problems)+e.Omitted, len(e.Problems))
	}
	return fmt.Sprintf("导入文件有 %d 处问题，未导入任何数据", len(e.Problems))
}

// AppErr converts e to the error the API reports: kind Invalid, one field
// per problem. Field paths follow each format's own layout: in GeoJSON,
// "features[3].properties.code" is the code of the fourth feature (the
// index into the features array, so Row 4); in CSV, "rows[5].parent_code"
// is the parent code on line 5 (Row 5, as a spreadsheet numbers it).
// Problems with the file as a whole are reported under "file" or under the
// top-level member ("type", "features").
func (e *ImportError) AppErr() *apperr.Error {
	ae := &apperr.Error{Kind: apperr.Invalid, Message: e.message(), Err: e}
	for _, p := range e.Problems {
		ae.Fields = append(ae.Fields, apperr.FieldError{Field: e.fieldPath(p), Reason: p.Reason})
	}
	return ae
}

func (e *ImportError) fieldPath(p Problem) string {
	var base string
	switch {
	case p.Row == 0:
		if p.Field == "" {
			return "file"
		}
		return p.Field
	case e.Format == FormatGeoJSON:
		base = "features[" + strconv.Itoa(p.Row-1) + "]"
	default:
		base = "rows[" + strconv.Itoa(p.Row) + "]"
	}
	if p.Field == "" {
		return base
	}
	return base + "." + p.Field
}

// collector gathers problems up to MaxProblems.
type collector struct {
	format   string
	problems []Problem
	omitted  int
}

func (c *collector) add(row int, field, reason string) {
	if len(c.problems) >= MaxProblems {
		c.omitted++
		return
	}
	c.problems = append(c.problems, Problem{Row: row, Field: field, Reason: reason})
}

func (c *collector) addf(row int, field, format string, args ...any) {
	c.add(row, field, fmt.Sprintf(format, args...))
}

func (c *collector) err() error {
	if len(c.problems) == 0 && c.omitted == 0 {
		return nil
	}
	// Checks run in passes (each row, then across rows); the reader wants
	// them by row.
	slices.SortStableFunc(c.problems, func(a, b Problem) int { return cmp.Compare(a.Row, b.Row) })
	return &ImportError{Format: c.format, Problems: c.problems, Omitted: c.omitted}
}

// row is one feature or CSV line on its way to becoming a Region.
type row struct {
	n      int    // Problem.Row
	region Region // as read; Level is "" when it was missing or unknown
	usable bool   // the row could be read at all (has properties, right columns)
	// unreadable marks members already refused as unreadable (a code that
	// is neither text nor an integer), so they are not also called missing.
	unreadable members
	// Field names of this row's members in its format.
	codeField, nameField, levelField, parentField string
}

// members is a set of a row's members.
type members uint8

const (
	memberCode members = 1 << iota
	memberName
	memberLevel
	memberParent
)

// check runs the checks shared by both formats over rows that each format
// has read (and already checked for its own matters: syntax, geometry,
// level names). noun names a row in messages ("个要素" or "行").
func check(rows []row, existing func(code string) (Level, bool), c *collector, noun string) {
	first := make(map[string]int, len(rows)) // code → index of its first row
	codeOK := make([]bool, len(rows))
	for i := range rows {
		r := &rows[i]
		if !r.usable {
			continue
		}
		if p := NameProblem(r.region.Name); p != "" && r.unreadable&memberName == 0 {
			c.add(r.n, r.nameField, p)
		}
		if r.unreadable&memberCode != 0 {
			continue // nothing to compare with other rows
		}
		if r.region.Level.Valid() {
			if p := CodeProblem(r.region.Level, r.region.Code); p != "" {
				c.add(r.n, r.codeField, p)
			} else {
				codeOK[i] = true
			}
		} else if p := codeShapeProblem(r.region.Code); p != "" {
			// The level is unknown, so the code's length cannot be
			// checked; what no level allows is still said.
			c.add(r.n, r.codeField, p)
		}
		if r.region.Code == "" {
			continue
		}
		if j, dup := first[r.region.Code]; dup {
			c.addf(r.n, r.codeField, "代码 %s 与第 %d %s重复", r.region.Code, rows[j].n, noun)
			continue
		}
		first[r.region.Code] = i
		if existing != nil && r.region.Level.Valid() {
			if have, ok := existing(r.region.Code); ok && have != r.region.Level {
				c.addf(r.n, r.codeField, "代码 %s 已作为%s存在，不能改为%s", r.region.Code, have.Label(), r.region.Level.Label())
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		if !r.usable || r.unreadable&(memberCode|memberParent) != 0 {
			continue
		}
		if !r.region.Level.Valid() {
			// Without a level only the parent's existence can be checked.
			if pc := r.region.ParentCode; pc != "" {
				_, inFile := first[pc]
				inStore := false
				if existing != nil {
					_, inStore = existing(pc)
				}
				if !inFile && !inStore {
					c.addf(r.n, r.parentField, "上级 %s 既不在文件中，也不在系统中", truncate(pc, 20))
				}
			}
			continue
		}
		reg := r.region
		if reg.ParentCode != "" && reg.ParentCode == reg.Code {
			c.add(r.n, r.parentField, "上级代码不能是自身")
			continue
		}
		var parentLevel Level
		if reg.ParentCode != "" {
			if j, ok := first[reg.ParentCode]; ok {
				parentLevel = rows[j].region.Level
				if !parentLevel.Valid() {
					continue // the parent's own row already says what is wrong
				}
			} else if existing != nil {
				parentLevel, _ = existing(reg.ParentCode)
			}
			if !parentLevel.Valid() && reg.Level != City {
				c.addf(r.n, r.parentField, "上级 %s 既不在文件中，也不在系统中", reg.ParentCode)
				continue
			}
		}
		if p := parentProblem(reg.Level, reg.Code, parentLevel, reg.ParentCode, codeOK[i]); p != "" {
			c.add(r.n, r.parentField, p)
		}
	}
}

// codeShapeProblem returns what is wrong with a code at any level (missing,
// not digits, a length no level has), or "".
func codeShapeProblem(code string) string {
	if code == "" {
		return "缺少区划代码"
	}
	for _, ch := range code {
		if ch < '0' || ch > '9' {
			return "区划代码只能由数字组成"
		}
	}
	for _, n := range codeLen {
		if len(code) == n {
			return ""
		}
	}
	return fmt.Sprintf("区划代码应为 6、9、12 或 15 位数字，实际为 %d 位", len(code))
}

// finish returns the checked rows as regions, parents before children, or
// the problems found.
func finish(rows []row, existing func(code string) (Level, bool), c *collector, noun string) ([]Region, error) {
	check(rows, existing, c, noun)
	if err := c.err(); err != nil {
		return nil, err
	}
	out := make([]Region, len(rows))
	for i, r := range rows {
		out[i] = r.region
	}
	SortParentsFirst(out)
	return out, nil
}

// SortParentsFirst orders regions by level from city down, then by code, so
// that inserting them in order never meets a child before its parent, and
// the same input always gives the same order.
func SortParentsFirst(regions []Region) {
	slices.SortStableFunc(regions, func(a, b Region) int {
		if c := cmp.Compare(a.Level.Rank(), b.Level.Rank()); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
}

// levelProblem returns why raw cannot be read as a level, or "".
func levelProblem(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "缺少级别"
	}
	if _, ok := ParseLevel(raw); !ok {
		return fmt.Sprintf("未知级别「%s」，应为 city、district、street、community 或 grid", truncate(raw, 20))
	}
	return ""
}

// truncate keeps echoed input short in messages.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
