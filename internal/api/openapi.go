package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"zhizhi/internal/cases"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// schemas documents the main request and response bodies.
var schemas = map[string]any{
	"Error": obj(map[string]any{"error": obj(map[string]any{
		"code": str("invalid | not_found | conflict | refused | forbidden | unauthorized | internal"), "message": str("Chinese message"),
		"fields": arr(obj(map[string]any{"field": str("offending field"), "reason": str("why, in Chinese")})),
	})}),
	"Point": obj(map[string]any{"lng": num(), "lat": num()}),
	"Photo": obj(map[string]any{"hash": str("SHA-256 hex"), "type": str("MIME type"), "size": num()}),
	"Report": obj(map[string]any{
		"source":   enum("patrol", "resident", "enterprise", "hotline", "sensor", "visit", "open311"),
		"reporter": obj(map[string]any{"name": str(""), "phone": str("")}),
		"point":    ref("Point"), "address": str(""), "category": str("category code"),
		"severity": enum("normal", "urgent", "critical"), "description": str("up to 4000 characters"),
		"answers": map[string]any{"type": "object", "description": "answers to the category's questions by code"},
		"photos":  arr(ref("Photo")), "solved_on_spot": map[string]any{"type": "boolean"}, "note": str("what was done on the spot"),
	}),
	"Command": obj(map[string]any{
		"action": enum("release", "accept", "reject", "merge", "dispatch", "redispatch", "sign", "handle", "feedback", "verify", "close", "rate",
			"return", "extend_request", "extend_approve", "extend_deny", "park_request", "park_approve", "park_deny", "resume",
			"reopen", "escalate", "urge", "supervise", "place", "hand_down",
			"whistle", "report_in", "leave", "rate_party", "meeting", "decision_done",
			"appeal", "appeal_review", "appeal_decide"),
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
		"meeting":         ref("Meeting"),
		"decision_id":     str("decision_done: a meeting decision's ID (d1, d2, …)"),
		"appeal_unit":     str("appeal_review, appeal_decide: the unit whose overdue appeal (optional when only one waits for that stage)"),
	}),
	"Meeting": obj(map[string]any{
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
	"Screen": obj(map[string]any{
		"action": enum("release", "reject"), "ids": arr(str("case ID")), "note": str("reject: the reason"),
	}),
	"Case": map[string]any{"type": "object", "description": "a case: number, state, location, category, tasks with their clocks, whistles with their parties' report-in clocks, meetings with their decisions, and more"},
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
	"POST /api/v1/cases":              "Report",
	"POST /api/v1/cases/{id}/actions": "Command",
	"PATCH /api/v1/accounts/{id}":     "AccountChange",
	"POST /api/v1/held":               "Screen",
}

// queryParams documents the query parameters of each route.
var queryParams = map[string][]string{
	"GET /api/v1/cases": {"state", "open", "region", "grid", "category", "board", "unit", "severity", "source", "overdue",
		"from", "to", "q", "bbox", "after", "limit"},
	"GET /api/v1/suggest":         {"text"},
	"GET /api/v1/held":            {"after", "limit"},
	"GET /api/v1/evaluation":      {"kind", "period", "under", "top"},
	"GET /api/v1/locate":          {"lng", "lat"},
	"GET /api/v1/regions":         {"parent", "level", "under"},
	"GET /api/v1/regions/export":  {"format", "under"},
	"POST /api/v1/regions/import": {"format"},
}

// Document builds the OpenAPI 3 document from the route table, so it cannot
// drift from what is served.
func Document() map[string]any {
	paths := map[string]any{}
	for _, rt := range routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		key := rt.method + " " + rt.path
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(rt.path, "/api/v1"), "/", "_"), "{", ""),
			"responses": map[string]any{
				"200":     map[string]any{"description": "OK"},
				"default": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}},
			},
		}
		op["operationId"] = strings.ReplaceAll(op["operationId"].(string), "}", "")
		if rt.method == "POST" || rt.method == "PUT" || rt.method == "PATCH" {
			op["responses"].(map[string]any)["413"] = map[string]any{
				"description": fmt.Sprintf("The body is over %d bytes, this route's limit", bodyLimit(rt.method, rt.path)),
				"content":     map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
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
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "zhizhi 基层智治平台 API", "version": "1.0.0",
			"description": "The case loop of a grassroots smart-governance platform. Errors are JSON with a code, a message and the offending fields."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, Document())
	return nil
}
