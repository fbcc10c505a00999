package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/leaders"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// The OpenAPI document's schemas are generated from the Go types the
// handlers encode (issue 20), so they cannot drift from what is answered:
// a struct's fields come from its json tags (omitempty and omitzero fields
// are optional, the others required), named struct types become components,
// and the string types with a closed set of values carry their enum.
// TestResponsesMatchDocument checks the API suite's every answer against
// the document.

// enums are the string types whose values are a closed set.
var enums = map[reflect.Type][]string{}

func init() {
	add := func(t reflect.Type, vals []string) { enums[t] = vals }
	var st []string
	for _, s := range cases.States {
		st = append(st, string(s))
	}
	add(reflect.TypeFor[cases.State](), st)
	var roles []string
	for _, r := range cases.Roles {
		roles = append(roles, string(r))
	}
	roles = append(roles, string(cases.RoleSystem)) // the sweeper, Open311 keys, the command line
	add(reflect.TypeFor[cases.Role](), roles)
	add(reflect.TypeFor[sla.Severity](), []string{string(sla.Normal), string(sla.Urgent), string(sla.Critical)})
	strs := func(vs ...string) []string { return vs }
	var kinds, lists []string
	for _, k := range leaders.TargetKinds {
		kinds = append(kinds, string(k))
	}
	for _, k := range leaders.ListKinds {
		lists = append(lists, string(k))
	}
	add(reflect.TypeFor[leaders.TargetKind](), kinds)
	add(reflect.TypeFor[leaders.ListKind](), lists)
	add(reflect.TypeFor[leaders.ItemKind](), strs(string(leaders.ItemCase), string(leaders.ItemProject)))
	add(reflect.TypeFor[leaders.ProjectState](), strs(string(leaders.ProjectOpen), string(leaders.ProjectClosed)))
	add(reflect.TypeFor[store.TotalsBy](), strs(string(store.TotalsByLeader), string(store.TotalsByStreet), string(store.TotalsByMonth)))
	add(reflect.TypeFor[sla.Status](), strs(string(sla.Green), string(sla.Yellow), string(sla.Red), string(sla.Paused),
		string(sla.Done), string(sla.DoneLate), string(sla.Undone), string(sla.UndoneLate)))
}

// schemaGen builds schemas, naming struct types as components.
type schemaGen struct {
	comps map[string]any
	names map[reflect.Type]string
}

func newSchemaGen() *schemaGen {
	return &schemaGen{comps: map[string]any{}, names: map[reflect.Type]string{}}
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	spanType    = reflect.TypeFor[calendar.Span]()
	polygonType = reflect.TypeFor[geo.Polygon]()
	multiType   = reflect.TypeFor[geo.MultiPolygon]()
)

// of returns the schema of a value's type (a schema literal, a
// map[string]any, is returned as it is, with its Go values inside turned
// into schemas too).
func (g *schemaGen) of(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return g.literal(m)
	}
	return g.typ(reflect.TypeOf(v))
}

// literal walks a schema literal: a goType value anywhere in it stands for
// its type's schema.
func (g *schemaGen) literal(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case goType:
			out[k] = g.typ(x.t)
		case map[string]any:
			out[k] = g.literal(x)
		default:
			out[k] = v
		}
	}
	return out
}

// goType marks a Go type inside a schema literal.
type goType struct{ t reflect.Type }

// typeOf is the schema of T inside a schema literal.
func typeOf[T any]() goType { return goType{reflect.TypeFor[T]()} }

func (g *schemaGen) typ(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return map[string]any{"description": "any JSON value"}
	case spanType:
		return map[string]any{"type": "string", "description": "HH:MM-HH:MM"}
	case polygonType, multiType:
		return map[string]any{"type": "object", "description": "a GeoJSON geometry", "properties": map[string]any{
			"type": map[string]any{"type": "string"}, "coordinates": map[string]any{"type": "array"}}, "required": []any{"type", "coordinates"}}
	}
	if vals, ok := enums[t]; ok {
		e := make([]any, len(vals))
		for i, v := range vals {
			e[i] = v
		}
		return map[string]any{"type": "string", "enum": e}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := g.typ(t.Elem())
		if ref, ok := s["$ref"]; ok {
			return map[string]any{"allOf": []any{map[string]any{"$ref": ref}}, "nullable": true}
		}
		c := make(map[string]any, len(s)+1)
		for k, v := range s {
			c[k] = v
		}
		c["nullable"] = true
		return c
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.typ(t.Elem()), "nullable": t.Kind() == reflect.Slice}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.typ(t.Elem()), "nullable": true}
	case reflect.Interface:
		return map[string]any{"description": "any JSON value"}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name, ok := g.names[t]
		if !ok {
			name = g.nameOf(t)
			g.names[t] = name
			g.comps[name] = map[string]any{} // a placeholder, for recursive types
			g.comps[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{"description": "any JSON value"}
}

// nameOf is a struct type's component name: its Go name with a capital,
// prefixed by its package's name when another package has one by the same
// name.
func (g *schemaGen) nameOf(t reflect.Type) string {
	n := t.Name()
	n = strings.ToUpper(n[:1]) + n[1:]
	for other, used := range g.names {
		if used == n && other != t {
			pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
			return strings.ToUpper(pkg[:1]) + pkg[1:] + n
		}
	}
	return n
}

// object is a struct's schema: its JSON fields, embedded structs' fields
// promoted as encoding/json does.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []any
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.typ(f.Type)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}
