package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
)

// The sensors' administration (/sensors/admin, administrators; the service
// lets only district-wide ones change anything): the device kinds, the
// rules (each save a new version) and the device import from an Excel
// workbook or CSV, which lists every problem of every row and stores
// nothing until there is none. Each form is its own action
// (sensors_kind.go, sensors_rule.go, sensors_import.go); they share this
// page, shown again with what was typed and what was wrong.

var sensorAdmins = access{roles: []cases.Role{cases.RoleAdmin}}

type sensorAdminPage struct {
	Kind     *formState // the kind form
	Rule     *formState // the rule form
	Kinds    []sensors.Kind
	Rules    []sensors.Rule
	Types    []sensors.RuleType
	Sevs     []sla.Severity
	Cats     []cases.Category
	Problems []service.RowProblem // the last import's
	Columns  []string
	Saved    string
	Imported string
}

func (v *sensorAdminPage) title() string { return "感知设备管理" }

// sensorAdminOf builds the page; kind and rule are the forms' states (nil:
// opened from ?kind= or ?rule=, or empty).
func (c *Console) sensorAdminOf(r *http.Request, kind, rule *formState) (*sensorAdminPage, error) {
	ctx := r.Context()
	q := r.URL.Query()
	p := &sensorAdminPage{Types: []sensors.RuleType{sensors.Threshold, sensors.Rate, sensors.AreaSum, sensors.Silence},
		Sevs: sla.Severities(), Cats: c.svc.Categories(), Columns: service.DeviceColumns, Saved: q.Get("saved"), Imported: q.Get("imported")}
	var err error
	if p.Kinds, err = c.svc.DeviceKinds(ctx); err != nil {
		return nil, err
	}
	if p.Rules, err = c.svc.SensorRules(ctx); err != nil {
		return nil, err
	}
	if p.Kind = kind; kind == nil {
		p.Kind = &formState{Values: url.Values{}}
		for _, k := range p.Kinds {
			if k.Code == q.Get("kind") {
				p.Kind.Values = kindValues(k)
			}
		}
	}
	if p.Rule = rule; rule == nil {
		p.Rule = &formState{}
		p.Rule.Values = url.Values{"clear_minutes": {"5"}, "severity": {string(sla.Normal)}, "active": {"1"}}
		for _, ru := range p.Rules {
			if ru.ID == q.Get("rule") {
				p.Rule.Values = ruleValues(ru)
			}
		}
	}
	return p, nil
}

func (c *Console) sensorAdmin(w http.ResponseWriter, r *http.Request) error {
	p, err := c.sensorAdminOf(r, nil, nil)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "sensors.admin", p)
	return nil
}

func kindValues(k sensors.Kind) url.Values {
	return url.Values{"code": {k.Code}, "name": {k.Name}, "unit": {k.Unit}, "min": {num(k.Min)}, "max": {num(k.Max)}}
}

func ruleValues(ru sensors.Rule) url.Values {
	v := url.Values{"id": {ru.ID}, "version": {strconv.Itoa(ru.Version)}, "name": {ru.Name}, "type": {string(ru.Type)}, "kind": {ru.Kind}, "device": {ru.Device}, "area": {ru.Area},
		"raise": {num(ru.Raise)}, "clear": {num(ru.Clear)}, "silent_minutes": {strconv.Itoa(ru.SilentMinutes)},
		"clear_minutes": {strconv.Itoa(ru.ClearMinutes)}, "update_minutes": {strconv.Itoa(ru.UpdateMinutes)},
		"category": {ru.Category}, "severity": {string(ru.Severity)}}
	if ru.Below {
		v.Set("below", "1")
	}
	if ru.Active {
		v.Set("active", "1")
	}
	return v
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// formNumber reads a number field: empty is zero when optional; anything
// else that is not a number is the field's problem.
func formNumber(f url.Values, key string, optional bool, bad *apperr.Fields) float64 {
	s := strings.TrimSpace(f.Get(key))
	if s == "" && optional {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		bad.Add(key, "须为数字")
	}
	return v
}

// formInt reads a whole-number field the same way.
func formInt(f url.Values, key string, bad *apperr.Fields) int {
	s := strings.TrimSpace(f.Get(key))
	if s == "" {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		bad.Add(key, "须为整数")
	}
	return v
}
