package open311_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/store"
)

// The platform, loaded with a small demo once per test binary and shared by
// all tests; each test reports its own fresh cases.
var (
	plat    *server.Platform
	srv     *httptest.Server
	demoKey string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	var done func()
	var err error
	plat, srv, done, err = servertest.Demo("open311", 20)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer done()
	if demoKey, err = demo.APIKey(context.Background(), plat.DB); err != nil || demoKey == "" {
		fmt.Fprintln(os.Stderr, "demo api key:", err)
		return 1
	}
	return m.Run()
}

// The two formats every endpoint is tested in.
var formats = []string{"xml", "json"}

const xmlDecl = `<?xml version="1.0" encoding="utf-8"?>`

// reply is an HTTP answer.
type reply struct {
	status int
	ctype  string
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s\n%s", r.status, r.ctype, r.body) }

func do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header, body}
}

// get fetches a path under the server (path includes /open311/v2/…).
func get(t *testing.T, path string) reply {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// post sends a form-encoded POST.
func post(t *testing.T, path string, form url.Values) reply {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return do(t, req)
}

// postMultipart sends a multipart POST with the form and files as media.
func postMultipart(t *testing.T, path string, form url.Values, files ...[]byte) reply {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for i, f := range files {
		w, err := mw.CreateFormFile("media", fmt.Sprintf("photo%d.png", i+1))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f)
	}
	mw.Close()
	req, err := http.NewRequest("POST", srv.URL+path, &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return do(t, req)
}

// pngImage makes a small distinct PNG.
func pngImage(t *testing.T, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.Set(x, y, color.RGBA{seed, uint8(x * 30), uint8(y * 30), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// node is an XML element as the tests read it.
type node struct {
	Name string
	Text string
	Kids []*node
}

func (n *node) names() []string {
	out := make([]string, len(n.Kids))
	for i, k := range n.Kids {
		out[i] = k.Name
	}
	return out
}

func (n *node) child(t *testing.T, name string) *node {
	t.Helper()
	for _, k := range n.Kids {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("<%s> has no <%s>: %v", n.Name, name, n.names())
	return nil
}

// val is the text of a direct child.
func (n *node) val(t *testing.T, name string) string { t.Helper(); return n.child(t, name).Text }

// parseXML checks the declaration and the content type and parses the one
// root element.
func parseXML(t *testing.T, r reply) *node {
	t.Helper()
	if r.ctype != "text/xml; charset=utf-8" {
		t.Fatalf("content type %q, want text/xml; charset=utf-8\n%s", r.ctype, r.body)
	}
	if !bytes.HasPrefix(r.body, []byte(xmlDecl)) {
		t.Fatalf("XML does not start with %s:\n%s", xmlDecl, r.body)
	}
	dec := xml.NewDecoder(bytes.NewReader(r.body))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("malformed XML: %v\n%s", err, r.body)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if x.Name.Space != "" || len(x.Attr) > 0 {
				t.Fatalf("<%s> has a namespace or attributes: %+v", x.Name.Local, x)
			}
			n := &node{Name: x.Name.Local}
			if len(stack) == 0 {
				if root != nil {
					t.Fatalf("two root elements:\n%s", r.body)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(x)
			}
		}
	}
	if root == nil {
		t.Fatalf("no root element:\n%s", r.body)
	}
	return root
}

// parseJSON checks the content type and decodes with numbers kept apart
// from strings.
func parseJSON(t *testing.T, r reply) any {
	t.Helper()
	if r.ctype != "application/json; charset=utf-8" {
		t.Fatalf("content type %q, want application/json; charset=utf-8\n%s", r.ctype, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("malformed JSON: %v\n%s", err, r.body)
	}
	return v
}

func jsonArray(t *testing.T, v any) []map[string]any {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("want a JSON array, got %T: %v", v, v)
	}
	out := make([]map[string]any, len(arr))
	for i, e := range arr {
		if out[i], ok = e.(map[string]any); !ok {
			t.Fatalf("element %d is %T, want an object", i, e)
		}
	}
	return out
}

// str reads a JSON string field, failing when it is anything else.
func str(t *testing.T, m map[string]any, k string) string {
	t.Helper()
	s, ok := m[k].(string)
	if !ok {
		t.Fatalf("%q is %T (%v), want a JSON string in %v", k, m[k], m[k], m)
	}
	return s
}

// keysOf lists an object's keys, sorted.
func keysOf(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// expectError checks a spec error answer: status, the <errors> document in
// the format, each error with a code (a string in JSON) and a description,
// and returns the descriptions.
func expectError(t *testing.T, r reply, f string, status int) []string {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d:\n%s", r.status, status, r.body)
	}
	code := fmt.Sprint(status)
	var descs []string
	if f == "xml" {
		root := parseXML(t, r)
		if root.Name != "errors" || len(root.Kids) == 0 {
			t.Fatalf("root <%s> with %v, want <errors> with <error>s", root.Name, root.names())
		}
		for _, e := range root.Kids {
			if e.Name != "error" || strings.Join(e.names(), ",") != "code,description" {
				t.Fatalf("<%s> %v, want <error> with code, description", e.Name, e.names())
			}
			if e.val(t, "code") != code || e.val(t, "description") == "" {
				t.Fatalf("error %q %q, want code %s and a description", e.val(t, "code"), e.val(t, "description"), code)
			}
			descs = append(descs, e.val(t, "description"))
		}
		return descs
	}
	errs := jsonArray(t, parseJSON(t, r))
	if len(errs) == 0 {
		t.Fatal("empty error array")
	}
	for _, e := range errs {
		if strings.Join(keysOf(e), ",") != "code,description" || str(t, e, "code") != code || str(t, e, "description") == "" {
			t.Fatalf("error %v, want code %q and a description", e, code)
		}
		descs = append(descs, str(t, e, "description"))
	}
	return descs
}

// countCases counts all cases in the database.
func countCases(t *testing.T) int {
	t.Helper()
	n, err := plat.DB.CountCases(context.Background(), store.CaseFilter{Scope: store.Scope{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// actor returns a demo account as an actor.
func actor(t *testing.T, username string) cases.Actor {
	t.Helper()
	a, err := plat.DB.AccountByUsername(context.Background(), username)
	if err != nil {
		t.Fatalf("account %s: %v", username, err)
	}
	return a.Actor()
}

var pointSeq atomic.Int64

// pointInGridOf returns a fresh point in the grid a grid worker patrols.
func pointInGridOf(t *testing.T, username string) (geo.Point, string) {
	t.Helper()
	a := actor(t, username)
	parts := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	code := parts[len(parts)-1]
	rg, err := plat.DB.Region(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return pointIn(t, rg.Shape), code
}

// pointIn returns a point inside shape, a different one on each call, so
// that fresh cases do not pile up on one spot.
func pointIn(t *testing.T, shape geo.MultiPolygon) geo.Point {
	t.Helper()
	b := shape.Bounds()
	n := pointSeq.Add(1)
	for i := int64(0); i < 400; i++ {
		k := n*7919 + i*104729
		p := geo.Point{Lng: b.Min.Lng + float64(k%997)/997*(b.Max.Lng-b.Min.Lng), Lat: b.Min.Lat + float64((k/997)%991)/991*(b.Max.Lat-b.Min.Lat)}
		if shape.Contains(p) {
			return p
		}
	}
	t.Fatal("no point inside the shape")
	return geo.Point{}
}

// aq01 is a valid report of category AQ01 (hazardous chemicals), whose
// definition has a required string, a required single-value list and a number.
func aq01(t *testing.T, key string) url.Values {
	t.Helper()
	p, _ := pointInGridOf(t, "zhouchunyan")
	return url.Values{
		"api_key": {key}, "service_code": {"AQ01"},
		"lat": {fmt.Sprint(p.Lat)}, "long": {fmt.Sprint(p.Lng)},
		"address_string":       {"新影村社区某餐饮店"},
		"description":          {"商铺准备使用醇基燃料灶具"},
		"first_name":           {"张"},
		"last_name":            {"三"},
		"phone":                {"13800001234"},
		"email":                {"zhang@example.com"},
		"device_id":            {"dev-1"},
		"attribute[shop]":      {"某餐饮店"},
		"attribute[equipment]": {"alcohol_stove"},
		"attribute[quantity]":  {"3"},
	}
}

// report posts a report and returns its service_request_id.
func report(t *testing.T, f string, form url.Values) string {
	t.Helper()
	r := post(t, "/open311/v2/requests."+f, form)
	if r.status != http.StatusOK {
		t.Fatalf("report: %s", r)
	}
	if f == "xml" {
		return parseXML(t, r).child(t, "request").val(t, "service_request_id")
	}
	return str(t, jsonArray(t, parseJSON(t, r))[0], "service_request_id")
}

// sorted returns a sorted copy.
func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
