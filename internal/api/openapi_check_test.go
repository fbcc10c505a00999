package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"zhizhi/internal/api"
)

// Every answer the API suite gets is checked against the OpenAPI document
// (issue 20): its status must be one the document gives for the route, and
// its JSON body must match the schema the document gives for that status.
// Objects are closed: a field the document does not name is a mismatch, so
// a new field cannot go undocumented. At the end of the suite every route's
// documented success must have been seen at least once.

var (
	answersMu  sync.Mutex
	mismatches = map[string]int{} // "route status: problem" → times
	succeeded  = map[string]bool{}
	apiDoc     = api.Document()
)

// captured is a response writer that keeps the body for the check.
type captured struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captured) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
	c.ResponseWriter.WriteHeader(s)
}

func (c *captured) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = 200
	}
	if c.body.Len() < 8<<20 {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *captured) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// checkAnswers wraps the platform's handler with the check.
func checkAnswers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") || r.URL.Path == "/api/v1/events" {
			next.ServeHTTP(w, r)
			return
		}
		c := &captured{ResponseWriter: w}
		next.ServeHTTP(c, r)
		checkAnswer(r.Pattern, c.status, c.Header().Get("Content-Type"), c.body.Bytes())
	})
}

func note(key, problem string) {
	answersMu.Lock()
	mismatches[key+": "+problem]++
	answersMu.Unlock()
}

func checkAnswer(pattern string, status int, ctype string, body []byte) {
	if pattern == "" {
		return // no route: the mux's own 404 or 405
	}
	method, path, _ := strings.Cut(pattern, " ")
	key := pattern + " " + strconv.Itoa(status)
	op, _ := apiDoc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if op == nil {
		note(key, "the route is not in the document")
		return
	}
	resp, _ := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if resp == nil {
		note(key, "status not documented for the route")
		return
	}
	if status < 300 {
		answersMu.Lock()
		succeeded[pattern] = true
		answersMu.Unlock()
	}
	content, _ := resp["content"].(map[string]any)
	js, _ := content["application/json"].(map[string]any)
	if js == nil {
		if len(content) == 0 && len(body) > 0 && status != 204 {
			note(key, "a body the document does not describe")
		}
		return
	}
	if !strings.HasPrefix(ctype, "application/json") {
		note(key, "content type "+ctype+", want JSON")
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		note(key, "body is not JSON: "+err.Error())
		return
	}
	for _, p := range validate(js["schema"].(map[string]any), v, "$") {
		note(key, p)
	}
}

// validate checks a JSON value against the document's schema subset.
func validate(s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		target, _ := apiDoc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
		if target == nil {
			return []string{at + ": no schema " + name}
		}
		return validate(target, v, at)
	}
	if v == nil {
		if n, _ := s["nullable"].(bool); n || len(s) == 0 || s["type"] == nil && s["allOf"] == nil {
			return nil
		}
		return []string{at + ": null"}
	}
	if all, ok := s["allOf"].([]any); ok {
		var out []string
		for _, sub := range all {
			out = append(out, validate(sub.(map[string]any), v, at)...)
		}
		return out
	}
	switch s["type"] {
	case nil:
		return nil
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an object", at, v)}
		}
		var out []string
		props, _ := s["properties"].(map[string]any)
		extra, _ := s["additionalProperties"].(map[string]any)
		for k, fv := range m {
			if ps, ok := props[k].(map[string]any); ok {
				out = append(out, validate(ps, fv, at+"."+k)...)
			} else if extra != nil {
				out = append(out, validate(extra, fv, at+"."+k)...)
			} else if props != nil {
				out = append(out, at+"."+k+": not in the document")
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				out = append(out, at+"."+r.(string)+": required, missing")
			}
		}
		return out
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an array", at, v)}
		}
		var out []string
		items, _ := s["items"].(map[string]any)
		for i, it := range a {
			if items != nil {
				out = append(out, validate(items, it, at+"[]")...)
			}
			if i > 50 || len(out) > 0 {
				break
			}
		}
		return out
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want a string", at, v)}
		}
		if e, ok := s["enum"].([]any); ok {
			for _, x := range e {
				if x == str {
					return nil
				}
			}
			return []string{at + ": " + strconv.Quote(str) + " not among the enum"}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return []string{fmt.Sprintf("%s: %v, want an integer", at, v)}
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: %T, want a number", at, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %T, want a boolean", at, v)}
		}
	}
	return nil
}

// answersReport writes what did not match and which routes never answered
// their documented success; it says whether all is well.
func answersReport() bool {
	answersMu.Lock()
	defer answersMu.Unlock()
	ok := true
	var lines []string
	for k, n := range mismatches {
		lines = append(lines, fmt.Sprintf("  %s (%d×)", k, n))
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		ok = false
		fmt.Fprintf(os.Stderr, "answers that do not match the OpenAPI document:\n%s\n", strings.Join(lines, "\n"))
	}
	var missing []string
	for k := range api.RouteResponses() {
		if !succeeded[k] && k != "GET /api/v1/events" && k != "GET /api/v1/operations/{id}/live" { // a stream, not checked here (events_test.go)
			missing = append(missing, "  "+k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		ok = false
		fmt.Fprintf(os.Stderr, "routes whose documented success the suite never saw:\n%s\n", strings.Join(missing, "\n"))
	}
	return ok
}
