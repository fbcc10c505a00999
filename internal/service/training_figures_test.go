package service

import (
	"reflect"
	"testing"

	"zhizhi/internal/store"
)

// TestWithPostings: postings join the attendance figures under the key
// their group is placed in; a street or unit with postings and no
// attendance gets a row; rows stay in key order; groups of one key add up.
func TestWithPostings(t *testing.T) {
	place := func(c store.PostingCount) string { return c.UnitID }
	for _, tc := range []struct {
		name  string
		rows  []store.TrainingFigure
		posts []store.PostingCount
		want  []store.TrainingFigure
	}{
		{"nothing", nil, nil, nil},
		{"attendance only", []store.TrainingFigure{{Key: "a", Cadres: 2, Sessions: 3, Hours: 12}}, nil,
			[]store.TrainingFigure{{Key: "a", Cadres: 2, Sessions: 3, Hours: 12}}},
		{"postings join their row", []store.TrainingFigure{{Key: "a", Cadres: 2, Sessions: 3, Hours: 12}},
			[]store.PostingCount{{UnitID: "a", Postings: 2, Cadres: 1}},
			[]store.TrainingFigure{{Key: "a", Cadres: 2, Sessions: 3, Hours: 12, Postings: 2, Posted: 1}}},
		{"postings alone make a row, in order", []store.TrainingFigure{{Key: "b", Cadres: 1, Sessions: 1, Hours: 4}},
			[]store.PostingCount{{UnitID: "c", Postings: 1, Cadres: 1}, {UnitID: "a", Postings: 3, Cadres: 2}},
			[]store.TrainingFigure{{Key: "a", Postings: 3, Posted: 2}, {Key: "b", Cadres: 1, Sessions: 1, Hours: 4}, {Key: "c", Postings: 1, Posted: 1}}},
		{"groups of one key add up", nil,
			[]store.PostingCount{{UnitID: "a", RegionPath: "/x/", Postings: 1, Cadres: 1}, {UnitID: "a", RegionPath: "/y/", Postings: 2, Cadres: 2}},
			[]store.TrainingFigure{{Key: "a", Postings: 3, Posted: 3}}},
		{"no unit is its own row", nil, []store.PostingCount{{UnitID: "", Postings: 1, Cadres: 1}},
			[]store.TrainingFigure{{Key: "", Postings: 1, Posted: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := withPostings(tc.rows, tc.posts, place); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
