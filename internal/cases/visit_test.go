package cases_test

import (
	"errors"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

func TestReturnVisit(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	closed := func(src cases.Source) cases.Case {
		return cases.Case{ID: "c1", Version: 5, State: cases.Closed, Source: src, ClosedAt: now.Add(-time.Hour)}
	}
	ok := &cases.ReturnVisit{Satisfaction: cases.BasicSatisfied, Resolved: false, At: now.Add(-time.Minute)}
	for _, tc := range []struct {
		name  string
		c     cases.Case
		visit *cases.ReturnVisit
		want  apperr.Kind
		field string
	}{
		{"hotline case", closed(cases.SourceHotline), ok, "", ""},
		{"not a hotline case", closed(cases.SourceResident), ok, apperr.Refused, ""},
		{"no result", closed(cases.SourceHotline), nil, apperr.Invalid, "visit"},
		{"bad satisfaction", closed(cases.SourceHotline), &cases.ReturnVisit{Satisfaction: "ok", At: now}, apperr.Invalid, "visit.satisfaction"},
		{"no time", closed(cases.SourceHotline), &cases.ReturnVisit{Satisfaction: cases.Satisfied}, apperr.Invalid, "visit.at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, step, err := cases.Apply(tc.c, cases.Command{Action: cases.ActReturnVisit, Visit: tc.visit, Note: "回访记录"}, cases.System, pol, now)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n.Visit == nil || n.Visit.Satisfaction != cases.BasicSatisfied || n.Visit.Resolved || n.Visit.Note != "回访记录" {
					t.Fatalf("visit = %+v", n.Visit)
				}
				if n.State != cases.Closed || step.Action != cases.ActReturnVisit || step.Data["resolved"] != false {
					t.Fatalf("state %s step %+v", n.State, step)
				}
				return
			}
			var e *apperr.Error
			if err == nil || !errors.As(err, &e) || e.Kind != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
			if tc.field != "" && (len(e.Fields) == 0 || e.Fields[0].Field != tc.field) {
				t.Fatalf("fields = %+v, want %s", e.Fields, tc.field)
			}
		})
	}
}
