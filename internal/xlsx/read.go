// Package xlsx reads the first worksheet of an Excel workbook (Office Open
// XML, .xlsx) as rows of text, for the imports that accept Excel as well as
// CSV (enterprises, regions, rosters). It is pure: bytes in, rows out. It
// reads what spreadsheets write: shared strings (rich text runs joined),
// inline strings, numbers and booleans as written, formulas' cached
// values, and gaps between cells. It refuses what it cannot read, and
// bounds what it unpacks, so a hostile file costs at most its limits.
package xlsx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Limits on what one workbook may unpack.
const (
	MaxPart = 64 << 20 // bytes of one XML part, unpacked
	MaxRows = 200_000
	MaxCols = 200
)

// IsXLSX reports whether data starts like a zip file (a workbook).
func IsXLSX(data []byte) bool { return bytes.HasPrefix(data, []byte("PK\x03\x04")) }

// ErrNotWorkbook is returned for a file that is not an Excel workbook.
var ErrNotWorkbook = errors.New("不是有效的 Excel（.xlsx）文件")

// Read returns the rows of the workbook's first worksheet; a row's cells
// are in column order, empty where a cell is missing, and trailing empty
// rows are dropped.
func Read(data []byte) ([][]string, error) {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, ErrNotWorkbook
	}
	files := map[string]*zip.File{}
	for _, f := range z.File {
		files[f.Name] = f
	}
	sheet, err := firstSheet(files)
	if err != nil {
		return nil, err
	}
	var shared []string
	if f, ok := files["xl/sharedStrings.xml"]; ok {
		if shared, err = readShared(f); err != nil {
			return nil, err
		}
	}
	f, ok := files[sheet]
	if !ok {
		return nil, fmt.Errorf("%w：缺少工作表 %s", ErrNotWorkbook, sheet)
	}
	return readSheet(f, shared)
}

// open opens a part, bounded by MaxPart.
func open(f *zip.File) (io.Reader, func() error, error) {
	if f.UncompressedSize64 > MaxPart {
		return nil, nil, fmt.Errorf("工作簿中的 %s 过大（超过%dMB）", f.Name, MaxPart>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, ErrNotWorkbook
	}
	return io.LimitReader(rc, MaxPart), rc.Close, nil
}

// firstSheet finds the first worksheet's part through the workbook and its
// relationships; a workbook without them is read at its usual place.
func firstSheet(files map[string]*zip.File) (string, error) {
	const fallback = "xl/worksheets/sheet1.xml"
	wb, ok := files["xl/workbook.xml"]
	if !ok {
		return "", ErrNotWorkbook
	}
	var book struct {
		Sheets []struct {
			RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := decode(wb, &book); err != nil {
		return "", err
	}
	rels, ok := files["xl/_rels/workbook.xml.rels"]
	if len(book.Sheets) == 0 || !ok {
		return fallback, nil
	}
	var rs struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := decode(rels, &rs); err != nil {
		return "", err
	}
	for _, r := range rs.Rel {
		if r.ID == book.Sheets[0].RID {
			if strings.HasPrefix(r.Target, "/") {
				return strings.TrimPrefix(r.Target, "/"), nil
			}
			return path.Clean("xl/" + r.Target), nil
		}
	}
	return fallback, nil
}

func decode(f *zip.File, v any) error {
	r, done, err := open(f)
	if err != nil {
		return err
	}
	defer done()
	if err := xml.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("%w：%s 无法解析", ErrNotWorkbook, f.Name)
	}
	return nil
}

// richText is a string item: plain text, or runs of text to be joined.
type richText struct {
	T    string `xml:"t"`
	Runs []struct {
		T string `xml:"t"`
	} `xml:"r"`
}

func (s richText) text() string {
	if len(s.Runs) == 0 {
		return s.T
	}
	var b strings.Builder
	b.WriteString(s.T)
	for _, r := range s.Runs {
		b.WriteString(r.T)
	}
	return b.String()
}

func readShared(f *zip.File) ([]string, error) {
	var sst struct {
		SI []richText `xml:"si"`
	}
	if err := decode(f, &sst); err != nil {
		return nil, err
	}
	out := make([]string, len(sst.SI))
	for i, s := range sst.SI {
		out[i] = s.text()
	}
	return out, nil
}

type cell struct {
	Ref    string   `xml:"r,attr"`
	Type   string   `xml:"t,attr"`
	Value  string   `xml:"v"`
	Inline richText `xml:"is"`
}

// readSheet streams the worksheet's rows.
func readSheet(f *zip.File, shared []string) ([][]string, error) {
	r, done, err := open(f)
	if err != nil {
		return nil, err
	}
	defer done()
	d := xml.NewDecoder(r)
	var rows [][]string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w：工作表无法解析", ErrNotWorkbook)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		n := len(rows) + 1
		for _, a := range se.Attr {
			if a.Name.Local == "r" {
				if v, err := strconv.Atoi(a.Value); err == nil && v >= n && v <= MaxRows {
					n = v
				}
			}
		}
		if n > MaxRows {
			return nil, fmt.Errorf("工作表超过%d行", MaxRows)
		}
		var row struct {
			Cells []cell `xml:"c"`
		}
		if err := d.DecodeElement(&row, &se); err != nil {
			return nil, fmt.Errorf("%w：第%d行无法解析", ErrNotWorkbook, n)
		}
		var out []string
		for _, c := range row.Cells {
			col := len(out)
			if c.Ref != "" {
				if col, err = column(c.Ref); err != nil {
					return nil, fmt.Errorf("%w：单元格 %s", ErrNotWorkbook, c.Ref)
				}
			}
			if col >= MaxCols {
				return nil, fmt.Errorf("工作表超过%d列", MaxCols)
			}
			v, err := c.text(shared)
			if err != nil {
				return nil, fmt.Errorf("%w：单元格 %s：%v", ErrNotWorkbook, c.Ref, err)
			}
			for len(out) < col {
				out = append(out, "")
			}
			if col < len(out) {
				out[col] = v // a cell written twice: the last wins
			} else {
				out = append(out, v)
			}
		}
		for len(rows) < n-1 {
			rows = append(rows, nil)
		}
		rows = append(rows, out)
	}
	for len(rows) > 0 && blank(rows[len(rows)-1]) {
		rows = rows[:len(rows)-1]
	}
	return rows, nil
}

func (c cell) text(shared []string) (string, error) {
	switch c.Type {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(c.Value))
		if err != nil || i < 0 || i >= len(shared) {
			return "", errors.New("共享字符串编号无效")
		}
		return shared[i], nil
	case "inlineStr":
		return c.Inline.text(), nil
	case "b":
		if strings.TrimSpace(c.Value) == "1" {
			return "TRUE", nil
		}
		return "FALSE", nil
	}
	return c.Value, nil // n, str (a formula's text), e, d: as written
}

// column reads the column of a cell reference: A1 is 0, AB7 is 27.
func column(ref string) (int, error) {
	n := 0
	i := 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		n = n*26 + int(ref[i]-'A'+1)
		if n > MaxCols {
			return MaxCols, nil
		}
	}
	if i == 0 || i == len(ref) {
		return 0, errors.New("bad reference")
	}
	for _, r := range ref[i:] {
		if r < '0' || r > '9' {
			return 0, errors.New("bad reference")
		}
	}
	return n - 1, nil
}

func blank(row []string) bool {
	for _, v := range row {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}
