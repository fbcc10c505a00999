package scale

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"zhizhi/internal/store"
)

// table is rows of one table in the columns named.
type table struct {
	name string
	cols []string
	rows [][]any
}

// ddl is a dropped index or constraint and the statement that rebuilds it.
type ddl struct{ name, create string }

// sink is the engine's side of the bulk load; the generator and the order of
// the phases are the same on both.
type sink interface {
	// write stores the tables' rows in one transaction, in the order given
	// (parents first).
	write(ctx context.Context, ts ...table) error
	// dropSecondary drops what the bulk tables need only for reading and
	// returns the statements that rebuild it, in order.
	dropSecondary(ctx context.Context) ([]ddl, error)
	exec(ctx context.Context, q string) error
	// analyze gathers the planner's statistics once the data are in.
	analyze(ctx context.Context) error
	// size is the database's size in bytes.
	size(ctx context.Context) (int64, error)
	close()
}

// openSink returns the sink for the engine db runs on (dsn is the one db was
// opened with).
func openSink(ctx context.Context, db *store.DB, dsn string) (sink, error) {
	if db.Dialect == store.SQLite {
		return newSQLiteSink(ctx, db.Raw())
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("scale: connect: %w", err)
	}
	for _, q := range []string{`SET synchronous_commit = off`, `SET maintenance_work_mem = '1GB'`, `SET max_parallel_maintenance_workers = 2`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(context.Background())
			return nil, fmt.Errorf("scale: %s: %w", q, err)
		}
	}
	return pgSink{conn}, nil
}

// pgSink copies with COPY on a dedicated pgx connection.
type pgSink struct{ conn *pgx.Conn }

func (s pgSink) write(ctx context.Context, ts ...table) error {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	for _, t := range ts {
		if len(t.rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return fmt.Errorf("scale: copy %s: %w", t.name, err)
		}
	}
	return tx.Commit(ctx)
}

func (s pgSink) exec(ctx context.Context, q string) error {
	_, err := s.conn.Exec(ctx, q)
	return err
}

func (s pgSink) analyze(ctx context.Context) error {
	if _, err := s.conn.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("scale: vacuum analyze: %w", err)
	}
	return nil
}

func (s pgSink) size(ctx context.Context) (int64, error) {
	var n int64
	err := s.conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
	return n, err
}

func (s pgSink) close() { s.conn.Close(context.Background()) }

// dropSecondary drops the foreign keys, unique constraints and secondary
// indexes of the bulk tables and returns the statements that recreate them
// (from pg_get_indexdef and pg_get_constraintdef, so they come back exactly
// as the migrations made them), indexes first, foreign keys last.
func (s pgSink) dropSecondary(ctx context.Context) ([]ddl, error) {
	conn := s.conn
	var idx, uniq, fks []ddl
	var drops []string
	rows, err := conn.Query(ctx, `SELECT c.conrelid::regclass::text, c.conname, c.contype::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('u', 'f') ORDER BY c.contype DESC, c.conname`, bulkTables)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, name, kind, def string
		if err := rows.Scan(&table, &name, &kind, &def); err != nil {
			rows.Close()
			return nil, err
		}
		d := ddl{name, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, table, name, def)}
		if kind == "f" {
			fks = append(fks, d)
		} else {
			uniq = append(uniq, d)
		}
		drops = append(drops, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`, table, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisprimary
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1`, bulkTables)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		idx = append(idx, ddl{name, def})
		drops = append(drops, `DROP INDEX `+name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, q := range drops {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("scale: %s: %w", q, err)
		}
	}
	return append(append(idx, uniq...), fks...), nil
}

// sqliteSink inserts with prepared statements on the store's writer: on
// SQLite a *sql.DB with one connection, so nothing may hold it (open rows)
// while another statement waits for it.
type sqliteSink struct{ db *sql.DB }

// newSQLiteSink turns off the fsyncs of the load's commits: a load that
// crashes is simply run again on a new file. close restores store.Open's
// synchronous=FULL, and the final checkpoint of store.DB.Close syncs the
// file.
func newSQLiteSink(ctx context.Context, db *sql.DB) (sink, error) {
	if _, err := db.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
		return nil, fmt.Errorf("scale: synchronous off: %w", err)
	}
	return sqliteSink{db}, nil
}

func (s sqliteSink) write(ctx context.Context, ts ...table) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range ts {
		if len(t.rows) == 0 {
			continue
		}
		q := `INSERT INTO ` + t.name + `(` + strings.Join(t.cols, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(t.cols)-1) + `)`
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("scale: insert %s: %w", t.name, err)
		}
		for _, r := range t.rows {
			if _, err := st.ExecContext(ctx, r...); err != nil {
				st.Close()
				return fmt.Errorf("scale: insert %s: %w", t.name, err)
			}
		}
		st.Close()
	}
	return tx.Commit()
}

// dropSecondary drops the secondary indexes of the bulk tables, keeping
// their text from sqlite_master to create them again as migrated (primary
// keys and UNIQUE column constraints have no text and stay), and empties
// the full-text index, which is rebuilt from the cases in one pass at the
// end rather than chunk by chunk.
func (s sqliteSink) dropSecondary(ctx context.Context) ([]ddl, error) {
	args := make([]any, len(bulkTables))
	for i, t := range bulkTables {
		args[i] = t
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
		AND tbl_name IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	var defs []ddl
	for rows.Next() {
		var d ddl
		if err := rows.Scan(&d.name, &d.create); err != nil {
			rows.Close()
			return nil, err
		}
		defs = append(defs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	drops := make([]string, 0, len(defs)+1)
	for _, d := range defs {
		drops = append(drops, `DROP INDEX `+d.name)
	}
	drops = append(drops, `INSERT INTO case_fts(case_fts) VALUES ('delete-all')`)
	for _, q := range drops {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("scale: %s: %w", q, err)
		}
	}
	return append(defs, ddl{"case_fts", `INSERT INTO case_fts(case_fts) VALUES ('rebuild')`}), nil
}

func (s sqliteSink) exec(ctx context.Context, q string) error {
	_, err := s.db.ExecContext(ctx, q)
	return err
}

// analyze reads every index in full (store.Open left a sampling limit on
// this connection, for its cheap optimize at each start), once.
func (s sqliteSink) analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `PRAGMA analysis_limit = 0; ANALYZE; PRAGMA optimize`); err != nil {
		return fmt.Errorf("scale: analyze: %w", err)
	}
	return nil
}

func (s sqliteSink) size(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&n)
	return n, err
}

func (s sqliteSink) close() {
	_, _ = s.db.ExecContext(context.Background(), `PRAGMA synchronous = FULL`)
}
