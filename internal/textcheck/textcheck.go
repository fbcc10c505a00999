// Package textcheck is the one check of text that enters zhizhi, whatever
// the door (JSON API, console, Open311, the service's own callers): text
// must be valid UTF-8 and hold no control character, because the engines
// disagree on it (PostgreSQL refuses a NUL byte that SQLite stores, and a
// copy from one to the other then fails) and the pages and spreadsheets that
// show it should not carry what nobody can see. Multi-line text (a
// description, a note) may hold tabs and line breaks; a single line (a name,
// an address, a code) may not.
//
// The package is pure: the domain packages call Line and Block on the fields
// they validate, and the HTTP layers call Fields (a decoded JSON body) and
// Values (a form or query string) on everything else that comes in.
package textcheck

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"zhizhi/internal/apperr"
)

// The reasons given for refused text, in Chinese for the user.
const (
	NotUTF8   = "不是有效的 UTF-8 文本"
	Control   = "含有控制字符（如 NUL）"
	LineBreak = "不能包含换行或制表符"
)

// Block returns why s cannot be multi-line text, or "" when it can: tabs,
// line feeds and carriage returns (browsers send a text area's line breaks
// as CR LF) are allowed, no other control character is.
func Block(s string) string { return check(s, true) }

// Line returns why s cannot be single-line text, or "" when it can: no
// control character at all, line breaks and tabs included.
func Line(s string) string { return check(s, false) }

func check(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return NotUTF8
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			if !multiline {
				return LineBreak
			}
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return Control
		}
	}
	return ""
}

// AddLine adds a field error to f when s is not single-line text.
func AddLine(f *apperr.Fields, field, s string) {
	if p := Line(s); p != "" {
		f.Add(field, p)
	}
}

// AddBlock adds a field error to f when s is not multi-line text.
func AddBlock(f *apperr.Fields, field, s string) {
	if p := Block(s); p != "" {
		f.Add(field, p)
	}
}

// Values checks every key and value of a form or query string as multi-line
// text (the domain checks single-line fields itself) and returns an Invalid
// error naming each bad parameter, or nil. A bad key is named "参数".
func Values(v url.Values) error {
	var f apperr.Fields
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if p := Line(k); p != "" {
			f.Add("参数", p)
			continue
		}
		for _, s := range v[k] {
			if p := Block(s); p != "" {
				f.Add(k, p)
				break
			}
		}
	}
	return f.Err()
}

// Fields checks every string in a decoded value (structs by their JSON
// names, maps by their keys, slices by index) as multi-line text and returns
// an Invalid error naming each bad field by its path (photos[0].hash,
// answers.note), or nil.
func Fields(v any) error {
	var f apperr.Fields
	walk(&f, "", reflect.ValueOf(v), 0)
	return f.Err()
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func walk(f *apperr.Fields, path string, v reflect.Value, depth int) {
	if depth > 32 || !v.IsValid() {
		return
	}
	field := path
	if field == "" {
		field = "body"
	}
	switch v.Kind() {
	case reflect.String:
		if p := Block(v.String()); p != "" {
			f.Add(field, p)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(f, path, v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // []byte: binary by intent
		}
		for i := range v.Len() {
			walk(f, fmt.Sprintf("%s[%d]", path, i), v.Index(i), depth+1)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			name := fmt.Sprint(k)
			if k.Kind() == reflect.String {
				if p := Line(k.String()); p != "" {
					f.Add(join(path, "(键)"), p)
					continue
				}
			}
			walk(f, join(path, name), v.MapIndex(k), depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() && !sf.Anonymous {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				walk(f, path, v.Field(i), depth+1)
				continue
			}
			if name == "" {
				name = sf.Name
			}
			walk(f, join(path, name), v.Field(i), depth+1)
		}
	}
}
