package cases

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/sla"
	"zhizhi/internal/textcheck"
)

// Board is one of the four lines of work.
type Board string

// The four boards.
const (
	BoardParty    Board = "party"    // 党的建设
	BoardEconomy  Board = "economy"  // 经济发展
	BoardServices Board = "services" // 民生服务
	BoardSafety   Board = "safety"   // 平安法治
)

// Boards lists the four boards.
var Boards = []Board{BoardParty, BoardEconomy, BoardServices, BoardSafety}

// Label is the board's Chinese name.
func (b Board) Label() string {
	switch b {
	case BoardParty:
		return "党的建设"
	case BoardEconomy:
		return "经济发展"
	case BoardServices:
		return "民生服务"
	case BoardSafety:
		return "平安法治"
	}
	return string(b)
}

// Valid reports whether b is one of the four boards.
func (b Board) Valid() bool { return slices.Contains(Boards, b) }

// QuestionType is the type of a category's extra field.
type QuestionType string

// The question types (they map one to one onto Open311 attribute datatypes).
const (
	QText     QuestionType = "text"
	QNumber   QuestionType = "number"
	QDateTime QuestionType = "datetime"
	QSingle   QuestionType = "single"
	QMulti    QuestionType = "multi"
	QString   QuestionType = "string" // one line of text
)

// Choice is one allowed value of a single or multiple choice question.
type Choice struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Question is an extra field a category asks when a case is reported.
type Question struct {
	Code     string       `json:"code"`
	Prompt   string       `json:"prompt"`
	Type     QuestionType `json:"type"`
	Required bool         `json:"required"`
	Choices  []Choice     `json:"choices,omitempty"`
	Order    int          `json:"order"`
}

// Category is one entry of the graded classification library.
type Category struct {
	Code        string     `json:"code"`
	Name        string     `json:"name"`
	Board       Board      `json:"board"`
	Level       string     `json:"level"`             // owning level: grid, community, street, district, city
	Version     int        `json:"version,omitempty"` // bumped by each change to the entry; a dispatch records it
	DefaultUnit string     `json:"default_unit,omitempty"`
	Keywords    []string   `json:"keywords,omitempty"`
	Description string     `json:"description,omitempty"`
	Limits      sla.Table  `json:"limits,omitzero"`
	Questions   []Question `json:"questions,omitempty"`
	Public      bool       `json:"public"` // offered to residents and Open311
	Active      bool       `json:"active"`
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

// Validate checks a category definition.
func (c Category) Validate() error {
	var f apperr.Fields
	if !codeRE.MatchString(c.Code) {
		f.Add("code", "编码只能包含字母、数字、下划线、点和横线，最长32位")
	}
	if n := len([]rune(strings.TrimSpace(c.Name))); n == 0 || n > 50 {
		f.Add("name", "名称不能为空且不超过50字")
	}
	textcheck.AddLine(&f, "name", c.Name)
	if !c.Board.Valid() {
		f.Add("board", "板块无效")
	}
	switch c.Level {
	case "grid", "community", "street", "district", "city":
	default:
		f.Add("level", "责任层级必须是网格、社区、街道、区或市")
	}
	seen := map[string]bool{}
	for i, q := range c.Questions {
		p := fmt.Sprintf("questions[%d]", i)
		if !codeRE.MatchString(q.Code) || seen[q.Code] {
			f.Add(p+".code", "编码无效或重复")
		}
		seen[q.Code] = true
		if strings.TrimSpace(q.Prompt) == "" {
			f.Add(p+".prompt", "请填写问题")
		}
		textcheck.AddLine(&f, p+".prompt", q.Prompt)
		switch q.Type {
		case QText, QString, QNumber, QDateTime:
			if len(q.Choices) > 0 {
				f.Add(p+".choices", "只有选择题可以有选项")
			}
		case QSingle, QMulti:
			if len(q.Choices) == 0 {
				f.Add(p+".choices", "选择题至少需要一个选项")
			}
			keys := map[string]bool{}
			for j, ch := range q.Choices {
				if ch.Key == "" || keys[ch.Key] || ch.Name == "" {
					f.Add(fmt.Sprintf("%s.choices[%d]", p, j), "选项的键和名称不能为空或重复")
				}
				keys[ch.Key] = true
				textcheck.AddLine(&f, fmt.Sprintf("%s.choices[%d].name", p, j), ch.Name)
			}
		default:
			f.Add(p+".type", "题型无效")
		}
	}
	return f.Err()
}

// Answer validates and normalises the answers to a category's questions.
// Values arrive as strings (forms, Open311) or JSON values; the result holds
// string, float64, time.Time (as RFC 3339 string) or []string.
func (c Category) Answer(in map[string]any) (map[string]any, error) {
	var f apperr.Fields
	out := map[string]any{}
	known := map[string]bool{}
	for _, q := range c.Questions {
		known[q.Code] = true
		field := "answers." + q.Code
		v, ok := in[q.Code]
		if ok && isBlank(v) {
			ok = false
		}
		if !ok {
			if q.Required {
				f.Add(field, "请回答“"+q.Prompt+"”")
			}
			continue
		}
		val, reason := answerOne(q, v)
		if reason != "" {
			f.Add(field, reason)
			continue
		}
		out[q.Code] = val
	}
	for k := range in {
		if !known[k] {
			f.Add("answers."+k, "该类别没有这个问题")
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func isBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func answerOne(q Question, v any) (any, string) {
	switch q.Type {
	case QText, QString:
		s, ok := v.(string)
		if !ok {
			return nil, "应为文字"
		}
		limit := 2000
		if q.Type == QString {
			limit = 200
		}
		if len([]rune(s)) > limit {
			return nil, fmt.Sprintf("不能超过%d字", limit)
		}
		if BadText(s) {
			return nil, "含有控制字符或无效的编码"
		}
		return strings.TrimSpace(s), ""
	case QNumber:
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, "应为数字"
			}
			return x, ""
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				return nil, "应为数字"
			}
			return n, ""
		}
		return nil, "应为数字"
	case QDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, "应为日期时间"
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			return nil, "应为带时区的日期时间，如 2026-01-02T15:04:05+08:00"
		}
		return t.UTC().Format(time.RFC3339), ""
	case QSingle:
		s, ok := v.(string)
		if !ok {
			return nil, "应为单个选项"
		}
		if !hasChoice(q, s) {
			return nil, "“" + s + "”不是可选项"
		}
		return s, ""
	case QMulti:
		var list []string
		switch x := v.(type) {
		case string:
			list = []string{x}
		case []string:
			list = x
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, "选项应为文字"
				}
				list = append(list, s)
			}
		default:
			return nil, "应为选项列表"
		}
		seen := map[string]bool{}
		var out []string
		for _, s := range list {
			if !hasChoice(q, s) {
				return nil, "“" + s + "”不是可选项"
			}
			if !seen[s] {
				out = append(out, s)
			}
			seen[s] = true
		}
		return out, ""
	}
	return nil, "题型无效"
}

func hasChoice(q Question, key string) bool {
	for _, c := range q.Choices {
		if c.Key == key {
			return true
		}
	}
	return false
}

// Unit kinds. A street's four boards are units too (their staff are the
// board heads); posts and the street's own sections belong to a board
// through Parent; a community is a unit whose staff are the community's
// secretary and workers.
const (
	UnitDepartment = "department" // 区级(市级)部门: RegionPath is a district or city
	UnitBoard      = "board"      // 街道板块: RegionPath is a street, Board set
	UnitPost       = "post"       // 板块岗位: RegionPath is a street, Board and Parent set
	UnitSection    = "section"    // 街道科室: RegionPath is a street, Board and Parent set
	UnitCommunity  = "community"  // 社区: RegionPath is a community
)

// UnitKinds lists the unit kinds in the order the console shows them.
var UnitKinds = []string{UnitDepartment, UnitBoard, UnitPost, UnitSection, UnitCommunity}

// UnitKindLabel is a unit kind's Chinese name.
func UnitKindLabel(kind string) string {
	switch kind {
	case UnitDepartment:
		return "职能部门"
	case UnitBoard:
		return "街道板块"
	case UnitPost:
		return "板块岗位"
	case UnitSection:
		return "街道科室"
	case UnitCommunity:
		return "社区"
	}
	return kind
}

// Unit is who handles a dispatched case: a department, a street's board post
// or section, or a community.
type Unit struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`             // one of UnitKinds
	Board      Board  `json:"board,omitempty"`  // boards, posts and sections: which of the four
	Parent     string `json:"parent,omitempty"` // posts and sections: the board unit they belong to
	RegionPath string `json:"region_path"`
	Active     bool   `json:"active"`
}

// Dispatchable reports whether cases may be dispatched to the unit: a board
// is the heads' view of its posts and sections, not a desk of its own.
func (u Unit) Dispatchable() bool { return u.Active && u.Kind != UnitBoard }
