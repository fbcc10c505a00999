package api_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"zhizhi/internal/api"
	"zhizhi/internal/cases"
)

// TestListItems: a listing answers each case as a list shows it, taken
// from the same case the detail page answers (its countdown too), with
// nothing of what only the detail page carries (reporter, full
// description, photos, clocks).
func TestListItems(t *testing.T) {
	long := "测试列表摘要 <b>&amp;</b> \u2028" + strings.Repeat("路面塌陷积水，", 30)
	c := report(t, map[string]any{"description": long, "photos": []photoRef{{Hash: upload(t, "zhouchunyan", 40).Hash}}})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "yj", "co_units": []string{"scjg"}})
	act(t, "yj_staff", c.ID, map[string]any{"action": "sign"})
	fresh := report(t, nil)
	for _, id := range []string{c.ID, fresh.ID} {
		var d struct {
			Case map[string]any `json:"case"`
		}
		mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/cases/"+id, nil), &d)
		var page struct {
			Items []map[string]any `json:"items"`
		}
		mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/cases?q="+url.QueryEscape(d.Case["number"].(string)), nil), &page)
		if len(page.Items) != 1 {
			t.Fatalf("listing by number %s: %d items", d.Case["number"], len(page.Items))
		}
		it := page.Items[0]
		for _, k := range []string{"id", "number", "version", "source", "category", "board", "severity", "state", "stage", "address", "point",
			"grid_code", "region_path", "center_path", "reported_at", "updated_at", "overdue", "clock_status", "due"} {
			if g, w := jsonText(t, it[k]), jsonText(t, d.Case[k]); g != w {
				t.Errorf("%s: item's %s %s, detail's %s", id, k, g, w)
			}
		}
		for _, k := range []string{"description", "reporter", "photos", "clock", "answers"} {
			if _, ok := it[k]; ok {
				t.Errorf("%s: item has %s", id, k)
			}
		}
		desc := d.Case["description"].(string)
		if got, want := it["summary"], cases.Summarize(desc, cases.SummaryRunes); got != want {
			t.Errorf("%s: summary %q, want %q", id, got, want)
		}
		var tasks []map[string]any
		for _, task := range asList(d.Case["tasks"]) {
			m := task.(map[string]any)
			tasks = append(tasks, map[string]any{"unit_id": m["unit_id"], "role": m["role"], "state": m["state"]})
		}
		if g, w := jsonText(t, it["tasks"]), jsonText(t, tasks); (len(tasks) > 0 || it["tasks"] != nil) && g != w {
			t.Errorf("%s: item's tasks %s, detail's %s", id, g, w)
		}
		if id == c.ID {
			if it["photo_count"] != 1.0 || it["clock_key"] == nil || !strings.HasSuffix(it["summary"].(string), "…") {
				t.Errorf("dispatched case's item %v", it)
			}
		}
	}
}

// TestListEncoderAgrees: the listing is encoded by goccy/go-json; decoded
// and encoded again by encoding/json (as writeJSON does, HTML not escaped),
// a whole page of the demo's cases gives the same bytes.
func TestListEncoderAgrees(t *testing.T) {
	report(t, map[string]any{"description": "编码 <b>&</b> \u2028 \u2029 \"引号\" \\ 结束"})
	for _, q := range []string{"limit=3", "limit=500", "limit=500&open=true", "limit=200&q=" + url.QueryEscape("编码")} {
		body := as(t, "qu_zhihui", 200, "GET", "/api/v1/cases?"+q, nil)
		var page api.ListPage
		mustJSON(t, body, &page)
		if len(page.Items) == 0 {
			t.Fatalf("%s: empty page", q)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(page); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), body) {
			i := 0
			for i < len(body) && i < buf.Len() && body[i] == buf.Bytes()[i] {
				i++
			}
			t.Errorf("%s: the answer and encoding/json differ at byte %d:\n answer …%.120s\n std    …%.120s", q, i, body[i:], buf.Bytes()[i:])
		}
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
