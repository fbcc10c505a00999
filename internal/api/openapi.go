package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/leaders"
	"zhizhi/internal/operation"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// schemas documents the main request and response bodies.
var schemas = map[string]any{
	"Error": obj(map[string]any{"error": obj(map[string]any{
		"code": str("invalid | not_found | conflict | refused | forbidden | unauthorized | internal"), "message": str("Chinese message"),
		"fields": arr(obj(map[string]any{"field": str("offending field"), "reason": str("why, in Chinese")})),
	})}),
	"Point": obj(map[string]any{"lng": num(), "lat": num()}),
	"WebhookInput": obj(map[string]any{
		"name": str("up to 50 characters"), "url": str("the receiver, http:// or https://"),
		"events":      arr(str("an event kind (GET /api/v1/webhooks/kinds) or * for all")),
		"region_code": str("scope: cases placed in this region's subtree (or unit_id)"),
		"unit_id":     str("scope: cases on which this unit has a task (or region_code)"),
		"sources":     arr(enum("patrol", "resident", "enterprise", "hotline", "sensor", "visit", "open311")),
		"secret":      str("16–200 characters without blanks; empty: generated on creation, kept on a change"),
	}),
	"HotlineOrder": obj(map[string]any{
		"number": str("the hotline's order number (1–64 letters, digits, _ or -)"),
		"caller": obj(map[string]any{"name": str(""), "phone": str("")}), "content": str("what the caller said, up to 4000 characters"),
		"category": str("the platform's category code"), "hotline_category": str("the hotline's own classification, kept"),
		"address": str("address (or point, or both)"), "point": ref("Point"),
		"time_limit": str("the hotline's deadline for the reply, RFC 3339"), "received_at": str("when the hotline took the call, RFC 3339"),
	}),
	"HotlineVisit": obj(map[string]any{
		"satisfaction": enum("satisfied", "basic_satisfied", "unsatisfied"), "resolved": map[string]any{"type": "boolean"},
		"at": str("when the visit was made, RFC 3339 (default now)"), "note": str("the visit's note"),
	}),
	"Report": obj(map[string]any{
		"source":   enum("patrol", "resident", "enterprise", "hotline", "sensor", "visit", "open311", "operation"),
		"reporter": obj(map[string]any{"name": str(""), "phone": str("")}),
		"point":    ref("Point"), "address": str(""), "category": str("category code"),
		"severity": enum("normal", "urgent", "critical"), "description": str("up to 4000 characters"),
		"answers": map[string]any{"type": "object", "description": "answers to the category's questions by code"},
		"photos":  arr(ref("Photo")), "solved_on_spot": map[string]any{"type": "boolean"}, "note": str("what was done on the spot"),
		"extra": arr(obj(map[string]any{"key": str("a field the platform does not define"), "value": str("up to 500 characters")})),
	}),
	"Command": obj(map[string]any{
		"action": enum("release", "accept", "reject", "merge", "dispatch", "redispatch", "sign", "handle", "feedback", "verify", "close", "rate",
			"return", "extend_request", "extend_approve", "extend_deny", "park_request", "park_approve", "park_deny", "resume",
			"reopen", "escalate", "urge", "supervise", "place", "hand_down",
			"whistle", "report_in", "leave", "rate_party", "meeting", "decision_done",
			"appeal", "appeal_review", "appeal_decide", "return_visit"),
		"version": map[string]any{"type": "integer", "description": "the case version the client saw; refused with 409 if it changed"},
		"note":    str("reason or note"), "photos": arr(ref("Photo")), "lead_unit": str("unit ID"), "co_units": arr(str("unit ID")),
		"target": str("merge: the earlier case's ID"), "passed": map[string]any{"type": "boolean"},
		"rating":    enum("satisfied", "basic_satisfied", "unsatisfied"),
		"extension": obj(map[string]any{"amount": num(), "unit": enum("minutes", "work_hours", "work_days", "days")}),
		"until":     str("park until, RFC 3339"), "severity": enum("normal", "urgent", "critical"),
		"kind": map[string]any{"type": "string", "enum": []string{"street", "enterprise", "grid"},
			"description": "whistle: 街道吹哨 (commander, summons units), 企业吹哨 (enterprise on its own case, or the commander relaying it; units), 网格吹哨 (grid worker or chief; heads). Default by role"},
		"parties": map[string]any{"type": "array", "description": "whistle: the parties summoned, each a unit or a person (head or unit staff account)",
			"items": obj(map[string]any{"unit_id": str("unit ID"), "account_id": str("account ID of a head or unit staff")})},
		"report_in_limit": obj(map[string]any{"amount": num(), "unit": enum("minutes", "work_hours", "work_days", "days")}),
		"whistle_id":      str("report_in (optional: the first whistle the caller is summoned by), rate_party, meeting (pre-fills the attendees with the whistle's parties)"),
		"party_key":       str("rate_party: unit:<unit ID> or person:<account ID>"),
		"point":           ref("Point"),
		"meeting":         ref("MeetingRequest"),
		"decision_id":     str("decision_done: a meeting decision's ID (d1, d2, …)"),
		"appeal_unit":     str("appeal_review, appeal_decide: the unit whose overdue appeal (optional when only one waits for that stage)"),
	}),
	"MeetingRequest": obj(map[string]any{
		"kind":  enum("dispatch", "council", "congress", "briefing"),
		"at":    str("when it was held, RFC 3339 (default now)"),
		"place": str("where"),
		"attendees": arr(obj(map[string]any{
			"kind": enum("unit", "person", "resident", "expert"), "unit_id": str("unit"), "account_id": str("account"),
			"name": str("name of a resident or expert"), "title": str(""),
		})),
		"shown":     str("what was read out or shown"),
		"decisions": arr(obj(map[string]any{"text": str("what was decided"), "unit_id": str("the unit that carries it out"), "due": str("deadline, RFC 3339")})),
	}),
	"AccountChange": obj(map[string]any{
		"name": str("1–50 characters"), "role": enum(roleNames()...),
		"region_code": str("the region the account works in (not for unit, resident, enterprise)"), "unit_id": str("unit accounts: the unit"),
		"title": str("a head's title, one of the configured titles"), "phone": str(""), "active": map[string]any{"type": "boolean"},
		"password": str("a new password, at least 8 characters"),
	}),
	"EnterpriseRequest": obj(map[string]any{
		"service":  str("a service code of the catalog; empty: in the enterprise's own words, the liaison classifies it"),
		"words":    str("what the enterprise needs, up to 2000 characters"),
		"answers":  map[string]any{"type": "object", "description": "answers to the service's and its category's questions by code"},
		"class_id": str("a policy class where the question was raised"), "question": map[string]any{"type": "integer", "description": "with class_id: the question's number"},
	}),
	"EnterpriseFollow": obj(map[string]any{
		"action":   enum("contact", "classify", "ask", "reply", "rate", "whistle"),
		"text":     str("contact, ask, reply: the text; rate, whistle: a note"),
		"question": map[string]any{"type": "integer", "description": "reply: the question's number"},
		"service":  str("classify: a service code"), "rating": enum("satisfied", "basic_satisfied", "unsatisfied"),
		"units": arr(str("whistle: the departments summoned (two or more)")),
	}),
	"Screen": obj(map[string]any{
		"action": enum("release", "reject"), "ids": arr(str("case ID")), "note": str("reject: the reason"),
	}),
	"DeviceKind": obj(map[string]any{
		"code": str("1–64 letters, digits, _ . -"), "name": str("Chinese name"), "unit": str("unit of the readings"),
		"min": num(), "max": num(),
	}),
	"SensorRule": obj(map[string]any{
		"id": str("1–64 letters, digits, _ . -"), "version": map[string]any{"type": "integer", "description": "the version you saw; 0 for a new rule; refused with 409 if it changed"},
		"name": str(""), "type": enum("threshold", "rate", "area_sum", "silence"),
		"kind": str("device kind in scope"), "device": str("one device in scope"), "area": str("area in scope (area_sum: required)"),
		"raise": num(), "clear": map[string]any{"type": "number", "description": "hysteresis: the condition ends past this line"},
		"below":          map[string]any{"type": "boolean", "description": "the condition is a low value"},
		"silent_minutes": map[string]any{"type": "integer"}, "clear_minutes": map[string]any{"type": "integer"},
		"update_minutes": map[string]any{"type": "integer"}, "category": str("the case's category"),
		"severity": enum("normal", "urgent", "critical"), "active": map[string]any{"type": "boolean"},
	}),
	"OperationInput": obj(map[string]any{
		"id": str("new: optional, 1–24 letters, digits, _ . - (not \"new\", the console's planning form)"), "version": map[string]any{"type": "integer", "description": "0 for a new operation; else the version you saw (409 if it changed)"},
		"name": str(""), "start": str("RFC 3339"), "end": str("RFC 3339, after start, at most 14 days later"),
		"kind": str("the crowd counters' device kind"), "alert_category": str("the category of the alert cases (no required questions)"),
		"areas": arr(obj(map[string]any{
			"key": str("the devices' area (1–24 letters, digits, _ . -)"), "name": str(""),
			"shape":  map[string]any{"type": "object", "description": "GeoJSON Polygon or MultiPolygon geometry"},
			"yellow": num(), "red": map[string]any{"type": "number", "description": "above yellow"},
			"duty": arr(obj(map[string]any{"unit": str("unit ID"), "name": str(""), "role": str(""), "phone": str("")})),
		})),
		"tasks": arr(obj(map[string]any{
			"id": str("1–24 letters, digits, _ . -"), "area": str("an area's key"), "title": str(""), "description": str(""),
			"category": str("the case's category"), "unit": str("the unit it is dispatched to"),
			"at": str("RFC 3339, within the window (empty for a triggered task)"), "trigger": enum("", "red"),
			"limit_minutes": map[string]any{"type": "integer", "description": "the unit's limit to sign and handle, 1–1440"},
		})),
	}),
	"Readings": arr(obj(map[string]any{
		"device": str("device ID"), "kind": str("device kind"), "value": num(),
		"at": map[string]any{"description": "RFC 3339 time, or milliseconds since the epoch"},
	})),
}

func obj(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}
func arr(items any) map[string]any { return map[string]any{"type": "array", "items": items} }
func str(desc string) map[string]any {
	m := map[string]any{"type": "string"}
	if desc != "" {
		m["description"] = desc
	}
	return m
}
func num() map[string]any { return map[string]any{"type": "number"} }
func enum(v ...string) map[string]any {
	return map[string]any{"type": "string", "enum": v}
}
func roleNames() []string {
	var out []string
	for _, r := range cases.Roles {
		out = append(out, string(r))
	}
	return out
}
func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// requestBodies names the schema of each route's JSON body.
var requestBodies = map[string]string{
	"POST /api/v1/cases":                           "Report",
	"POST /api/v1/cases/{id}/actions":              "Command",
	"PATCH /api/v1/accounts/{id}":                  "AccountChange",
	"POST /api/v1/held":                            "Screen",
	"POST /api/v1/enterprise/requests":             "EnterpriseRequest",
	"POST /api/v1/enterprise/requests/{id}/follow": "EnterpriseFollow",
	"PUT /api/v1/device-kinds/{code}":              "DeviceKind",
	"PUT /api/v1/sensor-rules/{id}":                "SensorRule",
	"POST /api/v1/readings":                        "Readings",
	"POST /api/v1/webhooks":                        "WebhookInput",
	"PUT /api/v1/webhooks/{id}":                    "WebhookInput",
	"POST /api/v1/hotline/orders":                  "HotlineOrder",
	"POST /api/v1/hotline/orders/{number}/visit":   "HotlineVisit",
	"POST /api/v1/operations":                      "OperationInput",
	"PUT /api/v1/operations/{id}":                  "OperationInput",
}

// queryParams documents the query parameters of each route.
var queryParams = map[string][]string{
	"GET /api/v1/cases": {"state", "open", "region", "grid", "category", "board", "unit", "severity", "source", "overdue",
		"from", "to", "q", "bbox", "after", "limit"},
	"GET /api/v1/suggest":                          {"text"},
	"GET /api/v1/held":                             {"after", "limit"},
	"GET /api/v1/evaluation":                       {"kind", "period", "under", "top"},
	"GET /api/v1/locate":                           {"lng", "lat"},
	"GET /api/v1/regions":                          {"parent", "level", "under"},
	"GET /api/v1/regions/export":                   {"format", "under"},
	"POST /api/v1/regions/import":                  {"format"},
	"GET /api/v1/enterprise/figures":               {"from", "to"},
	"GET /api/v1/enterprise/requests":              {"open"},
	"GET /api/v1/enterprise/services":              {"all"},
	"GET /api/v1/grids/{code}/patrols":             {"period"},
	"GET /api/v1/grids/{code}/visits":              {"period"},
	"GET /api/v1/gridwork/figures":                 {"under", "period"},
	"GET /api/v1/grids/{code}/messages":            {"period"},
	"GET /api/v1/devices":                          {"kind", "area", "state", "after", "limit"},
	"GET /api/v1/devices/{id}":                     {"grain"},
	"GET /api/v1/incidents":                        {"state", "rule", "before", "limit"},
	"GET /api/v1/webhooks/{id}/log":                {"limit"},
	"GET /api/v1/party/figures":                    {"under", "period"},
	"GET /api/v1/communities/{code}/service-hours": {"from", "to"},
}

// response is what a route answers on success: its status and the Go type
// of its body (a value of it, or a schema literal with typeOf markers);
// ctype, when set, is a body that is not JSON (a photo, a file, a stream).
type response struct {
	status int
	body   any
	ctype  string
}

// listOf is a listing's body: items of T, with the cursor of the next page.
func listOf[T any]() map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{
		"items": map[string]any{"type": "array", "items": typeOf[T](), "nullable": true},
		"next":  map[string]any{"type": "string"}, "total": map[string]any{"type": "integer"},
	}, "required": []any{"items"}}
}

// responses is every route's success answer; TestOpenAPIListsEveryRoute
// refuses a route without one.
var responses = map[string]response{
	"GET /api/v1/openapi.json":          {200, map[string]any{"type": "object", "description": "this document"}, ""},
	"POST /api/v1/sessions":             {201, map[string]any{"type": "object", "properties": map[string]any{"token": str("the bearer token"), "account": typeOf[store.Account]()}, "required": []any{"token", "account"}}, ""},
	"DELETE /api/v1/sessions":           {204, nil, ""},
	"GET /api/v1/me":                    {200, store.Account{}, ""},
	"POST /api/v1/photos":               {201, cases.Photo{}, ""},
	"GET /api/v1/photos/{hash}":         {200, nil, "image/jpeg"},
	"POST /api/v1/cases":                {201, cases.Case{}, ""},
	"GET /api/v1/cases":                 {200, listOf[listItem](), ""},
	"GET /api/v1/cases/{id}":            {200, map[string]any{"type": "object", "properties": map[string]any{"case": typeOf[summary](), "steps": typeOf[[]cases.Step](), "actions": typeOf[[]cases.Action]()}, "required": []any{"case", "steps", "actions"}}, ""},
	"POST /api/v1/cases/{id}/actions":   {200, map[string]any{"type": "object", "properties": map[string]any{"case": typeOf[summary](), "step": typeOf[cases.Step]()}, "required": []any{"case", "step"}}, ""},
	"GET /api/v1/cases/{id}/duplicates": {200, listOf[summary](), ""},
	"GET /api/v1/cases/{id}/reporter":   {200, map[string]any{"type": "object", "properties": map[string]any{"name": str(""), "phone": str("")}, "required": []any{"name", "phone"}}, ""},
	"GET /api/v1/held":                  {200, listOf[summary](), ""},
	"POST /api/v1/held":                 {200, service.Screened{}, ""},
	"GET /api/v1/appeals":               {200, service.AppealQueue{}, ""},
	"GET /api/v1/suggest":               {200, listOf[service.Suggestion](), ""},
	"GET /api/v1/locate": {200, map[string]any{"type": "object", "properties": map[string]any{
		"grid": map[string]any{"type": "string", "nullable": true}, "names": map[string]any{"type": "array", "items": str("")},
		"message": str("why no grid holds the point")}, "required": []any{"grid"}}, ""},
	"GET /api/v1/events":                              {200, nil, "text/event-stream"},
	"GET /api/v1/regions":                             {200, listOf[store.RegionRecord](), ""},
	"GET /api/v1/regions/{code}":                      {200, store.RegionRecord{}, ""},
	"POST /api/v1/regions/import":                     {200, map[string]any{"type": "object", "properties": map[string]any{"imported": map[string]any{"type": "integer"}}, "required": []any{"imported"}}, ""},
	"GET /api/v1/regions/export":                      {200, nil, "application/geo+json"},
	"GET /api/v1/categories":                          {200, listOf[cases.Category](), ""},
	"PUT /api/v1/categories/{code}":                   {200, cases.Category{}, ""},
	"GET /api/v1/units":                               {200, listOf[cases.Unit](), ""},
	"PUT /api/v1/units/{id}":                          {200, cases.Unit{}, ""},
	"GET /api/v1/boards":                              {200, map[string]any{"type": "object", "properties": map[string]any{"street": str("street code"), "items": typeOf[[]service.StreetBoard]()}, "required": []any{"street", "items"}}, ""},
	"POST /api/v1/boards":                             {200, map[string]any{"type": "object", "properties": map[string]any{"created": typeOf[[]cases.Unit]()}, "required": []any{"created"}}, ""},
	"GET /api/v1/audit":                               {200, listOf[store.AuditEntry](), ""},
	"GET /api/v1/accounts":                            {200, listOf[store.Account](), ""},
	"POST /api/v1/accounts":                           {201, store.Account{}, ""},
	"PATCH /api/v1/accounts/{id}":                     {200, store.Account{}, ""},
	"GET /api/v1/evaluation":                          {200, service.Ranking{}, ""},
	"GET /api/v1/evaluation/rules":                    {200, service.RulesView{}, ""},
	"POST /api/v1/evaluation/rules":                   {201, evaluation.Rules{}, ""},
	"GET /api/v1/pairings":                            {200, listOf[leaders.Pairing](), ""},
	"POST /api/v1/pairings":                           {201, leaders.Pairing{}, ""},
	"PUT /api/v1/pairings/{id}":                       {200, leaders.Pairing{}, ""},
	"DELETE /api/v1/pairings/{id}":                    {204, nil, ""},
	"GET /api/v1/secretaries":                         {200, listOf[leaders.Secretary](), ""},
	"POST /api/v1/secretaries":                        {201, leaders.Secretary{}, ""},
	"DELETE /api/v1/secretaries/{leader}/{secretary}": {204, nil, ""},
	"GET /api/v1/leader/home":                         {200, service.LeaderHome{}, ""},
	"POST /api/v1/visits":                             {201, visitAnswer{}, ""},
	"POST /api/v1/household-visits":                   {201, service.VisitResult{}, ""},
	"GET /api/v1/visits":                              {200, listOf[leaders.Visit](), ""},
	"GET /api/v1/visits/totals":                       {200, totalsAnswer{}, ""},
	"GET /api/v1/visits/cases":                        {200, listOf[summary](), ""},
	"GET /api/v1/visits/{id}":                         {200, visitAnswer{}, ""},
	"GET /api/v1/lists":                               {200, listOf[leaders.List](), ""},
	"POST /api/v1/lists":                              {201, leaders.List{}, ""},
	"GET /api/v1/lists/{id}":                          {200, service.Board{}, ""},
	"POST /api/v1/lists/{id}/items":                   {201, service.Board{}, ""},
	"GET /api/v1/projects":                            {200, listOf[leaders.Project](), ""},
	"POST /api/v1/projects":                           {201, leaders.Project{}, ""},
	"GET /api/v1/projects/{id}":                       {200, service.ProjectView{}, ""},
	"POST /api/v1/projects/{id}/actions":              {200, leaders.Project{}, ""},
	"POST /api/v1/cases/{id}/supervise":               {201, supervisionAnswer{}, ""},
	"GET /api/v1/supervisions":                        {200, listOf[service.SupervisionView](), ""},
	"POST /api/v1/cases/{id}/key-project":             {201, keyProjectAnswer{}, ""},
	"GET /api/v1/training/courses":                    {200, listOf[leaders.Course](), ""},
	"POST /api/v1/training/courses":                   {201, leaders.Course{}, ""},
	"POST /api/v1/training/sessions":                  {201, leaders.Session{}, ""},
	"GET /api/v1/training/figures":                    {200, listOf[service.TrainingRow](), ""},
	"GET /api/v1/cadres/{id}":                         {200, service.CadreRecord{}, ""},
	"POST /api/v1/cadres/{id}/postings":               {201, leaders.Posting{}, ""},
	"GET /api/v1/calendar":                            {200, calendar.Config{}, ""},
	"PUT /api/v1/calendar":                            {200, calendar.Config{}, ""},
	"GET /api/v1/enterprise/services":                 {200, listOf[enterprise.Service](), ""},
	"PUT /api/v1/enterprise/services/{code}":          {200, enterprise.Service{}, ""},
	"GET /api/v1/enterprises":                         {200, listOf[enterprise.Enterprise](), ""},
	"POST /api/v1/enterprises":                        {201, enterprise.Enterprise{}, ""},
	"PUT /api/v1/enterprises/{id}":                    {200, enterprise.Enterprise{}, ""},
	"POST /api/v1/enterprises/import":                 {200, map[string]any{"type": "object", "properties": map[string]any{"imported": map[string]any{"type": "integer"}}, "required": []any{"imported"}}, ""},
	"POST /api/v1/enterprises/{id}/members":           {204, nil, ""},
	"POST /api/v1/enterprise/requests":                {201, enterprise.Request{}, ""},
	"GET /api/v1/enterprise/requests":                 {200, listOf[enterprise.Request](), ""},
	"GET /api/v1/enterprise/requests/{id}":            {200, requestDetail{}, ""},
	"POST /api/v1/enterprise/requests/{id}/follow":    {200, enterprise.Request{}, ""},
	"GET /api/v1/enterprise/classes":                  {200, listOf[enterprise.Class](), ""},
	"POST /api/v1/enterprise/classes":                 {201, enterprise.Class{}, ""},
	"GET /api/v1/enterprise/classes/{id}":             {200, classDetail{}, ""},
	"POST /api/v1/enterprise/classes/{id}/signin":     {204, nil, ""},
	"POST /api/v1/enterprise/classes/{id}/questions":  {201, enterprise.Class{}, ""},
	"GET /api/v1/enterprise/figures":                  {200, service.EnterpriseFigures{}, ""},
	"GET /api/v1/grids":                               {200, listOf[service.GridRef](), ""},
	"GET /api/v1/grids/today":                         {200, listOf[service.GridDay](), ""},
	"POST /api/v1/patrols":                            {201, service.PatrolResult{}, ""},
	"GET /api/v1/patrols/{id}":                        {200, patrolDetail{}, ""},
	"GET /api/v1/grids/{code}/patrols":                {200, listOf[gridwork.Patrol](), ""},
	"GET /api/v1/grids/{code}/visits":                 {200, listOf[gridwork.Visit](), ""},
	"GET /api/v1/grids/{code}/roster":                 {200, service.Roster{}, ""},
	"PUT /api/v1/grids/{code}/places":                 {200, gridwork.Place{}, ""},
	"PUT /api/v1/grids/{code}/people":                 {200, gridwork.Person{}, ""},
	"GET /api/v1/people/{id}":                         {200, gridwork.Person{}, ""},
	"POST /api/v1/grids/{code}/roster/import":         {200, service.RosterImport{}, ""},
	"GET /api/v1/grids/{code}/team":                   {200, service.TeamView{}, ""},
	"PUT /api/v1/grids/{code}/team":                   {200, service.TeamView{}, ""},
	"PUT /api/v1/grids/{code}/plan":                   {200, gridwork.Plan{}, ""},
	"GET /api/v1/gridwork/figures":                    {200, service.GridFigures{}, ""},
	"GET /api/v1/grids/{code}/messages":               {200, listOf[gridwork.Message](), ""},
	"POST /api/v1/messages/{id}/actions":              {200, gridwork.Message{}, ""},
	"POST /api/v1/readings":                           {200, service.IngestResult{}, ""},
	"GET /api/v1/device-kinds":                        {200, listOf[sensors.Kind](), ""},
	"GET /api/v1/operations":                          {200, listOf[operation.Operation](), ""},
	"POST /api/v1/operations":                         {201, operation.Operation{}, ""},
	"PUT /api/v1/operations/{id}":                     {200, operation.Operation{}, ""},
	"GET /api/v1/operations/{id}":                     {200, service.OperationBoard{}, ""},
	"GET /api/v1/operations/{id}/tasks":               {200, listOf[service.BoardTask](), ""},
	"GET /api/v1/operations/{id}/report":              {200, operation.EventReport{}, ""},
	"GET /api/v1/operations/{id}/live":                {200, nil, "text/event-stream"},
	"PUT /api/v1/device-kinds/{code}":                 {200, sensors.Kind{}, ""},
	"GET /api/v1/devices":                             {200, listOf[store.DeviceRow](), ""},
	"GET /api/v1/devices/{id}":                        {200, service.DeviceView{}, ""},
	"POST /api/v1/devices/import":                     {200, map[string]any{"type": "object", "properties": map[string]any{"imported": map[string]any{"type": "integer"}}, "required": []any{"imported"}}, ""},
	"GET /api/v1/sensor-rules":                        {200, listOf[sensors.Rule](), ""},
	"PUT /api/v1/sensor-rules/{id}":                   {200, sensors.Rule{}, ""},
	"GET /api/v1/sensor-rules/{id}/versions":          {200, listOf[sensors.Rule](), ""},
	"GET /api/v1/incidents":                           {200, listOf[store.IncidentRow](), ""},
	"GET /api/v1/webhooks":                            {200, listOf[service.SubscriptionView](), ""},
	"GET /api/v1/webhooks/kinds":                      {200, listOf[hookKind](), ""},
	"POST /api/v1/webhooks":                           {201, hookCreated{}, ""},
	"PUT /api/v1/webhooks/{id}":                       {200, service.SubscriptionView{}, ""},
	"POST /api/v1/webhooks/{id}/state":                {200, service.SubscriptionView{}, ""},
	"DELETE /api/v1/webhooks/{id}":                    {204, nil, ""},
	"GET /api/v1/webhooks/{id}/log":                   {200, listOf[store.LogEntry](), ""},
	"POST /api/v1/hotline/orders":                     {200, hotlineAnswer{}, ""},
	"POST /api/v1/hotline/orders/{number}/visit":      {200, hotlineVisitAnswer{}, ""},
	"GET /api/v1/communities/{code}/party":            {200, service.PartyView{}, ""},
	"PUT /api/v1/communities/{code}/party-members":    {200, gridwork.PartyMember{}, ""},
	"PUT /api/v1/communities/{code}/volunteer-groups": {200, gridwork.VolunteerGroup{}, ""},
	"POST /api/v1/service-hours":                      {201, gridwork.ServiceHours{}, ""},
	"GET /api/v1/communities/{code}/service-hours":    {200, listOf[gridwork.ServiceHours](), ""},
	"POST /api/v1/cases/{id}/volunteers":              {200, service.VolunteerResult{}, ""},
	"GET /api/v1/party/figures":                       {200, service.PartyFigures{}, ""},
}

// errorStatuses are the error answers a route may give: 400 (bad input,
// including a path or query that is not clean text) and 500 everywhere;
// 401 and 403 behind a token (403: outside the caller's role or scope); 404
// where the path names something; 409 where a write may conflict or be
// refused; 413 where a body is read; 429 where a throttle stands.
func errorStatuses(rt route) []int {
	out := []int{400}
	if rt.access != public || rt.path == "/api/v1/sessions" || strings.HasPrefix(rt.path, "/api/v1/hotline/") {
		out = append(out, 401, 403)
	}
	if strings.Contains(rt.path, "{") || rt.path == "/api/v1/photos/{hash}" {
		out = append(out, 404)
	}
	write := rt.method == "POST" || rt.method == "PUT" || rt.method == "PATCH"
	if write && rt.path != "/api/v1/sessions" && rt.path != "/api/v1/photos" {
		out = append(out, 409)
	}
	if write {
		out = append(out, 413)
	}
	if throttled[rt.method+" "+rt.path] {
		out = append(out, 429)
	}
	return append(out, 500)
}

// throttled are the routes with a throttle: sign-in, and photo uploads
// (decoding waits for a slot).
var throttled = map[string]bool{"POST /api/v1/sessions": true, "POST /api/v1/photos": true,
	"POST /api/v1/cases": true, "POST /api/v1/cases/{id}/actions": true, "POST /api/v1/hotline/orders": true}

var errorText = map[int]string{400: "Bad input: fields names each offending field", 401: "No token, or it expired",
	403: "Outside the caller's role or scope", 404: "No such thing, or outside the caller's scope",
	409: "The case changed since the version sent, or the rules refuse the action", 413: "The body is over this route's limit",
	429: "Throttled; Retry-After says when to try again", 500: "Logged on the server; a generic message"}

// Document builds the OpenAPI 3 document from the route table and the Go
// types the handlers answer with, so it cannot drift from what is served.
func Document() map[string]any {
	gen := newSchemaGen()
	comps := map[string]any{}
	for name, sc := range schemas {
		comps[name] = sc
	}
	paths := map[string]any{}
	for _, rt := range routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		key := rt.method + " " + rt.path
		resps := map[string]any{}
		if res, ok := responses[key]; ok {
			ok := map[string]any{"description": http.StatusText(res.status)}
			switch {
			case res.ctype != "":
				ok["content"] = map[string]any{res.ctype: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
			case res.body != nil:
				ok["content"] = map[string]any{"application/json": map[string]any{"schema": gen.of(res.body)}}
			}
			resps[strconv.Itoa(res.status)] = ok
		}
		for _, st := range errorStatuses(rt) {
			desc := errorText[st]
			if st == 413 {
				desc = fmt.Sprintf("The body is over %d bytes, this route's limit", bodyLimit(rt.method, rt.path))
			}
			resps[strconv.Itoa(st)] = map[string]any{"description": desc,
				"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(rt.path, "/api/v1"), "/", "_"), "{", ""),
			"responses":   resps,
		}
		op["operationId"] = strings.ReplaceAll(op["operationId"].(string), "}", "")
		if rt.access != public {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": str("")})
		}
		for _, q := range queryParams[key] {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": str("")})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if s, ok := requestBodies[key]; ok {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(s)}}}
		}
		item[strings.ToLower(rt.method)] = op
	}
	for name, sc := range gen.comps {
		if _, taken := comps[name]; !taken {
			comps[name] = sc
		}
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "zhizhi 基层智治平台 API", "version": "1.0.0",
			"description": "The case loop of a grassroots smart-governance platform. Errors are JSON with a code, a message and the offending fields."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         comps,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

// RouteResponses lists each route key with its documented success status,
// for the tests.
func RouteResponses() map[string]int {
	out := map[string]int{}
	for k, r := range responses {
		out[k] = r.status
	}
	return out
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, Document())
	return nil
}
