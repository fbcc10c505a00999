package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/demo"
	"zhizhi/internal/store"
)

// BenchmarkCasePageHTTP asks for one page of 50 open cases over HTTP, the
// district commander's queue (GET /api/v1/cases?open=true&limit=50), from 1
// and from 4 keep-alive clients on the same two cores as the node, and
// reports p50/p95 latency and pages per second (issue 19, "a page of
// cases"), with the store decoding case documents by encoding/json (the
// state before) and by goccy/go-json (store/decode.go), in one run. The node runs on a fresh SQLite file with the demo (as the
// intake benchmark's) and 300 new reports over the district, so every page
// is full of real reports with their clocks.
func BenchmarkCasePageHTTP(b *testing.B) {
	e, err := newPlatformWith(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.p.Close(ctx)
	}()
	client := newClient()
	for _, body := range reportBodies(e, 300) {
		if status, resp, err := postReport(client, e, body); err != nil || status != http.StatusCreated {
			b.Fatalf("report: %d %s %v", status, resp, err)
		}
	}
	token, err := signIn(e.base, "qu_zhihui", demo.Password)
	if err != nil {
		b.Fatal(err)
	}
	url := e.base + "/api/v1/cases?open=true&limit=50"
	get := func() (int, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		var page struct{ Items []json.RawMessage }
		if err := json.Unmarshal(body, &page); err != nil {
			return 0, err
		}
		return len(page.Items), nil
	}
	if n, err := get(); err != nil || n != 50 {
		b.Fatalf("first page: %d items, %v", n, err)
	}
	defer store.UseStdJSON(false)
	for _, run := range []struct {
		decoder string
		clients int
	}{{"encoding-json", 1}, {"go-json", 1}, {"encoding-json", 4}, {"go-json", 4}} {
		clients := run.clients
		b.Run(fmt.Sprintf("decoder=%s/clients=%d", run.decoder, clients), func(b *testing.B) {
			store.UseStdJSON(run.decoder == "encoding-json")
			var next atomic.Int64
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			var failed atomic.Value
			b.ResetTimer()
			start := time.Now()
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t := time.Now()
						if _, err := get(); err != nil {
							failed.Store(err)
							return
						}
						lat[i] = time.Since(t)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pages/s")
		})
	}
}
