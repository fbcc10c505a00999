package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

type appealQueue struct {
	Items []struct {
		CaseID     string `json:"case_id"`
		CaseNumber string `json:"case_number"`
		UnitID     string `json:"unit_id"`
		UnitName   string `json:"unit_name"`
		State      string `json:"state"`
		Reason     string `json:"reason"`
	} `json:"items"`
	Counts map[string]int `json:"counts"`
}

func queue(t *testing.T, username, state string) appealQueue {
	t.Helper()
	var q appealQueue
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/appeals?state="+state, nil), &q)
	return q
}

func (q appealQueue) has(caseID, unit string) bool {
	return slices.ContainsFunc(q.Items, func(x struct {
		CaseID     string `json:"case_id"`
		CaseNumber string `json:"case_number"`
		UnitID     string `json:"unit_id"`
		UnitName   string `json:"unit_name"`
		State      string `json:"state"`
		Reason     string `json:"reason"`
	}) bool {
		return x.CaseID == caseID && x.UnitID == unit
	})
}

// overdueCase is a dispatched case whose lead (yj) let its sign clock run
// out: the sweeper, run past the due, shows it red and marks the case.
func overdueCase(t *testing.T) caseView {
	t.Helper()
	c := dispatched(t)
	var doc struct {
		Case struct {
			Tasks []struct {
				UnitID string `json:"unit_id"`
				Sign   struct {
					Due time.Time `json:"due"`
				} `json:"sign"`
			} `json:"tasks"`
		} `json:"case"`
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/cases/"+c.ID, nil), &doc)
	sweepAt(t, doc.Case.Tasks[0].Sign.Due.Add(time.Minute))
	n, _ := detail(t, "syl_zhihui", c.ID)
	if !n.WasOverdue {
		t.Fatalf("case not marked overdue after its sign clock ran out")
	}
	return n
}

const apiReason = "现场需等待燃气公司停气后方可处置，签收超时"

// TestAppealThroughAPI: the unit appeals, the street reviews, the district
// approves; each stage shows in the queues of those who see it and in the
// timeline; wrong roles and bad input are refused and change nothing.
func TestAppealThroughAPI(t *testing.T) {
	c := overdueCase(t)
	id := c.ID

	// Refused input: no reason, too short, a control character, an unknown field.
	refusedAct(t, "yj_staff", id, map[string]any{"action": "appeal"}, 400, `"field":"note"`, "申诉理由")
	refusedAct(t, "yj_staff", id, map[string]any{"action": "appeal", "note": "太忙了"}, 400, `"field":"note"`, "不少于10字")
	refusedAct(t, "yj_staff", id, map[string]any{"action": "appeal", "note": apiReason + "\u0007"}, 400, `"field":"note"`)
	refusedAct(t, "yj_staff", id, map[string]any{"action": "appeal", "note": apiReason, "appeal_units": "x"}, 400, `"field":"appeal_units"`)
	// Wrong roles: the commander, a unit not on the case, a co-unit that was on time.
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "appeal", "note": apiReason}, 409, "不能执行")
	refusedAct(t, "cg_staff", id, map[string]any{"action": "appeal", "note": apiReason}, 404)
	refusedAct(t, "scjg_staff", id, map[string]any{"action": "appeal", "note": apiReason}, 409, "没有超期")
	if n, _ := detail(t, "syl_zhihui", id); n.Version != c.Version {
		t.Fatalf("refused appeals changed the case: version %d, was %d", n.Version, c.Version)
	}

	n := act(t, "yj_staff", id, map[string]any{"action": "appeal", "note": apiReason})
	if n.State != c.State || n.Version != c.Version+1 {
		t.Fatalf("appeal changed the state: %s v%d", n.State, n.Version)
	}
	refusedAct(t, "yj_staff", id, map[string]any{"action": "appeal", "note": apiReason}, 409, "已有待审核")

	// Queues: the street and the district see it pending review, yj sees its own, scjg does not.
	for _, u := range []string{"syl_zhihui", "qu_zhihui", "leader", "yj_staff"} {
		if q := queue(t, u, "pending_review"); !q.has(id, "yj") || q.Counts["pending_review"] < 1 {
			t.Fatalf("%s's pending_review queue lacks the appeal: %+v", u, q)
		}
	}
	if q := queue(t, "scjg_staff", ""); q.has(id, "yj") {
		t.Fatal("scjg sees yj's appeal")
	}
	if q := queue(t, "jfb_zhihui", ""); q.has(id, "yj") {
		t.Fatal("the 解放碑 commander sees a 石油路 appeal")
	}
	if q := queue(t, "syl_zhihui", "approved"); q.has(id, "yj") {
		t.Fatal("pending appeal listed as approved")
	}

	// Review: only the case's own center; refusal needs a note.
	refusedAct(t, "qu_zhihui", id, map[string]any{"action": "appeal_review", "passed": true}, 409, "所属指挥中心")
	refusedAct(t, "yj_staff", id, map[string]any{"action": "appeal_review", "passed": true}, 409)
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "appeal_review"}, 400, `"field":"passed"`)
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "appeal_review", "passed": false}, 400, `"field":"note"`)
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "appeal_review", "passed": true, "appeal_unit": "scjg"}, 400, `"field":"appeal_unit"`)
	refusedAct(t, "qu_zhihui", id, map[string]any{"action": "appeal_decide", "passed": true}, 409, "没有待区级审批")
	act(t, "syl_zhihui", id, map[string]any{"action": "appeal_review", "passed": true, "appeal_unit": "yj", "note": "情况属实，报区级审批"})
	if q := queue(t, "qu_zhihui", "pending_approval"); !q.has(id, "yj") {
		t.Fatal("the district's pending_approval queue lacks the appeal")
	}

	// Decision: the district, not the street.
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "appeal_decide", "passed": true}, 409, "区（县）")
	refusedAct(t, "qu_zhihui", id, map[string]any{"action": "appeal_decide", "passed": false}, 400, `"field":"note"`)
	act(t, "qu_zhihui", id, map[string]any{"action": "appeal_decide", "passed": true})
	if q := queue(t, "yj_staff", "approved"); !q.has(id, "yj") {
		t.Fatal("yj's approved queue lacks the appeal")
	}

	var doc struct {
		Case struct {
			State   string `json:"state"`
			Appeals []struct {
				UnitID string `json:"unit_id"`
				State  string `json:"state"`
				Reason string `json:"reason"`
			} `json:"appeals"`
		} `json:"case"`
		Steps   []stepView `json:"steps"`
		Actions []string   `json:"actions"`
	}
	mustJSON(t, as(t, "yj_staff", 200, "GET", "/api/v1/cases/"+id, nil), &doc)
	if doc.Case.State != "dispatched" || len(doc.Case.Appeals) != 1 || doc.Case.Appeals[0].State != "approved" || doc.Case.Appeals[0].Reason != apiReason {
		t.Fatalf("case after approval: %+v", doc.Case)
	}
	var got []string
	for _, s := range doc.Steps {
		if strings.HasPrefix(s.Action, "appeal") {
			got = append(got, s.Action)
		}
	}
	if !slices.Equal(got, []string{"appeal", "appeal_review", "appeal_decide"}) {
		t.Fatalf("timeline appeal steps %v", got)
	}
	if slices.Contains(doc.Actions, "appeal") {
		t.Fatal("an exempted unit is offered another appeal")
	}
}

func TestAppealQueueRefusals(t *testing.T) {
	for _, tc := range []struct {
		query, field string
	}{
		{"state=closed", "state"},
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"limit=x", "limit"},
		{"before=yesterday", "before"},
	} {
		b := as(t, "syl_zhihui", 400, "GET", "/api/v1/appeals?"+tc.query, nil)
		if !strings.Contains(string(b), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %s", tc.query, b)
		}
	}
	// Grid workers, residents and enterprises have no queue.
	for _, u := range []string{"zhouchunyan", "jumin", "qiye", "xyc_jiezhang"} {
		as(t, u, 403, "GET", "/api/v1/appeals", nil)
	}
	// Without a token: 401 (also covered by TestEveryRouteRefusesOutsiders).
	if st, _ := call(t, "", "GET", "/api/v1/appeals", nil); st != 401 {
		t.Fatalf("without a token: %d", st)
	}
}
