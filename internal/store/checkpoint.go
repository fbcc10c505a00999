package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"
)

// checkpointer copies the SQLite write-ahead log into the database file in
// the background. Left to SQLite, the checkpoint runs inside a commit once
// the log passes 1,000 pages, which puts the copy and an extra fsync in the
// path of every report waiting on that commit. A PASSIVE checkpoint on its
// own connection never blocks the writer or the readers.
type checkpointer struct {
	conn *sql.DB
	stop chan struct{}
	done chan struct{}
}

// openSide opens one connection of its own to the SQLite file at path, for
// work beside the writer and the readers (the checkpointer, dropping the
// full-text statistics): it waits for a busy file, and its transactions
// take the write lock at BEGIN.
func openSide(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	conn, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	return conn, nil
}

func (db *DB) startCheckpointer(path string) error {
	conn, err := openSide(path)
	if err != nil {
		return fmt.Errorf("open checkpointer: %w", err)
	}
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	db.ckpt = c
	go c.run()
	return nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// Errors (a busy database) are not fatal: the next tick tries
			// again, and the writer's own autocheckpoint is the safety net.
			_, _ = c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

func (db *DB) stopCheckpointer() {
	c := db.ckpt
	if c == nil {
		return
	}
	db.ckpt = nil
	close(c.stop)
	<-c.done
	// With the writer stopped, fold the whole log into the database file.
	_, _ = c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
	c.conn.Close()
}
