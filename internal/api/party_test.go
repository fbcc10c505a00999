package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPartyAPI: 新影村's secretary registers a party member in grid 1's N
// and a volunteer group, records hours; the grid worker gives a case of her
// grid to the group (the generic actions route refuses it); the board reads
// phones masked and the figures count it all.
func TestPartyAPI(t *testing.T) {
	grid, _ := gridOf(t, "zhouchunyan")
	comm := grid[:12]
	phone := fmt.Sprintf("137%08d", plat.Service.Now().UnixNano()%1e8)
	var m struct {
		ID, Phone, GridPath string `json:"-"`
	}
	var mm map[string]any
	mustJSON(t, as(t, "xyc_shuji", 200, "PUT", "/api/v1/communities/"+comm+"/party-members",
		map[string]any{"name": "赵党员", "org": "渝中区财政局", "phone": phone, "grid": grid, "tasks": []string{"巡河"}}), &mm)
	m.ID, m.Phone = mm["id"].(string), mm["phone"].(string)
	if !strings.Contains(m.Phone, "****") || mm["grid_path"] == "" {
		t.Fatalf("registered: %v", mm)
	}
	as(t, "xyc_shuji", 400, "PUT", "/api/v1/communities/"+comm+"/party-members", map[string]any{"name": "重复", "org": "x", "phone": phone})
	as(t, "zhouchunyan", 403, "PUT", "/api/v1/communities/"+comm+"/party-members", map[string]any{"name": "网格员登记", "org": "x", "phone": "13800000000"})
	var g map[string]any
	mustJSON(t, as(t, "xyc_shuji", 200, "PUT", "/api/v1/communities/"+comm+"/volunteer-groups",
		map[string]any{"name": fmt.Sprintf("新影村党员志愿服务队%d", plat.Service.Now().UnixNano())}), &g)
	today := plat.Service.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	as(t, "xyc_shuji", 201, "POST", "/api/v1/service-hours", map[string]any{"member_id": m.ID, "activity": "清理河岸垃圾", "on": today, "minutes": 120})
	as(t, "xyc_shuji", 400, "POST", "/api/v1/service-hours", map[string]any{"member_id": m.ID, "activity": "未来", "on": "2999-01-01", "minutes": 120})

	c := report(t, nil)
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	as(t, "zhouchunyan", 400, "POST", "/api/v1/cases/"+c.ID+"/actions", map[string]any{"action": "volunteer", "note": "x"})
	var res struct {
		Case struct {
			Volunteers []map[string]any `json:"volunteers"`
		} `json:"case"`
		Step struct {
			Action string `json:"action"`
		} `json:"step"`
	}
	mustJSON(t, as(t, "zhouchunyan", 200, "POST", "/api/v1/cases/"+c.ID+"/volunteers", map[string]any{"group_id": g["id"], "note": "请志愿者协助清理"}), &res)
	if res.Step.Action != "volunteer" || len(res.Case.Volunteers) != 1 {
		t.Fatalf("given: %+v", res)
	}
	as(t, "zhouchunyan", 409, "POST", "/api/v1/cases/"+c.ID+"/volunteers", map[string]any{"group_id": g["id"], "note": "再次"})
	as(t, "xyc_shuji", 400, "POST", "/api/v1/cases/"+c.ID+"/volunteers", map[string]any{"group_id": g["id"]})

	var board struct {
		Members []map[string]any `json:"members"`
		Groups  []map[string]any `json:"groups"`
		Keeps   bool             `json:"keeps"`
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/communities/"+comm+"/party", nil), &board)
	if board.Keeps || len(board.Members) == 0 || len(board.Groups) == 0 {
		t.Fatalf("board: %+v", board)
	}
	for _, x := range board.Members {
		if p, _ := x["phone"].(string); !strings.Contains(p, "****") {
			t.Errorf("an unmasked phone: %v", x)
		}
	}
	var f struct {
		Communities []struct {
			Code        string  `json:"code"`
			Members     int     `json:"members"`
			Hours       float64 `json:"hours"`
			CasesHelped int     `json:"cases_helped"`
		} `json:"communities"`
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/party/figures", nil), &f)
	found := false
	for _, r := range f.Communities {
		if r.Code == comm {
			found = r.Members >= 1 && r.Hours >= 2 && r.CasesHelped >= 1
		}
	}
	if !found {
		t.Fatalf("figures: %+v", f)
	}
	as(t, "syl_zhihui", 400, "GET", "/api/v1/communities/"+comm+"/service-hours?from=yesterday", nil)
}
