// Package store is the only package that talks SQL. It runs on an embedded
// SQLite file (modernc.org/sqlite, no cgo) or on PostgreSQL (pgx), with the
// same numbered migrations and, wherever the engines agree, the same SQL.
//
// Writes go through one group-commit writer per process: concurrent callers'
// transactions are run back to back inside one database transaction (see
// batch.go; the rows of new cases are held and written together, see
// hold.go) and acknowledged together after one durable commit. This is what
// lets a 2-core machine acknowledge thousands of reports a second with
// every acknowledged write on disk: on SQLite the write-ahead log is
// fsynced by the store itself, outside the write lock, before any caller of
// a batch is answered (walsync.go); on PostgreSQL over a network connection.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine.
type Dialect string

// The two engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database: a writer (SQLite: one connection) fed by the group
// commit loop, and a pool of readers.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	batch   *batcher
	dsn     string
	hot     *hotStmts // SQLite: the writer's prepared statements, named and learned (hotstmt.go)
	ckpt    *checkpointer
	walSync *walSync  // SQLite: the log synced outside the write lock (walsync.go)
	lists   listStmts // SQLite: listing statements, prepared once (list.go)
}

// noLogVFS makes stores opened afterwards write the log with SQLite's own
// VFS, a call per frame header and page (GatherLogWrites).
var noLogVFS atomic.Bool

// GatherLogWrites sets whether stores opened afterwards write each commit's
// log frames with one call (walvfs.go; the default) or with SQLite's own
// VFS; a benchmark knob, like MapReaders.
func GatherLogWrites(on bool) { noLogVFS.Store(!on) }

// noReaderMap turns the readers' map off (MapReaders).
var noReaderMap atomic.Bool

// MapReaders makes the SQLite databases opened from now on map their files
// for reading (on, the default) or not. It exists so that a benchmark can
// compare the two in one run.
func MapReaders(on bool) { noReaderMap.Store(!on) }

// Options tune Open.
type Options struct {
	MaxBatch int           // most transactions in one group commit (default 256)
	Linger   time.Duration // how long the writer waits to fill a batch (default 0)
	// AnalyzeEvery: the writer refreshes the planner's statistics of the
	// case tables after this many committed write jobs (default 20,000;
	// negative: never; SQLite still runs its sampled optimize at Open).
	// See upkeep.go.
	AnalyzeEvery int
}

// Open opens and migrates the database named by dsn: a postgres:// or
// postgresql:// URL, or a SQLite file path (optionally prefixed with file: or
// sqlite:).
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	db := &DB{dsn: dsn}
	var err error
	var path string // the SQLite file
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.Dialect = Postgres
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("postgres address: %w", err)
		}
		// Statements are prepared once per connection, and PostgreSQL may
		// then switch to a generic plan that cannot see the arguments: the
		// same listing is a walk for a common word or a big street and an
		// index probe for a rare word or a rare state. Plan each time.
		if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
			cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
		}
		// JIT compiles a query's expressions when its estimated cost is
		// high; for a month of a city's rollups (62,000 rows, 36 columns)
		// compiling took 90–190 ms of a 200 ms read. Short queries are the
		// whole workload here: off, unless the DSN says otherwise.
		if _, set := cfg.RuntimeParams["jit"]; !set {
			cfg.RuntimeParams["jit"] = "off"
		}
		db.write = stdlib.OpenDB(*cfg)
		db.write.SetMaxOpenConns(8)
		db.write.SetMaxIdleConns(8)
		db.read = db.write
	} else {
		db.Dialect = SQLite
		path = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		// busy_timeout must come before journal_mode, or a second process
		// opening the file during recovery fails at once.
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)", "cache_size(-65536)", "temp_store(MEMORY)",
			// Checkpoints run in the background (see checkpointer); this is
			// only the safety net if they fall behind.
			"wal_autocheckpoint(16384)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		// The writer writes each commit's log frames with one call
		// (walvfs.go); if the VFS cannot be registered it keeps SQLite's.
		if err := registerWALVFS(); err == nil && !noLogVFS.Load() {
			q.Set("vfs", walVFSName)
		}
		base := "file:" + path + "?" + q.Encode()
		db.write, err = sql.Open("sqlite", base)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.write.SetMaxOpenConns(1)
		db.write.SetMaxIdleConns(1)
		db.write.SetConnMaxLifetime(0)
		// Readers map the file (mmap_size, at most SQLite's build limit of
		// 2 GiB): modernc's SQLite is built with
		// SQLITE_ENABLE_MEMORY_MANAGEMENT, so every connection's page cache
		// is one group behind one global mutex, taken at every page fetch and
		// release; text listings, which read thousands of pages, queued on
		// it and did not scale past one client (issue 19: 1.4 s of mutex wait
		// in a 1,000-listing run, 0.14 s with the map). Pages read through
		// the map bypass the cache; pages still in the WAL do not.
		rq := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "foreign_keys(ON)", "cache_size(-32768)", "query_only(ON)"} {
			rq.Add("_pragma", p)
		}
		if !noReaderMap.Load() {
			rq.Add("_pragma", "mmap_size(2147418112)")
		}
		db.read, err = sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
		if err != nil {
			db.write.Close()
			return nil, fmt.Errorf("open sqlite readers: %w", err)
		}
		n := max(4, runtime.NumCPU()*2)
		db.read.SetMaxOpenConns(n)
		db.read.SetMaxIdleConns(n)
	}
	if err := db.write.PingContext(ctx); err != nil {
		db.closeConns()
		return nil, fmt.Errorf("connect %s: %w", db.Dialect, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.closeConns()
		return nil, err
	}
	if db.Dialect == SQLite {
		// Give the query planner fresh statistics, cheaply (sampled), so that
		// list queries pick the selective index; the full-text index's
		// tables get none, and lose those an earlier build recorded.
		if _, err := db.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA analysis_limit=%d`, analysisLimit)); err != nil {
			db.closeConns()
			return nil, fmt.Errorf("optimize: %w", err)
		}
		if err := optimize(ctx, db.write); err != nil {
			db.closeConns()
			return nil, err
		}
		if err := db.correctStatistics(ctx); err != nil {
			db.closeConns()
			return nil, err
		}
		if err := dropFTSStatistics(ctx, path); err != nil {
			db.closeConns()
			return nil, err
		}
		if err := db.prepareHot(ctx); err != nil {
			db.closeConns()
			return nil, err
		}
	}
	if db.Dialect == SQLite {
		db.walSync = newWALSync(path + "-wal")
	}
	db.batch = newBatcher(db, opt)
	if db.Dialect == SQLite {
		if err := db.startCheckpointer(path); err != nil {
			db.batch.stop()
			db.walSync.stop()
			db.closeConns()
			return nil, err
		}
	}
	return db, nil
}

// prepareHot prepares the writer's most frequent statements once on the single
// SQLite writer connection, and starts its cache of the others (hotstmt.go).
// Without it every Exec re-parses its SQL, which was a fifth of the writer's
// time at high report rates. Transactions use them through
// sql.Tx.StmtContext, which reuses the connection's prepared handle.
func (db *DB) prepareHot(ctx context.Context) error {
	h := &hotStmts{}
	if _, err := h.add(ctx, db.write, slices.Concat(hotSQL, liteHotSQL, hookLiteSQL, rollupHotSQL, heldSQL()), true); err != nil {
		return err
	}
	db.hot = h
	return nil
}

func (db *DB) closeConns() {
	if db.read != db.write {
		db.read.Close()
	}
	db.write.Close()
}

// Close stops the writer after draining what it was given, then closes the
// connections.
func (db *DB) Close() error {
	if db.batch == nil { // OpenSource, OpenBackup: one pool, read only
		return db.read.Close()
	}
	db.batch.stop()
	if db.walSync != nil {
		db.walSync.stop()
	}
	db.stopCheckpointer()
	db.hot.close()
	db.lists.close()
	if db.read != db.write {
		db.read.Close()
	}
	return db.write.Close()
}

// Tx is one job's view of a group commit's write transaction.
type Tx struct {
	tx      *sql.Tx
	w       *writeSet // the rows held for the batch, shared by its jobs
	dialect Dialect
	after   []func()
	hot     *hotStmts        // the writer connection's prepared statements (SQLite; nil on PostgreSQL)
	fts     []ftsRow         // full-text rows written once at the end of the batch
	notices []string         // PostgreSQL notices sent once at the end of the batch
	gauge   map[string]int64 // overdue gauge deltas by district path, added once at the end of the batch (gauge.go)
	// What the job did, so the writer knows whether its failure can be
	// ignored or the batch must run again without it.
	wrote, sqlErr, panicked bool
}

// note records whether a statement writes and whether it failed.
func (t *Tx) note(query string, err error) {
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.sqlErr = true
	}
	q := strings.TrimLeft(query, " \t\n(")
	if len(q) >= 6 {
		switch strings.ToUpper(q[:6]) {
		case "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER ", "DROP T":
			t.wrote = true
		}
	}
}

// ftsRow is a case's text to index in case_fts.
// An update also carries the text indexed before (old), to delete it.
type ftsRow struct {
	id, body, old string
	update        bool
}

// stmt returns the transaction's handle on a prepared statement for query, or
// nil when query is not one of the prepared ones (counted, to be learned:
// hotstmt.go).
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := t.hot.get(query); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	t.hot.miss(query)
	return nil
}

// Exec runs a statement, after writing the rows held so far.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	var r sql.Result
	var err error
	if st := t.stmt(ctx, query); st != nil {
		r, err = st.ExecContext(ctx, args...)
	} else {
		r, err = t.tx.ExecContext(ctx, query, args...)
	}
	t.note(query, err)
	return r, translate(err)
}

// Query runs a query, after writing the rows held so far.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	var r *sql.Rows
	var err error
	if st := t.stmt(ctx, query); st != nil {
		r, err = st.QueryContext(ctx, args...)
	} else {
		r, err = t.tx.QueryContext(ctx, query, args...)
	}
	t.note(query, err)
	return r, translate(err)
}

// QueryRow runs a query expected to return at most one row, after writing
// the rows held so far.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	if err := t.flush(ctx); err != nil {
		return &Row{err: err, tx: t}
	}
	return t.queryRow(ctx, query, args...)
}

// queryRow runs a query that the held rows cannot affect, without writing them.
func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *Row {
	t.note(query, nil)
	if st := t.stmt(ctx, query); st != nil {
		return &Row{row: st.QueryRowContext(ctx, args...), tx: t}
	}
	return &Row{row: t.tx.QueryRowContext(ctx, query, args...), tx: t}
}

// Row is one row of a query in a write transaction; its Scan records SQL
// failures for the writer.
type Row struct {
	row *sql.Row
	err error // the held rows could not be written
	tx  *Tx
}

// Scan copies the row's columns into dest; no row is ErrNotFound.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.row.Scan(dest...)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		r.tx.sqlErr = true
	}
	return err
}

// AfterCommit registers fn to run once the transaction is durably committed
// (for example to publish an event); it does not run if the work is rolled back.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// Write runs fn in a write transaction through the group-commit writer and
// returns after the commit is durable. If fn returns an error its changes are
// rolled back and nothing else in the batch is affected. counters names the
// counters fn takes a number from with NextNumber: the writer reserves the
// numbers of the whole batch in one statement.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error, counters ...string) error {
	return db.batch.do(ctx, fn, counters)
}

// Read runs fn with a read-only snapshot (a transaction on the reader pool).
func (db *DB) Read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// Raw returns the writer connection pool, for tools that bypass the group
// commit (migrations, benchmarks of raw inserts, bulk loads).
func (db *DB) Raw() *sql.DB { return db.write }

// Ping checks the connection.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when an optimistic update finds the row changed, or
// a unique constraint is violated.
var ErrConflict = errors.New("conflict")

// translate maps driver errors to the store's own, in one place.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if uniqueViolation(err) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// uniqueViolation says, by the driver's error code (never its message
// text), whether err is a unique or primary key constraint refusing a row.
func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
