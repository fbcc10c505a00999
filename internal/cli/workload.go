package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"zhizhi/internal/demo"
)

// The workload of `zhizhi bench workload`: the one zhizhi was compared with
// other case systems by (docs/benchmarks.md, "Side by side: the workload
// command"), run against a serving zhizhi over its JSON API, so that anyone
// can repeat it. For each client count C: C goroutines, each with its own
// keep-alive HTTP client, create N cases, move each of them five times
// (accept, dispatch, sign, feedback, verify: reported to closed), then run
// N/2.5 listings of a page of 50 open cases and as many text listings.

// workloadOps are the table's operations, in its order.
var workloadOps = []string{"create", "move", "list open", "list text"}

// workloadMoves are the five moves every created case makes, in order;
// unit is true for the unit's own (sign, feedback), else the commander's.
var workloadMoves = []struct {
	action string
	unit   bool
}{{"accept", false}, {"dispatch", false}, {"sign", true}, {"feedback", true}, {"verify", false}}

// workloadConfig is the parsed command line.
type workloadConfig struct {
	URL                 string
	N                   int
	Clients             []int
	User, UnitUser      string
	Password            string
	UnitPassword        string
	Category            string
	Text                string
	JSON                bool
	Timeout             time.Duration
	maxErrorsShown      int
	commander, unitAcct wlAccount
	points              []wlPoint
}

type wlAccount struct {
	Token    string
	Username string
	Role     string
	UnitID   string
}

type wlPoint struct {
	Lng  float64 `json:"lng"`
	Lat  float64 `json:"lat"`
	grid string
}

// workloadListCount is how many listings of each kind a run makes for n
// cases: n/2.5 (100 for 250), at least 1.
func workloadListCount(n int) int {
	return max(1, int(math.Round(float64(n)/2.5)))
}

func benchWorkload(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench workload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg workloadConfig
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "base address of the serving zhizhi (ZHIZHI_BENCH_URL)")
	fs.IntVar(&cfg.N, "n", 250, "cases each client count creates and moves (ZHIZHI_BENCH_N); n/2.5 listings of each kind follow")
	cfg.Clients = []int{1, 4}
	fs.Func("clients", "comma-separated client counts to run the workload with, one after the other (ZHIZHI_BENCH_CLIENTS; default 1,4)", func(s string) error {
		c, err := parseClients(s)
		if err != nil {
			return err
		}
		cfg.Clients = c
		return nil
	})
	fs.StringVar(&cfg.User, "user", "syl_zhihui", "a street commander who reports, accepts, dispatches, verifies and lists (ZHIZHI_BENCH_USER)")
	fs.StringVar(&cfg.UnitUser, "unit-user", "syl_ms_a", "staff of the unit the cases are dispatched to, who signs and feeds back (ZHIZHI_BENCH_UNIT_USER)")
	fs.StringVar(&cfg.Password, "password", demo.Password, "password of -user, and of -unit-user unless -unit-password is given (ZHIZHI_BENCH_PASSWORD)")
	fs.StringVar(&cfg.UnitPassword, "unit-password", "", "password of -unit-user (ZHIZHI_BENCH_UNIT_PASSWORD; default -password)")
	fs.StringVar(&cfg.Category, "category", "MS07", "category of the created cases: one the commander's center dispatches to the unit (ZHIZHI_BENCH_CATEGORY)")
	fs.StringVar(&cfg.Text, "q", "", "word the text listings search for; the created cases contain it (ZHIZHI_BENCH_Q; default: a tag made for the run)")
	fs.BoolVar(&cfg.JSON, "json", false, "print the figures as JSON instead of a table (ZHIZHI_BENCH_JSON)")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "how long one request may take (ZHIZHI_BENCH_TIMEOUT)")
	if err := envFlags(fs, [][2]string{{"url", "ZHIZHI_BENCH_URL"}, {"n", "ZHIZHI_BENCH_N"}, {"clients", "ZHIZHI_BENCH_CLIENTS"},
		{"user", "ZHIZHI_BENCH_USER"}, {"unit-user", "ZHIZHI_BENCH_UNIT_USER"}, {"password", "ZHIZHI_BENCH_PASSWORD"},
		{"unit-password", "ZHIZHI_BENCH_UNIT_PASSWORD"}, {"category", "ZHIZHI_BENCH_CATEGORY"}, {"q", "ZHIZHI_BENCH_Q"},
		{"json", "ZHIZHI_BENCH_JSON"}, {"timeout", "ZHIZHI_BENCH_TIMEOUT"}}); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench workload: unexpected argument %q", fs.Arg(0))
	}
	if err := cfg.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runWorkload(ctx, &cfg, stdout, stderr)
}

// parseClients reads -clients: positive client counts, comma-separated.
func parseClients(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		c, err := strconv.Atoi(part)
		if err != nil || c < 1 || c > 1024 {
			return nil, fmt.Errorf("%q is not a client count: each must be a whole number from 1 to 1024, comma-separated (1,4)", part)
		}
		out = append(out, c)
	}
	return out, nil
}

// check refuses settings that parse but make no sense, naming the flag and
// its variable, before anything is sent.
func (cfg *workloadConfig) check() error {
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("-url (ZHIZHI_BENCH_URL) %q: must be the address of a serving zhizhi, such as http://127.0.0.1:8080", cfg.URL)
	case cfg.N < 1:
		return fmt.Errorf("-n (ZHIZHI_BENCH_N) %d: must be 1 or more", cfg.N)
	case cfg.N > 1_000_000:
		return fmt.Errorf("-n (ZHIZHI_BENCH_N) %d: must be at most 1000000", cfg.N)
	case len(cfg.Clients) == 0:
		return errors.New("-clients (ZHIZHI_BENCH_CLIENTS): name at least one client count")
	case cfg.User == "":
		return errors.New("-user (ZHIZHI_BENCH_USER): required")
	case cfg.UnitUser == "":
		return errors.New("-unit-user (ZHIZHI_BENCH_UNIT_USER): required")
	case cfg.Category == "":
		return errors.New("-category (ZHIZHI_BENCH_CATEGORY): required")
	case cfg.Timeout <= 0:
		return fmt.Errorf("-timeout (ZHIZHI_BENCH_TIMEOUT) %s: must be more than 0", cfg.Timeout)
	case strings.TrimSpace(cfg.Text) != cfg.Text || strings.ContainsAny(cfg.Text, "\r\n\t"):
		return fmt.Errorf("-q (ZHIZHI_BENCH_Q) %q: one word, without surrounding blanks", cfg.Text)
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.UnitPassword == "" {
		cfg.UnitPassword = cfg.Password
	}
	if cfg.maxErrorsShown == 0 {
		cfg.maxErrorsShown = 5
	}
	return nil
}

// wlClient is one client: its own keep-alive connection to the server.
type wlClient struct {
	base string
	http *http.Client
}

func newWLClient(base string, timeout time.Duration) *wlClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2
	return &wlClient{base: base, http: &http.Client{Transport: tr, Timeout: timeout}}
}

func (c *wlClient) close() { c.http.CloseIdleConnections() }

// wlError is a failed request: no answer, or an answer that is not 2xx.
type wlError struct {
	Op, Method, Path string
	Status           int
	Body             string
	Err              error
}

func (e *wlError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s %s: %v", e.Op, e.Method, e.Path, e.Err)
	}
	return fmt.Sprintf("%s: %s %s: %d %s", e.Op, e.Method, e.Path, e.Status, e.Body)
}

// do sends one request and reads the whole answer (so the connection is
// kept); out, when given, receives the decoded 2xx body.
func (c *wlClient) do(ctx context.Context, op, token, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return &wlError{Op: op, Method: method, Path: path, Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &wlError{Op: op, Method: method, Path: path, Err: err}
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return &wlError{Op: op, Method: method, Path: path, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		s := string(b)
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		return &wlError{Op: op, Method: method, Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(s)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return &wlError{Op: op, Method: method, Path: path, Status: resp.StatusCode, Err: fmt.Errorf("decode the answer: %w", err)}
		}
	}
	return nil
}

// signIn signs in through the API; flag names the account's flag for
// errors.
func signIn(ctx context.Context, c *wlClient, flagName, username, password string) (wlAccount, error) {
	var out struct {
		Token   string `json:"token"`
		Account struct {
			Role   string `json:"role"`
			UnitID string `json:"unit_id"`
		} `json:"account"`
	}
	err := c.do(ctx, "sign in", "", "POST", "/api/v1/sessions", map[string]string{"username": username, "password": password}, &out)
	if err != nil {
		var we *wlError
		if errors.As(err, &we) && we.Err != nil {
			return wlAccount{}, fmt.Errorf("-url (ZHIZHI_BENCH_URL) %s: cannot reach zhizhi: %v", c.base, we.Err)
		}
		return wlAccount{}, fmt.Errorf("%s %s: cannot sign in: %v", flagName, username, err)
	}
	return wlAccount{Token: out.Token, Username: username, Role: out.Account.Role, UnitID: out.Account.UnitID}, nil
}

// prepare signs both accounts in and finds the points the cases are
// reported at: one inside each of up to 16 grids of the commander's scope,
// from the grids' shapes, each checked with the API's own point → grid
// lookup.
func prepare(ctx context.Context, cfg *workloadConfig) error {
	c := newWLClient(cfg.URL, cfg.Timeout)
	defer c.close()
	var err error
	if cfg.commander, err = signIn(ctx, c, "-user", cfg.User, cfg.Password); err != nil {
		return err
	}
	if cfg.commander.Role != "commander" {
		return fmt.Errorf("-user %s: is a %s; the workload needs a commander (who accepts, dispatches and verifies)", cfg.User, cfg.commander.Role)
	}
	if cfg.unitAcct, err = signIn(ctx, c, "-unit-user", cfg.UnitUser, cfg.UnitPassword); err != nil {
		return err
	}
	if cfg.unitAcct.UnitID == "" {
		return fmt.Errorf("-unit-user %s: is a %s of no unit; the workload needs a unit's staff (who sign and feed back)", cfg.UnitUser, cfg.unitAcct.Role)
	}
	var grids struct {
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
	}
	if err := c.do(ctx, "grids", cfg.commander.Token, "GET", "/api/v1/grids", nil, &grids); err != nil {
		return err
	}
	if len(grids.Items) == 0 {
		return fmt.Errorf("-user %s: no grids in the account's region to report cases in", cfg.User)
	}
	const want = 16
	step := max(1, len(grids.Items)/want)
	for i := 0; i < len(grids.Items) && len(cfg.points) < want; i += step {
		code := grids.Items[i].Code
		var rg struct {
			Shape json.RawMessage `json:"shape"`
		}
		if err := c.do(ctx, "grid shape", cfg.commander.Token, "GET", "/api/v1/regions/"+url.PathEscape(code), nil, &rg); err != nil {
			return err
		}
		for _, p := range candidatePoints(rg.Shape) {
			var loc struct {
				Grid *string `json:"grid"`
			}
			q := fmt.Sprintf("/api/v1/locate?lng=%s&lat=%s", strconv.FormatFloat(p.Lng, 'f', -1, 64), strconv.FormatFloat(p.Lat, 'f', -1, 64))
			if err := c.do(ctx, "locate", cfg.commander.Token, "GET", q, nil, &loc); err != nil {
				return err
			}
			if loc.Grid != nil && *loc.Grid == code {
				p.grid = code
				cfg.points = append(cfg.points, p)
				break
			}
		}
	}
	if len(cfg.points) == 0 {
		return fmt.Errorf("-user %s: found no point inside the grids of the account's region", cfg.User)
	}
	return nil
}

// candidatePoints are points likely inside a GeoJSON Polygon or
// MultiPolygon: the mean of each outer ring's corners and the middle of its
// bounding box.
func candidatePoints(shape json.RawMessage) []wlPoint {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if json.Unmarshal(shape, &g) != nil {
		return nil
	}
	var polys [][][][2]float64
	switch g.Type {
	case "Polygon":
		var p [][][2]float64
		if json.Unmarshal(g.Coordinates, &p) != nil {
			return nil
		}
		polys = append(polys, p)
	case "MultiPolygon":
		if json.Unmarshal(g.Coordinates, &polys) != nil {
			return nil
		}
	}
	var out []wlPoint
	for _, p := range polys {
		if len(p) == 0 || len(p[0]) < 4 {
			continue
		}
		ring := p[0][:len(p[0])-1]
		var sx, sy float64
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, c := range ring {
			sx, sy = sx+c[0], sy+c[1]
			minX, minY, maxX, maxY = math.Min(minX, c[0]), math.Min(minY, c[1]), math.Max(maxX, c[0]), math.Max(maxY, c[1])
		}
		n := float64(len(ring))
		out = append(out, wlPoint{Lng: round6(sx / n), Lat: round6(sy / n)}, wlPoint{Lng: round6((minX + maxX) / 2), Lat: round6((minY + maxY) / 2)})
	}
	return out
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// wlOp collects one operation's figures.
type wlOp struct {
	mu      sync.Mutex
	lat     []time.Duration
	errors  int
	samples []string
}

func (o *wlOp) add(d time.Duration, err error, keep int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lat = append(o.lat, d)
	if err != nil {
		o.errors++
		if len(o.samples) < keep {
			o.samples = append(o.samples, err.Error())
		}
	}
}

// WorkloadRow is one operation's figures for one client count.
type WorkloadRow struct {
	Op        string  `json:"op"`
	Count     int     `json:"count"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"ops_per_s"`
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
}

// WorkloadRun is the figures of one client count.
type WorkloadRun struct {
	Clients int           `json:"clients"`
	Rows    []WorkloadRow `json:"ops"`
}

// WorkloadReport is what -json prints.
type WorkloadReport struct {
	URL      string        `json:"url"`
	N        int           `json:"n"`
	Lists    int           `json:"lists"`
	User     string        `json:"user"`
	UnitUser string        `json:"unit_user"`
	Unit     string        `json:"unit"`
	Category string        `json:"category"`
	Text     string        `json:"q"`
	Points   int           `json:"points"`
	Runs     []WorkloadRun `json:"runs"`
	Errors   []string      `json:"errors,omitempty"`
}

func row(op string, o *wlOp, elapsed time.Duration) WorkloadRow {
	r := WorkloadRow{Op: op, Count: len(o.lat), Errors: o.errors, Seconds: elapsed.Seconds()}
	if elapsed > 0 {
		r.PerSecond = float64(r.Count) / elapsed.Seconds()
	}
	lat := slices.Clone(o.lat)
	slices.Sort(lat)
	r.P50, r.P95, r.P99 = pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99)
	return r
}

// pct is the nearest-rank percentile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

func runWorkload(ctx context.Context, cfg *workloadConfig, stdout, stderr io.Writer) error {
	if err := prepare(ctx, cfg); err != nil {
		return err
	}
	if cfg.Text == "" {
		var b [4]byte
		rand.Read(b[:])
		cfg.Text = "wl" + hex.EncodeToString(b[:])
	}
	rep := WorkloadReport{URL: cfg.URL, N: cfg.N, Lists: workloadListCount(cfg.N), User: cfg.User, UnitUser: cfg.UnitUser,
		Unit: cfg.unitAcct.UnitID, Category: cfg.Category, Text: cfg.Text, Points: len(cfg.points)}
	if !cfg.JSON {
		fmt.Fprintf(stdout, "zhizhi bench workload: %s, %d cases per client count, %d listings of each kind\n", cfg.URL, cfg.N, rep.Lists)
		fmt.Fprintf(stdout, "commander %s, unit %s (%s), category %s, points in %d grids, text %q\n",
			cfg.User, cfg.UnitUser, cfg.unitAcct.UnitID, cfg.Category, len(cfg.points), cfg.Text)
		fmt.Fprintln(stdout, "moves per case: accept, dispatch, sign, feedback, verify (reported → closed)")
	}
	failed, total := 0, 0
	for _, c := range cfg.Clients {
		run, samples := workloadRun(ctx, cfg, c)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rep.Runs = append(rep.Runs, run)
		for _, r := range run.Rows {
			failed += r.Errors
			total += r.Count
		}
		for _, s := range samples {
			if len(rep.Errors) < cfg.maxErrorsShown {
				rep.Errors = append(rep.Errors, fmt.Sprintf("%d clients: %s", c, s))
			}
		}
		if !cfg.JSON {
			writeWorkloadTable(stdout, run)
		}
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(stderr, "error:", e)
	}
	if failed > 0 {
		return fmt.Errorf("bench workload: %d of %d operations failed", failed, total)
	}
	return nil
}

func writeWorkloadTable(w io.Writer, run WorkloadRun) {
	fmt.Fprintf(w, "\nclients %d\n", run.Clients)
	fmt.Fprintf(w, "%-10s %7s %7s %10s %9s %9s %9s\n", "operation", "count", "errors", "ops/s", "p50 ms", "p95 ms", "p99 ms")
	for _, r := range run.Rows {
		fmt.Fprintf(w, "%-10s %7d %7d %10.1f %9.2f %9.2f %9.2f\n", r.Op, r.Count, r.Errors, r.PerSecond, r.P50, r.P95, r.P99)
	}
}

// workloadRun runs the workload with c clients: each phase's requests are
// shared among the clients, and a phase starts when the one before it has
// finished.
func workloadRun(ctx context.Context, cfg *workloadConfig, c int) (WorkloadRun, []string) {
	clients := make([]*wlClient, c)
	for i := range clients {
		clients[i] = newWLClient(cfg.URL, cfg.Timeout)
		defer clients[i].close()
	}
	ops := map[string]*wlOp{}
	for _, op := range workloadOps {
		ops[op] = &wlOp{}
	}
	keep := cfg.maxErrorsShown
	// phase runs jobs 0..n-1 on the clients and answers its wall time.
	phase := func(n int, job func(cl *wlClient, i int)) time.Duration {
		next := make(chan int)
		var wg sync.WaitGroup
		start := time.Now()
		for _, cl := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					job(cl, i)
				}
			}()
		}
	feed:
		for i := 0; i < n; i++ {
			select {
			case next <- i:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		return time.Since(start)
	}
	type made struct {
		id      string
		version int
	}
	created := make([]made, cfg.N)
	elapsed := map[string]time.Duration{}
	elapsed["create"] = phase(cfg.N, func(cl *wlClient, i int) {
		p := cfg.points[i%len(cfg.points)]
		body := map[string]any{"source": "patrol", "category": cfg.Category,
			"description": fmt.Sprintf("下水道堵塞，污水外溢（压测 %s，%d 个客户端，第 %d 件）", cfg.Text, c, i+1),
			"point":       map[string]float64{"lng": p.Lng, "lat": p.Lat}}
		var out struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		}
		t := time.Now()
		err := cl.do(ctx, "create", cfg.commander.Token, "POST", "/api/v1/cases", body, &out)
		ops["create"].add(time.Since(t), err, keep)
		if err == nil {
			created[i] = made{out.ID, out.Version}
		}
	})
	elapsed["move"] = phase(cfg.N, func(cl *wlClient, i int) {
		m := created[i]
		if m.id == "" {
			return
		}
		for _, mv := range workloadMoves {
			body := map[string]any{"action": mv.action, "version": m.version}
			token := cfg.commander.Token
			switch mv.action {
			case "dispatch":
				body["lead_unit"] = cfg.unitAcct.UnitID
			case "feedback":
				body["note"] = "已疏通（压测）"
			case "verify":
				body["passed"], body["note"] = true, "已核查（压测）"
			}
			if mv.unit {
				token = cfg.unitAcct.Token
			}
			var out struct {
				Case struct {
					Version int `json:"version"`
				} `json:"case"`
			}
			t := time.Now()
			err := cl.do(ctx, "move "+mv.action, token, "POST", "/api/v1/cases/"+m.id+"/actions", body, &out)
			ops["move"].add(time.Since(t), err, keep)
			if err != nil {
				return // the case's later moves cannot follow
			}
			m.version = out.Case.Version
		}
	})
	lists := workloadListCount(cfg.N)
	elapsed["list open"] = phase(lists, func(cl *wlClient, i int) {
		t := time.Now()
		err := cl.do(ctx, "list open", cfg.commander.Token, "GET", "/api/v1/cases?open=true&limit=50", nil, nil)
		ops["list open"].add(time.Since(t), err, keep)
	})
	textPath := "/api/v1/cases?limit=50&q=" + url.QueryEscape(cfg.Text)
	elapsed["list text"] = phase(lists, func(cl *wlClient, i int) {
		t := time.Now()
		err := cl.do(ctx, "list text", cfg.commander.Token, "GET", textPath, nil, nil)
		ops["list text"].add(time.Since(t), err, keep)
	})
	run := WorkloadRun{Clients: c}
	var samples []string
	for _, op := range workloadOps {
		run.Rows = append(run.Rows, row(op, ops[op], elapsed[op]))
		samples = append(samples, ops[op].samples...)
	}
	return run, samples
}
