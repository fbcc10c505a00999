package operation

import (
	"reflect"
	"strings"
	"testing"

	"zhizhi/internal/geo"
)

func TestShapeFromText(t *testing.T) {
	sq := square(106.57, 29.55, 0.003)
	for _, tc := range []struct {
		name, in string
		want     geo.MultiPolygon
		err      string
	}{
		{"empty", "  \n", nil, ""},
		{"closed", "106.57,29.55\n106.573,29.55\n106.573,29.553\n106.57,29.553\n106.57,29.55", sq, ""},
		{"closed for you", "106.57,29.55\n106.573,29.55\n106.573,29.553\n106.57,29.553", sq, ""},
		{"spaces and Chinese commas", " 106.57 29.55\n106.573，29.55\n106.573\t29.553\n106.57,29.553\n", sq, ""},
		{"two polygons", "106.57,29.55\n106.573,29.55\n106.573,29.553\n106.57,29.553\n\n\n106.57,29.55\n106.573,29.55\n106.573,29.553\n106.57,29.553",
			append(append(geo.MultiPolygon{}, sq...), sq...), ""},
		{"GeoJSON polygon", `{"type":"Polygon","coordinates":[[[106.57,29.55],[106.573,29.55],[106.573,29.553],[106.57,29.553],[106.57,29.55]]]}`, sq, ""},
		{"GeoJSON feature", `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[106.57,29.55],[106.573,29.55],[106.573,29.553],[106.57,29.553],[106.57,29.55]]]}}`, sq, ""},
		{"GeoJSON collection", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[106.57,29.55],[106.573,29.55],[106.573,29.553],[106.57,29.553],[106.57,29.55]]]}}]}`, sq, ""},
		{"a point", `{"type":"Point","coordinates":[106.57,29.55]}`, nil, "Point"},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, nil, "没有多边形"},
		{"feature without geometry", `{"type":"Feature","geometry":null}`, nil, "没有几何"},
		{"bad JSON", `{"type":`, nil, "GeoJSON"},
		{"one number", "106.57,29.55\n106.573\n106.573,29.553", nil, "第2行"},
		{"not a number", "106.57,29.55\nabc,29.55", nil, "第2行"},
		{"off the earth", "106.57,29.55\n206.57,29.55", nil, "第2行"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ShapeFromText(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestShapeTextRoundTrip(t *testing.T) {
	sq := square(106.57, 29.55, 0.003)
	two := append(append(geo.MultiPolygon{}, sq...), square(106.58, 29.56, 0.001)...)
	holed := geo.MultiPolygon{{sq[0][0], square(106.571, 29.551, 0.001)[0][0]}}
	for _, mp := range []geo.MultiPolygon{sq, two, holed} {
		text := ShapeText(mp)
		got, err := ShapeFromText(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if !reflect.DeepEqual(got, mp) {
			t.Errorf("%q read back as %v, want %v", text, got, mp)
		}
	}
	if s := ShapeText(holed); !strings.HasPrefix(s, "{") {
		t.Errorf("a polygon with a hole is shown as %q, want GeoJSON", s)
	}
	if s := ShapeText(sq); strings.HasPrefix(s, "{") || strings.Count(s, "\n") != 4 {
		t.Errorf("a square is shown as %q, want five vertex lines", s)
	}
}

func TestDutyText(t *testing.T) {
	got := DutyFromText("刘建国,现场指挥（公安）,023-63751110,ga\n\n王敏，街道带班领导\n  陈晓峰\t保洁\t13800000000\n")
	want := []Duty{{Name: "刘建国", Role: "现场指挥（公安）", Phone: "023-63751110", Unit: "ga"}, {Name: "王敏", Role: "街道带班领导"},
		{Name: "陈晓峰", Role: "保洁", Phone: "13800000000"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if back := DutyFromText(DutyText(want)); !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: %+v", back)
	}
	if d := DutyFromText("甲,乙,1,ga,extra"); d[0].Unit != "ga,extra" {
		t.Errorf("a fifth field: unit %q, want it kept for the unit check to refuse", d[0].Unit)
	}
	if d := DutyFromText(",保洁,138"); d[0].Name != "" || d[0].Role != "保洁" {
		t.Errorf("a line without a name: %+v, want the role kept in its place", d[0])
	}
	if DutyFromText(" \n ") != nil {
		t.Error("a blank roster is someone")
	}
}
