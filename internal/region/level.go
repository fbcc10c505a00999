// Package region is the administrative tree zhizhi is organised by:
// city → district → street → community → grid. It validates region codes
// against the official statistical division codes, builds the materialised
// paths used for subtree queries, and imports and exports the tree as
// GeoJSON and CSV with every problem reported in Chinese.
//
// It is pure: storage and HTTP live elsewhere.
package region

import "strings"

// Level is the rank of a region in the administrative tree.
type Level string

// The levels, from the top of the tree down.
const (
	City      Level = "city"      // 市 (a municipality or a prefecture-level city)
	District  Level = "district"  // 区(县)
	Street    Level = "street"    // 街道(镇)
	Community Level = "community" // 社区(村)
	Grid      Level = "grid"      // 网格
)

// levels lists the levels top-down; a level's rank is its position + 1.
var levels = [...]Level{City, District, Street, Community, Grid}

var labels = map[Level]string{
	City:      "市",
	District:  "区(县)",
	Street:    "街道(镇)",
	Community: "社区(村)",
	Grid:      "网格",
}

// AllLevels returns the levels from city down to grid.
func AllLevels() []Level { return append([]Level(nil), levels[:]...) }

// Valid reports whether l is one of the five levels.
func (l Level) Valid() bool { return l.Rank() > 0 }

// Rank returns 1 for a city down to 5 for a grid, and 0 for an unknown
// level, so that comparing ranks orders parents before children.
func (l Level) Rank() int {
	for i, v := range levels {
		if v == l {
			return i + 1
		}
	}
	return 0
}

// ChildLevel returns the level directly below l, or "" for a grid (the
// leaf) and for an unknown level.
func (l Level) ChildLevel() Level {
	if r := l.Rank(); r > 0 && r < len(levels) {
		return levels[r]
	}
	return ""
}

// ParentLevel returns the level directly above l, or "" for a city (the
// root) and for an unknown level.
func (l Level) ParentLevel() Level {
	if r := l.Rank(); r > 1 {
		return levels[r-2]
	}
	return ""
}

// Label returns the Chinese name of the level for the console and messages,
// or the raw value when the level is unknown.
func (l Level) Label() string {
	if s, ok := labels[l]; ok {
		return s
	}
	return string(l)
}

// aliases maps the Chinese words administrators actually type in a
// spreadsheet to levels, so a CSV written by hand in Excel imports as is.
var aliases = map[string]Level{
	"市": City, "直辖市": City, "地级市": City,
	"区": District, "县": District, "区县": District, "区(县)": District, "区（县）": District, "县级市": District,
	"街道": Street, "镇": Street, "乡": Street, "街道(镇)": Street, "街道（镇）": Street, "乡镇": Street, "镇街": Street,
	"社区": Community, "村": Community, "社区(村)": Community, "社区（村）": Community, "居委会": Community, "村委会": Community,
	"网格": Grid,
}

// ParseLevel reads a level from its English value (any case) or a common
// Chinese name (街道, 镇, 社区, 村, …), ignoring surrounding spaces.
func ParseLevel(s string) (Level, bool) {
	s = strings.TrimSpace(s)
	if l := Level(strings.ToLower(s)); l.Valid() {
		return l, true
	}
	l, ok := aliases[s]
	return l, ok
}
