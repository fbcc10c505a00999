package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"zhizhi/internal/gridwork"
)

// TestParty: registrations once per community and phone, groups once per
// community and name, hours and case helps listed by community subtree and
// period, a case helped by a group once; on both engines.
func TestParty(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		write := func(fn func(tx *Tx) error) error { return db.Write(ctx, fn) }
		c1, c2 := "/500000/500103/500103014/500103014006/", "/500000/500103/500103015/500103015001/"
		m := func(id, comm, path, phone string) gridwork.PartyMember {
			return gridwork.PartyMember{ID: id, Name: "党员" + id, Org: "区税务局", Phone: phone, Community: comm, CommunityPath: path, ReportedOn: "2026-11-02"}
		}
		for _, x := range []gridwork.PartyMember{m("M1", "500103014006", c1, "13900000001"), m("M2", "500103014006", c1, "13900000002"), m("M3", "500103015001", c2, "13900000001")} {
			if err := write(func(tx *Tx) error { return tx.PutPartyMember(ctx, x) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := write(func(tx *Tx) error { return tx.PutPartyMember(ctx, m("M4", "500103014006", c1, "13900000001")) }); !errors.Is(err, ErrConflict) {
			t.Fatalf("the same phone twice in a community: %v, want ErrConflict", err)
		}
		up := m("M1", "500103014006", c1, "13900000001")
		up.Grid, up.Tasks = "500103014006009", []string{"楼栋巡查"}
		if err := write(func(tx *Tx) error { return tx.PutPartyMember(ctx, up) }); err != nil {
			t.Fatal(err)
		}
		if got, err := db.PartyMember(ctx, "M1"); err != nil || got.Grid != "500103014006009" || len(got.Tasks) != 1 {
			t.Fatalf("updated member: %+v %v", got, err)
		}
		if list, err := db.PartyMembers(ctx, c1); err != nil || len(list) != 2 {
			t.Fatalf("members of c1: %d %v", len(list), err)
		}
		var byPhone gridwork.PartyMember
		if err := write(func(tx *Tx) error {
			var err error
			byPhone, err = tx.PartyMemberByPhone(ctx, "500103015001", "13900000001")
			return err
		}); err != nil || byPhone.ID != "M3" {
			t.Fatalf("by phone: %+v %v", byPhone, err)
		}

		g := gridwork.VolunteerGroup{ID: "G1", Name: "在职党员志愿服务队", Community: "500103014006", CommunityPath: c1}
		if err := write(func(tx *Tx) error { return tx.PutVolunteerGroup(ctx, g) }); err != nil {
			t.Fatal(err)
		}
		g2 := g
		g2.ID = "G2"
		if err := write(func(tx *Tx) error { return tx.PutVolunteerGroup(ctx, g2) }); !errors.Is(err, ErrConflict) {
			t.Fatalf("the same group name twice: %v, want ErrConflict", err)
		}
		if list, err := db.VolunteerGroups(ctx, "/500000/"); err != nil || len(list) != 1 {
			t.Fatalf("groups: %d %v", len(list), err)
		}

		h := func(id, member, path, on string) gridwork.ServiceHours {
			return gridwork.ServiceHours{ID: id, MemberID: member, CommunityPath: path, Activity: "清理楼道", On: on, Minutes: 90}
		}
		for _, x := range []gridwork.ServiceHours{h("H1", "M1", c1, "2026-11-03"), h("H2", "M1", c1, "2026-12-01"), h("H3", "M3", c2, "2026-11-03")} {
			if err := write(func(tx *Tx) error { return tx.InsertServiceHours(ctx, x) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := write(func(tx *Tx) error { return tx.InsertServiceHours(ctx, h("H4", "nobody", c1, "2026-11-03")) }); err == nil {
			t.Fatal("hours of an unknown member were stored")
		}
		if list, err := db.ServiceHours(ctx, c1, "2026-11-01", "2026-11-30"); err != nil || len(list) != 1 || list[0].ID != "H1" {
			t.Fatalf("hours of c1 in November: %+v %v", list, err)
		}
		if list, err := db.ServiceHours(ctx, "/500000/", "", ""); err != nil || len(list) != 3 {
			t.Fatalf("all hours: %d %v", len(list), err)
		}

		at := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
		if err := write(func(tx *Tx) error {
			return tx.InsertCaseHelp(ctx, gridwork.CaseHelp{CaseID: "C1", GroupID: "G1", CommunityPath: c1, StepID: "S1", At: at})
		}); err != nil {
			t.Fatal(err)
		}
		if err := write(func(tx *Tx) error {
			return tx.InsertCaseHelp(ctx, gridwork.CaseHelp{CaseID: "C1", GroupID: "G1", CommunityPath: c1, StepID: "S2", At: at})
		}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a case helped twice by a group: %v, want ErrConflict", err)
		}
		if list, err := db.CaseHelps(ctx, c1, at.Add(-time.Hour), at.Add(time.Hour)); err != nil || len(list) != 1 || !list[0].At.Equal(at) || list[0].StepID != "S1" {
			t.Fatalf("helps: %+v %v", list, err)
		}
		if list, err := db.CaseHelps(ctx, c2, at.Add(-time.Hour), at.Add(time.Hour)); err != nil || len(list) != 0 {
			t.Fatalf("helps of c2: %+v %v", list, err)
		}
	})
}
