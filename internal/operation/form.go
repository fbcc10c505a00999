package operation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"zhizhi/internal/geo"
)

// The plain-text forms of an area's shape and duty roster, for the
// console's planning form (a textarea each, so it works without the map's
// script): a shape is one vertex a line, "longitude,latitude", a blank
// line between polygons, each ring closed if it is not; or GeoJSON
// (a Polygon, a MultiPolygon, a Feature or a FeatureCollection of them).
// A roster is one person a line: "name,role,phone,unit".

// ShapeFromText reads a shape's text; "" is no shape. The error names
// the line or the GeoJSON problem, in Chinese.
func ShapeFromText(s string) (geo.MultiPolygon, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "{") {
		return ShapeFromGeoJSON([]byte(s))
	}
	var mp geo.MultiPolygon
	var ring geo.Ring
	flush := func() {
		if len(ring) == 0 {
			return
		}
		if ring[0] != ring[len(ring)-1] {
			ring = append(ring, ring[0])
		}
		mp = append(mp, geo.Polygon{ring})
		ring = nil
	}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush()
			continue
		}
		parts := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '\t' })
		if len(parts) != 2 {
			return nil, fmt.Errorf("第%d行应为“经度,纬度”", i+1)
		}
		lng, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		p := geo.Point{Lng: lng, Lat: lat}
		if err1 != nil || err2 != nil || !p.Valid() {
			return nil, fmt.Errorf("第%d行的经纬度无效", i+1)
		}
		ring = append(ring, p)
	}
	flush()
	return mp, nil
}

// ShapeFromGeoJSON reads a GeoJSON geometry, Feature or FeatureCollection
// (its features' polygons together) as a shape.
func ShapeFromGeoJSON(data []byte) (geo.MultiPolygon, error) {
	var head struct {
		Type     string            `json:"type"`
		Geometry json.RawMessage   `json:"geometry"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, errors.New("不是有效的 GeoJSON")
	}
	switch head.Type {
	case "Feature":
		if len(bytes.TrimSpace(head.Geometry)) == 0 || bytes.Equal(bytes.TrimSpace(head.Geometry), []byte("null")) {
			return nil, errors.New("要素没有几何对象")
		}
		return geo.DecodeGeometry(head.Geometry)
	case "FeatureCollection":
		var mp geo.MultiPolygon
		for i, f := range head.Features {
			part, err := ShapeFromGeoJSON(f)
			if err != nil {
				return nil, fmt.Errorf("第%d个要素：%w", i+1, err)
			}
			mp = append(mp, part...)
		}
		if len(mp) == 0 {
			return nil, errors.New("要素集合中没有多边形")
		}
		return mp, nil
	}
	return geo.DecodeGeometry(data)
}

// ShapeText is a shape as the form shows it: vertex lines when every
// polygon is one ring, GeoJSON when one has holes.
func ShapeText(mp geo.MultiPolygon) string {
	var b strings.Builder
	for i, poly := range mp {
		if len(poly) != 1 {
			j, err := geo.EncodeGeometry(mp)
			if err != nil {
				return ""
			}
			return string(j)
		}
		if i > 0 {
			b.WriteString("\n")
		}
		for _, p := range poly[0] {
			b.WriteString(strconv.FormatFloat(p.Lng, 'f', -1, 64) + "," + strconv.FormatFloat(p.Lat, 'f', -1, 64) + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// DutyFromText reads a roster: one person a line, "name,role,phone,unit"
// (commas, Chinese commas or tabs; the later ones may be left out). The
// fields are checked by Check.
func DutyFromText(s string) []Duty {
	var out []Duty
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(dutySep.Replace(strings.TrimSpace(line)), ",")
		var d Duty
		for i, p := range parts {
			p = strings.TrimSpace(p)
			switch i {
			case 0:
				d.Name = p
			case 1:
				d.Role = p
			case 2:
				d.Phone = p
			case 3:
				d.Unit = p
			default:
				d.Unit += "," + p // too many fields: the unit is checked and refused
			}
		}
		out = append(out, d)
	}
	return out
}

var dutySep = strings.NewReplacer("，", ",", "\t", ",")

// DutyText is a roster as the form shows it.
func DutyText(ds []Duty) string {
	lines := make([]string, 0, len(ds))
	for _, d := range ds {
		line := strings.TrimRight(strings.Join([]string{d.Name, d.Role, d.Phone, d.Unit}, ","), ",")
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
