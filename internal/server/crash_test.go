package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/geo"
	"zhizhi/internal/store"
)

// node is one zhizhi process started by a test.
type node struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
	log  string
}

func startNode(t *testing.T, bin, logPath string, args ...string) *node {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: exec.Command(bin, args...), done: make(chan struct{}), log: logPath}
	n.cmd.Stdout, n.cmd.Stderr = f, f
	if err := n.cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	go func() {
		n.err = n.cmd.Wait()
		f.Close()
		close(n.done)
	}()
	t.Cleanup(func() {
		select {
		case <-n.done:
		default:
			n.cmd.Process.Kill()
			<-n.done
		}
	})
	return n
}

func (n *node) output() string {
	b, _ := os.ReadFile(n.log)
	return string(b)
}

// waitHealthy polls GET /healthz until the node answers 200.
func waitHealthy(t *testing.T, c *http.Client, base string, n *node) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			t.Fatalf("zhizhi exited before listening (%v):\n%s", n.err, n.output())
		default:
		}
		resp, err := c.Get(base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("zhizhi did not become healthy in 30s:\n%s", n.output())
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func call(c *http.Client, method, url, token string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s: %w: %s", method, url, err, b)
		}
	}
	return resp.StatusCode, nil
}

func signIn(t *testing.T, c *http.Client, base, user string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	st, err := call(c, "POST", base+"/api/v1/sessions", "", map[string]string{"username": user, "password": "zhizhi2026"}, &out)
	if err != nil || st != http.StatusCreated || out.Token == "" {
		t.Fatalf("sign in %s: status %d, err %v", user, st, err)
	}
	return out.Token
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// buildZhizhi builds the zhizhi binary into dir, for the tests that run
// real processes (crash, several nodes).
func buildZhizhi(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "zhizhi")
	if out, err := exec.Command(goTool(t), "build", "-o", bin, "zhizhi/cmd/zhizhi").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("go tool not found")
	}
	return p
}

// pointInside returns a point inside shape: its centroid, else the average of
// its outer vertices, else the middle of its bounds, whichever is inside.
func pointInside(shape geo.MultiPolygon) (geo.Point, bool) {
	if len(shape) == 0 {
		return geo.Point{}, false
	}
	cands := []geo.Point{shape.Centroid()}
	if len(shape[0]) > 0 && len(shape[0][0]) > 0 {
		var avg geo.Point
		ring := shape[0][0]
		for _, p := range ring {
			avg.Lng += p.Lng
			avg.Lat += p.Lat
		}
		avg.Lng /= float64(len(ring))
		avg.Lat /= float64(len(ring))
		cands = append(cands, avg)
	}
	b := shape.Bounds()
	cands = append(cands, geo.Point{Lng: (b.Min.Lng + b.Max.Lng) / 2, Lat: (b.Min.Lat + b.Max.Lat) / 2})
	for _, p := range cands {
		if shape.Contains(p) {
			return p, true
		}
	}
	return geo.Point{}, false
}

// TestCrashKeepsAcknowledgedReports kills a real zhizhi process with SIGKILL
// while eight clients are reporting, restarts it on the same file and checks
// that every report it acknowledged with 201 is there.
func TestCrashKeepsAcknowledgedReports(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildZhizhi(t, dir)
	addr := freeAddr(t)
	base := "http://" + addr
	args := []string{"demo", "-db", filepath.Join(dir, "z.db"), "-data", dir, "-addr", addr, "-cases", "50"}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	first := startNode(t, bin, filepath.Join(dir, "first.log"), args...)
	waitHealthy(t, client, base, first)
	token := signIn(t, client, base, "zhouchunyan")

	// Her grid, and a point inside it.
	var me store.Account
	if st, err := call(client, "GET", base+"/api/v1/me", token, nil, &me); err != nil || st != http.StatusOK {
		t.Fatalf("GET /me: status %d, err %v", st, err)
	}
	parts := strings.Split(strings.Trim(me.RegionPath, "/"), "/")
	code := parts[len(parts)-1]
	var grid store.RegionRecord
	if st, err := call(client, "GET", base+"/api/v1/regions/"+code, token, nil, &grid); err != nil || st != http.StatusOK {
		t.Fatalf("GET /regions/%s: status %d, err %v", code, st, err)
	}
	pt, ok := pointInside(grid.Shape)

	type report struct {
		Source      string     `json:"source"`
		Category    string     `json:"category"`
		Point       *geo.Point `json:"point,omitempty"`
		Address     string     `json:"address,omitempty"`
		Description string     `json:"description"`
	}
	type ack struct{ id, desc string }
	var (
		mu       sync.Mutex
		acked    []ack
		other    = map[int]int{} // non-201 statuses before the kill
		failed   atomic.Int64    // transport errors (requests cut off by the kill)
		sent     atomic.Int64
		stop     = make(chan struct{})
		killed   atomic.Bool
		wg       sync.WaitGroup
		inflight atomic.Int64
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := report{Source: "patrol", Category: "MS03", Address: "新影村社区巡查点", Description: fmt.Sprintf("崩溃测试 w%d #%d", w, i)}
				if ok {
					r.Point = &pt
				}
				var out struct {
					ID string `json:"id"`
				}
				sent.Add(1)
				inflight.Add(1)
				st, err := call(client, "POST", base+"/api/v1/cases", token, r, &out)
				inflight.Add(-1)
				switch {
				case err != nil:
					failed.Add(1)
					if killed.Load() {
						return
					}
				case st == http.StatusCreated && out.ID != "":
					mu.Lock()
					acked = append(acked, ack{out.ID, r.Description})
					mu.Unlock()
				default:
					mu.Lock()
					if !killed.Load() {
						other[st]++
					}
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	before := inflight.Load()
	killed.Store(true)
	if err := first.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no drain
		t.Fatal(err)
	}
	<-first.done
	close(stop)
	wg.Wait()
	client.CloseIdleConnections()
	mu.Lock()
	acks := append([]ack(nil), acked...)
	mu.Unlock()
	t.Logf("point inside grid %s: %v (%v); sent %d reports, %d acknowledged with 201, %d cut off by SIGKILL (%d in flight just before it)",
		code, pt, ok, sent.Load(), len(acks), failed.Load(), before)
	if len(other) > 0 {
		t.Errorf("non-201 answers before the kill: %v\n%s", other, first.output())
	}
	if len(acks) == 0 {
		t.Fatalf("no report acknowledged in 1.5s:\n%s", first.output())
	}

	// Restart on the same file and look for every acknowledged report.
	second := startNode(t, bin, filepath.Join(dir, "second.log"), args...)
	waitHealthy(t, client, base, second)
	if strings.Contains(second.output(), "正在载入") {
		t.Errorf("restart reloaded the demo data:\n%s", second.output())
	}
	commander := signIn(t, client, base, "syl_zhihui")
	var lost, wrong, errs atomic.Int64
	jobs := make(chan ack)
	var cw sync.WaitGroup
	for range 8 {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for a := range jobs {
				var out struct {
					Case struct {
						ID          string `json:"id"`
						Description string `json:"description"`
						Category    string `json:"category"`
					} `json:"case"`
				}
				st, err := call(client, "GET", base+"/api/v1/cases/"+a.id, commander, nil, &out)
				switch {
				case err != nil:
					errs.Add(1)
					t.Errorf("GET case %s: %v", a.id, err)
				case st == http.StatusNotFound:
					if lost.Add(1) <= 5 {
						t.Errorf("acknowledged case %s (%s) lost after the crash", a.id, a.desc)
					}
				case st != http.StatusOK:
					errs.Add(1)
					t.Errorf("GET case %s: status %d", a.id, st)
				case out.Case.ID != a.id || out.Case.Description != a.desc || out.Case.Category != "MS03":
					if wrong.Add(1) <= 5 {
						t.Errorf("case %s came back as %+v, want description %q", a.id, out.Case, a.desc)
					}
				}
			}
		}()
	}
	for _, a := range acks {
		jobs <- a
	}
	close(jobs)
	cw.Wait()
	t.Logf("after restart: %d of %d acknowledged reports present, %d lost, %d mismatched", len(acks)-int(lost.Load()+wrong.Load()+errs.Load()), len(acks), lost.Load(), wrong.Load())

	// A graceful stop of the restarted node must work too.
	if err := second.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.done:
		if second.err != nil {
			t.Errorf("graceful stop after restart: %v\n%s", second.err, second.output())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("restarted node did not stop within 20s of SIGINT")
	}
}
