package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("store closed")

type job struct {
	ctx      context.Context
	fn       func(*Tx) error
	counters []string // counters the job will take a number from (see reserve)
	done     chan error
}

// batcher is the group-commit writer: one goroutine that runs queued work in
// shared transactions.
type batcher struct {
	db       *DB
	jobs     chan job
	max      int
	linger   time.Duration
	wg       sync.WaitGroup
	mu       sync.Mutex
	stopped  bool
	stopOnce sync.Once
	quit     chan struct{}

	batches, ran, commitNanos, replays atomic.Int64 // for WriterStats
	observe                            atomic.Pointer[func(jobs int, commit time.Duration)]

	// Statistics upkeep (SQLite, upkeep.go): refresh after analyzeEvery
	// committed write jobs; 0 never.
	analyzeEvery                                        int
	sinceAnalyze, analyzeRuns, analyzeNanos, analyzedAt atomic.Int64
	countingSince                                       atomic.Int64 // unix nanos: when sinceAnalyze last started from 0
	analyzing                                           atomic.Bool  // PostgreSQL: an ANALYZE is running
}

// ObserveWriter registers fn, told after each successful group commit how
// many jobs it carried and how long its COMMIT took (metrics).
func (db *DB) ObserveWriter(fn func(jobs int, commit time.Duration)) {
	db.batch.observe.Store(&fn)
}

// WriterStats describes the group-commit writer's work so far.
type WriterStats struct {
	Batches    int64         // transactions committed or failed
	Jobs       int64         // write jobs run
	CommitTime time.Duration // total time spent in COMMIT (on PostgreSQL, the fsyncs)
	Replays    int64         // batches run again: held rows failed to write, or a deadlock with another node
	// SQLite: the write-ahead log's fsyncs by the store (walsync.go), each
	// covering every batch committed before it, and their total time.
	Syncs    int64
	SyncTime time.Duration
	// Durable calls (walsync.go), and those of them that had to wait for
	// an fsync (the others found what was committed before them on disk).
	Durables, DurableWaits int64
}

// WriterStats returns the group-commit writer's counters.
func (db *DB) WriterStats() WriterStats {
	b := db.batch
	st := WriterStats{Batches: b.batches.Load(), Jobs: b.ran.Load(), CommitTime: time.Duration(b.commitNanos.Load()), Replays: b.replays.Load()}
	if ws := db.walSync; ws != nil {
		st.Syncs, st.SyncTime = ws.syncs.Load(), time.Duration(ws.nanos.Load())
		st.Durables, st.DurableWaits = ws.durables.Load(), ws.durableWaits.Load()
	}
	return st
}

// Queued is how many write jobs wait for the writer.
func (db *DB) Queued() int { return len(db.batch.jobs) }

func newBatcher(db *DB, opt Options) *batcher {
	b := &batcher{db: db, jobs: make(chan job, 4096), max: opt.MaxBatch, linger: opt.Linger, quit: make(chan struct{}), analyzeEvery: opt.AnalyzeEvery}
	if b.max <= 0 {
		b.max = 256
	}
	switch {
	case b.analyzeEvery < 0:
		b.analyzeEvery = 0
	case b.analyzeEvery == 0:
		b.analyzeEvery = defaultAnalyzeEvery
	}
	b.countingSince.Store(time.Now().UnixNano())
	b.wg.Add(1)
	go b.loop()
	return b
}

func (b *batcher) do(ctx context.Context, fn func(*Tx) error, counters []string) error {
	j := job{ctx: ctx, fn: fn, counters: counters, done: make(chan error, 1)}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return ErrClosed
	}
	select {
	case b.jobs <- j:
	case <-ctx.Done():
		b.mu.Unlock()
		return ctx.Err()
	}
	b.mu.Unlock()
	// Once queued, the job runs even if the caller gives up, so the caller must
	// wait for its outcome: returning early would leave "maybe committed".
	return <-j.done
}

func (b *batcher) stop() {
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		close(b.jobs)
		b.mu.Unlock()
		b.wg.Wait()
	})
}

func (b *batcher) loop() {
	defer b.wg.Done()
	batch := make([]job, 0, b.max)
	last := 1 // jobs in the last batch
	for {
		j, ok := <-b.jobs
		if !ok {
			return
		}
		batch = append(batch[:0], j)
		if ws := b.db.walSync; ws != nil {
			// While a batch waits for its fsync (walsync.go), start the
			// next one at once only if as many jobs wait as the last batch
			// carried (the disk is slow: its callers came back during the
			// fsync); otherwise wait for the fsync to end, gathering jobs.
			// A smaller batch would write the same index pages again for
			// fewer reports, for nothing when the fsync is quick.
			open := true
			for open && len(batch) < min(last, b.max) && ws.pending.Load() > 0 {
				batch, open = collect(b.jobs, batch, min(last, b.max), ws.idle)
			}
		}
		if b.linger > 0 {
			t := time.NewTimer(b.linger)
			batch, _ = collect(b.jobs, batch, b.max, t.C)
			t.Stop()
		} else {
			batch, _ = collect[job, struct{}](b.jobs, batch, b.max, nil)
		}
		last = len(batch)
		b.run(batch)
		b.db.hot.learn(context.Background(), b.db.write)
		b.upkeep()
	}
}

// collect appends to out what ch offers until out holds most (0: no
// bound), until fires (nil: until ch has nothing ready) or ch is closed;
// open is false when ch was closed.
func collect[T, U any](ch <-chan T, out []T, most int, until <-chan U) (_ []T, open bool) {
	for most <= 0 || len(out) < most {
		if until == nil {
			select {
			case v, ok := <-ch:
				if !ok {
					return out, false
				}
				out = append(out, v)
			default:
				return out, true
			}
			continue
		}
		select {
		case v, ok := <-ch:
			if !ok {
				return out, false
			}
			out = append(out, v)
		case <-until:
			return out, true
		}
	}
	return out, true
}

// run executes a batch in one transaction, optimistically: jobs run back to
// back with no savepoints (two statements a job saved), and the rows their
// case writes add are held and written together (see hold.go). A job that
// fails before writing anything and without an SQL error simply reports its
// error (a refused action, a validation error). A job that fails after
// writing, or whose SQL failed (which aborts the whole transaction on
// PostgreSQL), makes the batch roll back and run again without it; the jobs
// are closures over the database state, so running one again is running it
// for the first time. If writing the held rows fails, no single job can be
// blamed: the batch rolls back and runs again writing every row at once.
func (b *batcher) run(batch []job) {
	ctx := context.Background()
	results := make([]error, len(batch))
	excluded := make([]bool, len(batch))
	hold := true
	again := 5 // runs of the whole batch after a deadlock with another node
	ws := b.db.walSync
	if ws != nil {
		if p := ws.fatal.Load(); p != nil {
			// The log could not be synced: nothing written now could be
			// called durable (walsync.go).
			for _, j := range batch {
				j.done <- fmt.Errorf("%w: %v", errWALSync, *p)
			}
			return
		}
	}
	for {
		txs, retry, err := b.attempt(ctx, batch, results, excluded, &hold, &again)
		if retry {
			continue
		}
		if err != nil {
			for i, j := range batch {
				if !excluded[i] {
					j.done <- err
				} else {
					j.done <- results[i]
				}
			}
			return
		}
		answer := func(batch []job, synced error) {
			for i, j := range batch {
				if results[i] == nil && synced != nil {
					j.done <- fmt.Errorf("%w: %v", errWALSync, synced)
					continue
				}
				if results[i] == nil && txs[i] != nil {
					for _, fn := range txs[i].after {
						fn()
					}
				}
				j.done <- results[i]
			}
		}
		if ws == nil {
			answer(batch, nil)
			return
		}
		// Committed; answered once the log is on disk (walsync.go), while
		// the next batch runs. The loop reuses batch's array.
		jobs := slices.Clone(batch)
		answered := make(chan struct{})
		ws.pending.Add(1)
		err = ws.wait(ctx, func(err error) {
			answer(jobs, err)
			ws.pending.Add(-1)
			close(answered)
		})
		if err != nil {
			answer(jobs, err)
			ws.pending.Add(-1)
			close(answered)
		}
		if ws.serial {
			<-answered
		}
		return
	}
}

// attempt runs the jobs not yet excluded in one transaction. It returns
// retry when a job had to be excluded (its result is set and the transaction
// rolled back), the held rows could not be written (hold is then cleared)
// or PostgreSQL broke a deadlock with another node (again is counted down),
// or the error that failed the whole batch.
func (b *batcher) attempt(ctx context.Context, batch []job, results []error, excluded []bool, hold *bool, again *int) ([]*Tx, bool, error) {
	txs := make([]*Tx, len(batch))
	sqlTx, err := b.db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("begin: %w", translate(err))
	}
	w := newWriteSet(*hold)
	if err := reserve(ctx, sqlTx, b.db.Dialect, w, batch, excluded); err != nil {
		sqlTx.Rollback()
		if transient(err) && *again > 0 {
			*again--
			b.replays.Add(1)
			return nil, true, nil
		}
		return nil, false, err
	}
	unhold := func() ([]*Tx, bool, error) {
		sqlTx.Rollback()
		if !*hold {
			return nil, false, w.failed
		}
		*hold = false
		b.replays.Add(1)
		return nil, true, nil
	}
	for i, j := range batch {
		if excluded[i] {
			continue
		}
		results[i] = nil
		if err := j.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		tx := &Tx{tx: sqlTx, w: w, dialect: b.db.Dialect, hot: b.db.hot}
		txs[i] = tx
		err := safeRun(j.fn, tx)
		if (transient(err) || transient(w.failed)) && *again > 0 {
			*again--
			// Another node's transaction held what this one needed, in the
			// other order; it has gone on, so the same batch can run again.
			sqlTx.Rollback()
			b.replays.Add(1)
			return nil, true, nil
		}
		if w.failed != nil {
			return unhold()
		}
		if err != nil {
			results[i] = err
			if tx.wrote || tx.sqlErr || tx.panicked {
				sqlTx.Rollback()
				excluded[i] = true
				return nil, true, nil
			}
		}
	}
	end := &Tx{tx: sqlTx, w: w, dialect: b.db.Dialect, hot: b.db.hot}
	if err := end.flush(ctx); err != nil {
		return unhold()
	}
	if err := end.storeCounters(ctx); err != nil {
		w.failed = err
		return unhold()
	}
	// The overdue gauge's deltas of the jobs that succeeded (gauge.go).
	gauge := map[string]int64{}
	for i, tx := range txs {
		if tx != nil && results[i] == nil {
			for k, d := range tx.gauge {
				gauge[k] += d
			}
		}
	}
	if err := addGauge(ctx, sqlTx, gauge); err != nil {
		sqlTx.Rollback()
		if transient(err) && *again > 0 {
			*again--
			b.replays.Add(1)
			return nil, true, nil
		}
		return nil, false, err
	}
	// Full-text rows of the jobs that succeeded, in one statement: FTS5
	// flushes its pending terms at every statement boundary, so one INSERT per
	// report cost a segment per report.
	var fts []ftsRow
	for i, tx := range txs {
		if tx != nil && results[i] == nil {
			fts = append(fts, tx.fts...)
		}
	}
	if len(fts) > 0 {
		dels, ins := mergeFTS(fts)
		if err := deleteFTS(ctx, sqlTx, dels); err != nil {
			sqlTx.Rollback()
			return nil, false, fmt.Errorf("index case text: %w", err)
		}
		if err := insertFTS(ctx, sqlTx, ins); err != nil {
			sqlTx.Rollback()
			return nil, false, fmt.Errorf("index case text: %w", err)
		}
	}
	// The notices of the jobs that succeeded, in one round trip; PostgreSQL
	// delivers them only if the transaction commits.
	var notices []string
	for i, tx := range txs {
		if tx != nil && results[i] == nil {
			notices = append(notices, tx.notices...)
		}
	}
	if len(notices) > 0 {
		if _, err := sqlTx.ExecContext(ctx, `SELECT pg_notify('`+caseChannel+`', n) FROM unnest($1::text[]) AS n`, notices); err != nil {
			sqlTx.Rollback()
			return nil, false, fmt.Errorf("notify: %w", err)
		}
	}
	start := time.Now()
	err = sqlTx.Commit()
	took := time.Since(start)
	b.commitNanos.Add(int64(took))
	b.batches.Add(1)
	b.ran.Add(int64(len(batch)))
	if err != nil {
		return nil, false, fmt.Errorf("commit: %w", translate(err))
	}
	n := 0
	for i := range batch {
		if !excluded[i] {
			n++
		}
	}
	b.countWrites(n)
	if fn := b.observe.Load(); fn != nil {
		(*fn)(n, took)
	}
	return txs, false, nil
}

// transient reports whether err is PostgreSQL giving up on a transaction
// that may succeed if run again: a deadlock between two nodes' batches (each
// locks the day's counters of its centers in the order its reports came) or
// a serialization failure.
func transient(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func safeRun(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			tx.panicked = true
			err = fmt.Errorf("panic in write: %v", r)
		}
	}()
	return fn(tx)
}

// deleteFTS removes the indexed text of cases changed in this transaction:
// an external-content FTS5 table is told the text it indexed before.
func deleteFTS(ctx context.Context, tx *sql.Tx, rows []ftsRow) error {
	if len(rows) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO case_fts(case_fts, rowid, body) SELECT 'delete', c.rowid, v.column2 FROM (VALUES `)
	args := make([]any, 0, 2*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		fmt.Fprintf(&q, "($%d,$%d)", 2*i+1, 2*i+2)
		args = append(args, r.id, r.body)
	}
	q.WriteString(`) AS v JOIN cases c ON c.id = v.column1`)
	_, err := tx.ExecContext(ctx, q.String(), args...)
	return translate(err)
}

// insertFTS indexes the text of cases inserted in this transaction.
func insertFTS(ctx context.Context, tx *sql.Tx, rows []ftsRow) error {
	if len(rows) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO case_fts(rowid, body) SELECT c.rowid, v.column2 FROM (VALUES `)
	args := make([]any, 0, 2*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		fmt.Fprintf(&q, "($%d,$%d)", 2*i+1, 2*i+2)
		args = append(args, r.id, r.body)
	}
	q.WriteString(`) AS v JOIN cases c ON c.id = v.column1`)
	_, err := tx.ExecContext(ctx, q.String(), args...)
	return translate(err)
}
