package web

import "zhizhi/internal/cases"

// RouteInfo is one row of the console's route table as the external tests
// see it.
type RouteInfo struct {
	Method, Path string
	Public       bool
	Roles        []cases.Role // nil: anyone signed in
}

// Routes returns the console's route table.
func Routes() []RouteInfo {
	out := make([]RouteInfo, len(routes))
	for i, r := range routes {
		out[i] = RouteInfo{Method: r.method, Path: r.path, Public: r.access.public, Roles: r.access.roles}
	}
	return out
}

// BodyLimit is the most bytes a request body to the console route may hold.
func BodyLimit(method, path string) int64 { return bodyLimit(method, path) }
