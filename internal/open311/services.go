package open311

import (
	"net/http"
	"sort"
	"strings"

	"zhizhi/internal/cases"
)

// serviceOf shows a category as a GeoReport service. Every service is
// realtime: a report gets its case number at once.
func serviceOf(c cases.Category) serviceItem {
	desc := c.Description
	if desc == "" {
		desc = c.Name
	}
	return serviceItem{
		Code: c.Code, Name: c.Name, Description: text(desc), Metadata: len(c.Questions) > 0, Type: "realtime",
		Keywords: text(strings.Join(c.Keywords, ", ")), Group: text(c.Board.Label()),
	}
}

func (h *Handler) services(c *call) error {
	var out []serviceItem
	for _, cat := range h.svc.Categories() {
		if offered(cat) {
			out = append(out, serviceOf(cat))
		}
	}
	h.write(c, http.StatusOK, servicesDoc{Services: out})
	return nil
}

// datatypes maps the question types one to one onto GeoReport's datatypes,
// with a hint for each.
var datatypes = map[cases.QuestionType]struct{ name, hint string }{
	cases.QString:   {"string", "单行文字，不超过200字"},
	cases.QNumber:   {"number", "数字，如 3 或 2.5"},
	cases.QDateTime: {"datetime", "带时区的日期时间（W3C 格式），如 2026-01-02T15:04:05+08:00"},
	cases.QText:     {"text", "文字，可分行，不超过2000字"},
	cases.QSingle:   {"singlevaluelist", "从 values 中选一项，以 attribute[编码]=key 提交"},
	cases.QMulti:    {"multivaluelist", "从 values 中选一项或多项，以 attribute[编码][]=key 逐项提交"},
}

// attributesOf shows a category's questions as attributes, in the order the
// category gives them (ties by position), numbered 1, 2, 3… as the spec
// wants positive orders unique within the service.
func attributesOf(c cases.Category) []attribute {
	qs := append([]cases.Question(nil), c.Questions...)
	sort.SliceStable(qs, func(i, j int) bool { return qs[i].Order < qs[j].Order })
	out := make([]attribute, 0, len(qs))
	for i, q := range qs {
		dt := datatypes[q.Type]
		a := attribute{
			Variable: true, Code: q.Code, Datatype: dt.name, Required: q.Required,
			DatatypeDescription: text(dt.hint), Order: i + 1, Description: q.Prompt,
		}
		if q.Type == cases.QSingle || q.Type == cases.QMulti {
			a.Values = &values{}
			for _, ch := range q.Choices {
				a.Values.Items = append(a.Values.Items, value{Key: ch.Key, Name: ch.Name})
			}
		}
		out = append(out, a)
	}
	return out
}

func (h *Handler) definition(c *call) error {
	cat, ok := h.svc.Category(c.args[0])
	if !ok || !offered(cat) {
		return fail(http.StatusNotFound, "service_code “"+c.args[0]+"”不存在")
	}
	h.write(c, http.StatusOK, definitionDoc{Code: cat.Code, Attributes: attributes{Items: attributesOf(cat)}})
	return nil
}
