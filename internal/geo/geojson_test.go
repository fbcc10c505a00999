package geo

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

const squareJSON = `{"type":"Polygon","coordinates":[[[106.5,29.5],[106.6,29.5],[106.6,29.6],[106.5,29.6],[106.5,29.5]]]}`

func TestDecodeGeometry(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		polygons int
		path     string // of the refusal; "" with reason "" means accepted
		reason   string // a fragment of the refusal
	}{
		{"polygon", squareJSON, 1, "", ""},
		{"polygon with hole and altitude", `{"type":"Polygon","coordinates":[[[0,0,5],[10,0,5],[10,10,5],[0,10,5],[0,0,5]],[[2,2],[3,2],[3,3],[2,2]]]}`, 1, "", ""},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}`, 2, "", ""},
		{"null", `null`, 0, "", ""},
		{"extra members ignored", `{"type":"Polygon","bbox":[0,0,1,1],"coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`, 1, "", ""},
		{"broken JSON", `{"type":"Polygon",`, 0, "", "不是有效的 JSON"},
		{"trailing data", squareJSON + `{}`, 0, "", "多余内容"},
		{"not an object", `[1,2]`, 0, "", "必须是 JSON 对象"},
		{"missing type", `{"coordinates":[]}`, 0, "type", "缺少几何类型"},
		{"type not a string", `{"type":7,"coordinates":[]}`, 0, "type", "必须是字符串"},
		{"point", `{"type":"Point","coordinates":[1,2]}`, 0, "type", "不支持的几何类型「Point」"},
		{"missing coordinates", `{"type":"Polygon"}`, 0, "coordinates", "缺少坐标"},
		{"coordinates not array", `{"type":"Polygon","coordinates":{}}`, 0, "coordinates", "环的数组"},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, 0, "coordinates", "至少需要一个外环"},
		{"no polygons", `{"type":"MultiPolygon","coordinates":[]}`, 0, "coordinates", "至少需要一个多边形"},
		{"ring not array", `{"type":"Polygon","coordinates":[5]}`, 0, "coordinates[0]", "环应为坐标数组"},
		{"too few points", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, 0, "coordinates[0]", "至少需要 4 个坐标"},
		{"open ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, 0, "coordinates[0]", "未闭合"},
		{"open hole", `{"type":"Polygon","coordinates":[[[0,0],[9,0],[9,9],[0,0]],[[1,1],[2,1],[2,2],[1,2]]]}`, 0, "coordinates[1]", "未闭合"},
		{"position not array", `{"type":"Polygon","coordinates":[[1,2,3,4]]}`, 0, "coordinates[0][0]", "[经度, 纬度] 数组"},
		{"position too short", `{"type":"Polygon","coordinates":[[[1],[1],[1],[1]]]}`, 0, "coordinates[0][0]", "实际有 1 个数"},
		{"position too long", `{"type":"Polygon","coordinates":[[[1,2,3,4],[1,2],[1,2],[1,2]]]}`, 0, "coordinates[0][0]", "实际有 4 个数"},
		{"string number", `{"type":"Polygon","coordinates":[[[0,0],["1",0],[1,1],[0,0]]]}`, 0, "coordinates[0][1]", "必须是数字"},
		{"null number", `{"type":"Polygon","coordinates":[[[0,0],[1,null],[1,1],[0,0]]]}`, 0, "coordinates[0][1]", "必须是数字"},
		{"huge number", `{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,0]]]}`, 0, "coordinates[0][1]", "数值过大"},
		{"longitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}`, 0, "coordinates[0][1]", "经度 181 超出"},
		{"latitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,-91],[0,0]]]}`, 0, "coordinates[0][2]", "纬度 -91 超出"},
		{"swapped lat/lng", `{"type":"MultiPolygon","coordinates":[[[[29.5,106.5],[29.6,106.5],[29.6,106.6],[29.5,106.5]]]]}`, 0, "coordinates[0][0][0]", "纬度 106.5 超出"},
		{"bad second polygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[]]}`, 0, "coordinates[1]", "至少需要一个外环"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, err := DecodeGeometry([]byte(tt.in))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(mp) != tt.polygons {
					t.Fatalf("got %d polygons, want %d", len(mp), tt.polygons)
				}
				return
			}
			var ge *GeometryError
			if !errors.As(err, &ge) {
				t.Fatalf("got %v, want a *GeometryError", err)
			}
			if ge.Path != tt.path || !strings.Contains(ge.Reason, tt.reason) {
				t.Fatalf("got %q at %q, want %q at %q", ge.Reason, ge.Path, tt.reason, tt.path)
			}
		})
	}
}

func TestEncodeGeometryRoundTrip(t *testing.T) {
	shapes := []MultiPolygon{
		{{sq(106.5, 29.5, 106.6, 29.6)}},
		{{sq(0, 0, 10, 10), sq(2, 2, 3, 3)}, {sq(-20.125, -10, -19, -9)}},
		{{sq(1e-9, -1e-7, 179.99999999999997, 89.123456789012345)}},
		SyntheticGrids(3, 1, chongqing)[2].Shape,
	}
	for _, mp := range shapes {
		b, err := EncodeGeometry(mp)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		back, err := DecodeGeometry(b)
		if err != nil {
			t.Fatalf("decoding %s: %v", b, err)
		}
		if !equalShapes(back, mp) {
			t.Fatalf("round trip changed the shape:\n%v\n%v", mp, back)
		}
	}
	// An open ring is closed on output.
	b, _ := EncodeGeometry(MultiPolygon{{Ring{{0, 0}, {1, 0}, {1, 1}}}})
	if want := `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	if b, _ := EncodeGeometry(nil); string(b) != "null" {
		t.Errorf("empty shape encodes as %s, want null", b)
	}
	if _, err := EncodeGeometry(MultiPolygon{{Ring{{0, 0}, {nan(), 0}, {1, 1}, {0, 0}}}}); err == nil {
		t.Error("NaN must not encode")
	}
}

func TestJSONMethods(t *testing.T) {
	type region struct {
		Shape MultiPolygon `json:"shape,omitempty"`
		Outer Polygon      `json:"outer,omitempty"`
	}
	in := region{Shape: MultiPolygon{{sq(0, 0, 1, 1)}, {sq(2, 2, 3, 3)}}, Outer: Polygon{sq(0, 0, 1, 1)}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out region
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if !equalShapes(out.Shape, in.Shape) || !equalShapes(MultiPolygon{out.Outer}, MultiPolygon{in.Outer}) {
		t.Fatalf("JSON round trip changed the shapes: %s", b)
	}
	if b, _ := json.Marshal(region{}); string(b) != "{}" {
		t.Errorf("empty shapes must be omitted, got %s", b)
	}
	var r region
	if err := json.Unmarshal([]byte(`{"outer":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}`), &r); err == nil {
		t.Error("a Polygon field must refuse a MultiPolygon")
	}
	if err := json.Unmarshal([]byte(`{"shape":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}`), &r); err == nil {
		t.Error("an invalid shape must be refused")
	}
	if err := json.Unmarshal([]byte(`{"shape":null}`), &r); err != nil || r.Shape != nil {
		t.Errorf("null shape: %v, %v", r.Shape, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mp   MultiPolygon
		path string
	}{
		{"valid", MultiPolygon{{sq(0, 0, 1, 1)}}, ""},
		{"empty", MultiPolygon{}, "coordinates"},
		{"empty polygon", MultiPolygon{{sq(0, 0, 1, 1)}, {}}, "coordinates[1]"},
		{"NaN", MultiPolygon{{Ring{{0, 0}, {1, nan()}, {1, 1}, {0, 0}}}}, "coordinates[0][0][1]"},
		{"open", MultiPolygon{{sq(0, 0, 1, 1), Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}}, "coordinates[0][1]"},
	}
	for _, tt := range tests {
		err := tt.mp.Validate()
		if tt.path == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var ge *GeometryError
		if !errors.As(err, &ge) || ge.Path != tt.path {
			t.Errorf("%s: got %v, want a refusal at %s", tt.name, err, tt.path)
		}
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func FuzzDecodeGeometry(f *testing.F) {
	f.Add([]byte(squareJSON))
	f.Add([]byte(`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,0]]]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[0,0,1],[1,0],[1,1],[0,0]],[]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		mp, err := DecodeGeometry(data)
		if err != nil {
			var ge *GeometryError
			if !errors.As(err, &ge) || ge.Reason == "" {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		if mp == nil {
			return
		}
		// Whatever is accepted is valid, encodes, and decodes to itself.
		if err := mp.Validate(); err != nil {
			t.Fatalf("accepted an invalid shape: %v", err)
		}
		b, err := EncodeGeometry(mp)
		if err != nil {
			t.Fatalf("cannot encode an accepted shape: %v", err)
		}
		back, err := DecodeGeometry(b)
		if err != nil || !equalShapes(back, mp) {
			t.Fatalf("round trip failed: %s: %v", b, err)
		}
		_ = mp.Contains(Point{0, 0})
		_ = mp.Area()
		_ = mp.Centroid()
		_ = Simplify(mp, 0.5).Validate()
	})
}

// TestAppendCoordinates checks the map's rounded coordinates: at most the
// decimals asked, trailing zeros and points dropped, open rings closed, and
// the exact form when decimals is negative.
func TestAppendCoordinates(t *testing.T) {
	mp := MultiPolygon{{{{106.5, 29.5}, {106.123456789, 29.5}, {106.1, 29.000001}}}}
	for _, tc := range []struct {
		decimals int
		want     string
	}{
		{3, `[[[[106.5,29.5],[106.123,29.5],[106.1,29],[106.5,29.5]]]]`},
		{0, `[[[[106,30],[106,30],[106,29],[106,30]]]]`},
		{-1, `[[[[106.5,29.5],[106.123456789,29.5],[106.1,29.000001],[106.5,29.5]]]]`},
	} {
		got, err := AppendCoordinates([]byte("x"), mp, tc.decimals)
		if err != nil || string(got) != "x"+tc.want {
			t.Errorf("decimals %d: %s %v, want x%s", tc.decimals, got, err, tc.want)
		}
	}
	if _, err := AppendCoordinates(nil, MultiPolygon{{{{math.NaN(), 0}, {1, 1}, {1, 0}}}}, 3); err == nil {
		t.Error("NaN encoded")
	}
}
