package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNoGridReportPlacedByHand plays the "no grid" path: a report whose
// point lies outside every grid is kept (never lost), flagged, shown to the
// district center, and placed by hand by a commander; a street commander
// cannot place it outside the street.
func TestNoGridReportPlacedByHand(t *testing.T) {
	body := map[string]any{
		"source": "hotline", "category": "MS03",
		"point":       map[string]float64{"lng": 106.40, "lat": 29.40}, // outside Yuzhong
		"address":     "位置不明，来电人描述为石油路附近",
		"description": "来电反映路边有暴露垃圾 (" + t.Name() + ")",
	}
	var c caseView
	mustJSON(t, as(t, "qu_zhihui", 201, "POST", "/api/v1/cases", body), &c)
	if c.GridCode != "" || c.State != "reported" {
		t.Fatalf("a point outside every grid must be kept with no grid: %+v", c)
	}
	_, steps := detail(t, "qu_zhihui", c.ID)
	if len(steps) != 1 || steps[0].Data["no_grid"] != true {
		t.Fatalf("the report step must say no grid: %+v", steps)
	}
	// Another point outside every grid is refused, and changes nothing.
	status, resp := call(t, token(t, "qu_zhihui"), "POST", "/api/v1/cases/"+c.ID+"/actions",
		map[string]any{"action": "place", "point": map[string]float64{"lng": 106.41, "lat": 29.41}})
	if status != 400 || !strings.Contains(string(resp), "不在任何网格内") {
		t.Fatalf("placing outside every grid: %d %s", status, resp)
	}
	// Without a point: the field is named.
	status, resp = call(t, token(t, "qu_zhihui"), "POST", "/api/v1/cases/"+c.ID+"/actions", map[string]any{"action": "place"})
	if status != 400 || !strings.Contains(string(resp), `"point"`) {
		t.Fatalf("placing without a point: %d %s", status, resp)
	}
	// The district commander places it in 周春燕's grid (石油路).
	grid, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	placed := act(t, "qu_zhihui", c.ID, map[string]any{"action": "place", "point": map[string]float64{"lng": p.Lng, "lat": p.Lat}})
	if placed.GridCode != grid {
		t.Fatalf("placed in %q, want %q", placed.GridCode, grid)
	}
	// Now the 石油路 street center owns it and lists it; 解放碑 does not.
	for _, who := range []struct {
		user string
		want bool
	}{{"syl_zhihui", true}, {"jfb_zhihui", false}} {
		raw := as(t, who.user, 200, "GET", "/api/v1/cases?grid="+grid+"&limit=500", nil)
		var list struct {
			Items []caseView `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range list.Items {
			found = found || it.ID == c.ID
		}
		if found != who.want {
			t.Errorf("%s lists the placed case: %v, want %v", who.user, found, who.want)
		}
	}
	// The 石油路 commander may accept it; the timeline records the place step.
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	_, steps = detail(t, "syl_zhihui", c.ID)
	if steps[1].Action != "place" || steps[1].Data["to_grid"] != grid {
		t.Fatalf("place step: %+v", steps[1])
	}
}
