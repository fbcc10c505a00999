package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCSP: every console answer carries a Content-Security-Policy that
// allows no inline script or style, and the templates give it nothing to
// break: no inline script (a JSON data block is not run), no on…=
// handler, no style attribute.
func TestCSP(t *testing.T) {
	for _, p := range []string{"/signin", "/r", "/static/board.js"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("Permissions-Policy") == "" {
			t.Errorf("%s: CSP %q, Permissions-Policy %q", p, csp, resp.Header.Get("Permissions-Policy"))
		}
	}
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatal("no templates", err)
	}
	inlineScript := regexp.MustCompile(`<script(\s[^>]*)?>`)
	handler := regexp.MustCompile(`\son[a-z]+\s*=`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, m := range inlineScript.FindAllString(s, -1) {
			if !strings.Contains(m, "src=") && !strings.Contains(m, `type="application/json"`) {
				t.Errorf("%s: inline script %s", f, m)
			}
		}
		if m := handler.FindString(s); m != "" {
			t.Errorf("%s: inline event handler %q", f, m)
		}
		if strings.Contains(s, `style="`) || strings.Contains(s, "<style") {
			t.Errorf("%s: inline style", f)
		}
	}
}
