package gridwork

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/geo"
)

// Cells divide a grid's polygon into square cells for coverage: the cells
// whose centre lies inside the polygon are the grid's parts, and a patrol
// covers the cells its track passes through. Cell indexes are row-major
// from the south-west corner of the polygon's bounds.
type Cells struct {
	Origin geo.Point // south-west corner
	DLng   float64   // cell width in degrees
	DLat   float64   // cell height in degrees
	NX, NY int
	Size   float64 // cell side in meters
	Inside []int   // indexes of the cells inside the polygon, ascending
}

// Coverage defaults.
const (
	CellSize = 50.0 // meters
	MaxCells = 4096 // a large grid gets larger cells rather than more
)

// CellsOf lays cells of about size meters over a grid's polygon (larger
// when the grid would need more than MaxCells). A grid too small to hold a
// cell centre gets the one cell of its centroid.
func CellsOf(shape geo.MultiPolygon, size float64) Cells {
	if size <= 0 {
		size = CellSize
	}
	b := shape.Bounds()
	mid := geo.Point{Lng: (b.Min.Lng + b.Max.Lng) / 2, Lat: (b.Min.Lat + b.Max.Lat) / 2}
	w := geo.Distance(geo.Point{Lng: b.Min.Lng, Lat: mid.Lat}, geo.Point{Lng: b.Max.Lng, Lat: mid.Lat})
	h := geo.Distance(geo.Point{Lng: mid.Lng, Lat: b.Min.Lat}, geo.Point{Lng: mid.Lng, Lat: b.Max.Lat})
	for math.Ceil(w/size)*math.Ceil(h/size) > MaxCells {
		size *= 1.5
	}
	c := Cells{Origin: b.Min, Size: size, NX: max(1, int(math.Ceil(w/size))), NY: max(1, int(math.Ceil(h/size)))}
	c.DLng = (b.Max.Lng - b.Min.Lng) / float64(c.NX)
	c.DLat = (b.Max.Lat - b.Min.Lat) / float64(c.NY)
	if c.DLng == 0 {
		c.DLng = 1e-9
	}
	if c.DLat == 0 {
		c.DLat = 1e-9
	}
	for y := 0; y < c.NY; y++ {
		for x := 0; x < c.NX; x++ {
			ctr := geo.Point{Lng: c.Origin.Lng + (float64(x)+0.5)*c.DLng, Lat: c.Origin.Lat + (float64(y)+0.5)*c.DLat}
			if shape.Contains(ctr) {
				c.Inside = append(c.Inside, y*c.NX+x)
			}
		}
	}
	if len(c.Inside) == 0 && len(shape) > 0 {
		if i, ok := c.index(shape.Centroid()); ok {
			c.Inside = []int{i}
		}
	}
	return c
}

// index is the cell holding a point, if the point lies within the bounds.
func (c Cells) index(p geo.Point) (int, bool) {
	x := int(math.Floor((p.Lng - c.Origin.Lng) / c.DLng))
	y := int(math.Floor((p.Lat - c.Origin.Lat) / c.DLat))
	if x == c.NX && p.Lng <= c.Origin.Lng+float64(c.NX)*c.DLng+1e-12 {
		x--
	}
	if y == c.NY && p.Lat <= c.Origin.Lat+float64(c.NY)*c.DLat+1e-12 {
		y--
	}
	if x < 0 || y < 0 || x >= c.NX || y >= c.NY {
		return 0, false
	}
	return y*c.NX + x, true
}

// Touched lists the grid's cells (of Inside) a track passes through: every
// fix, and points every third of a cell along each segment between fixes.
func (c Cells) Touched(fixes []Fix) []int {
	seen := map[int]bool{}
	mark := func(p geo.Point) {
		if i, ok := c.index(p); ok {
			seen[i] = true
		}
	}
	for i, f := range fixes {
		mark(f.Point())
		if i == 0 {
			continue
		}
		a, b := fixes[i-1].Point(), f.Point()
		steps := int(math.Ceil(geo.Distance(a, b) / (c.Size / 3)))
		for k := 1; k < steps && k < 10000; k++ {
			t := float64(k) / float64(steps)
			mark(geo.Point{Lng: a.Lng + t*(b.Lng-a.Lng), Lat: a.Lat + t*(b.Lat-a.Lat)})
		}
	}
	var out []int
	for _, i := range c.Inside {
		if seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// Coverage is the share of a grid's cells that a set of patrols walked.
type Coverage struct {
	Covered int     `json:"covered"` // cells walked
	Total   int     `json:"total"`   // cells of the grid
	Share   float64 `json:"share"`   // covered ÷ total, 0 when the grid has no cells
}

// Cover unites the cells each patrol touched against a grid of total cells.
func Cover(total int, touched ...[]int) Coverage {
	seen := map[int]bool{}
	for _, t := range touched {
		for _, i := range t {
			seen[i] = true
		}
	}
	c := Coverage{Covered: len(seen), Total: total}
	if total > 0 {
		c.Share = math.Round(float64(c.Covered)/float64(total)*1000) / 1000
		if c.Covered > total {
			c.Covered, c.Share = total, 1
		}
	}
	return c
}

// FormatCells writes cell indexes compactly for storage ("3,4,17").
func FormatCells(cells []int) string {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

// ParseCells reads FormatCells; unreadable parts are skipped.
func ParseCells(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Plan is a grid's planned patrol frequency: every working day (PerWeek
// 0), or a number of patrols a week; MinMinutes is the shortest patrol
// that counts.
type Plan struct {
	GridCode   string    `json:"grid_code"`
	PerWeek    int       `json:"per_week"`    // 0: every working day
	MinMinutes int       `json:"min_minutes"` // a shorter patrol does not count toward the plan
	UpdatedAt  time.Time `json:"updated_at"`
}

// DefaultPlan patrols every working day, at least 30 minutes.
func DefaultPlan(grid string) Plan { return Plan{GridCode: grid, MinMinutes: 30} }

// Counts reports whether a patrol of that duration counts toward the plan.
func (p Plan) Counts(d time.Duration) bool { return d >= time.Duration(p.MinMinutes)*time.Minute }

// Due reports whether a patrol is due today: on a working day with no
// counted patrol yet when the plan is every working day; otherwise while
// the week's counted patrols are fewer than planned and none was made today.
func (p Plan) Due(workingDay bool, countedToday, countedThisWeek int) bool {
	if countedToday > 0 {
		return false
	}
	if p.PerWeek == 0 {
		return workingDay
	}
	return countedThisWeek < p.PerWeek
}
