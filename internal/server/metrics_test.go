package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/store"
)

// scrape reads /metrics into series → value ("name{labels}" as printed).
func scrape(t *testing.T, base, token string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsAndReadiness makes a few requests of each kind and checks the
// named series on /metrics (routes by pattern, never by raw path; the
// writer's batches and commits; the sweeper; live subscribers; refused
// sign-ins); that /metrics is for loopback clients or the token only; and
// that /readyz answers 503 when the schema is not this build's or the
// database is closed.
func TestMetricsAndReadiness(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const token = "metrics-token-0123456789"
	p, err := server.Open(ctx, server.Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "z.db"), DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MetricsToken: token, SweepEvery: 50 * time.Millisecond, Now: servertest.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			p.Close(ctx)
		}
	}()
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 5, Seed: 2, Now: servertest.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + p.Addr()
	get := func(path, bearer string) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	signIn := func(password string) (int, string) {
		body, _ := json.Marshal(map[string]string{"username": "zhouchunyan", "password": password})
		resp, err := http.Post(base+"/api/v1/sessions", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Token
	}
	if code, _ := signIn("wrong-password"); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	code, session := signIn(demo.Password)
	if code != 201 {
		t.Fatalf("sign in: %d", code)
	}
	for _, id := range []string{"01AAAAAAAAAAAAAAAAAAAAAAAA", "01BBBBBBBBBBBBBBBBBBBBBBBB"} {
		if code := get("/api/v1/cases/"+id, session); code != 404 {
			t.Errorf("unknown case: %d", code)
		}
	}
	if code := get("/readyz", ""); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
	get("/no/such/page/12345", "")
	// A live subscriber.
	sse, err := http.NewRequest("GET", base+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopSSE := context.WithCancel(ctx)
	sse = sse.WithContext(sctx)
	sse.Header.Set("Authorization", "Bearer "+session)
	resp, err := http.DefaultClient.Do(sse)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	defer stopSSE()

	// The token is needed; loopback alone is not enough once it is set.
	if code := get("/metrics", ""); code != 401 {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	if code := get("/metrics", "wrong-token-0123456789"); code != 401 {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	m := scrape(t, base, token)
	for series, want := range map[string]float64{
		`zhizhi_http_requests_total{code="401",route="POST /api/v1/sessions",surface="api"}`:       1,
		`zhizhi_http_requests_total{code="201",route="POST /api/v1/sessions",surface="api"}`:       1,
		`zhizhi_http_requests_total{code="404",route="GET /api/v1/cases/{id}",surface="api"}`:      2,
		`zhizhi_http_requests_total{code="200",route="GET /readyz",surface="ops"}`:                 1,
		`zhizhi_http_requests_total{code="401",route="GET /metrics",surface="ops"}`:                2,
		`zhizhi_http_request_duration_seconds_count{route="GET /api/v1/cases/{id}",surface="api"}`: 2,
		`zhizhi_refused_total{reason="signin_failed"}`:                                             1,
		`zhizhi_refused_total{reason="signin_throttled"}`:                                          0,
		`zhizhi_sse_subscribers`:                      1,
		`zhizhi_sweeper_lag_seconds`:                  -1, // present
		`zhizhi_sweeper_fired_total`:                  -1,
		`zhizhi_writer_batch_jobs_count`:              -1,
		`zhizhi_writer_commit_duration_seconds_count`: -1,
		`zhizhi_writer_jobs_total`:                    -1,
		`go_goroutines`:                               -1,
	} {
		got, ok := m[series]
		switch {
		case !ok:
			t.Errorf("no series %s", series)
		case want >= 0 && got != want:
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for s, v := range m {
		if strings.HasPrefix(s, "zhizhi_http_requests") || strings.HasPrefix(s, "zhizhi_sweeper") || strings.HasPrefix(s, "zhizhi_writer_batch_jobs_count") {
			t.Logf("%s %v", s, v)
		}
	}
	if m[`zhizhi_writer_batch_jobs_count`] < 1 || m[`zhizhi_writer_batch_jobs_sum`] < m[`zhizhi_writer_batch_jobs_count`] {
		t.Errorf("writer batches: count %v, jobs %v", m[`zhizhi_writer_batch_jobs_count`], m[`zhizhi_writer_batch_jobs_sum`])
	}
	// The platform here is SQLite: its commits were synced by the store.
	if m[`zhizhi_writer_log_syncs_total`] < 1 || m[`zhizhi_writer_log_sync_seconds_total`] <= 0 {
		t.Errorf("log syncs: %v in %v s", m[`zhizhi_writer_log_syncs_total`], m[`zhizhi_writer_log_sync_seconds_total`])
	}
	for series := range m {
		if strings.Contains(series, "01AAAA") || strings.Contains(series, "12345") {
			t.Errorf("a raw path became a series: %s", series)
		}
	}
	if _, ok := m[`zhizhi_http_requests_total{code="404",route="unmatched",surface="console"}`]; !ok {
		// The console's catch-all may claim the path; then it is its route.
		found := false
		for series := range m {
			if strings.HasPrefix(series, `zhizhi_http_requests_total{code="404"`) && strings.Contains(series, `surface="console"`) {
				found = true
			}
		}
		if !found {
			t.Error("no series for the unknown page")
		}
	}

	// Without a token, loopback clients only.
	q, err := server.Open(ctx, server.Config{DB: filepath.Join(dir, "q.db"), DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]int{"127.0.0.1:5000": 200, "[::1]:5000": 200, "10.1.2.3:5000": 403} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		q.Handler.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("/metrics from %s: %d, want %d", addr, rec.Code, want)
		}
	}
	// Not ready: a schema newer than this build's (another node upgrading),
	// then a closed database.
	readyz := func() int {
		rec := httptest.NewRecorder()
		q.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code
	}
	if code := readyz(); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
	if _, err := q.DB.Raw().Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, store.Version()+1); err != nil {
		t.Fatal(err)
	}
	if code := readyz(); code != 503 {
		t.Errorf("/readyz with a newer schema: %d, want 503", code)
	}
	if _, err := q.DB.Raw().Exec(`DELETE FROM schema_migrations WHERE version = $1`, store.Version()+1); err != nil {
		t.Fatal(err)
	}
	if code := readyz(); code != 200 {
		t.Errorf("/readyz again: %d", code)
	}
	q.Close(ctx)
	if code := readyz(); code != 503 {
		t.Errorf("/readyz after the database closed: %d, want 503", code)
	}
	stopSSE()
	closed = true
	p.Close(ctx)
}
