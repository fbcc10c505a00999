package webhook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
)

func TestSign(t *testing.T) {
	body := []byte(`{"id":"01J","kind":"accept"}`)
	got := Sign("s3cret-s3cret-16", 1700000000, body)
	if !strings.HasPrefix(got, "sha256=") || len(got) != len("sha256=")+64 {
		t.Fatalf("signature %q", got)
	}
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name           string
		secret, ts, sg string
		body           []byte
		now            time.Time
		ok             bool
	}{
		{"valid", "s3cret-s3cret-16", "1700000000", got, body, now, true},
		{"within tolerance", "s3cret-s3cret-16", "1700000000", got, body, now.Add(4 * time.Minute), true},
		{"too old (replay)", "s3cret-s3cret-16", "1700000000", got, body, now.Add(6 * time.Minute), false},
		{"from the future", "s3cret-s3cret-16", "1700000000", got, body, now.Add(-6 * time.Minute), false},
		{"other secret", "another-secret-16", "1700000000", got, body, now, false},
		{"body changed", "s3cret-s3cret-16", "1700000000", got, []byte(`{"id":"01J","kind":"close"}`), now, false},
		{"timestamp changed", "s3cret-s3cret-16", "1700000001", got, body, now, false},
		{"bad timestamp", "s3cret-s3cret-16", "x", got, body, now, false},
		{"no prefix", "s3cret-s3cret-16", "1700000000", strings.TrimPrefix(got, "sha256="), body, now, false},
	} {
		if ok := Verify(tc.secret, tc.ts, tc.sg, tc.body, tc.now, 5*time.Minute); ok != tc.ok {
			t.Errorf("%s: Verify = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

// TestSignVector pins the signature to a value computed outside Go
// (printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'key-key-key-key-1').
func TestSignVector(t *testing.T) {
	got := Sign("key-key-key-key-1", 1700000000, []byte(`{"a":1}`))
	if got != signVector {
		t.Fatalf("Sign = %s, want %s", got, signVector)
	}
}

const signVector = "sha256=1ef420b5c1b20102bf0fbae8b7514f1a860bd10fdf3bcc8dbecfda3d79f146f7"

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{0, 0}, {1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {4, 80 * time.Second},
		{7, 640 * time.Second}, {9, 2560 * time.Second}, {10, time.Hour}, {11, time.Hour}, {500, time.Hour},
	} {
		if got := Backoff(tc.n, BackoffBase, BackoffMax); got != tc.want {
			t.Errorf("Backoff(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
	if got := Backoff(3, time.Millisecond, 3*time.Millisecond); got != 3*time.Millisecond {
		t.Errorf("capped: %s", got)
	}
}

func TestPauseRule(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		failures int
		since    time.Time
		now      time.Time
		want     bool
	}{
		{"no failures", 0, time.Time{}, t0, false},
		{"many failures in an hour", 50, t0, t0.Add(time.Hour), false},
		{"a day of failures", 10, t0, t0.Add(24 * time.Hour), true},
		{"a day but few attempts", 9, t0, t0.Add(30 * time.Hour), false},
		{"just short of a day", 20, t0, t0.Add(24*time.Hour - time.Second), false},
	} {
		if got := DefaultPause.ShouldPause(tc.failures, tc.since, tc.now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReady(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	q := []Item{
		{Sub: "s1", CaseID: "c1", Seq: 2, NextAt: t0},
		{Sub: "s1", CaseID: "c1", Seq: 1, NextAt: t0.Add(time.Minute)}, // the earlier event waits for its retry: so does seq 2
		{Sub: "s1", CaseID: "c2", Seq: 3, NextAt: t0},
		{Sub: "s1", CaseID: "c2", Seq: 4, NextAt: t0},
		{Sub: "s2", CaseID: "c1", Seq: 2, NextAt: t0.Add(-time.Second)}, // another subscription: its own order
		{Sub: "s2", CaseID: "c3", Seq: 1, NextAt: t0, Leased: true},     // being sent: nothing of c3 for s2
		{Sub: "s2", CaseID: "c3", Seq: 2, NextAt: t0},
	}
	got := Ready(q, t0)
	want := []Item{{Sub: "s2", CaseID: "c1", Seq: 2, NextAt: t0.Add(-time.Second)}, {Sub: "s1", CaseID: "c2", Seq: 3, NextAt: t0}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Ready = %+v\nwant %+v", got, want)
	}
	if got := Ready(q, t0.Add(time.Minute)); len(got) != 3 || got[2].CaseID != "c1" || got[2].Seq != 1 {
		t.Fatalf("a minute later: %+v", got)
	}
}

func TestValidate(t *testing.T) {
	ok := Input{Name: "区12345平台", URL: "https://hotline.example/hook", Events: []string{"close", "accept", "close"}, RegionCode: "500103"}
	for _, tc := range []struct {
		name   string
		edit   func(*Input)
		fields []string
		events []string
	}{
		{"ok", func(*Input) {}, nil, []string{"accept", "close"}},
		{"all", func(in *Input) { in.Events = []string{"close", "*"} }, nil, []string{"*"}},
		{"unit scope", func(in *Input) { in.RegionCode, in.UnitID = "", "u1" }, nil, []string{"accept", "close"}},
		{"no name", func(in *Input) { in.Name = " " }, []string{"name"}, nil},
		{"ftp", func(in *Input) { in.URL = "ftp://x/y" }, []string{"url"}, nil},
		{"relative", func(in *Input) { in.URL = "/hook" }, []string{"url"}, nil},
		{"password in url", func(in *Input) { in.URL = "https://a:b@x/hook" }, []string{"url"}, nil},
		{"no events", func(in *Input) { in.Events = nil }, []string{"events"}, nil},
		{"unknown event", func(in *Input) { in.Events = []string{"close", "explode"} }, []string{"events[1]"}, nil},
		{"both scopes", func(in *Input) { in.UnitID = "u1" }, []string{"region_code"}, nil},
		{"no scope", func(in *Input) { in.RegionCode = "" }, []string{"region_code"}, nil},
		{"sources", func(in *Input) { in.Sources = []string{"hotline", "phone"} }, []string{"sources[1]"}, nil},
		{"short secret", func(in *Input) { in.Secret = "short" }, []string{"secret"}, nil},
		{"blank in secret", func(in *Input) { in.Secret = "0123456789 abcdef" }, []string{"secret"}, nil},
	} {
		in := ok
		tc.edit(&in)
		events, err := in.Validate()
		var got []string
		if e, isApp := err.(*apperr.Error); isApp {
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.fields) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.fields)
		}
		if tc.fields == nil && !reflect.DeepEqual(events, tc.events) {
			t.Errorf("%s: events %v, want %v", tc.name, events, tc.events)
		}
	}
}

func TestKindsAndMatch(t *testing.T) {
	kinds := Kinds()
	for _, k := range []string{"report", "accept", "dispatch", "whistle", "feedback", "return", "verify", "close", "rate", "return_visit"} {
		if !contains(kinds, k) {
			t.Errorf("kind %s missing", k)
		}
	}
	c := &cases.Case{RegionPath: "/500000/500103/500103014/", Tasks: []cases.Task{{UnitID: "u1", Role: cases.Lead}}}
	subs := []Subscription{
		{ID: "district", Events: []string{All}, RegionPath: "/500000/500103/"},
		{ID: "other street", Events: []string{All}, RegionPath: "/500000/500103/500103015/"},
		{ID: "unit", Events: []string{"dispatch"}, UnitID: "u1"},
		{ID: "unit2", Events: []string{"dispatch"}, UnitID: "u2"},
		{ID: "close only", Events: []string{"close"}, RegionPath: "/500000/"},
		{ID: "hotline only", Events: []string{All}, RegionPath: "/500000/", Sources: []string{"hotline"}},
	}
	var got []string
	for _, s := range Match(subs, c, &cases.Step{Action: cases.ActDispatch}) {
		got = append(got, s.ID)
	}
	if !reflect.DeepEqual(got, []string{"district", "unit"}) {
		t.Errorf("Match = %v", got)
	}
	c.Source = cases.SourceHotline
	if got := Match(subs, c, &cases.Step{Action: cases.ActClose}); len(got) != 3 || got[2].ID != "hotline only" {
		t.Errorf("hotline case: %d matches", len(got))
	}
}

// TestFan: the fan-out matches an event's stored facts as Match matches
// the case, and a subscription created after the event was queued does not
// take it.
func TestFan(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	c := &cases.Case{Source: cases.SourcePatrol, RegionPath: "/500000/500103/500103014/",
		Tasks: []cases.Task{{UnitID: "u1", Role: cases.Lead}, {UnitID: "u3", Role: cases.Co}, {UnitID: "u1", Role: cases.Lead}}}
	f := FactsOf(c, &cases.Step{Action: cases.ActDispatch})
	if !reflect.DeepEqual(f, Facts{Kind: "dispatch", Source: "patrol", RegionPath: c.RegionPath, Units: []string{"u1", "u3"}}) {
		t.Fatalf("facts %+v", f)
	}
	subs := []Subscription{
		{ID: "old", Events: []string{All}, RegionPath: "/500000/500103/", CreatedAt: t0.Add(-time.Hour)},
		{ID: "same instant", Events: []string{"dispatch"}, UnitID: "u3", CreatedAt: t0},
		{ID: "later", Events: []string{All}, RegionPath: "/500000/", CreatedAt: t0.Add(time.Millisecond)},
		{ID: "other kind", Events: []string{"close"}, RegionPath: "/500000/", CreatedAt: t0.Add(-time.Hour)},
		{ID: "other unit", Events: []string{All}, UnitID: "u2", CreatedAt: t0.Add(-time.Hour)},
		{ID: "hotline only", Events: []string{All}, RegionPath: "/500000/", Sources: []string{"hotline"}, CreatedAt: t0.Add(-time.Hour)},
	}
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{t0, []string{"old", "same instant"}},
		{t0.Add(time.Second), []string{"old", "same instant", "later"}},
		{time.Time{}, []string{"old", "same instant", "later"}}, // Match: no time rule
	} {
		var got []string
		for _, s := range Fan(subs, f, tc.at) {
			got = append(got, s.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Fan at %v = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestBuild(t *testing.T) {
	at := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	c := &cases.Case{ID: "c1", Number: "500103014-20261204-0001", Version: 6, State: cases.FedBack, Source: cases.SourceHotline,
		Reporter: cases.Reporter{Name: "张三", Phone: "13800000000"}, Point: &geo.Point{Lng: 106.5, Lat: 29.5},
		Extra: []cases.Extra{{Key: HotlineNoKey, Value: "GD2026120400012"}},
		Tasks: []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskFedBack, Feedback: "已清理"}}}
	s := &cases.Step{ID: "s6", CaseID: "c1", Seq: 6, At: at, Action: cases.ActFeedback, Role: cases.RoleUnit, ActorName: "王五", UnitID: "u1", Note: "已清理", To: cases.FedBack}
	body, err := Build(c, s).Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, no := range []string{"张三", "13800000000"} {
		if strings.Contains(string(body), no) {
			t.Errorf("payload carries personal data %s: %s", no, body)
		}
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if e.ID != "s6" || e.Kind != "feedback" || e.Case.HotlineNo != "GD2026120400012" || e.Case.Feedback != "已清理" || e.Case.LeadUnit != "u1" ||
		e.Step.Seq != 6 || e.Step.ActorName != "王五" || *e.Case.Lng != 106.5 {
		t.Errorf("event %+v", e)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
