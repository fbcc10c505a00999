package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
)

// The platform, loaded with the demo once per test binary and shared by all
// tests; each test makes and reports its own fresh cases.
var (
	plat *server.Platform
	srv  *httptest.Server
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var done func()
	var err error
	plat, srv, done, err = servertest.Demo("api", 60)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer done()
	// The webhook delivery loop (the harness serves the handler only;
	// webhooks_test.go).
	hooksCtx, stopHooks := context.WithCancel(context.Background())
	hooksDone := make(chan struct{})
	go func() { plat.Service.RunWebhooks(hooksCtx, hookSettings); close(hooksDone) }()
	defer func() { stopHooks(); <-hooksDone }()
	// Every answer of the suite is checked against the OpenAPI document.
	srv.Config.Handler = checkAnswers(plat.Handler)
	code := m.Run()
	if code == 0 && !testing.Short() && flagRunAll() && !answersReport() {
		return 1
	}
	return code
}

// flagRunAll says whether the whole suite ran (no -run filter), so that
// every route had its chance to answer.
func flagRunAll() bool {
	f := flag.Lookup("test.run")
	return f == nil || f.Value.String() == ""
}

// tokens caches one session per demo account (signing in hashes a password).
var (
	tokenMu sync.Mutex
	tokens  = map[string]string{}
)

func token(t *testing.T, username string) string {
	t.Helper()
	tokenMu.Lock()
	defer tokenMu.Unlock()
	if tok, ok := tokens[username]; ok {
		return tok
	}
	st, body := call(t, "", "POST", "/api/v1/sessions", map[string]string{"username": username, "password": demo.Password})
	if st != http.StatusCreated {
		t.Fatalf("sign in %s: %d %s", username, st, body)
	}
	var out struct {
		Token string `json:"token"`
	}
	mustJSON(t, body, &out)
	if out.Token == "" {
		t.Fatalf("sign in %s: no token in %s", username, body)
	}
	tokens[username] = out.Token
	return out.Token
}

// call sends a request with a bearer token (none when tok is "") and returns
// the status and body. body may be nil, a string or []byte sent as is, or a
// value encoded as JSON.
func call(t *testing.T, tok, method, path string, body any) (int, []byte) {
	t.Helper()
	return callType(t, tok, method, path, "application/json", body)
}

func callType(t *testing.T, tok, method, path, ctype string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// as calls the API as a demo account and fails the test unless the status is want.
func as(t *testing.T, username string, want int, method, path string, body any) []byte {
	t.Helper()
	st, out := call(t, token(t, username), method, path, body)
	if st != want {
		t.Fatalf("%s %s %s: status %d, want %d: %s", username, method, path, st, want, out)
	}
	return out
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// gridOf returns the shape of the grid a grid worker's account belongs to.
func gridOf(t *testing.T, username string) (string, geo.MultiPolygon) {
	t.Helper()
	var me struct {
		RegionPath string `json:"region_path"`
	}
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/me", nil), &me)
	parts := strings.Split(strings.Trim(me.RegionPath, "/"), "/")
	code := parts[len(parts)-1]
	var rg struct {
		Code  string           `json:"code"`
		Level string           `json:"level"`
		Shape geo.MultiPolygon `json:"shape"`
	}
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/regions/"+code, nil), &rg)
	if rg.Level != "grid" || len(rg.Shape) == 0 {
		t.Fatalf("%s's region %s is %q with %d polygons, want a grid with a shape", username, code, rg.Level, len(rg.Shape))
	}
	return code, rg.Shape
}

var pointSeq atomic.Int64

// pointIn returns a point inside shape, a different one on each call, so that
// fresh cases do not pile up on one spot.
func pointIn(t *testing.T, shape geo.MultiPolygon) geo.Point {
	t.Helper()
	b := shape.Bounds()
	n := pointSeq.Add(1)
	for i := int64(0); i < 400; i++ {
		k := n*7919 + i*104729
		fx := float64(k%997) / 997
		fy := float64((k/997)%991) / 991
		p := geo.Point{Lng: b.Min.Lng + fx*(b.Max.Lng-b.Min.Lng), Lat: b.Min.Lat + fy*(b.Max.Lat-b.Min.Lat)}
		if shape.Contains(p) {
			return p
		}
	}
	c := shape.Centroid()
	if !shape.Contains(c) {
		t.Fatal("no point found inside the grid")
	}
	return c
}

// caseView is the part of a case the tests read.
type caseView struct {
	ID       string     `json:"id"`
	Number   string     `json:"number"`
	Version  int        `json:"version"`
	State    string     `json:"state"`
	GridCode string     `json:"grid_code"`
	Photos   []photoRef `json:"photos"`
	Reporter struct {
		AccountID string `json:"account_id"`
		Name      string `json:"name"`
		Phone     string `json:"phone"`
	} `json:"reporter"`
	Tasks []struct {
		UnitID   string    `json:"unit_id"`
		Role     string    `json:"role"`
		State    string    `json:"state"`
		SignedAt time.Time `json:"signed_at"`
	} `json:"tasks"`
	Rating     string    `json:"rating"`
	WasOverdue bool      `json:"was_overdue"`
	ClosedAt   time.Time `json:"closed_at"`
}

type stepView struct {
	Seq       int            `json:"seq"`
	At        time.Time      `json:"at"`
	ActorID   string         `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	Role      string         `json:"role"`
	UnitID    string         `json:"unit_id"`
	Action    string         `json:"action"`
	From      string         `json:"from"`
	To        string         `json:"to"`
	Note      string         `json:"note"`
	Photos    []photoRef     `json:"photos"`
	Data      map[string]any `json:"data"`
}

type photoRef struct {
	Hash string `json:"hash"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
	// ThumbURL is the thumbnail's signed address.
	ThumbURL string `json:"thumb_url"`
}

// detail fetches a case with its timeline as an account.
func detail(t *testing.T, username, id string) (caseView, []stepView) {
	t.Helper()
	var out struct {
		Case  caseView   `json:"case"`
		Steps []stepView `json:"steps"`
	}
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/cases/"+id, nil), &out)
	return out.Case, out.Steps
}

// report files a fresh AQ01 case in zhouchunyan's grid and returns it.
func report(t *testing.T, extra map[string]any) caseView {
	t.Helper()
	_, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	body := map[string]any{
		"source": "patrol", "category": "AQ01", "severity": "urgent",
		"point":       map[string]float64{"lng": p.Lng, "lat": p.Lat},
		"address":     "新影村社区测试商铺",
		"description": "测试：商铺准备使用醇基燃料灶具 (" + t.Name() + ")",
		"answers":     map[string]any{"shop": "测试商铺", "equipment": "alcohol_stove"},
	}
	for k, v := range extra {
		body[k] = v
	}
	var c caseView
	mustJSON(t, as(t, "zhouchunyan", 201, "POST", "/api/v1/cases", body), &c)
	if c.ID == "" || c.State != "reported" {
		t.Fatalf("reported case: %+v", c)
	}
	return c
}

// act takes an action on a case and returns the new case.
func act(t *testing.T, username, id string, cmd map[string]any) caseView {
	t.Helper()
	var out struct {
		Case caseView `json:"case"`
	}
	mustJSON(t, as(t, username, 200, "POST", "/api/v1/cases/"+id+"/actions", cmd), &out)
	return out.Case
}

// dispatched reports a fresh case and has the 石油路 commander accept it and
// dispatch it to yj (lead) and scjg.
func dispatched(t *testing.T) caseView {
	t.Helper()
	c := report(t, nil)
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	return act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "yj", "co_units": []string{"scjg"}})
}

// pngBytes makes a small PNG picture.
func pngBytes(t *testing.T, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for y := 0; y < 6; y++ {
		for x := 0; x < 8; x++ {
			img.Set(x, y, color.RGBA{shade, uint8(x * 20), uint8(y * 30), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts a photo as an account and returns its reference.
func upload(t *testing.T, username string, shade uint8) photoRef {
	t.Helper()
	st, out := callType(t, token(t, username), "POST", "/api/v1/photos", "image/png", pngBytes(t, shade))
	if st != http.StatusCreated {
		t.Fatalf("upload photo: %d %s", st, out)
	}
	var p photoRef
	mustJSON(t, out, &p)
	if len(p.Hash) != 64 || p.Type != "image/jpeg" || p.Size == 0 {
		t.Fatalf("uploaded photo: %+v", p)
	}
	return p
}
