package geo

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// benchGrids is Chongqing's number of grids.
const benchGrids = 62000

var (
	benchOnce   sync.Once
	benchIndex  *Index
	benchPoints []Point
)

// benchSetup builds the 62,000-grid index and a ring of random points inside
// the covered area once for all benchmarks.
func benchSetup(b *testing.B) (*Index, []Point) {
	b.Helper()
	benchOnce.Do(func() {
		benchIndex = NewIndex(SyntheticGrids(benchGrids, 1, chongqing))
		rng := rand.New(rand.NewPCG(1, 1))
		benchPoints = make([]Point, 1<<16)
		for i := range benchPoints {
			benchPoints[i] = randomPointIn(rng, benchIndex.Bounds())
		}
	})
	return benchIndex, benchPoints
}

func BenchmarkLocate(b *testing.B) {
	ix, pts := benchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	hits := 0
	i := 0
	for b.Loop() {
		if _, ok := ix.Locate(pts[i&(len(pts)-1)]); ok {
			hits++
		}
		i++
	}
	if hits < i*99/100 {
		b.Fatalf("only %d of %d points were located", hits, i)
	}
}

func BenchmarkLocateParallel(b *testing.B) {
	ix, pts := benchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	var seed sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		seed.Lock()
		i := next * 7919
		next++
		seed.Unlock()
		for pb.Next() {
			ix.Locate(pts[i&(len(pts)-1)])
			i++
		}
	})
}

func BenchmarkNewIndex(b *testing.B) {
	entries := SyntheticGrids(benchGrids, 1, chongqing)
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(entries)
	}
}
