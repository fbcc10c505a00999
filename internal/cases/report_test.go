package cases_test

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// questionCategory asks one question of every type; only depth is required.
func questionCategory() cases.Category {
	c := testCategory()
	c.Questions = []cases.Question{
		{Code: "depth", Prompt: "坑深（厘米）", Type: cases.QNumber, Required: true, Order: 1},
		{Code: "kind", Prompt: "类型", Type: cases.QSingle, Choices: []cases.Choice{{Key: "pit", Name: "坑洞"}, {Key: "crack", Name: "裂缝"}}, Order: 2},
		{Code: "since", Prompt: "发现时间", Type: cases.QDateTime, Order: 3},
		{Code: "hazards", Prompt: "危险", Type: cases.QMulti, Choices: []cases.Choice{{Key: "water", Name: "积水"}, {Key: "night", Name: "夜间无照明"}}, Order: 4},
		{Code: "detail", Prompt: "补充说明", Type: cases.QText, Order: 5},
		{Code: "plate", Prompt: "车牌", Type: cases.QString, Order: 6},
	}
	return c
}

var (
	resident   = cases.Actor{AccountID: "acct-res", Name: "居民赵六", Role: cases.RoleResident}
	enterprise = cases.Actor{AccountID: "acct-ent", Name: "某公司", Role: cases.RoleEnterprise}
	head       = cases.Actor{AccountID: "acct-head", Name: "楼长", Role: cases.RoleHead, RegionPath: gridPath}
	gridChief  = cases.Actor{AccountID: "acct-chief", Name: "网格长", Role: cases.RoleGridChief, RegionPath: communityPath}
)

func TestNewRefuses(t *testing.T) {
	now := at(10, 14, 0)
	withAnswers := func(r cases.Report) cases.Report {
		r.Answers = map[string]any{"depth": "12"}
		return r
	}
	for _, tc := range []struct {
		name   string
		edit   func(*cases.Report, *cases.Category)
		actor  cases.Actor
		fields []string
	}{
		{"no source", func(r *cases.Report, _ *cases.Category) { r.Source = "" }, gridWorker, []string{"source"}},
		{"unknown source", func(r *cases.Report, _ *cases.Category) { r.Source = "fax" }, gridWorker, []string{"source"}},
		{"resident on patrol", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourcePatrol }, resident, []string{"source"}},
		{"resident as hotline", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourceHotline }, resident, []string{"source"}},
		{"enterprise as resident", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourceResident }, enterprise, []string{"source"}},
		{"head as hotline", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourceHotline }, head, []string{"source"}},
		{"leader on patrol", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourcePatrol }, leader, []string{"source"}},
		{"grid worker as sensor", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourceSensor }, gridWorker, []string{"source"}},
		{"commander as open311", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourceOpen311 }, commander, []string{"source"}},
		{"unit reports", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourcePatrol }, leadUnit, []string{"source"}},
		{"admin reports", func(r *cases.Report, _ *cases.Category) { r.Source = cases.SourceHotline },
			cases.Actor{AccountID: "a", Role: cases.RoleAdmin, RegionPath: streetPath}, []string{"source"}},
		{"empty description", func(r *cases.Report, _ *cases.Category) { r.Description = " \n\t " }, gridWorker, []string{"description"}},
		{"long description", func(r *cases.Report, _ *cases.Category) {
			r.Description = strings.Repeat("坑", cases.MaxDescription+1)
		}, gridWorker, []string{"description"}},
		{"no point, no address", func(r *cases.Report, _ *cases.Category) { r.Point, r.Address = nil, "  " }, gridWorker, []string{"point"}},
		{"longitude out of range", func(r *cases.Report, _ *cases.Category) { r.Point = &geo.Point{Lng: 181, Lat: 29} }, gridWorker, []string{"point"}},
		{"latitude out of range", func(r *cases.Report, _ *cases.Category) { r.Point = &geo.Point{Lng: 106, Lat: -91} }, gridWorker, []string{"point"}},
		{"NaN point", func(r *cases.Report, _ *cases.Category) { r.Point = &geo.Point{Lng: math.NaN(), Lat: 29} }, gridWorker, []string{"point"}},
		{"long address", func(r *cases.Report, _ *cases.Category) { r.Address = strings.Repeat("路", 201) }, gridWorker, []string{"address"}},
		{"inactive category", func(_ *cases.Report, c *cases.Category) { c.Active = false }, gridWorker, []string{"category"}},
		{"bad severity", func(r *cases.Report, _ *cases.Category) { r.Severity = "severe" }, gridWorker, []string{"severity"}},
		{"long name", func(r *cases.Report, _ *cases.Category) { r.Reporter.Name = strings.Repeat("名", 51) }, gridWorker, []string{"reporter.name"}},
		{"phone with letters", func(r *cases.Report, _ *cases.Category) { r.Reporter.Phone = "138abc45678" }, gridWorker, []string{"reporter.phone"}},
		{"phone too short", func(r *cases.Report, _ *cases.Category) { r.Reporter.Phone = "1234" }, gridWorker, []string{"reporter.phone"}},
		{"phone too long", func(r *cases.Report, _ *cases.Category) { r.Reporter.Phone = strings.Repeat("1", 21) }, gridWorker, []string{"reporter.phone"}},
		{"phone with leading dash", func(r *cases.Report, _ *cases.Category) { r.Reporter.Phone = "-63861234" }, gridWorker, []string{"reporter.phone"}},
		{"phone with inner plus", func(r *cases.Report, _ *cases.Category) { r.Reporter.Phone = "86+13812345678" }, gridWorker, []string{"reporter.phone"}},
		{"phone with space", func(r *cases.Report, _ *cases.Category) { r.Reporter.Phone = "138 1234 5678" }, gridWorker, []string{"reporter.phone"}},
		{"ten photos", func(r *cases.Report, _ *cases.Category) { r.Photos = make([]cases.Photo, 10) }, gridWorker, []string{"photos"}},
		{"too many extras", func(r *cases.Report, _ *cases.Category) { r.Extra = make([]cases.Extra, cases.MaxExtras+1) }, gridWorker, []string{"extra"}},
		{"extra without a name", func(r *cases.Report, _ *cases.Category) { r.Extra = []cases.Extra{{Key: " ", Value: "1"}} }, gridWorker, []string{"extra[0]"}},
		{"extra twice", func(r *cases.Report, _ *cases.Category) {
			r.Extra = []cases.Extra{{Key: "fixmystreet_id", Value: "1"}, {Key: "fixmystreet_id", Value: "2"}}
		}, gridWorker, []string{"extra[1]"}},
		{"long extra", func(r *cases.Report, _ *cases.Category) {
			r.Extra = []cases.Extra{{Key: "closest_address", Value: strings.Repeat("路", cases.MaxExtraValue+1)}}
		}, gridWorker, []string{"extra[0]"}},
		{"extra with a control character", func(r *cases.Report, _ *cases.Category) { r.Extra = []cases.Extra{{Key: "uprn", Value: "1\x1b2"}} }, gridWorker, []string{"extra[0]"}},
		{"on the spot without photos", func(r *cases.Report, c *cases.Category) { r.OnSpot, r.Photos, c.Level = true, nil, "grid" }, gridWorker, []string{"photos"}},
		{"on the spot by a resident", func(r *cases.Report, c *cases.Category) {
			r.OnSpot, r.Source, c.Level = true, cases.SourceResident, "grid"
		}, resident, []string{"solved_on_spot", "point"}},
		{"on the spot by a commander", func(r *cases.Report, c *cases.Category) { r.OnSpot, c.Level = true, "grid" }, commander, []string{"solved_on_spot"}},
		{"on the spot by the system", func(r *cases.Report, c *cases.Category) { r.OnSpot, c.Level = true, "grid" }, cases.System, []string{"solved_on_spot", "point"}},
		{"on the spot, a street matter", func(r *cases.Report, c *cases.Category) { r.OnSpot = true }, gridWorker, []string{"solved_on_spot"}},
		{"on the spot, a district matter", func(r *cases.Report, c *cases.Category) { r.OnSpot, c.Level = true, "district" }, gridWorker, []string{"solved_on_spot"}},
		{"missing required answer", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			r.Answers = map[string]any{"kind": "pit"}
		}, gridWorker, []string{"answers.depth"}},
		{"blank required answer", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			r.Answers = map[string]any{"depth": "  "}
		}, gridWorker, []string{"answers.depth"}},
		{"answer not a choice", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			*r = withAnswers(*r)
			r.Answers["kind"] = "hole"
		}, gridWorker, []string{"answers.kind"}},
		{"multi answer not a choice", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			*r = withAnswers(*r)
			r.Answers["hazards"] = []any{"water", "fire"}
		}, gridWorker, []string{"answers.hazards"}},
		{"bad number", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			r.Answers = map[string]any{"depth": "deep"}
		}, gridWorker, []string{"answers.depth"}},
		{"bad datetime", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			*r = withAnswers(*r)
			r.Answers["since"] = "2026-03-10 14:00"
		}, gridWorker, []string{"answers.since"}},
		{"unknown answer", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			*r = withAnswers(*r)
			r.Answers["colour"] = "red"
		}, gridWorker, []string{"answers.colour"}},
		{"answers without questions", func(r *cases.Report, _ *cases.Category) { r.Answers = map[string]any{"depth": 3.0} }, gridWorker, []string{"answers.depth"}},
		{"everything wrong", func(r *cases.Report, c *cases.Category) {
			*c = questionCategory()
			c.Active = false
			*r = cases.Report{Source: "fax", Severity: "x", Reporter: cases.Reporter{Phone: "abc"}, Photos: make([]cases.Photo, 10),
				Answers: map[string]any{"kind": "hole", "zzz": 1.0}}
		}, gridWorker, []string{"source", "description", "point", "category", "severity", "reporter.phone", "photos",
			"answers.depth", "answers.kind", "answers.zzz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, cat := testReport(), testCategory()
			if tc.actor.Role == cases.RoleResident {
				r.Source = cases.SourceResident
			}
			tc.edit(&r, &cat)
			c, step, err := cases.New(r, cat, testPlace, "case-9", "YZ-9", tc.actor, pol, now)
			wantField(t, err, tc.fields...)
			if got := fieldsOf(err); len(got) != len(tc.fields) {
				t.Errorf("fields %v, want %v", got, tc.fields)
			}
			if !reflect.DeepEqual(c, cases.Case{}) || !reflect.DeepEqual(step, cases.Step{}) {
				t.Error("a refused report returned a case")
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	now := at(10, 14, 0)
	for _, tc := range []struct {
		name  string
		actor cases.Actor
		edit  func(*cases.Report)
	}{
		{"grid worker patrol", gridWorker, func(*cases.Report) {}},
		{"grid chief relays a resident", gridChief, func(r *cases.Report) { r.Source = cases.SourceResident }},
		{"head on patrol", head, func(*cases.Report) {}},
		{"commander takes a hotline call", commander, func(r *cases.Report) { r.Source = cases.SourceHotline }},
		{"leader on a visit", leader, func(r *cases.Report) { r.Source = cases.SourceVisit }},
		{"enterprise", enterprise, func(r *cases.Report) { r.Source = cases.SourceEnterprise }},
		{"resident", resident, func(r *cases.Report) { r.Source = cases.SourceResident }},
		{"sensor", cases.System, func(r *cases.Report) { r.Source = cases.SourceSensor }},
		{"open311", cases.System, func(r *cases.Report) { r.Source = cases.SourceOpen311 }},
		{"address only", gridWorker, func(r *cases.Report) { r.Point = nil }},
		{"point only", gridWorker, func(r *cases.Report) { r.Address = "" }},
		{"longest description", gridWorker, func(r *cases.Report) { r.Description = strings.Repeat("坑", cases.MaxDescription) }},
		{"nine photos", gridWorker, func(r *cases.Report) { r.Photos = make([]cases.Photo, 9) }},
		{"good phones", gridWorker, func(r *cases.Report) { r.Reporter.Phone = "+8613812345678" }},
		{"landline", gridWorker, func(r *cases.Report) { r.Reporter.Phone = "023-63861234" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testReport()
			tc.edit(&r)
			c, step, err := cases.New(r, testCategory(), testPlace, "case-9", "YZ-9", tc.actor, pol, now)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != cases.Reported || c.Version != 1 || c.Source != r.Source || c.Severity != sla.Normal {
				t.Fatalf("case %+v", c)
			}
			if c.Stage != cases.StageAccept || !c.Clock.Start.Equal(now) || !c.Clock.Due.Equal(now.Add(30*time.Minute)) || !c.Clock.Running() {
				t.Fatalf("accept clock: stage %s %+v", c.Stage, c.Clock)
			}
			if got := clockKeys(c); !slices.Equal(got, []string{"case:accept"}) {
				t.Errorf("running %v", got)
			}
			if step.Action != cases.ActReport || step.Seq != 1 || step.To != cases.Reported || step.CaseID != "case-9" || step.Role != tc.actor.Role {
				t.Errorf("step %+v", step)
			}
			if tc.actor.Role == cases.RoleSystem {
				if c.Reporter.AccountID != "" || c.Reporter.Name != "" {
					t.Errorf("the system reported as %+v", c.Reporter)
				}
			} else if c.Reporter.AccountID != tc.actor.AccountID || c.Reporter.Name != tc.actor.Name {
				t.Errorf("reporter %+v", c.Reporter)
			}
			if c.GridCode != gridCode || c.RegionPath != gridPath || c.CenterPath != streetPath || c.Board != "services" || c.Category != "road.pothole" {
				t.Errorf("placement %s %s %s %s", c.GridCode, c.RegionPath, c.CenterPath, c.Board)
			}
		})
	}
}

func TestNewDetails(t *testing.T) {
	now := at(10, 14, 0)

	t.Run("severity picks the accept limit", func(t *testing.T) {
		for sev, want := range map[sla.Severity]time.Duration{sla.Normal: 30 * time.Minute, sla.Urgent: 10 * time.Minute, sla.Critical: 5 * time.Minute} {
			r := testReport()
			r.Severity = sev
			c, _, err := cases.New(r, testCategory(), testPlace, "c", "n", gridWorker, pol, now)
			if err != nil || c.Severity != sev || !c.Clock.Due.Equal(now.Add(want)) {
				t.Errorf("%s: %v due %v", sev, err, c.Clock.Due)
			}
		}
	})

	t.Run("trims and keeps the given reporter", func(t *testing.T) {
		r := testReport()
		r.Description, r.Address = "  井盖缺失  ", "  较场口  "
		r.Reporter = cases.Reporter{AccountID: "acct-caller", Name: "来电人", Phone: "13812345678"}
		c, step, err := cases.New(r, testCategory(), testPlace, "c", "n", commander, pol, now)
		if err != nil {
			t.Fatal(err)
		}
		if c.Description != "井盖缺失" || step.Note != "井盖缺失" || c.Address != "较场口" || c.Reporter != r.Reporter {
			t.Errorf("description %q address %q reporter %+v", c.Description, c.Address, c.Reporter)
		}
	})

	t.Run("no grid", func(t *testing.T) {
		c, step, err := cases.New(testReport(), testCategory(), cases.Placement{RegionPath: streetPath, CenterPath: streetPath}, "c", "n", gridWorker, pol, now)
		if err != nil || c.GridCode != "" || step.Data["no_grid"] != true {
			t.Errorf("%v grid %q data %v", err, c.GridCode, step.Data)
		}
		c, step, _ = cases.New(testReport(), testCategory(), testPlace, "c", "n", gridWorker, pol, now)
		if step.Data != nil {
			t.Errorf("data %v", step.Data)
		}
	})

	t.Run("answers are normalised", func(t *testing.T) {
		r := testReport()
		r.Answers = map[string]any{"depth": " 12.5 ", "kind": "pit", "since": "2026-03-10T13:00:00+08:00", "hazards": "water", "plate": " 渝A12345 "}
		c, _, err := cases.New(r, questionCategory(), testPlace, "c", "n", gridWorker, pol, now)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"depth": 12.5, "kind": "pit", "since": "2026-03-10T05:00:00Z", "hazards": []string{"water"}, "plate": "渝A12345"}
		if !reflect.DeepEqual(c.Answers, want) {
			t.Errorf("answers %#v", c.Answers)
		}
	})

	t.Run("solved on the spot", func(t *testing.T) {
		for _, a := range []cases.Actor{gridWorker, gridChief} {
			r := testReport()
			r.OnSpot, r.Note = true, "  已当场清理  "
			cat := testCategory()
			cat.Level = "grid"
			c, step, err := cases.New(r, cat, testPlace, "c", "n", a, pol, now)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != cases.Closed || !c.OnSpot || !c.ClosedAt.Equal(now) || c.Stage != "" || !c.Clock.Start.IsZero() {
				t.Fatalf("case %s on spot %v closed %v stage %q", c.State, c.OnSpot, c.ClosedAt, c.Stage)
			}
			if step.Action != cases.ActSolvedOnSpot || step.To != cases.Closed || step.Note != "已当场清理" || len(step.Photos) != 1 {
				t.Fatalf("step %+v", step)
			}
			if len(c.RunningClocks()) != 0 || c.WasOverdue {
				t.Errorf("clocks %v", c.RunningClocks())
			}
			// Without a note, the description stands in the timeline.
			r.Note = ""
			_, step, _ = cases.New(r, cat, testPlace, "c", "n", a, pol, now)
			if step.Note != r.Description {
				t.Errorf("note %q", step.Note)
			}
			// The reporter may rate the case it closed.
			if _, _, err := cases.Apply(c, cases.Command{Action: cases.ActRate, Rating: cases.Satisfied}, a, pol, now.Add(time.Minute)); err != nil {
				t.Errorf("rate: %v", err)
			}
		}
	})
}

// TestOnSpotOwnGrid: a grid's people solve on the spot only what the grid or
// the community owns, and only inside their own grid (the grid chief: the
// community); anywhere else they report it.
func TestOnSpotOwnGrid(t *testing.T) {
	otherGrid := cases.Placement{GridCode: "500103014010099", RegionPath: communityPath + "500103014010099/", CenterPath: streetPath}
	otherStreet := cases.Placement{GridCode: "500103012001001", RegionPath: "/500000/500103/500103012/500103012001/500103012001001/", CenterPath: "/500000/500103/500103012/"}
	noGrid := cases.Placement{RegionPath: streetPath, CenterPath: streetPath}
	for _, tc := range []struct {
		name   string
		actor  cases.Actor
		level  string
		place  cases.Placement
		fields []string
	}{
		{"own grid, grid matter", gridWorker, "grid", testPlace, nil},
		{"own grid, community matter", gridWorker, "community", testPlace, nil},
		{"own grid, street matter", gridWorker, "street", testPlace, []string{"solved_on_spot"}},
		{"another grid of the community", gridWorker, "grid", otherGrid, []string{"point"}},
		{"another street", gridWorker, "grid", otherStreet, []string{"point"}},
		{"no grid", gridWorker, "grid", noGrid, []string{"point"}},
		{"chief, any grid of the community", gridChief, "grid", otherGrid, nil},
		{"chief, another street", gridChief, "grid", otherStreet, []string{"point"}},
		{"another street, street matter", gridWorker, "street", otherStreet, []string{"solved_on_spot", "point"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, cat := testReport(), testCategory()
			r.OnSpot, cat.Level = true, tc.level
			c, _, err := cases.New(r, cat, tc.place, "c", "n", tc.actor, pol, at(10, 14, 0))
			if tc.fields == nil {
				if err != nil || c.State != cases.Closed || !c.OnSpot {
					t.Fatalf("refused or not closed: %v %s", err, c.State)
				}
				return
			}
			wantField(t, err, tc.fields...)
			if got := fieldsOf(err); len(got) != len(tc.fields) {
				t.Errorf("fields %v, want %v", got, tc.fields)
			}
		})
	}
}

// TestNoControlCharacters: text no engine stores alike (a NUL byte, other
// control characters, invalid UTF-8) and an empty point (0, 0) are refused
// with the field named; tabs and line breaks are kept.
func TestNoControlCharacters(t *testing.T) {
	now := at(10, 14, 0)
	for _, tc := range []struct {
		name  string
		edit  func(r *cases.Report)
		field string
	}{
		{"NUL in description", func(r *cases.Report) { r.Description = "井盖\x00缺失" }, "description"},
		{"bell in address", func(r *cases.Report) { r.Address = "解放碑\a步行街" }, "address"},
		{"invalid UTF-8 in name", func(r *cases.Report) { r.Reporter.Name = "张\xff三" }, "reporter.name"},
		{"line break in address", func(r *cases.Report) { r.Address = "解放碑\n步行街" }, "address"},
		{"tab in name", func(r *cases.Report) { r.Reporter.Name = "张\t三" }, "reporter.name"},
		{"C1 control in description", func(r *cases.Report) { r.Description = "井盖\u0085缺失" }, "description"},
		{"DEL in note", func(r *cases.Report) { r.Note = "已处理\x7f" }, "note"},
		{"empty point", func(r *cases.Report) { r.Point = &geo.Point{} }, "point"},
	} {
		r := testReport()
		tc.edit(&r)
		_, _, err := cases.New(r, testCategory(), testPlace, "c", "n", gridWorker, pol, now)
		wantField(t, err, tc.field)
	}
	r := testReport()
	r.Description = "第一行\n第二行\t制表"
	if _, _, err := cases.New(r, testCategory(), testPlace, "c", "n", gridWorker, pol, now); err != nil {
		t.Errorf("line breaks and tabs: %v", err)
	}
	c, last := reach(t, cases.Handling)
	refused(t, c, cases.Command{Action: cases.ActHandle, Note: "进展\x00"}, leadUnit, last.Add(time.Minute), apperr.Invalid)
}
