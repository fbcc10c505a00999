package service_test

import (
	"context"
	"fmt"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

// A report's event body, encoded before the writer with the case number
// left as a gap and filled in there, is the body webhook.Build encodes of
// the case as reported and its first step: byte for byte, number included.
// SQLite, or PostgreSQL with ZHIZHI_TEST_POSTGRES.
func TestReportEventBody(t *testing.T) {
	ctx := context.Background()
	p := demoNode(t)
	system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
	if _, _, err := p.Service.CreateSubscription(ctx, system, webhook.Input{Name: "正文", URL: "http://127.0.0.1:9/hook",
		Events: []string{webhook.All}, RegionCode: "500103"}); err != nil {
		t.Fatal(err)
	}
	gw, pt := gridWorker(t, p.DB)
	reported := map[string]cases.Case{}
	for i, text := range []string{"路灯不亮", `井盖"松动" <危险> & 夜间`, "占道经营\n早晚高峰"} {
		c, err := p.Service.Report(ctx, p.Service.ActorOf(gw), cases.Report{Source: cases.SourcePatrol, Category: "MS03",
			Description: fmt.Sprintf("%s #%d", text, i), Point: &geo.Point{Lng: pt.Lng, Lat: pt.Lat}})
		if err != nil {
			t.Fatal(err)
		}
		reported[c.ID] = c
	}
	events, err := p.DB.HookEventsAfter(ctx, store.HookCursor{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range events {
		c, ok := reported[e.CaseID]
		if !ok {
			continue
		}
		seen++
		steps, err := p.DB.Steps(ctx, c.ID)
		if err != nil || len(steps) == 0 {
			t.Fatalf("steps of %s: %v", c.Number, err)
		}
		want, err := webhook.Build(&c, &steps[0]).Encode()
		if err != nil {
			t.Fatal(err)
		}
		if string(e.Body) != string(want) {
			t.Errorf("%s: event body\n got %s\nwant %s", c.Number, e.Body, want)
		}
	}
	if seen != len(reported) {
		t.Fatalf("%d report events, want %d", seen, len(reported))
	}
}
