package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// The audit trail of a unit or a category, as the edit pages show it: who
// changed it, when, and each field before → after, in Chinese.

// auditLimit bounds the entries an edit page shows.
const auditLimit = 50

type auditRow struct {
	Who, When, Action string
	Changes           []auditChange
}

type auditChange struct {
	Field, Before, After string
}

// auditFields are the fields of each kind of record, in the order the trail
// lists them, with their Chinese names.
var auditFields = map[string][]struct{ Key, Label string }{
	"unit": {{"name", "名称"}, {"kind", "类型"}, {"board", "板块"}, {"parent", "所属板块"}, {"region_path", "所属区域"}, {"active", "状态"}},
	"category": {{"name", "名称"}, {"board", "板块"}, {"level", "责任层级"}, {"version", "版本"}, {"default_unit", "默认部门"},
		{"keywords", "关键词"}, {"description", "说明"}, {"limits", "时限"}, {"questions", "问题"}, {"public", "公开"}, {"active", "状态"}},
}

func (c *Console) auditTrail(r *http.Request, kind, objectID string) ([]auditRow, error) {
	entries, err := c.svc.AuditLogAs(r.Context(), actorOf(r), store.AuditFilter{Kind: kind, ObjectID: objectID, Limit: auditLimit})
	if err != nil {
		return nil, err
	}
	var out []auditRow
	for _, e := range entries {
		row := auditRow{Who: e.ActorName, When: c.when(e.At), Action: "修改"}
		if row.Who == "" {
			row.Who = "系统"
		}
		if e.Action == "create" {
			row.Action = "新建"
		}
		before, after := docOf(e.Before), docOf(e.After)
		known := map[string]bool{"id": true, "code": true}
		for _, f := range auditFields[kind] {
			known[f.Key] = true
			if ch, ok := c.auditChange(kind, f.Key, f.Label, before, after, e.Action == "create"); ok {
				row.Changes = append(row.Changes, ch)
			}
		}
		var rest []string
		for k := range after {
			if !known[k] {
				rest = append(rest, k)
			}
		}
		for k := range before {
			if _, ok := after[k]; !ok && !known[k] {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		for _, k := range rest {
			if ch, ok := c.auditChange(kind, k, k, before, after, e.Action == "create"); ok {
				row.Changes = append(row.Changes, ch)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func docOf(raw json.RawMessage) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if len(raw) > 0 {
		json.Unmarshal(raw, &m)
	}
	return m
}

// auditChange words one field's change; a created record lists every field
// it was created with.
func (c *Console) auditChange(kind, key, label string, before, after map[string]json.RawMessage, created bool) (auditChange, bool) {
	b, a := before[key], after[key]
	if bytes.Equal(bytes.TrimSpace(b), bytes.TrimSpace(a)) {
		return auditChange{}, false
	}
	ch := auditChange{Field: label, Before: c.auditValue(kind, key, b), After: c.auditValue(kind, key, a)}
	if created {
		ch.Before = ""
		if ch.After == "（空）" {
			return auditChange{}, false
		}
	}
	if ch.Before == ch.After {
		return auditChange{}, false
	}
	return ch, true
}

// auditValue shows a field's value the way the console names it.
func (c *Console) auditValue(kind, key string, raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return "（空）"
	}
	var s string
	str := json.Unmarshal(raw, &s) == nil
	switch key {
	case "active":
		if string(raw) == "true" {
			return "启用"
		}
		return "停用"
	case "public":
		if string(raw) == "true" {
			return "公开"
		}
		return "不公开"
	case "kind":
		if str {
			return cases.UnitKindLabel(s)
		}
	case "board":
		if str {
			return cases.Board(s).Label()
		}
	case "parent", "default_unit":
		if str {
			return c.unitName(s)
		}
	case "region_path":
		if str {
			return joinNames(c.svc.PathNames(s), 1)
		}
	case "level":
		if str {
			return levelLabel(s)
		}
	case "keywords":
		var ks []string
		if json.Unmarshal(raw, &ks) == nil {
			return strings.Join(ks, "，")
		}
	case "limits":
		var t sla.Table
		if json.Unmarshal(raw, &t) == nil {
			return limitsText(t)
		}
	case "questions":
		var qs []cases.Question
		if json.Unmarshal(raw, &qs) == nil {
			return fmt.Sprintf("%d 个问题", len(qs))
		}
	}
	if str {
		return cut(s, 80)
	}
	return cut(string(raw), 80)
}

// limitsText writes a limits table cell by cell (环节·紧急程度 时限).
func limitsText(t sla.Table) string {
	if len(t) == 0 {
		return "默认"
	}
	var parts []string
	for _, st := range sla.Stages() {
		for _, sev := range sla.Severities() {
			if l, ok := t[st][sev]; ok {
				parts = append(parts, st.Label()+"·"+sev.Label()+" "+l.String())
			}
		}
	}
	return strings.Join(parts, "；")
}
