package web_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/web"
)

// TestExportStreams: a table given page by page is written whole, in CSV and
// in Excel, with no row cap; past Excel's rows per sheet it goes on in a
// second sheet with the header again.
func TestExportStreams(t *testing.T) {
	defer web.SetMaxSheetRows(1000)() // header + 999 rows per sheet, for the test
	const pages, per = 5, 500
	mk := func() web.Sheet {
		n := 0
		page := func() ([][]any, error) {
			if n == pages {
				return nil, nil
			}
			rows := make([][]any, per)
			for i := range rows {
				rows[i] = []any{fmt.Sprintf("C%05d", n*per+i), n*per + i}
			}
			n++
			return rows, nil
		}
		first, _ := page()
		return web.Sheet{Name: "案件明细", Header: []string{"编号", "序号"}, Rows: first, More: page}
	}
	var csv bytes.Buffer
	if err := web.WriteCSV(&csv, []web.Sheet{mk()}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\r\n")
	if len(lines) != 1+pages*per || !strings.HasSuffix(lines[len(lines)-1], "C02499,2499") {
		t.Fatalf("CSV has %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	var x bytes.Buffer
	if err := web.WriteXLSX(&x, []web.Sheet{mk()}, time.Now()); err != nil {
		t.Fatal(err)
	}
	sheets := readXLSX(t, x.Bytes())
	if len(sheets) != 3 || sheets[0].name != "案件明细" || sheets[1].name != "案件明细(2)" || sheets[2].name != "案件明细(3)" {
		t.Fatalf("sheets %d: %v", len(sheets), names(sheets))
	}
	total := 0
	for _, s := range sheets {
		if s.rows[0][0] != "编号" {
			t.Errorf("sheet %s lacks the header", s.name)
		}
		total += len(s.rows) - 1
	}
	last := sheets[2].rows[len(sheets[2].rows)-1]
	if total != pages*per || last[0] != "C02499" || last[1] != "2499" {
		t.Fatalf("%d rows in all, last %v", total, last)
	}
}

func names(s []xlsxSheet) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.name)
	}
	return out
}
