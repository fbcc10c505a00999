package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"sync"
)

// The grid worker's phone pages work without signal. A service worker
// (static/sw.js, served as /sw.js with the scope /m) keeps the phone pages
// and their assets in the browser's cache; the report form (static/
// offline.js) keeps every report in IndexedDB, with its photos as Blobs and
// a reference made on the phone, until the server has taken it. The server
// deduplicates by that reference (cases.Report.ClientRef), so a report sent
// again after a lost answer makes no second case.

// swScope is where the service worker works: the grid worker's pages.
const swScope = "/m"

// swAssets are the static files the worker keeps on install, by plain
// name; it asks for their content-hashed addresses, which the phone pages
// name. The pages' other assets (the map's script) are kept when a page
// asks (offline.js warms the worker with every asset the page names).
var swAssets = []string{"app.css", "clock.js", "photos.js", "report.js", "phone.js", "offline.js", "offline.css", "patrol.js", "favicon.svg"}

var (
	swOnce  sync.Once
	swBody  []byte
	swError error
)

// serviceWorkerScript is static/sw.js with the version of the embedded
// assets written in, so that a new binary installs a new worker, which
// caches the new assets and drops the old ones.
func serviceWorkerScript() ([]byte, error) {
	swOnce.Do(func() {
		src, err := fs.ReadFile(staticFS, "static/sw.js")
		if err != nil {
			swError = err
			return
		}
		h := sha256.New()
		err = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(staticFS, p)
			if err != nil {
				return err
			}
			h.Write([]byte(p))
			h.Write(b)
			return nil
		})
		if err != nil {
			swError = err
			return
		}
		version := hex.EncodeToString(h.Sum(nil))[:12]
		urls := make([]string, len(swAssets))
		for i, name := range swAssets {
			if urls[i], swError = assetURL(name); swError != nil {
				return
			}
		}
		list, _ := json.Marshal(urls)
		swBody = bytes.ReplaceAll(src, []byte("__VERSION__"), []byte(version))
		swBody = bytes.ReplaceAll(swBody, []byte("__ASSETS__"), list)
	})
	return swBody, swError
}

// serviceWorker serves the service worker from the site's root, so that its
// scope may be /m (a worker's scope cannot lie above its script's folder).
func (c *Console) serviceWorker(w http.ResponseWriter, r *http.Request) error {
	body, err := serviceWorkerScript()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	// The browser checks for a new worker on every navigation; it must see
	// the server's current script, never a cached one.
	h.Set("Cache-Control", "no-cache")
	h.Set("Service-Worker-Allowed", swScope)
	w.Write(body)
	return nil
}
