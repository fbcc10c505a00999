package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/store"
)

// TestExplainList prints SQLite's plan and timing for hand-written copies of
// the list queries (ZHIZHI_BENCH_EXPLAIN=path/to/cases.db).
func TestExplainList(t *testing.T) {
	path := os.Getenv("ZHIZHI_BENCH_EXPLAIN")
	if path == "" {
		t.Skip("set ZHIZHI_BENCH_EXPLAIN to a list benchmark database")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := db.Raw()
	var street string
	raw.QueryRowContext(ctx, `SELECT center_path FROM cases LIMIT 1`).Scan(&street)
	hi := street[:len(street)-1] + "0"
	scope := `((region_path >= '` + street + `' AND region_path < '` + hi + `') OR (center_path >= '` + street + `' AND center_path < '` + hi + `') OR reporter_account = 'acct-x')`
	dscope := `((region_path >= '/500000/500103/' AND region_path < '/500000/5001030') OR (center_path >= '/500000/500103/' AND center_path < '/500000/5001030') OR reporter_account = 'acct-x')`
	now := listNow.UnixMilli()
	qs := map[string]string{
		"street+open":      `SELECT doc FROM cases WHERE ` + scope + ` AND state IN ('reported','accepted','dispatched','handling','fed_back') ORDER BY id DESC LIMIT 50`,
		"street+state":     `SELECT doc FROM cases WHERE ` + scope + ` AND state IN ('reported') ORDER BY id DESC LIMIT 50`,
		"category+overdue": `SELECT doc FROM cases WHERE ` + scope + ` AND category = 'MS03' AND due_at < ` + fmt.Sprint(now) + ` ORDER BY id DESC LIMIT 50`,
		"text3":            `SELECT doc FROM cases WHERE ` + dscope + ` AND rowid IN (SELECT rowid FROM case_fts WHERE case_fts MATCH '"消防通道"') ORDER BY id DESC LIMIT 50`,
		"text2":            `SELECT doc FROM cases WHERE ` + dscope + ` AND rowid IN (SELECT rowid FROM case_fts WHERE body LIKE '%井盖%') ORDER BY id DESC LIMIT 50`,
		"street":           `SELECT doc FROM cases WHERE ` + scope + ` ORDER BY id DESC LIMIT 50`,
	}
	for _, name := range strings.Fields(os.Getenv("ZHIZHI_BENCH_EXPLAIN_ONLY") + " street+open street+state category+overdue text3 text2 street") {
		q, ok := qs[name]
		if !ok {
			continue
		}
		rows, err := raw.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		start := time.Now()
		n := 0
		rows, err = raw.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			n++
		}
		rows.Close()
		t.Logf("%s: %d rows in %s\n  %s", name, n, time.Since(start), strings.Join(plan, "\n  "))
	}
}
