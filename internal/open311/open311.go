// Package open311 serves Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2)
// under /open311/v2/, in XML and JSON, over the same service as the rest of
// the platform: a request reported here is a case reported through
// service.Report with source open311, placed in its grid and routed like any
// other. It also serves the service discovery document, the v2.1 draft's
// multipart media and updated_after/updated_before, the page/page_size
// extension, and FixMyStreet's servicerequestupdates feed.
package open311

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/httpin"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// Prefix is where GeoReport v2 is served.
const Prefix = "/open311/v2/"

// Specification is the token service discovery names GeoReport v2 by.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// Options configure the Open311 endpoint.
type Options struct {
	// BaseURL is the public scheme and host, e.g. https://zhizhi.example.gov.
	// Empty: taken from each request (Host, TLS or X-Forwarded-Proto).
	BaseURL    string
	Contact    string // discovery: how to reach the operators
	KeyService string // discovery: how to get an API key
	Logger     *slog.Logger
}

// Handler serves GeoReport v2.
type Handler struct {
	svc *service.Service
	db  *store.DB
	opt Options
	log *slog.Logger

	mu        sync.Mutex // guards the discovery changeset
	catalog   [32]byte   // fingerprint of the services last seen
	changeset string     // when that catalog was first seen
}

// New returns the Open311 handler.
func New(svc *service.Service, opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Contact == "" {
		opt.Contact = "基层智治平台运维：请联系所在区基层治理指挥中心"
	}
	if opt.KeyService == "" {
		opt.KeyService = "API 密钥由平台管理员签发（zhizhi apikey create），请向所在区基层治理指挥中心申请"
	}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	return &Handler{svc: svc, db: svc.DB(), opt: opt, log: opt.Logger}
}

// Register adds the endpoint to mux.
func (h *Handler) Register(mux *http.ServeMux) { mux.Handle(Prefix, h) }

// format is a response format, named by the resource's extension.
type format int

const (
	formatXML format = iota
	formatJSON
)

// call is one request being served.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	f    format
	args []string // the segments matched by "*"
}

func (c *call) ctx() context.Context { return c.r.Context() }

// route is one row of the route table.
type route struct {
	method  string
	path    string // under Prefix, without the format; "*" matches one segment
	formats bool   // the last segment ends in .xml or .json
	h       func(*Handler, *call) error
	summary string
}

// routes is the endpoint's route table (filled in init: handlers are methods).
var routes []route

func init() {
	routes = []route{
		{"GET", "discovery", true, (*Handler).discovery, "Service discovery: contact, key service, endpoint and formats"},
		{"GET", "services", true, (*Handler).services, "The public categories as services"},
		{"GET", "services/*", true, (*Handler).definition, "A service definition: the category's questions as attributes"},
		{"POST", "requests", true, (*Handler).create, "Report a case (api_key required; form-encoded or multipart with media)"},
		{"GET", "requests", true, (*Handler).list, "Query requests"},
		{"GET", "requests/*", true, (*Handler).one, "One request by its service_request_id (the case number)"},
		{"GET", "tokens/*", true, (*Handler).token, "The service_request_id of a token"},
		{"GET", "servicerequestupdates", true, (*Handler).updates, "Updates in the key's region: a time window, or after a cursor in commit order (FixMyStreet extension; api_key required)"},
		{"POST", "servicerequestupdates", true, (*Handler).postUpdate, "A resident's follow-up from a client app: a comment, or reopens a closed request with status OPEN (api_key required)"},
		{"GET", "media/*/*", false, (*Handler).media, "A photo of a request or of its updates"},
	}
}

// bodyLimits are the routes whose bodies may be larger than maxForm (a
// report with its photos); docs/open311.md has the table.
var bodyLimits = map[string]int64{
	"POST requests": maxUpload,
}

// bodyLimit is the most bytes a request body to the route may hold.
func bodyLimit(method, path string) int64 {
	if n, ok := bodyLimits[method+" "+path]; ok {
		return n
	}
	return maxForm
}

// ServeHTTP routes a request under Prefix through the route table.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	last := segs[len(segs)-1]
	fsegs, ext := segs, ""
	if i := strings.LastIndexByte(last, '.'); i > 0 {
		fsegs = append(append([]string(nil), segs[:len(segs)-1]...), last[:i])
		ext = last[i+1:]
	}
	f := formatXML
	if ext == "json" {
		f = formatJSON
	}
	c := &call{w: w, r: r, f: f}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	var allow []string
	for _, rt := range routes {
		s := segs
		if rt.formats {
			s = fsegs
		}
		args, ok := match(rt.path, s)
		if !ok {
			continue
		}
		if rt.method != method {
			allow = append(allow, rt.method)
			continue
		}
		if rt.formats && ext != "xml" && ext != "json" {
			h.writeError(c, fail(http.StatusBadRequest, "格式应为 .xml 或 .json，如 "+Prefix+strings.Join(fsegs, "/")+".xml"))
			return
		}
		c.args = args
		// Every route's body is bounded (413 past it, at once when the
		// length is declared), and the path and query string must be
		// text no engine disagrees on.
		if err := httpin.Check(w, r, bodyLimit(rt.method, rt.path)); err != nil {
			h.writeError(c, err)
			return
		}
		if err := rt.h(h, c); err != nil {
			h.writeError(c, err)
		}
		return
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.writeError(c, fail(http.StatusBadRequest, "该地址不支持 "+r.Method+" 方法，应使用 "+strings.Join(allow, " 或 ")))
		return
	}
	h.writeError(c, fail(http.StatusNotFound, "没有这个接口："+r.URL.Path))
}

// match matches path segments against a route path.
func match(pattern string, segs []string) ([]string, bool) {
	ps := strings.Split(pattern, "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	var args []string
	for i, p := range ps {
		switch {
		case p == "*":
			if segs[i] == "" {
				return nil, false
			}
			args = append(args, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return args, true
}

// write sends a document in the call's format.
func (h *Handler) write(c *call, status int, d doc) {
	body, err := encode(c.f, d)
	if err != nil {
		h.log.Error("open311 encode", "path", c.r.URL.Path, "err", err)
		status, body = http.StatusInternalServerError, nil
	}
	ct := contentXML
	if c.f == formatJSON {
		ct = contentJSON
	}
	c.w.Header().Set("Content-Type", ct)
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(status)
	c.w.Write(body)
}

// failure is an error answered with an <errors> document.
type failure struct {
	status     int
	items      []errorItem
	retryAfter time.Duration
}

func (f *failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "open311 %d", f.status)
	for _, it := range f.items {
		b.WriteString("; " + it.Description)
	}
	return b.String()
}

// fail is a failure with one error whose code is the HTTP status.
func fail(status int, description string) *failure {
	return &failure{status: status, items: []errorItem{{Code: strconv.Itoa(status), Description: description}}}
}

// invalid is a 400 listing each problem as its own error.
func invalid(probs []problem) *failure {
	f := &failure{status: http.StatusBadRequest}
	for _, p := range probs {
		f.items = append(f.items, errorItem{Code: "400", Description: p.Param + "：" + p.Reason})
	}
	return f
}

// writeError answers with the spec's errors: 404 for a resource that does
// not exist, 403 for a missing or bad api_key, 400 for every other request
// that cannot be fulfilled (including failures behind the endpoint, as the
// spec's "general service error"), and 429 with Retry-After when a key is
// over its rate limit.
func (h *Handler) writeError(c *call, err error) {
	if apperr.ClientGone(c.r.Context(), err) {
		h.log.Debug("client went away", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		return
	}
	var f *failure
	if !errors.As(err, &f) {
		f = h.failureOf(c, err)
	}
	if f.retryAfter > 0 {
		c.w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.retryAfter.Seconds()))))
	}
	h.write(c, f.status, errorsDoc{Errors: f.items})
}

// failureOf maps a service error to the spec's errors: the status comes
// from the one kind-to-status table (apperr.Status), with the two changes
// GeoReport v2 asks for: a bad or missing key is 403 (the spec's code for an
// invalid api_key), and a refusal or conflict is 400 (the spec knows no
// 409). An error of no known kind is logged, its text never sent, and
// answered as the spec's "400 - General service error".
func (h *Handler) failureOf(c *call, err error) *failure {
	var e *apperr.Error
	if !errors.As(err, &e) || apperr.Status(err) == http.StatusInternalServerError {
		h.log.Error("open311 request failed", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		return fail(http.StatusBadRequest, "服务暂时无法处理该请求，请稍后重试")
	}
	status := apperr.Status(err)
	switch status {
	case http.StatusUnauthorized:
		status = http.StatusForbidden
	case http.StatusConflict:
		status = http.StatusBadRequest
	}
	if e.Kind == apperr.Invalid && len(e.Fields) > 0 {
		return invalid(problemsOf(e))
	}
	f := fail(status, e.Message)
	var rl *service.RateLimited
	if errors.As(err, &rl) {
		f.retryAfter = rl.RetryAfter
	}
	return f
}

// problemsOf names the fields of an Invalid error by their Open311 parameters.
func problemsOf(err error) []problem {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	probs := make([]problem, len(e.Fields))
	for i, fe := range e.Fields {
		probs[i] = problem{paramOf(fe.Field), fe.Reason}
	}
	return probs
}

// paramOf names the Open311 parameter behind a field of the domain's errors.
func paramOf(field string) string {
	switch {
	case field == "category":
		return "service_code"
	case field == "point":
		return "lat"
	case field == "address":
		return "address_string"
	case field == "reporter.name":
		return "first_name"
	case field == "reporter.phone":
		return "phone"
	case field == "photo", field == "photos", strings.HasPrefix(field, "photos["):
		return "media"
	case strings.HasPrefix(field, "answers."):
		return "attribute[" + strings.TrimPrefix(field, "answers.") + "]"
	}
	return field
}

// baseURL is the public scheme and host the answer's links use.
func (h *Handler) baseURL(r *http.Request) string {
	if h.opt.BaseURL != "" {
		return h.opt.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0])); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// offered reports whether a category is offered as a service.
func offered(c cases.Category) bool { return c.Public && c.Active }

// publicCodes lists the public categories, active or not: the requests that
// Open311 shows. Cases of other categories (party building, internal work)
// are not published.
func (h *Handler) publicCodes() []string {
	var out []string
	for _, c := range h.svc.Categories() {
		if c.Public {
			out = append(out, c.Code)
		}
	}
	return out
}

func (h *Handler) public(code string) bool {
	c, ok := h.svc.Category(code)
	return ok && c.Public
}

// discoveryChangeset is when the current catalog of services was first seen
// by this process: it moves forward whenever a service or its definition
// changes, telling clients to refresh what they cached.
func (h *Handler) discoveryChangeset() string {
	var offeredCats []cases.Category
	for _, c := range h.svc.Categories() {
		if offered(c) {
			c.Limits = nil
			offeredCats = append(offeredCats, c)
		}
	}
	b, _ := json.Marshal(offeredCats)
	sum := sha256.Sum256(b)
	h.mu.Lock()
	defer h.mu.Unlock()
	if sum != h.catalog || h.changeset == "" {
		h.catalog = sum
		h.changeset = h.svc.Now().In(zone).Format(time.RFC3339)
	}
	return h.changeset
}

func (h *Handler) discovery(c *call) error {
	cs := h.discoveryChangeset()
	h.write(c, http.StatusOK, discoveryDoc{
		Changeset: cs, Contact: h.opt.Contact, KeyService: h.opt.KeyService,
		Endpoints: []endpoint{{
			Specification: Specification, URL: h.baseURL(c.r) + strings.TrimSuffix(Prefix, "/"),
			Changeset: cs, Type: "production", Formats: []string{"text/xml", "application/json"},
		}},
	})
	return nil
}
