package open311

// WriteRoutes returns "METHOD path" (path under Prefix, with "*" for a
// segment and ".json" for a route with formats) for every row of the route
// table that takes a body, and the most bytes its body may hold.
func WriteRoutes() map[string]int64 {
	out := map[string]int64{}
	for _, rt := range routes {
		if rt.method == "GET" {
			continue
		}
		p := rt.path
		if rt.formats {
			p += ".json"
		}
		out[rt.method+" "+p] = bodyLimit(rt.method, rt.path)
	}
	return out
}
