package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/routing"
	"zhizhi/internal/store"
)

// Read models for the leaders' dashboard and the command board's map. The
// figures are counted by the database (store.CaseStats, store.OpenLoad) in
// the actor's scope, like every listing.

// DashboardFilter is what a dashboard counts: cases reported in [From, To),
// optionally of one board, one category and one region of the actor's scope.
type DashboardFilter struct {
	From, To time.Time
	Board    string
	Category string
	Region   string // a region code; "" is the actor's whole scope
}

// StatRow is one group of a dashboard with its name.
type StatRow struct {
	store.CaseStat
	Name string
}

// OnTimeRate is the honest on-time close rate: cases closed without ever
// being overdue, over the closed cases plus the open ones already overdue
// (an overdue case that is still open counts against the rate, instead of
// waiting until it closes). ok is false when there is nothing to rate.
func (r StatRow) OnTimeRate() (rate float64, ok bool) {
	n := r.Closed + r.OpenOverdue
	if n == 0 {
		return 0, false
	}
	return float64(r.OnTime) / float64(n), true
}

// Dashboard is the leaders' view of a period.
type Dashboard struct {
	Filter     DashboardFilter
	RegionPath string         // the region counted (the filter's or the actor's)
	AreaDim    store.StatsDim // how ByArea is grouped: the level below RegionPath
	Totals     StatRow
	ByBoard    []StatRow
	ByCategory []StatRow // the ten largest
	ByArea     []StatRow
	ByDay      []StatRow // every day of the period, oldest first
	OverdueNow int       // open overdue cases now, whenever reported
}

// TopCategories is how many categories a dashboard ranks.
const TopCategories = 10

// MaxDashboardDays bounds a dashboard's period.
const MaxDashboardDays = 366

// DashboardFilterOf checks a filter for an actor and returns the region
// path it counts.
func (s *Service) DashboardFilterOf(actor cases.Actor, f DashboardFilter) (string, error) {
	var fe apperr.Fields
	if f.From.IsZero() || f.To.IsZero() || !f.From.Before(f.To) {
		fe.Add("period", "请选择有效的起止日期（开始早于结束）")
	} else if f.To.Sub(f.From) > MaxDashboardDays*24*time.Hour {
		fe.Addf("period", "统计时段不能超过%d天", MaxDashboardDays)
	}
	if f.Board != "" && !cases.Board(f.Board).Valid() {
		fe.Add("board", "板块不存在")
	}
	if f.Category != "" {
		if _, ok := s.Category(f.Category); !ok {
			fe.Add("category", "类别不存在")
		}
	}
	path := actor.RegionPath
	if f.Region != "" {
		p, ok := s.RegionPath(f.Region)
		switch {
		case !ok:
			fe.Add("region", "区域不存在")
		case actor.RegionPath != "" && !strings.HasPrefix(p, actor.RegionPath):
			fe.Add("region", "该区域不在您的管辖范围内")
		default:
			path = p
		}
	}
	return path, fe.Err()
}

// caseFilter is the listing filter of a dashboard filter.
func (f DashboardFilter) caseFilter(path string, scoped bool) store.CaseFilter {
	cf := store.CaseFilter{From: f.From, To: f.To, Board: f.Board, Category: f.Category}
	if scoped {
		cf.RegionPath = path
	}
	return cf
}

// DashboardCases returns the listing filter of the cases a dashboard counts,
// for drilling down and exporting (List adds the actor's scope).
func (s *Service) DashboardCases(actor cases.Actor, f DashboardFilter) (store.CaseFilter, error) {
	path, err := s.DashboardFilterOf(actor, f)
	if err != nil {
		return store.CaseFilter{}, err
	}
	return f.caseFilter(path, f.Region != ""), nil
}

// Dashboard counts the cases of a period in the actor's scope.
func (s *Service) Dashboard(ctx context.Context, actor cases.Actor, f DashboardFilter) (Dashboard, error) {
	path, err := s.DashboardFilterOf(actor, f)
	if err != nil {
		return Dashboard{}, err
	}
	now := s.Now()
	d := Dashboard{Filter: f, RegionPath: path, AreaDim: areaDim(path)}
	base := f.caseFilter(path, f.Region != "")
	base.Scope, base.Now = store.ScopeOf(actor), now
	_, offset := now.In(s.Calendar().Location()).Zone()
	// One pass over the period's cases gives every table.
	by, err := s.db.CaseStatsBy(ctx, store.StatsQuery{Filter: base, Offset: time.Duration(offset) * time.Second},
		store.ByTotal, store.ByBoard, store.ByCategory, d.AreaDim, store.ByDay)
	if err != nil {
		return d, err
	}
	rows := func(dim store.StatsDim, top int) []StatRow {
		list := by[dim]
		if top > 0 && len(list) > top {
			list = list[:top]
		}
		out := make([]StatRow, len(list))
		for i, st := range list {
			out[i] = StatRow{CaseStat: st, Name: s.statName(dim, st.Key)}
		}
		return out
	}
	d.Totals = rows(store.ByTotal, 0)[0]
	d.Totals.Name = "合计"
	d.ByBoard = rows(store.ByBoard, 0)
	d.ByCategory = rows(store.ByCategory, TopCategories)
	d.ByArea = rows(d.AreaDim, 0)
	days := rows(store.ByDay, 0)
	d.ByDay = fillDays(days, f.From, f.To, s.Calendar().Location())
	open, overdue := true, true
	of := f.caseFilter(path, f.Region != "")
	of.From, of.To, of.Open, of.Overdue = time.Time{}, time.Time{}, &open, &overdue
	if d.OverdueNow, err = s.Count(ctx, actor, of); err != nil {
		return d, err
	}
	return d, nil
}

// areaDim is the level below a region path, by which a dashboard of that
// region groups its areas.
func areaDim(path string) store.StatsDim {
	switch routing.Depth(path) {
	case 0, 2: // no region (every street), or a district
		return store.ByStreet
	case 1:
		return store.ByDistrict
	case 3:
		return store.ByCommunity
	}
	return store.ByGrid
}

// AreaLabel names the level a dashboard groups areas by.
func AreaLabel(dim store.StatsDim) string {
	switch dim {
	case store.ByDistrict:
		return "区县"
	case store.ByStreet:
		return "街道"
	case store.ByCommunity:
		return "社区"
	}
	return "网格"
}

func (s *Service) statName(dim store.StatsDim, key string) string {
	switch dim {
	case store.ByTotal:
		return "合计"
	case store.ByBoard:
		return cases.Board(key).Label()
	case store.ByCategory:
		if c, ok := s.Category(key); ok {
			return c.Name
		}
	case store.ByDay:
		return key
	default:
		if key == "" {
			if dim == store.ByGrid {
				return "（未落入网格）"
			}
			return "（未定位）"
		}
		if n := s.RegionName(key); n != "" {
			return n
		}
	}
	return key
}

// fillDays returns one row per local day of [from, to), zeros where no case
// was reported.
func fillDays(rows []StatRow, from, to time.Time, loc *time.Location) []StatRow {
	by := make(map[string]StatRow, len(rows))
	for _, r := range rows {
		by[r.Key] = r
	}
	var out []StatRow
	l := from.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	for ; day.Before(to) && len(out) <= MaxDashboardDays; day = day.AddDate(0, 0, 1) {
		k := day.Format("2006-01-02")
		r, ok := by[k]
		if !ok {
			r = StatRow{CaseStat: store.CaseStat{Key: k}}
		}
		r.Name = k
		out = append(out, r)
	}
	return out
}

// ---- the map -------------------------------------------------------------

// Bounds on one map answer. A city of 62,000 grids seen whole at street
// zoom is answered with a coarser level (communities, streets) or cut at
// these bounds, never with one huge file.
const (
	MapMaxFeatures = 1500
	MapMaxVertices = 60000
	mapLoadTTL     = 5 * time.Second
)

// MapFeature is one region drawn on the map: its shape simplified for the
// zoom, with its open cases.
type MapFeature struct {
	Code  string
	Name  string
	Shape geo.MultiPolygon
	Load  store.AreaLoad
}

// MapView is what the map draws in a viewport: the regions of one level.
type MapView struct {
	Level     region.Level
	Zoom      int
	Features  []MapFeature
	Truncated bool // more regions were in view than one answer carries
}

// Maps serves the map's geometry by viewport and zoom. It keeps the region
// shapes of every level in memory with an R-tree per level (the grids' is
// the service's own placement index) and rebuilds them when the regions
// change; open-case counts are read from the database, briefly cached per
// scope.
type Maps struct {
	svc *Service

	mu     sync.Mutex
	layers *mapLayers
	loads  Recent[map[string]store.AreaLoad]
}

// NewMaps returns the map read model over the service.
func NewMaps(s *Service) *Maps {
	return &Maps{svc: s, loads: Recent[map[string]store.AreaLoad]{TTL: mapLoadTTL}}
}

// mapRegion is one region of the map.
type mapRegion struct {
	code, name, path string
	level            region.Level
	shape            geo.MultiPolygon
}

// mapLayers holds one R-tree per level and every region's shape.
type mapLayers struct {
	grids   *geo.Index // built for this set; also the service's placement index
	index   map[region.Level]*geo.Index
	regions map[string]*mapRegion

	mu     sync.Mutex
	bounds map[string]geo.Rect // per root path
}

// newMapLayers indexes the regions by level; grids may be given (the
// placement index over the same grid shapes) or is built.
func newMapLayers(regs []mapRegion, grids *geo.Index) *mapLayers {
	l := &mapLayers{index: map[region.Level]*geo.Index{}, regions: make(map[string]*mapRegion, len(regs)), bounds: map[string]geo.Rect{}}
	by := map[region.Level][]geo.Entry{}
	for i := range regs {
		r := &regs[i]
		if len(r.shape) == 0 {
			continue
		}
		l.regions[r.code] = r
		if r.level != region.Grid || grids == nil {
			by[r.level] = append(by[r.level], geo.Entry{Code: r.code, Shape: r.shape})
		}
	}
	for lv, es := range by {
		l.index[lv] = geo.NewIndex(es)
	}
	if grids != nil {
		l.index[region.Grid] = grids
	}
	l.grids = l.index[region.Grid]
	return l
}

// current returns the layers for the regions now in force, rebuilding them
// when the service reloaded its grid index (the regions changed).
func (m *Maps) current(ctx context.Context) (*mapLayers, error) {
	grids := m.svc.grids.Load()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.layers != nil && m.layers.grids == grids {
		return m.layers, nil
	}
	recs, err := m.svc.db.Regions(ctx, store.RegionFilter{WithShape: true})
	if err != nil {
		return nil, fmt.Errorf("map regions: %w", err)
	}
	regs := make([]mapRegion, 0, len(recs))
	for _, r := range recs {
		regs = append(regs, mapRegion{code: r.Code, name: r.Name, path: r.Path, level: r.Level, shape: r.Shape})
	}
	m.layers = newMapLayers(regs, grids)
	return m.layers, nil
}

// MapRoot is the region whose map an actor sees: a grid's people see their
// street (to place a pin near the grid's edge), region roles their region,
// residents and enterprises (signed in or not: the pin picker of their
// report form) the whole platform's outlines, without any case counts.
// "" means no map.
func MapRoot(actor cases.Actor) string {
	switch actor.Role {
	case "", cases.RoleResident, cases.RoleEnterprise:
		return PublicMapRoot
	case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead:
		if actor.RegionPath == "" {
			return ""
		}
		return centerOf(actor.RegionPath)
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		return actor.RegionPath
	}
	return ""
}

// PublicMapRoot is the root of the residents' map: every region.
const PublicMapRoot = "/"

// Home returns the bounds of the actor's map; ok is false when there is no
// shape to show.
func (m *Maps) Home(ctx context.Context, actor cases.Actor) (geo.Rect, bool, error) {
	root := MapRoot(actor)
	if root == "" {
		return geo.Rect{}, false, nil
	}
	l, err := m.current(ctx)
	if err != nil {
		return geo.Rect{}, false, err
	}
	b, ok := l.home(root)
	return b, ok, nil
}

// home is the bounds of the root region's shape, or of everything under it.
func (l *mapLayers) home(root string) (geo.Rect, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.bounds[root]; ok {
		return b, b.Min.Valid()
	}
	var b geo.Rect
	found := false
	if r := l.regions[lastCode(root)]; r != nil && r.path == root {
		b, found = r.shape.Bounds(), true
	} else {
		for _, r := range l.regions {
			if !strings.HasPrefix(r.path, root) {
				continue
			}
			rb := r.shape.Bounds()
			if !found {
				b, found = rb, true
				continue
			}
			b.Min.Lng, b.Min.Lat = math.Min(b.Min.Lng, rb.Min.Lng), math.Min(b.Min.Lat, rb.Min.Lat)
			b.Max.Lng, b.Max.Lat = math.Max(b.Max.Lng, rb.Max.Lng), math.Max(b.Max.Lat, rb.Max.Lat)
		}
	}
	if !found {
		b = geo.Rect{Min: geo.Point{Lng: math.NaN(), Lat: math.NaN()}}
	}
	if len(l.bounds) > 10000 {
		l.bounds = map[string]geo.Rect{}
	}
	l.bounds[root] = b
	return b, found
}

// mapLevels are the levels a map draws, coarsest first.
var mapLevels = []region.Level{region.District, region.Street, region.Community, region.Grid}

// LevelForZoom is the level drawn at a zoom (web-map zoom levels, where the
// world is 256·2^zoom pixels wide): grids from 13 (a 300 m grid is then
// about 15 pixels wide), communities from 11, streets from 9, districts
// below.
func LevelForZoom(zoom int) region.Level {
	switch {
	case zoom >= 13:
		return region.Grid
	case zoom >= 11:
		return region.Community
	case zoom >= 9:
		return region.Street
	}
	return region.District
}

// View returns the regions to draw in a viewport at a zoom for an actor,
// with their open cases when counts is set. It draws the level the zoom
// asks for, or a coarser one when the view holds more than MapMaxFeatures
// of it, never coarser than the actor's own region.
func (m *Maps) View(ctx context.Context, actor cases.Actor, bbox geo.Rect, zoom int, counts bool) (MapView, error) {
	var fe apperr.Fields
	if !bbox.Min.Valid() || !bbox.Max.Valid() || bbox.Min.Lng > bbox.Max.Lng || bbox.Min.Lat > bbox.Max.Lat {
		fe.Add("bbox", "视野范围无效，应为 西经,南纬,东经,北纬")
	}
	if zoom < 0 || zoom > 22 {
		fe.Add("zoom", "缩放级别应在 0 至 22 之间")
	}
	if err := fe.Err(); err != nil {
		return MapView{}, err
	}
	root := MapRoot(actor)
	if root == "" {
		return MapView{Zoom: zoom}, nil
	}
	l, err := m.current(ctx)
	if err != nil {
		return MapView{}, err
	}
	v := l.view(bbox, zoom, root, MapMaxFeatures, MapMaxVertices)
	if counts && len(v.Features) > 0 {
		load, err := m.load(ctx, actor, v.Level)
		if err != nil {
			return MapView{}, err
		}
		for i := range v.Features {
			v.Features[i].Load = load[v.Features[i].Code]
		}
	}
	return v, nil
}

// view picks the level and the regions of the viewport, simplified for the
// zoom, within the bounds on features and vertices.
func (l *mapLayers) view(bbox geo.Rect, zoom int, root string, maxFeatures, maxVertices int) MapView {
	rootDepth := max(routing.Depth(root)-1, 0) // 0 city, 1 district, 2 street…
	want := LevelForZoom(zoom)
	if want.Rank() <= rootDepth+1 {
		// Zoomed out beyond the actor's region: draw the region itself
		// (a city has no shape of its own: its districts).
		want = region.Grid
		for _, lv := range mapLevels {
			if lv.Rank() >= rootDepth+1 {
				want = lv
				break
			}
		}
	}
	v := MapView{Zoom: zoom, Level: want}
	var codes []string
	for i := len(mapLevels) - 1; i >= 0; i-- {
		lv := mapLevels[i]
		if lv.Rank() > want.Rank() {
			continue
		}
		// Never coarser than the actor's own region: a street's commander
		// zoomed out still sees the street, not the district around it.
		coarsest := lv.Rank()-1 <= rootDepth
		ix := l.index[lv]
		if ix == nil {
			if coarsest {
				break
			}
			continue
		}
		codes = codes[:0]
		over := false
		ix.Within(bbox, func(code string) bool {
			r := l.regions[code]
			if r == nil || !strings.HasPrefix(r.path, root) {
				return true
			}
			codes = append(codes, code)
			if len(codes) > maxFeatures {
				over = true
				return coarsest // keep collecting only where there is no coarser level to fall back on
			}
			return true
		})
		v.Level = lv
		if !over || coarsest {
			break
		}
	}
	sort.Strings(codes)
	if len(codes) > maxFeatures {
		codes, v.Truncated = codes[:maxFeatures], true
	}
	tol := degreesPerPixel(zoom) * 0.7
	vertices := 0
	for _, code := range codes {
		r := l.regions[code]
		shape := geo.Simplify(r.shape, tol)
		n := 0
		for _, poly := range shape {
			for _, ring := range poly {
				n += len(ring)
			}
		}
		if vertices+n > maxVertices {
			v.Truncated = true
			break
		}
		vertices += n
		v.Features = append(v.Features, MapFeature{Code: code, Name: r.name, Shape: shape})
	}
	return v
}

// degreesPerPixel is the width of a pixel in degrees of longitude at a zoom.
func degreesPerPixel(zoom int) float64 { return 360 / (256 * math.Exp2(float64(zoom))) }

// load reads the open cases per region of a level in the actor's scope,
// cached briefly: every board of a scope shares one reading per few seconds.
func (m *Maps) load(ctx context.Context, actor cases.Actor, lv region.Level) (map[string]store.AreaLoad, error) {
	dim := map[region.Level]store.StatsDim{region.District: store.ByDistrict, region.Street: store.ByStreet,
		region.Community: store.ByCommunity, region.Grid: store.ByGrid}[lv]
	key := string(actor.Role) + "|" + actor.RegionPath + "|" + actor.UnitID + "|" + actor.AccountID + "|" + string(dim)
	return m.loads.Get(key, func() (map[string]store.AreaLoad, error) {
		return m.svc.db.OpenLoad(ctx, store.ScopeOf(actor), dim, m.svc.Now())
	})
}

// AppendGeoJSON appends the view as a GeoJSON FeatureCollection: each
// feature's id and properties (code, name, open, overdue, critical) and its
// shape with coordinates rounded to about a tenth of a pixel at the zoom.
// The collection also carries "level" and "truncated". A non-finite
// coordinate (never stored: imports refuse them) is an error.
func (v MapView) AppendGeoJSON(b []byte) ([]byte, error) {
	dec := int(math.Ceil(-math.Log10(degreesPerPixel(v.Zoom)))) + 1
	dec = max(3, min(7, dec))
	b = append(b, `{"type":"FeatureCollection","level":"`...)
	b = append(b, v.Level...)
	b = append(b, `","zoom":`...)
	b = strconv.AppendInt(b, int64(v.Zoom), 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, v.Truncated)
	b = append(b, `,"features":[`...)
	for i, f := range v.Features {
		if i > 0 {
			b = append(b, ',')
		}
		code, _ := json.Marshal(f.Code)
		name, _ := json.Marshal(f.Name)
		b = append(b, `{"type":"Feature","id":`...)
		b = append(b, code...)
		b = append(b, `,"properties":{"code":`...)
		b = append(b, code...)
		b = append(b, `,"name":`...)
		b = append(b, name...)
		b = append(b, `,"open":`...)
		b = strconv.AppendInt(b, int64(f.Load.Open), 10)
		b = append(b, `,"overdue":`...)
		b = strconv.AppendInt(b, int64(f.Load.Overdue), 10)
		b = append(b, `,"critical":`...)
		b = strconv.AppendInt(b, int64(f.Load.Critical), 10)
		b = append(b, `},"geometry":{"type":"MultiPolygon","coordinates":`...)
		var err error
		if b, err = geo.AppendCoordinates(b, f.Shape, dec); err != nil {
			return nil, fmt.Errorf("map feature %s: %w", f.Code, err)
		}
		b = append(b, `}}`...)
	}
	return append(b, `]}`...), nil
}
