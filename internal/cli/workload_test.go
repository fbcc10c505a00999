package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"zhizhi/internal/demo"
	"zhizhi/internal/server/servertest"
)

// tableRows reads the tables `bench workload` prints: client count →
// operation → {count, errors}.
func tableRows(t *testing.T, out string) map[int]map[string][2]int {
	t.Helper()
	got := map[int]map[string][2]int{}
	clients := 0
	head := regexp.MustCompile(`^clients (\d+)$`)
	line := regexp.MustCompile(`^(create|move|list open|list text)\s+(\d+)\s+(\d+)\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+$`)
	for _, l := range strings.Split(out, "\n") {
		if m := head.FindStringSubmatch(l); m != nil {
			clients, _ = strconv.Atoi(m[1])
			got[clients] = map[string][2]int{}
			continue
		}
		if m := line.FindStringSubmatch(l); m != nil {
			if clients == 0 {
				t.Fatalf("a row before its client count: %q", l)
			}
			n, _ := strconv.Atoi(m[2])
			e, _ := strconv.Atoi(m[3])
			got[clients][m[1]] = [2]int{n, e}
		}
	}
	return got
}

// apiGet signs in as username and reads path as JSON into out.
func apiGet(t *testing.T, base, username, path string, out any) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": username, "password": demo.Password})
	resp, err := http.Post(base+"/api/v1/sessions", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s as %s: %d %s", path, username, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestBenchWorkload: `bench workload -n 20 -clients 1,2` against the demo
// over HTTP runs every operation as often as it should without an error,
// and every case it created went through its five moves: read back through
// the API, each is closed, its steps report, accept, dispatch, sign,
// feedback and verify, by the commander and the unit's staff. A category
// the platform does not know makes every create a counted, printed error
// and the command fail; -json gives the same figures as JSON.
func TestBenchWorkload(t *testing.T) {
	_, srv, closeAll, err := servertest.Demo("cli-workload", 30)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()

	var out, errOut bytes.Buffer
	if err := Run([]string{"bench", "workload", "-url", srv.URL, "-n", "20", "-clients", "1,2"}, &out, &errOut); err != nil {
		t.Fatalf("bench workload: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	t.Logf("\n%s", out.String())
	rows := tableRows(t, out.String())
	want := map[string]int{"create": 20, "move": 100, "list open": 8, "list text": 8}
	for _, c := range []int{1, 2} {
		for op, n := range want {
			if got, ok := rows[c][op]; !ok || got != [2]int{n, 0} {
				t.Errorf("%d clients, %s: count, errors %v (listed %v), want %d, 0", c, op, got, ok, n)
			}
		}
	}
	if len(rows) != 2 {
		t.Errorf("tables for %d client counts, want 2", len(rows))
	}
	m := regexp.MustCompile(`text "([^"]+)"`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no text word in %q", out.String())
	}
	var list struct {
		Items []struct {
			ID          string `json:"id"`
			Description string `json:"summary"` // a list item's summary: the whole of these short descriptions
		} `json:"items"`
	}
	apiGet(t, srv.URL, "syl_zhihui", "/api/v1/cases?limit=500&q="+url.QueryEscape(m[1]), &list)
	perClients := map[string]int{}
	for _, it := range list.Items {
		var d struct {
			Case struct {
				State   string `json:"state"`
				Version int    `json:"version"`
			} `json:"case"`
			Steps []struct {
				Action string `json:"action"`
				Role   string `json:"role"`
				To     string `json:"to"`
			} `json:"steps"`
		}
		apiGet(t, srv.URL, "syl_zhihui", "/api/v1/cases/"+it.ID, &d)
		var steps []string
		for _, s := range d.Steps {
			steps = append(steps, s.Action+"/"+s.Role+"→"+s.To)
		}
		wantSteps := []string{"report/commander→reported", "accept/commander→accepted", "dispatch/commander→dispatched",
			"sign/unit→handling", "feedback/unit→fed_back", "verify/commander→closed"}
		if d.Case.State != "closed" || d.Case.Version != 6 || !slices.Equal(steps, wantSteps) {
			t.Errorf("case %s: %s v%d, steps %v; want closed v6, %v", it.ID, d.Case.State, d.Case.Version, steps, wantSteps)
		}
		for _, c := range []int{1, 2} {
			if strings.Contains(it.Description, fmt.Sprintf("%d 个客户端", c)) {
				perClients[strconv.Itoa(c)]++
			}
		}
	}
	if len(list.Items) != 40 || perClients["1"] != 20 || perClients["2"] != 20 {
		t.Errorf("%d cases carry the run's word (%v), want 20 per client count", len(list.Items), perClients)
	}

	// -json: the same figures, as JSON.
	out.Reset()
	errOut.Reset()
	if err := Run([]string{"bench", "workload", "-url", srv.URL, "-n", "3", "-clients", "1", "-json", "-q", "jsonrun"}, &out, &errOut); err != nil {
		t.Fatalf("bench workload -json: %v\n%s", err, errOut.String())
	}
	var rep WorkloadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("-json: %v\n%s", err, out.String())
	}
	if rep.Text != "jsonrun" || rep.Unit != "syl-ms-a" || len(rep.Runs) != 1 || rep.Runs[0].Clients != 1 || len(rep.Runs[0].Rows) != 4 {
		t.Fatalf("-json: %+v", rep)
	}
	for i, r := range rep.Runs[0].Rows {
		n := map[string]int{"create": 3, "move": 15, "list open": 1, "list text": 1}[r.Op]
		if r.Op != workloadOps[i] || r.Count != n || r.Errors != 0 || r.PerSecond <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("-json row %d: %+v, want %s ×%d", i, r, workloadOps[i], n)
		}
	}

	// Non-2xx answers are counted, the first printed, and fail the command.
	out.Reset()
	errOut.Reset()
	err = Run([]string{"bench", "workload", "-url", srv.URL, "-n", "2", "-clients", "1", "-category", "NOPE99"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "2 of 4 operations failed") {
		t.Fatalf("an unknown category: %v\n%s", err, out.String())
	}
	if rows := tableRows(t, out.String()); rows[1]["create"] != [2]int{2, 2} || rows[1]["move"] != [2]int{0, 0} {
		t.Errorf("an unknown category: %v", rows)
	}
	if !strings.Contains(errOut.String(), "create: POST /api/v1/cases: 400") || !strings.Contains(errOut.String(), "category") {
		t.Errorf("the failed creates are not shown: %q", errOut.String())
	}

	// Accounts that cannot do the workload are refused before a case is made.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-user", "syl_ms_a"}, "-user syl_ms_a: is a unit"},
		{[]string{"-unit-user", "syl_zhihui"}, "-unit-user syl_zhihui: is a commander of no unit"},
		{[]string{"-password", "wrong-password"}, "-user syl_zhihui: cannot sign in"},
		{[]string{"-unit-password", "wrong-password"}, "-unit-user syl_ms_a: cannot sign in"},
	} {
		out.Reset()
		args := append([]string{"bench", "workload", "-url", srv.URL, "-n", "1", "-clients", "1"}, tc.args...)
		if err := Run(args, &out, &errOut); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed %q", tc.args, out.String())
		}
	}
}

// TestBenchWorkloadFlags: bad settings of `bench workload` are refused
// with the flag (or variable) named before anything is sent, and an
// address where no zhizhi answers is a clear error.
func TestBenchWorkloadFlags(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		args []string
		env  [2]string
		want string
	}{
		{args: []string{"-clients", "0"}, want: "-clients"},
		{args: []string{"-clients", "1,x"}, want: "-clients"},
		{args: []string{"-clients", "1,,4"}, want: "-clients"},
		{args: []string{"-clients", "-2"}, want: "-clients"},
		{args: []string{"-n", "0"}, want: "-n (ZHIZHI_BENCH_N) 0"},
		{args: []string{"-n", "-5"}, want: "-n (ZHIZHI_BENCH_N) -5"},
		{args: []string{"-n", "many"}, want: "-n"},
		{args: []string{"-url", "ftp://127.0.0.1/"}, want: "-url (ZHIZHI_BENCH_URL)"},
		{args: []string{"-url", "127.0.0.1:8080"}, want: "-url (ZHIZHI_BENCH_URL)"},
		{args: []string{"-timeout", "0s"}, want: "-timeout"},
		{args: []string{"-user", ""}, want: "-user"},
		{env: [2]string{"ZHIZHI_BENCH_N", "ten"}, want: "ZHIZHI_BENCH_N"},
		{env: [2]string{"ZHIZHI_BENCH_CLIENTS", "4,0"}, want: "ZHIZHI_BENCH_CLIENTS"},
		{args: []string{"-url", dead, "-n", "5", "-clients", "1"}, want: "-url (ZHIZHI_BENCH_URL) " + dead + ": cannot reach zhizhi"},
	} {
		if tc.env[0] != "" {
			t.Setenv(tc.env[0], tc.env[1])
		}
		var out, errOut bytes.Buffer
		args := append([]string{"bench", "workload", "-url", dead}, tc.args...)
		err := Run(args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want an error naming %q", tc.args, tc.env, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed %q", tc.args, out.String())
		}
		if tc.env[0] != "" {
			t.Setenv(tc.env[0], "")
		}
	}
}
