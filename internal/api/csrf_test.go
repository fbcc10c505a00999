package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestCookieWritesNeedSameOrigin: the console's session cookie authenticates
// API calls, so a write carrying only the cookie must come from our own
// origin; a bearer token is not sent by browsers on their own and needs no
// such check.
func TestCookieWritesNeedSameOrigin(t *testing.T) {
	tok := token(t, "zhouchunyan")
	body := `{"action":"urge"}`
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"cross-site cookie write", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin cookie write", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/cases/nonexistent/actions", strings.NewReader(body))
		req.AddCookie(&http.Cookie{Name: "zhizhi_session", Value: tok})
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	// Same origin with the cookie, and a bearer token from anywhere, get
	// through to the handler (404: no such case).
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/cases/nonexistent/actions", strings.NewReader(body))
	req.AddCookie(&http.Cookie{Name: "zhizhi_session", Value: tok})
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("same-origin cookie write: %v %v", resp.StatusCode, err)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/api/v1/cases/nonexistent/actions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", "https://tool.example")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("bearer write from another origin: %v %v", resp.StatusCode, err)
	}
}
