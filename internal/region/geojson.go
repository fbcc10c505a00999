package region

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"zhizhi/internal/geo"
)

// ParseGeoJSON reads regions from a GeoJSON FeatureCollection. Each feature
// carries properties code, name, level and parent_code (parent is accepted
// as an alias; codes may be strings or integers) and a Polygon or
// MultiPolygon geometry, which may be null except for a grid.
//
// existing reports whether a code is already stored, and at which level, so
// that a file may hang new regions under stored parents; it may be nil. A
// code that is already stored at the same level is an update; at another
// level it is refused.
//
// Every problem found is returned in one *ImportError and then no region is
// returned at all. The file is read as a stream, one feature at a time, so
// memory grows with the regions kept, not with the JSON text. An error from
// r itself (such as the caller's size limit) is returned as it is.
// On success the regions come sorted parents first (see SortParentsFirst).
func ParseGeoJSON(r io.Reader, existing func(code string) (Level, bool)) ([]Region, error) {
	c := &collector{format: FormatGeoJSON}
	rows, err := readFeatures(r, c)
	if err != nil {
		return nil, err
	}
	return finish(rows, existing, c, "个要素")
}

// readFeatures walks the FeatureCollection and reads each feature into a row.
// It stops at the first JSON syntax error, which it records as a problem;
// other read errors are returned.
func readFeatures(r io.Reader, c *collector) ([]row, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber() // codes written as numbers keep their exact digits
	var rows []row
	// fail records a decoding error at feature n (0 for the file); it
	// returns the error to pass up when it is not about the JSON itself.
	fail := func(err error, n int) error {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			c.addf(n, "", "JSON 格式错误（第 %d 字节附近），无法继续读取", se.Offset)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			c.add(n, "", "文件不完整：JSON 意外结束")
		default:
			return err
		}
		return nil
	}
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		c.add(0, "", "文件为空")
		return nil, nil
	}
	if err != nil {
		return nil, fail(err, 0)
	}
	if tok != json.Delim('{') {
		c.add(0, "", "文件应为一个 GeoJSON FeatureCollection 对象")
		return nil, nil
	}
	sawType, sawFeatures, featureArray := false, false, false
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err, 0)
		}
		key, _ := tok.(string)
		switch key {
		case "type":
			sawType = true
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, fail(err, 0)
			}
			if v != "FeatureCollection" {
				c.addf(0, "type", "文件类型应为 FeatureCollection，实际是%s", describe(v))
			}
		case "features":
			sawFeatures = true
			tok, err := dec.Token()
			if err != nil {
				return nil, fail(err, 0)
			}
			if tok != json.Delim('[') {
				c.add(0, "features", "features 应为数组")
				if err := skipRest(dec, tok); err != nil {
					return nil, fail(err, 0)
				}
				continue
			}
			featureArray = true
			for dec.More() {
				n++
				if n > MaxRegions {
					c.addf(0, "features", "要素过多，一个文件最多 %d 个", MaxRegions)
					return nil, nil
				}
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil, fail(err, n)
				}
				rows = append(rows, readFeature(raw, n, c))
			}
			if _, err := dec.Token(); err != nil { // ]
				return nil, fail(err, n)
			}
		default:
			// Other members (crs, name, bbox) carry nothing we keep.
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fail(err, 0)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, fail(err, 0)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var se *json.SyntaxError
		if err != nil && !errors.As(err, &se) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, err
		}
		c.add(0, "", "JSON 对象结束后还有多余内容")
	}
	if !sawType {
		c.add(0, "type", "缺少 type，应为 FeatureCollection")
	}
	if !sawFeatures {
		c.add(0, "features", "缺少 features 数组")
	} else if featureArray && n == 0 {
		c.add(0, "features", "文件中没有任何要素")
	}
	return rows, nil
}

// skipRest consumes the rest of a value whose first token was tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	depth := 0
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		depth = 1
	}
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// describe names a decoded JSON value for a message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return " null"
	case string:
		return "「" + truncate(v, 30) + "」"
	default:
		return "非字符串的值"
	}
}

// readFeature reads one feature into a row, recording what is wrong with
// the feature in itself: its type, properties and geometry.
func readFeature(raw json.RawMessage, n int, c *collector) row {
	r := row{
		n:           n,
		codeField:   "properties.code",
		nameField:   "properties.name",
		levelField:  "properties.level",
		parentField: "properties.parent_code",
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		c.add(n, "", "要素应为 JSON 对象")
		return r
	}
	var typ any
	if err := json.Unmarshal(obj["type"], &typ); err != nil || typ != "Feature" {
		c.add(n, "type", "要素的 type 应为 Feature")
	}
	// The geometry is checked even when the properties are broken, so that
	// one pass over the file reports both.
	shape, shapeErr := decodeShape(obj["geometry"])
	if shapeErr != nil {
		field := "geometry"
		if shapeErr.Path != "" {
			field += "." + shapeErr.Path
		}
		c.add(n, field, shapeErr.Reason)
	}
	rawProps, ok := obj["properties"]
	if !ok || bytes.Equal(bytes.TrimSpace(rawProps), []byte("null")) {
		c.add(n, "properties", "缺少 properties（应含 code、name、level、parent_code）")
		return r
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(rawProps, &props); err != nil {
		c.add(n, "properties", "properties 应为 JSON 对象")
		return r
	}
	r.usable = true
	text := func(key string, m members) (string, bool) {
		v, present, problem := jsonText(props[key])
		if problem != "" {
			c.add(n, "properties."+key, problem)
			r.unreadable |= m
		}
		return strings.TrimSpace(v), present
	}
	r.region.Code, _ = text("code", memberCode)
	r.region.Name, _ = text("name", memberName)
	levelRaw, _ := text("level", memberLevel)
	parent, hasParent := text("parent_code", memberParent)
	if alias, hasAlias := text("parent", memberParent); hasAlias {
		switch {
		case !hasParent:
			parent = alias
			r.parentField = "properties.parent"
		case alias != parent:
			c.add(n, "properties.parent", "parent 与 parent_code 不一致")
			r.unreadable |= memberParent
		}
	}
	r.region.ParentCode = parent
	if r.unreadable&memberLevel == 0 {
		if p := levelProblem(levelRaw); p != "" {
			c.add(n, r.levelField, p)
		} else {
			r.region.Level, _ = ParseLevel(levelRaw)
		}
	}
	if shapeErr == nil {
		r.region.Shape = shape
		if field, reason := shapeProblem(r.region.Level, shape, "geometry"); reason != "" {
			c.add(n, field, reason)
		}
	}
	return r
}

func decodeShape(raw json.RawMessage) (geo.MultiPolygon, *geo.GeometryError) {
	if len(raw) == 0 {
		return nil, nil // no geometry member: treated as null
	}
	mp, err := geo.DecodeGeometry(raw)
	if err != nil {
		var ge *geo.GeometryError
		if errors.As(err, &ge) {
			return nil, ge
		}
		return nil, &geo.GeometryError{Reason: err.Error()}
	}
	return mp, nil
}

// jsonText reads a property that should be text. Integers are accepted as
// their digits, because tools that export shapefiles often turn codes into
// numbers. null and absence read as "" with present false.
func jsonText(raw json.RawMessage) (s string, present bool, problem string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", false, ""
	}
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", true, "应为字符串"
		}
		return s, true, ""
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		for _, b := range raw {
			if b < '0' || b > '9' {
				return "", true, "应为字符串（数字形式的代码只能是整数）"
			}
		}
		return string(raw), true, ""
	default:
		return "", true, "应为字符串"
	}
}

// WriteGeoJSON writes regions as a FeatureCollection that ParseGeoJSON reads
// back: one feature per line, properties code, name, level and parent_code
// (left out for a city), and the shape as a Polygon or MultiPolygon, or null.
func WriteGeoJSON(w io.Writer, regions []Region) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	type properties struct {
		Code       string `json:"code"`
		Name       string `json:"name"`
		Level      Level  `json:"level"`
		ParentCode string `json:"parent_code,omitempty"`
	}
	for i, r := range regions {
		if i > 0 {
			bw.WriteByte(',')
		}
		props, err := json.Marshal(properties{r.Code, r.Name, r.Level, r.ParentCode})
		if err != nil {
			return err
		}
		geom, err := geo.EncodeGeometry(r.Shape)
		if err != nil {
			return fmt.Errorf("region %s: %w", r.Code, err)
		}
		bw.WriteString("\n{\"type\":\"Feature\",\"properties\":")
		bw.Write(props)
		bw.WriteString(",\"geometry\":")
		bw.Write(geom)
		bw.WriteByte('}')
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}
