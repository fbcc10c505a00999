package service

import (
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
)

// TestProjectEventsReachTheProjectsReaders: a project's change goes to the
// project's readers (leaders and commanders whose region holds it, its
// owner, its lead and co-units) and to no one else.
func TestProjectEventsReachTheProjectsReaders(t *testing.T) {
	street := "/500000/500103/500103001/"
	p := leaders.Project{ID: "p1", Name: "通风改造", RegionPath: street, OwnerID: "owner", LeadUnit: "cg", CoUnits: []string{"jt"}, Version: 3}
	h := NewHub()
	for _, tc := range []struct {
		name string
		a    cases.Actor
		gets bool
	}{
		{"district leader", cases.Actor{AccountID: "l", Role: cases.RoleLeader, RegionPath: "/500000/500103/"}, true},
		{"the street's commander", cases.Actor{AccountID: "c", Role: cases.RoleCommander, RegionPath: street}, true},
		{"another street's commander", cases.Actor{AccountID: "c2", Role: cases.RoleCommander, RegionPath: "/500000/500103/500103014/"}, false},
		{"the lead unit", cases.Actor{AccountID: "u", Role: cases.RoleUnit, UnitID: "cg"}, true},
		{"a co-unit", cases.Actor{AccountID: "u2", Role: cases.RoleUnit, UnitID: "jt"}, true},
		{"another unit", cases.Actor{AccountID: "u3", Role: cases.RoleUnit, UnitID: "sw"}, false},
		{"a grid worker of the street", cases.Actor{AccountID: "g", Role: cases.RoleGridWorker, RegionPath: street + "500103001001/500103001001001/"}, false},
		{"a resident", cases.Actor{AccountID: "r", Role: cases.RoleResident}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := h.Subscribe(tc.a)
			defer sub.Close()
			h.Publish(projectEvent(p, "meet", cases.Actor{Name: "城管"}, time.Now()))
			select {
			case e := <-sub.C:
				if !tc.gets {
					t.Fatalf("got %+v", e)
				}
				if e.Kind != "project" || e.ProjectID != "p1" || e.Version != 3 || e.CaseID != "" {
					t.Fatalf("event %+v", e)
				}
			default:
				if tc.gets {
					t.Fatal("got nothing")
				}
			}
		})
	}
}
