package region

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// csvColumns are the columns of the CSV format, in the order WriteCSV uses.
var csvColumns = []string{"code", "name", "level", "parent_code"}

// headerAliases maps accepted header names to columns: parent as in the
// GeoJSON properties, and the Chinese headings people type in Excel.
var headerAliases = map[string]string{
	"code": "code", "代码": "code", "区划代码": "code",
	"name": "name", "名称": "name",
	"level": "level", "级别": "level", "层级": "level",
	"parent_code": "parent_code", "parent": "parent_code", "上级代码": "parent_code", "上级区划代码": "parent_code",
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ParseCSV reads the region tree without shapes from CSV with the header
// code,name,level,parent_code (in any order; parent and Chinese headings such
// as 代码, 名称, 级别, 上级代码 are accepted). A leading UTF-8 BOM, as Excel
// writes, is skipped; rows whose cells are all blank are ignored. Grids are
// refused because a grid needs its boundary, which only GeoJSON carries.
//
// existing, the all-or-nothing *ImportError and the order of the result are
// as for ParseGeoJSON; Problem.Row is the line number in the file.
func ParseCSV(r io.Reader, existing func(code string) (Level, bool)) ([]Region, error) {
	c := &collector{format: FormatCSV}
	rows, err := readCSV(r, c)
	if err != nil {
		return nil, err
	}
	return finish(rows, existing, c, "行")
}

func readCSV(r io.Reader, c *collector) ([]row, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // a wrong count is reported per row, in Chinese
	cr.ReuseRecord = true
	// fail records a CSV syntax error; it returns errors from r itself.
	fail := func(err error) error {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return err
		}
		reason := "CSV 格式错误"
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			reason = "CSV 格式错误：字段中的双引号不成对"
		case errors.Is(pe.Err, csv.ErrBareQuote):
			reason = "CSV 格式错误：未加引号的字段中出现了双引号"
		}
		c.add(pe.Line, "", reason+"，无法继续读取")
		return nil
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		c.add(0, "", "文件为空")
		return nil, nil
	}
	if err != nil {
		return nil, fail(err)
	}
	hline, _ := cr.FieldPos(0) // 1 unless blank lines come first
	if !validUTF8(header) {
		c.add(hline, "", notUTF8)
		return nil, nil
	}
	col := map[string]int{}
	names := make([]string, len(header)) // the header as written, for field names
	for i, h := range header {
		h = strings.TrimSpace(h)
		names[i] = h
		name, ok := headerAliases[strings.ToLower(h)]
		if !ok {
			continue // extra columns (notes, remarks) are ignored
		}
		if _, dup := col[name]; dup {
			c.addf(hline, "", "表头中 %s 列重复", name)
			continue
		}
		col[name] = i
		names[i] = name
	}
	missing := []string{}
	for _, name := range csvColumns {
		if _, ok := col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		c.addf(hline, "", "表头缺少 %s 列（表头应为 code,name,level,parent_code）", strings.Join(missing, "、"))
		return nil, nil
	}
	width := len(header)
	var rows []row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fail(err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if !validUTF8(rec) {
			// A GBK file fails on every row; one message says it all.
			c.add(line, "", notUTF8)
			return nil, nil
		}
		if len(rows) == MaxRegions {
			c.addf(0, "", "行数过多，一个文件最多 %d 行", MaxRegions)
			return nil, nil
		}
		if len(rec) != width {
			c.addf(line, "", "应有 %d 列，实际为 %d 列（名称中有逗号时请用英文双引号括起）", width, len(rec))
			continue
		}
		cell := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
		rw := row{
			n:           line,
			usable:      true,
			codeField:   names[col["code"]],
			nameField:   names[col["name"]],
			levelField:  names[col["level"]],
			parentField: names[col["parent_code"]],
			region: Region{
				Code:       cell("code"),
				Name:       cell("name"),
				ParentCode: cell("parent_code"),
			},
		}
		if p := levelProblem(cell("level")); p != "" {
			c.add(line, rw.levelField, p)
		} else {
			rw.region.Level, _ = ParseLevel(cell("level"))
			if rw.region.Level == Grid {
				c.add(line, rw.levelField, "网格必须有边界，CSV 不含边界，请用 GeoJSON 导入网格")
			}
		}
		rows = append(rows, rw)
	}
	if len(rows) == 0 && len(c.problems) == 0 {
		c.add(0, "", "文件中没有任何区划")
	}
	return rows, nil
}

const notUTF8 = "文件不是 UTF-8 编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入"

func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// WriteCSV writes regions as CSV that ParseCSV reads back (shapes are left
// out). It starts with a UTF-8 BOM because Excel, which most administrators
// open exports with, otherwise shows Chinese as mojibake.
func WriteCSV(w io.Writer, regions []Region) error {
	bw := bufio.NewWriter(w)
	bw.Write(utf8BOM)
	cw := csv.NewWriter(bw)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	for _, r := range regions {
		if err := cw.Write([]string{r.Code, r.Name, string(r.Level), r.ParentCode}); err != nil {
			return fmt.Errorf("region %s: %w", r.Code, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
