// Package httpin holds what every door of the platform (the JSON API, the
// console, Open311) checks of a request before its handler runs, so the
// doors cannot drift apart: the body's limit and text no engine disagrees
// on in the path and the query string.
package httpin

import (
	"net/http"

	"zhizhi/internal/apperr"
	"zhizhi/internal/textcheck"
)

// Check bounds the request's body to limit bytes (a declared length over it
// is refused at once, with the connection closed after the answer; a
// streamed body fails when reading passes it) and refuses a path or query
// string that is not clean text (400 naming the parameter).
func Check(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		return apperr.BodyTooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if p := textcheck.Line(r.URL.Path); p != "" {
		return apperr.Field("path", p)
	}
	return textcheck.Values(r.URL.Query())
}
