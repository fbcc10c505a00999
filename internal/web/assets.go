package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// The console's static files (static/, embedded) are served with their
// content hash in the name and compressed:
//
//   - Once per process, at the first request or page (assetTable), every
//     embedded file is hashed (SHA-256, 10 hex digits) and, when it is text
//     (CSS, JavaScript, SVG, JSON, text) and gzip makes it smaller, gzipped
//     at the best level. The embedded files never change while the process
//     runs, so this is done once, not per request, and the binary carries
//     only the originals (no build step to forget).
//   - Templates name files through the asset function: {{asset "app.css"}}
//     is /static/app.1a2b3c4d5e.css. A hashed name is served with
//     "Cache-Control: public, max-age=31536000, immutable": a new binary
//     with other content has other names, so nothing stale is ever kept.
//   - The plain name (/static/app.css) still works, with a short lifetime
//     (max-age=300), for what cannot be rewritten: Leaflet's marker images,
//     which it names itself, and pages a browser kept from an older binary.
//   - Either name answers gzip to a client that accepts it, with
//     "Vary: Accept-Encoding" on every answer, an ETag per representation,
//     and 304 to a matching If-None-Match.

// assetLongCache is the Cache-Control of a content-hashed name.
const assetLongCache = "public, max-age=31536000, immutable"

// assetShortCache is the Cache-Control of a plain name.
const assetShortCache = "public, max-age=300"

type asset struct {
	name   string // path under static/, e.g. "vendor/leaflet/leaflet.js"
	hashed string // the same with the content hash, "vendor/leaflet/leaflet.1a2b3c4d5e.js"
	hash   string
	ctype  string
	body   []byte
	gz     []byte // nil when not worth compressing
}

type assets struct {
	byName   map[string]*asset // by plain name
	byServed map[string]*asset // by plain and by hashed name
}

var (
	assetOnce sync.Once
	assetSet  *assets
	assetErr  error
)

// assetTable hashes and compresses the embedded static files once.
func assetTable() (*assets, error) {
	assetOnce.Do(func() {
		set := &assets{byName: map[string]*asset{}, byServed: map[string]*asset{}}
		assetErr = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(staticFS, p)
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(p, "static/")
			sum := sha256.Sum256(b)
			a := &asset{name: name, hash: hex.EncodeToString(sum[:])[:10], body: b}
			a.hashed = hashedName(name, a.hash)
			ext := path.Ext(name)
			a.ctype = mime.TypeByExtension(ext)
			if a.ctype == "" {
				a.ctype = http.DetectContentType(b)
			}
			if compressible(ext) {
				var buf bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
				zw.Write(b)
				if err := zw.Close(); err != nil {
					return err
				}
				if buf.Len() < len(b)*9/10 {
					a.gz = buf.Bytes()
				}
			}
			set.byName[name] = a
			set.byServed[name] = a
			set.byServed[a.hashed] = a
			return nil
		})
		assetSet = set
	})
	return assetSet, assetErr
}

// hashedName puts the hash before the extension: app.css → app.HASH.css.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

func compressible(ext string) bool {
	switch ext {
	case ".css", ".js", ".svg", ".json", ".txt", ".md", ".map", ".html":
		return true
	}
	return false
}

// assetURL is the template function asset: the content-hashed address of a
// static file, "/static/app.1a2b3c4d5e.css". A name that is not embedded is
// an error, so a typo fails the page (and its test) instead of a 404 later.
func assetURL(name string) (string, error) {
	set, err := assetTable()
	if err != nil {
		return "", err
	}
	a, ok := set.byName[strings.TrimPrefix(name, "/static/")]
	if !ok {
		return "", fmt.Errorf("asset %q is not in static/", name)
	}
	return "/static/" + a.hashed, nil
}

// serveAsset serves /static/NAME (NAME already stripped of the prefix).
func serveAsset(w http.ResponseWriter, r *http.Request) {
	set, err := assetTable()
	if err != nil {
		http.Error(w, "static files unavailable", http.StatusInternalServerError)
		return
	}
	name := r.URL.Path
	a, ok := set.byServed[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	if name == a.hashed {
		h.Set("Cache-Control", assetLongCache)
	} else {
		h.Set("Cache-Control", assetShortCache)
	}
	h.Set("Content-Type", a.ctype)
	body, etag := a.body, `"`+a.hash+`"`
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = a.gz, `"`+a.hash+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match (304), HEAD and ranges of the
	// representation chosen.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without
// q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			if coding == "gzip" {
				return false
			}
			continue
		}
		return true
	}
	return false
}
