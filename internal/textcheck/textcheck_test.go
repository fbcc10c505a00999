package textcheck

import (
	"net/url"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
)

func TestLineAndBlock(t *testing.T) {
	for _, tc := range []struct {
		name, s     string
		line, block string
	}{
		{"empty", "", "", ""},
		{"Chinese", "石油路街道 井盖缺失", "", ""},
		{"emoji and symbols", "路面<坑洼>&\"' 🚧", "", ""},
		{"NUL", "井盖\x00缺失", Control, Control},
		{"NUL alone", "\x00", Control, Control},
		{"bell", "a\x07b", Control, Control},
		{"escape", "\x1b[31m", Control, Control},
		{"DEL", "a\x7fb", Control, Control},
		{"C1 control", "a\u0085b", Control, Control},
		{"line feed", "第一行\n第二行", LineBreak, ""},
		{"CR LF", "第一行\r\n第二行", LineBreak, ""},
		{"tab", "a\tb", LineBreak, ""},
		{"invalid UTF-8", "\xff\xfe", NotUTF8, NotUTF8},
		{"truncated rune", "井"[:2], NotUTF8, NotUTF8},
		{"surrogate half", "\xed\xa0\x80", NotUTF8, NotUTF8},
		{"replacement char is text", "\ufffd", "", ""},
		{"zero-width joiner is text", "a\u200db", "", ""},
	} {
		if got := Line(tc.s); got != tc.line {
			t.Errorf("%s: Line(%q) = %q, want %q", tc.name, tc.s, got, tc.line)
		}
		if got := Block(tc.s); got != tc.block {
			t.Errorf("%s: Block(%q) = %q, want %q", tc.name, tc.s, got, tc.block)
		}
	}
}

func fieldsOf(err error) map[string]string {
	out := map[string]string{}
	if e, ok := err.(*apperr.Error); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Reason
		}
	}
	return out
}

func TestFields(t *testing.T) {
	type photo struct {
		Hash string `json:"hash"`
	}
	type inner struct {
		Note string `json:"note,omitempty"`
	}
	type body struct {
		inner
		Name    string         `json:"name"`
		Photos  []photo        `json:"photos"`
		Answers map[string]any `json:"answers"`
		Ptr     *string        `json:"ptr"`
		Secret  string         `json:"-"`
		Raw     []byte         `json:"raw"`
	}
	bad := "x\x00"
	ok := body{inner: inner{Note: "a\nb"}, Name: "名字", Photos: []photo{{"ab"}}, Answers: map[string]any{"q": []any{"是"}}, Secret: bad, Raw: []byte{0}}
	if err := Fields(ok); err != nil {
		t.Fatalf("clean body refused: %v", err)
	}
	b := body{inner: inner{Note: bad}, Name: "\xff", Photos: []photo{{"ab"}, {bad}}, Answers: map[string]any{"q": []any{"是", bad}, "k\x00": "v"}, Ptr: &bad}
	got := fieldsOf(Fields(&b))
	want := map[string]string{"note": Control, "name": NotUTF8, "photos[1].hash": Control, "answers.q[1]": Control, "answers.(键)": Control, "ptr": Control}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	if got := fieldsOf(Fields("a\x00")); got["body"] != Control {
		t.Errorf("a bare string: %v", got)
	}
}

func TestValues(t *testing.T) {
	if err := Values(url.Values{"q": {"井盖"}, "note": {"a\r\nb"}}); err != nil {
		t.Fatalf("clean form refused: %v", err)
	}
	got := fieldsOf(Values(url.Values{"q": {"\x00"}, "name": {"ok", "\xff"}, "k\x01": {"v"}}))
	if got["q"] != Control || got["name"] != NotUTF8 || !strings.Contains(got["参数"], "控制字符") || len(got) != 3 {
		t.Fatalf("fields %v", got)
	}
}
