package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// listStmts are the SQLite reader pool's prepared listing statements, by
// their text. A page of cases is read in a few hundred microseconds, and
// parsing and planning its statement again was a fifth of that (issue 19's
// profile); the listings' texts are few (one per combination of filters,
// the values are arguments), so each is prepared once and kept, up to
// maxListStmts. PostgreSQL's driver keeps its own per connection.
type listStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

const maxListStmts = 256

// noListStmts turns the cache off (PrepareListings).
var noListStmts atomic.Bool

// PrepareListings turns the prepared listing statements on (the default)
// or off. It exists so that a benchmark can compare the listing of before
// issue 19 with today's in one run.
func PrepareListings(on bool) { noListStmts.Store(!on) }

// query runs q on the reader pool, through a statement prepared once where
// the engine is SQLite.
func (db *DB) queryList(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if db.Dialect != SQLite || noListStmts.Load() {
		return db.read.QueryContext(ctx, q, args...)
	}
	st, err := db.lists.get(ctx, db.read, q)
	if err != nil {
		return nil, err
	}
	if st == nil { // the cache is full
		return db.read.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (l *listStmts) get(ctx context.Context, pool *sql.DB, q string) (*sql.Stmt, error) {
	l.mu.Lock()
	st, ok := l.stmts[q]
	full := len(l.stmts) >= maxListStmts
	l.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stmts == nil {
		l.stmts = map[string]*sql.Stmt{}
	}
	if have, ok := l.stmts[q]; ok { // prepared meanwhile by another reader
		st.Close()
		return have, nil
	}
	if len(l.stmts) >= maxListStmts {
		st.Close()
		return nil, nil
	}
	l.stmts[q] = st
	return st, nil
}

func (l *listStmts) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, st := range l.stmts {
		st.Close()
	}
	l.stmts = nil
}
