package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// logOf is the writer's log of the SQLite store db at path, as walVFS keeps
// it (under the name the store's log syncer looks it up by).
func logOf(t *testing.T, path string) *vfsFile {
	t.Helper()
	walVFS.mu.Lock()
	defer walVFS.mu.Unlock()
	logs := walVFS.logs[sqliteName(path)]
	if len(logs) != 1 {
		t.Fatalf("logs of %s through walVFS: %d, want the writer's one (open: %v)", sqliteName(path), len(logs), walVFS.logs)
	}
	return logs[0]
}

// logCommits reads a write-ahead log: its salts and the number of the last
// frame of each transaction in it.
func logCommits(t *testing.T, path string) (salt [8]byte, ends []int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 32 {
		return salt, nil
	}
	size := int(binary.BigEndian.Uint32(b[8:12]))
	copy(salt[:], b[16:24])
	for i, off := 1, 32; off+24+size <= len(b); i, off = i+1, off+24+size {
		if !bytes.Equal(b[off+8:off+16], salt[:]) {
			break
		}
		if binary.BigEndian.Uint32(b[off+4:off+8]) != 0 {
			ends = append(ends, i)
		}
	}
	return salt, ends
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// recoveredCopy copies the SQLite database at path and its log (the
// checkpointer stopped, so the file does not change meanwhile) and opens the
// copy with SQLite's own VFS, which recovers the log as after a crash; it
// checks the copy's integrity. The copy is closed at the test's end.
func recoveredCopy(t *testing.T, path string) *sql.DB {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, path, filepath.Join(dir, "copy.db"))
	copyFile(t, path+"-wal", filepath.Join(dir, "copy.db-wal"))
	c, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var ok string
	if err := c.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity of the copy: %q, %v", ok, err)
	}
	return c
}

// TestLogWritesGathered: the writer writes a commit's log frames with one
// write a buffer (31 frames of a 4 KiB page), not two a frame; and the frames are
// SQLite's own: a copy of the files, opened afresh, recovers the commit
// from the log (its checksums and salts) and holds every row.
func TestLogWritesGathered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "zhizhi.db")
	db := mustOpen(t, path)
	db.stopCheckpointer() // the database file stays as it is while copied
	log := logOf(t, path)
	_, before := logCommits(t, path+"-wal")
	log.mu.Lock()
	calls := log.calls
	log.mu.Unlock()

	const rows = 60
	value := func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("值", 1000) } // 3 KB
	if err := db.Write(ctx, func(tx *Tx) error {
		for i := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)`, fmt.Sprintf("gathered-%d", i), value(i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	calls = log.calls - calls
	log.mu.Unlock()
	_, after := logCommits(t, path+"-wal")
	if len(after) == 0 {
		t.Fatal("no commit in the log")
	}
	first := 0
	if len(before) > 0 && len(after) > len(before) && after[len(before)-1] == before[len(before)-1] {
		first = before[len(before)-1]
	}
	frames := after[len(after)-1] - first
	if frames < rows/2 {
		t.Fatalf("the commit wrote %d frames, want at least %d", frames, rows/2)
	}
	perWrite := walBufSize / (4096 + 24) // whole frames a write carries
	if most := int64((frames+perWrite-1)/perWrite) + 1; calls > most {
		t.Errorf("the commit of %d frames took %d writes of the log, want at most %d", frames, calls, most)
	}
	t.Logf("%d frames in %d writes", frames, calls)

	// A copy of the files: SQLite recovers the log as after a crash.
	c := recoveredCopy(t, path)
	for i := range rows {
		var v string
		if err := c.QueryRow(`SELECT value FROM settings WHERE key = ?`, fmt.Sprintf("gathered-%d", i)).Scan(&v); err != nil || v != value(i) {
			t.Fatalf("row %d in the recovered copy: %d bytes, %v", i, len(v), err)
		}
	}
}

// TestLogWriteFaults: a log write that fails at a commit fails that commit
// and nothing else; one that fails where SQLite cannot be told (publishing
// the wal-index, a lock's release) fails every later write and the log
// syncer, so nothing after it is acknowledged.
func TestLogWriteFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "zhizhi.db")
	db := mustOpen(t, path)
	log := logOf(t, path)
	name := sqliteName(path)
	fail := func(db string) int32 {
		if db == name {
			return sqlite3.SQLITE_IOERR_WRITE
		}
		return sqlite3.SQLITE_OK
	}
	put := func(key string) error {
		return db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, '1')`, key)
			return err
		})
	}
	has := func(key string) bool {
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	logWriteFault.Store(&fail)
	err := put("fault-commit")
	logWriteFault.Store(nil)
	if err == nil {
		t.Fatal("a commit whose log write failed succeeded")
	}
	if has("fault-commit") {
		t.Fatal("the failed commit's row is visible")
	}
	if err := put("after-commit-fault"); err != nil {
		t.Fatalf("a write after a failed commit: %v", err)
	}
	if !has("after-commit-fault") {
		t.Fatal("the write after a failed commit is not visible")
	}

	// A write that cannot be reported: bytes held (past the log's end),
	// then flushed where SQLite publishes the wal-index.
	log.mu.Lock()
	log.off, log.n = 1<<30, 24
	log.mu.Unlock()
	logWriteFault.Store(&fail)
	tls := libc.NewTLS()
	flushLogs(tls, name)
	tls.Close()
	logWriteFault.Store(nil)
	if err := logWriteFailed(name); err == nil {
		t.Fatal("the failed write is not kept")
	}
	if err := put("after-lost-write"); err == nil {
		t.Fatal("a write after a write that was lost succeeded")
	}
	if err := db.Durable(ctx); !errors.Is(err, errWALSync) {
		t.Fatalf("Durable after a lost write: %v, want %v", err, errWALSync)
	}
	ran := false
	if err := db.Write(ctx, func(tx *Tx) error { ran = true; return nil }); !errors.Is(err, errWALSync) || ran {
		t.Fatalf("a write after the syncer failed: ran %v, %v; want refused with %v", ran, err, errWALSync)
	}
}

// TestLogSpilledTransaction: a transaction larger than the writer's page
// cache writes frames before its commit, and overwrites some of them when it
// changes their pages again (SQLite then rewrites the checksums of the
// frames after them at the commit). Readers see the commit whole, and a copy
// of the files recovers it from the log.
func TestLogSpilledTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "zhizhi.db")
	db := mustOpen(t, path)
	db.stopCheckpointer()
	if _, err := db.write.ExecContext(ctx, `PRAGMA cache_size = 16`); err != nil {
		t.Fatal(err)
	}
	defer db.write.ExecContext(ctx, `PRAGMA cache_size = -65536`)
	const rows = 400
	value := func(i, round int) string { return fmt.Sprintf("%04d-%d", i, round) + strings.Repeat("溢", 900) }
	if err := db.Write(ctx, func(tx *Tx) error {
		for round := range 2 {
			for i := range rows {
				if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
					ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprintf("spill-%d", i), value(i, round)); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check := func(c *sql.DB, where string) {
		t.Helper()
		var n int
		if err := c.QueryRow(`SELECT count(*) FROM settings WHERE key LIKE 'spill-%' AND value LIKE '%-1' || '溢%'`).Scan(&n); err != nil || n != rows {
			t.Fatalf("%s: %d rows of the last round, %v; want %d", where, n, err, rows)
		}
	}
	check(db.read, "readers")
	check(recoveredCopy(t, path), "the recovered copy")
}
