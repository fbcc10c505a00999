package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// GeometryError says why a geometry was refused. Path locates the offending
// part relative to the geometry object, in the document's own layout (for
// example "coordinates[0][3]" is the fourth position of the outer ring of a
// Polygon), so an importer can prefix it with the feature's path. Reason is
// user-facing Chinese.
type GeometryError struct {
	Path   string
	Reason string
}

// Error implements error.
func (e *GeometryError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + "：" + e.Reason
}

func geomErr(path, format string, args ...any) *GeometryError {
	return &GeometryError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// DecodeGeometry decodes a GeoJSON geometry object of type Polygon or
// MultiPolygon ([lng, lat] positions; an optional third number, altitude,
// is ignored) and validates it: every ring has at least 4 positions and is
// closed, every number is finite and in range. A Polygon comes back as a
// MultiPolygon of one. JSON null decodes to a nil MultiPolygon and no error,
// so each caller decides whether a missing shape is acceptable.
//
// A refusal is a *GeometryError naming the first problem found; one is
// enough for the person fixing the file and avoids a flood of messages from
// one bad geometry.
func DecodeGeometry(data []byte) (MultiPolygon, error) {
	mp, _, err := decodeGeometry(data)
	return mp, err
}

// decodeGeometry is DecodeGeometry that also returns the geometry's type.
func decodeGeometry(data []byte) (MultiPolygon, string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keeps huge numbers as text so they can be refused in Chinese
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "", geomErr("", "几何对象不是有效的 JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", geomErr("", "几何对象之后还有多余内容")
	}
	if v == nil {
		return nil, "", nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "", geomErr("", "几何对象必须是 JSON 对象")
	}
	rawType, ok := obj["type"]
	if !ok {
		return nil, "", geomErr("type", "缺少几何类型")
	}
	typ, _ := rawType.(string)
	coords, hasCoords := obj["coordinates"]
	switch typ {
	case "Polygon":
		if !hasCoords {
			return nil, "", geomErr("coordinates", "缺少坐标")
		}
		poly, err := decodePolygon(coords, "coordinates")
		if err != nil {
			return nil, "", err
		}
		return MultiPolygon{poly}, typ, nil
	case "MultiPolygon":
		if !hasCoords {
			return nil, "", geomErr("coordinates", "缺少坐标")
		}
		list, ok := coords.([]any)
		if !ok {
			return nil, "", geomErr("coordinates", "应为多边形数组")
		}
		if len(list) == 0 {
			return nil, "", geomErr("coordinates", "多重多边形至少需要一个多边形")
		}
		mp := make(MultiPolygon, len(list))
		for i, pv := range list {
			poly, err := decodePolygon(pv, fmt.Sprintf("coordinates[%d]", i))
			if err != nil {
				return nil, "", err
			}
			mp[i] = poly
		}
		return mp, typ, nil
	default:
		if s, isString := rawType.(string); isString {
			return nil, "", geomErr("type", "不支持的几何类型「%s」，只接受 Polygon 或 MultiPolygon", truncate(s, 40))
		}
		return nil, "", geomErr("type", "几何类型必须是字符串 Polygon 或 MultiPolygon")
	}
}

// truncate keeps echoed input short in messages.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func decodePolygon(v any, path string) (Polygon, *GeometryError) {
	list, ok := v.([]any)
	if !ok {
		return nil, geomErr(path, "多边形应为环的数组")
	}
	if len(list) == 0 {
		return nil, geomErr(path, "多边形至少需要一个外环")
	}
	poly := make(Polygon, len(list))
	for i, rv := range list {
		rpath := fmt.Sprintf("%s[%d]", path, i)
		ring, err := decodeRing(rv, rpath)
		if err != nil {
			return nil, err
		}
		if k, reason := ringProblem(ring); reason != "" {
			if k >= 0 {
				rpath = fmt.Sprintf("%s[%d]", rpath, k)
			}
			return nil, &GeometryError{Path: rpath, Reason: reason}
		}
		poly[i] = ring
	}
	return poly, nil
}

func decodeRing(v any, path string) (Ring, *GeometryError) {
	list, ok := v.([]any)
	if !ok {
		return nil, geomErr(path, "环应为坐标数组")
	}
	ring := make(Ring, len(list))
	for k, pv := range list {
		ppath := fmt.Sprintf("%s[%d]", path, k)
		pos, ok := pv.([]any)
		if !ok {
			return nil, geomErr(ppath, "坐标应为 [经度, 纬度] 数组")
		}
		if len(pos) < 2 || len(pos) > 3 {
			return nil, geomErr(ppath, "坐标应为 [经度, 纬度]，实际有 %d 个数", len(pos))
		}
		var xy [2]float64
		for c := range pos {
			num, ok := pos[c].(json.Number)
			if !ok {
				return nil, geomErr(ppath, "坐标必须是数字")
			}
			f, err := strconv.ParseFloat(string(num), 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, geomErr(ppath, "坐标数值过大")
			}
			if c < 2 {
				xy[c] = f
			}
		}
		ring[k] = Point{Lng: xy[0], Lat: xy[1]}
	}
	return ring, nil
}

// ringProblem returns why ring is not a valid GeoJSON linear ring, with the
// index of the offending position or -1 when the ring as a whole is wrong;
// the reason is "" for a valid ring.
func ringProblem(ring Ring) (int, string) {
	for k, p := range ring {
		switch {
		case math.IsNaN(p.Lng) || math.IsNaN(p.Lat) || math.IsInf(p.Lng, 0) || math.IsInf(p.Lat, 0):
			return k, "坐标不是有限数"
		case p.Lng < -180 || p.Lng > 180:
			return k, fmt.Sprintf("经度 %s 超出 [-180, 180] 范围", fmtNum(p.Lng))
		case p.Lat < -90 || p.Lat > 90:
			return k, fmt.Sprintf("纬度 %s 超出 [-90, 90] 范围", fmtNum(p.Lat))
		}
	}
	if len(ring) < 4 {
		return -1, fmt.Sprintf("环至少需要 4 个坐标（首尾相同），实际只有 %d 个", len(ring))
	}
	if ring[0] != ring[len(ring)-1] {
		return -1, "环未闭合：最后一个坐标必须与第一个相同"
	}
	return -1, ""
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', 10, 64) }

// Validate checks mp by the rules DecodeGeometry applies, for shapes that
// arrive by other routes than GeoJSON. Paths are given as if mp were encoded
// as a MultiPolygon. An empty mp is refused: a shape, when present, must have
// area to place points in.
func (mp MultiPolygon) Validate() error {
	if len(mp) == 0 {
		return geomErr("coordinates", "多重多边形至少需要一个多边形")
	}
	for i, poly := range mp {
		if len(poly) == 0 {
			return geomErr(fmt.Sprintf("coordinates[%d]", i), "多边形至少需要一个外环")
		}
		for j, ring := range poly {
			if k, reason := ringProblem(ring); reason != "" {
				path := fmt.Sprintf("coordinates[%d][%d]", i, j)
				if k >= 0 {
					path = fmt.Sprintf("%s[%d]", path, k)
				}
				return &GeometryError{Path: path, Reason: reason}
			}
		}
	}
	return nil
}

// EncodeGeometry encodes mp as a GeoJSON geometry: a Polygon when it has one
// polygon, a MultiPolygon otherwise, and null when it is empty. Rings that
// are not closed are closed on output, as GeoJSON requires. Non-finite
// coordinates cannot be written in JSON and are an error.
func EncodeGeometry(mp MultiPolygon) ([]byte, error) {
	if len(mp) == 0 {
		return []byte("null"), nil
	}
	if len(mp) == 1 {
		return appendPolygonGeometry(nil, mp[0])
	}
	b, err := AppendCoordinates([]byte(`{"type":"MultiPolygon","coordinates":`), mp, -1)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// AppendCoordinates appends the "coordinates" array of mp as a GeoJSON
// MultiPolygon: with at most decimals digits after the point (trailing zeros
// dropped; a map at a given zoom needs no more), or the shortest form that
// decodes to the same float64 when decimals is negative. Rings that are not
// closed are closed.
func AppendCoordinates(b []byte, mp MultiPolygon, decimals int) ([]byte, error) {
	b = append(b, '[')
	for i, poly := range mp {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendPolygonCoords(b, poly, decimals); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func appendPolygonGeometry(b []byte, poly Polygon) ([]byte, error) {
	b = append(b, `{"type":"Polygon","coordinates":`...)
	b, err := appendPolygonCoords(b, poly, -1)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendPolygonCoords(b []byte, poly Polygon, decimals int) ([]byte, error) {
	b = append(b, '[')
	for j, ring := range poly {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for k, p := range ring {
			if k > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendPosition(b, p, decimals); err != nil {
				return nil, err
			}
		}
		if len(ring) > 0 && ring[0] != ring[len(ring)-1] {
			b = append(b, ',')
			b, _ = appendPosition(b, ring[0], decimals)
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

func appendPosition(b []byte, p Point, decimals int) ([]byte, error) {
	b = append(b, '[')
	b, err := appendFloat(b, p.Lng, decimals)
	if err != nil {
		return nil, err
	}
	b = append(b, ',')
	if b, err = appendFloat(b, p.Lat, decimals); err != nil {
		return nil, err
	}
	return append(b, ']'), nil
}

// appendFloat writes f with at most decimals digits after the point
// (trailing zeros dropped), or, when decimals is negative, the shortest
// decimal that round-trips, switching to an exponent for very small or large
// magnitudes as encoding/json does.
func appendFloat(b []byte, f float64, decimals int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, geomErr("", "坐标不是有限数，无法编码")
	}
	if decimals >= 0 {
		start := len(b)
		b = strconv.AppendFloat(b, f, 'f', decimals, 64)
		if bytes.IndexByte(b[start:], '.') >= 0 {
			b = bytes.TrimRight(b, "0")
			b = bytes.TrimSuffix(b, []byte("."))
		}
		return b, nil
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64), nil
}

// MarshalJSON encodes mp as a GeoJSON geometry (see EncodeGeometry), so that
// shapes in API responses can be handed straight to a map library.
func (mp MultiPolygon) MarshalJSON() ([]byte, error) { return EncodeGeometry(mp) }

// UnmarshalJSON decodes and validates a GeoJSON Polygon or MultiPolygon
// geometry (see DecodeGeometry).
func (mp *MultiPolygon) UnmarshalJSON(data []byte) error {
	v, err := DecodeGeometry(data)
	if err != nil {
		return err
	}
	*mp = v
	return nil
}

// MarshalJSON encodes poly as a GeoJSON Polygon geometry, or null when it
// has no rings.
func (poly Polygon) MarshalJSON() ([]byte, error) {
	if len(poly) == 0 {
		return []byte("null"), nil
	}
	return appendPolygonGeometry(nil, poly)
}

// UnmarshalJSON decodes and validates a GeoJSON Polygon geometry; a
// MultiPolygon is refused because it cannot be held without losing parts.
func (poly *Polygon) UnmarshalJSON(data []byte) error {
	mp, typ, err := decodeGeometry(data)
	if err != nil {
		return err
	}
	switch {
	case mp == nil:
		*poly = nil
	case typ == "Polygon":
		*poly = mp[0]
	default:
		return geomErr("type", "此处只接受 Polygon，不接受 MultiPolygon")
	}
	return nil
}
