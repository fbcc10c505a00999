// Package web is the console: server-rendered pages (html/template) over the
// same service as the JSON API, with its stylesheet and scripts embedded.
// Every change goes through service.Act or service.Report, so the console
// can do nothing the rules do not allow; it only shows the forms of the
// actions cases.Actions offers the signed-in person.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/httpin"
	"zhizhi/internal/service"
	"zhizhi/internal/textcheck"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// SessionCookie is the cookie holding the session token; the JSON API
// accepts it too, so the pages' scripts can call the API.
const SessionCookie = "zhizhi_session"

// Console is the console's HTTP handler.
type Console struct {
	svc    *service.Service
	log    *slog.Logger
	key    []byte // signs CSRF tokens; made at start, so a restart expires open forms
	pages  map[string]*template.Template
	mux    *http.ServeMux
	static http.Handler
	origin *http.CrossOriginProtection

	figures service.Recent[service.Today] // the board's figures per scope, briefly

	maps                    *service.Maps // the map's geometry and open cases (map.go)
	tiles, tilesAttribution string        // an optional base-map tile layer (SetTiles)
}

// access says who may open a page: nobody signed in (public), anyone signed
// in (roles nil), or only some roles.
type access struct {
	public bool
	roles  []cases.Role
}

var (
	public     = access{public: true}
	signed     = access{}
	commanders = access{roles: []cases.Role{cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}
	gridPeople = access{roles: []cases.Role{cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead}}
	unitStaff  = access{roles: []cases.Role{cases.RoleUnit, cases.RoleCommunity}}
	// staff are the roles that work cases (everyone but residents and
	// enterprises): the paper forms are theirs.
	staff = access{roles: []cases.Role{cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead, cases.RoleCommander,
		cases.RoleUnit, cases.RoleCommunity, cases.RoleLeader, cases.RoleAdmin}}
)

// route is one row of the console's route table.
type route struct {
	method, path string
	access       access
	h            func(*Console, http.ResponseWriter, *http.Request) error
}

// routes is the console's route table.
var routes = []route{
	{"GET", "/{$}", signed, (*Console).home},
	{"GET", "/signin", public, (*Console).signInPage},
	{"POST", "/signin", public, (*Console).signIn},
	{"POST", "/signout", signed, (*Console).signOut},
	{"GET", "/board", commanders, (*Console).board},
	{"GET", "/board/rows/{id}", commanders, (*Console).boardRow},
	{"GET", "/board/figures", commanders, (*Console).boardFigures},
	{"GET", "/board/panel/{id}", commanders, (*Console).boardPanel},
	{"GET", "/board/alerts", commanders, (*Console).boardAlerts},
	{"GET", "/board/export", commanders, (*Console).boardExport},
	{"POST", "/board/batch", commanders, (*Console).boardBatch},
	{"POST", "/board/filters", commanders, (*Console).boardSaveFilter},
	{"POST", "/board/filters/{id}/delete", commanders, (*Console).boardDeleteFilter},
	{"GET", "/cases", commanders, (*Console).figureCases},
	{"GET", "/cases/export", commanders, (*Console).figureCasesExport},
	{"GET", "/cases/{id}", signed, (*Console).casePage},
	{"POST", "/cases/{id}/act", signed, (*Console).act},
	{"POST", "/cases/{id}/phone", signed, (*Console).revealPhone},
	{"GET", "/m", gridPeople, (*Console).worker},
	{"GET", "/m/report", gridPeople, (*Console).reportPage},
	{"POST", "/m/report", gridPeople, (*Console).report},
	{"GET", "/m/day", gridWorkers, (*Console).gridDay},
	{"GET", "/m/visit", gridWorkers, (*Console).householdVisitPage},
	{"POST", "/m/visit", gridWorkers, (*Console).householdVisit},
	{"GET", "/m/team", gridLeads, (*Console).gridTeam},
	{"POST", "/m/team/{grid}/photo", gridLeads, (*Console).teamPhoto},
	{"GET", "/m/poster/{grid}", gridLeads, (*Console).gridPoster},
	{"GET", "/m/poster/{grid}/qr.png", gridLeads, (*Console).gridPosterQR},
	{"GET", "/party", partyReaders, (*Console).partyPage},
	{"POST", "/party/{what}", partyReaders, (*Console).partyPost},
	{"GET", "/m/messages", gridWorkers, (*Console).gridMessages},
	{"POST", "/m/messages/{id}", gridWorkers, (*Console).actOnMessage},
	{"GET", "/r/g/{grid}", public, (*Console).doorPage},
	{"POST", "/r/g/{grid}", public, (*Console).doorPost},
	{"GET", "/r/g/{grid}/m/{key}", public, (*Console).doorFollow},
	{"GET", "/inbox", unitStaff, (*Console).inbox},
	{"GET", "/inbox/export", unitStaff, (*Console).inboxExport},
	{"GET", "/workbench", unitStaff, (*Console).workbench},
	{"GET", "/mine", signed, (*Console).mine},
	{"GET", "/mine/report", owners, (*Console).ownReportPage},
	{"POST", "/mine/report", owners, (*Console).ownReport},
	{"GET", "/cases/{id}/print", staff, (*Console).printPage},
	{"GET", "/appeals", appealers, (*Console).appeals},
	{"GET", "/held", commanders, (*Console).held},
	{"POST", "/held", screeners, (*Console).screen},
	{"GET", "/sw.js", public, (*Console).serviceWorker},
	{"GET", "/r", public, (*Console).residentPage},
	{"POST", "/r", public, (*Console).residentReport},
	{"GET", "/r/follow", public, (*Console).residentFollowPage},
	{"POST", "/r/follow", public, (*Console).residentFollow},
	{"POST", "/r/rate", public, (*Console).residentRate},
	{"GET", "/r/map/home", public, (*Console).mapHome},
	{"GET", "/r/map/shapes", public, (*Console).mapShapes},
	{"GET", "/cases/{id}/whistles", signed, (*Console).whistleBoard},
	{"GET", "/admin/apikeys", keyAdmins, (*Console).apiKeysPage},
	{"POST", "/admin/apikeys", keyAdmins, (*Console).createAPIKey},
	{"POST", "/admin/apikeys/{id}/revoke", keyAdmins, (*Console).revokeAPIKey},
	{"POST", "/admin/apikeys/{id}/statuses", keyAdmins, (*Console).setAPIKeyStatuses},
	{"GET", "/admin/sms", admins, (*Console).smsPage},
	{"POST", "/admin/sms", admins, (*Console).saveSMS},
	{"POST", "/admin/sms/test", admins, (*Console).testSMS},
	{"GET", "/admin/webhooks", keyAdmins, (*Console).webhooksPage},
	{"POST", "/admin/webhooks", keyAdmins, (*Console).createWebhook},
	{"GET", "/admin/webhooks/{id}", keyAdmins, (*Console).webhookLog},
	{"POST", "/admin/webhooks/{id}/state", keyAdmins, (*Console).setWebhookState},
	{"POST", "/admin/webhooks/{id}/delete", keyAdmins, (*Console).deleteWebhook},
	{"GET", "/map/shapes", mapUsers, (*Console).mapShapes},
	{"GET", "/map/home", mapUsers, (*Console).mapHome},
	{"GET", "/dashboard", commanders, (*Console).dashboard},
	{"GET", "/dashboard/export", commanders, (*Console).dashboardExport},
	{"GET", "/dashboard/cases", commanders, (*Console).dashboardCases},
	{"GET", "/dashboard/cases/export", commanders, (*Console).dashboardCasesExport},
	{"GET", "/evaluation", commanders, (*Console).evaluationPage},
	{"GET", "/evaluation/export", commanders, (*Console).evaluationExport},
	{"GET", "/evaluation/map", commanders, (*Console).evaluationMap},
	{"GET", "/evaluation/top10", commanders, (*Console).evaluationTop10},
	{"GET", "/evaluation/top10/export", commanders, (*Console).evaluationTop10Export},
	{"GET", "/evaluation/{kind}/{subject}", commanders, (*Console).evaluationCard},
	{"GET", "/evaluation/{kind}/{subject}/export", commanders, (*Console).evaluationCardExport},
	{"GET", "/leader", leaderOnly, (*Console).leaderHome},
	{"GET", "/lists", steerers, (*Console).listsPage},
	{"GET", "/lists/{id}", steerers, (*Console).listBoard},
	{"GET", "/lists/{id}/export", steerers, (*Console).listExport},
	{"POST", "/lists/{id}/urge", listSteerers, (*Console).listUrge},
	{"POST", "/lists/{id}/supervise", listSteerers, (*Console).listSupervise},
	{"GET", "/projects/{id}", signed, (*Console).projectPage},
	{"POST", "/projects/{id}/act", signed, (*Console).projectAct},
	{"GET", "/m/onsite", visitRecorders, (*Console).visitForm},
	{"GET", "/visits/new", visitRecorders, (*Console).visitFormMoved},
	{"POST", "/visits", visitRecorders, (*Console).recordVisit},
	{"GET", "/visits", steerers, (*Console).visitsPage},
	{"GET", "/visits/totals", steerers, (*Console).visitTotals},
	{"GET", "/visits/{id}", steerers, (*Console).visitPage},
	{"GET", "/cadres/{id}", signed, (*Console).cadrePage},
	{"GET", "/training", steerers, (*Console).trainingPage},
	{"POST", "/training/courses", steerers, (*Console).createCourse},
	{"POST", "/training/sessions", steerers, (*Console).recordSession},
	{"POST", "/training/postings", steerers, (*Console).addPosting},
	{"GET", "/admin", admins, (*Console).adminHome},
	{"GET", "/admin/regions", admins, (*Console).adminRegions},
	{"POST", "/admin/regions", admins, (*Console).adminImportRegions},
	{"GET", "/admin/regions/export", admins, (*Console).adminExportRegions},
	{"GET", "/admin/units", admins, (*Console).adminUnits},
	{"GET", "/admin/units/export", admins, (*Console).adminUnitsExport},
	{"POST", "/admin/units", admins, (*Console).adminSaveUnit},
	{"GET", "/admin/categories", admins, (*Console).adminCategories},
	{"POST", "/admin/categories", admins, (*Console).adminSaveCategory},
	{"GET", "/admin/calendar", admins, (*Console).adminCalendar},
	{"POST", "/admin/calendar", admins, (*Console).adminSaveCalendar},
	{"GET", "/admin/accounts", admins, (*Console).adminAccounts},
	{"GET", "/admin/accounts/export", admins, (*Console).adminAccountsExport},
	{"POST", "/admin/accounts", admins, (*Console).adminCreateAccount},
	{"POST", "/admin/accounts/{id}", admins, (*Console).adminUpdateAccount},
	{"GET", "/qiye", enterprises, (*Console).qiyeHome},
	{"POST", "/qiye/requests", enterprises, (*Console).qiyeAsk},
	{"GET", "/qiye/requests/{id}", requestReader, (*Console).qiyeRequest},
	{"POST", "/qiye/requests/{id}/follow", requestReader, (*Console).qiyeFollow},
	{"GET", "/qiye/follow", followers, (*Console).qiyeFollowList},
	{"GET", "/qiye/figures", figureReaders, (*Console).qiyeFigures},
	{"GET", "/qiye/figures/export", figureReaders, (*Console).qiyeFiguresExport},
	{"GET", "/qiye/catalog", catalogAdmins, (*Console).qiyeCatalog},
	{"POST", "/qiye/catalog", catalogAdmins, (*Console).qiyeSaveService},
	{"GET", "/qiye/classes", classReaders, (*Console).qiyeClasses},
	{"POST", "/qiye/classes", organizers, (*Console).qiyeNewClass},
	{"GET", "/qiye/classes/{id}", classReaders, (*Console).qiyeClass},
	{"POST", "/qiye/classes/{id}/signin", enterprises, (*Console).qiyeSignIn},
	{"POST", "/qiye/classes/{id}/questions", enterprises, (*Console).qiyeRaise},
	{"GET", "/qiye/enterprises", followers, (*Console).qiyeRegistry},
	{"POST", "/qiye/enterprises/import", registrars, (*Console).qiyeImport},
	{"POST", "/qiye/enterprises/members", registrars, (*Console).qiyeAddMember},
	{"GET", "/admin/pairings", admins, (*Console).pairingsPage},
	{"POST", "/admin/pairings", admins, (*Console).addPairing},
	{"POST", "/admin/pairings/{id}/delete", admins, (*Console).removePairing},
	{"GET", "/admin/secretaries", admins, (*Console).secretariesPage},
	{"POST", "/admin/secretaries", admins, (*Console).assignSecretary},
	{"POST", "/admin/secretaries/{leader}/{secretary}/delete", admins, (*Console).removeSecretary},
	{"GET", "/admin/audit", admins, (*Console).adminAudit},
	{"GET", "/admin/audit/export", admins, (*Console).adminAuditExport},
	{"GET", "/sensors", commanders, (*Console).sensorsList},
	{"GET", "/sensors/devices/{id}", commanders, (*Console).devicePage},
	{"GET", "/sensors/admin", sensorAdmins, (*Console).sensorAdmin},
	{"POST", "/sensors/admin/kinds", sensorAdmins, (*Console).sensorSaveKind},
	{"POST", "/sensors/admin/rules", sensorAdmins, (*Console).sensorSaveRule},
	{"POST", "/sensors/admin/import", sensorAdmins, (*Console).sensorImport},
	{"GET", "/operations", commanders, (*Console).operationsList},
	{"GET", "/operations/new", opPlanners, (*Console).operationNew},
	{"POST", "/operations", opPlanners, (*Console).operationSave},
	{"GET", "/operations/{id}", commanders, (*Console).operationPage},
	{"GET", "/operations/{id}/edit", opPlanners, (*Console).operationEdit},
	{"POST", "/operations/{id}", opPlanners, (*Console).operationSave},
	{"GET", "/operations/{id}/report", commanders, (*Console).operationReport},
	{"GET", "/operations/{id}/export", commanders, (*Console).operationExport},
}

// New builds the console over the service.
func New(svc *service.Service, log *slog.Logger) *Console {
	if log == nil {
		log = slog.Default()
	}
	c := &Console{svc: svc, log: log, key: make([]byte, 32), mux: http.NewServeMux(),
		origin: http.NewCrossOriginProtection(), figures: service.Recent[service.Today]{TTL: figuresTTL}, maps: service.NewMaps(svc)}
	// The installation's key, shared by every node and kept across restarts;
	// a node that cannot read it makes its own (forms from other nodes then
	// fail their check, which is safe).
	if key, err := svc.ConsoleKey(context.Background()); err == nil {
		c.key = key
	} else {
		log.Warn("console key: using a key of this process only", "err", err)
		if _, err := rand.Read(c.key); err != nil {
			panic("web: no randomness for the CSRF key: " + err.Error())
		}
	}
	c.pages = c.parsePages()
	// Content-hashed names, gzip and cache lifetimes: see assets.go.
	c.static = http.StripPrefix("/static/", http.HandlerFunc(serveAsset))
	c.mux.Handle("GET /static/", c.static)
	c.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	for _, rt := range routes {
		c.mux.HandleFunc(rt.method+" "+rt.path, c.wrap(rt))
	}
	return c
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", c.csp())
	h.Set("Permissions-Policy", "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		http.NotFound(w, r)
		return
	}
	// A page that does not exist gets the console's own 404 page (Chinese,
	// with the way home), not the mux's plain text.
	if _, pattern := c.mux.Handler(r); pattern == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h.Set("Cache-Control", "no-store")
		c.fail(w, r, apperr.New(apperr.NotFound, "您要打开的页面不存在，可能是地址有误或页面已移除"))
		return
	}
	c.mux.ServeHTTP(w, r)
}

// csp is the console's Content-Security-Policy: scripts, styles, fonts
// and connections from our own origin only (no inline script or style
// attribute anywhere in the templates); images also from data: and blob:
// URLs (photo previews) and the base map's tile host when one is set.
func (c *Console) csp() string {
	img := "'self' data: blob:"
	if u, err := url.Parse(strings.NewReplacer("{s}", "zhizhi-s", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "").Replace(c.tiles)); err == nil && u.Host != "" {
		img += " " + u.Scheme + "://" + strings.Replace(u.Host, "zhizhi-s.", "*.", 1)
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

type ctxKey int

const (
	actorKey ctxKey = iota
	tokenKey
)

func actorOf(r *http.Request) cases.Actor {
	a, _ := r.Context().Value(actorKey).(cases.Actor)
	return a
}

func sessionOf(r *http.Request) string {
	s, _ := r.Context().Value(tokenKey).(string)
	return s
}

// wrap authenticates, checks the role and, on POST, the CSRF token, then
// runs the handler and maps its error to a page.
func (c *Console) wrap(rt route) http.HandlerFunc {
	limit := bodyLimit(rt.method, rt.path)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		// Every route's body is bounded (413 past it, at once when the
		// length is declared), and the path and query string must be text
		// no engine disagrees on.
		if err := httpin.Check(w, r, limit); err != nil {
			c.fail(w, r, err)
			return
		}
		if !rt.access.public {
			ck, err := r.Cookie(SessionCookie)
			var actor cases.Actor
			if err == nil {
				actor, err = c.svc.Authenticate(r.Context(), ck.Value)
			}
			if err != nil {
				if err == http.ErrNoCookie || apperr.Is(err, apperr.Unauthorized) {
					c.toSignIn(w, r)
					return
				}
				c.fail(w, r, err)
				return
			}
			if len(rt.access.roles) > 0 && !slices.Contains(rt.access.roles, actor.Role) {
				c.fail(w, r, apperr.New(apperr.Forbidden, "您的角色不能打开此页面"))
				return
			}
			ctx := context.WithValue(r.Context(), actorKey, actor)
			ctx = context.WithValue(ctx, tokenKey, ck.Value)
			r = r.WithContext(ctx)
		}
		if r.Method == http.MethodPost {
			if err := c.origin.Check(r); err != nil {
				c.fail(w, r, apperr.New(apperr.Forbidden, "跨站请求被拒绝"))
				return
			}
			ok, err := c.checkCSRF(r)
			if err != nil {
				c.fail(w, r, err)
				return
			}
			if !ok {
				c.fail(w, r, apperr.New(apperr.Forbidden, "页面已过期或来源不明，请刷新页面后重试"))
				return
			}
			// Every field of every form: text no engine disagrees on.
			if err := textcheck.Values(r.PostForm); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		if err := rt.h(c, w, r); err != nil {
			c.fail(w, r, err)
		}
	}
}

// toSignIn sends someone who is not signed in to the sign-in page, back
// here afterwards; scripts asking for fragments get 401.
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Requested-With") != "" || r.Method != http.MethodGet {
		if r.Method != http.MethodGet {
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		http.Error(w, "登录已失效，请重新登录", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// fail renders an error page: the one mapping from errors to pages. The text
// of an unknown error is logged, never shown.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	if apperr.ClientGone(r.Context(), err) {
		c.log.Debug("client went away", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	status, msg := http.StatusInternalServerError, "服务器内部错误，请稍后重试"
	var e *apperr.Error
	if errors.As(err, &e) {
		if e.Kind == apperr.Unauthorized {
			c.toSignIn(w, r)
			return
		}
		if st := apperr.Status(err); st != http.StatusInternalServerError {
			status, msg = st, e.Message
		}
		for _, f := range e.Fields {
			msg += "；" + f.Reason
		}
		retryAfter(w, err)
	}
	if status == http.StatusInternalServerError {
		c.log.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if r.Header.Get("X-Requested-With") != "" {
		http.Error(w, msg, status)
		return
	}
	c.render(w, r, status, "error", &errorPage{Status: status, Message: msg})
}

type errorPage struct {
	Status  int
	Message string
}

// pageData is what every page template receives.
type pageData struct {
	Title  string
	Actor  cases.Actor
	Signed bool
	CSRF   string
	Nav    []navItem
	Path   string
	Body   any
}

type navItem struct {
	Href, Label string
	Current     bool
}

// render executes a page with the layout. It renders into a buffer first,
// so a template error becomes a clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, body any) {
	t, ok := c.pages[name]
	if !ok {
		panic("web: no page template " + name)
	}
	actor := actorOf(r)
	d := pageData{Actor: actor, Signed: actor.Role != "", Body: body, Path: r.URL.Path, Title: titleOf(name, body)}
	d.CSRF = c.csrfToken(r)
	d.Nav = navFor(actor, r.URL.Path, c.hasWorkbench(actor))
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		c.log.Error("render page", "page", name, "err", err)
		http.Error(w, "服务器内部错误，请稍后重试", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderFragment executes one named template alone (a queue row, the
// figures), for the scripts that refresh a page in place.
func (c *Console) renderFragment(w http.ResponseWriter, page, name string, data any) {
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		c.log.Error("render fragment", "name", name, "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// titler lets a page body name its title.
type titler interface{ title() string }

func titleOf(name string, body any) string {
	if t, ok := body.(titler); ok {
		return t.title()
	}
	switch name {
	case "signin":
		return "登录"
	case "error":
		return "出错了"
	}
	return ""
}

// homeOf is where a role starts.
func homeOf(r cases.Role) string {
	switch r {
	case cases.RoleLeader:
		return "/leader" // a leader's pages start from their pairings
	case cases.RoleCommander, cases.RoleAdmin:
		return "/board"
	case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead:
		return "/m"
	case cases.RoleUnit, cases.RoleCommunity:
		return "/inbox"
	}
	return "/mine"
}

// navFor is the top bar's links; bench adds the board workbench for the
// staff of a board, post or section.
// homeFor is where a person starts: the role's home, but the workbench for
// a board head, who has no desk of its own (the board is the work).
func (c *Console) homeFor(a cases.Actor) string {
	if u, ok := c.svc.Unit(a.UnitID); ok && a.Role == cases.RoleUnit && u.Kind == cases.UnitBoard {
		return "/workbench"
	}
	return homeOf(a.Role)
}

func navFor(a cases.Actor, path string, bench bool) []navItem {
	var items []navItem
	switch a.Role {
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		items = []navItem{{Href: "/board", Label: "一屏掌控"}, {Href: "/dashboard", Label: "数据看板"}, {Href: "/evaluation", Label: "考核排名"}, {Href: "/appeals", Label: "审核队列"}, {Href: "/held", Label: "待甄别"}, {Href: "/lists", Label: "清单"}, {Href: "/qiye/follow", Label: "企业服务"}, {Href: "/sensors", Label: "感知设备"}, {Href: "/operations", Label: "大型活动"}}
		if a.Role == cases.RoleLeader {
			items = append([]navItem{{Href: "/leader", Label: "包联首页"}}, items...)
		}
		if a.Role == cases.RoleAdmin {
			items = append(items, navItem{Href: "/admin", Label: "系统管理"})
		}
	case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead:
		items = []navItem{{Href: "/m", Label: "我的网格"}, {Href: "/m/report", Label: "上报"}}
		if a.Role != cases.RoleHead {
			items = append(items, navItem{Href: "/m/day", Label: "今日工作"}, navItem{Href: "/m/messages", Label: "居民留言"}, navItem{Href: "/m/team", Label: "网格队伍"})
		}
		if a.Role == cases.RoleGridChief {
			items = append(items, navItem{Href: "/party", Label: "党员双报到"})
		}
	case cases.RoleUnit, cases.RoleCommunity:
		items = []navItem{{Href: "/inbox", Label: "待办"}}
		if a.Role == cases.RoleCommunity {
			items = append(items, navItem{Href: "/m/team", Label: "网格队伍"}, navItem{Href: "/party", Label: "党员双报到"})
		}
		if bench {
			items = append(items, navItem{Href: "/workbench", Label: "板块工作台"})
		}
		items = append(items, navItem{Href: "/qiye/follow", Label: "企业服务"})
	case "":
		return nil
	case cases.RoleResident, cases.RoleEnterprise:
		items = []navItem{{Href: "/mine", Label: "我的诉求"}, {Href: "/mine/report", Label: "我要反映"}}
	default:
		items = []navItem{{Href: "/mine", Label: "我的诉求"}}
		if a.Role == cases.RoleEnterprise {
			items = append(items, navItem{Href: "/qiye", Label: "企业服务"}, navItem{Href: "/qiye/classes", Label: "楼宇课堂"})
		}
	}
	exact := slices.ContainsFunc(items, func(it navItem) bool { return it.Href == path })
	for i := range items {
		items[i].Current = items[i].Href == path || (!exact && strings.HasPrefix(path, items[i].Href+"/"))
	}
	return items
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, c.homeFor(actorOf(r)), http.StatusSeeOther)
	return nil
}
