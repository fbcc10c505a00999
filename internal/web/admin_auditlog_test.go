package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
)

// TestAuditLogPage (issue 20): a district administrator finds a read of a
// resident's phone and a change to a unit on the audit page by kind, person
// and day, and exports them; bad filters are named; a street administrator
// may not read the whole log.
func TestAuditLogPage(t *testing.T) {
	t.Parallel()
	p := gridPoint(t, "zhouchunyan")
	cs, err := plat.Service.Report(context.Background(), actor(t, "zhouchunyan"), cases.Report{
		Source: cases.SourcePatrol, Category: "AQ01", Description: "审计页测试：居民反映醇基燃料", Point: &p, Address: "测试地址",
		Reporter: cases.Reporter{Name: "王先生", Phone: "13711112222"}, Answers: map[string]any{"shop": "测试商铺", "equipment": "alcohol_stove"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := signIn(t, "syl_zhihui")
	cmd.get("/cases/" + cs.ID)
	expect(t, cmd.post("/cases/"+cs.ID+"/phone", url.Values{}), 200, "13711112222")

	admin := signIn(t, "admin")
	today := plat.Service.Now().In(calendar.Shanghai()).Format("2006-01-02")
	page := admin.get("/admin/audit?kind=personal_data&who=syl_zhihui&from=" + today + "&to=" + today + "&object=" + cs.ID)
	expect(t, page, 200, "操作记录", "个人信息查看", "查看", cs.ID, "reporter.phone")
	if strings.Contains(page.body, "13711112222") {
		t.Error("the audit page shows the phone that was read")
	}
	// The same filters, another person: nothing.
	expect(t, admin.get("/admin/audit?kind=personal_data&who=admin&object="+cs.ID), 200, "没有符合条件的记录")
	// The export has the entry.
	exp := admin.get("/admin/audit/export?kind=personal_data&object=" + cs.ID + "&format=csv")
	expect(t, exp, 200, cs.ID, "个人信息查看")
	// Bad filters name their field and change nothing.
	expect(t, admin.get("/admin/audit?who=nobody_at_all"), 400, "没有这个用户名")
	expect(t, admin.get("/admin/audit?from=2026-13-01"), 400, "日期格式")
	expect(t, admin.get("/admin/audit?kind=secrets"), 400, "未知的记录类型")
	expect(t, admin.get("/admin/audit?from=2026-12-05&to=2026-12-01"), 400, "结束时间应晚于开始时间")
	// A street administrator reads one unit's or account's trail on its
	// page, not the whole log.
	if r := signIn(t, streetAdmin(t)).get("/admin/audit"); r.status != http.StatusForbidden {
		t.Errorf("street administrator's audit page: %d", r.status)
	}
}
