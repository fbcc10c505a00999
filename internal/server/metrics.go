package server

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"zhizhi/internal/clientip"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// metrics are one node's Prometheus series, in a registry of its own (a
// test process runs many nodes).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(db *store.DB, svc *service.Service) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zhizhi_http_requests_total",
			Help: "HTTP requests answered, by surface (api, open311, console, ops), route pattern and status code.",
		}, []string{"surface", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zhizhi_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by surface and route pattern (a server-sent events stream counts its whole life).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"surface", "route"}),
	}
	batchJobs := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "zhizhi_writer_batch_jobs",
		Help:    "Write jobs carried by each group commit of the writer.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	commit := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "zhizhi_writer_commit_duration_seconds",
		Help:    "Time of each group commit's COMMIT (PostgreSQL: the durable write; SQLite: the log written, synced apart).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	db.ObserveWriter(func(jobs int, took time.Duration) {
		batchJobs.Observe(float64(jobs))
		commit.Observe(took.Seconds())
	})
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	// Read at each scrape, briefly: a scrape must not hang on a stuck database.
	lag := func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		now := svc.Now()
		at, ok, err := db.OldestDue(ctx, now)
		if err != nil || !ok {
			return 0
		}
		return now.Sub(at).Seconds()
	}
	reg.MustRegister(m.requests, m.latency, batchJobs, commit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		counter("zhizhi_writer_batches_total", "Group commits run.", func() float64 { return float64(db.WriterStats().Batches) }),
		counter("zhizhi_writer_jobs_total", "Write jobs run.", func() float64 { return float64(db.WriterStats().Jobs) }),
		counter("zhizhi_writer_replays_total", "Batches run again (held rows failed, or a deadlock with another node).", func() float64 { return float64(db.WriterStats().Replays) }),
		counter("zhizhi_writer_log_syncs_total", "SQLite: fsyncs of the write-ahead log by the store, each covering every group commit before it.", func() float64 { return float64(db.WriterStats().Syncs) }),
		counter("zhizhi_writer_log_sync_seconds_total", "SQLite: time spent in those fsyncs.", func() float64 { return db.WriterStats().SyncTime.Seconds() }),
		gauge("zhizhi_writer_queued_jobs", "Write jobs waiting for the writer.", func() float64 { return float64(db.Queued()) }),
		gauge("zhizhi_sweeper_lag_seconds", "Age of the oldest clock event due and not yet fired (0: none due).", lag),
		counter("zhizhi_sweeper_fired_total", "Clock events (warnings, escalations, park ends) fired by this node's sweeps.", func() float64 { return float64(svc.SweepFired()) }),
		gauge("zhizhi_sse_subscribers", "Server-sent events subscribers connected to this node.", func() float64 { return float64(svc.Hub().Len()) }),
		refusalCollector{prometheus.NewDesc("zhizhi_refused_total",
			"Sign-ins and anonymous (Open311 API key) requests refused on this node, by reason.", []string{"reason"}, nil), svc.Refused()},
	)
	return m
}

// refusalCollector reads the service's refusal counters at each scrape.
type refusalCollector struct {
	desc *prometheus.Desc
	r    *service.Refusals
}

func (c refusalCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c refusalCollector) Collect(ch chan<- prometheus.Metric) {
	for reason, v := range map[string]int64{
		"signin_throttled": c.r.SignInThrottled.Load(),
		"signin_locked":    c.r.SignInLocked.Load(),
		"signin_busy":      c.r.SignInBusy.Load(),
		"signin_failed":    c.r.SignInFailed.Load(),
		"apikey_invalid":   c.r.KeyInvalid.Load(),
		"apikey_rate":      c.r.KeyRateLimited.Load(),
	} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), reason)
	}
}

// instrument counts and times every request by the pattern of the route
// that served it (never the raw path: IDs would make a series per case).
// The mux sets the request's Pattern; the console's own mux sets it again on
// the same request, so its routes are told apart too.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		surface := "console"
		path := route
		if i := strings.IndexByte(path, ' '); i >= 0 {
			path = path[i+1:]
		}
		switch {
		case strings.HasPrefix(path, "/api/"):
			surface = "api"
		case strings.HasPrefix(path, "/open311/"):
			surface = "open311"
		case path == "/metrics" || path == "/healthz" || path == "/readyz":
			surface = "ops"
		}
		m.requests.WithLabelValues(surface, route, strconv.Itoa(rec.code)).Inc()
		m.latency.WithLabelValues(surface, route).Observe(time.Since(start).Seconds())
	})
}

// statusRecorder keeps the status code; Flush and Unwrap keep streaming
// (server-sent events) and http.ResponseController working.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	s.wrote = true
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// handler serves /metrics: with a token configured, to a request bearing it;
// without one, to loopback clients only (behind a trusted proxy on the same
// host, the client it forwards for, not the proxy).
func (m *metrics) handler(token string, trusted clientip.Trusted) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "metrics: bearer token required", http.StatusUnauthorized)
				return
			}
		} else if !loopback(trusted.Of(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))) {
			http.Error(w, "metrics: loopback clients only (set ZHIZHI_METRICS_TOKEN to scrape from elsewhere)", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
