package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/demo"
)

var opSetup sync.Once

// opWorld stores (once) the crowd kind and the demo's New Year's Eve
// operation, planned by 解放碑's commander.
func opWorld(t *testing.T) {
	t.Helper()
	opSetup.Do(func() {
		as(t, "admin", 200, "PUT", "/api/v1/device-kinds/crowd", map[string]any{"name": "客流计数", "unit": "人", "min": 0, "max": 200000})
		if err := demo.LoadOperation(context.Background(), plat.Service); err != nil {
			t.Fatal(err)
		}
	})
}

func apiOperation(id string) map[string]any {
	return map[string]any{
		"id": id, "name": "API测试活动", "start": "2030-01-01T20:00:00+08:00", "end": "2030-01-02T02:00:00+08:00",
		"kind": "crowd", "alert_category": "AQ10",
		"areas": []map[string]any{{"key": "api-sq", "name": "广场",
			"shape":  map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{106.5792, 29.5548}, {106.5832, 29.5548}, {106.5832, 29.5578}, {106.5792, 29.5578}, {106.5792, 29.5548}}}},
			"yellow": 100, "red": 200, "duty": []map[string]any{{"name": "张三", "role": "现场指挥", "phone": "13800000000"}}}},
		"tasks": []map[string]any{{"id": "clean", "area": "api-sq", "title": "清扫", "category": "MS03", "unit": "cg", "at": "2030-01-02T00:05:00+08:00", "limit_minutes": 15}},
	}
}

func TestOperationAPI(t *testing.T) {
	opWorld(t)
	// The demo's operation: 解放碑's commander sees it, 石油路's does not.
	list := as(t, "jfb_zhihui", 200, "GET", "/api/v1/operations", nil)
	if !strings.Contains(string(list), demo.NYEOperationID) {
		t.Fatalf("list: %.300s", list)
	}
	if out := as(t, "syl_zhihui", 200, "GET", "/api/v1/operations", nil); strings.Contains(string(out), demo.NYEOperationID) {
		t.Errorf("another street's commander lists it")
	}
	for _, p := range []string{"", "/tasks", "/report", "/live"} {
		refused(t, "syl_zhihui", "GET", "/api/v1/operations/"+demo.NYEOperationID+p, nil)
		refused(t, "yj_staff", "GET", "/api/v1/operations/"+demo.NYEOperationID+p, nil)
	}
	var board struct {
		Phase string `json:"phase"`
		Areas []struct {
			Key         string  `json:"key"`
			Area        string  `json:"area"`
			Yellow, Red float64 `json:"-"`
			Duty        []any   `json:"duty"`
		} `json:"areas"`
		Tasks []struct {
			ID  string `json:"id"`
			Run struct {
				State string `json:"state"`
			} `json:"run"`
		} `json:"tasks"`
	}
	mustJSON(t, as(t, "jfb_zhihui", 200, "GET", "/api/v1/operations/"+demo.NYEOperationID, nil), &board)
	if board.Phase != "ended" || len(board.Areas) != 1 || board.Areas[0].Area != demo.JFBSquare || len(board.Areas[0].Duty) != 3 || len(board.Tasks) != 3 {
		t.Errorf("board %+v", board)
	}
	// The police on duty see it too (a unit with a task).
	as(t, "cg_staff", 200, "GET", "/api/v1/operations/"+demo.NYEOperationID+"/tasks", nil)
	as(t, "jfb_zhihui", 200, "GET", "/api/v1/operations/"+demo.NYEOperationID+"/report", nil)

	// Bad input names the field; nothing is stored.
	tok := token(t, "jfb_zhihui")
	for field, edit := range map[string]func(op map[string]any){
		"name": func(op map[string]any) { op["name"] = "" },
		"end":  func(op map[string]any) { op["end"] = "2029-01-01T00:00:00Z" },
		"areas[0].shape": func(op map[string]any) {
			op["areas"].([]map[string]any)[0]["shape"] = map[string]any{"type": "Point", "coordinates": []float64{1, 2}}
		},
		"areas[0].red": func(op map[string]any) { op["areas"].([]map[string]any)[0]["red"] = 50 },
		"areas[0].duty[0].phone": func(op map[string]any) {
			op["areas"].([]map[string]any)[0]["duty"].([]map[string]any)[0]["phone"] = "打电话"
		},
		"tasks[0].unit":          func(op map[string]any) { op["tasks"].([]map[string]any)[0]["unit"] = "nope" },
		"tasks[0].limit_minutes": func(op map[string]any) { op["tasks"].([]map[string]any)[0]["limit_minutes"] = 0 },
		"kind":                   func(op map[string]any) { op["kind"] = "nope" },
		"start":                  func(op map[string]any) { op["start"] = "tonight" },
		"version":                func(op map[string]any) { op["version"] = 3 },
	} {
		op := apiOperation("api-bad")
		edit(op)
		st, out := call(t, tok, "POST", "/api/v1/operations", op)
		if st != 400 || !strings.Contains(string(out), `"field":"`+field+`"`) {
			t.Errorf("%s: %d %.400s", field, st, out)
		}
	}
	// An area outside the commander's street (another street's grids).
	far := apiOperation("api-bad")
	far["areas"].([]map[string]any)[0]["shape"] = map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{106.5745, 29.5555}, {106.5785, 29.5555}, {106.5785, 29.5585}, {106.5745, 29.5585}, {106.5745, 29.5555}}}}
	if st, out := call(t, tok, "POST", "/api/v1/operations", far); st != 400 || !strings.Contains(string(out), `"field":"areas[0].shape"`) {
		t.Errorf("area outside the street: %d %.300s", st, out)
	}
	if st, _ := call(t, tok, "GET", "/api/v1/operations/api-bad", nil); st != 404 {
		t.Errorf("a refused operation was stored: %d", st)
	}
	// Only commanders plan.
	if st, out := call(t, token(t, "cg_staff"), "POST", "/api/v1/operations", apiOperation("api-unit")); st != 403 {
		t.Errorf("unit staff planned: %d %s", st, out)
	}
	// Create, change, and a stale change.
	var saved struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
		Region  string `json:"region_path"`
	}
	mustJSON(t, as(t, "jfb_zhihui", 201, "POST", "/api/v1/operations", apiOperation("api-op")), &saved)
	if saved.Version != 1 || saved.ID != "api-op" {
		t.Fatalf("saved %+v", saved)
	}
	op := apiOperation("api-op")
	op["version"] = 1
	op["name"] = "API测试活动（改）"
	as(t, "jfb_zhihui", 200, "PUT", "/api/v1/operations/api-op", op)
	if st, out := call(t, tok, "PUT", "/api/v1/operations/api-op", op); st != 409 {
		t.Errorf("stale: %d %s", st, out)
	}
	// Another street's commander cannot change it.
	op["version"] = 2
	refused(t, "syl_zhihui", "PUT", "/api/v1/operations/api-op", op)

	// The live board: a board event at once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/operations/"+demo.NYEOperationID+"/live", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("live: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "event: ") {
			event = strings.TrimPrefix(line, "event: ")
		}
		if strings.HasPrefix(line, "data: ") && event == "board" {
			var b struct {
				Operation struct {
					ID string `json:"id"`
				} `json:"operation"`
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &b); err != nil || b.Operation.ID != demo.NYEOperationID {
				t.Errorf("board event: %v %+v", err, b)
			}
			return
		}
	}
	t.Error("no board event")
}
