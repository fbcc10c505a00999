package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// The writer's VFS: a commit's write-ahead-log frames in one write (issue
// 19, intake).
//
// SQLite writes each frame of a commit to the log with two system calls,
// its 24-byte header and then its page: a batch of fifty reports writes
// about 330 pages, 660 pwrite calls, on the writer, inside COMMIT. On an
// AMD EPYC machine of this project the writer spent about a quarter of its
// busy time in those calls (docs/benchmarks-journal.md, section 1).
//
// walVFS is SQLite's unix VFS with the log's writes gathered: the writer's
// connection opens its database through it (vfs=zhizhi-wal in its DSN).
// Writes to the log that follow one another are copied into a buffer off
// the Go heap and written with one call when:
//   - the commit frame's page has been added (a frame whose header carries
//     the database size is the transaction's last): its error, if any, is
//     COMMIT's, which fails and rolls back as it would have;
//   - a write is not at the buffer's end, or would not fit;
//   - anything else touches the log file: a read (SQLite reads back frames
//     of its own transaction), a sync, its size, a truncation, a file
//     control, closing;
//   - the wal-index header is published (xShmBarrier on the database file,
//     between the header's two copies) and whenever a wal-index lock is
//     released: so no reader, checkpointer or other process can learn of a
//     frame that is not yet in the file, and nothing stays buffered once
//     the writer's transaction has ended (a rolled-back transaction's
//     spilled frames included).
//
// A write failing at one of the last points, which cannot report it to
// SQLite, is kept by the database's path until the process ends: every
// later write of that log is refused, and the store's log syncer fails
// with it (walsync.go), so no batch written after it is acknowledged, as
// after a failed fsync. Readers use SQLite's own VFS; the
// frames they may read are in the file before the header that names them.
const walVFSName = "zhizhi-wal"

// walBufSize is the most one write of the log carries: the most SQLite's
// unix VFS writes in one call (seekAndWriteFd takes the length modulo
// 128 KiB). A commit of fifty reports (about 1.2 MiB) takes ten.
const walBufSize = 0x1ffff

var walVFS struct {
	once  sync.Once
	err   error
	base  uintptr // the unix VFS
	mu    sync.Mutex
	files map[uintptr]*vfsFile   // open files (logs and databases) by handle
	logs  map[string][]*vfsFile  // open logs by their database's path
	wraps map[uintptr][2]uintptr // SQLite's method table → ours for a log, for a database
	// lost holds, by database path, a log write that failed where SQLite
	// could not be told; it outlives the handle, until the process ends.
	lost map[string]error
}

// vfsFile is the state of a file opened through walVFS.
type vfsFile struct {
	handle  uintptr
	real    uintptr // SQLite's own methods for it
	db      string  // the database's path
	isLog   bool
	mu      sync.Mutex
	buf     uintptr // walBufSize bytes (logs)
	off     int64   // the file offset of buf's first byte
	n       int     // bytes buffered
	pending bool    // a commit frame's header is buffered; its page follows
	calls   int64   // writes of the file (f.mu)
}

// logWriteCalls counts the writes walVFS has made to logs, in all
// (LogWrites).
var logWriteCalls atomic.Int64

// LogWrites is how many writes walVFS has made to write-ahead logs since
// the process started (the intake benchmark reports it a commit).
func LogWrites() int64 { return logWriteCalls.Load() }

// logWriteFault, when set (tests), is asked before every write of a log;
// a code other than SQLITE_OK fails the write with it, unwritten.
var logWriteFault atomic.Pointer[func(db string) int32]

// write writes n bytes at buf to the log at off; f.mu is held.
func (f *vfsFile) write(tls *libc.TLS, buf uintptr, n int32, off int64) int32 {
	if fault := logWriteFault.Load(); fault != nil {
		if rc := (*fault)(f.db); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	f.calls++
	logWriteCalls.Add(1)
	return goFunc[func(*libc.TLS, uintptr, uintptr, int32, int64) int32]((*sqlite3.Tsqlite3_io_methods)(cPtr(f.real)).FxWrite)(tls, f.handle, buf, n, off)
}

// registerWALVFS registers walVFS once (after the page cache: store's
// init, since registering initialises SQLite).
func registerWALVFS() error {
	walVFS.once.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		base := sqlite3.Xsqlite3_vfs_find(tls, 0)
		if base == 0 {
			walVFS.err = errors.New("no default SQLite VFS")
			return
		}
		v := libc.Xcalloc(tls, 1, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
		name, err := libc.CString(walVFSName)
		if v == 0 || err != nil {
			walVFS.err = errors.New("allocate the log VFS")
			return
		}
		t := (*sqlite3.Tsqlite3_vfs)(cPtr(v))
		*t = *(*sqlite3.Tsqlite3_vfs)(cPtr(base))
		t.FpNext = 0
		t.FzName = name
		t.FxOpen = cFunc(vfsOpen)
		walVFS.base = base
		walVFS.files = map[uintptr]*vfsFile{}
		walVFS.logs = map[string][]*vfsFile{}
		walVFS.wraps = map[uintptr][2]uintptr{}
		walVFS.lost = map[string]error{}
		if rc := sqlite3.Xsqlite3_vfs_register(tls, v, 0); rc != sqlite3.SQLITE_OK {
			walVFS.err = fmt.Errorf("register the log VFS: SQLite error %d", rc)
		}
	})
	return walVFS.err
}

func vfsOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	base := (*sqlite3.Tsqlite3_vfs)(cPtr(walVFS.base))
	rc := goFunc[func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32](base.FxOpen)(tls, walVFS.base, zName, pFile, flags, pOutFlags)
	methods := (*sqlite3.Tsqlite3_file)(cPtr(pFile)).FpMethods
	if rc != sqlite3.SQLITE_OK || methods == 0 || zName == 0 || flags&(sqlite3.SQLITE_OPEN_WAL|sqlite3.SQLITE_OPEN_MAIN_DB) == 0 {
		return rc
	}
	f := &vfsFile{handle: pFile, real: methods, isLog: flags&sqlite3.SQLITE_OPEN_WAL != 0}
	name := libc.GoString(zName)
	f.db = name
	if f.isLog {
		f.db = strings.TrimSuffix(name, "-wal")
		if f.buf = libc.Xmalloc(tls, walBufSize); f.buf == 0 {
			callClose(tls, methods, pFile)
			return sqlite3.SQLITE_NOMEM
		}
	}
	walVFS.mu.Lock()
	defer walVFS.mu.Unlock()
	w, ok := walVFS.wraps[methods]
	if !ok {
		w = [2]uintptr{wrapMethods(tls, methods, true), wrapMethods(tls, methods, false)}
		walVFS.wraps[methods] = w
	}
	walVFS.files[pFile] = f
	if f.isLog {
		walVFS.logs[f.db] = append(walVFS.logs[f.db], f)
		(*sqlite3.Tsqlite3_file)(cPtr(pFile)).FpMethods = w[0]
	} else {
		(*sqlite3.Tsqlite3_file)(cPtr(pFile)).FpMethods = w[1]
	}
	return rc
}

// wrapMethods is a copy of SQLite's method table real with the methods
// walVFS puts in front of them for a log or a database file. It is kept
// for the process's life.
func wrapMethods(tls *libc.TLS, real uintptr, log bool) uintptr {
	m := libc.Xcalloc(tls, 1, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{})))
	if m == 0 {
		panic("store: allocate the log VFS's methods")
	}
	t := (*sqlite3.Tsqlite3_io_methods)(cPtr(m))
	*t = *(*sqlite3.Tsqlite3_io_methods)(cPtr(real))
	t.FxClose = cFunc(vfsClose)
	if log {
		t.FxRead = cFunc(vfsRead)
		t.FxWrite = cFunc(vfsWrite)
		t.FxTruncate = cFunc(vfsTruncate)
		t.FxSync = cFunc(vfsSync)
		t.FxFileSize = cFunc(vfsFileSize)
		t.FxFileControl = cFunc(vfsFileControl)
	} else if t.FiVersion >= 2 {
		t.FxShmLock = cFunc(vfsShmLock)
		t.FxShmBarrier = cFunc(vfsShmBarrier)
	}
	return m
}

func vfsLookup(pFile uintptr) *vfsFile {
	walVFS.mu.Lock()
	defer walVFS.mu.Unlock()
	return walVFS.files[pFile]
}

// flush writes what f holds; f.mu is held.
func (f *vfsFile) flush(tls *libc.TLS) int32 {
	if f.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n := f.n
	f.n = 0
	return f.write(tls, f.buf, int32(n), f.off)
}

// flushLogs writes what the logs of the database db hold, from a point
// that cannot report an error: a failure is kept and fails every later
// write and the store's syncer.
func flushLogs(tls *libc.TLS, db string) {
	walVFS.mu.Lock()
	logs := walVFS.logs[db]
	walVFS.mu.Unlock()
	for _, f := range logs {
		f.mu.Lock()
		rc := f.flush(tls)
		f.mu.Unlock()
		if rc != sqlite3.SQLITE_OK {
			walVFS.mu.Lock()
			if walVFS.lost[db] == nil {
				walVFS.lost[db] = fmt.Errorf("write the write-ahead log: SQLite error %d", rc)
			}
			walVFS.mu.Unlock()
		}
	}
}

// logWriteFailed is the error of a log write of the database at path that
// could not be reported, or nil.
func logWriteFailed(path string) error {
	walVFS.mu.Lock()
	defer walVFS.mu.Unlock()
	return walVFS.lost[path]
}

func vfsWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	walVFS.mu.Lock()
	f := walVFS.files[pFile]
	lost := walVFS.lost[f.db]
	walVFS.mu.Unlock()
	if lost != nil {
		return sqlite3.SQLITE_IOERR_WRITE
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Whether this is the page of a commit frame whose header came last.
	commitPage := f.pending
	f.pending = false
	if f.n > 0 && (iOfst != f.off+int64(f.n) || f.n+int(iAmt) > walBufSize) {
		if rc := f.flush(tls); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	if int(iAmt) > walBufSize {
		return f.write(tls, zBuf, iAmt, iOfst)
	}
	if f.n == 0 {
		f.off = iOfst
	}
	copy(unsafe.Slice((*byte)(cPtr(f.buf+uintptr(f.n))), iAmt), unsafe.Slice((*byte)(cPtr(zBuf)), iAmt))
	f.n += int(iAmt)
	switch {
	case iAmt == 24 && iOfst >= sqlite3.WAL_HDRSIZE:
		// A frame's header: its second field is the database's size
		// after a commit, zero but in a transaction's last frame.
		b := unsafe.Slice((*byte)(cPtr(zBuf)), 8)
		f.pending = b[4]|b[5]|b[6]|b[7] != 0
	case commitPage:
		// The commit frame's page: the transaction's frames go now, and
		// a failure is COMMIT's.
		return f.flush(tls)
	}
	return sqlite3.SQLITE_OK
}

// flushThen writes what the log f holds, then calls fn; the operations
// that read, size, sync or end the log go through it.
func flushThen(tls *libc.TLS, pFile uintptr, fn func(real *sqlite3.Tsqlite3_io_methods) int32) int32 {
	f := vfsLookup(pFile)
	f.mu.Lock()
	rc := f.flush(tls)
	f.mu.Unlock()
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return fn((*sqlite3.Tsqlite3_io_methods)(cPtr(f.real)))
}

func vfsRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	return flushThen(tls, pFile, func(m *sqlite3.Tsqlite3_io_methods) int32 {
		return goFunc[func(*libc.TLS, uintptr, uintptr, int32, int64) int32](m.FxRead)(tls, pFile, zBuf, iAmt, iOfst)
	})
}

func vfsTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	return flushThen(tls, pFile, func(m *sqlite3.Tsqlite3_io_methods) int32 {
		return goFunc[func(*libc.TLS, uintptr, int64) int32](m.FxTruncate)(tls, pFile, size)
	})
}

func vfsSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	return flushThen(tls, pFile, func(m *sqlite3.Tsqlite3_io_methods) int32 {
		return goFunc[func(*libc.TLS, uintptr, int32) int32](m.FxSync)(tls, pFile, flags)
	})
}

func vfsFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	return flushThen(tls, pFile, func(m *sqlite3.Tsqlite3_io_methods) int32 {
		return goFunc[func(*libc.TLS, uintptr, uintptr) int32](m.FxFileSize)(tls, pFile, pSize)
	})
}

func vfsFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	return flushThen(tls, pFile, func(m *sqlite3.Tsqlite3_io_methods) int32 {
		return goFunc[func(*libc.TLS, uintptr, int32, uintptr) int32](m.FxFileControl)(tls, pFile, op, pArg)
	})
}

func vfsClose(tls *libc.TLS, pFile uintptr) int32 {
	f := vfsLookup(pFile)
	f.mu.Lock()
	rc := f.flush(tls)
	f.mu.Unlock()
	walVFS.mu.Lock()
	delete(walVFS.files, pFile)
	if f.isLog {
		logs := walVFS.logs[f.db]
		for i, l := range logs {
			if l == f {
				logs = append(logs[:i:i], logs[i+1:]...)
				break
			}
		}
		if len(logs) == 0 {
			delete(walVFS.logs, f.db)
		} else {
			walVFS.logs[f.db] = logs
		}
	}
	walVFS.mu.Unlock()
	if crc := callClose(tls, f.real, pFile); rc == sqlite3.SQLITE_OK {
		rc = crc
	}
	if f.buf != 0 {
		libc.Xfree(tls, f.buf)
	}
	return rc
}

func vfsShmLock(tls *libc.TLS, pFile uintptr, offset, n, flags int32) int32 {
	f := vfsLookup(pFile)
	if flags&sqlite3.SQLITE_SHM_UNLOCK != 0 {
		flushLogs(tls, f.db)
	}
	m := (*sqlite3.Tsqlite3_io_methods)(cPtr(f.real))
	return goFunc[func(*libc.TLS, uintptr, int32, int32, int32) int32](m.FxShmLock)(tls, pFile, offset, n, flags)
}

func vfsShmBarrier(tls *libc.TLS, pFile uintptr) {
	f := vfsLookup(pFile)
	flushLogs(tls, f.db)
	m := (*sqlite3.Tsqlite3_io_methods)(cPtr(f.real))
	goFunc[func(*libc.TLS, uintptr)](m.FxShmBarrier)(tls, pFile)
}

func callClose(tls *libc.TLS, real, pFile uintptr) int32 {
	m := (*sqlite3.Tsqlite3_io_methods)(cPtr(real))
	return goFunc[func(*libc.TLS, uintptr) int32](m.FxClose)(tls, pFile)
}
