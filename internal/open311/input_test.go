package open311_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"zhizhi/internal/open311"
)

type repeat byte

func (b repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// TestBodyLimitEveryRoute: every route of the table that takes a body
// answers 413 to one byte over its limit, declared or streamed.
func TestBodyLimitEveryRoute(t *testing.T) {
	routes := open311.WriteRoutes()
	if len(routes) == 0 {
		t.Fatal("no write routes")
	}
	for key, limit := range routes {
		method, path, _ := strings.Cut(key, " ")
		path = strings.ReplaceAll(path, "*", "x")
		for _, declared := range []bool{true, false} {
			for _, ctype := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=zz"} {
				prefix := "api_key=demo&description="
				if strings.HasPrefix(ctype, "multipart") {
					prefix = "--zz\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\n\r\n"
				}
				body := io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeat('a'), limit+1-int64(len(prefix))))
				req, _ := http.NewRequest(method, srv.URL+open311.Prefix+path, body)
				if declared {
					req.ContentLength = limit + 1
				}
				req.Header.Set("Content-Type", ctype)
				r := do(t, req)
				if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), "过大") {
					t.Errorf("%s %s (declared %v): %d %.300s", key, ctype, declared, r.status, r.body)
				}
			}
		}
	}
}

// TestParamsNoEngineDisagreesOn: a NUL byte or invalid UTF-8 in any
// parameter, of a form or a query string, is 400 naming the parameter;
// nothing is stored.
func TestParamsNoEngineDisagreesOn(t *testing.T) {
	before := countCases(t)
	for name, set := range map[string][2]string{
		"NUL in the address":    {"address_string", "新影村\x00"},
		"NUL in a first name":   {"first_name", "三\x00"},
		"bad UTF-8 in an email": {"email", "a\xff@example.com"},
		"NUL in an attribute":   {"attribute[shop]", "店\x00"},
		"NUL in the device id":  {"device_id", "\x00"},
	} {
		form := aq01(t, demoKey)
		form.Set(set[0], set[1])
		r := post(t, "/open311/v2/requests.json", form)
		descs := expectError(t, r, "json", http.StatusBadRequest)
		if !strings.Contains(strings.Join(descs, ";"), set[0]) {
			t.Errorf("%s: %v", name, descs)
		}
	}
	if n := countCases(t); n != before {
		t.Fatalf("%d cases stored by refused requests", n-before)
	}
	for _, q := range []string{"/open311/v2/requests.json?service_code=%00", "/open311/v2/requests.json?status=%FF"} {
		expectError(t, get(t, q), "json", http.StatusBadRequest)
	}
}
