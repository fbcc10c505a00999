package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/demo"
	"zhizhi/internal/server"
)

// BenchmarkConsolePages times the console's pages a command center opens
// in its working day (the command board as it opens and with its filters,
// the held reports, the dashboard and its list, the evaluation, the lists,
// the sensors, big events, enterprise services, visits) over HTTP, each
// rendered whole by the node, as the district's commander (yz_zhihui) and
// a street's (jd_zhihui), on the installation of ZHIZHI_BENCH_PAGE_DB (a
// SQLite file or PostgreSQL URL made by 'zhizhi bench chongqing'). Each
// page is asked once to warm the node and then pageRuns times; the median
// and the slowest are printed. ZHIZHI_BENCH_PAGES=/dashboard,/held asks
// only for the pages listed, ZHIZHI_BENCH_USERS=wgy,cg_staff as the
// accounts listed (scale.Accounts).
//
//	ZHIZHI_BENCH_PAGE_DB=/tmp/page/district.db go test ./internal/bench -run '^$' -bench ConsolePages -benchtime 1x -v
func BenchmarkConsolePages(b *testing.B) {
	dsn := os.Getenv("ZHIZHI_BENCH_PAGE_DB")
	if dsn == "" {
		b.Skip("ZHIZHI_BENCH_PAGE_DB unset")
	}
	ctx := context.Background()
	data := filepath.Join(os.TempDir(), "zhizhi-bench-page-data")
	p, err := server.Open(ctx, server.Config{Addr: "127.0.0.1:0", DB: dsn, DataDir: data, DefaultCenter: "/500000/", Logger: quietLogger(), RollEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	base := "http://" + p.Addr()
	client := newClient()
	pages := []string{"/board", "/board?state=all", "/board?state=closed", "/board?overdue=1", "/board?sort=due", "/board?sort=severity",
		"/held", "/dashboard", "/dashboard?days=7", "/dashboard?days=365", "/dashboard/cases", "/evaluation", "/lists", "/sensors",
		"/operations", "/qiye/follow", "/visits"}
	if only := os.Getenv("ZHIZHI_BENCH_PAGES"); only != "" {
		pages = strings.Split(only, ",")
	}
	const pageRuns = 5
	users := []string{"yz_zhihui", "jd_zhihui"}
	if only := os.Getenv("ZHIZHI_BENCH_USERS"); only != "" {
		users = strings.Split(only, ",")
	}
	for _, user := range users {
		token, err := signIn(base, user, demo.Password)
		if err != nil {
			b.Fatal(err)
		}
		get := func(path string) time.Duration {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.AddCookie(&http.Cookie{Name: "zhizhi_session", Value: token})
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("%s %s: %s", user, path, resp.Status)
			}
			return time.Since(start)
		}
		b.Run(user, func(b *testing.B) {
			for range b.N {
				for _, path := range pages {
					get(path) // warm
					var ts []time.Duration
					for range pageRuns {
						ts = append(ts, get(path))
					}
					p50, _, _ := percentiles(ts)
					fmt.Printf("%s %-22s median %7.1f ms, slowest %7.1f ms\n", user, path, p50, float64(slicesMax(ts).Microseconds())/1000)
				}
			}
		})
	}
}

func slicesMax(ts []time.Duration) time.Duration {
	m := ts[0]
	for _, t := range ts[1:] {
		m = max(m, t)
	}
	return m
}
