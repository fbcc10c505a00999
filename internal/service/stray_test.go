package service

import (
	"maps"
	"slices"
	"testing"
)

func TestStrayAncestors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths map[string]string
		want  []string
	}{
		{"none", nil, nil},
		{"codes nest", map[string]string{
			"5001": "/5001/", "500103": "/5001/500103/", "500103001": "/5001/500103/500103001/",
		}, nil},
		{"a grid coded apart", map[string]string{
			"5001": "/5001/", "500103": "/5001/500103/", "G7": "/5001/500103/G7/",
		}, []string{"5001", "500103"}},
		{"a district coded apart, its grid nested", map[string]string{
			"5001": "/5001/", "X1": "/5001/X1/", "X1-01": "/5001/X1/X1-01/",
		}, []string{"5001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Sorted(maps.Keys(strayAncestors(tt.paths)))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("strayAncestors = %v, want %v", got, tt.want)
			}
		})
	}
}
