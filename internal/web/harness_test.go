package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/store"
	"zhizhi/internal/web"
)

// The platform with the demo loaded, shared by the tests of this package;
// each test reports its own fresh cases.
var (
	plat *server.Platform
	srv  *httptest.Server
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	var done func()
	var err error
	plat, srv, done, err = servertest.Demo("web", 30)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer done()
	return m.Run()
}

// client is one person's browser without JavaScript: a cookie jar, no
// automatic redirects, and the CSRF token of the last page it read.
type client struct {
	t    *testing.T
	http *http.Client
	csrf string
	base string // the server's URL; "" is the shared platform's
}

// url is the full URL of a path on the client's server.
func (c *client) url(path string) string {
	if c.base != "" {
		return c.base + path
	}
	return srv.URL + path
}

func newClient(t *testing.T) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &client{t: t, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// newClientFrom is newClient connecting from another loopback address
// (127.0.0.0/8 is all loopback on Linux), so the server sees another
// client address.
func newClientFrom(t *testing.T, ip string) *client {
	t.Helper()
	c := newClient(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.http.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// response is what a request returned.
type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return response{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.url(path), nil)
	return c.do(req)
}

// post sends a urlencoded form, adding the CSRF token unless the form has
// one (an empty one stays empty).
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// postFiles sends a multipart form with files, as a browser without the
// page's script does.
func (c *client) postFiles(path string, form url.Values, field string, files ...[]byte) response {
	c.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for i, f := range files {
		w, _ := mw.CreateFormFile(field, fmt.Sprintf("photo%d.png", i))
		w.Write(f)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.url(path), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// signIn signs a demo account in through the sign-in form.
func signIn(t *testing.T, username string) *client {
	t.Helper()
	return signInAt(t, newClient(t), username)
}

// signInAt signs a demo account in with a given client (another server).
func signInAt(t *testing.T, c *client, username string) *client {
	t.Helper()
	if r := c.get("/signin"); r.status != 200 || c.csrf == "" {
		t.Fatalf("sign-in page: %d, csrf %q", r.status, c.csrf)
	}
	r := c.post("/signin", url.Values{"username": {username}, "password": {demo.Password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d %s", username, r.status, excerpt(r.body))
	}
	c.get(r.location) // read the home page's CSRF token
	return c
}

// expect fails unless the response has the status and contains every text.
func expect(t *testing.T, r response, status int, texts ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, excerpt(r.body))
	}
	for _, s := range texts {
		if !strings.Contains(r.body, s) {
			t.Errorf("page lacks %q: %s", s, excerpt(r.body))
		}
	}
}

// earlierToday is d before the platform's now, but not before today's
// midnight (Beijing): a record made "an hour ago" at 00:10 would fall on
// yesterday, or last year on New Year's Day, outside the day's and the
// year's figures a test then reads.
func earlierToday(d time.Duration) time.Time {
	loc := plat.Service.Calendar().Location()
	now := plat.Service.Now().In(loc)
	if midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc); now.Add(-d).Before(midnight) {
		return midnight
	}
	return now.Add(-d)
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main>"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

// png makes a small distinct PNG photo.
func pngPhoto(shade uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 24, 24))
	for x := 0; x < 24; x++ {
		for y := 0; y < 24; y++ {
			img.Set(x, y, color.RGBA{shade, uint8(x * 10), uint8(y * 10), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// actor returns a demo account as an actor, for arranging cases directly
// through the service.
func actor(t *testing.T, username string) cases.Actor {
	t.Helper()
	a, err := plat.DB.AccountByUsername(context.Background(), username)
	if err != nil {
		t.Fatalf("account %s: %v", username, err)
	}
	return plat.Service.ActorOf(a)
}

// gridPoint returns a point inside the grid of a grid worker.
func gridPoint(t *testing.T, username string) geo.Point {
	t.Helper()
	a := actor(t, username)
	codes := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	r, err := plat.DB.Region(context.Background(), codes[len(codes)-1])
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Shape) == 0 {
		t.Fatalf("grid %s has no shape", r.Code)
	}
	b := r.Shape.Bounds()
	n := pointSeq.Add(1)
	for i := int64(0); i < 400; i++ {
		k := n*7919 + i*104729
		p := geo.Point{Lng: b.Min.Lng + float64(k%997)/997*(b.Max.Lng-b.Min.Lng), Lat: b.Min.Lat + float64((k/997)%991)/991*(b.Max.Lat-b.Min.Lat)}
		if r.Shape.Contains(p) {
			return p
		}
	}
	t.Fatalf("no point found inside grid %s", r.Code)
	return geo.Point{}
}

var pointSeq atomic.Int64

// reportCase reports a case through the service as a grid worker.
func reportCase(t *testing.T, username, category, desc string) cases.Case {
	t.Helper()
	p := gridPoint(t, username)
	c, err := plat.Service.Report(context.Background(), actor(t, username), cases.Report{
		Source: cases.SourcePatrol, Category: category, Description: desc, Point: &p, Address: "测试地址",
	})
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return c
}

// actOn takes an action through the service.
func actOn(t *testing.T, username, caseID string, cmd cases.Command) cases.Case {
	t.Helper()
	c, _, err := plat.Service.Act(context.Background(), actor(t, username), caseID, cmd, 0)
	if err != nil {
		t.Fatalf("%s %s: %v", username, cmd.Action, err)
	}
	return c
}

func caseByID(t *testing.T, id string) cases.Case {
	t.Helper()
	c, err := plat.DB.Case(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var _ = store.ErrNotFound

// asset is the content-hashed address pages use for a static file.
func asset(t *testing.T, name string) string {
	t.Helper()
	u, err := web.AssetURL(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
