package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"zhizhi/internal/sensors"
	"zhizhi/internal/xlsx/xlsxtest"
)

// TestSensorsAdminForms: a district administrator keeps the sensors from
// the console: a kind (refused input shown again with what was typed and
// the field's problem, nothing saved), a rule saved as its next version,
// and devices imported from an Excel workbook (every problem of every row
// listed, nothing stored) and then from a good one. A street's
// administrator sees the page but changes nothing.
func TestSensorsAdminForms(t *testing.T) {
	ctx := context.Background()
	c := signIn(t, "admin")
	expect(t, c.get("/sensors"), http.StatusOK, `href="/sensors/admin"`)
	expect(t, c.get("/sensors/admin"), http.StatusOK, "导入设备", "设备类型", "感知规则", `id="rule-form"`)

	r := c.post("/sensors/admin/kinds", url.Values{"code": {"adm-gas"}, "name": {"燃气浓度（管理页）"}, "unit": {"%LEL"}, "min": {"0"}, "max": {"很多"}})
	expect(t, r, http.StatusBadRequest, "燃气浓度（管理页）", "须为数字")
	if ks, _ := plat.Service.DeviceKinds(ctx); hasKind(ks, "adm-gas") {
		t.Fatal("a refused kind was saved")
	}
	r = c.post("/sensors/admin/kinds", url.Values{"code": {"adm-gas"}, "name": {"燃气浓度（管理页）"}, "unit": {"%LEL"}, "min": {"0"}, "max": {"100"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save a kind: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get(r.location), http.StatusOK, "已保存 设备类型 adm-gas", "燃气浓度（管理页）")

	cat := ""
	for _, k := range plat.Service.Categories() {
		required := false
		for _, q := range k.Questions {
			required = required || q.Required
		}
		if k.Active && !required && cat == "" {
			cat = k.Code
		}
	}
	rule := url.Values{"id": {"adm-gas-high"}, "name": {"燃气浓度超限"}, "type": {"threshold"}, "kind": {"adm-gas"}, "raise": {"20"}, "clear": {"10"},
		"clear_minutes": {"5"}, "category": {cat}, "severity": {"urgent"}, "active": {"1"}}
	for v := 1; v <= 2; v++ {
		rule.Set("version", string(rune('0'+v-1)))
		r = c.post("/sensors/admin/rules", rule)
		if r.status != http.StatusSeeOther {
			t.Fatalf("save the rule: %d %s", r.status, excerpt(r.body))
		}
		expect(t, c.get(r.location), http.StatusOK, "已保存 规则 adm-gas-high 第"+string(rune('0'+v))+"版")
	}
	bad := url.Values{}
	for k, v := range rule {
		bad[k] = v
	}
	// Saved over a version someone else has since saved: refused.
	if r := c.post("/sensors/admin/rules", rule); r.status != http.StatusConflict {
		t.Errorf("a save over a newer version: %d %s", r.status, excerpt(r.body))
	}
	bad.Set("raise", "二十")
	bad.Set("category", "")
	expect(t, c.post("/sensors/admin/rules", bad), http.StatusBadRequest, "须为数字", "二十", "燃气浓度超限")
	expect(t, c.get("/sensors/admin?rule=adm-gas-high"), http.StatusOK, `value="adm-gas-high"`, `value="20"`)

	book := xlsxtest.FromCSV("编号,类型,名称,经度,纬度\nADM-G1,adm-gas,解放碑地下商场燃气,106.5775,29.5535\nADM-G2,nope,x,east,29.5\n")
	r = c.postFiles("/sensors/admin/import", url.Values{}, "file", book)
	expect(t, r, http.StatusBadRequest, "1 行有问题，未导入任何设备", "第 2 行")
	if _, err := plat.Service.Device(ctx, "ADM-G1", ""); err == nil {
		t.Fatal("a refused workbook stored a device")
	}
	book = xlsxtest.FromCSV("编号,类型,名称,经度,纬度\nADM-G1,adm-gas,解放碑地下商场燃气,106.5775,29.5535\n")
	r = c.postFiles("/sensors/admin/import", url.Values{}, "file", book)
	if r.status != http.StatusSeeOther {
		t.Fatalf("import a workbook: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get(r.location), http.StatusOK, "已导入 1 台设备")
	if d, err := plat.Service.Device(ctx, "ADM-G1", ""); err != nil || d.Device.Name != "解放碑地下商场燃气" {
		t.Fatalf("the imported device: %+v %v", d.Device, err)
	}

	// A street's administrator: refused, nothing changed.
	s := signIn(t, streetAdmin(t))
	if r := s.post("/sensors/admin/kinds", url.Values{"code": {"adm-gas"}, "name": {"改名"}, "unit": {"%"}, "min": {"0"}, "max": {"1"}}); r.status != http.StatusForbidden {
		t.Errorf("a street administrator saved a kind: %d %s", r.status, excerpt(r.body))
	}
	if ks, _ := plat.Service.DeviceKinds(ctx); !hasKind(ks, "adm-gas") || kindName(ks, "adm-gas") != "燃气浓度（管理页）" {
		t.Errorf("the kind changed by a street administrator")
	}
	if r := s.postFiles("/sensors/admin/import", url.Values{}, "file", book); r.status != http.StatusForbidden {
		t.Errorf("a street administrator imported devices: %d %s", r.status, excerpt(r.body))
	}
	if strings.Contains(s.get("/sensors/admin").body, "已导入") {
		t.Error("the street administrator's page says something was imported")
	}
}

func hasKind(ks []sensors.Kind, code string) bool { return kindName(ks, code) != "" }

func kindName(ks []sensors.Kind, code string) string {
	for _, k := range ks {
		if k.Code == code {
			return k.Name
		}
	}
	return ""
}
