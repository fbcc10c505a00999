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
