// Package api serves the JSON API v1 over the service: one route table, one
// error mapping, bearer-token authentication and a server-sent-events stream.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/httpin"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/textcheck"
)

// API is the JSON API handler set.
type API struct {
	svc *service.Service
	db  *store.DB
	log *slog.Logger
}

// access says who may call a route.
type access int

const (
	public access = iota // anyone
	signed               // any signed-in account
	admin                // administrators
)

// route is one row of the route table.
type route struct {
	method, path string
	access       access
	h            func(*API, http.ResponseWriter, *http.Request) error
	summary      string
}

// routes is the API's route table; the OpenAPI document is built from it.
// It is filled in init because the openapi handler reads it.
var routes []route

func init() {
	routes = []route{
		{"GET", "/api/v1/openapi.json", public, (*API).openAPI, "OpenAPI 3 document"},
		{"POST", "/api/v1/sessions", public, (*API).signIn, "Sign in, receive a bearer token"},
		{"DELETE", "/api/v1/sessions", signed, (*API).signOut, "Sign out (revoke the token)"},
		{"GET", "/api/v1/me", signed, (*API).me, "The signed-in account"},
		{"POST", "/api/v1/photos", signed, (*API).uploadPhoto, "Upload a photo"},
		{"GET", "/api/v1/photos/{hash}", public, (*API).photo, "Download a photo by the signed address (?e=&s=) given with the case that carries it (the photo's url)"},
		{"POST", "/api/v1/cases", signed, (*API).report, "Report a case"},
		{"GET", "/api/v1/cases", signed, (*API).listCases, "List cases in scope"},
		{"GET", "/api/v1/cases/{id}", signed, (*API).caseDetail, "One case with its timeline"},
		{"POST", "/api/v1/cases/{id}/actions", signed, (*API).act, "Take an action on a case"},
		{"GET", "/api/v1/cases/{id}/duplicates", signed, (*API).duplicates, "Open cases of the same category nearby"},
		{"GET", "/api/v1/cases/{id}/reporter", signed, (*API).reporter, "The reporter's full phone number, for the command center to call back; every read is recorded in the audit trail (personal_data)"},
		{"GET", "/api/v1/appeals", signed, (*API).appeals, "The review queue of overdue appeals in scope (commanders and leaders: their region's; unit staff: their unit's; ?state=pending_review|pending_approval|approved|refused&before=&limit=)"},
		{"GET", "/api/v1/held", signed, (*API).heldList, "The holding queue (待甄别): anonymous reports held under a flood, no clock running, in scope (commanders, leaders, admins; ?after=&limit=)"},
		{"POST", "/api/v1/held", signed, (*API).screenHeld, "Release or reject held reports at once, each through the state machine (commanders; {\"action\": \"release\"|\"reject\", \"ids\": [...], \"note\": reason})"},
		{"GET", "/api/v1/suggest", signed, (*API).suggest, "Suggest categories and units for a description"},
		{"GET", "/api/v1/locate", signed, (*API).locate, "Find the grid holding a point"},
		{"GET", "/api/v1/events", signed, (*API).events, "Server-sent events of case changes in scope"},
		{"GET", "/api/v1/regions", signed, (*API).listRegions, "List regions"},
		{"GET", "/api/v1/regions/{code}", signed, (*API).regionDetail, "One region with its shape"},
		{"POST", "/api/v1/regions/import", admin, (*API).importRegions, "Import regions from GeoJSON or CSV"},
		{"GET", "/api/v1/regions/export", signed, (*API).exportRegions, "Export regions as GeoJSON or CSV"},
		{"GET", "/api/v1/categories", signed, (*API).listCategories, "List categories"},
		{"PUT", "/api/v1/categories/{code}", admin, (*API).putCategory, "Create or update a category"},
		{"GET", "/api/v1/units", signed, (*API).listUnits, "List units"},
		{"PUT", "/api/v1/units/{id}", admin, (*API).putUnit, "Create or update a unit: a department, a street's board, post or section, or a community"},
		{"GET", "/api/v1/boards", signed, (*API).listBoards, "A street's four boards with their posts, sections and staff (?street=code)"},
		{"POST", "/api/v1/boards", admin, (*API).setUpBoards, "Give every street under a region the four boards it lacks, each with a first post ({\"region\": code})"},
		{"GET", "/api/v1/audit", admin, (*API).auditLog, "The audit trail: changes to units, categories (the graded classification library), accounts, the calendar, regions, evaluation rules and API keys, and reads of personal data (?kind=&object_id=&actor_id=&action=&from=&to=&before=&limit=; district-wide administrators see all, others one object of their region)"},
		{"GET", "/api/v1/accounts", admin, (*API).listAccounts, "List accounts"},
		{"POST", "/api/v1/accounts", admin, (*API).createAccount, "Create an account"},
		{"PATCH", "/api/v1/accounts/{id}", admin, (*API).updateAccount, "Change an account (name, role, scope, title, phone, active, password)"},
		{"GET", "/api/v1/evaluation", signed, (*API).evaluation, "Rank grids, communities, streets, districts, units, inspectors, intake operators, shift leads or dispatchers under a region for a period, from the rollups, with drill-down links per figure (commanders, leaders, admins; ?kind=&period=&under=&top=&by=)"},
		{"GET", "/api/v1/evaluation/rules", signed, (*API).evaluationRules, "The evaluation's rule book: every version of the weights and bands, the version in force (commanders, leaders, admins)"},
		{"POST", "/api/v1/evaluation/rules", admin, (*API).addEvaluationRules, "Add a version of the evaluation's rules in force from its effective_from (admins of a district or above; audited)"},
		{"GET", "/api/v1/pairings", signed, (*API).listPairings, "Pairings (包联) of leaders with streets, communities, grids and key enterprises in scope (leaders, commanders, admins: their region's; ?leader=me|id&at=RFC 3339)"},
		{"POST", "/api/v1/pairings", signed, (*API).createPairing, "Record a pairing (administrators of the target's region; audited)"},
		{"PUT", "/api/v1/pairings/{id}", signed, (*API).putPairing, "Change a pairing (administrators of its region; audited)"},
		{"DELETE", "/api/v1/pairings/{id}", signed, (*API).deletePairing, "Remove a pairing (administrators of its region; audited)"},
		{"GET", "/api/v1/secretaries", signed, (*API).listSecretaries, "A leader's secretaries, who may record visits on that leader's behalf (?leader=me|id&secretary=me|id; administrators, leaders and commanders: their region's leaders; anyone: their own)"},
		{"POST", "/api/v1/secretaries", signed, (*API).assignSecretary, "Assign a command-center account as a leader's secretary (administrators of the leader's region; audited)"},
		{"DELETE", "/api/v1/secretaries/{leader}/{secretary}", signed, (*API).removeSecretary, "End a secretary's assignment to a leader (administrators of the leader's region; audited)"},
		{"GET", "/api/v1/leader/home", signed, (*API).leaderHome, "A leader's home: their pairings with open, overdue and whistled cases, their lists, supervisions and latest visits (leaders)"},
		{"POST", "/api/v1/visits", signed, (*API).recordVisit, "Record an on-site office visit (现场办公); each problem raised becomes a case with source visit reported by the leader, on the leader's list (the leader, or a secretary assigned to that leader on their behalf; client_ref makes a retry return the same visit)"},
		{"GET", "/api/v1/visits", signed, (*API).listVisits, "On-site office visits in scope, newest first (?leader=me|id&street=&from=&to=&limit=)"},
		{"GET", "/api/v1/visits/totals", signed, (*API).visitTotals, "Visits, problems raised and problems solved (their cases closed) per leader, street or month in scope (?by=leader|street|month&leader=&street=&from=&to=)"},
		{"GET", "/api/v1/visits/cases", signed, (*API).visitCases, "The drill-down of the totals: the cases made from the visits (?leader=&street=&from=&to=&solved=true|false&limit=)"},
		{"GET", "/api/v1/visits/{id}", signed, (*API).visitDetail, "One visit with the cases its problems became"},
		{"GET", "/api/v1/lists", signed, (*API).listLists, "Lists (清单) in scope (?kind=leader|project|monthly|street&owner=me|id)"},
		{"POST", "/api/v1/lists", signed, (*API).createList, "Make a list: a leader's list, a key rectification project list, a monthly topic (每月一题) or a street list (leaders and commanders of the region; audited)"},
		{"GET", "/api/v1/lists/{id}", signed, (*API).listBoard, "A list's board: every item's state, clock, owner, last step, supervision and urges"},
		{"POST", "/api/v1/lists/{id}/items", signed, (*API).addItem, "Put a case or a project on a list (its owner, or leaders and commanders of its region; audited)"},
		{"GET", "/api/v1/projects", signed, (*API).listProjects, "Key rectification projects (重点整治整改项目) in scope"},
		{"POST", "/api/v1/projects", signed, (*API).createProject, "Set up a project with a goal, a lead unit, co-units and milestones whose clocks run on the official calendar (leaders and commanders; audited)"},
		{"GET", "/api/v1/projects/{id}", signed, (*API).projectDetail, "One project with its milestones' clocks, the meetings of the case it grew from, and its lists (also its lead and co-units)"},
		{"POST", "/api/v1/projects/{id}/actions", signed, (*API).projectAct, "Meet a milestone with evidence (the lead unit, leaders, commanders) or verify and close the project (leaders, commanders): {\"action\": \"meet\"|\"verify\", …}"},
		{"POST", "/api/v1/cases/{id}/supervise", signed, (*API).supervise, "Supervise (督办) a case: the case's supervise action and a supervision with its own deadline clock on the official calendar, in one step (leaders, commanders)"},
		{"GET", "/api/v1/supervisions", signed, (*API).listSupervisions, "Supervisions with their cases' progress since, reported back to the supervisor (?supervisor=me|id or ?case=id)"},
		{"POST", "/api/v1/cases/{id}/key-project", signed, (*API).keyProject, "Take a case on as a district key rectification project in one step (S6): escalate it from the street center, make the project and put it on the district's key project list (commanders)"},
		{"GET", "/api/v1/training/courses", signed, (*API).listCourses, "Cadre training courses (leaders, commanders, admins)"},
		{"POST", "/api/v1/training/courses", signed, (*API).createCourse, "Add a training course: title, topic (e.g. 数字化转型, 项目融资), provider, class hours (leaders, commanders, admins; audited)"},
		{"POST", "/api/v1/training/sessions", signed, (*API).recordSession, "Record a session of a course with its trainers and the cadres attending (accounts in the caller's region; audited)"},
		{"GET", "/api/v1/training/figures", signed, (*API).trainingFigures, "Cadres trained, attendances and class hours per street or department in the caller's region (?by=street|unit&from=&to=)"},
		{"GET", "/api/v1/cadres/{id}", signed, (*API).cadreRecord, "A cadre's training record: sessions with their courses, class hours, practical postings (the cadre, or leaders, commanders and admins of their region; me for oneself)"},
		{"POST", "/api/v1/cadres/{id}/postings", signed, (*API).addPosting, "Record a cadre's practical posting (多岗位历练) for a period (audited)"},
		{"GET", "/api/v1/enterprise/services", signed, (*API).enterpriseServices, "The enterprise service catalog (四色四务), in colour order; ?all=true adds inactive ones for administrators"},
		{"PUT", "/api/v1/enterprise/services/{code}", signed, (*API).putEnterpriseService, "Create or change a service of the catalog: colour, category, unit, time limit, its own questions (administrators of a district or above; audited)"},
		{"GET", "/api/v1/enterprises", signed, (*API).listEnterprises, "The enterprise registry in scope (commanders and administrators: their region's; liaisons and street leaders: the enterprises assigned to them)"},
		{"POST", "/api/v1/enterprises", signed, (*API).putEnterprise, "Register an enterprise (credit code checked by GB 32100, grid, liaison and street leader by ID or username; commanders and administrators of its region; audited)"},
		{"PUT", "/api/v1/enterprises/{id}", signed, (*API).putEnterprise, "Change an enterprise of the registry (audited)"},
		{"POST", "/api/v1/enterprises/import", signed, (*API).importEnterprises, "Import enterprises from CSV (UTF-8, Chinese or English headers); every problem of every row is answered as rows[line].column and nothing is saved"},
		{"POST", "/api/v1/enterprises/{id}/members", signed, (*API).addEnterpriseMember, "Make an enterprise account one of the enterprise's people ({\"account_id\"}; audited)"},
		{"POST", "/api/v1/enterprise/requests", signed, (*API).askEnterprise, "The one form: an enterprise's request for a service of the catalog (or in its own words), reported as a case on the economic-development board in the enterprise's grid, with the liaison's contact clock and the service's answer clock"},
		{"GET", "/api/v1/enterprise/requests", signed, (*API).listRequests, "Requests at the caller's level: an enterprise's own, a liaison's, a street leader's (escalated ones too), a commander's region (?open=true: unanswered)"},
		{"GET", "/api/v1/enterprise/requests/{id}", signed, (*API).requestDetail, "One request with its case, the case's timeline and the caller's level"},
		{"POST", "/api/v1/enterprise/requests/{id}/follow", signed, (*API).followRequest, "A follow-up step: contact, classify (liaison), ask (liaison or leader), reply, rate, whistle (the enterprise; rate and whistle go through the case's state machine)"},
		{"GET", "/api/v1/enterprise/classes", signed, (*API).listClasses, "Policy classes in buildings (楼宇课堂): an enterprise's invitations, an organizer's street's"},
		{"POST", "/api/v1/enterprise/classes", signed, (*API).putClass, "Schedule a policy class (street commanders, leaders, administrators, street sections; audited)"},
		{"GET", "/api/v1/enterprise/classes/{id}", signed, (*API).classDetail, "One policy class with its sign-ins"},
		{"POST", "/api/v1/enterprise/classes/{id}/signin", signed, (*API).signInClass, "An enterprise signs in at a class (from an hour before until its end; once per enterprise)"},
		{"POST", "/api/v1/enterprise/classes/{id}/questions", signed, (*API).raiseQuestion, "An enterprise raises a question at a class ({\"text\"}); it becomes a request through the one form with class_id and question"},
		{"GET", "/api/v1/enterprise/figures", signed, (*API).enterpriseFigures, "Enterprise services' figures of a period under the caller's region: requests by colour, service, liaison and unit (contacted and answered within limit, resolved, rated, satisfied, escalated), enterprises served, classes held and attended (?from=&to=, RFC 3339 or dates; default the last year)"},
		{"GET", "/api/v1/grids", signed, (*API).myGrids, "The grids whose work the caller may read (a grid worker: their grid; a grid chief or community: the community's grids; centers, leaders, admins: their region's)"},
		{"GET", "/api/v1/grids/today", signed, (*API).gridToday, "The grid worker's day for each grid they work in: the patrol plan and whether a patrol is due, today's patrols and visits, the week's coverage, follow-ups due, cases waiting for verification"},
		{"POST", "/api/v1/patrols", signed, (*API).uploadPatrol, "Upload a finished patrol (grid workers and chiefs of the grid): its GPS fixes are cleaned, measured, matched to the grid's cells and thinned; stored once per client_ref (sent again: the same patrol, replay true); report_refs name the reports made on it (sent before, source patrol)"},
		{"GET", "/api/v1/patrols/{id}", signed, (*API).patrol, "One patrol with its track decoded"},
		{"GET", "/api/v1/grids/{code}/patrols", signed, (*API).gridPatrols, "A grid's patrols, newest first (?period=, default the last 30 days)"},
		{"POST", "/api/v1/household-visits", signed, (*API).recordHouseholdVisit, "Record a household visit (走访) once per client_ref; each need is answered on the spot, promised a follow-up, or reported as a case of the grid (source patrol)"},
		{"GET", "/api/v1/grids/{code}/visits", signed, (*API).gridVisits, "A grid's household visits, newest first (?period=, default the last 30 days)"},
		{"GET", "/api/v1/grids/{code}/roster", signed, (*API).roster, "A grid's roster: buildings, households, shops and key places, and the people recorded at them with names and phones masked (never unit staff)"},
		{"PUT", "/api/v1/grids/{code}/places", signed, (*API).putPlace, "Create (no id) or change a place of a grid's roster (the grid's workers and chiefs, the community; audited)"},
		{"PUT", "/api/v1/grids/{code}/people", signed, (*API).putPerson, "Record (no id) or change a person at a place of the roster, kept until retain_until (default 3 years); answered masked; audited masked"},
		{"GET", "/api/v1/people/{id}", signed, (*API).revealPerson, "One person's name and phone, for the grid's workers and chiefs and the community only; every read is recorded in the audit trail (personal_data) before it is answered"},
		{"POST", "/api/v1/grids/{code}/roster/import", signed, (*API).importRoster, "Import a roster from CSV (UTF-8 as Excel saves it; 类型,名称,所在楼栋,地址,经度,纬度,备注,姓名,电话,关系,标签): all or nothing, problems named line<N>.<heading>"},
		{"GET", "/api/v1/grids/{code}/team", signed, (*API).team, "A grid's 1+3+N team"},
		{"PUT", "/api/v1/grids/{code}/team", signed, (*API).putTeam, "Replace a grid's 1+3+N team (one chief at most; audited)"},
		{"PUT", "/api/v1/grids/{code}/plan", signed, (*API).putPlan, "Set a grid's patrol plan: per_week 0 (every working day) to 7, min_minutes a patrol must last to count (audited)"},
		{"GET", "/api/v1/grids/{code}/messages", signed, (*API).gridMessages, "The residents' messages that came through a grid's door (/r/g/{code}), newest first (?period=, default the last 30 days); phones whole only for the grid's own people"},
		{"POST", "/api/v1/messages/{id}/actions", signed, (*API).actOnMessage, "Reply to a waiting residents' message, turn it into a case of the grid (through the case service, source resident) or block it (the grid's workers and chiefs; {\"action\": \"reply\"|\"case\"|\"block\", \"answer\", \"category\", \"address\", \"point\", \"solved_on_spot\", \"note\", \"photos\"})"},
		{"GET", "/api/v1/gridwork/figures", signed, (*API).gridFigures, "Patrols, time, distance, coverage, reports on patrols, visits and what became of their needs, per grid worker and per grid under a region for a period (?under=&period=, default this month)"},
		{"GET", "/api/v1/communities/{code}/party", signed, (*API).party, "A community's party-building board (双报到): the in-service party members reported there (phones masked), its volunteer groups and grids (the community's staff and grid chiefs keep it; its grid workers, and centers, leaders and admins above, read it)"},
		{"PUT", "/api/v1/communities/{code}/party-members", signed, (*API).putPartyMember, "Register an in-service party member with the community (no id) or change a registration: name, org, phone (once per community), grid (whose N they join), group_id, reported_on, tasks, left (the community's staff and grid chiefs; answered and audited masked)"},
		{"PUT", "/api/v1/communities/{code}/volunteer-groups", signed, (*API).putVolunteerGroup, "Create (no id) or rename a community's volunteer group, the party a case can be given to as co-handler (audited)"},
		{"POST", "/api/v1/service-hours", signed, (*API).recordServiceHours, "Record a reported party member's service hours: member_id, activity, on (YYYY-MM-DD, at most 90 days back), minutes (1–1440), case_id (ID or number, optional) (the member's community's staff and grid chiefs; audited)"},
		{"GET", "/api/v1/communities/{code}/service-hours", signed, (*API).serviceHours, "A community's service hours, newest first (?from=&to= YYYY-MM-DD)"},
		{"POST", "/api/v1/cases/{id}/volunteers", signed, (*API).giveToVolunteers, "Give a case (ID or number; accepted and not yet closed) to a volunteer group of its community as co-handler: a step 志愿协办 through the state machine, once per group ({\"group_id\", \"note\"}; the community's staff and grid chiefs, the case's grid workers)"},
		{"GET", "/api/v1/party/figures", signed, (*API).partyFigures, "The party-building board's figures per community under a community or street for a period: members reported (by the period's end), in grids, hours served, activities, cases helped (?under=&period=, default this month)"},
		{"GET", "/api/v1/calendar", signed, (*API).calendar, "The working calendar: hours and overlay"},
		{"PUT", "/api/v1/calendar", admin, (*API).putCalendar, "Set working hours and the holiday overlay"},
		{"POST", "/api/v1/readings", admin, (*API).postReadings, "Post sensor readings (a JSON array of {device, kind, value, at}; at most 5000): the MQTT ingest's write path, one problem per reading (district-wide administrators: a gateway's account)"},
		{"GET", "/api/v1/device-kinds", signed, (*API).listDeviceKinds, "The kind catalog of sensor devices (unit, value range)"},
		{"PUT", "/api/v1/device-kinds/{code}", admin, (*API).putDeviceKind, "Create or update a kind of device (district-wide administrators; audited)"},
		{"GET", "/api/v1/devices", signed, (*API).listDevices, "List sensor devices with their last reading (?kind=&area=&state=&after=&limit=)"},
		{"GET", "/api/v1/devices/{id}", signed, (*API).deviceDetail, "One device: its kind, its series (?grain=m: the last 3 hours by minute; h: the last 7 days by hour) and its refused readings"},
		{"POST", "/api/v1/devices/import", admin, (*API).importDevices, "Import devices from CSV or an Excel workbook (id, kind, name, lng, lat, area, risk_point, unit, state): all or none, every problem of every row named rows[N].field (district-wide administrators)"},
		{"GET", "/api/v1/sensor-rules", signed, (*API).listSensorRules, "The sensor rules in force (threshold with hysteresis, rate, area sum, silence)"},
		{"PUT", "/api/v1/sensor-rules/{id}", admin, (*API).putSensorRule, "Save a new version of a sensor rule (version: the one you saw, 0 for a new rule; district-wide administrators; audited)"},
		{"GET", "/api/v1/sensor-rules/{id}/versions", signed, (*API).sensorRuleVersions, "Every saved version of a sensor rule, newest first"},
		{"GET", "/api/v1/operations", signed, (*API).listOperations, "Big-event operations (大型活动) in the caller's sight, latest first"},
		{"POST", "/api/v1/operations", signed, (*API).saveOperation, "Plan an operation: time window, areas (GeoJSON polygons, each with the sensor area of its crowd counters, yellow and red crowd thresholds, people on duty), prepared tasks released at a moment or when their area goes red (commanders; the operation is their center's, its tasks released in their name)"},
		{"GET", "/api/v1/operations/{id}", signed, (*API).operationBoard, "An operation's board: crowd per area against its thresholds, alerts and their cases, prepared tasks with their release and clocks, people on duty, restoration times"},
		{"PUT", "/api/v1/operations/{id}", signed, (*API).saveOperation, "Save the next version of an operation (version: the one you saw; 409 if it changed; released tasks keep their record)"},
		{"GET", "/api/v1/operations/{id}/tasks", signed, (*API).operationTasks, "The release status of an operation's prepared tasks, each with its case and the unit's handling deadline"},
		{"GET", "/api/v1/operations/{id}/report", signed, (*API).operationReport, "The after-event report: timeline, peak crowd per area, alerts, tasks and their times, restoration time per area"},
		{"GET", "/api/v1/operations/{id}/live", signed, (*API).operationLive, "The operation's board live, as server-sent events: a board event (the board's JSON) whenever it changes, looked at every second"},
		{"GET", "/api/v1/incidents", signed, (*API).listIncidents, "Sensor incidents, newest first, each with its case (?state=open|cleared&rule=&before=&limit=)"},
		{"GET", "/api/v1/webhooks", admin, (*API).listHooks, "Webhook subscriptions the administrator administers (region or unit in its subtree), with state, failures and queued events (docs/webhooks.md)"},
		{"GET", "/api/v1/webhooks/kinds", admin, (*API).hookKinds, "The event kinds a subscription may name: * and every case action"},
		{"POST", "/api/v1/webhooks", admin, (*API).createHook, "Subscribe a receiver to case events: name, url, events, region_code or unit_id (within the administrator's subtree), secret (generated when empty, shown once; audited)"},
		{"PUT", "/api/v1/webhooks/{id}", admin, (*API).putHook, "Change a subscription (an empty secret keeps the old one; audited)"},
		{"POST", "/api/v1/webhooks/{id}/state", admin, (*API).setHookState, "Pause or resume a subscription ({\"state\": \"paused\"|\"active\"}; resuming forgets its failures and sends its queue at once; audited)"},
		{"DELETE", "/api/v1/webhooks/{id}", admin, (*API).deleteHook, "Remove a subscription and its queued events (audited)"},
		{"GET", "/api/v1/webhooks/{id}/log", admin, (*API).hookLog, "A subscription's latest delivery attempts, newest first: event, status code, error, the start of the answer, time (?limit=, at most 100)"},
		{"POST", "/api/v1/hotline/orders", public, (*API).hotlineOrder, "The 12345 hotline platform sends a work order (工单; its API key in X-Api-Key): it becomes a case with source hotline, once per order number (sent again: the same case, created false)"},
		{"POST", "/api/v1/hotline/orders/{number}/visit", public, (*API).hotlineVisit, "The 12345 hotline platform sends its return visit (回访) of a closed order's case: satisfaction, resolved, at, note (its API key in X-Api-Key); it feeds the 12345 three rates"},
	}
}

// New returns the API.
func New(svc *service.Service, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	return &API{svc: svc, db: svc.DB(), log: log}
}

// Register adds the API's routes to mux. Every route's body is bounded
// (bodyLimit: 413 past it, before anything is read when the length is
// declared), and its path and query string must be text no engine
// disagrees on (400 naming the parameter).
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range routes {
		h := rt.h
		acc := rt.access
		limit := bodyLimit(rt.method, rt.path)
		mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if err := httpin.Check(w, r, limit); err != nil {
				a.writeError(w, r, err)
				return
			}
			if acc != public {
				actor, err := a.authenticate(r)
				if err == nil && acc == admin && actor.Role != cases.RoleAdmin {
					err = apperr.New(apperr.Forbidden, "需要管理员权限")
				}
				if err != nil {
					a.writeError(w, r, err)
					return
				}
				r = r.WithContext(context.WithValue(r.Context(), actorKey{}, actor))
			}
			if err := h(a, w, r); err != nil {
				var mb *http.MaxBytesError
				if errors.As(err, &mb) {
					err = apperr.BodyTooLarge(mb.Limit)
				}
				a.writeError(w, r, err)
			}
		})
	}
}

// maxBody bounds a request body on every route that bodyLimits does not
// name (JSON bodies: a report, an action, a category, …).
const maxBody = 1 << 20

// bodyLimits are the routes whose bodies may be larger than maxBody:
// a photo (multipart or raw) and a region file. docs/api.md has the table.
var bodyLimits = map[string]int64{
	"POST /api/v1/enterprises/import":         MaxEnterpriseImport,
	"POST /api/v1/photos":                     service.MaxPhoto + 1<<20,
	"POST /api/v1/regions/import":             service.MaxRegionImport,
	"POST /api/v1/patrols":                    4 << 20, // up to 20,000 fixes
	"POST /api/v1/grids/{code}/roster/import": 8 << 20,
	"POST /api/v1/devices/import":             service.MaxDeviceImportBytes,
	"POST /api/v1/readings":                   service.MaxReadingsBody,
}

// bodyLimit is the most bytes a request body to the route may hold.
func bodyLimit(method, path string) int64 {
	if n, ok := bodyLimits[method+" "+path]; ok {
		return n
	}
	return maxBody
}

// bodyError is the error of a body that could not be read: 413 past its
// route's limit.
func bodyError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return apperr.BodyTooLarge(mb.Limit)
	}
	return apperr.Field("body", "读取请求体失败")
}

type actorKey struct{}

func actorOf(r *http.Request) cases.Actor {
	a, _ := r.Context().Value(actorKey{}).(cases.Actor)
	return a
}

// TokenCookie is the cookie the console keeps the session token in.
const TokenCookie = "zhizhi_session"

func (a *API) authenticate(r *http.Request) (cases.Actor, error) {
	secret := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		secret = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if c, err := r.Cookie(TokenCookie); err == nil {
		secret = c.Value
		// A browser sends the console's cookie with any request, also one a
		// foreign page makes: writes signed by the cookie must come from our
		// own pages (Sec-Fetch-Site / Origin checked by the standard library).
		if err := crossOrigin.Check(r); err != nil {
			return cases.Actor{}, apperr.New(apperr.Forbidden, "跨站请求被拒绝")
		}
	}
	return a.svc.Authenticate(r.Context(), secret)
}

// crossOrigin refuses state-changing requests from other origins.
var crossOrigin = http.NewCrossOriginProtection()

// errorBody is the JSON shape of every error.
type errorBody struct {
	Error struct {
		Code    string              `json:"code"`
		Message string              `json:"message"`
		Fields  []apperr.FieldError `json:"fields,omitempty"`
	} `json:"error"`
}

// Status maps an error to its HTTP status; the one mapping of the API.
func Status(err error) int { return apperr.Status(err) }

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if apperr.ClientGone(r.Context(), err) {
		a.log.Debug("client went away", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	status := Status(err)
	var rl *service.RateLimited
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(rl.RetryAfter.Seconds())))))
	}
	var body errorBody
	var e *apperr.Error
	if status == http.StatusInternalServerError || !errors.As(err, &e) {
		// Never send an unknown error's text to a client.
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		body.Error.Code, body.Error.Message = "internal", "服务器内部错误，请稍后重试"
		status = http.StatusInternalServerError
	} else {
		body.Error.Code, body.Error.Message, body.Error.Fields = string(e.Kind), e.Message, e.Fields
	}
	writeJSON(w, status, body)
}

// writeJSON encodes the body first and only then writes the status, so a
// body that cannot be encoded is an honest 500, not a 200 cut short.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Error("encode answer", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"服务器内部错误，请稍后重试"}}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors, and so is what no engine stores alike (invalid UTF-8, which the
// JSON decoder would silently replace; a NUL or another control character in
// any string, named by its path).
func decode(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if !utf8.Valid(raw) {
		return apperr.Field("body", "请求体"+textcheck.NotUTF8)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae) && ae.Kind == apperr.Invalid:
			return ae // a value's own reader named the field (a time limit's cell)
		case errors.Is(err, io.EOF):
			return apperr.Field("body", "请求体为空")
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "body"
			}
			return apperr.Field(field, "类型不正确，应为"+jsonType(te.Type.Kind().String()))
		case errors.As(err, &se):
			return apperr.Field("body", "JSON 格式错误")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return apperr.Field(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "未知字段")
		}
		return apperr.Field("body", "无法解析请求体")
	}
	if dec.More() {
		return apperr.Field("body", "请求体只能包含一个 JSON 对象")
	}
	return textcheck.Fields(v)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "字符串"
	case "int", "int64", "float64", "uint8":
		return "数字"
	case "bool":
		return "布尔值"
	case "slice":
		return "数组"
	}
	return "对象"
}

// clientAddr is the client's address: the connection's peer, or whom a
// trusted proxy says it forwards for (service.ClientAddr).
func (a *API) clientAddr(r *http.Request) string { return a.svc.ClientAddr(r) }
