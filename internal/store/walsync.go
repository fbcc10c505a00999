package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// walSync makes SQLite's group commits durable outside the write lock
// (issue 19, intake). With synchronous=FULL, SQLite's COMMIT writes the
// batch's pages to the write-ahead log and then waits for fsync while it
// holds the write lock, so the next batch could not start until the disk
// answered: a batch's work and its fsync took turns (about 6 ms each here),
// and half of the writing clients waited for the batch in progress.
//
// The writer connection runs with synchronous=NORMAL instead, whose COMMIT
// writes the log without syncing it, and this syncer fsyncs the log file
// itself, on its own goroutine: one fdatasync covers every batch committed
// before it started. A batch's callers get their answers only after that
// fsync returns, so "acknowledged means on disk" holds as before; the next
// batch runs while the disk works. A power loss can lose only batches no
// caller was told of, and SQLite's recovery keeps whole transactions (each
// log frame is checksummed, chained to the one before), so it loses a
// suffix of them, never one from the middle. Checkpoints sync the log
// before they copy it into the database file (their connection keeps
// FULL), so the file never holds what the log does not.
//
// A committed batch is visible to readers before its fsync returns (a few
// milliseconds). What the platform tells the world from its reads waits
// for Durable first — webhook deliveries, the Open311 updates feed — so
// nothing leaves the node that a power loss could take back; notifications
// are sent from deliveries their sender first claims through the writer,
// whose answer comes after the fsync. The callbacks of a batch (after
// commit: the live hub, wake-ups) run on the syncer's goroutine once the
// batch is durable; like the writer's before, none may wait for a write.
type walSync struct {
	path   string
	db     string // the database's path as SQLite names it (walvfs.go)
	acks   chan walAck
	done   chan struct{}
	f      *os.File
	syncFn func(*os.File) error  // fdatasync; tests put their own before the first write
	fatal  atomic.Pointer[error] // a failed fsync: nothing after it is known durable
	mu     sync.Mutex            // guards closed and sends on acks
	closed bool

	syncs, nanos atomic.Int64                  // fsyncs and their time (WriterStats)
	durables     atomic.Int64                  // Durable calls (WriterStats)
	durableWaits atomic.Int64                  // of them, those that waited for an fsync
	pending      atomic.Int64                  // batches committed and not yet answered
	idle         chan struct{}                 // told (if empty) when pending falls to 0
	serial       bool                          // answer each batch before the next starts (benchmarks)
	hold         atomic.Pointer[chan struct{}] // HoldLogSync: closed when released
}

// Benchmark knobs (like MapReaders): read when a store opens.
var (
	serialLogSync atomic.Bool
	logSyncDelay  atomic.Int64
)

// SerialLogSync makes stores opened afterwards sync each batch's log before
// the writer starts the next one — the order of a COMMIT with
// synchronous=FULL — and DelayLogSync adds d to every fsync, as a slower
// disk would. They exist so that a benchmark can compare the two orders, on
// this disk and on a slower one, in one run.
func SerialLogSync(on bool)        { serialLogSync.Store(on) }
func DelayLogSync(d time.Duration) { logSyncDelay.Store(int64(d)) }

// HoldLogSync holds the store's log syncer until release is called: a
// sync that starts meanwhile waits before it fsyncs, so the batches
// committed meanwhile are visible to readers but not durable, their
// callers are not answered, and Durable waits. It exists so that tests can
// check that what tells the world of its reads waits for Durable (the
// webhook sender, the Open311 updates feed). On PostgreSQL, whose commits
// are durable when they return, there is nothing to hold: ok is false and
// release does nothing. A store is held by one caller at a time; release
// it before closing the store.
func (db *DB) HoldLogSync() (release func(), ok bool) {
	s := db.walSync
	if s == nil {
		return func() {}, false
	}
	ch := make(chan struct{})
	if !s.hold.CompareAndSwap(nil, &ch) {
		panic("store: log sync already held")
	}
	return sync.OnceFunc(func() {
		s.hold.Store(nil)
		close(ch)
	}), true
}

// walAck is what waits for the next fsync: a committed batch's answers, or
// a Durable caller.
type walAck func(err error)

func newWALSync(path string) *walSync {
	s := &walSync{path: path, db: sqliteName(strings.TrimSuffix(path, "-wal")), acks: make(chan walAck, 1024), done: make(chan struct{}), syncFn: fdatasync,
		idle: make(chan struct{}, 1), serial: serialLogSync.Load()}
	if d := time.Duration(logSyncDelay.Load()); d > 0 {
		s.syncFn = func(f *os.File) error {
			time.Sleep(d)
			return fdatasync(f)
		}
	}
	go s.loop()
	return s
}

// loop fsyncs the log whenever something waits, taking everything queued
// before the fsync starts into it.
func (s *walSync) loop() {
	defer close(s.done)
	var waiting []walAck
	for first := range s.acks {
		waiting, _ = collect[walAck, struct{}](s.acks, append(waiting[:0], first), 0, nil)
		err := s.sync()
		for _, a := range waiting {
			a(err)
		}
		if s.pending.Load() == 0 {
			select {
			case s.idle <- struct{}{}:
			default:
			}
		}
	}
	if s.f != nil {
		s.f.Close()
	}
}

// sync fsyncs the log file (its data and size: fdatasync).
func (s *walSync) sync() error {
	if p := s.fatal.Load(); p != nil {
		return *p
	}
	if h := s.hold.Load(); h != nil {
		<-*h
	}
	if err := logWriteFailed(s.db); err != nil {
		return s.fail(err)
	}
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return s.fail(fmt.Errorf("open the write-ahead log to sync it: %w", err))
		}
		s.f = f
	}
	start := time.Now()
	err := s.syncFn(s.f)
	s.nanos.Add(int64(time.Since(start)))
	s.syncs.Add(1)
	if err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages:
		// nothing written since can be called durable (PostgreSQL's rule).
		// Every later write is refused until the process restarts and
		// SQLite recovers the log from what the disk holds.
		return s.fail(fmt.Errorf("sync the write-ahead log: %w", err))
	}
	return nil
}

func (s *walSync) fail(err error) error {
	s.fatal.CompareAndSwap(nil, &err)
	return *s.fatal.Load()
}

// wait queues a until the next fsync has returned; after stop, a is told
// at once that the store is closed.
func (s *walSync) wait(ctx context.Context, a walAck) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.acks <- a:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop syncs what is queued and ends the loop; called once the writer has
// stopped.
func (s *walSync) stop() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.acks)
	s.mu.Unlock()
	<-s.done
}

// errWALSync wraps a failed fsync: the batch committed but is not known to be
// on disk.
var errWALSync = errors.New("storage could not make the write durable")

// Durable returns once everything committed before the call is on disk. On
// PostgreSQL, and on SQLite with the log synced inside COMMIT, a commit is
// durable when it returns, and Durable returns at once. Callers that tell
// the outside world what they read (webhooks, notifications, feeds) call it
// between the read and the telling.
func (db *DB) Durable(ctx context.Context) error {
	s := db.walSync
	if s == nil {
		return nil
	}
	s.durables.Add(1)
	s.durableWaits.Add(1)
	done := make(chan error, 1)
	if err := s.wait(ctx, func(err error) { done <- err }); err != nil {
		return err
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%w: %v", errWALSync, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sqliteName is path as SQLite's unix VFS names an open file: absolute,
// its links followed.
func sqliteName(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
