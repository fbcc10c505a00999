package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/demo"
)

var (
	navRE      = regexp.MustCompile(`(?s)<nav>(.*?)</nav>`)
	walkHrefRE = regexp.MustCompile(`href="(/[^"#]*)`)
)

// walkSkip are links a walk does not follow: signing out, and the
// downloads (their own tests check them).
func walkSkip(p string) bool {
	return p == "/signout" || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") ||
		strings.Contains(p, "/export") || strings.Contains(p, "format=") || strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".xlsx")
}

// TestEveryRoleWalksItsPages signs every demo account in and walks its
// console as a new user would: every page its menu names, and the links
// on each of those pages (the first of each, up to a bound per account).
// A link the console shows must open: no server error, and no page that
// refuses (403) or cannot find (404) what the console itself offered.
func TestEveryRoleWalksItsPages(t *testing.T) {
	start := time.Now()
	// The demo's New Year's Eve operation (the command's demo loads it):
	// its board, report and planning form are among the commanders' pages.
	demoOperation(t)
	opPages := map[string]bool{}
	users := []string{demo.StreetLeader, demo.QiyeColleague, "hlq_jj"}
	for _, a := range demo.Accounts() {
		users = append(users, a.Username)
	}
	pages := 0
	for _, u := range users {
		t.Run(u, func(t *testing.T) {
			c := signIn(t, u)
			home := c.get("/")
			for home.status == http.StatusSeeOther || home.status == http.StatusFound {
				home = c.get(home.location)
			}
			if home.status != http.StatusOK {
				t.Fatalf("home: %d %s", home.status, excerpt(home.body))
			}
			var menu []string
			if m := navRE.FindStringSubmatch(home.body); m != nil {
				for _, h := range walkHrefRE.FindAllStringSubmatch(m[1], -1) {
					menu = append(menu, strings.ReplaceAll(h[1], "&amp;", "&"))
				}
			}
			seen := map[string]bool{}
			const perAccount = 40
			visit := func(p, from string) (response, bool) {
				if seen[p] || walkSkip(p) || len(seen) >= perAccount {
					return response{}, false
				}
				seen[p] = true
				pages++
				if strings.HasPrefix(p, "/operations") {
					opPages[strings.ReplaceAll(p, demo.NYEOperationID, "{id}")] = true
				}
				r := c.get(p)
				if r.status >= 500 || r.status == http.StatusForbidden || r.status == http.StatusNotFound {
					t.Errorf("%s (linked from %s): %d %s", p, from, r.status, excerpt(r.body))
				}
				return r, r.status == http.StatusOK
			}
			for _, p := range menu {
				r, ok := visit(p, "the menu")
				if !ok {
					continue
				}
				main := r.body
				if i := strings.Index(main, "<main>"); i >= 0 {
					main = main[i:]
				}
				// The first link to each distinct page, ignoring what differs
				// only in its query (a list's rows link to the same page).
				byPath := map[string]bool{}
				for _, h := range walkHrefRE.FindAllStringSubmatch(main, -1) {
					link := strings.ReplaceAll(h[1], "&amp;", "&")
					key := regexp.MustCompile(`[0-9A-Z]{26}|[0-9]{6,}`).ReplaceAllString(strings.SplitN(link, "?", 2)[0], "{id}")
					if byPath[key] {
						continue
					}
					byPath[key] = true
					visit(link, p)
				}
			}
			if len(menu) == 0 {
				t.Errorf("no menu on the home page")
			}
		})
	}
	for _, p := range []string{"/operations", "/operations/{id}", "/operations/{id}/report", "/operations/new", "/operations/{id}/edit"} {
		if !opPages[p] {
			t.Errorf("no account's walk reached %s", p)
		}
	}
	t.Logf("walked %d pages of %d accounts in %v", pages, len(users), time.Since(start).Round(time.Millisecond))
}
