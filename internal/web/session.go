package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/service"
)

// preCookie carries a random value for visitors not signed in yet, so the
// sign-in form has a CSRF token too (against login CSRF).
const preCookie = "zhizhi_pre"

// csrfField is the hidden form field, csrfHeader the header scripts may use.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// csrfToken is the HMAC of the session token (or of the pre-session value)
// under the server's key: it cannot be guessed from outside, needs no
// storage, and dies with the session.
func (c *Console) csrfToken(r *http.Request) string {
	if s := sessionOf(r); s != "" {
		return c.mac("session:" + s)
	}
	if ck, err := r.Cookie(preCookie); err == nil && ck.Value != "" {
		return c.mac("pre:" + ck.Value)
	}
	if v, ok := r.Context().Value(preKey).(string); ok {
		return c.mac("pre:" + v)
	}
	return ""
}

type preKeyT struct{}

var preKey preKeyT

func (c *Console) mac(s string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether a POST carries the token of its session (or of
// its pre-session cookie, on the sign-in form). The form is parsed here
// (also when the token comes as a header), so its fields can be checked
// before any handler runs; the error is a body that could not be read
// because it is over its route's limit (413).
func (c *Console) checkCSRF(r *http.Request) (bool, error) {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(maxMemory)
	} else {
		// A form of fields is held in memory: at most maxForm of it,
		// whatever the route takes as files.
		r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return false, apperr.BodyTooLarge(tooBig.Limit)
	}
	want := c.csrfToken(r)
	if want == "" {
		return false, nil
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return hmac.Equal([]byte(got), []byte(want)), nil
}

// maxMemory is how much of a multipart form is held in memory; the rest
// (photos) goes to temporary files.
const maxMemory = 8 << 20

// maxForm bounds the body of every console route that bodyLimits does not
// name: a form of fields, no files.
const maxForm = 1 << 20

// maxUpload bounds a form with photos: nine photos of 10 MB and the fields.
const maxUpload = 9*service.MaxPhoto + maxForm

// bodyLimits are the console's routes whose bodies may be larger than
// maxForm: the forms that carry photos, and the region file. docs/console.md
// and docs/operations.md have the table.
var bodyLimits = map[string]int64{
	"POST /cases/{id}/act":          maxUpload,
	"POST /m/report":                maxUpload,
	"POST /r":                       maxUpload,
	"POST /mine/report":             maxUpload,
	"POST /admin/regions":           service.MaxRegionImport + maxForm,
	"POST /qiye/enterprises/import": maxEnterpriseImport + maxForm,
	"POST /sensors/admin/import":    service.MaxDeviceImportBytes + maxForm,
	"POST /operations":              maxOperationForm,
	"POST /operations/{id}":         maxOperationForm,
}

// bodyLimit is the most bytes a request body to the console route may hold.
func bodyLimit(method, path string) int64 {
	if n, ok := bodyLimits[method+" "+path]; ok {
		return n
	}
	return maxForm
}

func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func (c *Console) setPreCookie(w http.ResponseWriter, r *http.Request) *http.Request {
	if ck, err := r.Cookie(preCookie); err == nil && ck.Value != "" {
		return r
	}
	b := make([]byte, 18)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: v, Path: "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(service.SessionTTL / time.Second)})
	return r.WithContext(contextWith(r, preKey, v))
}

type signInView struct {
	Username string
	Next     string
	Error    string
	Fields   map[string]string
}

func (v *signInView) title() string { return "登录" }

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) error {
	if ck, err := r.Cookie(SessionCookie); err == nil {
		if a, err := c.svc.Authenticate(r.Context(), ck.Value); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next"), c.homeFor(a)), http.StatusSeeOther)
			return nil
		}
	}
	r = c.setPreCookie(w, r)
	c.render(w, r, http.StatusOK, "signin", &signInView{Next: safeNext(r.URL.Query().Get("next"), "")})
	return nil
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) error {
	v := &signInView{Username: strings.TrimSpace(r.PostFormValue("username")), Next: safeNext(r.PostFormValue("next"), "")}
	token, acct, err := c.svc.SignInFrom(r.Context(), c.clientAddr(r), r.PostFormValue("username"), r.PostFormValue("password"))
	if err != nil {
		var status int
		switch apperr.KindOf(err) {
		case apperr.Invalid:
			status, v.Fields = http.StatusBadRequest, fieldMap(err)
		case apperr.Unauthorized:
			status, v.Error = http.StatusUnauthorized, messageOf(err)
		case apperr.TooMany:
			status, v.Error = http.StatusTooManyRequests, messageOf(err)
			retryAfter(w, err)
		default:
			return err
		}
		c.render(w, r, status, "signin", v)
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(service.SessionTTL / time.Second)})
	http.Redirect(w, r, safeNext(v.Next, c.homeFor(c.svc.ActorOf(acct))), http.StatusSeeOther)
	return nil
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := c.svc.SignOut(r.Context(), sessionOf(r)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-sign-in redirect on this site: a local path only.
func safeNext(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/signin") || strings.HasPrefix(next, "/api/") {
		return fallback
	}
	return next
}

// clientAddr is the client's address: the connection's peer, or whom a
// trusted proxy says it forwards for (service.ClientAddr).
func (c *Console) clientAddr(r *http.Request) string { return c.svc.ClientAddr(r) }

// retryAfter sets Retry-After from a rate-limit error.
func retryAfter(w http.ResponseWriter, err error) {
	var rl *service.RateLimited
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(rl.RetryAfter.Seconds())))))
	}
}
