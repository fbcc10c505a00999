package enterprise

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/xlsx"
)

// ImportRow is one enterprise read from a file, with the usernames of its
// liaison and leader (the service resolves them to accounts).
type ImportRow struct {
	Line       int
	Enterprise Enterprise
	Liaison    string
	Leader     string
}

// Problem is one thing wrong with one row of an import: every problem of a
// row is listed, not only the first.
type Problem struct {
	Line   int    `json:"line"` // the header is line 1; 0 for the file
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.Reason
	}
	if p.Field == "" {
		return fmt.Sprintf("第%d行：%s", p.Line, p.Reason)
	}
	return fmt.Sprintf("第%d行 %s：%s", p.Line, p.Field, p.Reason)
}

// Columns are the import file's columns, by their Chinese header (an
// English key is accepted too).
var Columns = []struct{ Key, Header string }{
	{"name", "企业名称"}, {"credit_code", "统一社会信用代码"}, {"address", "地址"}, {"grid_code", "网格编码"},
	{"building", "楼宇"}, {"industry", "行业"}, {"size", "规模"}, {"contact_name", "联系人"},
	{"contact_phone", "联系电话"}, {"liaison", "联络员账号"}, {"leader", "街道领导账号"}, {"key", "重点企业"},
}

// ReadCSV reads enterprises from CSV (UTF-8, with or without a byte-order
// mark; header row first). It returns every row it could read, with or
// without problems (so that the checks the file alone cannot make, such as
// whether the grid exists, are made on every row too), and every problem of
// every row. Nothing may be saved while there is a problem.
func ReadCSV(r io.Reader) ([]ImportRow, []Problem) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	return readRecords(cr)
}

// ReadFile reads enterprises from an import file: an Excel workbook (.xlsx,
// its first worksheet) or CSV, told apart by their first bytes.
func ReadFile(data []byte) ([]ImportRow, []Problem) {
	if !xlsx.IsXLSX(data) {
		return ReadCSV(bytes.NewReader(data))
	}
	rows, err := xlsx.Read(data)
	if err != nil {
		return nil, []Problem{{Reason: err.Error()}}
	}
	return readRecords(&sliceRecords{rows: rows})
}

// records is where readRecords reads rows from: a CSV reader, or the rows
// of a worksheet.
type records interface{ Read() ([]string, error) }

type sliceRecords struct{ rows [][]string }

func (s *sliceRecords) Read() ([]string, error) {
	if len(s.rows) == 0 {
		return nil, io.EOF
	}
	r := s.rows[0]
	s.rows = s.rows[1:]
	return r, nil
}

func readRecords(cr records) ([]ImportRow, []Problem) {
	head, err := cr.Read()
	if err != nil {
		return nil, []Problem{{Reason: "无法读取表头：" + csvReason(err)}}
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		for _, c := range Columns {
			if h == c.Key || h == c.Header {
				col[c.Key] = i
			}
		}
	}
	var probs []Problem
	for _, need := range []string{"name", "credit_code", "address", "grid_code", "contact_name", "contact_phone", "liaison", "leader"} {
		if _, ok := col[need]; !ok {
			probs = append(probs, Problem{Field: need, Reason: "缺少列“" + header(need) + "”"})
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	var out []ImportRow
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			probs = append(probs, Problem{Line: line, Reason: csvReason(err)})
			break
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := Enterprise{Name: get("name"), CreditCode: NormalizeCreditCode(get("credit_code")), Address: get("address"),
			GridCode: get("grid_code"), Building: get("building"), Industry: get("industry"), Active: true,
			Contacts:  []Contact{{Name: get("contact_name"), Phone: get("contact_phone")}},
			LiaisonID: get("liaison"), LeaderID: get("leader")}
		var rowProbs []Problem
		if s := get("size"); s != "" {
			z, ok := ParseSize(s)
			if !ok {
				rowProbs = append(rowProbs, Problem{Line: line, Field: header("size"), Reason: "规模应为微型、小型、中型或大型"})
			}
			e.Size = z
		}
		switch get("key") {
		case "", "否", "no", "0":
		case "是", "yes", "1":
			e.Key = true
		default:
			rowProbs = append(rowProbs, Problem{Line: line, Field: header("key"), Reason: "重点企业应填“是”或“否”"})
		}
		if err := e.Validate(); err != nil {
			var ae *apperr.Error
			if errors.As(err, &ae) {
				for _, fe := range ae.Fields {
					rowProbs = append(rowProbs, Problem{Line: line, Field: fieldHeader(fe.Field), Reason: fe.Reason})
				}
			}
		}
		if first, ok := seen[e.CreditCode]; ok && e.CreditCode != "" {
			rowProbs = append(rowProbs, Problem{Line: line, Field: header("credit_code"), Reason: fmt.Sprintf("与第%d行重复", first)})
		} else {
			seen[e.CreditCode] = line
		}
		probs = append(probs, rowProbs...)
		out = append(out, ImportRow{Line: line, Enterprise: e, Liaison: e.LiaisonID, Leader: e.LeaderID})
	}
	if len(out) == 0 {
		probs = append(probs, Problem{Reason: "文件中没有企业"})
	}
	return out, probs
}

func header(key string) string {
	for _, c := range Columns {
		if c.Key == key {
			return c.Header
		}
	}
	return key
}

// fieldHeader names a validation field by its column.
func fieldHeader(field string) string {
	switch {
	case strings.HasSuffix(field, ".name") && strings.HasPrefix(field, "contacts"):
		return header("contact_name")
	case strings.HasSuffix(field, ".phone"):
		return header("contact_phone")
	case field == "liaison_id":
		return header("liaison")
	case field == "leader_id":
		return header("leader")
	}
	return header(field)
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "CSV格式错误：" + pe.Err.Error()
	}
	if errors.Is(err, io.EOF) {
		return "文件为空"
	}
	return err.Error()
}
