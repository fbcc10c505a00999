package routing_test

import (
	"fmt"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/routing"
)

// A small tree: the city, two districts, two streets of district A, two
// communities of street 1, a grid of community 1.
const (
	city      = "/500000/"
	distA     = "/500000/500103/"
	distB     = "/500000/500104/"
	street1   = "/500000/500103/500103014/"
	street2   = "/500000/500103/500103012/"
	comm1     = "/500000/500103/500103014/500103014010/"
	comm2     = "/500000/500103/500103014/500103014006/"
	grid1     = "/500000/500103/500103014/500103014010/500103014010001/"
	otherGrid = "/500000/500103/500103012/500103012001/500103012001001/"
)

var (
	cityDept = cases.Unit{ID: "city-yj", Name: "市应急管理局", Kind: cases.UnitDepartment, RegionPath: city, Active: true}
	deptA    = cases.Unit{ID: "cg", Name: "区城市管理局", Kind: cases.UnitDepartment, RegionPath: distA, Active: true}
	deptB    = cases.Unit{ID: "b-cg", Name: "外区城市管理局", Kind: cases.UnitDepartment, RegionPath: distB, Active: true}
	board1   = cases.Unit{ID: "s1-ms-bk", Name: "街道1民生服务板块", Kind: cases.UnitBoard, Board: cases.BoardServices, RegionPath: street1, Active: true}
	post1    = cases.Unit{ID: "s1-ms-a", Name: "街道1民生服务板块A岗", Kind: cases.UnitPost, Board: cases.BoardServices, Parent: board1.ID, RegionPath: street1, Active: true}
	sect1    = cases.Unit{ID: "s1-ms", Name: "街道1民生服务办", Kind: cases.UnitSection, Board: cases.BoardServices, Parent: board1.ID, RegionPath: street1, Active: true}
	post2    = cases.Unit{ID: "s2-ms-a", Name: "街道2民生服务板块A岗", Kind: cases.UnitPost, Board: cases.BoardServices, Parent: "s2-ms-bk", RegionPath: street2, Active: true}
	sect2    = cases.Unit{ID: "s2-ms", Name: "街道2民生服务办", Kind: cases.UnitSection, Board: cases.BoardServices, Parent: "s2-ms-bk", RegionPath: street2, Active: true}
	comm1U   = cases.Unit{ID: "c-1", Name: "社区1居委会", Kind: cases.UnitCommunity, RegionPath: comm1, Active: true}
	comm2U   = cases.Unit{ID: "c-2", Name: "社区2居委会", Kind: cases.UnitCommunity, RegionPath: comm2, Active: true}
	inactive = cases.Unit{ID: "s1-old", Name: "街道1旧岗", Kind: cases.UnitPost, Board: cases.BoardServices, Parent: board1.ID, RegionPath: street1}
)

func cat(level string) cases.Category {
	return cases.Category{Code: "X", Name: "某事项", Board: cases.BoardServices, Level: level, Active: true}
}

// TestDispatch is the routing table: owning level × the center that
// dispatches × the target unit, for a case in grid1 (street 1, community 1).
func TestDispatch(t *testing.T) {
	all := []cases.Unit{cityDept, deptA, deptB, board1, post1, sect1, post2, sect2, comm1U, comm2U, inactive}
	// want lists, per level and center, the units that may be dispatched to;
	// every other unit of all must be refused.
	for _, tc := range []struct {
		level, center string
		want          []string
	}{
		// A street takes its own street's and community matters: its own
		// posts and sections, its district's (and the city's) departments;
		// the case's community only for grid and community matters.
		{"grid", street1, []string{"city-yj", "cg", "s1-ms-a", "s1-ms", "c-1"}},
		{"community", street1, []string{"city-yj", "cg", "s1-ms-a", "s1-ms", "c-1"}},
		{"street", street1, []string{"city-yj", "cg", "s1-ms-a", "s1-ms"}},
		// A district matter at the street: nothing, it is escalated.
		{"district", street1, nil},
		{"city", street1, nil},
		// The district: its departments across (横向分拨) for any of its
		// matters; down to the case's street (纵向交办) only for the street's
		// list, down to the community only for community matters.
		{"grid", distA, []string{"city-yj", "cg", "s1-ms-a", "s1-ms", "c-1"}},
		{"street", distA, []string{"city-yj", "cg", "s1-ms-a", "s1-ms"}},
		{"district", distA, []string{"city-yj", "cg"}},
		{"city", distA, nil},
		// The city: its departments; a district's departments only for
		// district matters and below, and only the case's district.
		{"district", city, []string{"city-yj", "cg"}},
		{"street", city, []string{"city-yj", "cg", "s1-ms-a", "s1-ms"}},
		{"city", city, []string{"city-yj"}},
	} {
		for _, u := range all {
			name := fmt.Sprintf("%s at %s to %s", tc.level, tc.center, u.ID)
			err := routing.Dispatch(tc.center, grid1, cat(tc.level), u)
			allowed := false
			for _, w := range tc.want {
				allowed = allowed || w == u.ID
			}
			if allowed && err != nil {
				t.Errorf("%s: refused: %v", name, err)
			}
			if !allowed {
				if err == nil {
					t.Errorf("%s: allowed, want refused", name)
				} else if !apperr.Is(err, apperr.Refused) || !strings.ContainsAny(err.Error(), "的事项岗位科室部门停用社区") {
					t.Errorf("%s: %v, want a refusal in Chinese", name, err)
				}
			}
		}
	}
}

// TestNeverAnotherStreet probes every center of street 1 (and its district)
// against street 2's posts and sections for a case in street 1: always refused.
func TestNeverAnotherStreet(t *testing.T) {
	for _, level := range routing.Levels {
		for _, center := range []string{street1, distA, city} {
			for _, u := range []cases.Unit{post2, sect2, comm2U} {
				if err := routing.Dispatch(center, grid1, cat(level), u); err == nil {
					t.Errorf("%s matter at %s reached %s", level, center, u.ID)
				}
			}
		}
	}
	// A case in street 2 reaches street 2's units from the district, never
	// street 1's.
	if err := routing.Dispatch(distA, otherGrid, cat("street"), post2); err != nil {
		t.Errorf("district to street 2's post for its case: %v", err)
	}
	if err := routing.Dispatch(distA, otherGrid, cat("street"), post1); err == nil {
		t.Error("district sent street 2's case to street 1's post")
	}
}

func TestHandDown(t *testing.T) {
	for _, tc := range []struct {
		center, region, level, want string
	}{
		{distA, grid1, "street", street1},
		{distA, grid1, "community", street1},
		{distA, grid1, "grid", street1},
		{distA, grid1, "district", ""}, // not on the street's list
		{street1, grid1, "grid", ""},   // a street is the lowest center
		{distA, distA, "street", ""},   // not placed below the district
		{city, grid1, "district", distA},
		{city, grid1, "city", ""},
	} {
		got, err := routing.HandDown(tc.center, tc.region, cat(tc.level))
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("hand down %s matter from %s: %q, %v; want %q", tc.level, tc.center, got, err, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	units := []cases.Unit{deptA, board1, sect1, post1, post2, comm1U, comm2U}
	for _, tc := range []struct {
		level, center, def, want string
	}{
		{"grid", street1, "cg", "c-1"},
		{"community", street1, "cg", "c-1"},
		{"street", street1, "cg", "s1-ms-a"},
		{"district", street1, "cg", ""},
		{"district", distA, "cg", "cg"},
		{"street", distA, "cg", "s1-ms-a"},
	} {
		c := cat(tc.level)
		c.DefaultUnit = tc.def
		u, ok := routing.Suggest(tc.center, grid1, c, units)
		if u.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("%s matter at %s: %q %v, want %q", tc.level, tc.center, u.ID, ok, tc.want)
		}
	}
	// Without a post or section of the board, the default department.
	c := cat("street")
	c.Board, c.DefaultUnit = cases.BoardParty, "cg"
	if u, _ := routing.Suggest(street1, grid1, c, units); u.ID != "cg" {
		t.Errorf("no party post: %q", u.ID)
	}
}

func TestValidateUnit(t *testing.T) {
	b := board1
	for _, tc := range []struct {
		name   string
		u      cases.Unit
		parent *cases.Unit
		fields []string
	}{
		{"department", deptA, nil, nil},
		{"city department", cityDept, nil, nil},
		{"board", board1, nil, nil},
		{"post", post1, &b, nil},
		{"section without board unit", cases.Unit{ID: "s", Name: "s", Kind: cases.UnitSection, Board: cases.BoardSafety, RegionPath: street1}, nil, nil},
		{"community", comm1U, nil, nil},
		{"department in a street", cases.Unit{Kind: cases.UnitDepartment, RegionPath: street1}, nil, []string{"region_path"}},
		{"post without parent", cases.Unit{Kind: cases.UnitPost, Board: cases.BoardServices, RegionPath: street1}, nil, []string{"parent"}},
		{"post in a district", cases.Unit{Kind: cases.UnitPost, Board: cases.BoardServices, Parent: b.ID, RegionPath: distA}, &b, []string{"region_path", "parent"}},
		{"post of another street's board", post2, &b, []string{"parent"}},
		{"post of another board", cases.Unit{Kind: cases.UnitPost, Board: cases.BoardSafety, Parent: b.ID, RegionPath: street1}, &b, []string{"parent"}},
		{"post whose parent is missing", cases.Unit{Kind: cases.UnitPost, Board: cases.BoardServices, Parent: "nope", RegionPath: street1}, nil, []string{"parent"}},
		{"board without a board", cases.Unit{Kind: cases.UnitBoard, RegionPath: street1}, nil, []string{"board"}},
		{"community at a street", cases.Unit{Kind: cases.UnitCommunity, RegionPath: street1}, nil, []string{"region_path"}},
		{"unknown kind", cases.Unit{Kind: "office", RegionPath: street1}, nil, []string{"kind"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := routing.ValidateUnit(tc.u, tc.parent)
			var got []string
			if e, ok := err.(*apperr.Error); ok {
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}
