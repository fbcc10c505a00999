package web

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
)

// The map: the board's panel of grids shaded by open cases, and the pin
// picker of the report form. Geometry comes from /map/shapes by viewport and
// zoom (service.Maps): streets or communities when zoomed out, grids when
// zoomed in, simplified for the zoom and bounded in size. Without a tile
// server the map draws only our own shapes; SetTiles adds a base layer.

// mapUsers may read the map: the board's roles and a grid's people.
var mapUsers = access{roles: []cases.Role{cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin,
	cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead}}

// SetTiles configures a base-map tile layer (a URL template with {z}, {x},
// {y}, as Leaflet takes it) and its attribution, for deployments that have
// a tile server; empty keeps the map to our own shapes.
func (c *Console) SetTiles(url, attribution string) {
	c.tiles, c.tilesAttribution = strings.TrimSpace(url), strings.TrimSpace(attribution)
}

// mapPanel is what the board's map needs to start.
type mapPanel struct {
	Bounds      string // "west,south,east,north"; "" when the region has no shape
	Tiles       string
	Attribution string
	Region      string // the region the queue is filtered to, if any
	RegionName  string
}

// mapPanelFor returns the board's map panel, or nil when the actor's region
// has no shapes to draw.
func (c *Console) mapPanelFor(r *http.Request, f boardFilter) *mapPanel {
	b, ok, err := c.maps.Home(r.Context(), actorOf(r))
	if err != nil {
		c.log.Error("map bounds", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return &mapPanel{Bounds: rectText(b), Tiles: c.tiles, Attribution: c.tilesAttribution,
		Region: f.Region, RegionName: c.svc.RegionName(f.Region)}
}

func rectText(b geo.Rect) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
	return f(b.Min.Lng) + "," + f(b.Min.Lat) + "," + f(b.Max.Lng) + "," + f(b.Max.Lat)
}

// mapShapes answers /map/shapes?bbox=west,south,east,north&zoom=z with the
// regions to draw as GeoJSON, each with its open cases for the board's
// roles.
func (c *Console) mapShapes(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	q := r.URL.Query()
	var fe apperr.Fields
	var box geo.Rect
	parts := strings.Split(q.Get("bbox"), ",")
	var nums [4]float64
	ok := len(parts) == 4
	for i := 0; ok && i < 4; i++ {
		n, err := strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
		nums[i], ok = n, err == nil
	}
	if !ok {
		fe.Add("bbox", "视野范围应为 西经,南纬,东经,北纬")
	}
	box = geo.Rect{Min: geo.Point{Lng: max(nums[0], -180), Lat: max(nums[1], -90)}, Max: geo.Point{Lng: min(nums[2], 180), Lat: min(nums[3], 90)}}
	zoom, err := strconv.Atoi(q.Get("zoom"))
	if err != nil {
		fe.Add("zoom", "缩放级别应为整数")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	counts := slices.Contains(commanders.roles, actor.Role)
	v, err := c.maps.View(r.Context(), actor, box, zoom, counts)
	if err != nil {
		return err
	}
	body, err := v.AppendGeoJSON(make([]byte, 0, 32<<10))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/geo+json; charset=utf-8")
	h.Set("Vary", "Accept-Encoding")
	if len(body) > 4<<10 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		gz.Write(body)
		return gz.Close()
	}
	w.Write(body)
	return nil
}

// mapHome answers /map/home with where the actor's map starts (the pin
// picker asks for it when opened).
func (c *Console) mapHome(w http.ResponseWriter, r *http.Request) error {
	b, ok, err := c.maps.Home(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := map[string]any{"tiles": c.tiles, "attribution": c.tilesAttribution}
	if ok {
		out["bounds"] = []float64{b.Min.Lng, b.Min.Lat, b.Max.Lng, b.Max.Lat}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	return json.NewEncoder(w).Encode(out)
}
