package enterprise

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/textcheck"
)

// Color is one of the four service families of 四色四务.
type Color string

// The four colours.
const (
	Red    Color = "red"    // 红色党务 party affairs
	Green  Color = "green"  // 绿色政务 government affairs
	Blue   Color = "blue"   // 蓝色警务 police affairs
	Orange Color = "orange" // 橙色法务 legal affairs
)

// Colors lists the four colours in the order the catalog shows them.
var Colors = []Color{Red, Green, Blue, Orange}

// Label is the colour's Chinese name, e.g. 红色党务.
func (c Color) Label() string {
	switch c {
	case Red:
		return "红色党务"
	case Green:
		return "绿色政务"
	case Blue:
		return "蓝色警务"
	case Orange:
		return "橙色法务"
	}
	return string(c)
}

// Valid reports whether c is one of the four colours.
func (c Color) Valid() bool { return slices.Contains(Colors, c) }

// Service is one entry of the catalog: what the street offers, in which
// colour, served by which unit within which limit. Category is the
// classification library's entry the request's case is filed under (its
// board, routing and limits); Questions are the service's own, of the same
// kinds as a category's, answered on the one form.
type Service struct {
	Code        string           `json:"code"`
	Name        string           `json:"name"`
	Color       Color            `json:"color"`
	Description string           `json:"description,omitempty"`
	Category    string           `json:"category"`
	UnitID      string           `json:"unit_id"`
	Limit       sla.Limit        `json:"limit"`
	Questions   []cases.Question `json:"questions,omitempty"`
	Active      bool             `json:"active"`
	Order       int              `json:"order"`
}

var serviceCodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Validate checks a service definition (whether its category and unit exist
// is the service layer's to check).
func (s Service) Validate() error {
	var f apperr.Fields
	if !serviceCodeRE.MatchString(s.Code) {
		f.Add("code", "编码只能包含字母、数字、下划线和横线，最长32位")
	}
	if n := len([]rune(strings.TrimSpace(s.Name))); n == 0 || n > 50 {
		f.Add("name", "服务名称不能为空且不超过50字")
	}
	textcheck.AddLine(&f, "name", s.Name)
	textcheck.AddBlock(&f, "description", s.Description)
	if len([]rune(s.Description)) > 500 {
		f.Add("description", "说明不能超过500字")
	}
	if !s.Color.Valid() {
		f.Add("color", "请选择红色党务、绿色政务、蓝色警务或橙色法务")
	}
	if s.Category == "" {
		f.Add("category", "请选择案件类别")
	}
	if s.UnitID == "" {
		f.Add("unit_id", "请选择承办单位")
	}
	if err := s.Limit.Validate(); err != nil {
		f.Add("limit", "办理时限无效")
	}
	// The questions are checked by the category's own rules.
	probe := cases.Category{Code: "probe", Name: "probe", Board: cases.BoardEconomy, Level: "street", Questions: s.Questions}
	if err := probe.Validate(); err != nil {
		if e, ok := err.(*apperr.Error); ok {
			for _, fe := range e.Fields {
				f.Add(fe.Field, fe.Reason)
			}
		}
	}
	return f.Err()
}

// Answer validates the answers to the service's own questions, by the
// category's rules (required questions, types, choices, unknown codes).
func (s Service) Answer(in map[string]any) (map[string]any, error) {
	return cases.Category{Questions: s.Questions}.Answer(in)
}

// Describe is the case description of a request for the service: the
// service's name, the enterprise's words and its answers in order, so the
// unit reads the whole request on the case.
func (s Service) Describe(ent string, words string, answers map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "【%s·%s】%s：%s", s.Color.Label(), s.Name, ent, strings.TrimSpace(words))
	qs := slices.Clone(s.Questions)
	slices.SortStableFunc(qs, func(a, b cases.Question) int { return a.Order - b.Order })
	for _, q := range qs {
		v, ok := answers[q.Code]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\n%s：%s", q.Prompt, answerText(q, v))
	}
	return b.String()
}

func answerText(q cases.Question, v any) string {
	name := func(k string) string {
		for _, c := range q.Choices {
			if c.Key == k {
				return c.Name
			}
		}
		return k
	}
	switch x := v.(type) {
	case string:
		if q.Type == cases.QSingle {
			return name(x)
		}
		return x
	case []string:
		out := make([]string, len(x))
		for i, k := range x {
			out[i] = name(k)
		}
		return strings.Join(out, "、")
	}
	return fmt.Sprint(v)
}
