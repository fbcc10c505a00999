package web_test

import (
	"strings"
	"testing"

	"zhizhi/internal/cases"
)

// dispatchedTo reports a street matter (MS07, 排水管道堵塞) in 石油路 as
// 周春燕, accepted by 石油路's commander and dispatched to lead.
func dispatchedTo(t *testing.T, lead, desc string) cases.Case {
	t.Helper()
	cs := reportCase(t, "zhouchunyan", "MS07", desc)
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	return actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: lead})
}

// section returns the part of a page from the element with the id to the
// end of its section.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("page has no #%s: %s", id, excerpt(body))
	}
	s := body[i:]
	if j := strings.Index(s, "</section>"); j >= 0 {
		s = s[:j]
	}
	return s
}

func TestWorkbenchPost(t *testing.T) {
	cs := dispatchedTo(t, "syl-ms-a", "工作台测试：人行道下水道堵塞冒水")
	a := signIn(t, "syl_ms_a")
	home := a.get("/inbox")
	expect(t, home, 200, `href="/workbench"`, "板块工作台")
	r := a.get("/workbench")
	expect(t, r, 200, "石油路街道民生服务板块A岗 · 板块工作台", "民生服务板块", cs.Number, "待签收", "主办", "data-due=", "签收",
		"未结案件", "超期", "临期", "近7日已反馈/结案")
	desk := section(t, r.body, "desk-syl-ms-a")
	if !strings.Contains(desk, cs.Number) {
		t.Errorf("the post's queue lacks %s", cs.Number)
	}
	// Read-only: no forms but sign-out's.
	if n := strings.Count(r.body, "<form"); n != 1 {
		t.Errorf("%d forms on the workbench, want only sign-out's", n)
	}
	// Another post's workbench is refused, by query or by account.
	expect(t, a.get("/workbench?unit=syl-ms-b"), 403, "只能查看本岗位")
	expect(t, a.get("/workbench?unit=syl-ms-bk"), 403)
	b := signIn(t, "syl_ms_b")
	if r := b.get("/workbench"); r.status != 200 || strings.Contains(r.body, cs.Number) {
		t.Errorf("B岗's workbench (%d) shows A岗's case %s", r.status, cs.Number)
	}
	// The case page is where the work is done.
	expect(t, a.get("/cases/"+cs.ID), 200, "签收")
}

func TestWorkbenchHead(t *testing.T) {
	cs := dispatchedTo(t, "syl-ms-a", "工作台测试：小区排水管道堵塞")
	h := signIn(t, "syl_ms_head")
	r := h.get("/")
	if r.status != 303 || r.location != "/workbench" {
		t.Fatalf("a board head's home: %d %q, want /workbench", r.status, r.location)
	}
	r = h.get("/workbench")
	expect(t, r, 200, "石油路街道民生服务板块 · 板块工作台", "板块岗位", "街道科室", "合计")
	for _, id := range []string{"syl-ms-a", "syl-ms-b", "syl-ms"} {
		section(t, r.body, "desk-"+id)
	}
	if !strings.Contains(section(t, r.body, "desk-syl-ms-a"), cs.Number) {
		t.Errorf("A岗's desk on the head's workbench lacks %s", cs.Number)
	}
	if strings.Contains(section(t, r.body, "desk-syl-ms-b"), cs.Number) {
		t.Errorf("B岗's desk shows A岗's case %s", cs.Number)
	}
	// One desk alone, and none of another board.
	expect(t, h.get("/workbench?unit=syl-ms-a"), 200, cs.Number, "返回全板块")
	expect(t, h.get("/workbench?unit=syl-pa-a"), 403)
}

// TestWorkbenchScope fails if a workbench shows a case of another street or
// of another board.
func TestWorkbenchScope(t *testing.T) {
	mine := dispatchedTo(t, "syl-ms-a", "范围测试：本板块A岗的排水管道堵塞")
	otherBoard := reportCase(t, "zhouchunyan", "MS07", "范围测试：派给平安法治板块的案件")
	actOn(t, "syl_zhihui", otherBoard.ID, cases.Command{Action: cases.ActAccept})
	otherBoard = actOn(t, "syl_zhihui", otherBoard.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-pa-a"})
	// 解放碑's commander takes a hotline call about the same kind of matter.
	otherStreet, err := plat.Service.Report(t.Context(), actor(t, "jfb_zhihui"), cases.Report{Source: cases.SourceHotline,
		Category: "MS07", Description: "范围测试：解放碑街道的排水管道堵塞", Address: "解放碑测试地址"})
	if err != nil {
		t.Fatal(err)
	}
	if mine.CenterPath == "" || strings.HasPrefix(otherStreet.RegionPath, mine.CenterPath) {
		t.Fatalf("the hotline case is in 石油路: %s", otherStreet.RegionPath)
	}
	cmdr, otherPost := "jfb_zhihui", "jfb-ms-a"
	actOn(t, cmdr, otherStreet.ID, cases.Command{Action: cases.ActAccept})
	otherStreet = actOn(t, cmdr, otherStreet.ID, cases.Command{Action: cases.ActDispatch, Lead: otherPost})

	for _, who := range []string{"syl_ms_a", "syl_ms_head"} {
		r := signIn(t, who).get("/workbench")
		expect(t, r, 200, mine.Number)
		for _, c := range []cases.Case{otherBoard, otherStreet} {
			if strings.Contains(r.body, c.Number) {
				t.Errorf("%s's workbench shows %s (%s)", who, c.Number, c.Description)
			}
		}
	}
	// And the other board's post sees its own, not ours.
	r := signIn(t, "syl_pa_a").get("/workbench")
	expect(t, r, 200, otherBoard.Number)
	if strings.Contains(r.body, mine.Number) {
		t.Errorf("平安法治A岗 sees 民生服务A岗's case %s", mine.Number)
	}
}

func TestWorkbenchRefused(t *testing.T) {
	// A department's staff have no workbench (and no link to it).
	d := signIn(t, "yj_staff")
	if r := d.get("/inbox"); strings.Contains(r.body, `href="/workbench"`) {
		t.Error("a department's nav links the workbench")
	}
	expect(t, d.get("/workbench"), 403, "板块工作台只对")
	// Other roles are refused by the route.
	expect(t, signIn(t, "syl_zhihui").get("/workbench"), 403)
	expect(t, signIn(t, "xyc_shuji").get("/workbench"), 403)
}
