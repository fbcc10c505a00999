package leaders

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

var sh = calendar.Shanghai()

func day(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, sh) }

// fields returns the field names of an invalid error, or nil.
func fields(err error) []string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestPairingValidate(t *testing.T) {
	ok := Pairing{LeaderID: "l1", Kind: TargetStreet, Target: "500103014", From: day(2026, 1, 1, 0), To: day(2027, 1, 1, 0)}
	for _, tc := range []struct {
		name  string
		edit  func(*Pairing)
		field string
	}{
		{"good", func(*Pairing) {}, ""},
		{"no leader", func(p *Pairing) { p.LeaderID = "" }, "leader_id"},
		{"bad kind", func(p *Pairing) { p.Kind = "school" }, "kind"},
		{"no target", func(p *Pairing) { p.Target = "  " }, "target"},
		{"enterprise without name", func(p *Pairing) { p.Kind = TargetEnterprise }, "target_name"},
		{"period backwards", func(p *Pairing) { p.To = p.From.AddDate(0, 0, -1) }, "to"},
		{"no start", func(p *Pairing) { p.From = time.Time{} }, "from"},
		{"control char", func(p *Pairing) { p.Note = "a\x00b" }, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			got := fields(p.Validate())
			if tc.field == "" && got != nil || tc.field != "" && !slices.Contains(got, tc.field) {
				t.Fatalf("fields %v, want %q", got, tc.field)
			}
		})
	}
	if !ok.ActiveAt(day(2026, 6, 1, 0)) || ok.ActiveAt(day(2027, 1, 1, 0)) {
		t.Fatal("ActiveAt: the period is [from, to)")
	}
}

func TestVisitValidate(t *testing.T) {
	now := day(2026, 5, 10, 15)
	pt := &geo.Point{Lng: 106.55, Lat: 29.55}
	ok := Visit{LeaderID: "l1", At: now.Add(-time.Hour), Place: Place{Point: pt},
		Problems: []Problem{{Category: "road", Description: "路面破损"}}}
	for _, tc := range []struct {
		name  string
		edit  func(*Visit)
		field string
	}{
		{"good", func(*Visit) {}, ""},
		{"no problems is a visit too", func(v *Visit) { v.Problems = nil }, ""},
		{"future", func(v *Visit) { v.At = now.Add(time.Hour) }, "at"},
		{"too old", func(v *Visit) { v.At = now.AddDate(-2, 0, 0) }, "at"},
		{"no place", func(v *Visit) { v.Place = Place{} }, "place"},
		{"bad point", func(v *Visit) { v.Place.Point = &geo.Point{} }, "place.point"},
		{"problem without category", func(v *Visit) { v.Problems = []Problem{{Description: "x"}} }, "problems[0].category"},
		{"problem without words", func(v *Visit) { v.Problems = []Problem{{Category: "road"}} }, "problems[0].description"},
		{"bad severity", func(v *Visit) { v.Problems = []Problem{{Category: "r", Description: "d", Severity: "huge"}} }, "problems[0].severity"},
		{"blank attendee", func(v *Visit) { v.Attendees = []string{"张三", " "} }, "attendees[1]"},
		{"too many problems", func(v *Visit) { v.Problems = make([]Problem, MaxProblems+1) }, "problems"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := ok
			v.Problems = slices.Clone(ok.Problems)
			tc.edit(&v)
			got := fields(v.Validate(now))
			if tc.field == "" && got != nil || tc.field != "" && !slices.Contains(got, tc.field) {
				t.Fatalf("fields %v, want %q", got, tc.field)
			}
		})
	}
	v := ok
	v.LeaderName = "王区长"
	v.Place.Address = "菜袁路107号"
	r := v.Report(0)
	if r.Source != cases.SourceVisit || r.Reporter.AccountID != "l1" || r.Reporter.Name != "王区长" || r.Point != pt || r.Address != "菜袁路107号" {
		t.Fatalf("report %+v", r)
	}
}

func TestListValidate(t *testing.T) {
	ok := List{Name: "五月每月一题", Kind: ListMonthly, OwnerID: "l1", Topic: "楼道杂物", From: day(2026, 5, 1, 0), To: day(2026, 6, 1, 0)}
	for _, tc := range []struct {
		name  string
		edit  func(*List)
		field string
	}{
		{"good", func(*List) {}, ""},
		{"no name", func(l *List) { l.Name = "" }, "name"},
		{"bad kind", func(l *List) { l.Kind = "wish" }, "kind"},
		{"monthly without topic", func(l *List) { l.Topic = "" }, "topic"},
		{"monthly over a month", func(l *List) { l.To = day(2026, 8, 1, 0) }, "to"},
		{"no owner", func(l *List) { l.OwnerID = "" }, "owner_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := ok
			tc.edit(&l)
			got := fields(l.Validate())
			if tc.field == "" && got != nil || tc.field != "" && !slices.Contains(got, tc.field) {
				t.Fatalf("fields %v, want %q", got, tc.field)
			}
		})
	}
}

// Milestone clocks run on the official calendar: three working days from
// the eve of the National Day holiday end after the holiday, not on 3
// October.
func TestMilestoneClocksOnTheOfficialCalendar(t *testing.T) {
	cal := calendar.Default()
	start := day(2026, 9, 30, 9) // Wednesday; 1–7 October are holidays in 2026
	p, err := NewProject(Project{Name: "菜袁路107、109号新风系统整治", Goal: "消除火灾隐患", LeadUnit: "u1"},
		[]MilestoneInput{
			{"入户调查", sla.Limit{Amount: 3, Unit: sla.WorkDays}},
			{"居民议事会", sla.Limit{Amount: 2, Unit: sla.WorkDays}},
		}, cal, start)
	if err != nil {
		t.Fatal(err)
	}
	m1, m2 := p.Milestones[0], p.Milestones[1]
	if !m1.Clock.Due.After(day(2026, 10, 8, 0)) {
		t.Fatalf("first milestone due %v: the holiday must not count", m1.Clock.Due)
	}
	if !m2.Clock.Start.Equal(m1.Clock.Due) || !m2.Clock.Due.After(m1.Clock.Due) {
		t.Fatalf("second milestone runs from the first's due: %v → %v", m2.Clock.Start, m2.Clock.Due)
	}
	// Wall-clock arithmetic would be wrong: 3 days after 30 September.
	if m1.Clock.Due.Before(start.AddDate(0, 0, 4)) {
		t.Fatal("due computed in natural days")
	}
	// Met on time, then late.
	p2, err := p.MeetMilestone(1, "已完成入户调查", nil, "u1", m1.Clock.Due.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st := p2.Milestones[0].Clock.Status(m1.Clock.Due.Add(time.Hour)); st != sla.Done {
		t.Fatalf("met on time: %s", st)
	}
	late := m2.Clock.Due.Add(24 * time.Hour)
	if p2.Late(late) != 1 {
		t.Fatalf("late milestones %d, want 1 (the second, still open past due)", p2.Late(late))
	}
	if _, err := p2.Verify("l1", "验收合格", late); err == nil {
		t.Fatal("verified with a milestone open")
	}
	p3, err := p2.MeetMilestone(2, "议事会已召开", nil, "u1", late)
	if err != nil {
		t.Fatal(err)
	}
	if st := p3.Milestones[1].Clock.Status(late); st != sla.DoneLate {
		t.Fatalf("met late: %s", st)
	}
	early, err := p.MeetMilestone(2, "提前完成", nil, "u1", start)
	if err != nil || early.Milestones[1].Clock.Status(late) != sla.Done {
		t.Fatalf("a milestone met before its planned start: %v", err)
	}
	if _, err := p3.MeetMilestone(2, "again", nil, "u1", late); err == nil {
		t.Fatal("a met milestone met again")
	}
	if _, err := p3.Verify("l1", "", late); !slices.Contains(fields(err), "verdict") {
		t.Fatalf("verify without verdict: %v", err)
	}
	p4, err := p3.Verify("l1", "验收合格", late)
	if err != nil || p4.State != ProjectClosed || p4.ClosedAt.IsZero() {
		t.Fatalf("verify: %v %+v", err, p4)
	}
	if _, err := p4.MeetMilestone(1, "x", nil, "u1", late); err == nil {
		t.Fatal("a closed project changed")
	}
}

func TestNewProjectRefuses(t *testing.T) {
	cal := calendar.Default()
	now := day(2026, 5, 11, 9)
	good := []MilestoneInput{{"方案", sla.Limit{Amount: 5, Unit: sla.WorkDays}}}
	for _, tc := range []struct {
		name  string
		p     Project
		ms    []MilestoneInput
		field string
	}{
		{"no name", Project{Goal: "g", LeadUnit: "u"}, good, "name"},
		{"no goal", Project{Name: "n", LeadUnit: "u"}, good, "goal"},
		{"no lead", Project{Name: "n", Goal: "g"}, good, "lead_unit"},
		{"co repeats lead", Project{Name: "n", Goal: "g", LeadUnit: "u", CoUnits: []string{"u"}}, good, "co_units[0]"},
		{"no milestones", Project{Name: "n", Goal: "g", LeadUnit: "u"}, nil, "milestones"},
		{"milestone without title", Project{Name: "n", Goal: "g", LeadUnit: "u"}, []MilestoneInput{{"", sla.Limit{Amount: 1, Unit: sla.Days}}}, "milestones[0].title"},
		{"milestone bad limit", Project{Name: "n", Goal: "g", LeadUnit: "u"}, []MilestoneInput{{"t", sla.Limit{Amount: 0, Unit: sla.Days}}}, "milestones[0].limit.amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewProject(tc.p, tc.ms, cal, now)
			if !slices.Contains(fields(err), tc.field) {
				t.Fatalf("fields %v, want %q", fields(err), tc.field)
			}
		})
	}
	if _, err := (Project{State: ProjectOpen, Milestones: []Milestone{{Seq: 1}}}).MeetMilestone(1, "", nil, "u", now); !slices.Contains(fields(err), "evidence") {
		t.Fatal("a milestone met without evidence")
	}
	if _, err := (Project{State: ProjectOpen, Milestones: []Milestone{{Seq: 1}}}).MeetMilestone(7, "e", nil, "u", now); !slices.Contains(fields(err), "seq") {
		t.Fatal("an unknown milestone met")
	}
}

// A supervised case's clock: started on the calendar at the supervision,
// stopped at the case's close, late when the case closed past the due.
func TestSupervisionClock(t *testing.T) {
	cal := calendar.Default()
	at := day(2026, 4, 30, 16) // Thursday before the May Day holiday (1–5 May)
	s, err := NewSupervision(Supervision{CaseID: "c1", SupervisorID: "l1", Note: "三日内办结", Limit: sla.Limit{Amount: 3, Unit: sla.WorkDays}}, cal, at)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Clock.Due.After(day(2026, 5, 6, 0)) {
		t.Fatalf("due %v counts holiday days", s.Clock.Due)
	}
	open := &cases.Case{State: cases.Handling}
	if st := s.ClockFor(open).Status(day(2026, 5, 5, 12)); st != sla.Green && st != sla.Yellow {
		t.Fatalf("during the holiday the clock is still %s", st)
	}
	if st := s.ClockFor(open).Status(s.Clock.Due.Add(time.Minute)); st != sla.Red {
		t.Fatalf("past due: %s", st)
	}
	onTime := &cases.Case{State: cases.Closed, ClosedAt: s.Clock.Due.Add(-time.Hour)}
	if st := s.ClockFor(onTime).Status(s.Clock.Due.Add(48 * time.Hour)); st != sla.Done {
		t.Fatalf("closed on time: %s", st)
	}
	late := &cases.Case{State: cases.Closed, ClosedAt: s.Clock.Due.Add(time.Hour)}
	if st := s.ClockFor(late).Status(s.Clock.Due.Add(48 * time.Hour)); st != sla.DoneLate {
		t.Fatalf("closed late: %s", st)
	}
	for _, tc := range []struct {
		in    Supervision
		field string
	}{
		{Supervision{CaseID: "c", Limit: sla.Limit{Amount: 1, Unit: sla.Days}}, "note"},
		{Supervision{CaseID: "c", Note: "n"}, "limit.amount"},
		{Supervision{Note: "n", Limit: sla.Limit{Amount: 1, Unit: sla.Days}}, "case_id"},
	} {
		if _, err := NewSupervision(tc.in, cal, at); !slices.Contains(fields(err), tc.field) {
			t.Fatalf("%+v: fields %v, want %q", tc.in, fields(err), tc.field)
		}
	}
}

func TestCanSeeAndSteers(t *testing.T) {
	district := "/500000/500103/"
	street := "/500000/500103/500103014/"
	other := "/500000/500103/500103001/"
	for _, tc := range []struct {
		a           cases.Actor
		path, owner string
		see, steer  bool
	}{
		{cases.Actor{Role: cases.RoleLeader, RegionPath: district, AccountID: "l1"}, street, "x", true, true},
		{cases.Actor{Role: cases.RoleLeader, RegionPath: other, AccountID: "l2"}, street, "x", false, false},
		{cases.Actor{Role: cases.RoleLeader, RegionPath: other, AccountID: "l2"}, street, "l2", true, false},
		{cases.Actor{Role: cases.RoleCommander, RegionPath: street}, street, "", true, true},
		{cases.Actor{Role: cases.RoleAdmin, RegionPath: district}, street, "", true, false},
		{cases.Actor{Role: cases.RoleGridWorker, RegionPath: street}, street, "", false, false},
		{cases.Actor{Role: cases.RoleResident, AccountID: "r"}, street, "", false, false},
	} {
		if got := CanSee(tc.a, tc.path, tc.owner); got != tc.see {
			t.Errorf("CanSee(%v, %s) = %v", tc.a, tc.path, got)
		}
		if got := Steers(tc.a, tc.path); got != tc.steer {
			t.Errorf("Steers(%v, %s) = %v", tc.a, tc.path, got)
		}
	}
}

func TestTrainingValidate(t *testing.T) {
	at := day(2026, 5, 12, 9)
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"course good", (&Course{Title: "数字化转型专题培训", Topic: "数字化转型", Hours: 8}).Validate(), ""},
		{"course no topic", (&Course{Title: "t", Hours: 8}).Validate(), "topic"},
		{"course hours", (&Course{Title: "t", Topic: "x", Hours: 0}).Validate(), "hours"},
		{"session good", (&Session{CourseID: "c", At: at, Place: "红色三岩学院", Trainers: []string{"张教授"}, Attendees: []string{"a", "b"}}).Validate(), ""},
		{"session repeats", (&Session{CourseID: "c", At: at, Place: "p", Trainers: []string{"张"}, Attendees: []string{"a", "a"}}).Validate(), "attendees[1]"},
		{"session no trainer", (&Session{CourseID: "c", At: at, Place: "p", Attendees: []string{"a"}}).Validate(), "trainers"},
		{"session no place", (&Session{CourseID: "c", At: at, Trainers: []string{"张"}, Attendees: []string{"a"}}).Validate(), "place"},
		{"posting good", (&Posting{CadreID: "a", Post: "新影村社区第一书记", From: at, To: at.AddDate(1, 0, 0)}).Validate(), ""},
		{"posting backwards", (&Posting{CadreID: "a", Post: "p", From: at, To: at.AddDate(0, -1, 0)}).Validate(), "to"},
		{"posting no post", (&Posting{CadreID: "a", From: at, To: at.AddDate(1, 0, 0)}).Validate(), "post"},
	} {
		got := fields(tc.err)
		if tc.field == "" && got != nil || tc.field != "" && !slices.Contains(got, tc.field) {
			t.Errorf("%s: fields %v, want %q", tc.name, got, tc.field)
		}
	}
}

func TestSecretaryValidateAndOnBehalf(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Secretary
		want string
	}{
		{"ok", Secretary{LeaderID: "l", SecretaryID: "s"}, ""},
		{"no leader", Secretary{SecretaryID: "s"}, "leader_id"},
		{"no secretary", Secretary{LeaderID: "l"}, "secretary_id"},
		{"self", Secretary{LeaderID: "l", SecretaryID: "l"}, "secretary_id"},
	} {
		err := tc.s.Validate()
		if got := strings.Join(fields(err), ","); got != tc.want {
			t.Errorf("%s: fields %q, want %q (%v)", tc.name, got, tc.want, err)
		}
	}
	for _, tc := range []struct {
		v    Visit
		want string
	}{
		{Visit{LeaderID: "l", LeaderName: "刘区长", RecordedBy: "l", Recorder: "刘区长"}, ""},
		{Visit{LeaderID: "l", LeaderName: "刘区长", RecordedBy: "s", Recorder: "王秘书"}, "由秘书 王秘书 代 刘区长 录入"},
		{Visit{LeaderID: "l", LeaderName: "刘区长"}, ""},
	} {
		if got := tc.v.OnBehalf(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.v, got, tc.want)
		}
	}
}
