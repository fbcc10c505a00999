package api_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNotificationsAPI: a dispatch reaches the unit's inbox; the unread
// count streams over server-sent events and drops when read; preferences
// are validated by field; a push subscription is stored and removed; the
// SMS gateway's settings are validated and its secret never shown back.
func TestNotificationsAPI(t *testing.T) {
	ctx := context.Background()
	tok := token(t, "scjg_staff")
	// The live count first: it must change when the dispatch lands.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/notifications/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := srv.Client().Do(req.WithContext(sctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	nextUnread := func() string {
		t.Helper()
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, "data: {\"unread\"") {
				return strings.TrimPrefix(l, "data: ")
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	first := nextUnread()

	c := dispatched(t) // lead yj, co scjg
	if _, err := plat.Service.FanOut(ctx); err != nil {
		t.Fatal(err)
	}
	if got := nextUnread(); got == first {
		t.Fatalf("unread count did not change: %s", got)
	}
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Kind   string `json:"kind"`
			CaseID string `json:"case_id"`
			Link   string `json:"link"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "scjg_staff", 200, "GET", "/api/v1/notifications?unread=1", nil), &list)
	var mine string
	for _, n := range list.Items {
		if n.CaseID == c.ID {
			if n.Kind != "dispatched" || n.Link != "/cases/"+c.ID {
				t.Errorf("notification %+v", n)
			}
			mine = n.ID
		}
	}
	if mine == "" {
		t.Fatalf("no notification of %s in %+v", c.ID, list.Items)
	}
	as(t, "scjg_staff", 400, "GET", "/api/v1/notifications?limit=0", nil)
	as(t, "yj_staff", 404, "POST", "/api/v1/notifications/"+mine+"/read", nil)
	as(t, "scjg_staff", 204, "POST", "/api/v1/notifications/"+mine+"/read", nil)
	as(t, "scjg_staff", 200, "POST", "/api/v1/notifications/read", nil)
	var unread struct{ Unread int }
	mustJSON(t, as(t, "scjg_staff", 200, "GET", "/api/v1/notifications/unread", nil), &unread)
	if unread.Unread != 0 {
		t.Errorf("unread after all read: %d", unread.Unread)
	}
	// The stream follows each mark (one read, then all): it reaches 0.
	for got := nextUnread(); got != `{"unread":0}`; got = nextUnread() {
	}

	// Preferences.
	out := as(t, "scjg_staff", 400, "PUT", "/api/v1/notifications/preferences", map[string]any{"quiet_from": "25:00", "quiet_to": "07:00", "off": []string{"x"}})
	for _, f := range []string{"quiet_from", "off[0]"} {
		if !strings.Contains(string(out), `"`+f+`"`) {
			t.Errorf("prefs error does not name %s: %s", f, out)
		}
	}
	as(t, "scjg_staff", 200, "PUT", "/api/v1/notifications/preferences", map[string]any{"quiet_from": "22:00", "quiet_to": "07:00", "off": []string{"clock_yellow"}})
	if out := as(t, "scjg_staff", 200, "GET", "/api/v1/notifications/preferences", nil); !strings.Contains(string(out), `"clock_yellow"`) {
		t.Errorf("prefs: %s", out)
	}

	// Push subscriptions.
	var key struct {
		PublicKey string `json:"public_key"`
	}
	mustJSON(t, as(t, "scjg_staff", 200, "GET", "/api/v1/push/key", nil), &key)
	if len(key.PublicKey) < 80 {
		t.Errorf("VAPID key %q", key.PublicKey)
	}
	sub := map[string]any{"endpoint": "https://push.example/abc", "keys": map[string]string{
		"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}}
	out = as(t, "scjg_staff", 400, "POST", "/api/v1/push/subscriptions", map[string]any{"endpoint": "nope", "keys": map[string]string{}})
	if !strings.Contains(string(out), `"endpoint"`) || !strings.Contains(string(out), `"keys.auth"`) {
		t.Errorf("subscription error: %s", out)
	}
	var stored struct {
		ID string `json:"id"`
	}
	mustJSON(t, as(t, "scjg_staff", 201, "POST", "/api/v1/push/subscriptions", sub), &stored)
	// Another account's "delete" of the endpoint changes nothing.
	as(t, "yj_staff", 204, "DELETE", "/api/v1/push/subscriptions", map[string]string{"endpoint": "https://push.example/abc"})
	if _, err := plat.DB.PushSubscription(ctx, stored.ID); err != nil {
		t.Fatalf("another account removed the subscription: %v", err)
	}
	as(t, "scjg_staff", 204, "DELETE", "/api/v1/push/subscriptions", map[string]string{"endpoint": "https://push.example/abc"})
	if _, err := plat.DB.PushSubscription(ctx, stored.ID); err == nil {
		t.Fatal("the subscription is still there")
	}

	// The SMS gateway.
	out = as(t, "admin", 400, "PUT", "/api/v1/notifications/gateway", map[string]any{"url": "ftp://x", "templates": map[string]string{"resident_closed": "{phone}"}})
	for _, f := range []string{`"url"`, `"templates.resident_closed"`} {
		if !strings.Contains(string(out), f) {
			t.Errorf("gateway error does not name %s: %s", f, out)
		}
	}
	as(t, "admin", 200, "PUT", "/api/v1/notifications/gateway", map[string]any{"url": "http://127.0.0.1:9/sms", "base_url": "https://zz.example",
		"auth_header": "Authorization", "auth_value": "Bearer secret"})
	if out := as(t, "admin", 200, "GET", "/api/v1/notifications/gateway", nil); strings.Contains(string(out), "secret") {
		t.Errorf("gateway secret shown: %s", out)
	}
	as(t, "scjg_staff", 403, "GET", "/api/v1/notifications/gateway", nil)
	// Switch it off again for the other tests (nothing listens on port 9).
	as(t, "admin", 200, "PUT", "/api/v1/notifications/gateway", map[string]any{})
}
