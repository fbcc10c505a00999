package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"zhizhi/internal/api"
)

// filler reads n bytes of 'a' without holding them.
func filler(n int64) io.Reader {
	return io.LimitReader(repeat('a'), n)
}

type repeat byte

func (b repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestBodyLimitEveryRoute: every POST, PATCH and PUT route of the route
// table answers 413 to a body one byte over its limit, whether the length
// is declared (refused before reading) or the body is streamed without one
// (refused when reading passes the limit), and takes a body at its limit
// past the size check.
func TestBodyLimitEveryRoute(t *testing.T) {
	tok := token(t, "admin")
	n := 0
	for _, key := range api.RouteKeys() {
		method, path, _ := strings.Cut(key, " ")
		if method != "POST" && method != "PATCH" && method != "PUT" {
			continue
		}
		n++
		limit := api.BodyLimit(method, path)
		url := srv.URL + pathParam.ReplaceAllString(path, "x")
		// A streamed body starts as its route expects, so that the handler
		// reads on rather than refusing what it says.
		prefix := map[string]string{
			"POST /api/v1/photos":         "\xff\xd8\xff\xe0",
			"POST /api/v1/regions/import": `{"type":"FeatureCollection","features":[{"type":"`,
		}[key]
		for _, declared := range []bool{true, false} {
			body := io.MultiReader(strings.NewReader(prefix), filler(limit+1-int64(len(prefix))))
			req, _ := http.NewRequest(method, url, body)
			if declared {
				req.ContentLength = limit + 1
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Errorf("%s (declared %v): %v", key, declared, err)
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte(`"code":"too_large"`)) || !bytes.Contains(b, []byte("过大")) && !bytes.Contains(b, []byte("照片不能超过")) {
				t.Errorf("%s (declared %v) with %d bytes: %d %.200s", key, declared, limit+1, resp.StatusCode, b)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d write routes in the table", n)
	}
	// The OpenAPI document announces each write route's limit.
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Description string `json:"description"`
			} `json:"responses"`
		} `json:"paths"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/openapi.json", nil), &doc)
	for _, key := range api.RouteKeys() {
		method, path, _ := strings.Cut(key, " ")
		if method != "POST" && method != "PATCH" && method != "PUT" {
			continue
		}
		want := fmt.Sprintf("over %d bytes", api.BodyLimit(method, path))
		if got := doc.Paths[path][strings.ToLower(method)].Responses["413"].Description; !strings.Contains(got, want) {
			t.Errorf("OpenAPI %s: 413 %q, want %q", key, got, want)
		}
	}
	// A JSON body at the limit is read whole (and refused for what it says).
	st, b := call(t, tok, "POST", "/api/v1/cases", `{"description":"`+strings.Repeat("a", 1<<20-18)+`"}`)
	if st != http.StatusBadRequest {
		t.Fatalf("a body at the limit: %d %.200s", st, b)
	}
}
