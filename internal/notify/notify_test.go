package notify

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

var at = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func baseCase() cases.Case {
	return cases.Case{ID: "c1", Number: "500103014-20261204-0001", Category: "road", State: cases.Handling,
		GridCode: "g1", RegionPath: "/500000/500103/500103014/g1/", CenterPath: "/500000/500103/500103014/",
		Reporter: cases.Reporter{AccountID: "r1", Phone: "13812345678"},
		Tasks: []cases.Task{{UnitID: "u-lead", Role: cases.Lead, State: cases.TaskSigned}, {UnitID: "u-co", Role: cases.Co, State: cases.TaskDispatched},
			{UnitID: "u-old", Role: cases.Co, State: cases.TaskCancelled}}}
}

func TestFromStep(t *testing.T) {
	noGrid := baseCase()
	noGrid.GridCode = ""
	fedBack := baseCase()
	fedBack.State = cases.FedBack
	fedBackNoGrid := noGrid
	fedBackNoGrid.State = cases.FedBack
	sensor := baseCase()
	sensor.Source = cases.SourceSensor
	noPhone := baseCase()
	noPhone.Reporter.Phone = ""
	whistled := baseCase()
	whistled.Whistles = []cases.Whistle{{ID: "w1", Parties: []cases.Party{{Key: "unit:u-w", UnitID: "u-w", Name: "城管"}, {Key: "person:a-h", AccountID: "a-h", Name: "街长"}}},
		{ID: "w2", Parties: []cases.Party{{Key: "unit:u-x", UnitID: "u-x"}}}}
	reported := whistled
	reported.Whistles = []cases.Whistle{{ID: "w1", Parties: []cases.Party{{Key: "unit:u-w", UnitID: "u-w", ReportedAt: at}}}}

	type want struct {
		kind   Kind
		urgent bool
		to     Audience
	}
	step := func(a cases.Action, data map[string]any) cases.Step {
		return cases.Step{ActorID: "actor", At: at, Action: a, Data: data, Note: "说明"}
	}
	center, grid := "/500000/500103/500103014/", "/500000/500103/500103014/g1/"
	tests := []struct {
		name string
		c    cases.Case
		s    cases.Step
		want []want
	}{
		{"dispatch: the active units; the resident", baseCase(), step(cases.ActDispatch, nil), []want{
			{Dispatched, false, Audience{Units: []string{"u-lead", "u-co"}, Except: "actor"}},
			{ResidentDispatched, false, Audience{Phone: "13812345678"}}}},
		{"redispatch tells no resident again", baseCase(), step(cases.ActRedispatch, nil), []want{
			{Dispatched, false, Audience{Units: []string{"u-lead", "u-co"}, Except: "actor"}}}},
		{"dispatch without a phone", noPhone, step(cases.ActDispatch, nil), []want{
			{Dispatched, false, Audience{Units: []string{"u-lead", "u-co"}, Except: "actor"}}}},
		{"accept tells the resident", baseCase(), step(cases.ActAccept, nil), []want{{ResidentAccepted, false, Audience{Phone: "13812345678"}}}},
		{"a sensor's case has no resident", sensor, step(cases.ActAccept, nil), nil},
		{"close tells the resident", baseCase(), step(cases.ActClose, nil), []want{{ResidentClosed, false, Audience{Phone: "13812345678"}}}},
		{"passing verify that closes tells the resident", baseCase(), cases.Step{At: at, Action: cases.ActVerify, To: cases.Closed, Data: map[string]any{"passed": true}},
			[]want{{ResidentClosed, false, Audience{Phone: "13812345678"}}}},
		{"failed verify: the lead unit reworks", baseCase(), step(cases.ActVerify, map[string]any{"passed": false}),
			[]want{{Returned, false, Audience{Units: []string{"u-lead"}, Except: "actor"}}}},
		{"return: the center", baseCase(), step(cases.ActReturn, nil), []want{{Returned, false, Audience{Center: center, Except: "actor"}}}},
		{"feedback: the grid verifies", fedBack, step(cases.ActFeedback, nil), []want{{ToVerify, false, Audience{Grid: grid, Except: "actor"}}}},
		{"feedback without a grid: the center verifies", fedBackNoGrid, step(cases.ActFeedback, nil), []want{{ToVerify, false, Audience{Center: center, Except: "actor"}}}},
		{"a co-unit's feedback leaves nothing to verify", baseCase(), step(cases.ActFeedback, nil), nil},
		{"extension asked: the center", baseCase(), step(cases.ActExtendRequest, nil), []want{{ExtensionAsked, false, Audience{Center: center, Except: "actor"}}}},
		{"extension answered: the unit that asked", baseCase(), step(cases.ActExtendApprove, map[string]any{"unit_id": "u-co"}),
			[]want{{ExtensionAnswered, false, Audience{Units: []string{"u-co"}, Except: "actor"}}}},
		{"park denied: the unit", baseCase(), step(cases.ActParkDeny, map[string]any{"unit_id": "u-lead"}),
			[]want{{ExtensionAnswered, false, Audience{Units: []string{"u-lead"}, Except: "actor"}}}},
		{"supervised: the units and the center", baseCase(), step(cases.ActSupervise, nil),
			[]want{{Supervised, false, Audience{Units: []string{"u-lead", "u-co"}, Center: center, Except: "actor"}}}},
		{"whistle: that whistle's parties, urgent", whistled, step(cases.ActWhistle, map[string]any{"whistle_id": "w1"}),
			[]want{{Whistled, true, Audience{Units: []string{"u-w"}, Accounts: []string{"a-h"}, Except: "actor"}}}},
		{"yellow case clock: the center", baseCase(), step(cases.ActWarn, map[string]any{"clock": "case:dispatch", "level": "yellow"}),
			[]want{{ClockYellow, false, Audience{Center: center, Except: "actor"}}}},
		{"red case clock: the center and supervisors, urgent; the lists' owners", baseCase(), step(cases.ActWarn, map[string]any{"clock": "case:accept", "level": "red"}),
			[]want{{ClockRed, true, Audience{Center: center, Supervisor: true, Except: "actor"}}, {ListOverdue, false, Audience{ListOwners: true, Except: "actor"}}}},
		{"red verify clock: also the grid", baseCase(), step(cases.ActWarn, map[string]any{"clock": "case:verify", "level": "red"}),
			[]want{{ClockRed, true, Audience{Center: center, Grid: grid, Supervisor: true, Except: "actor"}}, {ListOverdue, false, Audience{ListOwners: true, Except: "actor"}}}},
		{"yellow task clock: the unit only", baseCase(), step(cases.ActWarn, map[string]any{"clock": "task:u-lead:handle", "level": "yellow"}),
			[]want{{ClockYellow, false, Audience{Units: []string{"u-lead"}, Except: "actor"}}}},
		{"red task clock: the unit, then the center and supervisors", baseCase(), step(cases.ActWarn, map[string]any{"clock": "task:u-co:sign", "level": "red"}),
			[]want{{ClockRed, true, Audience{Units: []string{"u-co"}, Except: "actor"}}, {ClockRed, true, Audience{Center: center, Supervisor: true, Except: "actor"}},
				{ListOverdue, false, Audience{ListOwners: true, Except: "actor"}}}},
		{"report-in yellow: the party", whistled, step(cases.ActWarn, map[string]any{"clock": "whistle:w1:person:a-h:report_in", "level": "yellow"}),
			[]want{{ReportInDue, false, Audience{Accounts: []string{"a-h"}, Except: "actor"}}}},
		{"report-in red: the party and the center", whistled, step(cases.ActWarn, map[string]any{"clock": "whistle:w1:unit:u-w:report_in", "level": "red"}),
			[]want{{ReportInDue, true, Audience{Units: []string{"u-w"}, Except: "actor"}}, {ReportInDue, true, Audience{Center: center, Except: "actor"}}}},
		{"report-in of a party that came: nothing", reported, step(cases.ActWarn, map[string]any{"clock": "whistle:w1:unit:u-w:report_in", "level": "red"}), nil},
		{"a comment tells nobody", baseCase(), step(cases.ActComment, nil), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromStep(&tc.c, &tc.s)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Kind != w.kind || g.Urgent != w.urgent || !sameAudience(g.To, w.to) {
					t.Errorf("event %d: got %s urgent=%v %+v, want %s urgent=%v %+v", i, g.Kind, g.Urgent, g.To, w.kind, w.urgent, w.to)
				}
				if g.CaseID != "c1" || g.Title == "" || !g.At.Equal(at) {
					t.Errorf("event %d: case %q title %q at %v", i, g.CaseID, g.Title, g.At)
				}
				if !g.Kind.Resident() && g.Link != "/cases/c1" {
					t.Errorf("event %d: link %q", i, g.Link)
				}
			}
		})
	}
}

func sameAudience(a, b Audience) bool {
	return slices.Equal(a.Units, b.Units) && slices.Equal(a.Accounts, b.Accounts) && a.Center == b.Center && a.Grid == b.Grid &&
		a.Supervisor == b.Supervisor && a.ListOwners == b.ListOwners && a.Phone == b.Phone && a.Except == b.Except
}

func TestPrefs(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	local := func(h, m int) time.Time { return time.Date(2026, 12, 4, h, m, 0, 0, loc) }
	night := Prefs{QuietFrom: "22:00", QuietTo: "07:30"}
	noon := Prefs{QuietFrom: "12:00", QuietTo: "14:00"}
	tests := []struct {
		name   string
		p      Prefs
		now    time.Time
		urgent bool
		want   time.Time
	}{
		{"no quiet hours", Prefs{}, local(23, 0), false, local(23, 0)},
		{"before quiet hours", night, local(21, 59), false, local(21, 59)},
		{"in quiet hours, before midnight: the next morning", night, local(22, 0), false, local(31, 30)},
		{"in quiet hours, after midnight: this morning", night, local(3, 0), false, local(7, 30)},
		{"at the end: now", night, local(7, 30), false, local(7, 30)},
		{"urgent: now, whatever the hour", night, local(23, 0), true, local(23, 0)},
		{"a nap in the day", noon, local(13, 0), false, local(14, 0)},
		{"after the nap", noon, local(14, 1), false, local(14, 1)},
	}
	for _, tc := range tests {
		if got := tc.p.SendAt(tc.now, tc.urgent, loc); !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	off := Prefs{Off: []Kind{ClockYellow, ClockRed}, SMS: true}
	if off.Wants(ClockYellow, false) || !off.Wants(ClockRed, true) || !off.Wants(Dispatched, false) {
		t.Error("Wants: a kind turned off is not wanted unless urgent")
	}
	if got := off.Channels(ClockRed); got != nil {
		t.Errorf("channels of a kind turned off: %v", got)
	}
	if got := off.Channels(Dispatched); !slices.Equal(got, []Channel{Push, SMS}) {
		t.Errorf("channels: %v", got)
	}
	if got := (Prefs{NoPush: true}).Channels(Dispatched); got != nil {
		t.Errorf("no push, no SMS: %v", got)
	}
}

func TestPrefsValidate(t *testing.T) {
	tests := []struct {
		p     Prefs
		field string
	}{
		{Prefs{}, ""},
		{Prefs{QuietFrom: "22:00", QuietTo: "07:00", Off: []Kind{ClockYellow}}, ""},
		{Prefs{Off: []Kind{"nope"}}, "off[0]"},
		{Prefs{Off: []Kind{ResidentClosed}}, "off[0]"},
		{Prefs{QuietFrom: "25:00", QuietTo: "07:00"}, "quiet_from"},
		{Prefs{QuietFrom: "22:00", QuietTo: "7"}, "quiet_to"},
		{Prefs{QuietFrom: "22:00"}, "quiet_to"},
		{Prefs{QuietFrom: "22:00", QuietTo: "22:00"}, "quiet_to"},
	}
	for _, tc := range tests {
		got := fieldsOf(tc.p.Validate())
		if tc.field == "" && len(got) > 0 || tc.field != "" && !slices.Contains(got, tc.field) {
			t.Errorf("%+v: fields %v, want %q", tc.p, got, tc.field)
		}
	}
}

func TestGateway(t *testing.T) {
	ok := Gateway{URL: "https://sms.example/send", BaseURL: "https://zz.example", AuthHeader: "Authorization", AuthValue: "Bearer x",
		Templates: map[Kind]string{ResidentClosed: "已办结{number}，评价：{link}"}}
	tests := []struct {
		g     Gateway
		field string
	}{
		{ok, ""},
		{Gateway{}, ""},
		{Gateway{URL: "ftp://x"}, "url"},
		{Gateway{URL: "https://x"}, "base_url"},
		{Gateway{URL: "https://x", BaseURL: "https://y/path"}, "base_url"},
		{Gateway{URL: "https://x", BaseURL: "https://y", AuthHeader: "Authorization"}, "auth_header"},
		{Gateway{URL: "https://x", BaseURL: "https://y", AuthHeader: "Bad Header", AuthValue: "v"}, "auth_header"},
		{Gateway{URL: "https://x", BaseURL: "https://y", Templates: map[Kind]string{"zz": "x"}}, "templates.zz"},
		{Gateway{URL: "https://x", BaseURL: "https://y", Templates: map[Kind]string{ResidentClosed: " "}}, "templates.resident_closed"},
		{Gateway{URL: "https://x", BaseURL: "https://y", Templates: map[Kind]string{ResidentClosed: "{phone}"}}, "templates.resident_closed"},
	}
	for _, tc := range tests {
		got := fieldsOf(tc.g.Validate())
		if tc.field == "" && len(got) > 0 || tc.field != "" && !slices.Contains(got, tc.field) {
			t.Errorf("%+v: fields %v, want %q", tc.g, got, tc.field)
		}
	}
	e := Event{Kind: ResidentClosed, Number: "500103014-20261204-0001"}
	if got := ok.Text(e); got != "已办结500103014-20261204-0001，评价：https://zz.example/r/follow?number=500103014-20261204-0001" {
		t.Errorf("template: %q", got)
	}
	if got := ok.Text(Event{Kind: ResidentAccepted, Number: "N1"}); !strings.Contains(got, "N1") || !strings.Contains(got, "已受理") {
		t.Errorf("default template: %q", got)
	}
	if got := ok.Text(Event{Kind: Dispatched, Title: "案件N已派遣", Link: "/cases/c1"}); got != "【智治】案件N已派遣" {
		t.Errorf("a working person's SMS: %q", got)
	}
	if r := ok.Redacted(); r.AuthValue == "Bearer x" {
		t.Error("auth value shown back")
	}
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		if got := Backoff(i + 1); got != want {
			t.Errorf("backoff %d: %v", i+1, got)
		}
	}
	if Backoff(20) != time.Hour {
		t.Error("backoff is at most an hour")
	}
}

func fieldsOf(err error) []string {
	var out []string
	var e *apperr.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			out = append(out, f.Field)
		}
	}
	return out
}
