// Package apperr holds the one error type that crosses layer boundaries in
// zhizhi. Domain code returns these; the HTTP layers map them to responses in
// one place. Messages (Message, Reason) are user-facing and written in Chinese.
package apperr

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error for the edge that reports it.
type Kind string

// The kinds of error, each mapped to one HTTP status by the API.
const (
	Invalid      Kind = "invalid"      // bad input: 400, with the offending fields
	NotFound     Kind = "not_found"    // 404
	Conflict     Kind = "conflict"     // concurrent change or duplicate: 409
	Refused      Kind = "refused"      // a transition the rules do not allow: 409
	Forbidden    Kind = "forbidden"    // outside the caller's scope or role: 403
	Unauthorized Kind = "unauthorized" // no or bad credentials: 401
	TooMany      Kind = "too_many"     // rate limited: 429
	TooLarge     Kind = "too_large"    // a request body over its route's limit: 413
)

// FieldError names one offending input field and why it was refused.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is a classified error with a user-facing message and optional fields.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error // optional cause, never shown to a client
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	b.WriteString(": ")
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a user-facing message.
func New(kind Kind, message string) *Error { return &Error{Kind: kind, Message: message} }

// Newf is New with formatting.
func Newf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about one field.
func Field(field, reason string) *Error {
	return &Error{Kind: Invalid, Message: "输入有误", Fields: []FieldError{{Field: field, Reason: reason}}}
}

// Fields collects field errors; Err returns nil when none were added.
type Fields struct{ list []FieldError }

// Add records that field is wrong for reason.
func (f *Fields) Add(field, reason string) { f.list = append(f.list, FieldError{field, reason}) }

// Addf is Add with formatting.
func (f *Fields) Addf(field, format string, args ...any) {
	f.Add(field, fmt.Sprintf(format, args...))
}

// Empty reports whether no field error was added.
func (f *Fields) Empty() bool { return len(f.list) == 0 }

// Err returns an Invalid error listing the fields, or nil.
func (f *Fields) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "输入有误", Fields: f.list}
}

// KindOf returns the kind of err, or "" when err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Is reports whether err is an *Error of the given kind.
func Is(err error, kind Kind) bool { return KindOf(err) == kind }

// Merge adds the fields of an Invalid error (or, for any other error, one
// field "" with its message).
func (f *Fields) Merge(err error) {
	var e *Error
	if errors.As(err, &e) {
		if len(e.Fields) == 0 {
			f.Add("", e.Message)
		}
		for _, fe := range e.Fields {
			f.Add(fe.Field, fe.Reason)
		}
		return
	}
	if err != nil {
		f.Add("", err.Error())
	}
}

// Status is the HTTP status of an error, the one table the API and the
// console share (Open311 maps to its spec's statuses of its own): 500 for
// an error that is not an *Error.
func Status(err error) int {
	switch KindOf(err) {
	case Invalid:
		return 400
	case NotFound:
		return 404
	case Conflict, Refused:
		return 409
	case Forbidden:
		return 403
	case Unauthorized:
		return 401
	case TooMany:
		return 429
	case TooLarge:
		return 413
	}
	return 500
}

// ClientGone says whether a request's failure is its client's leaving: the
// request's context ended (the connection closed or the client gave up), so
// whatever err says, it is not a fault of the server and nobody waits for
// the answer. The edges log it quietly and answer nothing.
func ClientGone(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil
}

// BodyTooLarge is the error of a request body over its route's limit of
// limit bytes, in the words a person reads.
func BodyTooLarge(limit int64) *Error {
	return Newf(TooLarge, "请求内容过大，不能超过%s", SizeText(limit))
}

// SizeText writes a byte count as MB or KB for a message.
func SizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%dKB", (n+1023)>>10)
}
