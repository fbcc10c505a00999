package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// A backup is one SQLite file, whatever the engine it was taken from: every
// table of the installation as it was at one instant, and a manifest
// (backup_manifest: each table's row count and checksum, the same ones
// Checksums computes; backup_info: the schema version, the source engine,
// the time) that restore verifies before and after it writes anything.

// Manifest describes a backup.
type Manifest struct {
	Schema int       // schema version of the data
	Source Dialect   // engine the backup was taken from
	Taken  time.Time // when
	Tables []TableSum
}

// Digest is a short fingerprint of the manifest (schema and every table's
// count and checksum), for the operator to note beside the file: the
// manifest guards against damage, not against someone rewriting both the
// data and the manifest, which the digest kept elsewhere catches.
func (m Manifest) Digest() string {
	h := sha256.New()
	fmt.Fprintf(h, "schema %d\n", m.Schema)
	for _, t := range m.Tables {
		fmt.Fprintf(h, "%s %d %s\n", t.Table, t.Rows, t.Sum)
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:32]
}

// OpenSource opens a database to read from it only (a backup or a copy of a
// live installation): no migrations, no writer, no checkpoints, nothing
// written. It refuses a schema this build does not have.
func OpenSource(ctx context.Context, dsn string) (*DB, error) {
	db := &DB{dsn: dsn}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.Dialect = Postgres
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("postgres address: %w", err)
		}
		db.read = stdlib.OpenDB(*cfg)
		db.read.SetMaxOpenConns(2)
	} else {
		db.Dialect = SQLite
		path := sqlitePath(dsn)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "query_only(ON)"} {
			q.Add("_pragma", p)
		}
		var err error
		if db.read, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode()); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.read.SetMaxOpenConns(2)
	}
	db.write = db.read
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		db.read.Close()
		return nil, err
	}
	if v != Version() {
		db.read.Close()
		return nil, fmt.Errorf("database schema version %d, this build's is %d: use the build that matches, or upgrade it first (zhizhi migrate)", v, Version())
	}
	return db, nil
}

// SchemaVersion is the newest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", translate(err))
	}
	return v, nil
}

func sqlitePath(dsn string) string {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// Backup writes a consistent copy of the database to the file out, which
// must not exist, while the database goes on serving. On SQLite it is
// VACUUM INTO on a connection of its own: one read transaction, so the
// writer carries on, and the file holds the database as of its start. On
// PostgreSQL every table is read in one REPEATABLE READ READ ONLY
// transaction (Copy) into a new SQLite file, and the source's counts and
// checksums in that snapshot must equal the file's. The manifest is written
// into the file, which is made under a temporary name, synced and renamed.
func Backup(ctx context.Context, src *DB, out string) (Manifest, error) {
	m := Manifest{Schema: Version(), Source: src.Dialect, Taken: time.Now().UTC()}
	if _, err := os.Stat(out); err == nil {
		return m, fmt.Errorf("backup file %s already exists", out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	if dir := filepath.Dir(out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return m, fmt.Errorf("create backup directory: %w", err)
		}
	}
	tmp := out + ".partial"
	os.Remove(tmp)
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
			os.Remove(tmp + "-wal")
			os.Remove(tmp + "-shm")
		}
	}()
	switch src.Dialect {
	case SQLite:
		conn, err := sql.Open("sqlite", "file:"+sqlitePath(src.dsn)+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return m, fmt.Errorf("open source: %w", err)
		}
		_, err = conn.ExecContext(ctx, `VACUUM INTO $1`, tmp)
		conn.Close()
		if err != nil {
			return m, fmt.Errorf("vacuum into %s: %w", tmp, err)
		}
	case Postgres:
		dst, err := Open(ctx, tmp, Options{})
		if err != nil {
			return m, fmt.Errorf("create backup file: %w", err)
		}
		res, err := Copy(ctx, src, dst, nil)
		if cerr := dst.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return m, err
		}
		if !res.OK() {
			return m, errors.New("backup: the file differs from the snapshot it was copied from")
		}
		m.Tables = res.Source
	}
	f, err := sql.Open("sqlite", "file:"+tmp+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return m, err
	}
	defer f.Close()
	f.SetMaxOpenConns(1)
	sums, err := checksums(ctx, f)
	if err != nil {
		return m, err
	}
	if m.Tables != nil && !equalSums(m.Tables, sums) {
		return m, errors.New("backup: the file differs from the snapshot it was copied from")
	}
	m.Tables = sums
	if err := writeManifest(ctx, f, m); err != nil {
		return m, err
	}
	// One self-contained file: no write-ahead log beside it.
	if _, err := f.ExecContext(ctx, `PRAGMA journal_mode=DELETE`); err != nil {
		return m, fmt.Errorf("backup journal mode: %w", err)
	}
	if err := f.Close(); err != nil {
		return m, err
	}
	if err := syncFile(tmp); err != nil {
		return m, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return m, err
	}
	if err := syncFile(filepath.Dir(out)); err != nil {
		return m, err
	}
	done = true
	return m, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func equalSums(a, b []TableSum) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func writeManifest(ctx context.Context, f *sql.DB, m Manifest) error {
	tx, err := f.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TABLE backup_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`CREATE TABLE backup_manifest (tbl TEXT PRIMARY KEY, rows INTEGER NOT NULL, sum TEXT NOT NULL)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	for _, kv := range [][2]string{{"schema", strconv.Itoa(m.Schema)}, {"source", string(m.Source)}, {"taken", m.Taken.Format(time.RFC3339Nano)}} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO backup_info (key, value) VALUES ($1, $2)`, kv[0], kv[1]); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	for i, t := range m.Tables {
		// rowid keeps the tables' order.
		if _, err := tx.ExecContext(ctx, `INSERT INTO backup_manifest (rowid, tbl, rows, sum) VALUES ($1, $2, $3, $4)`, i+1, t.Table, t.Rows, t.Sum); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	return tx.Commit()
}

// OpenBackup opens a backup file read-only and reads its manifest.
func OpenBackup(ctx context.Context, path string) (*DB, Manifest, error) {
	var m Manifest
	if _, err := os.Stat(path); err != nil {
		return nil, m, err
	}
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(ON)")
	if err != nil {
		return nil, m, err
	}
	conn.SetMaxOpenConns(2)
	db := &DB{Dialect: SQLite, read: conn, write: conn, dsn: path}
	fail := func(err error) (*DB, Manifest, error) {
		conn.Close()
		return nil, m, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT key, value FROM backup_info`)
	if err != nil {
		return fail(fmt.Errorf("%s is not a zhizhi backup (no manifest): %w", path, err))
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fail(err)
		}
		switch k {
		case "schema":
			m.Schema, _ = strconv.Atoi(v)
		case "source":
			m.Source = Dialect(v)
		case "taken":
			m.Taken, _ = time.Parse(time.RFC3339Nano, v)
		}
	}
	rows.Close()
	if rows, err = conn.QueryContext(ctx, `SELECT tbl, rows, sum FROM backup_manifest ORDER BY rowid`); err != nil {
		return fail(fmt.Errorf("read manifest: %w", err))
	}
	for rows.Next() {
		var t TableSum
		if err := rows.Scan(&t.Table, &t.Rows, &t.Sum); err != nil {
			rows.Close()
			return fail(err)
		}
		m.Tables = append(m.Tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if m.Schema != Version() {
		return fail(fmt.Errorf("backup of schema version %d, this build's is %d: restore with the build that made it, then upgrade", m.Schema, Version()))
	}
	return db, m, nil
}

// VerifyBackup recomputes the counts and checksums of an opened backup and
// compares them with its manifest.
func VerifyBackup(ctx context.Context, b *DB, m Manifest) error {
	sums, err := b.Checksums(ctx)
	if err != nil {
		return err
	}
	return compareManifest("backup", m, sums)
}

func compareManifest(what string, m Manifest, sums []TableSum) error {
	if len(sums) != len(m.Tables) {
		return fmt.Errorf("%s: %d tables, the manifest lists %d", what, len(sums), len(m.Tables))
	}
	var bad []string
	for i, s := range sums {
		if s != m.Tables[i] {
			bad = append(bad, fmt.Sprintf("%s (%d rows, manifest %d)", s.Table, s.Rows, m.Tables[i].Rows))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s does not match the manifest: %s", what, strings.Join(bad, ", "))
	}
	return nil
}

// Restore copies an opened backup into dst, which must be empty, after
// checking the backup against its manifest; then it checks dst against the
// manifest too.
func Restore(ctx context.Context, b *DB, m Manifest, dst *DB, progress func(table string, rows int64)) (CopyResult, error) {
	if err := dst.checkEmpty(ctx); err != nil {
		return CopyResult{}, err
	}
	if err := VerifyBackup(ctx, b, m); err != nil {
		return CopyResult{}, err
	}
	res, err := Copy(ctx, b, dst, progress)
	if err != nil {
		return res, err
	}
	if err := compareManifest("restored database", m, res.Target); err != nil {
		return res, err
	}
	if !res.OK() {
		return res, errors.New("restore: full-text search differs between the backup and the restored database")
	}
	return res, nil
}
