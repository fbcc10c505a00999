package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var hookIDRE = regexp.MustCompile(`data-id="([0-9A-Z]+)"[^>]*>\s*<td><b>控制台订阅测试`)

// TestWebhooksPage: an administrator subscribes a receiver from the console
// (the secret shows once), sees it listed, pauses and resumes it, reads its
// delivery log and removes it; mistakes are named next to their inputs; a
// street's administrator cannot subscribe beyond its street, and only
// administrators open the page.
func TestWebhooksPage(t *testing.T) {
	expect(t, signIn(t, "syl_zhihui").get("/admin/webhooks"), http.StatusForbidden)
	adm := signIn(t, "admin")
	expect(t, adm.get("/admin/webhooks"), 200, "推送订阅", "新建订阅", `value="accept"`, "12345热线")

	street := actor(t, "syl_zhihui").RegionPath
	code := strings.Split(strings.Trim(street, "/"), "/")[2]
	adm.get("/admin/webhooks")
	expect(t, adm.post("/admin/webhooks", url.Values{"name": {""}, "url": {"ftp://x"}, "scope": {"region"}, "region_code": {code}}), http.StatusBadRequest,
		"名称不能为空", "接收地址须为", "请至少选择一种事件")
	adm.get("/admin/webhooks")
	r := adm.post("/admin/webhooks", url.Values{"name": {"控制台订阅测试"}, "url": {"http://127.0.0.1:9/hook"}, "scope": {"region"},
		"region_code": {code}, "events": {"accept", "close"}, "sources": {"hotline"}})
	expect(t, r, 200, "已创建订阅“控制台订阅测试”", "只显示这一次", "推送中")
	m := hookIDRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("new subscription not listed: %s", excerpt(r.body))
	}
	id := m[1]
	r = adm.post("/admin/webhooks/"+id+"/state", url.Values{"state": {"paused"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("pause: %d", r.status)
	}
	expect(t, adm.get("/admin/webhooks?paused=1"), 200, "已暂停推送", "管理员暂停")
	adm.get("/admin/webhooks")
	if r := adm.post("/admin/webhooks/"+id+"/state", url.Values{"state": {"active"}}); r.status != http.StatusSeeOther {
		t.Fatalf("resume: %d", r.status)
	}
	expect(t, adm.get("/admin/webhooks/"+id), 200, "投递记录", "控制台订阅测试", "还没有投递记录")

	// A street's administrator: its street only.
	sa := signIn(t, streetAdmin(t))
	r = sa.get("/admin/webhooks")
	expect(t, r, 200, "推送订阅")
	sa.get("/admin/webhooks")
	expect(t, sa.post("/admin/webhooks", url.Values{"name": {"越权"}, "url": {"http://127.0.0.1:9/x"}, "scope": {"region"},
		"region_code": {code}, "region_code_text": {"500103"}, "events": {"*"}}), http.StatusBadRequest, "只能订阅您管辖范围内的区域")

	adm.get("/admin/webhooks")
	if r := adm.post("/admin/webhooks/"+id+"/delete", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	r = adm.get("/admin/webhooks?deleted=1")
	expect(t, r, 200, "已删除订阅")
	if strings.Contains(r.body, "控制台订阅测试") {
		t.Error("deleted subscription still listed")
	}
}
