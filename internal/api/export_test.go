package api

// RouteKeys returns "METHOD /path" for every row of the route table, for the
// external tests to compare with the OpenAPI document.
func RouteKeys() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.method + " " + rt.path
	}
	return out
}

// RouteAccess maps every route ("METHOD /path") to who may call it:
// "public", "signed" or "admin".
func RouteAccess() map[string]string {
	names := map[access]string{public: "public", signed: "signed", admin: "admin"}
	out := make(map[string]string, len(routes))
	for _, rt := range routes {
		out[rt.method+" "+rt.path] = names[rt.access]
	}
	return out
}

// BodyLimit is the most bytes a request body to the route may hold.
func BodyLimit(method, path string) int64 { return bodyLimit(method, path) }

// ListPage is a page of GET /api/v1/cases, for the tests that decode it.
type ListPage = listPage
