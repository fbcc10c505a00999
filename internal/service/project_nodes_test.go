package service_test

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
)

// TestProjectEventsTwoNodesOnPostgres: a milestone met through one node
// reaches a list board's stream on the other node (through PostgreSQL's
// notices), with the project's new version and who met it.
func TestProjectEventsTwoNodesOnPostgres(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t, nil)

	acct, err := a.DB.AccountByUsername(ctx, "leader")
	if err != nil {
		t.Fatal(err)
	}
	leader := a.Service.ActorOf(acct)
	p, err := a.Service.CreateProject(ctx, leader, service.ProjectInput{Name: "两节点测试：背街小巷改造", Goal: "路面与照明改造完成", LeadUnit: "cg",
		Milestones: []leaders.MilestoneInput{{Title: "调研", Limit: sla.Limit{Amount: 2, Unit: sla.WorkDays}}, {Title: "完成", Limit: sla.Limit{Amount: 3, Unit: sla.WorkDays}}}})
	if err != nil {
		t.Fatal(err)
	}
	seq := p.Milestones[0].Seq
	sub := b.Service.Hub().Subscribe(leader)
	defer sub.Close()
	time.Sleep(500 * time.Millisecond) // B's listener is up

	n, err := a.Service.ProjectAct(ctx, leader, p.ID, service.ProjectStep{Action: "meet", Seq: seq, Evidence: "两节点测试：节点完成"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e := <-sub.C:
			if e.Kind != "project" || e.ProjectID != p.ID {
				continue
			}
			if e.Version != n.Version || e.Action != cases.Action("meet") || e.Actor != acct.Name {
				t.Fatalf("the event on node B: %+v, want version %d by %s", e, n.Version, acct.Name)
			}
			return
		case <-deadline:
			t.Fatal("node B's list board never heard of the milestone met through node A")
		}
	}
}
