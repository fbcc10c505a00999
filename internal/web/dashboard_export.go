package web

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// sheet is one table of an export: a name, a header and rows of cells. A
// cell is a string or an int (numbers stay numbers in Excel). More, when
// set, yields the rows after Rows a page at a time until it returns none, so
// an export of any size streams with a page in memory.
type sheet struct {
	Name   string
	Header []string
	Rows   [][]any
	More   func() ([][]any, error)
}

// each calls fn for every row of the sheet: Rows, then More's pages.
func (s sheet) each(fn func([]any) error) error {
	for _, row := range s.Rows {
		if err := fn(row); err != nil {
			return err
		}
	}
	if s.More == nil {
		return nil
	}
	for {
		page, err := s.More()
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, row := range page {
			if err := fn(row); err != nil {
				return err
			}
		}
	}
}

// maxSheetRows is Excel's limit of rows in one worksheet (header included);
// a longer table goes on in a second sheet named "…(2)", and so on. A
// variable so that a test can lower it.
var maxSheetRows = 1 << 20

// writeCSV writes the sheets as one CSV file in UTF-8 with a byte-order
// mark (so Excel reads the Chinese), separated by an empty line, each
// under its name when there are several. Text that a spreadsheet would run
// as a formula is prefixed with an apostrophe.
func writeCSV(w io.Writer, sheets []sheet) error {
	if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	for i, s := range sheets {
		if len(sheets) > 1 {
			if i > 0 {
				cw.Write(nil)
			}
			cw.Write([]string{s.Name})
		}
		cw.Write(s.Header)
		rec := make([]string, 0, len(s.Header))
		err := s.each(func(row []any) error {
			rec = rec[:0]
			for _, v := range row {
				rec = append(rec, csvCell(v))
			}
			return cw.Write(rec)
		})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	}
	return fmt.Sprint(v)
}

// writeXLSX writes the sheets as an Excel workbook (Office Open XML
// SpreadsheetML): the few parts a workbook needs, written by hand, with
// inline strings (no shared-string table) and a bold header row. It streams:
// each worksheet is written to w as its rows come (column widths are
// measured on the header and the first page), and the workbook's index
// parts follow, naming the sheets written (a table longer than Excel's
// 1,048,576 rows continues in a second sheet).
func writeXLSX(w io.Writer, sheets []sheet, now time.Time) error {
	z := zip.NewWriter(w)
	create := func(name string) (io.Writer, error) {
		return z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
	}
	add := func(name, body string) error {
		f, err := create(name)
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, body)
		return err
	}
	used := map[string]bool{}
	var names []string
	for _, s := range sheets {
		part := 0
		var out *bufio.Writer
		row := 0
		open := func() error {
			part++
			name := s.Name
			if part > 1 {
				name = fmt.Sprintf("%s(%d)", s.Name, part)
			}
			names = append(names, sheetName(name, len(names)+1, used))
			f, err := create(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(names)))
			if err != nil {
				return err
			}
			out = bufio.NewWriterSize(f, 64<<10)
			out.WriteString(sheetStart(s))
			header := make([]any, len(s.Header))
			for i, h := range s.Header {
				header[i] = h
			}
			row = 1
			writeRow(out, row, header, ` s="1"`)
			return nil
		}
		closeSheet := func() error {
			out.WriteString(`</sheetData></worksheet>`)
			return out.Flush()
		}
		if err := open(); err != nil {
			return err
		}
		err := s.each(func(cells []any) error {
			if row == maxSheetRows {
				if err := closeSheet(); err != nil {
					return err
				}
				if err := open(); err != nil {
					return err
				}
			}
			row++
			writeRow(out, row, cells, "")
			return nil
		})
		if err != nil {
			return err
		}
		if err := closeSheet(); err != nil {
			return err
		}
	}
	const head = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	var types, rels, books strings.Builder
	types.WriteString(head + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`)
	rels.WriteString(head + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	books.WriteString(head + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`)
	for i, name := range names {
		n := i + 1
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, n)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, n, n)
		fmt.Fprintf(&books, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, xmlText(name), n, n)
	}
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`, len(names)+1)
	types.WriteString(`</Types>`)
	rels.WriteString(`</Relationships>`)
	books.WriteString(`</sheets></workbook>`)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", types.String()},
		{"_rels/.rels", head + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", books.String()},
		{"xl/_rels/workbook.xml.rels", rels.String()},
		{"xl/styles.xml", head + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
			`<fonts count="2"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>` +
			`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
			`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
			`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
			`<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
			`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>` +
			`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`},
	}
	for _, p := range parts {
		if err := add(p.name, p.body); err != nil {
			return err
		}
	}
	return z.Close()
}

// sheetStart opens a worksheet: the frozen header row and a width per
// column guessed from the longest text of the header and the rows at hand
// (the first page of a streamed table).
func sheetStart(s sheet) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	widths := make([]int, len(s.Header))
	measure := func(i int, v string) {
		if i < len(widths) {
			// CJK characters are about two Latin ones wide.
			n := utf8.RuneCountInString(v) + (len(v)-utf8.RuneCountInString(v))/2
			widths[i] = max(widths[i], min(n, 60))
		}
	}
	for i, h := range s.Header {
		measure(i, h)
	}
	for _, row := range s.Rows {
		for i, v := range row {
			measure(i, fmt.Sprint(v))
		}
	}
	if len(widths) > 0 {
		b.WriteString(`<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>`)
		for i, w := range widths {
			fmt.Fprintf(&b, `<col min="%d" max="%d" width="%d" customWidth="1"/>`, i+1, i+1, max(w+2, 6))
		}
		b.WriteString(`</cols>`)
	}
	b.WriteString(`<sheetData>`)
	return b.String()
}

// writeRow writes one row of cells.
func writeRow(b *bufio.Writer, r int, cells []any, style string) {
	fmt.Fprintf(b, `<row r="%d">`, r)
	for i, v := range cells {
		ref := colName(i) + strconv.Itoa(r)
		switch x := v.(type) {
		case int:
			fmt.Fprintf(b, `<c r="%s"%s><v>%d</v></c>`, ref, style, x)
		default:
			fmt.Fprintf(b, `<c r="%s"%s t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>`, ref, style, xmlText(fmt.Sprint(x)))
		}
	}
	b.WriteString(`</row>`)
}

// colName is a column's letters: 0 → A, 25 → Z, 26 → AA.
func colName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// xmlText escapes text for XML; characters XML cannot carry become U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// sheetName makes a valid, unique sheet name: at most 31 characters, none
// of []:*?/\ .
func sheetName(name string, n int, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	if r := []rune(name); len(r) > 28 {
		name = string(r[:28])
	}
	if name == "" || used[name] {
		name = fmt.Sprintf("%s%d", name, n)
	}
	used[name] = true
	return name
}
