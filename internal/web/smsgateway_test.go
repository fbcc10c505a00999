package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"zhizhi/internal/notify"
)

// TestSMSGatewayPage: a district administrator sets the SMS gateway from
// the console (mistakes named next to their inputs; the auth value shown
// masked afterwards, and kept when the mask is sent back), sets a template,
// and sends a test message that reaches a local gateway with the auth
// header; a gateway that fails is reported with its answer. A street's
// administrator may look but not change; others may not open the page.
func TestSMSGatewayPage(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]string
	var auth []string
	status := http.StatusOK
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]string
		json.Unmarshal(b, &m)
		mu.Lock()
		defer mu.Unlock()
		got, auth = append(got, m), append(auth, r.Header.Get("X-Sms-Key"))
		w.WriteHeader(status)
		io.WriteString(w, "gateway says hi")
	}))
	defer gw.Close()
	t.Cleanup(func() { // the shared platform goes back to no gateway
		if _, err := plat.Service.SetGateway(context.Background(), actor(t, "admin"), notify.Gateway{}); err != nil {
			t.Error(err)
		}
	})

	expect(t, signIn(t, "syl_zhihui").get("/admin/sms"), http.StatusForbidden)
	adm := signIn(t, "admin")
	expect(t, adm.get("/admin/sms"), 200, "短信网关", "发送测试短信", "群众短信：已办结", `name="tpl_resident_closed"`)
	expect(t, adm.post("/admin/sms", url.Values{"url": {"ftp://x"}, "auth_header": {"X-Sms-Key"}}), http.StatusBadRequest,
		"短信网关地址应为", "认证头的名称和值须同时填写")
	adm.get("/admin/sms")
	r := adm.post("/admin/sms", url.Values{"url": {gw.URL + "/send"}, "base_url": {"https://zz.example"}, "auth_header": {"X-Sms-Key"},
		"auth_value": {"sms-key-0123456789"}, "tpl_resident_closed": {"【测试】{number}已办结：{link}"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, excerpt(r.body))
	}
	r = adm.get("/admin/sms?saved=1")
	expect(t, r, 200, "短信网关设置已保存", gw.URL+"/send", `value="******"`, "【测试】{number}已办结：{link}")
	if strings.Contains(r.body, "sms-key-0123456789") {
		t.Error("the page shows the auth value")
	}
	// Saved again with the mask: the value is kept.
	if r := adm.post("/admin/sms", url.Values{"url": {gw.URL + "/send"}, "base_url": {"https://zz.example"}, "auth_header": {"X-Sms-Key"},
		"auth_value": {"******"}}); r.status != http.StatusSeeOther {
		t.Fatalf("save with the mask: %d", r.status)
	}

	adm.get("/admin/sms")
	expect(t, adm.post("/admin/sms/test", url.Values{"phone": {"12345"}}), http.StatusBadRequest, "请填写11位手机号码")
	adm.get("/admin/sms")
	expect(t, adm.post("/admin/sms/test", url.Values{"phone": {"13912345678"}}), 200, "测试短信已发送", "短信网关测试")
	mu.Lock()
	if len(got) != 1 || got[0]["phone"] != "13912345678" || !strings.Contains(got[0]["text"], "短信网关测试") || got[0]["kind"] != "test" ||
		auth[0] != "sms-key-0123456789" {
		t.Errorf("the gateway got %v with key %v", got, auth)
	}
	status = http.StatusInternalServerError
	mu.Unlock()
	adm.get("/admin/sms")
	expect(t, adm.post("/admin/sms/test", url.Values{"phone": {"13912345678"}}), http.StatusBadGateway, "测试短信发送失败", "500", "gateway says hi")

	// A street's administrator: sees the page, no buttons, and cannot send.
	sa := signIn(t, streetAdmin(t))
	r = sa.get("/admin/sms")
	expect(t, r, 200, "您只能查看")
	if strings.Contains(r.body, "保存设置") || strings.Contains(r.body, "sms-key-0123456789") {
		t.Error("a street's administrator is offered the save button or sees the key")
	}
	expect(t, sa.post("/admin/sms/test", url.Values{"phone": {"13912345678"}}), http.StatusForbidden)
}
