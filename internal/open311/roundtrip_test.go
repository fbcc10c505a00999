package open311_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// TestRoundTrip reports through Open311, dispatches and closes the case in
// the domain (service.Act, as the commander, the unit and the grid worker),
// and follows it back through Open311: its status and its updates.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	svc := plat.Service
	since := plat.Service.Now().Add(-time.Second)
	form := aq01(t, demoKey)
	form.Set("attribute[equipment]", "lpg")
	id := report(t, "xml", form)
	c, err := plat.DB.Case(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Like any report: in its grid, in the street center's queue.
	queue, err := svc.List(ctx, actor(t, "syl_zhihui"), store.CaseFilter{States: []cases.State{cases.Reported}, Source: "open311", Limit: 500})
	if err != nil || !slices.ContainsFunc(queue, func(q cases.Case) bool { return q.ID == c.ID }) {
		t.Fatalf("case %s not in 石油路街道's queue (%v)", id, err)
	}

	status := func(f string) map[string]string {
		t.Helper()
		req := requestOf(t, f, get(t, "/open311/v2/requests/"+id+"."+f))
		if len(req) != 1 {
			t.Fatalf("requests/%s: %v", id, req)
		}
		return req[0]
	}
	commander, unit, worker := actor(t, "syl_zhihui"), actor(t, "yj_staff"), actor(t, "zhouchunyan")
	act := func(a cases.Actor, cmd cases.Command) {
		t.Helper()
		if _, _, err := svc.Act(ctx, a, c.ID, cmd, 0); err != nil {
			t.Fatalf("%s by %s: %v", cmd.Action, a.Name, err)
		}
	}
	act(commander, cases.Command{Action: cases.ActAccept})
	act(commander, cases.Command{Action: cases.ActDispatch, Lead: "yj", Co: []string{"xf"}})
	for _, f := range formats {
		r := status(f)
		if r["status"] != "open" || r["status_notes"] != "待签收" || r["agency_responsible"] != "区应急管理局" || !w3c.MatchString(r["expected_datetime"]) {
			t.Fatalf("%s after dispatch: %v", f, r)
		}
	}
	act(unit, cases.Command{Action: cases.ActSign})
	act(unit, cases.Command{Action: cases.ActHandle, Note: "内部进展：已约谈店主"})
	photo, err := svc.SavePhoto(bytes.NewReader(pngImage(t, 7)), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	act(unit, cases.Command{Action: cases.ActFeedback, Note: "液化气罐已清除", Photos: []cases.Photo{photo}})
	// The co-unit finishes its own task while the case waits for
	// verification; only then may the grid worker's verification close it.
	fire := actor(t, "xf_staff")
	act(fire, cases.Command{Action: cases.ActSign})
	act(fire, cases.Command{Action: cases.ActFeedback, Note: "已配合检查消防器材"})
	yes := true
	act(worker, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "现场核查通过"})

	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			r := status(f)
			if r["status"] != "closed" || r["status_notes"] != "已结案" || r["agency_responsible"] != "区应急管理局" || r["expected_datetime"] != "" {
				t.Fatalf("closed request: %v", r)
			}
			if up, _ := time.Parse(time.RFC3339, r["updated_datetime"]); up.Before(since) {
				t.Fatalf("updated_datetime %s", r["updated_datetime"])
			}
			// It is found as closed and as updated since the report.
			for _, q := range []string{"status=closed", "updated_after=" + url.QueryEscape(since.Format(time.RFC3339)), "service_request_id=" + id} {
				got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?"+q))
				if !slices.ContainsFunc(got, func(m map[string]string) bool { return m["service_request_id"] == id && m["status"] == "closed" }) {
					t.Fatalf("%s: closed request %s not listed", q, id)
				}
			}
			if got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?status=open")); slices.ContainsFunc(got, func(m map[string]string) bool { return m["service_request_id"] == id }) {
				t.Fatal("closed request listed as open")
			}

			// The updates: accept, dispatch, the signature, the feedback with
			// its photo, the verification that closed it; the internal
			// progress note is not published.
			want := []string{"受理。当前状态：待派遣", "派遣（区应急管理局）。当前状态：待签收", "签收（区应急管理局）。当前状态：处置中",
				"反馈（区应急管理局）：液化气罐已清除。当前状态：待核查", "签收（区消防救援支队）。当前状态：待核查",
				"反馈（区消防救援支队）：已配合检查消防器材。当前状态：待核查", "核查：现场核查通过。当前状态：已结案"}
			// A window reads up to the feed's position as of its first
			// page. On PostgreSQL that position stays below every
			// transaction the snapshot saw running, those of other
			// databases excepted as pg_stat_activity lists them a moment
			// later: one that ended in between holds the position back
			// for that read (never past a step, so nothing is lost: the
			// cursor the window hands on reads it). Under other packages'
			// tests a window read just after settled may so end before
			// the last step; it is read again until it holds every step,
			// within a few seconds.
			var mine []map[string]string
			var descs []string
			for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				settled(t)
				ups := updatesOf(t, f, get(t, "/open311/v2/servicerequestupdates."+f+"?api_key="+demoKey+"&start_date="+url.QueryEscape(since.Format(time.RFC3339))+"&end_date="+url.QueryEscape(plat.Service.Now().Add(time.Minute).Format(time.RFC3339))))
				mine, descs = nil, nil
				for _, u := range ups {
					if u["service_request_id"] == id {
						mine = append(mine, u)
						descs = append(descs, u["description"])
					}
				}
				if slices.Equal(descs, want) || len(descs) >= len(want) || time.Now().After(end) {
					break
				}
			}
			if !slices.Equal(descs, want) {
				t.Fatalf("updates\n got %q\nwant %q", descs, want)
			}
			for i, u := range mine {
				st := "open"
				if i == len(mine)-1 {
					st = "closed"
				}
				if u["status"] != st || !w3c.MatchString(u["updated_datetime"]) || u["update_id"] == "" {
					t.Fatalf("update %d: %v", i, u)
				}
				if i > 0 && u["updated_datetime"] < mine[i-1]["updated_datetime"] {
					t.Fatal("updates out of order")
				}
			}
			mu := mine[3]["media_url"]
			if !strings.HasPrefix(mu, srv.URL+"/open311/v2/media/"+id+"/"+photo.Hash) {
				t.Fatalf("feedback media_url %q", mu)
			}
			if resp, err := srv.Client().Get(mu); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("feedback photo: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			// A window before the report holds none of its updates.
			old := updatesOf(t, f, get(t, "/open311/v2/servicerequestupdates."+f+"?api_key="+demoKey+"&end_date="+url.QueryEscape(since.Add(-time.Minute).Format(time.RFC3339))))
			if slices.ContainsFunc(old, func(u map[string]string) bool { return u["service_request_id"] == id }) {
				t.Fatal("an update before the report")
			}
		})
	}
}

// updatesOf reads a service_requests_updates answer, checking the element
// names and order (XML) or that ids are strings (JSON).
func updatesOf(t *testing.T, f string, r reply) []map[string]string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatal(r)
	}
	if f == "xml" {
		return xmlItems(t, r, "service_requests_updates", "request_update", updateFields)
	}
	var out []map[string]string
	for _, u := range jsonArray(t, parseJSON(t, r)) {
		if !slices.Equal(keysOf(u), sorted(updateFields)) {
			t.Fatalf("update keys %v", keysOf(u))
		}
		m := map[string]string{}
		for _, k := range updateFields {
			if u[k] == nil {
				continue
			}
			m[k] = str(t, u, k)
		}
		out = append(out, m)
	}
	return out
}
