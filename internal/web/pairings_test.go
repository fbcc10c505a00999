package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// TestPairingsConsole: an administrator records a leader's pairing from the
// console (/admin/pairings), every bad input is refused next to its field
// with nothing stored, a street's administrator may pair only inside the
// street and cannot remove the district's pairing, and the district's
// administrator removes it. Every change is in the audit log.
func TestPairingsConsole(t *testing.T) {
	ctx := context.Background()
	liu, err := plat.DB.AccountByUsername(ctx, "liu_quzhang")
	if err != nil {
		t.Fatal(err)
	}
	admin := signIn(t, "admin")
	expect(t, admin.get("/admin/pairings"), http.StatusOK, "领导包联", "刘区长", `name="kind"`, "重点企业")

	comms, err := plat.DB.Regions(ctx, store.RegionFilter{Level: region.Community})
	if err != nil || len(comms) < 2 {
		t.Fatal("communities", err)
	}
	syl, err := plat.DB.AccountByUsername(ctx, "syl_zhihui")
	if err != nil {
		t.Fatal(err)
	}
	var inside, outside store.RegionRecord
	for _, c := range comms {
		if strings.HasPrefix(c.Path, syl.RegionPath) {
			inside = c
		} else {
			outside = c
		}
	}
	loc := plat.Service.Calendar().Location()
	today := plat.Service.Now().In(loc)
	from, last := today.Format(time.DateOnly), today.AddDate(1, 0, -1).Format(time.DateOnly)
	count := func() int {
		t.Helper()
		ps, err := plat.Service.Pairings(ctx, actor(t, "admin"), liu.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	before := count()
	good := func() url.Values {
		return url.Values{"leader_id": {liu.ID}, "kind": {"community"}, "target": {outside.Code}, "from": {from}, "last": {last}, "note": {"四下基层 包联社区"}}
	}
	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"no leader", "leader_id", "", "请选择包联领导"},
		{"not a leader", "leader_id", syl.ID, ""},
		{"no kind", "kind", "", "请选择包联对象类型"},
		{"unknown kind", "kind", "planet", "包联对象类型应为"},
		{"no target", "target", "", "请选择包联对象"},
		{"a street code as a community", "target", "500103001", "区域不存在或不是社区"},
		{"a bad start day", "from", "2026-13-01", "开始日期应为YYYY-MM-DD"},
		{"no start day", "from", "", "请填写开始日期"},
		{"the end before the start", "last", today.AddDate(0, 0, -1).Format(time.DateOnly), "结束日期须晚于开始日期"},
	} {
		f := good()
		f.Set(tc.field, tc.value)
		r := admin.post("/admin/pairings", f)
		expect(t, r, http.StatusBadRequest, `data-field="`+tc.field+`"`, tc.want)
		if n := count(); n != before {
			t.Fatalf("%s: %d pairings, want %d", tc.name, n, before)
		}
	}
	// An enterprise needs its name and where it is.
	f := good()
	f.Set("kind", "enterprise")
	f.Set("target", "91500103MA5U8K0X3K")
	expect(t, admin.post("/admin/pairings", f), http.StatusBadRequest, `data-field="target_name"`, `data-field="region"`)

	// A street's administrator pairs inside the street only.
	street := signIn(t, streetAdmin(t))
	f = good()
	expect(t, street.post("/admin/pairings", f), http.StatusBadRequest, "只能为本辖区")
	if n := count(); n != before {
		t.Fatalf("a street's administrator paired outside the street: %d", n)
	}
	f.Set("target", inside.Code)
	if r := street.post("/admin/pairings", f); r.status != http.StatusSeeOther {
		t.Fatalf("inside the street: %d %s", r.status, excerpt(r.body))
	}

	// The district's administrator pairs the leader with the other community.
	r := admin.post("/admin/pairings", good())
	if r.status != http.StatusSeeOther {
		t.Fatalf("pair: %d %s", r.status, excerpt(r.body))
	}
	expect(t, admin.get(r.location), http.StatusOK, "已安排包联", outside.Name, from+" 至 "+last, "包联中")
	ps, _ := plat.Service.Pairings(ctx, actor(t, "admin"), liu.ID, time.Time{})
	var id string
	for _, p := range ps {
		if p.Target == outside.Code && p.Note == "四下基层 包联社区" {
			id = p.ID
			if p.From.In(loc).Format("2006-01-02 15:04") != from+" 00:00" {
				t.Errorf("from %s, want %s", p.From, from)
			}
			if got := p.To.In(loc).Format(time.DateOnly); got != today.AddDate(1, 0, 0).Format(time.DateOnly) {
				t.Errorf("to %s: the last day is inclusive", got)
			}
		}
	}
	if id == "" || len(ps) != before+2 {
		t.Fatalf("pairings of the leader: %+v", ps)
	}
	log, err := plat.DB.AuditLog(ctx, store.AuditFilter{Kind: "pairing", ObjectID: id})
	if err != nil || len(log) != 1 || log[0].Action != "create" {
		t.Fatalf("audit of the pairing: %v %+v", err, log)
	}

	// Removing it: not the street's administrator, the district's.
	if r := street.post("/admin/pairings/"+id+"/delete", url.Values{}); r.status != http.StatusNotFound {
		t.Fatalf("a street's administrator removed the district's pairing: %d", r.status)
	}
	r = admin.post("/admin/pairings/"+id+"/delete", url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", r.status, excerpt(r.body))
	}
	expect(t, admin.get(r.location), http.StatusOK, "已取消包联")
	if n := count(); n != before+1 {
		t.Fatalf("after removal: %d pairings, want %d", n, before+1)
	}
}
