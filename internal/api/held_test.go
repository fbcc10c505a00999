package api_test

import (
	"context"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
)

// TestHeldQueueAPI: a resident's phone that reports past its soft limit
// is held; the street's commander lists the holding queue and rejects it
// in one request; other roles and other streets cannot.
func TestHeldQueueAPI(t *testing.T) {
	ctx := context.Background()
	_, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	var held cases.Case
	for i := range service.DefaultDoorLimits.PhoneHold + 1 {
		tok, err := plat.Service.FormToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := plat.Service.ReportAnonymous(ctx, service.Knock{Token: tok}, cases.Report{Category: "MS03", Description: "接口待甄别测试",
			Point: &p, Reporter: cases.Reporter{Phone: "13655550000"}})
		if err != nil {
			t.Fatal(err)
		}
		if want := i == service.DefaultDoorLimits.PhoneHold; (c.State == cases.Held) != want {
			t.Fatalf("report %d: %s", i+1, c.State)
		}
		held = c
	}
	var list struct {
		Items []caseView `json:"items"`
		Total int        `json:"total"`
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/held?limit=500", nil), &list)
	found := false
	for _, it := range list.Items {
		found = found || it.ID == held.ID
		if it.State != "held" {
			t.Errorf("a %s case in the holding queue", it.State)
		}
	}
	if !found || list.Total < 1 {
		t.Fatalf("the held case is not listed: %+v", list)
	}
	mustJSON(t, as(t, "jfb_zhihui", 200, "GET", "/api/v1/held?limit=500", nil), &list)
	for _, it := range list.Items {
		if it.ID == held.ID {
			t.Error("another street's commander lists the held case")
		}
	}
	as(t, "yj_staff", 403, "GET", "/api/v1/held", nil)
	body := map[string]any{"action": "reject", "ids": []string{held.ID}, "note": "同一电话批量提交"}
	as(t, "leader", 403, "POST", "/api/v1/held", body)
	as(t, "syl_zhihui", 400, "POST", "/api/v1/held", map[string]any{"action": "reject", "ids": []string{held.ID}})
	var out service.Screened
	mustJSON(t, as(t, "jfb_zhihui", 200, "POST", "/api/v1/held", body), &out)
	if len(out.Done) != 0 || out.Failed[held.ID] == "" {
		t.Fatalf("another street's commander: %+v", out)
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "POST", "/api/v1/held", body), &out)
	if len(out.Done) != 1 || out.Done[0] != held.ID {
		t.Fatalf("reject: %+v", out)
	}
	if got, _ := detail(t, "syl_zhihui", held.ID); got.State != "rejected" {
		t.Fatalf("after the reject: %s", got.State)
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "POST", "/api/v1/held", body), &out)
	if len(out.Done) != 0 || out.Failed[held.ID] == "" {
		t.Fatalf("rejecting again: %+v", out)
	}
}
