package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/service"
	"zhizhi/internal/webhook"
)

// hookSettings are the API suite's delivery settings: quick retries, and a
// subscription paused after 3 failed attempts in a row.
var hookSettings = service.WebhookSettings{Poll: 50 * time.Millisecond, Timeout: 3 * time.Second,
	BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Pause: webhook.PauseRule{MinFailures: 3}}

// receiver is a local webhook receiver that checks every delivery's
// signature and keeps what it got.
type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server
	status func(r *http.Request) int // the answer (204 when nil)

	mu       sync.Mutex
	got      []webhook.Event
	attempts int
	bad      []string
}

func newReceiver(t *testing.T, secret string, status func(*http.Request) int) *receiver {
	rc := &receiver{t: t, secret: secret, status: status}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.attempts++
		rc.mu.Unlock()
		code := http.StatusNoContent
		if rc.status != nil {
			code = rc.status(r)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if !webhook.Verify(rc.secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, plat.Service.Now(), 5*time.Minute) {
			rc.bad = append(rc.bad, "bad signature: "+string(body))
		}
		var e webhook.Event
		if err := json.Unmarshal(body, &e); err != nil {
			rc.bad = append(rc.bad, "bad body: "+string(body))
		}
		if r.Header.Get(webhook.HeaderEventID) != e.ID || r.Header.Get(webhook.HeaderIdem) != e.ID || r.Header.Get(webhook.HeaderEvent) != e.Kind {
			rc.bad = append(rc.bad, fmt.Sprintf("headers %v for %s", r.Header, e.ID))
		}
		if code >= 200 && code < 300 {
			rc.got = append(rc.got, e)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// events returns what the receiver acknowledged of a case, in arrival order.
func (rc *receiver) events(caseID string) []webhook.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []webhook.Event
	for _, e := range rc.got {
		if e.Case.ID == caseID {
			out = append(out, e)
		}
	}
	return out
}

func (rc *receiver) check() {
	rc.t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.bad {
		rc.t.Error(b)
	}
}

// waitFor polls cond for up to 30 s.
func waitHook(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func createHook(t *testing.T, username string, in map[string]any) (service.SubscriptionView, string) {
	t.Helper()
	var out struct {
		Subscription service.SubscriptionView `json:"subscription"`
		Secret       string                   `json:"secret"`
	}
	mustJSON(t, as(t, username, 201, "POST", "/api/v1/webhooks", in), &out)
	return out.Subscription, out.Secret
}

func hookByID(t *testing.T, username, id string) (service.SubscriptionView, bool) {
	t.Helper()
	var list struct {
		Items []service.SubscriptionView `json:"items"`
	}
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/webhooks", nil), &list)
	for _, s := range list.Items {
		if s.ID == id {
			return s, true
		}
	}
	return service.SubscriptionView{}, false
}

// closeCase takes a dispatched case (lead yj) to closed: sign, feedback
// with a photo, the 石油路 commander's passing verification.
func closeYJ(t *testing.T, id string) {
	t.Helper()
	act(t, "yj_staff", id, map[string]any{"action": "sign"})
	p := upload(t, "yj_staff", 90)
	act(t, "yj_staff", id, map[string]any{"action": "feedback", "note": "已现场处置完毕", "photos": []photoRef{{Hash: p.Hash}}})
	act(t, "syl_zhihui", id, map[string]any{"action": "verify", "passed": true, "note": "核查通过"})
}

// TestWebhookDeliveries: every event of a case reaches the receiver once,
// signed, in the case's order; a failing receiver is retried and then
// paused (an audit entry and the state on the listing say so); a slow
// receiver does not hold up case actions; the subscription routes.
func TestWebhookDeliveries(t *testing.T) {
	_, street := streetAdmin(t)
	code := lastSeg(street)
	ok := newReceiver(t, "test-secret-0123456789", nil)
	sub, secret := createHook(t, "admin", map[string]any{"name": "测试接收方", "url": ok.srv.URL + "/hook", "events": []string{"*"},
		"region_code": code, "secret": "test-secret-0123456789"})
	if secret != "test-secret-0123456789" || sub.State != "active" || sub.RegionPath != street {
		t.Fatalf("created %+v secret %q", sub, secret)
	}

	// Three cases through the loop at once.
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := report(t, nil)
			act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
			act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "yj"})
			mu.Lock()
			ids = append(ids, c.ID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		closeYJ(t, id)
	}
	for _, id := range ids {
		c, steps := detail(t, "syl_zhihui", id)
		waitHook(t, "the events of "+id, func() bool { return len(ok.events(id)) >= len(steps) })
		evs := ok.events(id)
		if len(evs) != len(steps) {
			t.Errorf("case %s: %d events for %d steps", id, len(evs), len(steps))
		}
		for i, e := range evs {
			if e.Step.Seq != i+1 || e.Kind != e.Step.Action || e.Case.Number != c.Number {
				t.Errorf("case %s event %d: seq %d kind %s (%+v)", id, i, e.Step.Seq, e.Kind, e.Step)
			}
		}
		if last := evs[len(evs)-1]; last.Kind != "verify" || last.Case.State != "closed" || last.Case.Feedback != "已现场处置完毕" {
			t.Errorf("last event %+v", last)
		}
	}
	ok.check()

	// A failing receiver: retried, then paused after 3 failures in a row.
	failing := newReceiver(t, "fail-secret-0123456789", func(*http.Request) int { return http.StatusBadGateway })
	bad, _ := createHook(t, "admin", map[string]any{"name": "故障接收方", "url": failing.srv.URL, "events": []string{"accept"},
		"region_code": code, "secret": "fail-secret-0123456789"})
	c := report(t, nil)
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	waitHook(t, "the failing subscription paused", func() bool {
		s, _ := hookByID(t, "admin", bad.ID)
		return s.State == "paused"
	})
	s, _ := hookByID(t, "admin", bad.ID)
	if s.Failures < 3 || s.PauseReason == "" || s.Queued == 0 {
		t.Errorf("paused subscription %+v", s)
	}
	failing.mu.Lock()
	if failing.attempts < 3 {
		t.Errorf("failing receiver tried %d times", failing.attempts)
	}
	failing.mu.Unlock()
	var log struct {
		Items []struct {
			Status  int    `json:"status"`
			OK      bool   `json:"ok"`
			Attempt int    `json:"attempt"`
			Error   string `json:"error"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/webhooks/"+bad.ID+"/log?limit=5", nil), &log)
	if len(log.Items) < 3 || log.Items[0].Status != 502 || log.Items[0].OK || log.Items[0].Error == "" {
		t.Errorf("log %+v", log.Items)
	}
	audit := string(as(t, "admin", 200, "GET", "/api/v1/audit?kind=webhook&object_id="+bad.ID, nil))
	if !strings.Contains(audit, `"action":"pause"`) {
		t.Errorf("no pause in the audit trail: %.400s", audit)
	}
	// Every administrator of its scope is told, in the inbox: the
	// district's and the street's; not another street's.
	pausedFor := func(username string) int {
		t.Helper()
		var inbox struct {
			Items []struct {
				Kind, Title, Body, Link string
			} `json:"items"`
		}
		mustJSON(t, as(t, username, 200, "GET", "/api/v1/notifications?limit=50", nil), &inbox)
		n := 0
		for _, it := range inbox.Items {
			if it.Kind == "webhook_paused" && it.Link == "/admin/webhooks/"+bad.ID {
				n++
				if !strings.Contains(it.Title, "故障接收方") || it.Body != s.PauseReason {
					t.Errorf("%s told %+v, reason %q", username, it, s.PauseReason)
				}
			}
		}
		return n
	}
	jfbAdmin := otherStreetAdmin(t)
	for range 50 {
		if _, err := plat.Service.FanOut(context.Background()); err != nil {
			t.Fatal(err)
		}
		if pausedFor("admin") > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, who := range []string{"admin", "syl_admin"} {
		if n := pausedFor(who); n != 1 {
			t.Errorf("%s told of the pause %d times, want once", who, n)
		}
	}
	if n := pausedFor(jfbAdmin); n != 0 {
		t.Errorf("another street's administrator told of the pause %d times", n)
	}
	// Resumed against a receiver that now answers: the queued accept arrives.
	failing.mu.Lock()
	failing.status = nil
	failing.mu.Unlock()
	var st service.SubscriptionView
	mustJSON(t, as(t, "admin", 200, "POST", "/api/v1/webhooks/"+bad.ID+"/state", map[string]string{"state": "active"}), &st)
	if st.State != "active" || st.Failures != 0 {
		t.Errorf("resumed %+v", st)
	}
	waitHook(t, "the queued event after resuming", func() bool { return len(failing.events(c.ID)) == 1 })
	as(t, "admin", 204, "DELETE", "/api/v1/webhooks/"+bad.ID, nil)
	if _, found := hookByID(t, "admin", bad.ID); found {
		t.Error("deleted subscription listed")
	}

	// A slow receiver holds every delivery; case actions go on meanwhile.
	release := make(chan struct{})
	var held sync.WaitGroup
	slow := newReceiver(t, "slow-secret-0123456789", func(r *http.Request) int {
		held.Add(1)
		defer held.Done()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusOK
	})
	sl, _ := createHook(t, "admin", map[string]any{"name": "缓慢接收方", "url": slow.srv.URL, "events": []string{"*"}, "region_code": code,
		"secret": "slow-secret-0123456789"})
	c = report(t, nil)
	waitHook(t, "the slow receiver to hold a delivery", func() bool { slow.mu.Lock(); defer slow.mu.Unlock(); return slow.attempts > 0 })
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "yj"})
	act(t, "yj_staff", c.ID, map[string]any{"action": "sign"})
	slow.mu.Lock()
	done := len(slow.got)
	slow.mu.Unlock()
	if done != 0 {
		t.Errorf("the slow receiver answered %d deliveries before its release", done)
	}
	close(release)
	waitHook(t, "the slow receiver's events", func() bool { return len(slow.events(c.ID)) == 4 })
	for i, e := range slow.events(c.ID) {
		if e.Step.Seq != i+1 {
			t.Errorf("slow receiver, event %d: seq %d", i, e.Step.Seq)
		}
	}
	slow.check()

	// Change, list kinds, pause by hand.
	var put service.SubscriptionView
	mustJSON(t, as(t, "admin", 200, "PUT", "/api/v1/webhooks/"+sl.ID, map[string]any{"name": "缓慢接收方（改）", "url": slow.srv.URL,
		"events": []string{"close", "accept"}, "region_code": code}), &put)
	if put.Name != "缓慢接收方（改）" || strings.Join(put.Events, ",") != "accept,close" {
		t.Errorf("changed %+v", put)
	}
	mustJSON(t, as(t, "admin", 200, "POST", "/api/v1/webhooks/"+sl.ID+"/state", map[string]string{"state": "paused"}), &put)
	if put.State != "paused" {
		t.Errorf("paused by hand: %+v", put)
	}
	as(t, "admin", 400, "POST", "/api/v1/webhooks/"+sl.ID+"/state", map[string]string{"state": "gone"})
	var kinds struct {
		Items []struct{ Kind, Label string } `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/webhooks/kinds", nil), &kinds)
	if len(kinds.Items) < 30 || kinds.Items[0].Kind != "*" {
		t.Errorf("kinds %+v", kinds.Items)
	}
	// Bad input names the field and stores nothing.
	st2, out := call(t, token(t, "admin"), "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "ftp://x", "events": []string{"boom"}, "region_code": code})
	if st2 != 400 || !strings.Contains(string(out), `"url"`) || !strings.Contains(string(out), `"events[0]"`) {
		t.Errorf("bad input: %d %s", st2, out)
	}
	as(t, "admin", 204, "DELETE", "/api/v1/webhooks/"+sl.ID, nil)
	as(t, "admin", 204, "DELETE", "/api/v1/webhooks/"+sub.ID, nil)
	as(t, "admin", 404, "DELETE", "/api/v1/webhooks/"+sub.ID, nil)
}

// hookProbes are the webhook routes' trials in TestStreetAdminScopeMatrix:
// a street's administrator subscribes only within its street and never
// sees or changes another street's subscription.
var hookProbes = map[string]scopeProbe{
	"GET /api/v1/webhooks": func(t *testing.T, tok, street string) {
		other := otherStreetHook(t)
		st, out := call(t, tok, "GET", "/api/v1/webhooks", nil)
		if st != 200 || strings.Contains(string(out), other.ID) {
			t.Errorf("listing: %d %s", st, out)
		}
	},
	"GET /api/v1/webhooks/kinds": func(t *testing.T, tok, street string) {
		if st, _ := call(t, tok, "GET", "/api/v1/webhooks/kinds", nil); st != 200 {
			t.Errorf("kinds: %d", st)
		}
	},
	"POST /api/v1/webhooks": func(t *testing.T, tok, street string) {
		in := map[string]any{"name": "街道订阅", "url": "http://127.0.0.1:9/x", "events": []string{"*"}, "region_code": "500103"}
		if st, out := call(t, tok, "POST", "/api/v1/webhooks", in); st != 400 || !strings.Contains(string(out), "region_code") {
			t.Errorf("district subscription by a street admin: %d %s", st, out)
		}
		in["unit_id"], in["region_code"] = "yj", ""
		if st, out := call(t, tok, "POST", "/api/v1/webhooks", in); st != 400 || !strings.Contains(string(out), "unit_id") {
			t.Errorf("district unit by a street admin: %d %s", st, out)
		}
		in["unit_id"], in["region_code"] = "", lastSeg(street)
		st, out := call(t, tok, "POST", "/api/v1/webhooks", in)
		if st != 201 {
			t.Fatalf("own street: %d %s", st, out)
		}
		var created struct {
			Subscription service.SubscriptionView `json:"subscription"`
		}
		mustJSON(t, out, &created)
		if st, _ := call(t, tok, "DELETE", "/api/v1/webhooks/"+created.Subscription.ID, nil); st != 204 {
			t.Errorf("delete own: %d", st)
		}
	},
	"PUT /api/v1/webhooks/{id}": func(t *testing.T, tok, street string) {
		other := otherStreetHook(t)
		in := map[string]any{"name": "改", "url": "http://127.0.0.1:9/y", "events": []string{"*"}, "region_code": lastSeg(street)}
		if st, out := call(t, tok, "PUT", "/api/v1/webhooks/"+other.ID, in); st != 404 {
			t.Errorf("another street's: %d %s", st, out)
		}
	},
	"POST /api/v1/webhooks/{id}/state": func(t *testing.T, tok, street string) {
		other := otherStreetHook(t)
		if st, out := call(t, tok, "POST", "/api/v1/webhooks/"+other.ID+"/state", map[string]string{"state": "paused"}); st != 404 {
			t.Errorf("another street's: %d %s", st, out)
		}
	},
	"DELETE /api/v1/webhooks/{id}": func(t *testing.T, tok, street string) {
		other := otherStreetHook(t)
		if st, out := call(t, tok, "DELETE", "/api/v1/webhooks/"+other.ID, nil); st != 404 {
			t.Errorf("another street's: %d %s", st, out)
		}
	},
	"GET /api/v1/webhooks/{id}/log": func(t *testing.T, tok, street string) {
		other := otherStreetHook(t)
		if st, out := call(t, tok, "GET", "/api/v1/webhooks/"+other.ID+"/log", nil); st != 404 {
			t.Errorf("another street's: %d %s", st, out)
		}
	},
}

var (
	otherHookOnce sync.Once
	otherHook     service.SubscriptionView
)

// otherStreetHook is a (paused) subscription of 解放碑, made once by the
// district's administrator.
func otherStreetHook(t *testing.T) service.SubscriptionView {
	t.Helper()
	otherHookOnce.Do(func() {
		jfb, _ := plat.DB.AccountByUsername(context.Background(), "jfb_zhihui")
		otherHook, _ = createHook(t, "admin", map[string]any{"name": "解放碑订阅", "url": "http://127.0.0.1:9/jfb", "events": []string{"close"},
			"region_code": lastSeg(jfb.RegionPath)})
		as(t, "admin", 200, "POST", "/api/v1/webhooks/"+otherHook.ID+"/state", map[string]string{"state": "paused"})
	})
	return otherHook
}

// hotlineCall sends a request as the hotline platform (its key in X-Api-Key).
func hotlineCall(t *testing.T, key, path string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestHotlineRoundTrip: a local server stands in for the 12345 platform. A
// work order becomes a hotline case (once, however often it is sent); the
// hotline's subscription (hotline cases only) hears every step with the
// order's number and the unit's reply; its return visit becomes a step
// and decides the case's 12345 rates.
func TestHotlineRoundTrip(t *testing.T) {
	ctx := context.Background()
	secret, _, err := plat.Service.CreateAPIKey(ctx, service.NewAPIKey{Name: "渝中区12345热线平台", RegionCode: "500103", Hotline: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := plat.Service.CreateAPIKey(ctx, service.NewAPIKey{Name: "某居民应用（热线测试）", RegionCode: "500103"})
	if err != nil {
		t.Fatal(err)
	}
	hotline := newReceiver(t, "hotline-secret-0123456789", nil)
	sub, _ := createHook(t, "admin", map[string]any{"name": "12345热线平台", "url": hotline.srv.URL + "/zhizhi/events",
		"events": []string{"accept", "reject", "dispatch", "feedback", "verify", "close", "return_visit"}, "region_code": "500103",
		"sources": []string{"hotline"}, "secret": "hotline-secret-0123456789"})
	defer as(t, "admin", 204, "DELETE", "/api/v1/webhooks/"+sub.ID, nil)

	cat := ""
	for _, c := range plat.Service.Categories() {
		required := false
		for _, q := range c.Questions {
			required = required || q.Required
		}
		if c.Active && !required {
			cat = c.Code
			break
		}
	}
	_, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	number := "GD" + strconv.FormatInt(time.Now().UnixNano(), 10)
	order := map[string]any{"number": number, "caller": map[string]string{"name": "刘女士", "phone": "13912345678"},
		"content": "小区门口路灯不亮已经一周", "category": cat, "hotline_category": "城市管理/市政设施",
		"address": "石油路测试小区门口", "point": map[string]float64{"lng": p.Lng, "lat": p.Lat},
		"time_limit": plat.Service.Now().Add(72 * time.Hour).Format(time.RFC3339)}

	if st, out := hotlineCall(t, "", "/api/v1/hotline/orders", order); st != 403 {
		t.Errorf("no key: %d %s", st, out)
	}
	if st, out := hotlineCall(t, plain, "/api/v1/hotline/orders", order); st != 403 {
		t.Errorf("another system's key: %d %s", st, out)
	}
	bad := map[string]any{"number": "GD 1", "content": "x", "category": cat}
	if st, out := hotlineCall(t, secret, "/api/v1/hotline/orders", bad); st != 400 || !strings.Contains(string(out), `"number"`) || !strings.Contains(string(out), `"address"`) {
		t.Errorf("bad order: %d %s", st, out)
	}
	var first, again struct {
		CaseID  string `json:"case_id"`
		State   string `json:"state"`
		Created bool   `json:"created"`
	}
	st, out := hotlineCall(t, secret, "/api/v1/hotline/orders", order)
	if st != 200 {
		t.Fatalf("order: %d %s", st, out)
	}
	mustJSON(t, out, &first)
	_, out = hotlineCall(t, secret, "/api/v1/hotline/orders", order)
	mustJSON(t, out, &again)
	if !first.Created || again.Created || again.CaseID != first.CaseID || first.State != "reported" {
		t.Fatalf("first %+v again %+v", first, again)
	}
	id := first.CaseID
	doc, _ := fullCase(t, "syl_zhihui", id)
	if doc["source"] != "hotline" {
		t.Errorf("case source %v", doc["source"])
	}
	// A return visit before the case closed is refused.
	if st, out := hotlineCall(t, secret, "/api/v1/hotline/orders/"+number+"/visit", map[string]any{"satisfaction": "satisfied", "resolved": true}); st != 409 {
		t.Errorf("visit of an open case: %d %s", st, out)
	}
	act(t, "syl_zhihui", id, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", id, map[string]any{"action": "dispatch", "lead_unit": "yj"})
	closeYJ(t, id)
	waitHook(t, "the hotline's events", func() bool { return len(hotline.events(id)) == 4 })
	var kinds []string
	for _, e := range hotline.events(id) {
		kinds = append(kinds, e.Kind)
		if e.Case.HotlineNo != number || e.Case.Source != "hotline" {
			t.Errorf("event %s: hotline_no %q source %q", e.Kind, e.Case.HotlineNo, e.Case.Source)
		}
		if strings.Contains(fmt.Sprint(e), "13912345678") {
			t.Errorf("the caller's phone in an event")
		}
	}
	if strings.Join(kinds, ",") != "accept,dispatch,feedback,verify" {
		t.Errorf("the hotline heard %v", kinds)
	}
	if last := hotline.events(id)[3]; last.Case.State != "closed" || last.Case.Feedback != "已现场处置完毕" {
		t.Errorf("closing event %+v", last.Case)
	}
	// The return visit: basically satisfied, not solved.
	if st, out := hotlineCall(t, secret, "/api/v1/hotline/orders/"+number+"/visit", map[string]any{"satisfaction": "great", "resolved": false}); st != 400 || !strings.Contains(string(out), `"satisfaction"`) {
		t.Errorf("bad visit: %d %s", st, out)
	}
	if st, out := hotlineCall(t, secret, "/api/v1/hotline/orders/GD-none/visit", map[string]any{"satisfaction": "satisfied", "resolved": true}); st != 404 {
		t.Errorf("unknown order: %d %s", st, out)
	}
	st, out = hotlineCall(t, secret, "/api/v1/hotline/orders/"+number+"/visit", map[string]any{"satisfaction": "basic_satisfied", "resolved": false, "note": "路灯修好但又坏"})
	if st != 200 {
		t.Fatalf("visit: %d %s", st, out)
	}
	waitHook(t, "the return visit event", func() bool { return len(hotline.events(id)) == 5 })
	if e := hotline.events(id)[4]; e.Kind != "return_visit" || e.Step.Data["resolved"] != false {
		t.Errorf("visit event %+v", e)
	}
	hotline.check()
	// The 12345 rates of the lead unit: rated and satisfied by the visit,
	// not resolved (handled on time does not count).
	c, err := plat.DB.Case(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	steps, _ := plat.DB.Steps(ctx, id)
	for _, f := range evaluation.Facts(&c, steps, time.FixedZone("CST", 8*3600)) {
		if f.Kind == evaluation.Unit && f.Subject == "yj" {
			if f.Counts[evaluation.Rated] != 1 || f.Counts[evaluation.Satisfied] != 1 || f.Counts[evaluation.HandledOnTime] != 0 || f.Counts[evaluation.Handled] != 1 {
				t.Errorf("yj's facts %v", f.Counts)
			}
		}
	}
}
