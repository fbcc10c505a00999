package store

import (
	"strconv"
	"strings"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// The orders a queue can be listed in (CaseFilter.Sort). Each is a key and
// the case ID, so a cursor (the last row's key and ID) pages through the
// queue stably: cases reported after the first page was read sort before
// the cursor and never push a row onto the next page twice.
const (
	SortNewest   = ""         // ID, newest first (the default of every listing)
	SortReported = "reported" // report time, newest first
	SortDue      = "due"      // the earliest running due time first; cases with no running clock last
	SortSeverity = "severity" // 特急, 紧急, 一般; newest first within each
)

// Sorts lists the orders a board queue offers.
var Sorts = []string{SortReported, SortDue, SortSeverity}

// noDue is the key of a case with no running clock in the due order.
const noDue = int64(1<<62 - 1)

// Cursor is where the next page of a sorted listing starts: after the case
// with this key and ID.
type Cursor struct {
	Key int64
	ID  string
}

// String encodes the cursor for a query string: key.ID.
func (c Cursor) String() string { return strconv.FormatInt(c.Key, 10) + "." + c.ID }

// ParseCursor reads a cursor written by String.
func ParseCursor(s string) (Cursor, bool) {
	k, id, ok := strings.Cut(s, ".")
	if !ok || id == "" || len(s) > 100 {
		return Cursor{}, false
	}
	n, err := strconv.ParseInt(k, 10, 64)
	if err != nil {
		return Cursor{}, false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return Cursor{}, false
		}
	}
	return Cursor{Key: n, ID: id}, true
}

// CursorOf is the cursor just after c in a listing of the given order.
func CursorOf(c cases.Case, sort string) Cursor {
	switch sort {
	case SortReported:
		return Cursor{Key: ms(c.ReportedAt), ID: c.ID}
	case SortDue:
		k := noDue
		if d, ok := caseDue(&c).(int64); ok {
			k = d
		}
		return Cursor{Key: k, ID: c.ID}
	case SortSeverity:
		return Cursor{Key: severityRank(c.Severity), ID: c.ID}
	}
	return Cursor{ID: c.ID}
}

func severityRank(s sla.Severity) int64 {
	switch s {
	case sla.Critical:
		return 2
	case sla.Urgent:
		return 1
	}
	return 0
}

// sevRankSQL is severityRank in SQL.
const sevRankSQL = `(CASE severity WHEN 'critical' THEN 2 WHEN 'urgent' THEN 1 ELSE 0 END)`

// dueKeySQL is the due order's key in SQL.
var dueKeySQL = `COALESCE(due_at, ` + strconv.FormatInt(noDue, 10) + `)`

// ValidSort reports whether s names an order.
func ValidSort(s string) bool {
	return s == SortNewest || s == SortReported || s == SortDue || s == SortSeverity
}

// orderSQL is the ORDER BY of a listing.
func orderSQL(sort string) string {
	switch sort {
	case SortReported:
		return `reported_at DESC, id DESC`
	case SortDue:
		return dueKeySQL + ` ASC, id DESC`
	case SortSeverity:
		return sevRankSQL + ` DESC, id DESC`
	}
	return `id DESC`
}

// addCursor adds the keyset condition of a sorted listing's cursor.
func (w *where) addCursor(sort string, c *Cursor) {
	if c == nil {
		return
	}
	switch sort {
	case SortReported:
		w.add(`(reported_at < ? OR (reported_at = ? AND id < ?))`, c.Key, c.Key, c.ID)
	case SortDue:
		w.add(`(`+dueKeySQL+` > ? OR (`+dueKeySQL+` = ? AND id < ?))`, c.Key, c.Key, c.ID)
	case SortSeverity:
		w.add(`(`+sevRankSQL+` < ? OR (`+sevRankSQL+` = ? AND id < ?))`, c.Key, c.Key, c.ID)
	default:
		w.add(`id < ?`, c.ID)
	}
}
