package gridwork

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
)

// RosterRow is one row of a roster file: a place, and the person recorded
// at it when the row names one.
type RosterRow struct {
	Line   int     // line in the file (the header is line 1)
	Place  Place   // Building holds the building's name, not its ID
	Person *Person // nil when the row names nobody
}

// RowProblem is what is wrong with one row of a roster file.
type RowProblem struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// RosterError is the problems of a file, all of them, as one error.
type RosterError struct{ Problems []RowProblem }

func (e *RosterError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "第%d行 %s: %s", p.Line, p.Field, p.Reason)
	}
	return b.String()
}

// rosterHeaders maps the accepted headings (Chinese as people type them
// in Excel, or the field codes) to columns.
var rosterHeaders = map[string]string{
	"类型": "kind", "kind": "kind", "名称": "name", "门牌": "name", "name": "name",
	"所在楼栋": "building", "楼栋": "building", "building": "building",
	"地址": "address", "address": "address", "经度": "lng", "lng": "lng", "纬度": "lat", "lat": "lat",
	"备注": "note", "note": "note", "姓名": "person", "person": "person", "电话": "phone", "phone": "phone",
	"关系": "relation", "relation": "relation", "标签": "tags", "tags": "tags",
}

// MaxRosterRows bounds one file.
const MaxRosterRows = 5000

// ParseRoster reads a roster from CSV (UTF-8, as Excel saves it, with or
// without a BOM): a header row, then one row per place, with the person
// recorded at it when 姓名 is filled (several people of one household take
// several rows with the same 类型 and 名称). All or nothing: any problem
// returns a *RosterError listing every problem by line and field, and no
// rows. Tags are separated by 、 or ;.
func ParseRoster(r io.Reader, grid string, now time.Time) ([]RosterRow, error) {
	data, err := io.ReadAll(io.LimitReader(r, 8<<20))
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var probs []RowProblem
	add := func(line int, field, reason string) { probs = append(probs, RowProblem{line, field, reason}) }
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RosterError{[]RowProblem{{1, "header", "文件是空的"}}}
	} else if err != nil {
		return nil, &RosterError{[]RowProblem{{1, "header", "不是有效的CSV文件"}}}
	}
	col := map[string]int{}
	for i, h := range head {
		k, ok := rosterHeaders[strings.TrimSpace(h)]
		if !ok {
			add(1, "header", fmt.Sprintf("不认识的列“%s”", h))
			continue
		}
		col[k] = i
	}
	for _, need := range []string{"kind", "name"} {
		if _, ok := col[need]; !ok {
			add(1, "header", "缺少“类型”或“名称”列")
			break
		}
	}
	if len(probs) > 0 {
		return nil, &RosterError{probs}
	}
	var out []RosterRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			add(line, "row", "这一行不是有效的CSV")
			break
		}
		cell := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		if len(out) >= MaxRosterRows {
			add(line, "row", fmt.Sprintf("一次最多导入%d行", MaxRosterRows))
			break
		}
		row := RosterRow{Line: line, Place: Place{GridCode: grid, Name: cell("name"), Building: cell("building"), Address: cell("address"), Note: cell("note")}}
		kind, ok := ParsePlaceKind(cell("kind"))
		if !ok {
			add(line, "类型", "应为楼栋、住户、商铺或重点场所")
		}
		row.Place.Kind = kind
		if lng, lat := cell("lng"), cell("lat"); lng != "" || lat != "" {
			x, e1 := strconv.ParseFloat(lng, 64)
			y, e2 := strconv.ParseFloat(lat, 64)
			p := geo.Point{Lng: x, Lat: y}
			if e1 != nil || e2 != nil || !p.Valid() {
				add(line, "经度/纬度", "坐标无效")
			} else {
				row.Place.Point = &p
			}
		}
		if ok {
			probe := row.Place
			probe.Point = nil
			if probe.Kind == Building {
				probe.Building = ""
			}
			addFields(&probs, line, CheckPlace(probe), map[string]string{"name": "名称", "address": "地址", "note": "备注"})
			if row.Place.Kind == Building && row.Place.Building != "" {
				add(line, "所在楼栋", "楼栋不能再属于其他楼栋")
			}
		}
		if name := cell("person"); name != "" {
			p := &Person{Name: name, Phone: cell("phone"), Relation: cell("relation"), PlaceID: "row", RecordedAt: now}
			for _, t := range strings.FieldsFunc(cell("tags"), func(r rune) bool { return r == '、' || r == ';' || r == '；' }) {
				if t = strings.TrimSpace(t); t != "" {
					p.Tags = append(p.Tags, t)
				}
			}
			addFields(&probs, line, CheckPerson(*p, now), map[string]string{"name": "姓名", "phone": "电话", "relation": "关系", "tags": "标签"})
			p.PlaceID = ""
			row.Person = p
		} else if cell("phone") != "" {
			add(line, "姓名", "填写了电话但没有姓名")
		}
		out = append(out, row)
	}
	if len(probs) > 0 {
		return nil, &RosterError{probs}
	}
	return out, nil
}

// addFields turns a validation error's fields into a line's problems,
// naming them by the file's headings.
func addFields(probs *[]RowProblem, line int, err error, names map[string]string) {
	if err == nil {
		return
	}
	var e *apperr.Error
	if !errors.As(err, &e) {
		*probs = append(*probs, RowProblem{line, "row", err.Error()})
		return
	}
	for _, fe := range e.Fields {
		name := names[fe.Field]
		if name == "" {
			name = fe.Field
		}
		*probs = append(*probs, RowProblem{line, name, fe.Reason})
	}
}
