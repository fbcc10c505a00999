package service

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// writeBigGeoJSON writes a region file of about size bytes under the test
// world's street 甲 (500103001): communities of up to 999 grids each, every
// grid a polygon of the given number of vertices (a surveyed boundary has
// hundreds). It returns the number of grids.
func writeBigGeoJSON(t testing.TB, path string, size int64, vertices int) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	w.WriteString(`{"type":"FeatureCollection","features":[`)
	written, grids := int64(0), 0
	var b bytes.Buffer
	for comm := 2; written < size && comm < 1000; comm++ {
		code := fmt.Sprintf("500103001%03d", comm)
		b.Reset()
		if comm > 2 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n"+`{"type":"Feature","properties":{"code":"%s","name":"测试社区%d","level":"community","parent_code":"500103001"},"geometry":null}`, code, comm)
		for g := 1; g <= 999 && written < size; g++ {
			lng0, lat0 := 106.40+float64(comm)*0.01, 29.40+float64(g)*0.001
			fmt.Fprintf(&b, ",\n"+`{"type":"Feature","properties":{"code":"%s%03d","name":"测试网格%d-%d","level":"grid","parent_code":"%s"},"geometry":{"type":"Polygon","coordinates":[[`, code, g, comm, g, code)
			for k := 0; k <= vertices; k++ {
				a := 2 * math.Pi * float64(k%vertices) / float64(vertices)
				if k > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "[%.6f,%.6f]", lng0+0.0004*math.Cos(a), lat0+0.0004*math.Sin(a))
			}
			b.WriteString("]]}}")
			grids++
			written += int64(b.Len())
			w.Write(b.Bytes())
			b.Reset()
		}
	}
	w.WriteString("\n]}\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return grids
}

// peakHeap runs f and returns the most heap in use while it ran, above what
// was in use before (sampled every 2 ms, after a collection at the start),
// and the most memory the Go runtime held from the system (heap, stacks and
// the runtime's own, not what SQLite's C allocator holds).
func peakHeap(f func()) (peak, sys uint64, took time.Duration) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var max uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max {
				max = ms.HeapInuse
			}
			if ms.Sys > sys {
				sys = ms.Sys
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	f()
	took = time.Since(start)
	close(stop)
	wg.Wait()
	if max < base {
		return 0, sys, took
	}
	return max - base, sys, took
}

// TestImportMemory measures the heap a region import of a ~50 MB GeoJSON
// file takes, read whole first (as the API's handler did before the import
// streamed) or streamed from the file. A measurement, not a check: run with
// ZHIZHI_IMPORT_MEMORY=whole or =stream (one mode a process, so that the
// process's peak resident memory is its own), ZHIZHI_IMPORT_VERTICES (a
// grid's vertices, 1250 unless set) and -v; docs/benchmarks.md has the
// figures.
func TestImportMemory(t *testing.T) {
	mode := os.Getenv("ZHIZHI_IMPORT_MEMORY")
	if mode != "whole" && mode != "stream" {
		t.Skip("set ZHIZHI_IMPORT_MEMORY=whole or =stream to measure")
	}
	vertices := 1250
	if v := os.Getenv("ZHIZHI_IMPORT_VERTICES"); v != "" {
		fmt.Sscan(v, &vertices)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "big.geojson")
	grids := writeBigGeoJSON(t, path, 50<<20, vertices)
	st, _ := os.Stat(path)
	t.Logf("file: %.1f MB, %d grids of %d vertices", float64(st.Size())/(1<<20), grids, vertices)
	s, _ := keyWorld(t)
	var err error
	var n int
	peak, sys, took := peakHeap(func() {
		f, ferr := os.Open(path)
		if ferr != nil {
			err = ferr
			return
		}
		defer f.Close()
		var r io.Reader = f
		if mode == "whole" {
			body, rerr := io.ReadAll(f)
			if rerr != nil {
				err = rerr
				return
			}
			r = bytes.NewReader(body)
		}
		n, err = s.importRegions(context.Background(), cases.System, r, "geojson")
	})
	if err != nil {
		t.Fatal(err)
	}
	hwm := ""
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if bytes.HasPrefix(line, []byte("VmHWM:")) {
				hwm = string(bytes.TrimSpace(line[6:]))
			}
		}
	}
	t.Logf("%s: %d regions, peak heap above start %.0f MB, Go runtime's peak from the system %.0f MB, process peak resident %s, %s",
		mode, n, float64(peak)/(1<<20), float64(sys)/(1<<20), hwm, took.Round(time.Millisecond))
}
