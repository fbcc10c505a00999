package cases_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"zhizhi/internal/cases"
)

func validCategory() cases.Category {
	c := questionCategory()
	c.DefaultUnit = "u-city"
	c.Keywords = []string{"坑", "路面"}
	return c
}

func TestCategoryValidate(t *testing.T) {
	if err := validCategory().Validate(); err != nil {
		t.Fatalf("valid category: %v", err)
	}
	for _, level := range []string{"grid", "community", "street", "district"} {
		c := validCategory()
		c.Level = level
		if err := c.Validate(); err != nil {
			t.Errorf("level %s: %v", level, err)
		}
	}
	for _, b := range cases.Boards {
		c := validCategory()
		c.Board = b
		if err := c.Validate(); err != nil || b.Label() == string(b) {
			t.Errorf("board %s: %v", b, err)
		}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*cases.Category)
		fields []string
	}{
		{"empty code", func(c *cases.Category) { c.Code = "" }, []string{"code"}},
		{"code with space", func(c *cases.Category) { c.Code = "road pothole" }, []string{"code"}},
		{"code in Chinese", func(c *cases.Category) { c.Code = "道路" }, []string{"code"}},
		{"code too long", func(c *cases.Category) { c.Code = strings.Repeat("a", 33) }, []string{"code"}},
		{"blank name", func(c *cases.Category) { c.Name = "   " }, []string{"name"}},
		{"name too long", func(c *cases.Category) { c.Name = strings.Repeat("名", 51) }, []string{"name"}},
		{"no board", func(c *cases.Category) { c.Board = "" }, []string{"board"}},
		{"unknown board", func(c *cases.Category) { c.Board = "sports" }, []string{"board"}},
		{"no level", func(c *cases.Category) { c.Level = "" }, []string{"level"}},
		{"province level", func(c *cases.Category) { c.Level = "province" }, []string{"level"}},
		{"bad question code", func(c *cases.Category) { c.Questions[0].Code = "a b" }, []string{"questions[0].code"}},
		{"repeated question code", func(c *cases.Category) { c.Questions[2].Code = "depth" }, []string{"questions[2].code"}},
		{"blank prompt", func(c *cases.Category) { c.Questions[1].Prompt = " " }, []string{"questions[1].prompt"}},
		{"unknown type", func(c *cases.Category) { c.Questions[0].Type = "photo" }, []string{"questions[0].type"}},
		{"choices on a number", func(c *cases.Category) { c.Questions[0].Choices = []cases.Choice{{Key: "a", Name: "A"}} }, []string{"questions[0].choices"}},
		{"choices on text", func(c *cases.Category) { c.Questions[4].Choices = []cases.Choice{{Key: "a", Name: "A"}} }, []string{"questions[4].choices"}},
		{"single without choices", func(c *cases.Category) { c.Questions[1].Choices = nil }, []string{"questions[1].choices"}},
		{"multi without choices", func(c *cases.Category) { c.Questions[3].Choices = nil }, []string{"questions[3].choices"}},
		{"choice without key", func(c *cases.Category) { c.Questions[1].Choices[1].Key = "" }, []string{"questions[1].choices[1]"}},
		{"choice without name", func(c *cases.Category) { c.Questions[1].Choices[0].Name = "" }, []string{"questions[1].choices[0]"}},
		{"line break in name", func(c *cases.Category) { c.Name = "道路\n破损" }, []string{"name"}},
		{"NUL in a prompt", func(c *cases.Category) { c.Questions[1].Prompt = "深度\x00" }, []string{"questions[1].prompt"}},
		{"tab in a choice's name", func(c *cases.Category) { c.Questions[1].Choices[0].Name = "a\tb" }, []string{"questions[1].choices[0].name"}},
		{"repeated choice", func(c *cases.Category) { c.Questions[3].Choices[1].Key = "water" }, []string{"questions[3].choices[1]"}},
		{"everything", func(c *cases.Category) {
			*c = cases.Category{Questions: []cases.Question{{Type: "x"}}}
		}, []string{"code", "name", "board", "level", "questions[0].code", "questions[0].prompt", "questions[0].type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validCategory()
			tc.edit(&c)
			err := c.Validate()
			wantField(t, err, tc.fields...)
			if got := fieldsOf(err); len(got) != len(tc.fields) {
				t.Errorf("fields %v, want %v", got, tc.fields)
			}
		})
	}
}

// TestAnswer normalises one answer of each question type.
func TestAnswer(t *testing.T) {
	cat := questionCategory()
	for _, tc := range []struct {
		name   string
		code   string
		in     any
		want   any    // the normalised value when ok
		reason string // "" when the answer is accepted
	}{
		// text: trimmed, at most 2000 characters
		{"text", "detail", "  有积水 ", "有积水", ""},
		{"text 2000", "detail", strings.Repeat("字", 2000), strings.Repeat("字", 2000), ""},
		{"text too long", "detail", strings.Repeat("字", 2001), nil, "x"},
		{"text not a string", "detail", 12.0, nil, "x"},
		// string: one line, at most 200 characters
		{"string", "plate", " 渝A12345 ", "渝A12345", ""},
		{"string too long", "plate", strings.Repeat("字", 201), nil, "x"},
		{"string not a string", "plate", []string{"a"}, nil, "x"},
		// number: a JSON number or a numeric string
		{"number", "depth", 12.5, 12.5, ""},
		{"number zero", "depth", 0.0, 0.0, ""},
		{"number negative string", "depth", " -3 ", -3.0, ""},
		{"number exponent", "depth", "1e2", 100.0, ""},
		{"number word", "depth", "twelve", nil, "x"},
		{"number NaN", "depth", math.NaN(), nil, "x"},
		{"number NaN string", "depth", "NaN", nil, "x"},
		{"number infinite", "depth", math.Inf(1), nil, "x"},
		{"number infinite string", "depth", "+Inf", nil, "x"},
		{"number bool", "depth", true, nil, "x"},
		{"number int", "depth", 12, nil, "x"}, // JSON decoding never yields int
		// datetime: RFC 3339 with a zone, stored in UTC
		{"datetime", "since", "2026-03-10T08:30:00+08:00", "2026-03-10T00:30:00Z", ""},
		{"datetime utc", "since", " 2026-03-10T00:30:00Z ", "2026-03-10T00:30:00Z", ""},
		{"datetime without zone", "since", "2026-03-10T08:30:00", nil, "x"},
		{"datetime date only", "since", "2026-03-10", nil, "x"},
		{"datetime not a string", "since", 1.0, nil, "x"},
		// single: one of the keys
		{"single", "kind", "crack", "crack", ""},
		{"single by name", "kind", "裂缝", nil, "x"},
		{"single list", "kind", []string{"pit"}, nil, "x"},
		// multi: a key, a list of keys, or a JSON list; repeats dropped
		{"multi one", "hazards", "night", []string{"night"}, ""},
		{"multi list", "hazards", []string{"night", "water", "night"}, []string{"night", "water"}, ""},
		{"multi json", "hazards", []any{"water", "water"}, []string{"water"}, ""},
		{"multi bad key", "hazards", []string{"water", "fire"}, nil, "x"},
		{"multi json number", "hazards", []any{"water", 1.0}, nil, "x"},
		{"multi number", "hazards", 1.0, nil, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{tc.code: tc.in}
			if tc.code != "depth" {
				in["depth"] = 1.0 // the required answer
			}
			out, err := cat.Answer(in)
			if tc.reason != "" {
				wantField(t, err, "answers."+tc.code)
				if len(fieldsOf(err)) != 1 || out != nil {
					t.Errorf("fields %v out %v", fieldsOf(err), out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out[tc.code], tc.want) {
				t.Errorf("got %#v, want %#v", out[tc.code], tc.want)
			}
		})
	}

	t.Run("blank answers are absent", func(t *testing.T) {
		out, err := cat.Answer(map[string]any{"depth": 2.0, "kind": " ", "hazards": []any{}, "plate": nil, "detail": "", "since": []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out, map[string]any{"depth": 2.0}) {
			t.Errorf("out %#v", out)
		}
	})

	t.Run("no answers", func(t *testing.T) {
		out, err := testCategory().Answer(nil)
		if err != nil || out != nil {
			t.Errorf("%v %v", out, err)
		}
		c := questionCategory()
		c.Questions[0].Required = false
		out, err = c.Answer(map[string]any{})
		if err != nil || out != nil {
			t.Errorf("%v %v", out, err)
		}
		_, err = questionCategory().Answer(nil)
		wantField(t, err, "answers.depth")
	})

	t.Run("unknown questions", func(t *testing.T) {
		_, err := cat.Answer(map[string]any{"depth": 1.0, "colour": "red", "size": 2.0})
		wantField(t, err, "answers.colour", "answers.size")
	})
}
