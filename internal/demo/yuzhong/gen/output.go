package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"strconv"
)

// csv renders regions.csv: the city, the district, the streets and the
// communities (no grids), with header code,name,level,parent_code.
func (t *tree) csv() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := [][]string{{"code", "name", "level", "parent_code"}}
	for _, r := range t.regions(false) {
		rows = append(rows, []string{r.Code, r.Name, r.Level, r.Parent})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// regions lists the regions in output order: city, district, streets,
// communities and, if grids, grids; each level by code.
func (t *tree) regions(grids bool) []*region {
	out := []*region{&t.City, &t.District}
	for k := range t.Streets {
		out = append(out, &t.Streets[k])
	}
	for k := range t.Communities {
		out = append(out, &t.Communities[k])
	}
	if grids {
		for k := range t.Grids {
			out = append(out, &t.Grids[k])
		}
	}
	return out
}

// geojsonGz renders the gzip'd GeoJSON FeatureCollection: one feature per
// line, one per region, with properties code, name, level and parent_code
// (null for the city, whose geometry is null). Polygons follow RFC 7946:
// outer rings counter-clockwise, holes clockwise, rings closed; coordinates
// have 6 decimals.
func (t *tree) geojsonGz() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"type":"FeatureCollection","features":[`)
	for k, r := range t.regions(true) {
		if k > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n{\"type\":\"Feature\",\"properties\":{")
		writeProp(&buf, "code", r.Code)
		buf.WriteByte(',')
		writeProp(&buf, "name", r.Name)
		buf.WriteByte(',')
		writeProp(&buf, "level", r.Level)
		buf.WriteByte(',')
		writeProp(&buf, "parent_code", r.Parent)
		buf.WriteString(`},"geometry":`)
		writeGeometry(&buf, r.Polys)
		buf.WriteByte('}')
	}
	buf.WriteString("\n]}\n")

	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return gz.Bytes(), nil
}

// writeProp writes "key":"value", or "key":null for an empty value.
func writeProp(buf *bytes.Buffer, key, value string) {
	k, _ := json.Marshal(key)
	buf.Write(k)
	buf.WriteByte(':')
	if value == "" {
		buf.WriteString("null")
		return
	}
	v, _ := json.Marshal(value)
	buf.Write(v)
}

// writeGeometry writes a Polygon, a MultiPolygon or null.
func writeGeometry(buf *bytes.Buffer, polys []polygon) {
	switch len(polys) {
	case 0:
		buf.WriteString("null")
		return
	case 1:
		buf.WriteString(`{"type":"Polygon","coordinates":`)
		writePolygon(buf, polys[0])
	default:
		buf.WriteString(`{"type":"MultiPolygon","coordinates":[`)
		for k, p := range polys {
			if k > 0 {
				buf.WriteByte(',')
			}
			writePolygon(buf, p)
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
}

// writePolygon writes the closed rings of one polygon.
func writePolygon(buf *bytes.Buffer, p polygon) {
	buf.WriteByte('[')
	for k, r := range p {
		if k > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('[')
		for i := 0; i <= len(r); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			q := r[i%len(r)]
			buf.WriteByte('[')
			writeMicro(buf, q.X)
			buf.WriteByte(',')
			writeMicro(buf, q.Y)
			buf.WriteByte(']')
		}
		buf.WriteByte(']')
	}
	buf.WriteByte(']')
}

// writeMicro writes micro-degrees v as degrees with 6 decimals.
func writeMicro(buf *bytes.Buffer, v int64) {
	if v < 0 {
		buf.WriteByte('-')
		v = -v
	}
	buf.WriteString(strconv.FormatInt(v/1e6, 10))
	buf.WriteByte('.')
	f := strconv.FormatInt(v%1e6, 10)
	for range 6 - len(f) {
		buf.WriteByte('0')
	}
	buf.WriteString(f)
}
