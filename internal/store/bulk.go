package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Rows are rows of one table in the columns named, for a bulk load.
type Rows struct {
	Table string
	Cols  []string
	Rows  [][]any
}

// Rebuild is a dropped index or constraint and the statement that makes it
// again.
type Rebuild struct{ Name, create string }

// Bulk loads an installation's rows at once, around the group-commit writer
// (the scale generator's load): the engine's fastest path, with secondary
// indexes dropped during the load and rebuilt afterwards exactly as the
// migrations made them. Only for an empty database that nothing else uses.
type Bulk interface {
	// Write stores the tables' rows in one transaction, in the order given
	// (parents first).
	Write(ctx context.Context, ts ...Rows) error
	// DropSecondary drops what the tables need only for reading and
	// returns what rebuilds it, in order.
	DropSecondary(ctx context.Context, tables []string) ([]Rebuild, error)
	// Rebuild makes a dropped index or constraint again.
	Rebuild(ctx context.Context, r Rebuild) error
	// Analyze gathers the planner's statistics once the data are in.
	Analyze(ctx context.Context) error
	// Size is the database's size in bytes.
	Size(ctx context.Context) (int64, error)
	// Count is the number of rows in a table.
	Count(ctx context.Context, table string) (int64, error)
	// Close ends the load; on SQLite it restores synchronous=NORMAL and
	// checks that it is in force.
	Close() error
}

// Bulk returns the bulk loader for the engine db runs on.
func (db *DB) Bulk(ctx context.Context) (Bulk, error) {
	if db.Dialect == SQLite {
		return newSQLiteBulk(ctx, db.write)
	}
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return nil, fmt.Errorf("bulk: connect: %w", err)
	}
	for _, q := range []string{`SET synchronous_commit = off`, `SET maintenance_work_mem = '1GB'`, `SET max_parallel_maintenance_workers = 2`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(context.Background())
			return nil, fmt.Errorf("bulk: %s: %w", q, err)
		}
	}
	return pgBulk{conn}, nil
}

// pgBulk copies with COPY on a dedicated pgx connection.
type pgBulk struct{ conn *pgx.Conn }

func (s pgBulk) Write(ctx context.Context, ts ...Rows) error {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	for _, t := range ts {
		if len(t.Rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.Table}, t.Cols, pgx.CopyFromRows(t.Rows)); err != nil {
			return fmt.Errorf("bulk: copy %s: %w", t.Table, err)
		}
	}
	return tx.Commit(ctx)
}

func (s pgBulk) Rebuild(ctx context.Context, r Rebuild) error {
	if _, err := s.conn.Exec(ctx, r.create); err != nil {
		return fmt.Errorf("bulk: rebuild %s: %w", r.Name, err)
	}
	return nil
}

func (s pgBulk) Count(ctx context.Context, table string) (n int64, err error) {
	err = s.conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n)
	return n, err
}

func (s pgBulk) Analyze(ctx context.Context) error {
	if _, err := s.conn.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("bulk: vacuum analyze: %w", err)
	}
	return nil
}

func (s pgBulk) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
	return n, err
}

func (s pgBulk) Close() error { return s.conn.Close(context.Background()) }

// DropSecondary drops the foreign keys, unique constraints and secondary
// indexes of the tables and returns the statements that recreate them
// (from pg_get_indexdef and pg_get_constraintdef, so they come back exactly
// as the migrations made them), indexes first, foreign keys last.
func (s pgBulk) DropSecondary(ctx context.Context, tables []string) ([]Rebuild, error) {
	conn := s.conn
	var idx, uniq, fks []Rebuild
	var drops []string
	rows, err := conn.Query(ctx, `SELECT c.conrelid::regclass::text, c.conname, c.contype::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('u', 'f') ORDER BY c.contype DESC, c.conname`, tables)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, name, kind, def string
		if err := rows.Scan(&table, &name, &kind, &def); err != nil {
			rows.Close()
			return nil, err
		}
		d := Rebuild{name, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, table, name, def)}
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
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1`, tables)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		idx = append(idx, Rebuild{name, def})
		drops = append(drops, `DROP INDEX `+name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, q := range drops {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("bulk: %s: %w", q, err)
		}
	}
	return append(append(idx, uniq...), fks...), nil
}

// sqliteBulk inserts with prepared statements on the store's writer: on
// SQLite a *sql.DB with one connection, so nothing may hold it (open rows)
// while another statement waits for it.
type sqliteBulk struct{ db *sql.DB }

// newSQLiteBulk turns off the fsyncs of the load's commits: a load that
// crashes is simply run again on a new file. Close restores store.Open's
// synchronous=NORMAL (the writer's commits are then synced by walsync.go),
// and the final checkpoint of store.DB.Close syncs the file.
func newSQLiteBulk(ctx context.Context, db *sql.DB) (Bulk, error) {
	if _, err := db.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
		return nil, fmt.Errorf("bulk: synchronous off: %w", err)
	}
	return sqliteBulk{db}, nil
}

func (s sqliteBulk) Write(ctx context.Context, ts ...Rows) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range ts {
		if len(t.Rows) == 0 {
			continue
		}
		q := `INSERT INTO ` + t.Table + `(` + strings.Join(t.Cols, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(t.Cols)-1) + `)`
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("bulk: insert %s: %w", t.Table, err)
		}
		for _, r := range t.Rows {
			if _, err := st.ExecContext(ctx, r...); err != nil {
				st.Close()
				return fmt.Errorf("bulk: insert %s: %w", t.Table, err)
			}
		}
		st.Close()
	}
	return tx.Commit()
}

// DropSecondary drops the secondary indexes of the bulk tables, keeping
// their text from sqlite_master to create them again as migrated (primary
// keys and UNIQUE column constraints have no text and stay), and empties
// the full-text index, which is rebuilt from the cases in one pass at the
// end rather than chunk by chunk.
func (s sqliteBulk) DropSecondary(ctx context.Context, tables []string) ([]Rebuild, error) {
	args := make([]any, len(tables))
	for i, t := range tables {
		args[i] = t
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
		AND tbl_name IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	var defs []Rebuild
	for rows.Next() {
		var d Rebuild
		if err := rows.Scan(&d.Name, &d.create); err != nil {
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
		drops = append(drops, `DROP INDEX `+d.Name)
	}
	drops = append(drops, `INSERT INTO case_fts(case_fts) VALUES ('delete-all')`)
	for _, q := range drops {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("bulk: %s: %w", q, err)
		}
	}
	return append(defs, Rebuild{"case_fts", `INSERT INTO case_fts(case_fts) VALUES ('rebuild')`}), nil
}

func (s sqliteBulk) Rebuild(ctx context.Context, r Rebuild) error {
	if _, err := s.db.ExecContext(ctx, r.create); err != nil {
		return fmt.Errorf("bulk: rebuild %s: %w", r.Name, err)
	}
	return nil
}

func (s sqliteBulk) Count(ctx context.Context, table string) (n int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`).Scan(&n)
	return n, err
}

// analyze reads every index in full (store.Open left a sampling limit on
// this connection, for its cheap optimize at each start), once.
func (s sqliteBulk) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `PRAGMA analysis_limit = 0; ANALYZE; PRAGMA optimize`); err != nil {
		return fmt.Errorf("bulk: analyze: %w", err)
	}
	return nil
}

func (s sqliteBulk) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&n)
	return n, err
}

func (s sqliteBulk) Close() error {
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("bulk: restore synchronous=NORMAL: %w", err)
	}
	var level int
	if err := s.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
		return fmt.Errorf("bulk: read synchronous: %w", err)
	}
	if level != 1 {
		return fmt.Errorf("bulk: synchronous is %d after the load, want 1 (NORMAL, the log synced by the writer)", level)
	}
	return nil
}
