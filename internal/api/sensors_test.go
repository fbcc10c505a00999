package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

var sensorSetup sync.Once

// sensorCategory is a demo category a rule may raise cases in: one without
// required questions.
func sensorCategory(t *testing.T) string {
	t.Helper()
	for _, c := range plat.Service.Categories() {
		required := false
		for _, q := range c.Questions {
			required = required || q.Required
		}
		if c.Active && !required {
			return c.Code
		}
	}
	t.Fatal("no category without required questions")
	return ""
}

// sensorWorld registers (once) the api-crowd kind, three counters in area
// api-jfb and a rule on the area, through the API as the district's
// administrator.
func sensorWorld(t *testing.T) {
	t.Helper()
	sensorSetup.Do(func() {
		as(t, "admin", 200, "PUT", "/api/v1/device-kinds/api-crowd", map[string]any{"name": "客流计数", "unit": "人", "min": 0, "max": 100000})
		csv := "id,kind,name,lng,lat,area\n" +
			"API-C1,api-crowd,解放碑东,106.5770,29.5570,api-jfb\n" +
			"API-C2,api-crowd,解放碑西,106.5760,29.5575,api-jfb\n" +
			"API-C3,api-crowd,解放碑南,106.5765,29.5565,api-jfb\n"
		st, out := callType(t, token(t, "admin"), "POST", "/api/v1/devices/import", "text/csv", csv)
		if st != 200 || !strings.Contains(string(out), `"imported":3`) {
			t.Fatalf("import: %d %s", st, out)
		}
		cat := sensorCategory(t)
		as(t, "admin", 200, "PUT", "/api/v1/sensor-rules/api-jfb", map[string]any{"name": "解放碑人流（API）", "type": "area_sum",
			"area": "api-jfb", "kind": "api-crowd", "raise": 1000, "clear": 800, "clear_minutes": 5, "category": cat, "severity": "critical", "active": true})
	})
}

func TestSensorAPI(t *testing.T) {
	sensorWorld(t)
	// Refusals name their fields and change nothing.
	if st, out := call(t, token(t, "admin"), "PUT", "/api/v1/device-kinds/bad", map[string]any{"name": "", "unit": "m", "min": 5, "max": 1}); st != 400 ||
		!strings.Contains(string(out), `"field":"name"`) || !strings.Contains(string(out), `"field":"max"`) {
		t.Errorf("bad kind: %d %s", st, out)
	}
	bad := "id,kind,lng,lat\nAPI-X1,nope,106.5,29.5\nAPI-X2,api-crowd,east,29.5\n"
	st, out := callType(t, token(t, "admin"), "POST", "/api/v1/devices/import", "text/csv", bad)
	if st != 400 || !strings.Contains(string(out), `"field":"rows[1].kind"`) || !strings.Contains(string(out), `"field":"rows[2].point"`) {
		t.Errorf("bad import: %d %s", st, out)
	}
	if st, _ := call(t, token(t, "admin"), "GET", "/api/v1/devices/API-X1", nil); st != 404 {
		t.Errorf("a refused import stored a device: %d", st)
	}
	if st, out := call(t, token(t, "admin"), "PUT", "/api/v1/sensor-rules/api-jfb", map[string]any{"name": "x", "type": "area_sum", "area": "api-jfb",
		"raise": 10, "clear": 5, "category": sensorCategory(t), "severity": "normal", "active": true}); st != 409 {
		t.Errorf("stale rule version: %d %s", st, out)
	}
	// A category with required questions cannot be a rule's.
	asked := ""
	for _, c := range plat.Service.Categories() {
		for _, q := range c.Questions {
			if q.Required && asked == "" {
				asked = c.Code
			}
		}
	}
	if st, out := call(t, token(t, "admin"), "PUT", "/api/v1/sensor-rules/api-q", map[string]any{"name": "x", "type": "silence", "kind": "api-crowd",
		"silent_minutes": 5, "category": asked, "severity": "normal"}); asked != "" && (st != 400 || !strings.Contains(string(out), `"field":"category"`)) {
		t.Errorf("rule in a category with required questions: %d %s", st, out)
	}
	// Only a district-wide administrator posts readings.
	if st, _ := call(t, token(t, "jfb_zhihui"), "POST", "/api/v1/readings", `[]`); st != 403 {
		t.Errorf("commander posted readings: %d", st)
	}
	if st, out := call(t, token(t, "admin"), "POST", "/api/v1/readings", `{"device":"API-C1"}`); st != 400 {
		t.Errorf("not an array: %d %s", st, out)
	}

	now := plat.Service.Now()
	post := func(body string) string {
		t.Helper()
		return string(as(t, "admin", 200, "POST", "/api/v1/readings", body))
	}
	r := func(dev string, v float64, d time.Duration) string {
		return fmt.Sprintf(`{"device":%q,"kind":"api-crowd","value":%v,"at":%d}`, dev, v, now.Add(d).UnixMilli())
	}
	got := post("[" + strings.Join([]string{
		r("API-C1", 400, 0), r("API-NONE", 1, 0), r("API-C2", -3, 0), `{"device":"API-C2","kind":"api-crowd","value":"many","at":1}`,
		fmt.Sprintf(`{"device":"API-C3","kind":"api-crowd","value":1,"at":%q}`, now.Add(time.Hour).Format(time.RFC3339)),
	}, ",") + "]")
	if !strings.Contains(got, `"problems":["","unknown_device","out_of_range","malformed","future"]`) || !strings.Contains(got, `"accepted":1`) {
		t.Errorf("problems: %s", got)
	}
	post("[" + r("API-C2", 400, time.Second) + "," + r("API-C3", 300, 2*time.Second) + "]")
	// The redelivery is a replay.
	if got := post("[" + r("API-C3", 300, 2*time.Second) + "]"); !strings.Contains(got, `"problems":["replayed"]`) {
		t.Errorf("redelivery: %s", got)
	}
	var inc struct {
		Items []struct {
			ID       string `json:"id"`
			State    string `json:"state"`
			Incident struct {
				Rule   string  `json:"rule"`
				Value  float64 `json:"value"`
				CaseID string  `json:"case_id"`
			} `json:"incident"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "jfb_zhihui", 200, "GET", "/api/v1/incidents?state=open&rule=api-jfb", nil), &inc)
	if len(inc.Items) != 1 || inc.Items[0].Incident.Value != 1100 || inc.Items[0].Incident.CaseID == "" {
		t.Fatalf("incidents: %+v", inc)
	}
	c := string(as(t, "admin", 200, "GET", "/api/v1/cases/"+inc.Items[0].Incident.CaseID, nil))
	if !strings.Contains(c, `"source":"sensor"`) || !strings.Contains(c, "区域api-jfb合计1100人") {
		t.Errorf("case: %s", c)
	}
	// Listings and the device page.
	var devs struct {
		Items []struct {
			ID        string  `json:"id"`
			LastValue float64 `json:"last_value"`
		} `json:"items"`
		Next string `json:"next"`
	}
	mustJSON(t, as(t, "jfb_zhihui", 200, "GET", "/api/v1/devices?area=api-jfb&limit=2", nil), &devs)
	if len(devs.Items) != 2 || devs.Items[0].ID != "API-C1" || devs.Items[0].LastValue != 400 || devs.Next != "API-C2" {
		t.Errorf("devices: %+v", devs)
	}
	if st, _ := call(t, token(t, "jfb_zhihui"), "GET", "/api/v1/devices?limit=0", nil); st != 400 {
		t.Errorf("limit 0: %d", st)
	}
	page := string(as(t, "jfb_zhihui", 200, "GET", "/api/v1/devices/API-C2?grain=m", nil))
	if !strings.Contains(page, `"problem":"out_of_range"`) || !strings.Contains(page, `"avg":400`) {
		t.Errorf("device page: %s", page)
	}
	if st, _ := call(t, token(t, "jfb_zhihui"), "GET", "/api/v1/devices/API-C2?grain=y", nil); st != 400 {
		t.Errorf("bad grain: %d", st)
	}
	if !strings.Contains(string(as(t, "jfb_zhihui", 200, "GET", "/api/v1/device-kinds", nil)), `"code":"api-crowd"`) {
		t.Error("kind not listed")
	}
	if !strings.Contains(string(as(t, "jfb_zhihui", 200, "GET", "/api/v1/sensor-rules", nil)), `"id":"api-jfb"`) {
		t.Error("rule not listed")
	}
	if v := string(as(t, "jfb_zhihui", 200, "GET", "/api/v1/sensor-rules/api-jfb/versions", nil)); !strings.Contains(v, `"version":1`) {
		t.Errorf("versions: %s", v)
	}
	if st, _ := call(t, token(t, "jfb_zhihui"), "GET", "/api/v1/sensor-rules/nope/versions", nil); st != http.StatusNotFound {
		t.Errorf("versions of no rule: %d", st)
	}
}
