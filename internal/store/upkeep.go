package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Statistics upkeep (issue 19: listings under a flood of new reports). The
// planners choose a listing's index from statistics gathered at some point;
// a flood of reports changes the tables under them. No one runs ANALYZE by
// hand on a running installation, so the platform keeps them fresh itself:
//
//   - SQLite: the group-commit writer runs ANALYZE of the case tables,
//     sampled (analysis_limit), after every Options.AnalyzeEvery committed
//     write jobs, between two batches on its own connection (ANALYZE writes
//     the sqlite_stat tables, so it needs the write lock any other
//     connection would have to wait for; readers are not blocked in WAL
//     mode), and in the same transaction SQLite's sampled optimize for the
//     other tables (refreshStatistics). The optimize alone would not do it
//     for the case tables: it re-analyzes a table only after its size
//     changed about tenfold, and 100,000 reports on 1,000,000 cases are 10%.
//     The full-text index's tables carry no statistics at all
//     (dropFTSStatistics, at every Open).
//   - PostgreSQL: autovacuum, with per-table thresholds for the case tables
//     (migration 28) so that a flood of 100,000 reports is analyzed and
//     vacuumed (visibility map for the index-only listings) within about a
//     minute instead of never (the defaults wait for 10% / 20% of the
//     table: 779,000 changed rows at 7.79 M cases). And, as on SQLite,
//     each node's writer asks for an ANALYZE of the case tables after every
//     AnalyzeEvery writes it committed, unless autovacuum or another node
//     analyzed them meanwhile: statistics stay fresh where autovacuum is
//     off or behind (the CI server of this project runs with it off).
//     The writer's upkeep is a vacuum with the analyze (analyzePostgres):
//     the visibility map of a flood's new rows, which the index-only
//     listings need, is set by vacuums only.

// defaultAnalyzeEvery is how many committed write jobs (a report is one)
// the SQLite writer lets pass between two refreshes of the statistics.
const defaultAnalyzeEvery = 20000

// analysisLimit is about how many rows of each index a refresh reads.
const analysisLimit = 1000

// Upkeep describes the planner statistics' upkeep of the case tables.
type Upkeep struct {
	// Analyzed is when the cases table's statistics were last gathered:
	// on SQLite by this process's writer (zero before its first refresh;
	// the refresh at Open is not counted), on PostgreSQL by anyone
	// (autovacuum's analyze or ANALYZE), zero if never.
	Analyzed time.Time
	// Vacuumed is PostgreSQL's last vacuum of cases (autovacuum or not);
	// zero on SQLite.
	Vacuumed time.Time
	// Runs is how many refreshes this process's writer ran (SQLite), or
	// how many analyzes PostgreSQL counted on cases since its statistics
	// were reset (autoanalyze_count + analyze_count).
	Runs int64
	// Took is how long the writer's last refresh held the writer (SQLite).
	Took time.Duration
	// Pending is how many writes the next refresh waits for: on SQLite the
	// write jobs committed since the last refresh, on PostgreSQL the rows
	// of cases changed since the last analyze (n_mod_since_analyze).
	Pending int64
}

// StatisticsUpkeep reports the state of the statistics upkeep.
func (db *DB) StatisticsUpkeep(ctx context.Context) (Upkeep, error) {
	if db.Dialect == SQLite {
		b := db.batch
		u := Upkeep{Runs: b.analyzeRuns.Load(), Took: time.Duration(b.analyzeNanos.Load()), Pending: b.sinceAnalyze.Load()}
		if at := b.analyzedAt.Load(); at != 0 {
			u.Analyzed = time.Unix(0, at)
		}
		return u, nil
	}
	var analyzed, vacuumed sql.NullTime
	var u Upkeep
	err := db.read.QueryRowContext(ctx, `SELECT GREATEST(last_analyze, last_autoanalyze), GREATEST(last_vacuum, last_autovacuum),
		analyze_count + autoanalyze_count, n_mod_since_analyze
		FROM pg_stat_user_tables WHERE relid = 'cases'::regclass`).Scan(&analyzed, &vacuumed, &u.Runs, &u.Pending)
	if errors.Is(err, sql.ErrNoRows) {
		return u, nil
	}
	if err != nil {
		return u, fmt.Errorf("statistics upkeep: %w", err)
	}
	if analyzed.Valid {
		u.Analyzed = analyzed.Time
	}
	u.Took = time.Duration(db.batch.analyzeNanos.Load())
	if vacuumed.Valid {
		u.Vacuumed = vacuumed.Time
	}
	return u, nil
}

// countWrites adds a batch's committed jobs to the count since the last
// refresh of the statistics.
func (b *batcher) countWrites(n int) {
	if b.analyzeEvery > 0 {
		b.sinceAnalyze.Add(int64(n))
	}
}

// upkeep refreshes the statistics when AnalyzeEvery write jobs have
// committed since the last refresh. On SQLite it runs on the writer's
// goroutine between two batches, so it never waits for the write lock nor
// makes the writer wait on a busy database; the jobs queued meanwhile wait
// for it (tens of milliseconds at a million cases, see docs/operations.md).
// On PostgreSQL ANALYZE blocks no writes: it runs on a pool connection
// beside the writer, one at a time, and only if nobody (autovacuum, another
// node) analyzed cases since this node began counting. A failed refresh is
// not the writer's failure: it is tried again after the next AnalyzeEvery
// writes.
func (b *batcher) upkeep() {
	if b.analyzeEvery <= 0 || b.sinceAnalyze.Load() < int64(b.analyzeEvery) {
		return
	}
	if b.db.Dialect == Postgres && !b.analyzing.CompareAndSwap(false, true) {
		// The last one still runs (a vacuum takes seconds at city
		// scale): the writes stay counted, and the first batch after it
		// ends starts the next.
		return
	}
	b.sinceAnalyze.Store(0)
	// Another's analyze is one that finished after this node began
	// counting and after its own last analyze (whose time PostgreSQL
	// records before ANALYZE returns here).
	since := time.Unix(0, max(b.countingSince.Swap(time.Now().UnixNano()), b.analyzedAt.Load()))
	if b.db.Dialect == Postgres {
		b.wg.Add(1) // Close waits for it
		go func() {
			defer b.wg.Done()
			defer b.analyzing.Store(false)
			b.refresh(func(ctx context.Context) error { return b.db.analyzePostgres(ctx, since) })
		}()
		return
	}
	b.refresh(b.db.refreshStatistics)
}

func (b *batcher) refresh(fn func(context.Context) error) {
	start := time.Now()
	if err := fn(context.Background()); err != nil {
		return // errAnalyzedElsewhere, or tried again after the next writes
	}
	b.analyzeNanos.Store(int64(time.Since(start)))
	b.analyzedAt.Store(time.Now().UnixNano())
	b.analyzeRuns.Add(1)
}

// errAnalyzedElsewhere: autovacuum or another node analyzed and vacuumed
// cases since this node began counting writes; nothing to do.
var errAnalyzedElsewhere = errors.New("analyzed elsewhere")

// analyzePostgres vacuums and analyzes the case tables unless they were
// both analyzed and vacuumed after since (the statistics counters reach
// pg_stat_user_tables within seconds).
//
// The vacuum is for the listings' index-only scans (issue 19, right after a
// flood): a street's listings read cases_street alone only where the
// visibility map marks a row's heap page all-visible, and only a vacuum
// sets it. Where autovacuum is off or behind, a flood's new rows stayed
// unmarked, and every listing walking its newest cases fetched them from
// the heap (and, the first time, set their hint bits, dirtying the pages
// once more). INDEX_CLEANUP OFF: a flood only inserts, and the vacuum is
// there for the heap's visibility map and hint bits; without it every
// vacuum would also read the whole trigram index (GIN's cleanup scans
// every page of it, gigabytes at city scale). Dead rows of changed cases
// are left for autovacuum's own (full) vacuums. The trigram index's
// pending list (new rows' trigrams not yet merged into the index, read in
// full by every search through the index; the long texts' index,
// migration 39, has its own) is merged by
// gin_clean_pending_list, which autovacuum's analyze does, and a plain
// ANALYZE does not. SKIP_LOCKED: a table autovacuum or another node is
// vacuuming meanwhile is left to it.
func (db *DB) analyzePostgres(ctx context.Context, since time.Time) error {
	var analyzed, vacuumed sql.NullTime
	if err := db.read.QueryRowContext(ctx, `SELECT GREATEST(last_analyze, last_autoanalyze), GREATEST(last_vacuum, last_autovacuum)
		FROM pg_stat_user_tables WHERE relid = 'cases'::regclass`).Scan(&analyzed, &vacuumed); err != nil {
		return err
	}
	if analyzed.Valid && analyzed.Time.After(since) && vacuumed.Valid && vacuumed.Time.After(since) {
		return errAnalyzedElsewhere
	}
	for _, q := range postgresUpkeep {
		if _, err := db.write.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// postgresUpkeep is what analyzePostgres runs, in order.
var postgresUpkeep = []string{
	`VACUUM (ANALYZE, INDEX_CLEANUP OFF, SKIP_LOCKED) cases, case_units, case_people`,
	`SELECT gin_clean_pending_list('cases_body_trgm'::regclass)`,
	`SELECT gin_clean_pending_list('cases_body_long_trgm'::regclass)`, // the long texts' (migration 39)
}

// refreshStatistics runs SQLite's sampled ANALYZE of the tables listings
// read (cases, case_units, case_people) on the writer connection; the
// whole database took 2.7 s at a million cases on the loaded machine. A connection reads the statistics with the schema and
// keeps them until the schema changes, and ANALYZE does not change it: the
// readers' pool would go on planning with the statistics of the day it
// opened. Creating and dropping a table in the same transaction moves the
// schema version on, so every connection reloads the schema, and the new
// statistics with it, before its next statement (a millisecond).
//
// The other tables are left to SQLite's sampled optimize, run in the same
// transaction (optimize): it analyzes a table whose size changed about
// tenfold since its record (or that has none), so a table that was small
// when the file was opened (steps, clocks, the outboxes on a file started
// with the demo and restarted) is not planned as small for the life of the
// process.
func (db *DB) refreshStatistics(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA analysis_limit=%d`, analysisLimit)); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`ANALYZE cases`, `ANALYZE case_units`, `ANALYZE case_people`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("refresh statistics: %w", err)
		}
	}
	if err := optimize(ctx, tx); err != nil {
		return err
	}
	if _, err := correctLeadStatistics(ctx, tx); err != nil {
		return err
	}
	if err := bumpSchemaVersion(ctx, tx); err != nil {
		return fmt.Errorf("refresh statistics: %w", err)
	}
	return tx.Commit()
}

// bumpSchemaVersion moves the schema version on in tx (an empty table made
// and dropped), so every other connection reads the schema, and the
// statistics with it, again before its next statement.
func bumpSchemaVersion(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{`CREATE TABLE statistics_refreshed (at INTEGER)`, `DROP TABLE statistics_refreshed`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// execQuerier is a connection pool or a transaction.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// optimize runs what SQLite's sampled PRAGMA optimize would, over every
// table (0x10000), except on the full-text index's tables. SQLite is asked
// for the list (0x00001: the ANALYZE statements it would run, not run) and
// each statement runs here unless it names one of FTS5's tables: those
// carry no statistics (dropFTSStatistics), so the optimize would pick them
// every time as never analyzed, count their rows in full (a million
// documents' sizes, every block of the index) and write records to be
// dropped again.
func optimize(ctx context.Context, q execQuerier) error {
	rows, err := q.QueryContext(ctx, `PRAGMA optimize=0x10003`)
	if err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	var stmts []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("optimize: %w", err)
		}
		if !strings.Contains(s, `"case_fts`) {
			stmts = append(stmts, s)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	for _, s := range stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("optimize: %s: %w", s, err)
		}
	}
	return nil
}

// The full-text index's own tables (case_fts_data, case_fts_idx and the
// rest, which FTS5 keeps for case_fts) carry no planner statistics. FTS5
// reads and removes its segments with keyed statements (a range of rowids,
// a segment's number), which need none. The sampled optimize at Open of
// earlier builds analyzed every table, and on a new file case_fts_data
// holds its two structure rows: with "2 rows" on record the planner runs
// FTS5's removal of a merged segment (DELETE FROM case_fts_data WHERE
// id>=? AND id<=?) as a scan of the whole table, inside COMMIT, several
// times a commit, and nothing refreshed that figure while the process ran
// (issue 19: on a file grown by intake, about 2 million page reads for
// 5,000 reports past 300,000 cases, and intake fell from 6,000 reports/s to
// 800). Without a record the planner takes a table for large and seeks.
// optimize now leaves these tables out.
//
// dropFTSStatistics deletes the records an earlier build left (Open calls
// it after the optimize) on a connection of its own, with
// the schema version moved on in the same transaction. The connection that
// deletes them would keep the table's old estimate in memory (a table
// without a record keeps what it had until its connection reads the whole
// schema again, which it does when another connection changed it), so the
// writer and the readers learn of it from the schema version, before their
// next statement.
func dropFTSStatistics(ctx context.Context, path string) error {
	conn, err := openSide(path)
	if err != nil {
		return fmt.Errorf("drop full-text statistics: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("drop full-text statistics: %w", err)
	}
	defer tx.Rollback()
	var tables []string
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('sqlite_stat1', 'sqlite_stat4')`)
	if err != nil {
		return fmt.Errorf("drop full-text statistics: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("drop full-text statistics: %w", err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("drop full-text statistics: %w", err)
	}
	var dropped int64
	for _, table := range tables {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tbl LIKE 'case\_fts\_%' ESCAPE '\'`)
		if err != nil {
			return fmt.Errorf("drop full-text statistics: %w", err)
		}
		n, _ := res.RowsAffected()
		dropped += n
	}
	if dropped == 0 {
		return nil
	}
	if err := bumpSchemaVersion(ctx, tx); err != nil {
		return fmt.Errorf("drop full-text statistics: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("drop full-text statistics: %w", err)
	}
	return nil
}

// correctStatistics corrects the statistics a file holds (an earlier build's
// sampled ANALYZE: correctLeadStatistics) at Open, and makes every
// connection read them again if it changed any.
func (db *DB) correctStatistics(ctx context.Context) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	changed, err := correctLeadStatistics(ctx, tx)
	if err != nil || !changed {
		return err
	}
	if err := bumpSchemaVersion(ctx, tx); err != nil {
		return fmt.Errorf("correct statistics: %w", err)
	}
	return tx.Commit()
}

// levelKeysMax is how many distinct leading values correctLeadStatistics
// counts in an index, at most, before it leaves the index's record as the
// sampled ANALYZE wrote it.
const levelKeysMax = 2000

// correctLeadStatistics corrects, in the statistics of the cases table's
// full (not partial) indexes, the rows per value of the leading column
// wherever that column holds at most levelKeysMax distinct values: it
// counts them exactly by seeking from one to the next in the index (a
// millisecond for a thousand). A sampled ANALYZE (analysis_limit) reads
// about a thousand entries of each index and divides them among the values
// it saw, so a column of few values is recorded as about a thousand rows a
// value however many it holds: in a file of one district, the district's
// million cases were recorded as 1,001 rows, and SQLite then chose the
// district's index and a sort of its whole history over walking the report
// times newest first (a board's queue of every state by report time 0.03 s
// → 4 s, the dashboard 1.1 s → 17 s at 1 M cases, docs/benchmarks-journal.md "The
// board's queue"). Run after every sampled ANALYZE of the cases table, and
// at Open on the statistics the file holds.
func correctLeadStatistics(ctx context.Context, q execQuerier) (changed bool, err error) {
	var has int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'`).Scan(&has); err != nil || has == 0 {
		return false, err
	}
	rows, err := q.QueryContext(ctx, `SELECT s.idx, s.stat, i.name FROM sqlite_stat1 s
		JOIN pragma_index_list('cases') l ON l.name = s.idx AND l.partial = 0
		JOIN pragma_index_info(s.idx) i ON i.seqno = 0
		WHERE s.tbl = 'cases'`)
	if err != nil {
		return false, fmt.Errorf("correct statistics: %w", err)
	}
	type rec struct{ idx, stat, col string }
	var recs []rec
	for rows.Next() {
		var r rec
		if err := rows.Scan(&r.idx, &r.stat, &r.col); err != nil {
			rows.Close()
			return false, fmt.Errorf("correct statistics: %w", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Close(); err != nil {
		return false, fmt.Errorf("correct statistics: %w", err)
	}
	for _, r := range recs {
		f := strings.Fields(r.stat)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n == 0 || f[1] == "1" {
			continue // a column whose values the sample saw once each is sampled right
		}
		keys, ok, err := distinctLeads(ctx, q, r.idx, r.col)
		if err != nil {
			return false, err
		}
		if !ok || keys == 0 {
			continue
		}
		per := strconv.FormatInt((n+keys-1)/keys, 10)
		if f[1] == per {
			continue
		}
		f[1] = per
		if _, err := q.ExecContext(ctx, `UPDATE sqlite_stat1 SET stat = $1 WHERE tbl = 'cases' AND idx = $2`, strings.Join(f, " "), r.idx); err != nil {
			return false, fmt.Errorf("correct statistics of %s: %w", r.idx, err)
		}
		changed = true
	}
	return changed, nil
}

// distinctLeads counts the distinct values of an index's leading column by
// seeking from each to the next, or reports false past levelKeysMax.
func distinctLeads(ctx context.Context, q execQuerier, idx, col string) (int64, bool, error) {
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	first := `SELECT min(` + quote(col) + `) FROM cases INDEXED BY ` + quote(idx)
	next := first + ` WHERE ` + quote(col) + ` > $1`
	var v any
	if err := q.QueryRowContext(ctx, first).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("correct statistics of %s: %w", idx, err)
	}
	for keys := int64(0); keys <= levelKeysMax; keys++ {
		if v == nil {
			return keys, true, nil
		}
		if err := q.QueryRowContext(ctx, next, v).Scan(&v); err != nil {
			return 0, false, fmt.Errorf("correct statistics of %s: %w", idx, err)
		}
	}
	return 0, false, nil
}
