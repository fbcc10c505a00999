package open311_test

// What real clients send and the updates they need (issue 17): FixMyStreet's
// extra attributes, phones and names as typed, updates posted back, the
// updates feed scoped, paged by cursor and followed exactly once, and the
// extended statuses. Every test runs in XML and JSON.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestExtraAttributesAreKept: attributes the service does not define are
// kept with the case, in code order, and never refuse the report; a known
// attribute with a bad value still does.
func TestExtraAttributesAreKept(t *testing.T) {
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			form := aq01(t, demoKey)
			form.Set("attribute[fixmystreet_id]", "12345")
			form.Set("attribute[closest_address]", "重庆市渝中区石油路1号附近")
			form.Set("attribute[easting]", "106.5")
			form["attribute[uprn][]"] = []string{"1001", "1002"}
			form.Set("attribute[long_one]", strings.Repeat("长", cases.MaxExtraValue+20))
			id := report(t, f, form)
			c, err := plat.DB.Case(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, x := range c.Extra {
				keys = append(keys, x.Key)
			}
			if want := []string{"closest_address", "easting", "fixmystreet_id", "long_one", "uprn"}; !slices.Equal(keys, want) {
				t.Fatalf("extra keys %v, want %v", keys, want)
			}
			if c.Extra[2].Value != "12345" || c.Extra[4].Value != "1001, 1002" || len([]rune(c.Extra[3].Value)) != cases.MaxExtraValue {
				t.Fatalf("extra %+v", c.Extra)
			}
			if c.Answers["shop"] != "某餐饮店" || len(c.Answers) != 3 {
				t.Fatalf("answers %v", c.Answers)
			}
			// A known attribute with a bad value is still refused, naming it.
			bad := aq01(t, demoKey)
			bad.Set("attribute[fixmystreet_id]", "1")
			bad.Set("attribute[quantity]", "three")
			before := countCases(t)
			descs := expectError(t, post(t, "/open311/v2/requests."+f, bad), f, 400)
			if !strings.Contains(strings.Join(descs, "\n"), "attribute[quantity]") || strings.Contains(strings.Join(descs, "\n"), "fixmystreet_id") {
				t.Fatalf("errors %q", descs)
			}
			if countCases(t) != before {
				t.Fatal("a refused report was stored")
			}
		})
	}
}

// TestTooManyExtraAttributes: past the bound, what does not fit is cut and
// said so; the report is kept.
func TestTooManyExtraAttributes(t *testing.T) {
	form := aq01(t, demoKey)
	for i := range cases.MaxExtras + 5 {
		form.Set(fmt.Sprintf("attribute[x%02d]", i), "v")
	}
	c, err := plat.DB.Case(context.Background(), report(t, "json", form))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Extra) != cases.MaxExtras-1 || c.Extra[len(c.Extra)-1].Key != "未保存" || !strings.HasPrefix(c.Extra[len(c.Extra)-1].Value, "7项") {
		t.Fatalf("%d extras, last %+v", len(c.Extra), c.Extra[len(c.Extra)-1])
	}
}

// TestPhonesAsTyped: separators, brackets, +86 and full-width digits are
// read; a phone that is still not a phone is dropped with a note, and the
// report is kept.
func TestPhonesAsTyped(t *testing.T) {
	for _, f := range formats {
		for _, tc := range []struct{ in, want string }{
			{"023 6388 1234", "023-63881234"},
			{"(023) 6388-1234", "023-63881234"},
			{"+86 138 0000 0000", "13800000000"},
			{"１３８００００１２３４", "13800001234"},
			{"call me", ""},
		} {
			t.Run(f+"/"+tc.in, func(t *testing.T) {
				form := aq01(t, demoKey)
				form.Set("phone", tc.in)
				c, err := plat.DB.Case(context.Background(), report(t, f, form))
				if err != nil {
					t.Fatal(err)
				}
				if c.Reporter.Phone != tc.want {
					t.Fatalf("phone %q, want %q", c.Reporter.Phone, tc.want)
				}
				noted := slices.ContainsFunc(c.Extra, func(x cases.Extra) bool { return strings.Contains(x.Value, "电话号码无法识别") })
				if noted != (tc.want == "") {
					t.Fatalf("note of a dropped phone: %v (extra %+v)", noted, c.Extra)
				}
			})
		}
	}
}

// TestNamesAsTheClientShowsThem: first_name then last_name.
func TestNamesAsTheClientShowsThem(t *testing.T) {
	for _, tc := range [][3]string{{"王", "小明", "王小明"}, {"Anna", "Smith", "Anna Smith"}, {"", "王小明", "王小明"}} {
		form := aq01(t, demoKey)
		form.Set("first_name", tc[0])
		form.Set("last_name", tc[1])
		c, err := plat.DB.Case(context.Background(), report(t, "xml", form))
		if err != nil {
			t.Fatal(err)
		}
		if c.Reporter.Name != tc[2] {
			t.Errorf("first %q last %q: name %q, want %q", tc[0], tc[1], c.Reporter.Name, tc[2])
		}
	}
}

// settled waits until the updates feed may read every committed step: on
// PostgreSQL it reads only below the oldest running transaction, and the
// other packages' suites write in the same database at the same time.
func settled(t *testing.T) {
	t.Helper()
	end := time.Now().Add(60 * time.Second)
	for {
		n, err := plat.DB.FeedLag(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("the feed still lags %d steps after 60 s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keyFor makes a key for the district (or a region) with or without the
// extended statuses.
func keyFor(t *testing.T, name, region string, extended bool) string {
	t.Helper()
	secret, _, err := plat.Service.CreateAPIKey(context.Background(), service.NewAPIKey{Name: name, RegionCode: region, ExtendedStatuses: extended})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// districtCode is the demo district's code.
func districtCode(t *testing.T) string {
	return lastSegment(strings.TrimSuffix(actor(t, "syl_zhihui").RegionPath, lastSegment(actor(t, "syl_zhihui").RegionPath)+"/"))
}

// playToClose plays a reported case to its close, the feedback's note
// ending in 。.
func playToClose(t *testing.T, id string) cases.Case {
	t.Helper()
	ctx := context.Background()
	c, err := plat.DB.Case(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	commander, unit, fire, worker := actor(t, "syl_zhihui"), actor(t, "yj_staff"), actor(t, "xf_staff"), actor(t, "zhouchunyan")
	yes := true
	for _, s := range []struct {
		a   cases.Actor
		cmd cases.Command
	}{
		{commander, cases.Command{Action: cases.ActAccept}},
		{commander, cases.Command{Action: cases.ActDispatch, Lead: "yj", Co: []string{"xf"}}},
		{unit, cases.Command{Action: cases.ActSign}},
		{unit, cases.Command{Action: cases.ActFeedback, Note: "已清除。"}},
		{fire, cases.Command{Action: cases.ActSign}},
		{fire, cases.Command{Action: cases.ActFeedback, Note: "已检查！"}},
		{worker, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "核查通过"}},
	} {
		if c, _, err = plat.Service.Act(ctx, s.a, c.ID, s.cmd, 0); err != nil {
			t.Fatalf("%s: %v", s.cmd.Action, err)
		}
	}
	return c
}

// postedUpdateID reads POST servicerequestupdates' answer.
func postedUpdateID(t *testing.T, f string, r reply) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatal(r)
	}
	if f == "xml" {
		items := xmlItems(t, r, "service_request_updates", "request_update", []string{"update_id"})
		if len(items) != 1 {
			t.Fatalf("answer %s", r.body)
		}
		return items[0]["update_id"]
	}
	arr := jsonArray(t, parseJSON(t, r))
	if len(arr) != 1 {
		t.Fatalf("answer %s", r.body)
	}
	return str(t, arr[0], "update_id")
}

// TestPostUpdates: a resident's follow-up reaches the timeline as their
// comment, once per update_id; status OPEN reopens a closed case (not a
// rejected one); refused input names the parameter and adds nothing.
func TestPostUpdates(t *testing.T) {
	ctx := context.Background()
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			id := report(t, f, aq01(t, demoKey))
			path := "/open311/v2/servicerequestupdates." + f
			upd := url.Values{"api_key": {demoKey}, "service_request_id": {id}, "update_id": {"fms-" + f + "-1"},
				"updated_datetime": {plat.Service.Now().Format(time.RFC3339)}, "status": {"OPEN"}, "description": {"店门口还有两个气罐。"},
				"first_name": {"王"}, "last_name": {"小明"}, "email": {"w@example.com"}, "media_url": {"https://fms.example/p/1.jpg"}}
			first := postedUpdateID(t, f, post(t, path, upd))
			again := postedUpdateID(t, f, post(t, path, upd))
			if first == "" || first != again {
				t.Fatalf("update ids %q, %q", first, again)
			}
			steps, err := plat.DB.Steps(ctx, mustCase(t, id).ID)
			if err != nil {
				t.Fatal(err)
			}
			var comments []cases.Step
			for _, s := range steps {
				if s.Action == cases.ActComment {
					comments = append(comments, s)
				}
			}
			if len(comments) != 1 || comments[0].ID != first || comments[0].Note != "店门口还有两个气罐。" ||
				comments[0].Data["name"] != "王小明" || comments[0].Data["update_id"] != "fms-"+f+"-1" || comments[0].Data["media_url"] != "https://fms.example/p/1.jpg" {
				t.Fatalf("comments %+v", comments)
			}
			if c := mustCase(t, id); c.State != cases.Reported {
				t.Fatalf("an open case moved to %s on a comment", c.State)
			}

			// OPEN on the closed case reopens it with the resident's words.
			c := playToClose(t, id)
			upd.Set("update_id", "fms-"+f+"-2")
			upd.Set("description", "问题依旧，气罐又回来了")
			postedUpdateID(t, f, post(t, path, upd))
			if c = mustCase(t, id); c.State != cases.Accepted || c.Reopens != 1 {
				t.Fatalf("after OPEN: %s, reopens %d", c.State, c.Reopens)
			}
			// The reopen is published, with the resident's words once.
			settled(t)
			ups := updatesOf(t, f, get(t, "/open311/v2/servicerequestupdates."+f+"?api_key="+demoKey+"&start_date="+url.QueryEscape(c.ReportedAt.Add(-time.Second).Format(time.RFC3339))))
			var descs []string
			for _, u := range ups {
				if u["service_request_id"] == id {
					descs = append(descs, u["description"])
				}
			}
			if !slices.Contains(descs, "重新办理：问题依旧，气罐又回来了。当前状态：待派遣") {
				t.Fatalf("updates %q", descs)
			}
			for _, d := range descs {
				if strings.Contains(d, "。。") || strings.Contains(d, "！。") || strings.Contains(d, "店门口") {
					t.Fatalf("update %q", d)
				}
			}
			if !slices.Contains(descs, "反馈（区应急管理局）：已清除。当前状态：待核查") {
				t.Fatalf("updates %q", descs)
			}

			// OPEN on a rejected case is a comment only.
			rid := report(t, f, aq01(t, demoKey))
			if _, _, err := plat.Service.Act(ctx, actor(t, "syl_zhihui"), mustCase(t, rid).ID, cases.Command{Action: cases.ActReject, Note: "不属于受理范围"}, 0); err != nil {
				t.Fatal(err)
			}
			upd.Set("service_request_id", rid)
			upd.Set("update_id", "fms-"+f+"-3")
			postedUpdateID(t, f, post(t, path, upd))
			if c := mustCase(t, rid); c.State != cases.Rejected {
				t.Fatalf("a rejected case went to %s", c.State)
			}

			// Refusals.
			for _, tc := range []struct {
				name   string
				edit   func(url.Values)
				status int
				param  string
			}{
				{"no key", func(v url.Values) { v.Del("api_key") }, 403, ""},
				{"no request", func(v url.Values) { v.Del("service_request_id") }, 400, "service_request_id"},
				{"unknown request", func(v url.Values) { v.Set("service_request_id", "500103014-19990101-0001") }, 404, ""},
				{"no update_id", func(v url.Values) { v.Del("update_id") }, 400, "update_id"},
				{"long update_id", func(v url.Values) { v.Set("update_id", strings.Repeat("9", 65)) }, 400, "update_id"},
				{"no description", func(v url.Values) { v.Set("description", "  ") }, 400, "description"},
				{"bad time", func(v url.Values) { v.Set("updated_datetime", "yesterday") }, 400, "updated_datetime"},
				{"bad media_url", func(v url.Values) { v.Set("media_url", "ftp://x") }, 400, "media_url"},
			} {
				v := url.Values{}
				for k, vs := range upd {
					v[k] = slices.Clone(vs)
				}
				v.Set("update_id", "refused-"+f+"-"+tc.name)
				tc.edit(v)
				before, _ := plat.DB.Steps(ctx, mustCase(t, rid).ID)
				descs := expectError(t, post(t, path, v), f, tc.status)
				if tc.param != "" && !strings.Contains(strings.Join(descs, "\n"), tc.param) {
					t.Fatalf("%s: errors %q", tc.name, descs)
				}
				if after, _ := plat.DB.Steps(ctx, mustCase(t, rid).ID); len(after) != len(before) {
					t.Fatalf("%s: a refused update added a step", tc.name)
				}
			}
		})
	}
}

func mustCase(t *testing.T, id string) cases.Case {
	t.Helper()
	c, err := plat.DB.Case(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var nextRE = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// nextOf is the address an answer's Link header names as next.
func nextOf(t *testing.T, r reply) string {
	t.Helper()
	m := nextRE.FindStringSubmatch(r.header.Get("Link"))
	if m == nil {
		t.Fatalf("Link %q", r.header.Get("Link"))
	}
	return strings.TrimPrefix(m[1], srv.URL)
}

// TestUpdatesFeedScopeAndExtendedStatuses: the feed needs a key and shows
// only its region; a key that opted in reads FixMyStreet's extended status
// words, a merged case as a duplicate naming the case it joined.
func TestUpdatesFeedScopeAndExtendedStatuses(t *testing.T) {
	ctx := context.Background()
	since := plat.Service.Now().Add(-time.Second)
	id := report(t, "json", aq01(t, demoKey))
	playToClose(t, id)
	dup, into := report(t, "json", aq01(t, demoKey)), report(t, "json", aq01(t, demoKey))
	commander := actor(t, "syl_zhihui")
	if _, _, err := plat.Service.Act(ctx, commander, mustCase(t, dup).ID, cases.Command{Action: cases.ActMerge, Target: mustCase(t, into).ID}, 0); err != nil {
		t.Fatal(err)
	}
	ext := keyFor(t, "扩展状态客户端", districtCode(t), true)
	other := keyFor(t, "别的街道客户端", lastSegment(actor(t, "jfb_zhihui").RegionPath), false)
	settled(t)
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			q := "?start_date=" + url.QueryEscape(since.Format(time.RFC3339))
			expectError(t, get(t, "/open311/v2/servicerequestupdates."+f+q), f, 403)
			if ups := updatesOf(t, f, get(t, "/open311/v2/servicerequestupdates."+f+q+"&api_key="+other)); slices.ContainsFunc(ups, func(u map[string]string) bool {
				return u["service_request_id"] == id || u["service_request_id"] == dup
			}) {
				t.Fatal("another street's key reads this street's updates")
			}
			got := map[string][]string{}
			var mergeDesc string
			for _, u := range updatesOf(t, f, get(t, "/open311/v2/servicerequestupdates."+f+q+"&api_key="+ext)) {
				got[u["service_request_id"]] = append(got[u["service_request_id"]], u["status"])
				if u["service_request_id"] == dup {
					mergeDesc = u["description"]
				}
			}
			if want := []string{"investigating", "action_scheduled", "in_progress", "in_progress", "in_progress", "in_progress", "fixed"}; !slices.Equal(got[id], want) {
				t.Fatalf("statuses %v, want %v", got[id], want)
			}
			if !slices.Equal(got[dup], []string{"duplicate"}) || !strings.Contains(mergeDesc, into) {
				t.Fatalf("merged: %v %q", got[dup], mergeDesc)
			}
			// GET requests with a key: its region, its statuses.
			if got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?service_request_id="+id+"&api_key="+other)); len(got) != 0 {
				t.Fatalf("another street's key reads %v", got)
			}
			expectError(t, get(t, "/open311/v2/requests/"+id+"."+f+"?api_key="+other), f, 404)
			expectError(t, get(t, "/open311/v2/requests/"+id+"."+f+"?api_key=nonsense"), f, 403)
			if got := requestOf(t, f, get(t, "/open311/v2/requests/"+dup+"."+f+"?api_key="+ext)); len(got) != 1 || got[0]["status"] != "duplicate" {
				t.Fatalf("merged request with the extended key: %v", got)
			}
			if got := requestOf(t, f, get(t, "/open311/v2/requests/"+id+"."+f)); len(got) != 1 || got[0]["status"] != "closed" {
				t.Fatalf("closed request without a key: %v", got)
			}
			// The plain key still reads open and closed, and so does the
			// extended one once its opt-in is turned off.
			if _, err := plat.Service.SetAPIKeyStatuses(ctx, "扩展状态客户端", false); err != nil {
				t.Fatal(err)
			}
			defer plat.Service.SetAPIKeyStatuses(ctx, "扩展状态客户端", true)
			for _, k := range []string{demoKey, ext} {
				for _, u := range updatesOf(t, f, get(t, "/open311/v2/servicerequestupdates."+f+q+"&api_key="+k)) {
					if u["status"] != "open" && u["status"] != "closed" {
						t.Fatalf("status %q for a plain key", u["status"])
					}
				}
			}
			for bad, field := range map[string]string{"&after=!!": "after", "&after=MTIz": "after", "&after=0&start_date=2026-01-01T00:00:00Z": "start_date",
				"&until=!!": "until", "&after=0&until=MTIz": "until"} {
				descs := expectError(t, get(t, "/open311/v2/servicerequestupdates."+f+"?api_key="+demoKey+bad), f, 400)
				if !strings.Contains(strings.Join(descs, "\n"), field) {
					t.Fatalf("%s: %q, want a problem with %s", bad, descs, field)
				}
			}
		})
	}
}

// TestUpdatesFollowedExactlyOnce: while several writers move cases at once,
// a poller that starts from a window and then keeps asking for the Link
// header's next address, a small page at a time, sees every published
// update exactly once (on PostgreSQL too: CI runs this package on both).
func TestUpdatesFollowedExactlyOnce(t *testing.T) {
	ctx := context.Background()
	start := plat.Service.Now().Add(-time.Second)
	key := keyFor(t, "轮询客户端", districtCode(t), false)
	seen := map[string]int{}
	poll := func(next string) string {
		r := get(t, next)
		for _, u := range updatesOf(t, "json", r) {
			seen[u["update_id"]]++
		}
		return nextOf(t, r)
	}
	next := "/open311/v2/servicerequestupdates.json?api_key=" + key + "&page_size=7&start_date=" + url.QueryEscape(start.Format(time.RFC3339))

	const writers, each = 4, 6
	commander, worker := actor(t, "syl_zhihui"), actor(t, "zhouchunyan")
	p, _ := pointInGridOf(t, "zhouchunyan")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				c, err := plat.Service.Report(ctx, worker, cases.Report{Source: cases.SourcePatrol, Category: "AQ01", Point: &p,
					Description: fmt.Sprintf("并发写入 %d-%d", w, i), Answers: map[string]any{"shop": "店", "equipment": "lpg", "quantity": "1"}})
				if err != nil {
					errs <- err
					return
				}
				for _, cmd := range []cases.Command{{Action: cases.ActAccept}, {Action: cases.ActDispatch, Lead: "yj"}} {
					if c, _, err = plat.Service.Act(ctx, commander, c.ID, cmd, 0); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	go func() { wg.Wait(); close(stop) }()
	polls := 0
	for running := true; running; polls++ {
		select {
		case <-stop:
			running = false
		default:
		}
		next = poll(next)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Catch up after the writers stopped, once the feed may read every
	// committed step: until a poll brings nothing new.
	settled(t)
	for range 50 {
		before := len(seen)
		next = poll(next)
		if len(seen) == before {
			break
		}
	}
	// Every published update since the start, as the store holds them.
	all, err := plat.DB.StepsBetween(ctx, store.StepFilter{After: &store.FeedCursor{}, Actions: []cases.Action{cases.ActAccept, cases.ActDispatch}, Limit: store.MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, s := range all {
		if s.Step.At.After(start) {
			c := mustCase(t, s.CaseNumber)
			if strings.HasPrefix(c.Description, "并发写入") {
				want++
				if seen[s.Step.ID] != 1 {
					t.Errorf("update %s (%s of %s) seen %d times", s.Step.ID, s.Step.Action, s.CaseNumber, seen[s.Step.ID])
				}
			}
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("update %s seen %d times", id, n)
		}
	}
	if want != writers*each*2 {
		t.Fatalf("%d updates of the writers' cases in the store, want %d", want, writers*each*2)
	}
	t.Logf("%d polls, %d updates seen", polls, len(seen))
}

// TestUpdatesWindowPagesHoldTheirPosition: a window's later pages read up
// to the feed's position as of its first page (until= in the next
// address), so an update committed meanwhile cannot shift them — its time
// may sort before updates already given, as the time is taken before the
// write queues — and comes once, through the cursor after the window.
func TestUpdatesWindowPagesHoldTheirPosition(t *testing.T) {
	start := plat.Service.Now().Add(-time.Second)
	key := keyFor(t, "窗口分页客户端", districtCode(t), false)
	for range 2 {
		playToClose(t, report(t, "json", aq01(t, demoKey)))
	}
	path := "/open311/v2/servicerequestupdates.json?api_key=" + key + "&page_size=2&start_date=" + url.QueryEscape(start.Format(time.RFC3339))
	r := get(t, path)
	seen := map[string]int{}
	late := ""
	lateInWindow, lateAfter := 0, 0
	for polls := 0; ; polls++ {
		if polls > 100 {
			t.Fatal("the feed does not end")
		}
		page := updatesOf(t, "json", r)
		next := nextOf(t, r)
		window := !strings.Contains(path, "after=")
		for _, u := range page {
			seen[u["update_id"]]++
			if late != "" && u["service_request_id"] == late {
				if window {
					lateInWindow++
				} else {
					lateAfter++
				}
			}
		}
		if polls == 0 {
			if len(page) != 2 || !strings.Contains(next, "until=") {
				t.Fatalf("first page: %d updates, next %s; want a full page and until=", len(page), next)
			}
			// Committed after the first page of the window.
			late = report(t, "json", aq01(t, demoKey))
			playToClose(t, late)
		}
		if !window && len(page) == 0 {
			break
		}
		path = next
		r = get(t, path)
	}
	if lateInWindow != 0 || lateAfter == 0 {
		t.Errorf("the late case's updates: %d in the window's later pages, %d after it; want 0 and some", lateInWindow, lateAfter)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("update %s seen %d times", id, n)
		}
	}
}
