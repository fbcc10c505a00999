package bench

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// rawTemplates posts one real report and returns its case and first step,
// the templates of the raw writes (BenchmarkRawBatchedInsert, TestIntakePages).
func rawTemplates(tb testing.TB, e *platform) (cases.Case, cases.Step) {
	tb.Helper()
	ctx := context.Background()
	status, resp, err := postReport(newClient(), e, reportBodies(e, 1)[0])
	if err != nil || status != http.StatusCreated {
		tb.Fatalf("report: %d %s %v", status, resp, err)
	}
	var sample cases.Case
	json.Unmarshal(resp, &sample)
	tmpl, err := e.p.DB.Case(ctx, sample.ID)
	if err != nil {
		tb.Fatal(err)
	}
	steps, err := e.p.DB.Steps(ctx, sample.ID)
	if err != nil || len(steps) == 0 {
		tb.Fatal("no step", err)
	}
	return tmpl, steps[0]
}

// rawRows makes n new cases from the templates, the i-th placed at the
// platform's i-th sample point as intake places it: its grid, region and
// center; reported now, its clock started now.
func rawRows(e *platform, tmpl cases.Case, stepTmpl cases.Step, first, n int) []store.RawCase {
	centerDepth := strings.Count(tmpl.CenterPath, "/")
	rows := make([]store.RawCase, n)
	for k := range rows {
		i := first + k
		now := time.Now()
		c := tmpl
		p := e.points[i%len(e.points)]
		grid, _ := e.p.Service.Locate(p)
		path, _ := e.p.Service.RegionPath(grid)
		c.ID, c.Number, c.Point, c.GridCode, c.RegionPath = id.At(now), "", &p, grid, path
		c.CenterPath = strings.Join(strings.SplitAfterN(path, "/", centerDepth+1)[:centerDepth], "")
		c.ReportedAt, c.UpdatedAt = now, now
		// Its clock started at its report, as intake's: the template's
		// times moved by the time since the template was reported (due
		// times that all equalled the template's would sort a due-time
		// index by its next column, unlike intake's).
		if shift := now.Sub(tmpl.ReportedAt); !c.Clock.Start.IsZero() {
			c.Clock.Start, c.Clock.Due, c.Clock.YellowAt = c.Clock.Start.Add(shift), c.Clock.Due.Add(shift), c.Clock.YellowAt.Add(shift)
		}
		s := stepTmpl
		s.ID, s.CaseID, s.At = id.At(now), c.ID, now
		rows[k] = store.RawCase{Case: &c, Step: &s}
	}
	return rows
}

// walReader follows a SQLite write-ahead log: after each commit it reads the
// frames the commit appended and returns their page numbers. The log
// restarts from its first frame (with new salts) once a checkpoint has
// copied all of it; a frame whose salts differ from the header's is not
// part of the current log.
type walReader struct {
	f        *os.File
	pageSize int
	salt     [8]byte
	off      int64
}

func (w *walReader) commit() ([]uint32, error) {
	var hdr [32]byte
	if _, err := w.f.ReadAt(hdr[:], 0); err != nil {
		return nil, err
	}
	w.pageSize = int(binary.BigEndian.Uint32(hdr[8:12]))
	if [8]byte(hdr[16:24]) != w.salt {
		w.salt = [8]byte(hdr[16:24])
		w.off = 32
	}
	var pages, pending []uint32
	buf := make([]byte, 24)
	for off := w.off; ; off += int64(24 + w.pageSize) {
		if _, err := w.f.ReadAt(buf, off); err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		} else if err != nil {
			return nil, err
		}
		if [8]byte(buf[8:16]) != w.salt {
			break
		}
		pending = append(pending, binary.BigEndian.Uint32(buf[0:4]))
		if binary.BigEndian.Uint32(buf[4:8]) != 0 { // a commit frame
			pages = append(pages, pending...)
			pending = pending[:0]
			w.off = off + int64(24+w.pageSize)
		}
	}
	return pages, nil
}

// TestIntakePages counts the pages (4 KiB) that intake's rows write to the
// write-ahead log, per report and per commit, by table and index. It writes
// the rows intake writes (store.DB.WriteRaw, as BenchmarkRawBatchedInsert)
// in commits of ZHIZHI_BENCH_PAGES_BATCH reports (default 64, about what the
// group-commit writer gathers from 128 clients) into a fresh database,
// reads the frames each commit appended to the log, and maps their pages to
// the B-trees that own them at the end (SQLite's dbstat; a page that changed
// owner in between, e.g. a full-text segment freed by a merge, counts for
// its last owner). It prints one table per stage of
// ZHIZHI_BENCH_PAGES_STAGE reports (default 20,000), ZHIZHI_BENCH_PAGES
// stages (e.g. 3); ZHIZHI_BENCH_PAGES_KEEP=FILE keeps a copy of the
// database. Not timed: the counts are the same on any machine.
func TestIntakePages(t *testing.T) {
	stages, _ := strconv.Atoi(os.Getenv("ZHIZHI_BENCH_PAGES"))
	if stages <= 0 {
		t.Skip("set ZHIZHI_BENCH_PAGES=N to count the pages of N stages of reports")
	}
	stage, batch := envInt("ZHIZHI_BENCH_PAGES_STAGE", 20000), envInt("ZHIZHI_BENCH_PAGES_BATCH", 64)
	e, err := newPlatform()
	if err != nil {
		t.Fatal(err)
	}
	defer closePlatform(e)
	tmpl, stepTmpl := rawTemplates(t, e)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "pages.db")
	db, err := store.Open(ctx, path, store.Options{AnalyzeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := os.Open(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wal := &walReader{f: f}
	if _, err := wal.commit(); err != nil { // the migrations' frames
		t.Fatal(err)
	}
	counts := make([]map[uint32]int, stages) // per stage: page → frames
	commits := make([]int, stages)
	for s := range stages {
		counts[s] = map[uint32]int{}
		for done := 0; done < stage; {
			n := min(batch, stage-done)
			if err := db.WriteRaw(ctx, "raw", store.ClockRule{}, rawRows(e, tmpl, stepTmpl, s*stage+done, n)); err != nil {
				t.Fatal(err)
			}
			pages, err := wal.commit()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pages {
				counts[s][p]++
			}
			commits[s]++
			done += n
		}
	}
	// The owner of every page now.
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT pageno, name, pagetype FROM dbstat`)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[uint32]string{}
	for rows.Next() {
		var p uint32
		var name, kind string
		if err := rows.Scan(&p, &name, &kind); err != nil {
			t.Fatal(err)
		}
		if kind == "overflow" {
			name += " (overflow)"
		}
		owner[p] = name
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var doc, item, body float64
	if err := conn.QueryRow(`SELECT avg(length(CAST(doc AS BLOB))), avg(length(CAST(item AS BLOB))), avg(length(CAST(body AS BLOB))) FROM cases`).Scan(&doc, &item, &body); err != nil {
		t.Fatal(err)
	}
	t.Logf("a case row's document %.0f bytes, item %.0f, text %.0f", doc, item, body)
	if keep := os.Getenv("ZHIZHI_BENCH_PAGES_KEEP"); keep != "" {
		// The database, for a look at its rows and pages (sqlite3 FILE).
		if _, err := conn.Exec(`VACUUM INTO ?`, keep); err != nil {
			t.Fatal(err)
		}
	}
	for s := range stages {
		by := map[string]int{}
		total := 0
		for p, n := range counts[s] {
			name := owner[p]
			if name == "" {
				name = "(free, header)"
			}
			by[name] += n
			total += n
		}
		names := make([]string, 0, len(by))
		for name := range by {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool {
			return by[names[i]] > by[names[j]] || by[names[i]] == by[names[j]] && names[i] < names[j]
		})
		var b strings.Builder
		fmt.Fprintf(&b, "stage %d (cases %d → %d), %d commits of %d reports: %.2f pages a report, %.1f a commit\n",
			s+1, s*stage, (s+1)*stage, commits[s], batch, float64(total)/float64(stage), float64(total)/float64(commits[s]))
		for _, name := range names {
			fmt.Fprintf(&b, "  %-36s %6.3f a report %7.1f a commit\n", name, float64(by[name])/float64(stage), float64(by[name])/float64(commits[s]))
		}
		t.Log("\n" + b.String())
	}
}
