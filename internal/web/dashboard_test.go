package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"zhizhi/internal/store"
)

var dashDataRE = regexp.MustCompile(`(?s)<script type="application/json" id="dash-data">(.*?)</script>`)

type dashChart struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Items []struct {
		Key      string `json:"key"`
		Name     string `json:"name"`
		Reported int    `json:"reported"`
		Href     string `json:"href"`
	} `json:"items"`
}

func charts(t *testing.T, body string) map[string]dashChart {
	t.Helper()
	m := dashDataRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no chart data: %s", excerpt(body))
	}
	var list []dashChart
	if err := json.Unmarshal([]byte(m[1]), &list); err != nil {
		t.Fatalf("chart data: %v\n%s", err, m[1])
	}
	out := map[string]dashChart{}
	for _, c := range list {
		out[c.ID] = c
	}
	return out
}

func TestDashboard(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "看板测试：垃圾清运不及时")
	lead := signIn(t, "leader")
	r := lead.get("/dashboard")
	expect(t, r, 200, "数据看板", "上报", "按期办结率", "当前超期未结", "各板块案件", "各街道案件", "每日上报与办结",
		asset(t, "vendor/echarts/echarts.simple.min.js"), asset(t, "dashboard.js"))
	ch := charts(t, r.body)
	if len(ch) != 4 || len(ch["day"].Items) != 30 || ch["board"].Kind != "pie" {
		t.Fatalf("charts %+v", ch)
	}
	// The honest overdue figure is the board's: open cases past due now.
	open, overdue := true, true
	n, err := plat.Service.Count(t.Context(), actor(t, "leader"), store.CaseFilter{Open: &open, Overdue: &overdue})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`id="overdue-now"><b>` + itoa(n) + `</b>`).MatchString(r.body) {
		t.Errorf("dashboard's open overdue figure is not %d", n)
	}
	// Drill down: the category's bar lists its cases; a street's bar opens
	// the street's dashboard by community; a day lists that day's cases.
	var catHref, streetHref string
	for _, it := range ch["category"].Items {
		if it.Key == "MS03" {
			catHref = it.Href
		}
	}
	street := strings.Split(strings.Trim(cs.RegionPath, "/"), "/")[2]
	for _, it := range ch["area"].Items {
		if it.Key == street {
			streetHref = it.Href
		}
	}
	if catHref == "" || streetHref == "" {
		t.Fatalf("no drill-down for MS03 or street %s: %+v / %+v", street, ch["category"].Items, ch["area"].Items)
	}
	expect(t, lead.get(catHref), 200, "案件明细", cs.Number, "暴露垃圾")
	sr := lead.get(streetHref)
	expect(t, sr, 200, plat.Service.RegionName(street), "各社区案件")
	last := ch["day"].Items[len(ch["day"].Items)-1]
	expect(t, lead.get(last.Href), 200, cs.Number)
	expect(t, lead.get("/dashboard/cases?overdue=1"), 200, "当前超期未结")

	// The period: quick choices and dates; wrong dates are said in Chinese.
	expect(t, lead.get("/dashboard?days=7"), 200, `<option value="7" selected>`)
	expect(t, lead.get("/dashboard?from=2026-01-01&to=2026-01-31"), 200, "2026-01-01 至 2026-01-31")
	expect(t, lead.get("/dashboard?from=2026-13-01&to=x"), 400, "日期格式应为")
	expect(t, lead.get("/dashboard?from=2026-03-01&to=2026-02-01"), 400, "结束日期不能早于开始日期")
	expect(t, lead.get("/dashboard?from=2020-01-01&to=2026-01-01"), 400, "不能超过366天")
	// Scope: a street's commander cannot look into another street.
	jfb := signIn(t, "jfb_zhihui")
	expect(t, jfb.get("/dashboard?region="+street), 400, "不在您的管辖范围内")
	if r := jfb.get("/dashboard?days=365"); strings.Contains(r.body, cs.Number) || len(charts(t, r.body)["area"].Items) > 0 && strings.Contains(r.body, `"key":"`+street+`"`) {
		t.Error("another street's dashboard counts the case")
	}
	if r := signIn(t, "yj_staff").get("/dashboard"); r.status != http.StatusForbidden {
		t.Errorf("unit staff: %d", r.status)
	}

	// CSV: UTF-8 with a byte-order mark, every table, Chinese names.
	r = lead.get("/dashboard/export?days=30&format=csv")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.header.Get("Content-Disposition"), "filename*=UTF-8''%E6%95%B0%E6%8D%AE%E7%9C%8B%E6%9D%BF") {
		t.Fatalf("CSV export: %d %v", r.status, r.header)
	}
	for _, want := range []string{"\uFEFF合计", "按板块", "民生服务", "按类别（前10）", "暴露垃圾", "按街道", plat.Service.RegionName(street), "按日期", "名称,上报,已办结,按期办结,未结,超期未结,按期办结率"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("CSV lacks %q:\n%.600s", want, r.body)
		}
	}
	// Excel: a valid workbook with one sheet per table.
	r = lead.get("/dashboard/export?days=30&format=xlsx")
	if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("xlsx export: %d %v", r.status, r.header)
	}
	sheets := readXLSX(t, []byte(r.body))
	if len(sheets) != 5 || sheets[1].name != "按板块" || sheets[2].name != "按类别（前10）" {
		t.Fatalf("workbook sheets: %+v", sheets)
	}
	if row := sheets[2].rows[0]; strings.Join(row, ",") != "名称,上报,已办结,按期办结,未结,超期未结,按期办结率" {
		t.Fatalf("header row %q", row)
	}
	found := false
	for _, row := range sheets[2].rows {
		if row[0] == "暴露垃圾" && row[1] != "" && row[1] != "0" {
			found = true
		}
	}
	if !found {
		t.Fatalf("category sheet lacks 暴露垃圾 with a count: %+v", sheets[2].rows)
	}
	expect(t, lead.get("/dashboard/export?format=pdf"), 400, "导出格式应为 csv 或 xlsx")

	// The cases behind a figure export too.
	r = lead.get(strings.Replace(catHref, "/dashboard/cases?", "/dashboard/cases/export?format=xlsx&", 1))
	rows := readXLSX(t, []byte(r.body))[0].rows
	if rows[0][0] != "编号" || !strings.Contains(flatten(rows), cs.Number) || !strings.Contains(flatten(rows), "看板测试：垃圾清运不及时") {
		t.Fatalf("case export rows: %v", rows[:min(3, len(rows))])
	}
	r = lead.get(strings.Replace(catHref, "/dashboard/cases?", "/dashboard/cases/export?format=csv&", 1))
	if !strings.Contains(r.body, cs.Number) || !strings.HasPrefix(r.body, "\uFEFF编号,状态") {
		t.Fatalf("case CSV: %.300s", r.body)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func flatten(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|"))
		b.WriteString("\n")
	}
	return b.String()
}

type xlsxSheet struct {
	name string
	rows [][]string
}

// readXLSX opens a workbook as Excel would: the zip, the content types, the
// workbook's sheets through its relationships, and each sheet's cells.
func readXLSX(t *testing.T, data []byte) []xlsxSheet {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
		if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`)) {
			t.Errorf("%s does not start with an XML declaration", f.Name)
		}
		var any struct{}
		if err := xml.Unmarshal(b, &any); err != nil {
			t.Errorf("%s is not well-formed XML: %v", f.Name, err)
		}
	}
	for _, part := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"} {
		if files[part] == nil {
			t.Fatalf("workbook lacks %s (has %v)", part, keys(files))
		}
	}
	var book struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(files["xl/workbook.xml"], &book); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(files["xl/_rels/workbook.xml.rels"], &rels); err != nil {
		t.Fatal(err)
	}
	target := map[string]string{}
	for _, r := range rels.Rel {
		target[r.ID] = "xl/" + r.Target
	}
	var out []xlsxSheet
	for _, s := range book.Sheets {
		part := target[s.RID]
		if !strings.Contains(string(files["[Content_Types].xml"]), `PartName="/`+part+`"`) {
			t.Errorf("content types lack %s", part)
		}
		var ws struct {
			Rows []struct {
				R     int `xml:"r,attr"`
				Cells []struct {
					Ref    string `xml:"r,attr"`
					Type   string `xml:"t,attr"`
					Value  string `xml:"v"`
					Inline string `xml:"is>t"`
				} `xml:"c"`
			} `xml:"sheetData>row"`
		}
		if err := xml.Unmarshal(files[part], &ws); err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		sh := xlsxSheet{name: s.Name}
		for i, row := range ws.Rows {
			if row.R != i+1 {
				t.Fatalf("%s: row %d numbered %d", part, i+1, row.R)
			}
			var cells []string
			for _, c := range row.Cells {
				if c.Type == "inlineStr" {
					cells = append(cells, c.Inline)
				} else {
					cells = append(cells, c.Value)
				}
			}
			sh.rows = append(sh.rows, cells)
		}
		out = append(out, sh)
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
