package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// Joint cases tell the truth (issue 12), through the console without
// JavaScript: S1's case with market supervision (scjg) and fire (xf) as
// co-units of the 平安法治 post.

// s1Joint reports an S1-like case and dispatches it to the post with
// market supervision and fire as co-units; the post signs and feeds back.
func s1Joint(t *testing.T, desc string) cases.Case {
	t.Helper()
	cs := reportS1(t, desc)
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-pa-a", Co: []string{"scjg", "xf"}})
	actOn(t, "syl_pa_a", cs.ID, cases.Command{Action: cases.ActSign})
	return actOn(t, "syl_pa_a", cs.ID, cases.Command{Action: cases.ActFeedback, Note: "已责令商铺停用醇基燃料灶具"})
}

// reportS1 reports a hazardous-fuel case (AQ01, with its questions) in
// 周春燕's grid.
func reportS1(t *testing.T, desc string) cases.Case {
	t.Helper()
	p := gridPoint(t, "zhouchunyan")
	cs, err := plat.Service.Report(context.Background(), actor(t, "zhouchunyan"), cases.Report{
		Source: cases.SourcePatrol, Category: "AQ01", Description: desc, Point: &p, Address: "新影村社区石油路某餐饮店",
		Answers: map[string]any{"shop": "某餐饮店", "equipment": "alcohol_stove", "quantity": "3"},
	})
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return cs
}

// act posts one action form of the case page.
func act(c *client, caseID string, form url.Values) response {
	c.get("/cases/" + caseID) // the form's CSRF token and version
	form.Set("version", strconv.Itoa(caseByID(c.t, caseID).Version))
	return c.post("/cases/"+caseID+"/act", form)
}

// queueRow is the row of a case in a unit queue (inbox, workbench).
func queueRow(t *testing.T, body, caseID string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr data-id="` + caseID + `"[^>]*>.*?</tr>`).FindString(body)
	if m == "" {
		t.Fatalf("no row for %s in %s", caseID, excerpt(body))
	}
	return m
}

// taskRow is a unit's row in the case page's 承办单位 table.
func taskRow(t *testing.T, body, unitName string) string {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?s)<tr class="task-[a-z_]+">.*?</tr>`).FindAllString(body, -1) {
		if strings.Contains(m, unitName) {
			return m
		}
	}
	t.Fatalf("no task row for %s", unitName)
	return ""
}

func TestJointCaseCoUnitsFinishTheirOwn(t *testing.T) {
	cs := s1Joint(t, "联办测试：商铺醇基燃料，市场监管和消防协办")
	if cs.State != cases.FedBack {
		t.Fatalf("state %s", cs.State)
	}

	// The case waits for verification: its headline is the verify clock,
	// not a co-unit's sign clock.
	cmd := signIn(t, "syl_zhihui")
	page := cmd.get("/cases/" + cs.ID)
	expect(t, page, http.StatusOK, "核查时限")
	if strings.Contains(page.body, "签收时限</small>") {
		t.Errorf("the headline shows a unit's sign clock: %s", excerpt(page.body))
	}

	// The lead fed back: its inbox row has no countdown and is not red for
	// the co-units' clocks or the center's.
	lead := queueRow(t, signIn(t, "syl_pa_a").get("/inbox").body, cs.ID)
	if !strings.Contains(lead, `class="r-none"`) || !strings.Contains(lead, "已反馈") || strings.Contains(lead, "data-due") {
		t.Errorf("lead's row: %s", lead)
	}
	// A co-unit sees its own sign clock.
	scjg := signIn(t, "scjg_staff")
	row := queueRow(t, scjg.get("/inbox").body, cs.ID)
	if !strings.Contains(row, "待签收") || !strings.Contains(row, "协办") || !strings.Contains(row, "<small>签收</small>") {
		t.Errorf("co-unit's row: %s", row)
	}

	// Market supervision signs, reports progress and feeds back on the case
	// page while the case waits for verification.
	for _, f := range []url.Values{
		{"action": {"sign"}},
		{"action": {"handle"}, "note": {"已核查商铺经营资质"}},
		{"action": {"feedback"}, "note": {"已责令整改，经营资质无误"}},
	} {
		if r := act(scjg, cs.ID, f); r.status != http.StatusSeeOther {
			t.Fatalf("%s by scjg: %d %s", f.Get("action"), r.status, excerpt(r.body))
		}
	}
	if got := caseByID(t, cs.ID); got.State != cases.FedBack || got.Tasks[1].State != cases.TaskFedBack {
		t.Fatalf("after scjg: %s %+v", got.State, got.Tasks[1])
	}

	// Fire has not signed: the grid worker's passing verification would
	// close over it, and is refused with the reason.
	worker := signIn(t, "zhouchunyan")
	r := act(worker, cs.ID, url.Values{"action": {"verify"}, "passed": {"yes"}, "note": {"现场已整改"}})
	expect(t, r, http.StatusConflict, "尚有1个协办单位未反馈")
	// The center must say why it closes over it.
	r = act(cmd, cs.ID, url.Values{"action": {"close"}})
	expect(t, r, http.StatusBadRequest, "请说明结案理由")
	r = act(cmd, cs.ID, url.Values{"action": {"close"}, "note": {"消防逾期未签收，隐患已由主办消除"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("close with a note: %d %s", r.status, excerpt(r.body))
	}

	// Every page tells the truth: fire's task is 未完成, never 按期完成, and
	// no sign time; market supervision's is 已办结.
	page = cmd.get("/cases/" + cs.ID)
	expect(t, page, http.StatusOK, "已结案", "结案时未反馈，任务记为未完成：区消防救援支队")
	xf := taskRow(t, page.body, "区消防救援支队")
	if !strings.Contains(xf, "未完成") || strings.Contains(xf, "按期完成") || strings.Contains(xf, "签收</small>") || !strings.Contains(xf, "未签收（限") {
		t.Errorf("fire's task row: %s", xf)
	}
	if sc := taskRow(t, page.body, "区市场监管局"); !strings.Contains(sc, "已办结") || !strings.Contains(sc, "签收</small>") {
		t.Errorf("market supervision's task row: %s", sc)
	}
	got := caseByID(t, cs.ID)
	if tk := got.Tasks[2]; tk.UnitID != "xf" || tk.State != cases.TaskUnfinished || !tk.SignedAt.IsZero() {
		t.Errorf("fire's task %+v", tk)
	}
	// After the close nobody signs or feeds back.
	r = act(signIn(t, "xf_staff"), cs.ID, url.Values{"action": {"sign"}})
	expect(t, r, http.StatusConflict, "已结案")
}

// TestInboxSummonsOnly: a unit summoned only by a whistle sees the case as
// 吹哨报到 with its report-in countdown, not as 协办 with the center's clock.
func TestInboxSummonsOnly(t *testing.T) {
	cs := reportS1(t, "联办测试：只被吹哨召集的单位")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-pa-a"})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActWhistle, Note: "吹哨应急管理到场",
		Parties: []cases.PartyRef{{UnitID: "yj"}}})
	yj := signIn(t, "yj_staff")
	row := queueRow(t, yj.get("/inbox").body, cs.ID)
	if !strings.Contains(row, "吹哨报到") || !strings.Contains(row, "待报到") || !strings.Contains(row, "<small>报到</small>") ||
		strings.Contains(row, "协办") || strings.Contains(row, "签收") {
		t.Errorf("summoned unit's row: %s", row)
	}
	got := caseByID(t, cs.ID)
	due := got.Whistles[0].Parties[0].ReportIn.Due
	if !strings.Contains(row, `data-due="`+strconv.FormatInt(due.UnixMilli(), 10)+`"`) {
		t.Errorf("the row's countdown is not the report-in clock (due %v): %s", due, row)
	}
	// Reported in: no countdown of someone else's.
	actOn(t, "yj_staff", cs.ID, cases.Command{Action: cases.ActReportIn})
	row = queueRow(t, yj.get("/inbox").body, cs.ID)
	if !strings.Contains(row, "已报到") || strings.Contains(row, "data-due") || !strings.Contains(row, `class="r-none"`) {
		t.Errorf("after report-in: %s", row)
	}
}

// TestMeetingFromWhistle: the meeting form starts from the whistle with its
// units ticked, takes several decisions (empty rows skipped, a partial row
// named), and the timeline says which unit got which rating.
func TestMeetingFromWhistle(t *testing.T) {
	cs := reportS1(t, "联办测试：调度会从吹哨发起")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-pa-a"})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActWhistle, Note: "吹哨应急、市场监管、消防",
		Parties: []cases.PartyRef{{UnitID: "yj"}, {UnitID: "scjg"}, {UnitID: "xf"}}})
	cmd := signIn(t, "syl_zhihui")
	page := cmd.get("/cases/" + cs.ID + "?meeting=w1")
	expect(t, page, http.StatusOK, `href="/cases/`+cs.ID+`?meeting=w1#act-meeting"`, `<option value="w1" selected>`)
	form := regexp.MustCompile(`(?s)<details class="action[^"]*" id="act-meeting"[^>]*>.*?</details>`).FindString(page.body)
	if !strings.Contains(form, `id="act-meeting"  open`) && !strings.Contains(form, " open>") {
		t.Errorf("the meeting form is not open: %.300s", form)
	}
	for _, u := range []string{"yj", "scjg", "xf"} {
		if !strings.Contains(form, `name="meeting_units" value="`+u+`" checked`) {
			t.Errorf("%s not ticked", u)
		}
	}
	if n := strings.Count(form, `name="decision_text"`); n < 3 {
		t.Errorf("%d decision rows", n)
	}
	due := plat.Service.Now().Add(48 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04")
	base := url.Values{"action": {"meeting"}, "whistle_id": {"w1"}, "meeting_kind": {"dispatch"}, "meeting_place": {"商铺现场"},
		"meeting_shown": {"宣读危化品管理告知书"}}
	// A partial second row is named.
	bad := cloneForm(base)
	bad["decision_text"] = []string{"48小时内拆除设备", "核查经营资质", ""}
	bad["decision_unit"] = []string{"yj", "", ""}
	bad["decision_due"] = []string{due, due, ""}
	expect(t, act(cmd, cs.ID, bad), http.StatusBadRequest, "第2项决定：请指定落实单位")
	good := cloneForm(base)
	good["decision_text"] = []string{"48小时内拆除设备", "核查经营资质", ""}
	good["decision_unit"] = []string{"yj", "scjg", ""}
	good["decision_due"] = []string{due, due, ""}
	if r := act(cmd, cs.ID, good); r.status != http.StatusSeeOther {
		t.Fatalf("meeting: %d %s", r.status, excerpt(r.body))
	}
	got := caseByID(t, cs.ID)
	if len(got.Meetings) != 1 || got.Meetings[0].WhistleID != "w1" || len(got.Meetings[0].Decisions) != 2 || len(got.Meetings[0].Attendees) != 3 {
		t.Fatalf("meeting %+v", got.Meetings)
	}

	// Close the case; the commander rates the parties; the timeline says who
	// got what.
	for _, u := range []string{"yj", "scjg", "xf"} {
		actOn(t, u+"_staff", cs.ID, cases.Command{Action: cases.ActReportIn})
	}
	actOn(t, "syl_pa_a", cs.ID, cases.Command{Action: cases.ActSign})
	actOn(t, "syl_pa_a", cs.ID, cases.Command{Action: cases.ActFeedback, Note: "已拆除"})
	actOn(t, "zhouchunyan", cs.ID, cases.Command{Action: cases.ActVerify, Passed: ptrTo(true), Note: "已整改"})
	for unit, rating := range map[string]string{"yj": "satisfied", "xf": "unsatisfied"} {
		r := act(cmd, cs.ID, url.Values{"action": {"rate_party"}, "party_ref": {"w1|unit:" + unit}, "rating": {rating}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("rate %s: %d %s", unit, r.status, excerpt(r.body))
		}
	}
	expect(t, cmd.get("/cases/"+cs.ID), http.StatusOK, "评价“区应急管理局”：满意", "评价“区消防救援支队”：不满意")
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, s := range v {
		out[k] = append([]string(nil), s...)
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }
