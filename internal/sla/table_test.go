package sla

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDefaultTable(t *testing.T) {
	tab := DefaultTable()
	if err := tab.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		stage Stage
		sev   Severity
		want  string
	}{
		{Accept, Normal, "30分钟"},
		{Accept, Urgent, "10分钟"},
		{Dispatch, Normal, "30分钟"},
		{Dispatch, Urgent, "10分钟"},
		{Sign, Normal, "2工作时"},
		{Sign, Urgent, "30分钟"},
		{Handle, Normal, "3工作日"},
		{Handle, Urgent, "4工作时"},
		{Verify, Normal, "1工作日"},
		{Verify, Urgent, "2小时"},
		{ReportIn, Normal, "30分钟"},
		{ReportIn, Critical, "30分钟"}, // falls back to normal
	}
	for _, tc := range tests {
		l, ok := tab.Limit(tc.stage, tc.sev)
		if !ok || l.String() != tc.want {
			t.Errorf("Limit(%s, %s) = %v, %v; want %s", tc.stage, tc.sev, l, ok, tc.want)
		}
	}
	if _, ok := tab.Limit("lunch", Normal); ok {
		t.Error("unknown stage found")
	}
	if _, ok := (Table{}).Limit(Accept, Urgent); ok {
		t.Error("empty table found a limit")
	}
}

func TestTableValidate(t *testing.T) {
	withNormals := func(extra Table) Table {
		tab := Table{}
		for _, st := range Stages() {
			tab[st] = map[Severity]Limit{Normal: {30, Minutes}}
		}
		for st, row := range extra {
			if tab[st] == nil {
				tab[st] = map[Severity]Limit{}
			}
			for sev, l := range row {
				tab[st][sev] = l
			}
		}
		return tab
	}
	tests := []struct {
		name string
		tab  Table
		want []string
	}{
		{"minimal", withNormals(nil), nil},
		{"unknown stage", withNormals(Table{"lunch": {Normal: {1, Minutes}}}), []string{"lunch"}},
		{"unknown severity", withNormals(Table{Handle: {"whenever": {1, Days}}}), []string{"handle.whenever"}},
		{"bad limit", withNormals(Table{Handle: {Urgent: {0, "hours"}}}), []string{"handle.urgent.amount", "handle.urgent.unit"}},
		{"missing normal", Table{Accept: {Urgent: {10, Minutes}}}, []string{
			"accept.normal", "dispatch.normal", "sign.normal", "handle.normal", "verify.normal", "report_in.normal"}},
	}
	for _, tc := range tests {
		err := tc.tab.Validate()
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if got := fieldNames(t, err); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTableJSON(t *testing.T) {
	tab := DefaultTable()
	b, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tab) {
		t.Errorf("round trip differs:\n%s", b)
	}
	// Hand-written configuration may use the short form.
	var short Table
	in := `{"accept":{"normal":"30m","urgent":{"amount":10,"unit":"minutes"}},"handle":{"normal":"3wd"}}`
	if err := json.Unmarshal([]byte(in), &short); err != nil {
		t.Fatal(err)
	}
	if l, _ := short.Limit(Handle, Critical); l != (Limit{3, WorkDays}) {
		t.Errorf("short form: %v", l)
	}
}

func TestLabels(t *testing.T) {
	tests := []struct{ got, want string }{
		{Normal.Label(), "一般"},
		{Urgent.Label(), "紧急"},
		{Critical.Label(), "特急"},
		{Accept.Label(), "受理"},
		{ReportIn.Label(), "报到"},
		{Red.Label(), "超期"},
		{Yellow.Label(), "临期"},
		{WorkDays.Label(), "工作日"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("label %q, want %q", tc.got, tc.want)
		}
	}
	for _, s := range Stages() {
		if !s.Valid() || s.Label() == string(s) {
			t.Errorf("stage %s has no label", s)
		}
	}
	for _, s := range Severities() {
		if !s.Valid() || s.Label() == string(s) {
			t.Errorf("severity %s has no label", s)
		}
	}
}
