package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"zhizhi/internal/web"
)

func fetchAsset(t *testing.T, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestStaticAssetsHashedAndCompressed: pages name static files by content
// hash; those answer gzip when accepted, cached for a year as immutable,
// with Vary and an ETag; the plain names keep a short lifetime.
func TestStaticAssetsHashedAndCompressed(t *testing.T) {
	echarts := asset(t, "vendor/echarts/echarts.simple.min.js")
	if !regexp.MustCompile(`^/static/vendor/echarts/echarts\.simple\.min\.[0-9a-f]{10}\.js$`).MatchString(echarts) {
		t.Fatalf("hashed name %q", echarts)
	}
	plain, _ := os.ReadFile(filepath.Join("static", "vendor", "echarts", "echarts.simple.min.js"))
	res, body := fetchAsset(t, echarts, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	h := res.Header
	if res.StatusCode != 200 || h.Get("Content-Encoding") != "gzip" || h.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.Contains(h.Get("Vary"), "Accept-Encoding") || h.Get("ETag") == "" || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") {
		t.Fatalf("hashed ECharts: %d %v", res.StatusCode, h)
	}
	if len(body) > len(plain)/2 {
		t.Errorf("gzipped ECharts is %d bytes of %d", len(body), len(plain))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if unz, _ := io.ReadAll(zr); !bytes.Equal(unz, plain) {
		t.Fatal("the gzipped body is not the file")
	}
	// 304 for the same representation.
	if res2, _ := fetchAsset(t, echarts, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": h.Get("ETag")}); res2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", res2.StatusCode)
	}
	// No gzip for a client that does not take it (or refuses it).
	for _, ae := range []string{"", "identity", "gzip;q=0, br"} {
		res, body := fetchAsset(t, echarts, map[string]string{"Accept-Encoding": ae})
		if res.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, plain) || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: %v, %d bytes", ae, res.Header, len(body))
		}
	}
	// The plain name still serves, with the short lifetime.
	res, _ = fetchAsset(t, "/static/vendor/echarts/echarts.simple.min.js", map[string]string{"Accept-Encoding": "gzip"})
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=300" || res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("plain name: %d %v", res.StatusCode, res.Header)
	}
	// Images are not gzipped again; unknown and stale hashes are 404.
	res, _ = fetchAsset(t, asset(t, "vendor/leaflet/images/marker-icon.png"), map[string]string{"Accept-Encoding": "gzip"})
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "" || res.Header.Get("Content-Type") != "image/png" {
		t.Errorf("png: %d %v", res.StatusCode, res.Header)
	}
	for _, p := range []string{"/static/app.0000000000.css", "/static/nope.js", "/static/"} {
		if res, _ := fetchAsset(t, p, nil); res.StatusCode != 404 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	// Pages name the hashed files.
	d := signIn(t, "qu_zhihui").get("/dashboard")
	expect(t, d, 200, echarts, asset(t, "app.css"), asset(t, "dashboard.js"))
	if strings.Contains(d.body, `"/static/app.css"`) {
		t.Error("the dashboard names the plain stylesheet")
	}
}

// TestTemplatesNameAssetsByHash: no template writes a /static/ address by
// hand; each goes through the asset function (which refuses a name that is
// not embedded).
func TestTemplatesNameAssetsByHash(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("templates", "*.html"))
	bare := regexp.MustCompile(`(?:src|href|data-[a-z-]+)="/static/`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if m := bare.Find(b); m != nil {
			t.Errorf("%s writes a static address by hand: %s", f, m)
		}
	}
	if u, err := web.AssetURL("no-such.js"); err == nil {
		t.Errorf("an unknown asset got an address: %s", u)
	}
	if len(files) < 10 {
		t.Fatalf("found %d templates", len(files))
	}
}
