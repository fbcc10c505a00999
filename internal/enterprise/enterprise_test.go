package enterprise

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

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

func goodEnterprise() Enterprise {
	return Enterprise{Name: "重庆某科技有限公司", CreditCode: "91350100M000100Y43", Address: "化龙桥企业天地2号楼", GridCode: "500103010001001",
		Building: "企业天地2号楼", Size: Small, Contacts: []Contact{{Name: "王经理", Phone: "13800000000"}}, LiaisonID: "a1", LeaderID: "a2", Active: true}
}

func TestEnterpriseValidate(t *testing.T) {
	if err := goodEnterprise().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		edit  func(*Enterprise)
		field []string
	}{
		{"no name", func(e *Enterprise) { e.Name = " " }, []string{"name"}},
		{"bad code", func(e *Enterprise) { e.CreditCode = "91350100M000100Y44" }, []string{"credit_code"}},
		{"no grid", func(e *Enterprise) { e.GridCode = "" }, []string{"grid_code"}},
		{"bad size", func(e *Enterprise) { e.Size = "huge" }, []string{"size"}},
		{"no contact", func(e *Enterprise) { e.Contacts = nil }, []string{"contacts"}},
		{"bad phone", func(e *Enterprise) { e.Contacts[0].Phone = "abc" }, []string{"contacts[0].phone"}},
		{"no levels", func(e *Enterprise) { e.LiaisonID, e.LeaderID = "", "" }, []string{"liaison_id", "leader_id"}},
		{"control char", func(e *Enterprise) { e.Address = "a\x00b" }, []string{"address"}},
		{"all at once", func(e *Enterprise) { e.Name, e.CreditCode, e.Address = "", "x", "" }, []string{"name", "credit_code", "address"}},
	}
	for _, c := range cases {
		e := goodEnterprise()
		e.Contacts = slices.Clone(e.Contacts)
		c.edit(&e)
		got := fields(e.Validate())
		if !slices.Equal(got, c.field) {
			t.Errorf("%s: fields %v, want %v", c.name, got, c.field)
		}
	}
}

func goodService() Service {
	return Service{Code: "G01", Name: "医保政策咨询", Color: Green, Category: "JJ02", UnitID: "yb",
		Limit: sla.Limit{Amount: 5, Unit: sla.WorkDays}, Active: true,
		Questions: []cases.Question{{Code: "staff", Prompt: "参保职工人数", Type: cases.QNumber, Required: true, Order: 1},
			{Code: "topic", Prompt: "关注内容", Type: cases.QSingle, Order: 2, Choices: []cases.Choice{{Key: "outpatient", Name: "门诊共济"}}}}}
}

func TestServiceValidateAndAnswer(t *testing.T) {
	if err := goodService().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name  string
		edit  func(*Service)
		field []string
	}{
		{"colour", func(s *Service) { s.Color = "purple" }, []string{"color"}},
		{"code", func(s *Service) { s.Code = "a b" }, []string{"code"}},
		{"limit", func(s *Service) { s.Limit = sla.Limit{} }, []string{"limit"}},
		{"unit and category", func(s *Service) { s.UnitID, s.Category = "", "" }, []string{"category", "unit_id"}},
		{"question", func(s *Service) { s.Questions = []cases.Question{{Code: "q", Prompt: "x", Type: cases.QSingle}} }, []string{"questions[0].choices"}},
	}
	for _, c := range bad {
		s := goodService()
		c.edit(&s)
		if got := fields(s.Validate()); !slices.Equal(got, c.field) {
			t.Errorf("%s: %v, want %v", c.name, got, c.field)
		}
	}
	s := goodService()
	if _, err := s.Answer(map[string]any{}); !slices.Equal(fields(err), []string{"answers.staff"}) {
		t.Errorf("missing required: %v", err)
	}
	if _, err := s.Answer(map[string]any{"staff": "12", "nope": "x"}); !slices.Equal(fields(err), []string{"answers.nope"}) {
		t.Errorf("unknown: %v", err)
	}
	a, err := s.Answer(map[string]any{"staff": "12", "topic": "outpatient"})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Describe("某公司", "门诊共济改革对我们有什么影响？", a)
	for _, want := range []string{"【绿色政务·医保政策咨询】某公司", "参保职工人数：12", "关注内容：门诊共济"} {
		if !strings.Contains(d, want) {
			t.Errorf("description %q lacks %q", d, want)
		}
	}
}

func TestRequestFollowUp(t *testing.T) {
	cal := calendar.Default()
	loc := cal.Location()
	// Monday 2026-11-30 09:00: contact within 4 working hours → 13:00 or
	// later (the lunch break, if any, pushes it further).
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, loc)
	svc := goodService()
	r := Open(Request{LiaisonID: "li", LeaderID: "le"}, &svc, cal, sla.Limit{}, now)
	if r.Service != "G01" || r.Color != Green || r.UnitID != "yb" || r.Contact.Limit != DefaultContactLimit || r.Answer.Limit != svc.Limit {
		t.Fatalf("open: %+v", r)
	}
	if !r.Contact.Due.After(now.Add(4*time.Hour - time.Minute)) {
		t.Errorf("contact due %v", r.Contact.Due)
	}
	if _, ok := Due(r, now.Add(time.Hour)); ok {
		t.Error("escalated within the limit")
	}
	// Nobody called: past the contact limit it goes to the leader, once.
	late := r.Contact.Due.Add(time.Minute)
	why, ok := Due(r, late)
	if !ok || !strings.Contains(why, "联络员") {
		t.Fatalf("due %q %v", why, ok)
	}
	e := Escalate(r, why, late)
	if _, ok := Due(e, late.Add(time.Hour*100)); ok {
		t.Error("escalated twice")
	}
	if e.Notes[0].Kind != NoteEscalate || e.Stage(cases.Handling) != "已提级街道领导" {
		t.Errorf("escalated request: %+v", e)
	}
	// The liaison contacts in time: no escalation until the answer limit.
	if _, err := ContactBy(r, "le", "领导", "已电话联系", now); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("leader contacted as liaison: %v", err)
	}
	if _, err := ContactBy(r, "li", "联络员", " ", now); !slices.Equal(fields(err), []string{"text"}) {
		t.Errorf("empty contact: %v", err)
	}
	c, err := ContactBy(r, "li", "联络员", "已电话联系王经理", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Contact.Status(late) != sla.Done || c.Stage(cases.Dispatched) != "办理中" {
		t.Errorf("contacted: %v %s", c.Contact.Status(late), c.Stage(cases.Dispatched))
	}
	if _, err := ContactBy(c, "li", "联络员", "again", now); !apperr.Is(err, apperr.Refused) {
		t.Errorf("contacted twice: %v", err)
	}
	if _, ok := Due(c, late); ok {
		t.Error("contacted request escalated for contact")
	}
	why, ok = Due(c, c.Answer.Due.Add(time.Minute))
	if !ok || !strings.Contains(why, "办理时限") {
		t.Errorf("unanswered past the limit: %q %v", why, ok)
	}
	a := Answered(c, now.Add(2*time.Hour))
	if _, ok := Due(a, a.Answer.Due.Add(time.Hour)); ok {
		t.Error("answered request escalated")
	}
	if Answered(a, now.Add(5*time.Hour)).AnsweredAt != a.AnsweredAt {
		t.Error("answered twice")
	}
}

func TestQuestionsAndAnswers(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r := Request{LiaisonID: "li"}
	if _, err := Ask(r, LevelEnterprise, "x", "x", "q", now); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("enterprise asked itself: %v", err)
	}
	r, err := Ask(r, LevelLiaison, "li", "联络员", "请提供参保人数", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pending()) != 1 {
		t.Fatal("pending")
	}
	if _, err := Reply(r, LevelLiaison, "li", "x", 1, "a", now); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("liaison answered: %v", err)
	}
	if _, err := Reply(r, LevelEnterprise, "e", "x", 9, "a", now); !slices.Equal(fields(err), []string{"question"}) {
		t.Errorf("unknown question: %v", err)
	}
	r, err = Reply(r, LevelEnterprise, "e", "王经理", 1, "56人", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pending()) != 0 || r.Notes[1].Reply != 1 {
		t.Errorf("answered: %+v", r.Notes)
	}
	if _, err := Reply(r, LevelEnterprise, "e", "王经理", 1, "again", now); !slices.Equal(fields(err), []string{"question"}) {
		t.Errorf("answered twice: %v", err)
	}
}

func TestLevelOf(t *testing.T) {
	e := Enterprise{LiaisonID: "li", LeaderID: "le"}
	for _, c := range []struct {
		id     string
		member bool
		want   Level
	}{{"x", true, LevelEnterprise}, {"li", false, LevelLiaison}, {"le", false, LevelLeader}, {"x", false, LevelNone}, {"", false, LevelNone}} {
		if got := LevelOf(e, c.id, c.member); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.id, c.member, got, c.want)
		}
	}
}

func TestClass(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 30, 0, 0, time.UTC)
	c := Class{Topic: "医保门诊共济改革政策解读", Building: "企业天地2号楼", At: at, Minutes: 90, Speakers: []string{"渝中区医疗保障局"}, Invited: []string{"e1", "e2"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.Topic, bad.Minutes, bad.Speakers = "", 5, nil
	if got := fields(bad.Validate()); !slices.Equal(got, []string{"topic", "minutes", "speakers"}) {
		t.Errorf("bad class: %v", got)
	}
	for _, s := range []struct {
		ent  string
		at   time.Time
		want string
	}{
		{"e1", at.Add(-2 * time.Hour), "签到尚未开始（开课前1小时开放）"},
		{"e1", at.Add(-30 * time.Minute), ""},
		{"e2", at.Add(80 * time.Minute), ""},
		{"e1", at.Add(91 * time.Minute), "课堂已结束，不能签到"},
		{"e3", at, "本企业不在受邀名单中"},
	} {
		if got := c.CanSignIn(s.ent, s.at); got != s.want {
			t.Errorf("%s at %v: %q, want %q", s.ent, s.at, got, s.want)
		}
	}
	c2, err := Raise(c, "e1", "某公司", "门诊报销比例如何变化？", at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Raise(c, "e1", "某公司", "", at); err == nil {
		t.Error("empty question raised")
	}
	c3, q, err := Promote(c2, 1, "r1")
	if err != nil || q.RequestID != "r1" || c2.Questions[0].RequestID != "" {
		t.Fatalf("promote: %v %+v", err, q)
	}
	if _, _, err := Promote(c3, 1, "r2"); err == nil {
		t.Error("promoted twice")
	}
	if _, _, err := Promote(c3, 7, "r2"); err == nil {
		t.Error("promoted a missing question")
	}
}

func TestReadCSV(t *testing.T) {
	in := "\ufeff企业名称,统一社会信用代码,地址,网格编码,楼宇,行业,规模,联系人,联系电话,联络员账号,街道领导账号,重点企业\n" +
		"甲公司,91350100m000100y43,企业天地1号楼,g1,1号楼,软件,小型,张三,13800000000,li,le,是\n" +
		",91350100M000100Y44,,g1,1号楼,软件,巨型,张三,abc,li,le,也许\n" +
		"乙公司,91350100M000100Y43,企业天地2号楼,g1,2号楼,软件,,李四,13800000001,li,le,\n"
	rows, probs := ReadCSV(strings.NewReader(in))
	if len(rows) != 3 || rows[0].Enterprise.CreditCode != "91350100M000100Y43" || !rows[0].Enterprise.Key || rows[0].Liaison != "li" {
		t.Fatalf("rows %+v", rows)
	}
	var line3 []string
	for _, p := range probs {
		if p.Line == 3 {
			line3 = append(line3, p.Field)
		}
	}
	want := []string{"规模", "重点企业", "企业名称", "统一社会信用代码", "地址", "联系电话"}
	if !slices.Equal(line3, want) {
		t.Errorf("line 3 problems %v, want %v (all: %v)", line3, want, probs)
	}
	if last := probs[len(probs)-1]; last.Line != 4 || !strings.Contains(last.Reason, "与第2行重复") {
		t.Errorf("duplicate: %+v", last)
	}
	_, probs = ReadCSV(strings.NewReader("企业名称,地址\n甲,乙\n"))
	if len(probs) == 0 || probs[0].Line != 0 {
		t.Errorf("missing columns: %v", probs)
	}
	if _, probs := ReadCSV(strings.NewReader("企业名称,统一社会信用代码,地址,网格编码,联系人,联系电话,联络员账号,街道领导账号\n")); len(probs) != 1 || probs[0].Reason != "文件中没有企业" {
		t.Errorf("no rows: %v", probs)
	}
	_, probs = ReadCSV(strings.NewReader(""))
	if len(probs) != 1 {
		t.Errorf("empty: %v", probs)
	}
}
