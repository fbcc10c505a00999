package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

var importRuns atomic.Int64

func regionCount(t *testing.T) int {
	t.Helper()
	var out struct {
		Items []json.RawMessage `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/regions", nil), &out)
	return len(out.Items)
}

// importAs posts a region file as the admin.
func importAs(t *testing.T, ctype, body string) (int, []byte) {
	t.Helper()
	return callType(t, token(t, "admin"), "POST", "/api/v1/regions/import", ctype, body)
}

func TestRegionImport(t *testing.T) {
	before := regionCount(t)

	t.Run("broken geojson", func(t *testing.T) {
		const doc = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"50010301409X","name":"坏代码社区","level":"community","parent_code":"500103014"},"geometry":null},
 {"type":"Feature","properties":{"code":"500103014097","name":"无上级社区","level":"community"},"geometry":null},
 {"type":"Feature","properties":{"code":"500103014010097","name":"开环网格","level":"grid","parent_code":"500103014010"},
  "geometry":{"type":"Polygon","coordinates":[[[106.53,29.55],[106.531,29.55],[106.531,29.551],[106.53,29.551]]]}},
 {"type":"Feature","properties":{"code":"500103014096","name":"好社区","level":"community","parent_code":"500103014"},"geometry":null}
]}`
		st, body := importAs(t, "application/geo+json", doc)
		if st != http.StatusBadRequest {
			t.Fatalf("status %d: %s", st, body)
		}
		for _, w := range []string{`"field":"features[0].properties.code"`, `"field":"features[1].properties.parent_code"`, `"field":"features[2].geometry.coordinates[0]"`, "环未闭合", "未导入任何数据"} {
			if !strings.Contains(string(body), w) {
				t.Errorf("answer lacks %q: %s", w, body)
			}
		}
		if strings.Contains(string(body), `features[3]`) {
			t.Errorf("the good feature is reported as a problem: %s", body)
		}
		if n := regionCount(t); n != before {
			t.Errorf("region count %d after a refused import, was %d", n, before)
		}
		as(t, "admin", 404, "GET", "/api/v1/regions/500103014096", nil)
	})

	t.Run("broken csv", func(t *testing.T) {
		const doc = "code,name,level,parent_code\n" +
			"500103014095,好社区,community,500103014\n" +
			"5001030140AB,坏代码,community,500103014\n" +
			"500103099001,无上级,community,500103099\n" +
			"500103014094,,planet,500103014\n"
		st, body := importAs(t, "text/csv", doc)
		if st != http.StatusBadRequest {
			t.Fatalf("status %d: %s", st, body)
		}
		for _, w := range []string{`"field":"rows[3].code"`, `"field":"rows[4].parent_code"`, `"field":"rows[5].level"`, `"field":"rows[5].name"`, "未导入任何数据"} {
			if !strings.Contains(string(body), w) {
				t.Errorf("answer lacks %q: %s", w, body)
			}
		}
		if strings.Contains(string(body), `rows[2]`) {
			t.Errorf("the good row is reported as a problem: %s", body)
		}
		if n := regionCount(t); n != before {
			t.Errorf("region count %d after a refused import, was %d", n, before)
		}
		as(t, "admin", 404, "GET", "/api/v1/regions/500103014095", nil)
	})

	t.Run("unknown format", func(t *testing.T) {
		st, body := importAs(t, "text/plain", "code,name\n")
		if st != http.StatusBadRequest || !strings.Contains(string(body), `"field":"format"`) {
			t.Errorf("status %d: %s", st, body)
		}
	})

	t.Run("valid csv", func(t *testing.T) {
		// A code of its own on each run (go test -count=N shares the platform).
		code := fmt.Sprintf("500103014%03d", 900+importRuns.Add(1))
		doc := "code,name,level,parent_code\n" + code + ",测试新社区,community,500103014\n"
		st, body := importAs(t, "text/csv", doc)
		if st != http.StatusOK || !strings.Contains(string(body), `"imported":1`) {
			t.Fatalf("status %d: %s", st, body)
		}
		if n := regionCount(t); n != before+1 {
			t.Errorf("region count %d, want %d", n, before+1)
		}
		var rg struct {
			Name, Level, ParentCode string
			Path                    string `json:"path"`
		}
		mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/regions/"+code, nil), &rg)
		if rg.Name != "测试新社区" || rg.Level != "community" || !strings.HasSuffix(rg.Path, "/500103014/"+code+"/") {
			t.Errorf("imported region: %+v", rg)
		}
		// It can be listed under its street at once.
		out := as(t, "syl_zhihui", 200, "GET", "/api/v1/regions?parent=500103014", nil)
		if !strings.Contains(string(out), "测试新社区") {
			t.Errorf("new community not listed under 石油路: %s", out)
		}
	})
}
