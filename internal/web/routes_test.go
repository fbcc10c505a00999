package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/web"
)

var paramRE = regexp.MustCompile(`\{[^}]+\}`)

// TestRouteTableScope: every route of the console's table refuses the
// roles it does not name (403, before any form is read) and sends a
// visitor who is not signed in to the sign-in page, so a new route is
// covered by adding it to the table.
func TestRouteTableScope(t *testing.T) {
	accounts := map[cases.Role]string{cases.RoleAdmin: "admin", cases.RoleCommander: "qu_zhihui", cases.RoleLeader: "leader",
		cases.RoleGridWorker: "zhouchunyan", cases.RoleGridChief: "xyc_wgz", cases.RoleHead: "xyc_jiezhang",
		cases.RoleUnit: "yj_staff", cases.RoleCommunity: "xyc_shuji", cases.RoleResident: "jumin", cases.RoleEnterprise: "qiye"}
	clients := map[cases.Role]*client{}
	path := func(p string) string {
		p = strings.Replace(p, "{$}", "", 1)
		p = strings.Replace(p, "{kind}", "grid", 1)
		return paramRE.ReplaceAllString(p, "x")
	}
	for _, rt := range web.Routes() {
		if rt.Public {
			continue
		}
		p := path(rt.Path)
		anon := newClient(t)
		var r response
		if rt.Method == http.MethodGet {
			r = anon.get(p)
		} else {
			r = anon.post(p, url.Values{"csrf": {"x"}})
		}
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
			t.Errorf("%s %s signed out: %d %q, want a redirect to sign in", rt.Method, rt.Path, r.status, r.location)
		}
		if len(rt.Roles) == 0 {
			continue
		}
		for role, user := range accounts {
			if slices.Contains(rt.Roles, role) {
				continue
			}
			c := clients[role]
			if c == nil {
				c = signIn(t, user)
				clients[role] = c
			}
			if rt.Method == http.MethodGet {
				r = c.get(p)
			} else {
				r = c.post(p, url.Values{})
			}
			if r.status != http.StatusForbidden {
				t.Errorf("%s %s as %s (%s): %d, want 403", rt.Method, rt.Path, user, role, r.status)
			}
		}
	}
}
