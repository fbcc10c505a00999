// Package xlsxtest writes small Excel workbooks for tests of what reads
// them (imports): each cell an inline string at its reference, blank cells
// left out, as spreadsheets save them.
package xlsxtest

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"strings"
)

// Workbook writes rows as a workbook's first (and only) worksheet.
func Workbook(rows [][]string) []byte {
	var sheet strings.Builder
	sheet.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, rec := range rows {
		fmt.Fprintf(&sheet, `<row r="%d">`, i+1)
		for j, v := range rec {
			if v == "" {
				continue // a blank cell is not written
			}
			fmt.Fprintf(&sheet, `<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>`, column(j), i+1, html.EscapeString(v))
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, part := range [][2]string{
		{"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>`},
		{"xl/worksheets/sheet1.xml", sheet.String()},
	} {
		w, _ := z.Create(part[0])
		w.Write([]byte(part[1]))
	}
	z.Close()
	return b.Bytes()
}

// FromCSV writes CSV text as a workbook; it panics on malformed CSV (the
// tests' own text).
func FromCSV(text string) []byte {
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		panic(err)
	}
	return Workbook(recs)
}

// column is a column's letters: 0 → A, 25 → Z, 26 → AA.
func column(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}
