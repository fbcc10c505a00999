package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// hotStmts are the SQLite writer connection's prepared statements. Those
// named in the code (prepareHot) are prepared when the database opens; any
// other statement a write transaction runs is parsed by SQLite at each run,
// which can cost more than running it (an event row's INSERT: 24 µs parsed
// each time, 11 µs prepared). So the writer also learns: a statement run
// unprepared a second time is prepared after the batch that ran it (learn,
// from the writer's loop between two batches, when the connection is free),
// and used prepared from the next batch on. At most maxHotStmts are kept, so statements whose text
// varies with their arguments (IN lists, chunks of rows) cannot grow the set
// without bound; past it they are parsed as before.
//
// Readers have their own cache (liststmt.go); PostgreSQL's driver keeps its
// own per connection, so hotStmts is SQLite's only.
type hotStmts struct {
	m atomic.Pointer[map[string]*sql.Stmt] // read without a lock; replaced whole when statements are added

	mu      sync.Mutex
	missed  map[string]int  // statements run unprepared since the last learn, and how often
	failed  map[string]bool // statements learn could not prepare: not tried again
	parsed  atomic.Int64    // statements run unprepared, in all (WriterParses)
	ready   atomic.Bool     // some statement of missed was run unprepared twice
	learned atomic.Int64    // statements prepared by learn
}

// maxHotStmts bounds the writer's prepared statements, named and learned;
// maxMissed bounds the statements remembered between two learns.
const (
	maxHotStmts = 512
	maxMissed   = 1024
)

// get returns the prepared statement for query, or nil.
func (h *hotStmts) get(query string) *sql.Stmt {
	if h == nil {
		return nil
	}
	if m := h.m.Load(); m != nil {
		return (*m)[query]
	}
	return nil
}

// miss records that query ran unprepared.
func (h *hotStmts) miss(query string) {
	if h == nil {
		return
	}
	h.parsed.Add(1)
	h.mu.Lock()
	if h.missed == nil {
		h.missed = map[string]int{}
	}
	if n, ok := h.missed[query]; ok || len(h.missed) < maxMissed {
		h.missed[query] = n + 1
		if n+1 == 2 {
			h.ready.Store(true)
		}
	}
	h.mu.Unlock()
}

// add prepares queries on db, the writer, and keeps them. When strict, a
// statement that cannot be prepared is an error and nothing is kept;
// otherwise it is returned in failed and left to be parsed at each run (it
// names a table a statement before it in its transaction creates, say).
func (h *hotStmts) add(ctx context.Context, db *sql.DB, queries []string, strict bool) (failed []string, err error) {
	old := h.m.Load()
	if old != nil && len(*old) >= maxHotStmts {
		return nil, nil // full: the rest are parsed at each run
	}
	next := make(map[string]*sql.Stmt, len(queries))
	if old != nil {
		next = make(map[string]*sql.Stmt, len(*old)+len(queries))
		for q, st := range *old {
			next[q] = st
		}
	}
	added := 0
	for _, q := range queries {
		if _, ok := next[q]; ok || len(next) >= maxHotStmts {
			continue
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			if strict {
				for q, st := range next {
					if old == nil || (*old)[q] == nil {
						st.Close()
					}
				}
				return nil, fmt.Errorf("prepare %q: %w", q, err)
			}
			failed = append(failed, q)
			continue
		}
		next[q] = st
		added++
	}
	if added > 0 || old == nil {
		h.m.Store(&next)
	}
	if !strict {
		h.learned.Add(int64(added))
	}
	return failed, nil
}

// learn prepares the statements run unprepared at least twice since the
// last learn (once: a migration's, an administrator's rare change), on the
// writer db; called by the writer between batches.
func (h *hotStmts) learn(ctx context.Context, db *sql.DB) {
	if h == nil || !h.ready.Swap(false) {
		return
	}
	h.mu.Lock()
	var queries []string
	for q, n := range h.missed {
		if h.failed[q] {
			delete(h.missed, q)
			continue
		}
		if n >= 2 {
			queries = append(queries, q)
			delete(h.missed, q)
		}
	}
	if len(h.missed) >= maxMissed {
		clear(h.missed) // one-off texts filled it: start again
	}
	h.mu.Unlock()
	if len(queries) == 0 {
		return
	}
	slices.Sort(queries) // the same set prepared in the same order
	failed, _ := h.add(ctx, db, queries, false)
	if len(failed) > 0 {
		h.mu.Lock()
		if h.failed == nil {
			h.failed = map[string]bool{}
		}
		for _, q := range failed {
			h.failed[q] = true
		}
		h.mu.Unlock()
	}
}

// close closes every prepared statement.
func (h *hotStmts) close() {
	if h == nil {
		return
	}
	if m := h.m.Load(); m != nil {
		for _, st := range *m {
			st.Close()
		}
	}
}

// WriterParses is how many statements the SQLite writer has run without a
// prepared statement since the database opened (0 on PostgreSQL): tests
// check that a case's round of actions, run again, parses none.
func (db *DB) WriterParses() int64 {
	if db.hot == nil {
		return 0
	}
	return db.hot.parsed.Load()
}

// WriterStatements is how many statements the SQLite writer keeps
// prepared, and how many of them it learned (hotStmts).
func (db *DB) WriterStatements() (kept, learned int) {
	if db.hot == nil {
		return 0, 0
	}
	if m := db.hot.m.Load(); m != nil {
		kept = len(*m)
	}
	return kept, int(db.hot.learned.Load())
}
