package api_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPhotoAccess (issue 20): a photo is served only by the signed address
// given with what carries it; its hash alone, a signature made for another
// photo or another expiry, and an expired address get nothing.
func TestPhotoAccess(t *testing.T) {
	t.Parallel()
	a := upload(t, "zhouchunyan", 41)
	b := upload(t, "zhouchunyan", 42)
	if !strings.HasPrefix(a.URL, "/api/v1/photos/"+a.Hash+"?") {
		t.Fatalf("upload gives no signed address: %+v", a)
	}
	// The address works for whoever holds it, signed in or not (a resident
	// following a case has no account).
	if st, body := call(t, "", "GET", a.URL, nil); st != 200 || len(body) != int(a.Size) {
		t.Errorf("signed address: %d, %d bytes", st, len(body))
	}
	// The thumbnail: the same signature with v=thumb; and only that.
	if a.ThumbURL != a.URL+"&v=thumb" {
		t.Errorf("thumb_url %q", a.ThumbURL)
	}
	if st, _ := call(t, "", "GET", a.ThumbURL, nil); st != 200 {
		t.Errorf("thumbnail: %d", st)
	}
	if st, body := call(t, "", "GET", a.URL+"&v=huge", nil); st != 400 || !strings.Contains(string(body), `"field":"v"`) {
		t.Errorf("unknown variant: %d %s", st, body)
	}
	if st, _ := call(t, "", "GET", strings.Replace(a.ThumbURL, "&s=", "&s=x", 1), nil); st != 404 {
		t.Errorf("thumbnail with a bad signature: %d", st)
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	exp, _ := strconv.ParseInt(q.Get("e"), 10, 64)
	if left := time.Unix(exp, 0).Sub(plat.Service.Now()); left < 12*time.Hour || left > 24*time.Hour {
		t.Errorf("address good for %v, want 12–24 h", left)
	}
	bu, _ := url.Parse(b.URL)
	for name, path := range map[string]string{
		"bare hash":               "/api/v1/photos/" + a.Hash,
		"no signature":            "/api/v1/photos/" + a.Hash + "?e=" + q.Get("e"),
		"other photo's signature": "/api/v1/photos/" + a.Hash + "?" + bu.RawQuery,
		"later expiry":            "/api/v1/photos/" + a.Hash + "?e=" + strconv.FormatInt(exp+43200, 10) + "&s=" + q.Get("s"),
		"expired":                 "/api/v1/photos/" + a.Hash + "?e=" + strconv.FormatInt(plat.Service.Now().Unix()-1, 10) + "&s=" + q.Get("s"),
		"bad expiry":              "/api/v1/photos/" + a.Hash + "?e=x&s=" + q.Get("s"),
	} {
		for _, tok := range []string{"", token(t, "zhouchunyan")} {
			if st, body := call(t, tok, "GET", path, nil); st != 404 || !strings.Contains(string(body), "照片") {
				t.Errorf("%s (signed in: %v): %d %s", name, tok != "", st, body)
			}
		}
	}
}

// TestPhotoAddressesInAnswers: a case's answers sign the photos they carry,
// and the addresses work.
func TestPhotoAddressesInAnswers(t *testing.T) {
	t.Parallel()
	p := upload(t, "zhouchunyan", 43)
	made := report(t, map[string]any{"photos": []map[string]any{{"hash": p.Hash}}})
	if len(made.Photos) != 1 || made.Photos[0].URL == "" {
		t.Errorf("report's answer: photos %+v", made.Photos)
	}
	c, steps := detail(t, "zhouchunyan", made.ID)
	if len(c.Photos) != 1 || c.Photos[0].URL == "" {
		t.Fatalf("case photos: %+v", c.Photos)
	}
	if len(steps) == 0 || len(steps[0].Photos) != 1 || steps[0].Photos[0].URL == "" {
		t.Fatalf("report step photos: %+v", steps)
	}
	for _, u := range []string{c.Photos[0].URL, steps[0].Photos[0].URL} {
		if st, body := call(t, "", "GET", u, nil); st != 200 || len(body) != int(p.Size) {
			t.Errorf("%s: %d, %d bytes", u, st, len(body))
		}
	}
}
