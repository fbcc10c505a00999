package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/api"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The signed routes' scope matrix. TestStreetAdminScopeMatrix covers the
// routes only administrators may call; the routes any signed-in account may
// call leave the decision to the service (by role and region), and this
// matrix tries every one of them from outside: a street's commander and its
// administrator reaching for another street's things, and another street's
// commander reaching for theirs. Every signed route must have an entry, so
// a new route cannot escape; an entry is a probe, or the reason the route
// has no scope to breach (the caller's own data, or reference data every
// signed account reads), or the name of the test that already probes it
// (checked to exist and to call the route).

// scopeWorld is what the probes reach for: things inside 石油路街道 and
// things outside it, with the accounts on either side.
type scopeWorld struct {
	syl, hlq, jfb        string // street paths: 石油路, 化龙桥, 解放碑
	sylGrid, jfbGrid     string // grid codes
	sylCase              string // a case in 石油路
	patrol, person, msg  string // 石油路 grid work: a patrol, a person on the roster, a door message
	place                string // the place of that person
	enterprise, request  string // a 化龙桥 enterprise and one of its requests
	class                string // a 化龙桥 policy class
	pairing              string // a pairing whose target lies outside 石油路
	visit, list, project string // a visit, a list and a project outside 石油路
	cadre                string // 解放碑's commander, a cadre outside 石油路
}

var (
	scopeWorldOnce sync.Once
	scopeWorldVal  scopeWorld
)

// idOutside returns the id of the first item of a listing (read by the
// district administrator) whose region_path is not under street.
func idOutside(t *testing.T, path, street string) string {
	t.Helper()
	var list struct {
		Items []struct {
			ID         string `json:"id"`
			RegionPath string `json:"region_path"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", path, nil), &list)
	for _, it := range list.Items {
		if it.RegionPath != "" && !strings.HasPrefix(it.RegionPath, street) {
			return it.ID
		}
	}
	t.Fatalf("%s: nothing outside %s to probe with", path, street)
	return ""
}

func world(t *testing.T) scopeWorld {
	t.Helper()
	scopeWorldOnce.Do(func() {
		ctx := context.Background()
		w := &scopeWorldVal
		path := func(user string) string {
			a, err := plat.DB.AccountByUsername(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			return a.RegionPath
		}
		w.syl, w.hlq, w.jfb = path("syl_zhihui"), path("hlq_lingdao"), path("jfb_zhihui")
		w.sylGrid, _ = gridOf(t, "yangshipei")
		grids, err := plat.DB.Regions(ctx, store.RegionFilter{Under: w.jfb, Level: "grid"})
		if err != nil || len(grids) == 0 {
			t.Fatalf("grids of 解放碑: %v", err)
		}
		w.jfbGrid = grids[0].Code
		w.sylCase = report(t, nil).ID

		// 石油路's grid work: a patrol, a person and a door message.
		rg, _ := plat.DB.Region(ctx, w.sylGrid)
		c := rg.Shape.Centroid()
		now := plat.Service.Now().UTC()
		var fixes []map[string]any
		for i := 0; i < 10; i++ {
			fixes = append(fixes, map[string]any{"lng": c.Lng + float64(i)*0.00004, "lat": c.Lat, "at": now.Add(time.Duration(i-12) * time.Minute), "accuracy": 5})
		}
		var pr struct {
			Patrol struct {
				ID string `json:"id"`
			} `json:"patrol"`
		}
		mustJSON(t, as(t, "yangshipei", 201, "POST", "/api/v1/patrols", map[string]any{"client_ref": fmt.Sprintf("scope-%d", now.UnixNano()),
			"grid": w.sylGrid, "started_at": now.Add(-13 * time.Minute), "ended_at": now.Add(-time.Minute), "fixes": fixes}), &pr)
		w.patrol = pr.Patrol.ID
		var place, person struct {
			ID string `json:"id"`
		}
		mustJSON(t, as(t, "yangshipei", 200, "PUT", "/api/v1/grids/"+w.sylGrid+"/places", map[string]any{"kind": "household", "name": "范围测试户"}), &place)
		mustJSON(t, as(t, "yangshipei", 200, "PUT", "/api/v1/grids/"+w.sylGrid+"/people", map[string]any{"place_id": place.ID, "name": "范围测试居民", "phone": "13900001111"}), &person)
		w.person, w.place = person.ID, place.ID
		tok, err := plat.Service.FormToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msg, _, err := plat.Service.PostGridMessage(ctx, service.Knock{Client: "192.0.2.77", Token: tok}, w.sylGrid,
			gridwork.MessageInput{Phone: "13900003333", Text: "范围测试：楼道灯不亮"})
		if err != nil {
			t.Fatal(err)
		}
		w.msg = msg.ID

		w.enterprise = idOutside(t, "/api/v1/enterprises", w.syl)
		w.class = idOutside(t, "/api/v1/enterprise/classes", w.syl)
		var reqs struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		mustJSON(t, as(t, "qiye", 200, "GET", "/api/v1/enterprise/requests", nil), &reqs)
		if len(reqs.Items) == 0 {
			t.Fatal("the demo enterprise has no requests")
		}
		w.request = reqs.Items[0].ID
		w.pairing = idOutside(t, "/api/v1/pairings", w.syl)
		w.visit = idOutside(t, "/api/v1/visits?limit=500", w.syl)
		w.list = idOutside(t, "/api/v1/lists", w.syl)
		w.project = idOutside(t, "/api/v1/projects", w.syl)
		jfb, _ := plat.DB.AccountByUsername(ctx, "jfb_zhihui")
		w.cadre = jfb.ID
	})
	if scopeWorldVal.syl == "" {
		t.Fatal("the scope world was not built")
	}
	return scopeWorldVal
}

// refused calls as user and wants 403 or 404 (a record outside the caller's
// scope may be answered as if it did not exist).
func refused(t *testing.T, user, method, path string, body any) {
	t.Helper()
	if st, out := call(t, token(t, user), method, path, body); st != http.StatusForbidden && st != http.StatusNotFound {
		t.Errorf("%s %s %s: %d %.300s", user, method, path, st, out)
	}
}

// unchanged reads path as the district administrator around fn and fails
// when the answer differs.
func unchanged(t *testing.T, path string, fn func()) {
	t.Helper()
	before := as(t, "admin", 200, "GET", path, nil)
	fn()
	if after := as(t, "admin", 200, "GET", path, nil); string(after) != string(before) {
		t.Errorf("%s changed by a refused request:\n%.400s\n%.400s", path, before, after)
	}
}

// pathKeys are the fields that place an item in the region tree.
var pathKeys = map[string]bool{"region_path": true, "grid_path": true, "path": true}

// onlyUnder reads a listing as user and fails for any item placed outside
// street (a path that is neither under street nor one of its ancestors:
// the district's own lists and projects reach every street).
func onlyUnder(t *testing.T, user, path, street string) {
	t.Helper()
	st, out := call(t, token(t, user), "GET", path, nil)
	if st == http.StatusForbidden {
		return // not this role's listing at all
	}
	if st != http.StatusOK {
		t.Fatalf("%s GET %s: %d %.300s", user, path, st, out)
	}
	var v any
	mustJSON(t, out, &v)
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && pathKeys[k] && strings.HasPrefix(s, "/") {
					if !strings.HasPrefix(s, street) && !strings.HasPrefix(street, s) {
						t.Errorf("%s GET %s: lists something at %s (%s), outside %s", user, path, s, k, street)
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// signedEntry is a route's entry in the matrix: a probe, or a reason why
// the route has no scope to breach, or the test that probes it.
type signedEntry struct {
	probe  func(t *testing.T, w scopeWorld)
	reason string // own data or reference data
	test   string // the name of a test in this package that probes the route
}

func own(why string) signedEntry       { return signedEntry{reason: why} }
func probedBy(test string) signedEntry { return signedEntry{test: test} }
func probe(fn func(t *testing.T, w scopeWorld)) signedEntry {
	return signedEntry{probe: fn}
}

// listing probes a listing as 石油路's commander and administrator and as
// 解放碑's commander: nothing outside their street.
func listing(path string) signedEntry {
	return probe(func(t *testing.T, w scopeWorld) {
		onlyUnder(t, "syl_zhihui", path, w.syl)
		onlyUnder(t, "syl_admin", path, w.syl)
		onlyUnder(t, "jfb_zhihui", path, w.jfb)
	})
}

func TestSignedRouteScopeMatrix(t *testing.T) {
	streetAdmin(t) // syl_admin
	w := world(t)
	entries := map[string]signedEntry{
		// The caller's own session and account.
		"DELETE /api/v1/sessions": own("revokes the caller's own token"),
		"GET /api/v1/me":          own("the caller's own account"),
		"POST /api/v1/photos":     own("stores a photo the caller uploads; it reaches a case only through a case action in scope (TestPhotoAccess…)"),
		"GET /api/v1/leader/home": probe(func(t *testing.T, w scopeWorld) {
			for _, u := range []string{"syl_zhihui", "syl_admin", "jumin", "qiye", "yj_staff"} {
				refused(t, u, "GET", "/api/v1/leader/home", nil)
			}
		}),
		// Notifications: each person's own inbox, preferences and devices.
		"GET /api/v1/notifications":             own("the caller's own inbox"),
		"GET /api/v1/notifications/unread":      own("the caller's own unread count"),
		"GET /api/v1/notifications/events":      own("the caller's own inbox, live"),
		"POST /api/v1/notifications/read":       own("marks the caller's own notifications read"),
		"POST /api/v1/notifications/{id}/read":  probedBy("TestNotificationsAPI"),
		"GET /api/v1/notifications/preferences": own("the caller's own preferences"),
		"PUT /api/v1/notifications/preferences": own("the caller's own preferences"),
		"GET /api/v1/push/key":                  own("the installation's public VAPID key"),
		"POST /api/v1/push/subscriptions":       own("registers the caller's own device"),
		"DELETE /api/v1/push/subscriptions":     own("removes the caller's own device (another's is left alone)"),
		// Reference data: the region tree, the category and unit catalogs,
		// the calendar, the sensor kinds and the enterprise catalog are read
		// by every signed account (reporting and routing need them); only
		// administrators change them (TestStreetAdminScopeMatrix).
		"GET /api/v1/suggest":             own("suggests categories for a text; reads no case"),
		"GET /api/v1/locate":              own("the grid holding a point: reference data"),
		"GET /api/v1/regions":             own("the region tree: reference data"),
		"GET /api/v1/regions/{code}":      own("one region and its shape: reference data"),
		"GET /api/v1/regions/export":      own("the region tree: reference data"),
		"GET /api/v1/categories":          own("the category catalog: reference data"),
		"GET /api/v1/units":               own("the unit catalog: reference data"),
		"GET /api/v1/calendar":            own("the official calendar: reference data"),
		"GET /api/v1/device-kinds":        own("the sensor kind catalog: reference data"),
		"GET /api/v1/enterprise/services": own("the enterprise service catalog: reference data"),
		"GET /api/v1/evaluation/rules":    own("the evaluation rule book: reference data, the same for every region"),
		"GET /api/v1/boards":              listing("/api/v1/boards"),
		"GET /api/v1/training/courses":    own("the course catalog of the district's cadre training: reference data"),
		"PUT /api/v1/enterprise/services/{code}": probe(func(t *testing.T, w scopeWorld) {
			svc := firstItem(t, "/api/v1/enterprise/services")
			code := svc["code"].(string)
			svc["name"] = "越权改名"
			unchanged(t, "/api/v1/enterprise/services?all=true", func() {
				for _, u := range []string{"syl_admin", "syl_zhihui"} {
					refused(t, u, "PUT", "/api/v1/enterprise/services/"+code, svc)
				}
			})
		}),

		// Cases.
		"POST /api/v1/cases":                probedBy("TestAccessResidentSeesOwnCases"),
		"GET /api/v1/cases":                 listing("/api/v1/cases?limit=500"),
		"GET /api/v1/cases/{id}":            caseProbe("GET", "", nil),
		"POST /api/v1/cases/{id}/actions":   caseProbe("POST", "/actions", map[string]any{"action": "accept"}),
		"GET /api/v1/cases/{id}/duplicates": caseProbe("GET", "/duplicates", nil),
		"GET /api/v1/cases/{id}/reporter":   caseProbe("GET", "/reporter", nil),
		"POST /api/v1/cases/{id}/supervise": caseProbe("POST", "/supervise", map[string]any{"note": "越权督办", "limit": map[string]any{"amount": 1, "unit": "work_days"}}),
		"POST /api/v1/cases/{id}/key-project": caseProbe("POST", "/key-project", map[string]any{"note": "越权", "name": "越权项目", "goal": "x", "lead_unit": "cg",
			"milestones": []map[string]any{{"title": "a", "limit": map[string]any{"amount": 1, "unit": "work_days"}}}}),
		"GET /api/v1/appeals": listing("/api/v1/appeals"),
		"GET /api/v1/held":    listing("/api/v1/held?limit=500"),
		"POST /api/v1/held":   probedBy("TestHeldQueueAPI"),
		"GET /api/v1/events":  probedBy("TestEventsInScope"),

		// Evaluation: a region's figures.
		"GET /api/v1/evaluation": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/evaluation?under="+lastSeg(w.jfb), nil)
			refused(t, "jfb_zhihui", "GET", "/api/v1/evaluation?under="+lastSeg(w.syl), nil)
			refused(t, "syl_admin", "GET", "/api/v1/evaluation?under="+lastSeg(w.jfb), nil)
		}),

		// Leaders.
		"GET /api/v1/pairings":    listing("/api/v1/pairings"),
		"GET /api/v1/secretaries": listing("/api/v1/secretaries"),
		"POST /api/v1/secretaries": probe(func(t *testing.T, w scopeWorld) {
			ids := accountIDs(t)
			unchanged(t, "/api/v1/secretaries", func() {
				// A district leader is not 石油路's administrator's to give a secretary.
				refused(t, "syl_admin", "POST", "/api/v1/secretaries", map[string]any{"leader_id": ids["liu_quzhang"], "secretary_id": ids["jfb_zhihui"]})
				refused(t, "syl_zhihui", "POST", "/api/v1/secretaries", map[string]any{"leader_id": ids["liu_quzhang"], "secretary_id": ids["jfb_zhihui"]})
			})
		}),
		"DELETE /api/v1/secretaries/{leader}/{secretary}": probe(func(t *testing.T, w scopeWorld) {
			ids := accountIDs(t)
			as(t, "admin", 201, "POST", "/api/v1/secretaries", map[string]any{"leader_id": ids["chen_fuquzhang"], "secretary_id": ids["qu_zhihui"]})
			defer as(t, "admin", 204, "DELETE", "/api/v1/secretaries/"+ids["chen_fuquzhang"]+"/"+ids["qu_zhihui"], nil)
			unchanged(t, "/api/v1/secretaries", func() {
				refused(t, "syl_admin", "DELETE", "/api/v1/secretaries/"+ids["chen_fuquzhang"]+"/"+ids["qu_zhihui"], nil)
				refused(t, "qu_zhihui", "DELETE", "/api/v1/secretaries/"+ids["chen_fuquzhang"]+"/"+ids["qu_zhihui"], nil)
			})
		}),
		"POST /api/v1/pairings": probe(func(t *testing.T, w scopeWorld) {
			lead, _ := plat.DB.AccountByUsername(context.Background(), "leader")
			unchanged(t, "/api/v1/pairings", func() {
				refused(t, "syl_admin", "POST", "/api/v1/pairings", map[string]any{"leader_id": lead.ID, "kind": "street", "target": lastSeg(w.jfb),
					"from": "2026-01-01T00:00:00+08:00", "to": "2027-01-01T00:00:00+08:00"})
			})
		}),
		"PUT /api/v1/pairings/{id}": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/pairings", func() {
				p := itemByID(t, "/api/v1/pairings", w.pairing)
				p["note"] = "越权修改"
				for _, k := range []string{"id", "created_at", "leader_name", "region_path"} {
					delete(p, k) // read-only fields
				}
				refused(t, "syl_admin", "PUT", "/api/v1/pairings/"+w.pairing, p)
			})
		}),
		"DELETE /api/v1/pairings/{id}": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/pairings", func() {
				refused(t, "syl_admin", "DELETE", "/api/v1/pairings/"+w.pairing, nil)
			})
		}),
		"POST /api/v1/visits": probe(func(t *testing.T, w scopeWorld) {
			lead, _ := plat.DB.AccountByUsername(context.Background(), "leader")
			unchanged(t, "/api/v1/visits?limit=500", func() {
				refusedOrField(t, "syl_zhihui", "place", "POST", "/api/v1/visits", map[string]any{"leader_id": lead.ID, "place": map[string]any{"region_code": lastSeg(w.jfb)},
					"at": plat.Service.Now().UTC().Format(time.RFC3339), "summary": "越权代录"})
			})
		}),
		"GET /api/v1/visits":        listing("/api/v1/visits?limit=500"),
		"GET /api/v1/visits/totals": listing("/api/v1/visits/totals?by=street"),
		"GET /api/v1/visits/cases":  listing("/api/v1/visits/cases?limit=500"),
		"GET /api/v1/visits/{id}": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/visits/"+w.visit, nil)
		}),
		"GET /api/v1/lists": listing("/api/v1/lists"),
		"POST /api/v1/lists": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/lists", func() {
				refused(t, "syl_zhihui", "POST", "/api/v1/lists", map[string]any{"name": "越权清单", "kind": "street", "region": lastSeg(w.jfb),
					"from": "2026-01-01T00:00:00+08:00", "to": "2027-01-01T00:00:00+08:00"})
			})
		}),
		"GET /api/v1/lists/{id}": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/lists/"+w.list, nil)
		}),
		"POST /api/v1/lists/{id}/items": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/lists/"+w.list, func() {
				refused(t, "syl_zhihui", "POST", "/api/v1/lists/"+w.list+"/items", map[string]any{"kind": "case", "ref_id": w.sylCase})
			})
		}),
		"GET /api/v1/projects": listing("/api/v1/projects"),
		"POST /api/v1/projects": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/projects", func() {
				refused(t, "syl_zhihui", "POST", "/api/v1/projects", map[string]any{"name": "越权项目", "goal": "x", "lead_unit": "cg", "region": lastSeg(w.jfb),
					"milestones": []map[string]any{{"title": "a", "limit": map[string]any{"amount": 1, "unit": "work_days"}}}})
			})
		}),
		"GET /api/v1/projects/{id}": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/projects/"+w.project, nil)
		}),
		"POST /api/v1/projects/{id}/actions": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/projects/"+w.project, func() {
				refused(t, "syl_zhihui", "POST", "/api/v1/projects/"+w.project+"/actions", map[string]any{"action": "verify", "verdict": "pass"})
			})
		}),
		"GET /api/v1/supervisions": listing("/api/v1/supervisions"),

		// Cadre training.
		"POST /api/v1/training/courses": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/training/courses", func() {
				for _, u := range []string{"jumin", "qiye", "yj_staff", "zhouchunyan"} {
					refused(t, u, "POST", "/api/v1/training/courses", map[string]any{"title": "越权课程", "topic": "x", "provider": "x", "hours": 1})
				}
			})
		}),
		"POST /api/v1/training/sessions": probe(func(t *testing.T, w scopeWorld) {
			var cs struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/training/courses", nil), &cs)
			st, out := call(t, token(t, "syl_zhihui"), "POST", "/api/v1/training/sessions", map[string]any{"course_id": cs.Items[0].ID,
				"at": plat.Service.Now().UTC().Format(time.RFC3339), "place": "x", "attendees": []string{w.cadre}})
			if st != http.StatusBadRequest || !strings.Contains(string(out), "attendees[0]") {
				t.Errorf("a session with another street's cadre: %d %.300s", st, out)
			}
		}),
		"GET /api/v1/training/figures": listing("/api/v1/training/figures?by=street"),
		"GET /api/v1/cadres/{id}": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/cadres/"+w.cadre, nil)
			refused(t, "syl_admin", "GET", "/api/v1/cadres/"+w.cadre, nil)
		}),
		"POST /api/v1/cadres/{id}/postings": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/cadres/"+w.cadre, func() {
				for _, u := range []string{"syl_zhihui", "syl_admin"} {
					refusedOrField(t, u, "cadre_id", "POST", "/api/v1/cadres/"+w.cadre+"/postings", map[string]any{"post": "越权任职", "region": lastSeg(w.syl), "from": "2026-01-01T00:00:00+08:00", "to": "2027-01-01T00:00:00+08:00"})
				}
			})
		}),

		// Enterprise services: 化龙桥's enterprises, reached from 石油路.
		"GET /api/v1/enterprises": listing("/api/v1/enterprises"),
		"POST /api/v1/enterprises": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/enterprises", func() {
				e := itemByID(t, "/api/v1/enterprises", w.enterprise)
				delete(e, "id")
				code := "91500103MA60ABCDE"
				c, _ := enterprise.CreditCheckChar(code)
				e["name"], e["credit_code"] = "越权企业", code+string(c)
				refused(t, "syl_admin", "POST", "/api/v1/enterprises", e)
			})
		}),
		"PUT /api/v1/enterprises/{id}": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/enterprises", func() {
				e := itemByID(t, "/api/v1/enterprises", w.enterprise)
				e["name"] = "越权改名"
				for _, u := range []string{"syl_admin", "syl_zhihui"} {
					refused(t, u, "PUT", "/api/v1/enterprises/"+w.enterprise, e)
				}
				// Moved into 石油路 by 石油路 (with the district's leader, who
				// may be paired anywhere): still another street's enterprise.
				lead, _ := plat.DB.AccountByUsername(context.Background(), "leader")
				e["grid_code"], e["leader_id"] = w.sylGrid, lead.ID
				refused(t, "syl_admin", "PUT", "/api/v1/enterprises/"+w.enterprise, e)
			})
		}),
		"POST /api/v1/enterprises/import": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/enterprises", func() {
				st, out := callType(t, token(t, "syl_admin"), "POST", "/api/v1/enterprises/import", "text/csv",
					"name,credit_code,grid_code\n越权导入企业,91500000MA5U3D1X3K,"+enterpriseGrid(t, w)+"\n")
				if st != http.StatusForbidden && st != http.StatusBadRequest {
					t.Errorf("import into 化龙桥: %d %.300s", st, out)
				}
			})
		}),
		"POST /api/v1/enterprises/{id}/members": probe(func(t *testing.T, w scopeWorld) {
			q, _ := plat.DB.AccountByUsername(context.Background(), "qiye")
			before, _ := plat.Service.Members(context.Background(), w.enterprise)
			refused(t, "syl_admin", "POST", "/api/v1/enterprises/"+w.enterprise+"/members", map[string]any{"account_id": q.ID})
			if after, _ := plat.Service.Members(context.Background(), w.enterprise); len(after) != len(before) {
				t.Errorf("化龙桥's enterprise's people changed from 石油路: %d → %d", len(before), len(after))
			}
		}),
		"POST /api/v1/enterprise/requests": probe(func(t *testing.T, w scopeWorld) {
			for _, u := range []string{"syl_admin", "syl_zhihui", "jumin"} {
				refused(t, u, "POST", "/api/v1/enterprise/requests", map[string]any{"words": "越权申请"})
			}
		}),
		"GET /api/v1/enterprise/requests": listing("/api/v1/enterprise/requests"),
		"GET /api/v1/enterprise/requests/{id}": probe(func(t *testing.T, w scopeWorld) {
			for _, u := range []string{"syl_admin", "syl_zhihui", "jfb_zhihui", "jumin"} {
				refused(t, u, "GET", "/api/v1/enterprise/requests/"+w.request, nil)
			}
		}),
		"POST /api/v1/enterprise/requests/{id}/follow": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/enterprise/requests/"+w.request, func() {
				for _, u := range []string{"syl_admin", "syl_zhihui", "jfb_zhihui"} {
					refused(t, u, "POST", "/api/v1/enterprise/requests/"+w.request+"/follow", map[string]any{"action": "reply", "text": "越权答复"})
				}
			})
		}),
		"GET /api/v1/enterprise/classes": listing("/api/v1/enterprise/classes"),
		"POST /api/v1/enterprise/classes": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/enterprise/classes", func() {
				refusedOrField(t, "syl_admin", "region_path", "POST", "/api/v1/enterprise/classes", map[string]any{"topic": "越权课堂", "building": "企业天地1号楼", "place": "x",
					"region_path": w.hlq, "speakers": []string{"x"}, "at": plat.Service.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339), "minutes": 60})
			})
		}),
		"GET /api/v1/enterprise/classes/{id}": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/enterprise/classes/"+w.class, nil)
		}),
		"POST /api/v1/enterprise/classes/{id}/signin": probe(func(t *testing.T, w scopeWorld) {
			for _, u := range []string{"syl_admin", "syl_zhihui", "jumin"} {
				refused(t, u, "POST", "/api/v1/enterprise/classes/"+w.class+"/signin", nil)
			}
		}),
		"POST /api/v1/enterprise/classes/{id}/questions": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/enterprise/classes/"+w.class, func() {
				for _, u := range []string{"syl_admin", "syl_zhihui", "jumin"} {
					refused(t, u, "POST", "/api/v1/enterprise/classes/"+w.class+"/questions", map[string]any{"text": "越权提问"})
				}
			})
		}),
		"GET /api/v1/enterprise/figures": probe(func(t *testing.T, w scopeWorld) {
			for _, u := range []string{"jumin", "qiye", "yj_staff", "zhouchunyan"} {
				refused(t, u, "GET", "/api/v1/enterprise/figures", nil)
			}
		}),

		// Grid work: 石油路's grids reached from 解放碑, and back.
		"GET /api/v1/grids":       listing("/api/v1/grids"),
		"GET /api/v1/grids/today": own("the grids the caller itself works in"),
		"POST /api/v1/patrols": probe(func(t *testing.T, w scopeWorld) {
			now := plat.Service.Now().UTC()
			refused(t, "jfb_zhihui", "POST", "/api/v1/patrols", map[string]any{"client_ref": "scope-x", "grid": w.sylGrid, "started_at": now.Add(-time.Hour), "ended_at": now,
				"fixes": []map[string]any{{"lng": 106.5, "lat": 29.5, "at": now.Add(-time.Hour)}, {"lng": 106.5001, "lat": 29.5, "at": now}}})
		}),
		"GET /api/v1/patrols/{id}": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "jfb_zhihui", "GET", "/api/v1/patrols/"+w.patrol, nil)
		}),
		"POST /api/v1/household-visits": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "jfb_zhihui", "POST", "/api/v1/household-visits", map[string]any{"client_ref": "scope-v", "grid": w.sylGrid, "place_kind": "household", "place": "x",
				"at": plat.Service.Now().UTC()})
		}),
		"GET /api/v1/grids/{code}/visits":   gridRead("visits"),
		"GET /api/v1/grids/{code}/patrols":  gridRead("patrols"),
		"GET /api/v1/grids/{code}/roster":   gridRead("roster"),
		"GET /api/v1/grids/{code}/team":     gridRead("team"),
		"GET /api/v1/grids/{code}/messages": gridRead("messages"),
		"PUT /api/v1/grids/{code}/places": gridWrite("roster", "PUT", "places", "application/json",
			map[string]any{"kind": "household", "name": "越权户"}),
		"PUT /api/v1/grids/{code}/people": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/grids/"+w.sylGrid+"/roster", func() {
				for _, u := range []string{"jfb_zhihui", "syl_admin"} {
					refused(t, u, "PUT", "/api/v1/grids/"+w.sylGrid+"/people", map[string]any{"place_id": w.place, "name": "越权居民", "phone": "13900002222"})
				}
			})
		}),
		"POST /api/v1/grids/{code}/roster/import": gridWrite("roster", "POST", "roster/import", "text/csv",
			"类型,名称\nhousehold,越权导入户\n"),
		"PUT /api/v1/grids/{code}/team": gridWrite("team", "PUT", "team", "application/json",
			map[string]any{"members": []map[string]any{{"name": "越权成员", "role": "volunteer"}}}),
		"PUT /api/v1/grids/{code}/plan": gridWrite("today", "PUT", "plan", "application/json",
			map[string]any{"per_week": 7, "min_minutes": 480}),
		"GET /api/v1/people/{id}": probe(func(t *testing.T, w scopeWorld) {
			for _, u := range []string{"jfb_zhihui", "syl_admin", "syl_zhihui"} {
				refused(t, u, "GET", "/api/v1/people/"+w.person, nil)
			}
		}),
		"POST /api/v1/messages/{id}/actions": probe(func(t *testing.T, w scopeWorld) {
			unchanged(t, "/api/v1/grids/"+w.sylGrid+"/messages", func() {
				for _, u := range []string{"jfb_zhihui", "syl_admin"} {
					refused(t, u, "POST", "/api/v1/messages/"+w.msg+"/actions", map[string]any{"action": "block"})
				}
			})
		}),
		// The party-building board (双报到): a community's records, from
		// another street both ways and by the street's administrator.
		"GET /api/v1/communities/{code}/party":         communityRead("party"),
		"GET /api/v1/communities/{code}/service-hours": communityRead("service-hours"),
		"PUT /api/v1/communities/{code}/party-members": communityWrite("party-members",
			map[string]any{"name": "越权党员", "org": "某单位", "phone": "13900004444"}),
		"PUT /api/v1/communities/{code}/volunteer-groups": communityWrite("volunteer-groups",
			map[string]any{"name": "越权志愿队"}),
		"POST /api/v1/service-hours": probe(func(t *testing.T, w scopeWorld) {
			member := partyMember(t, w)
			unchanged(t, "/api/v1/communities/"+communityOf(w.sylGrid)+"/service-hours", func() {
				for _, u := range []string{"jfb_zhihui", "syl_admin", "syl_zhihui"} {
					refusedOrField(t, u, "member_id", "POST", "/api/v1/service-hours",
						map[string]any{"member_id": member, "activity": "越权", "on": plat.Service.Now().Format("2006-01-02"), "minutes": 30})
				}
			})
		}),
		"POST /api/v1/cases/{id}/volunteers": probe(func(t *testing.T, w scopeWorld) {
			group := volunteerGroup(t, w)
			unchanged(t, "/api/v1/cases/"+w.sylCase, func() {
				refusedOrField(t, "jfb_zhihui", "case_id", "POST", "/api/v1/cases/"+w.sylCase+"/volunteers", map[string]any{"group_id": group, "note": "越权"})
				refused(t, "syl_admin", "POST", "/api/v1/cases/"+w.sylCase+"/volunteers", map[string]any{"group_id": group, "note": "越权"})
			})
		}),
		"GET /api/v1/party/figures": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/party/figures?under="+lastSeg(w.jfb), nil)
			refused(t, "jfb_zhihui", "GET", "/api/v1/party/figures?under="+communityOf(w.sylGrid), nil)
			onlyUnder(t, "syl_zhihui", "/api/v1/party/figures", w.syl)
		}),

		"GET /api/v1/gridwork/figures": probe(func(t *testing.T, w scopeWorld) {
			refused(t, "syl_zhihui", "GET", "/api/v1/gridwork/figures?under="+lastSeg(w.jfb), nil)
			refused(t, "jfb_zhihui", "GET", "/api/v1/gridwork/figures?under="+w.sylGrid, nil)
			onlyUnder(t, "syl_zhihui", "/api/v1/gridwork/figures", w.syl)
		}),

		// Sensors: devices and incidents are placed in grids.
		"GET /api/v1/devices":                    listing("/api/v1/devices?limit=500"),
		"GET /api/v1/devices/{id}":               probedBy("TestSensorAPI"),
		"GET /api/v1/sensor-rules":               own("the rules in force: the district's configuration, read by every commander"),
		"GET /api/v1/sensor-rules/{id}/versions": own("a rule's versions: the district's configuration"),
		"GET /api/v1/incidents":                  listing("/api/v1/incidents"),
		// Operations: a center's, seen from its region and above (and below:
		// a district's operation covers its streets).
		"GET /api/v1/operations":             listing("/api/v1/operations"),
		"POST /api/v1/operations":            probedBy("TestOperationAPI"),
		"GET /api/v1/operations/{id}":        probedBy("TestOperationAPI"),
		"PUT /api/v1/operations/{id}":        probedBy("TestOperationAPI"),
		"GET /api/v1/operations/{id}/tasks":  probedBy("TestOperationAPI"),
		"GET /api/v1/operations/{id}/report": probedBy("TestOperationAPI"),
		"GET /api/v1/operations/{id}/live":   probedBy("TestOperationAPI"),
	}
	for route, acc := range api.RouteAccess() {
		if acc != "signed" {
			continue
		}
		e, ok := entries[route]
		switch {
		case !ok:
			t.Errorf("signed route %s has no entry in TestSignedRouteScopeMatrix", route)
		case e.probe != nil:
			t.Run(route, func(t *testing.T) { e.probe(t, w) })
		case e.test != "":
			if err := testCallsRoute(e.test, route); err != nil {
				t.Errorf("%s: %v", route, err)
			}
		case e.reason == "":
			t.Errorf("%s: an empty entry", route)
		}
	}
	for route := range entries {
		if api.RouteAccess()[route] != "signed" {
			t.Errorf("TestSignedRouteScopeMatrix has an entry for %s, which is not a signed route", route)
		}
	}
}

// caseProbe: a 石油路 case, reached by 解放碑's commander, and by 石油路's
// administrator (an administrator is no case handler).
func caseProbe(method, suffix string, body any) signedEntry {
	return probe(func(t *testing.T, w scopeWorld) {
		path := "/api/v1/cases/" + w.sylCase
		unchanged(t, path, func() {
			refused(t, "jfb_zhihui", method, path+suffix, body)
		})
	})
}

// gridRead: a grid's record read across streets, both ways.
func gridRead(what string) signedEntry {
	return probe(func(t *testing.T, w scopeWorld) {
		refused(t, "jfb_zhihui", "GET", "/api/v1/grids/"+w.sylGrid+"/"+what, nil)
		refused(t, "syl_zhihui", "GET", "/api/v1/grids/"+w.jfbGrid+"/"+what, nil)
		refused(t, "syl_admin", "GET", "/api/v1/grids/"+w.jfbGrid+"/"+what, nil)
	})
}

// gridWrite: a grid's roster, team or plan changed across streets, both
// ways, by commanders and by the street's administrator; read back by the
// district administrator through check ("roster", "team", or "today" for the
// plan, read as the grid's worker).
func gridWrite(check, method, what, ctype string, body any) signedEntry {
	return probe(func(t *testing.T, w scopeWorld) {
		try := func(user, grid string) {
			if st, out := callType(t, token(t, user), method, "/api/v1/grids/"+grid+"/"+what, ctype, body); st != http.StatusForbidden && st != http.StatusNotFound {
				t.Errorf("%s %s %s of %s: %d %.300s", user, method, what, grid, st, out)
			}
		}
		read := func(grid string) string {
			if check == "today" {
				return string(as(t, "yangshipei", 200, "GET", "/api/v1/grids/today", nil))
			}
			return string(as(t, "admin", 200, "GET", "/api/v1/grids/"+grid+"/"+check, nil))
		}
		before := read(w.sylGrid)
		try("jfb_zhihui", w.sylGrid)
		if after := read(w.sylGrid); after != before {
			t.Errorf("%s of 石油路's grid changed from 解放碑", what)
		}
		jb := string(as(t, "admin", 200, "GET", "/api/v1/grids/"+w.jfbGrid+"/team", nil))
		try("syl_zhihui", w.jfbGrid)
		try("syl_admin", w.jfbGrid)
		if ja := string(as(t, "admin", 200, "GET", "/api/v1/grids/"+w.jfbGrid+"/team", nil)); ja != jb {
			t.Errorf("解放碑's grid team changed from 石油路")
		}
	})
}

// enterpriseGrid is the grid of the 化龙桥 enterprise the probes reach for.
func enterpriseGrid(t *testing.T, w scopeWorld) string {
	t.Helper()
	var list struct {
		Items []struct {
			ID       string `json:"id"`
			GridCode string `json:"grid_code"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/enterprises", nil), &list)
	for _, e := range list.Items {
		if e.ID == w.enterprise {
			return e.GridCode
		}
	}
	t.Fatalf("enterprise %s not listed", w.enterprise)
	return ""
}

// testCallsRoute checks that the named test exists in this package and
// calls the route (its path, with any {param} matched loosely).
func testCallsRoute(test, route string) error {
	method, path, _ := strings.Cut(route, " ")
	files, _ := filepath.Glob("*_test.go")
	head := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(test) + `\(t \*testing\.T\) \{$`)
	lit := regexp.QuoteMeta(strings.SplitN(path, "{", 2)[0])
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		loc := head.FindIndex(b)
		if loc == nil {
			continue
		}
		body := b[loc[1]:]
		if end := regexp.MustCompile(`(?m)^}$`).FindIndex(body); end != nil {
			body = body[:end[0]]
		}
		if !regexp.MustCompile(`"` + method + `", "` + lit).Match(body) {
			return fmt.Errorf("%s (%s) does not call %s %s", test, f, method, path)
		}
		return nil
	}
	return fmt.Errorf("no test %s in this package", test)
}

// refusedOrField: 403 or 404, or a 400 naming field (the service's answer
// when the out-of-scope thing is a field of the body, e.g. a visit's place).
func refusedOrField(t *testing.T, user, field, method, path string, body any) {
	t.Helper()
	st, out := call(t, token(t, user), method, path, body)
	if st == http.StatusForbidden || st == http.StatusNotFound {
		return
	}
	if st == http.StatusBadRequest && strings.Contains(string(out), `"field":"`+field+`"`) {
		return
	}
	t.Errorf("%s %s %s: %d %.300s", user, method, path, st, out)
}

// firstItem is the first item of a listing read by the district administrator.
func firstItem(t *testing.T, path string) map[string]any {
	t.Helper()
	var list struct {
		Items []map[string]any `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", path, nil), &list)
	if len(list.Items) == 0 {
		t.Fatalf("%s lists nothing", path)
	}
	return list.Items[0]
}

// itemByID is an item of a listing read by the district administrator.
func itemByID(t *testing.T, path, id string) map[string]any {
	t.Helper()
	var list struct {
		Items []map[string]any `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", path, nil), &list)
	for _, it := range list.Items {
		if it["id"] == id {
			return it
		}
	}
	t.Fatalf("%s does not list %s", path, id)
	return nil
}

// communityOf is a grid's community code (the grid code's first 12 digits).
func communityOf(grid string) string { return grid[:12] }

// secretaryOf is the demo's secretary of a grid's community.
func secretaryOf(grid string) string { return "sq" + strings.TrimPrefix(communityOf(grid), "500103") }

// communityRead: a community's party board read from another street, both
// ways, and by the street's administrator.
func communityRead(what string) signedEntry {
	return probe(func(t *testing.T, w scopeWorld) {
		refused(t, "jfb_zhihui", "GET", "/api/v1/communities/"+communityOf(w.sylGrid)+"/"+what, nil)
		refused(t, "syl_zhihui", "GET", "/api/v1/communities/"+communityOf(w.jfbGrid)+"/"+what, nil)
		refused(t, "syl_admin", "GET", "/api/v1/communities/"+communityOf(w.jfbGrid)+"/"+what, nil)
	})
}

// communityWrite: a community's registrations or groups changed from
// another street both ways, by the street's administrator, and by the
// street's commander (who reads but does not keep them); read back by the
// district administrator.
func communityWrite(what string, body map[string]any) signedEntry {
	return probe(func(t *testing.T, w scopeWorld) {
		for _, tc := range []struct{ user, grid string }{{"jfb_zhihui", w.sylGrid}, {"syl_zhihui", w.jfbGrid}, {"syl_admin", w.jfbGrid}, {"syl_zhihui", w.sylGrid}} {
			board := "/api/v1/communities/" + communityOf(tc.grid) + "/party"
			unchanged(t, board, func() {
				refused(t, tc.user, "PUT", "/api/v1/communities/"+communityOf(tc.grid)+"/"+what, body)
			})
		}
	})
}

var partyOnce struct {
	sync.Once
	member, group string
}

// partyWorld registers a party member and a volunteer group in 石油路's
// grid's community, as its secretary.
func partyWorld(t *testing.T, w scopeWorld) {
	partyOnce.Do(func() {
		var m, g struct {
			ID string `json:"id"`
		}
		comm := communityOf(w.sylGrid)
		mustJSON(t, as(t, secretaryOf(w.sylGrid), 200, "PUT", "/api/v1/communities/"+comm+"/party-members",
			map[string]any{"name": "范围测试党员", "org": "区机关", "phone": fmt.Sprintf("139%08d", time.Now().UnixNano()%1e8)}), &m)
		mustJSON(t, as(t, secretaryOf(w.sylGrid), 200, "PUT", "/api/v1/communities/"+comm+"/volunteer-groups",
			map[string]any{"name": fmt.Sprintf("范围测试志愿队%d", time.Now().UnixNano())}), &g)
		partyOnce.member, partyOnce.group = m.ID, g.ID
	})
	if partyOnce.member == "" || partyOnce.group == "" {
		t.Fatal("the party world was not built")
	}
}

func partyMember(t *testing.T, w scopeWorld) string    { partyWorld(t, w); return partyOnce.member }
func volunteerGroup(t *testing.T, w scopeWorld) string { partyWorld(t, w); return partyOnce.group }
