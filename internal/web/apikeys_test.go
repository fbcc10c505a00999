package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
)

var secretRE = regexp.MustCompile(`<code class="secret" id="secret">([^<]+)</code>`)

func TestAPIKeysPage(t *testing.T) {
	ctx := context.Background()
	// Only administrators.
	expect(t, signIn(t, "syl_zhihui").get("/admin/apikeys"), http.StatusForbidden)
	adm := signIn(t, "admin")
	r := adm.get("/admin/apikeys")
	expect(t, r, 200, "API 密钥", ">demo<", "渝中区", "有效", "石油路街道", `name="rate_per_minute"`, `value="60"`)

	// CSRF: without the token, or from another site, nothing is created.
	expect(t, adm.post("/admin/apikeys", url.Values{"name": {"无令牌"}, "region_code": {"500103"}, "csrf": {""}}), http.StatusForbidden)
	req, _ := http.NewRequest("POST", srv.URL+"/admin/apikeys", strings.NewReader(url.Values{"name": {"跨站"}, "region_code": {"500103"}, "csrf": {adm.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	expect(t, adm.do(req), http.StatusForbidden)
	keys, _ := plat.Service.APIKeys(ctx)
	for _, k := range keys {
		if k.Name == "无令牌" || k.Name == "跨站" {
			t.Fatalf("a refused form made the key %q", k.Name)
		}
	}

	// Mistakes are named next to their inputs.
	adm.get("/admin/apikeys")
	expect(t, adm.post("/admin/apikeys", url.Values{"name": {""}, "region_code": {"500103"}, "rate_per_minute": {"x"}}), http.StatusBadRequest,
		"请填写整数")
	adm.get("/admin/apikeys")
	expect(t, adm.post("/admin/apikeys", url.Values{"name": {""}, "region_code": {"500103"}, "rate_per_minute": {"0"}}), http.StatusBadRequest,
		"名称不能为空")
	adm.get("/admin/apikeys")
	expect(t, adm.post("/admin/apikeys", url.Values{"name": {"超限"}, "region_code": {"500103"}, "rate_per_minute": {"99999"}}), http.StatusBadRequest,
		"每分钟上报次数应在1到")
	// Outside the administrator's region (the city above his district).
	adm.get("/admin/apikeys")
	expect(t, adm.post("/admin/apikeys", url.Values{"name": {"全市"}, "region_code": {"500103"}, "region_code_text": {"500000"}}), http.StatusBadRequest,
		"只能选择您管辖范围内的区域")

	// Create: the secret shows once and works.
	street := actor(t, "syl_zhihui").RegionPath
	code := strings.Split(strings.Trim(street, "/"), "/")[2]
	adm.get("/admin/apikeys")
	r = adm.post("/admin/apikeys", url.Values{"name": {"居民应用测试"}, "region_code": {code}, "rate_per_minute": {"30"}})
	expect(t, r, 200, "已创建密钥“居民应用测试”", "只显示这一次", ">居民应用测试<", ">30<")
	m := secretRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no secret shown")
	}
	secret := m[1]
	if _, k, err := plat.Service.UseAPIKey(ctx, secret); err != nil || k.RegionPath != street || k.RatePerMinute != 30 {
		t.Fatalf("the new key: %+v %v", k, err)
	}
	if r := adm.get("/admin/apikeys"); strings.Contains(r.body, secret) {
		t.Fatal("the secret shows again")
	}
	// The same name twice is refused while the first is active.
	expect(t, adm.post("/admin/apikeys", url.Values{"name": {"居民应用测试"}, "region_code": {code}}), http.StatusBadRequest, "已有同名的有效密钥")

	// Revoke: it stops working at once.
	var id string
	keys, _ = plat.Service.APIKeys(ctx)
	for _, k := range keys {
		if k.Name == "居民应用测试" && k.Active() {
			id = k.ID
		}
	}
	// The extended statuses: on, and refused with a value that is neither.
	adm.get("/admin/apikeys")
	expect(t, adm.post("/admin/apikeys/"+id+"/statuses", url.Values{"extended_statuses": {"maybe"}}), http.StatusBadRequest)
	r = adm.post("/admin/apikeys/"+id+"/statuses", url.Values{"extended_statuses": {"on"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("statuses: %d %s", r.status, excerpt(r.body))
	}
	expect(t, adm.get("/admin/apikeys"), http.StatusOK, "扩展（FixMyStreet）", "改用 open / closed")
	if _, k, err := plat.Service.UseAPIKey(ctx, secret); err != nil || !k.ExtendedStatuses {
		t.Fatalf("extended statuses not kept: %+v %v", k, err)
	}
	expect(t, signIn(t, "syl_zhihui").post("/admin/apikeys/"+id+"/statuses", url.Values{"extended_statuses": {"off"}}), http.StatusForbidden)
	adm.get("/admin/apikeys")
	expect(t, adm.post("/admin/apikeys/"+id+"/revoke", url.Values{"csrf": {""}}), http.StatusForbidden)
	r = adm.post("/admin/apikeys/"+id+"/revoke", url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.status, excerpt(r.body))
	}
	expect(t, adm.get(r.location), 200, "已吊销密钥“居民应用测试”", "已吊销")
	if _, _, err := plat.Service.UseAPIKey(ctx, secret); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a revoked key still works: %v", err)
	}
	expect(t, adm.post("/admin/apikeys/"+id+"/revoke", url.Values{}), http.StatusConflict, "已经吊销")
	expect(t, adm.post("/admin/apikeys/no-such-key/revoke", url.Values{}), http.StatusNotFound)
	// Another role cannot revoke.
	cmd := signIn(t, "syl_zhihui")
	expect(t, cmd.post("/admin/apikeys/"+id+"/revoke", url.Values{}), http.StatusForbidden)
}
