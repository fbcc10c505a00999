package region

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
)

func TestLevels(t *testing.T) {
	tests := []struct {
		l             Level
		rank          int
		child, parent Level
		label         string
	}{
		{City, 1, District, "", "市"},
		{District, 2, Street, City, "区(县)"},
		{Street, 3, Community, District, "街道(镇)"},
		{Community, 4, Grid, Street, "社区(村)"},
		{Grid, 5, "", Community, "网格"},
		{"province", 0, "", "", "province"},
	}
	for _, tt := range tests {
		if got := tt.l.Rank(); got != tt.rank {
			t.Errorf("%s.Rank() = %d, want %d", tt.l, got, tt.rank)
		}
		if got := tt.l.ChildLevel(); got != tt.child {
			t.Errorf("%s.ChildLevel() = %q, want %q", tt.l, got, tt.child)
		}
		if got := tt.l.ParentLevel(); got != tt.parent {
			t.Errorf("%s.ParentLevel() = %q, want %q", tt.l, got, tt.parent)
		}
		if got := tt.l.Label(); got != tt.label {
			t.Errorf("%s.Label() = %q, want %q", tt.l, got, tt.label)
		}
		if tt.l.Valid() != (tt.rank > 0) {
			t.Errorf("%s.Valid() wrong", tt.l)
		}
	}
	if got := AllLevels(); len(got) != 5 || got[0] != City || got[4] != Grid {
		t.Errorf("AllLevels() = %v", got)
	}
	parse := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"street", Street, true},
		{" Grid ", Grid, true},
		{"街道", Street, true},
		{"镇", Street, true},
		{"村", Community, true},
		{"区（县）", District, true},
		{"province", "", false},
		{"", "", false},
	}
	for _, tt := range parse {
		if got, ok := ParseLevel(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ParseLevel(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCodeProblem(t *testing.T) {
	tests := []struct {
		level Level
		code  string
		want  string // a fragment of the reason; "" means valid
	}{
		{City, "500000", ""},
		{City, "510100", ""}, // a prefecture-level city
		{District, "500103", ""},
		{District, "500229", ""}, // a county
		{Street, "500103001", ""},
		{Community, "500103001001", ""},
		{Grid, "500103001001001", ""},
		{City, "", "缺少区划代码"},
		{City, "50000a", "只能由数字组成"},
		{City, "５０００００", "只能由数字组成"}, // full-width digits
		{City, "50000", "应为 6 位数字，实际为 5 位"},
		{Street, "500103001000", "应为 9 位数字"},
		{City, "990000", "不是有效的省级代码"},
		{City, "500103", "应以 00 结尾"},
		{District, "500100", "不能是 00"},
		{Street, "500103000", "最后 3 位不能是 000"},
		{Community, "500103001000", "最后 3 位不能是 000"},
		{Grid, "500103001001000", "最后 3 位不能是 000"},
		{Street, "500100001", "前 6 位不是有效的区(县)代码"},
		{Grid, "500103000001001", "前 12 位不是有效的社区(村)代码：前 9 位"},
		{"town", "500103001", "级别未知"},
	}
	for _, tt := range tests {
		got := CodeProblem(tt.level, tt.code)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("CodeProblem(%s, %q) = %q, want %q", tt.level, tt.code, got, tt.want)
		}
	}
}

func TestParentProblem(t *testing.T) {
	tests := []struct {
		level       Level
		code        string
		parentLevel Level
		parentCode  string
		want        string
	}{
		{City, "500000", "", "", ""},
		{District, "500103", City, "500000", ""},
		{Street, "500103001", District, "500103", ""},
		{Grid, "500103001001001", Community, "500103001001", ""},
		{City, "500000", City, "510100", "不能有上级"},
		{District, "500103", "", "", "缺少上级"},
		{District, "500103", "", "500000", "不存在"},
		{District, "510104", City, "500000", "前两位应与所属市"},
		{Street, "500104001", District, "500103", "应以上级代码 500103 开头"},
		{Community, "500103001001", District, "500103", "上级 500103 是区(县)，而社区(村)的上级应是街道(镇)"},
	}
	for _, tt := range tests {
		got := ParentProblem(tt.level, tt.code, tt.parentLevel, tt.parentCode)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("ParentProblem(%s, %s, %s, %s) = %q, want %q", tt.level, tt.code, tt.parentLevel, tt.parentCode, got, tt.want)
		}
	}
}

func TestNameProblem(t *testing.T) {
	tests := []struct{ name, want string }{
		{"朝天门街道", ""},
		{"", "缺少名称"},
		{"   ", "缺少名称"},
		{" 解放碑", "首尾不能有空格"},
		{strings.Repeat("网", MaxNameLen+1), "名称过长"},
		{"=HYPERLINK(\"x\")", "不能以 = + - @ 开头"},
		{"a\x00b", "控制字符"},
		{"\xff\xfe", "UTF-8"},
	}
	for _, tt := range tests {
		got := NameProblem(tt.name)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("NameProblem(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	square := geo.MultiPolygon{{ring(106.5, 29.5, 106.6, 29.5, 106.6, 29.6, 106.5, 29.5)}}
	tests := []struct {
		name        string
		r           Region
		parentLevel Level
		fields      []string
	}{
		{"valid grid", Region{"500103001001001", "一号网格", Grid, "500103001001", square}, Community, nil},
		{"valid city", Region{"500000", "重庆市", City, "", nil}, "", nil},
		{"everything wrong", Region{"5001", "", "town", "", nil}, "", []string{"name", "level"}},
		{"bad code, parent at wrong level", Region{"5001", "x", Street, "500000", nil}, City, []string{"code", "parent_code"}},
		{"grid without shape", Region{"500103001001001", "一号网格", Grid, "500103001001", nil}, Community, []string{"shape"}},
		{"open ring", Region{"500103001", "街道", Street, "500103", geo.MultiPolygon{{square[0][0][:3]}}}, District, []string{"shape.coordinates[0][0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate(tt.parentLevel)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Kind != apperr.Invalid {
				t.Fatalf("got %v, want an Invalid *apperr.Error", err)
			}
			var got []string
			for _, f := range ae.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("fields %v, want %v (%v)", got, tt.fields, err)
			}
		})
	}
}

func TestRegionJSON(t *testing.T) {
	b, err := json.Marshal(Region{Code: "500000", Name: "重庆市", Level: City})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"code":"500000","name":"重庆市","level":"city","parent_code":""}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	in := Region{"500103001001001", "一号网格", Grid, "500103001001",
		geo.MultiPolygon{{ring(106.5, 29.5, 106.6, 29.5, 106.6, 29.6, 106.5, 29.5)}}}
	b, _ = json.Marshal(in)
	if !strings.Contains(string(b), `"shape":{"type":"Polygon"`) {
		t.Errorf("shape is not GeoJSON: %s", b)
	}
	var out Region
	if err := json.Unmarshal(b, &out); err != nil || out.Code != in.Code || len(out.Shape) != 1 {
		t.Errorf("round trip: %+v, %v", out, err)
	}
}

func TestPaths(t *testing.T) {
	if got := Path("", "500000"); got != "/500000/" {
		t.Errorf("Path root = %q", got)
	}
	if got := Path("/500000/", "500103"); got != "/500000/500103/" {
		t.Errorf("Path child = %q", got)
	}
	if got := PathCodes("/500000/500103/500103001/"); strings.Join(got, ",") != "500000,500103,500103001" {
		t.Errorf("PathCodes = %v", got)
	}
	if got := PathCodes("/"); got != nil {
		t.Errorf("PathCodes(/) = %v", got)
	}
	regions := []Region{
		{Code: "500103001001001", Level: Grid, ParentCode: "500103001001"},
		{Code: "500103001001", Level: Community, ParentCode: "500103001"},
		{Code: "500000", Level: City},
		{Code: "500103001", Level: Street, ParentCode: "500103"},
		{Code: "500103", Level: District, ParentCode: "500000"},
	}
	paths, err := BuildPaths(regions)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"500000":          "/500000/",
		"500103":          "/500000/500103/",
		"500103001":       "/500000/500103/500103001/",
		"500103001001":    "/500000/500103/500103001/500103001001/",
		"500103001001001": "/500000/500103/500103001/500103001001/500103001001001/",
	}
	for code, p := range want {
		if paths[code] != p {
			t.Errorf("path of %s = %q, want %q", code, paths[code], p)
		}
	}
	// A subtree query is a prefix match on the path.
	if !strings.HasPrefix(paths["500103001001001"], paths["500103"]) || strings.HasPrefix(paths["500103"], paths["500103001"]) {
		t.Error("paths do not nest")
	}
	bad := []struct {
		name    string
		regions []Region
		want    string
	}{
		{"missing parent", []Region{{Code: "500103", ParentCode: "500000"}}, "不存在"},
		{"duplicate", []Region{{Code: "500000"}, {Code: "500000"}}, "重复"},
		{"cycle", []Region{{Code: "a", ParentCode: "b"}, {Code: "b", ParentCode: "a"}}, "成环"},
		{"self", []Region{{Code: "a", ParentCode: "a"}}, "成环"},
	}
	for _, tt := range bad {
		_, err := BuildPaths(tt.regions)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

// ring builds a ring from lng, lat pairs.
func ring(coords ...float64) geo.Ring {
	r := make(geo.Ring, 0, len(coords)/2)
	for i := 0; i+1 < len(coords); i += 2 {
		r = append(r, geo.Point{Lng: coords[i], Lat: coords[i+1]})
	}
	return r
}
