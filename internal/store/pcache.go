package store

import (
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's page cache, one per connection (issue 19, text search under
// load).
//
// modernc's SQLite is built with SQLITE_ENABLE_MEMORY_MANAGEMENT, so its
// own page cache (pcache1) puts every connection of the process in one
// group behind one global mutex, taken at every page fetch and every
// release: four readers walking thousands of pages each queue on it. The
// readers map the file, but SQLite maps at most 2 GiB (its build's
// SQLITE_MAX_MMAP_SIZE), and a district of a million cases is four times
// that, its newest cases at the end, so most of a text listing's pages
// still went through that cache.
//
// connPageCache replaces pcache1 through SQLITE_CONFIG_PCACHE2 with the
// same policy kept per connection: a hash of pages by number, an LRU of the
// unpinned ones, a page recycled from the LRU's tail once the cache holds
// cache_size pages. SQLite calls the methods of one cache under its
// connection's mutex only, so connections share nothing; each cache also
// takes its own uncontended mutex so that the race detector sees the order
// SQLite's mutex gives. Page memory is off the Go heap (libc), as SQLite
// requires: each slot is SQLite's sqlite3_pcache_page (the page's and the
// extra's addresses), the slot's index, the page and the extra, carved
// from chunks that are kept until the cache is destroyed, so fetching a
// page never allocates once the cache is full.
//
// It is installed once, before SQLite initialises (the first connection
// opens it): store's init. ZHIZHI_SQLITE_PAGECACHE=sqlite keeps SQLite's
// own.

// PageCacheMode is "connection" when every SQLite connection of this
// process has its own page cache (connPageCache), or "sqlite" when SQLite's
// shared one is in use (ZHIZHI_SQLITE_PAGECACHE=sqlite, or installing
// failed).
var PageCacheMode = "sqlite"

func init() {
	if os.Getenv("ZHIZHI_SQLITE_PAGECACHE") == "sqlite" {
		return
	}
	if installPageCache() {
		PageCacheMode = "connection"
	}
}

// installPageCache hands SQLite the methods of connPageCache
// (SQLITE_CONFIG_PCACHE2). SQLite copies the table; it refuses (MISUSE)
// once initialised, and then keeps its own cache.
func installPageCache() bool {
	tls := libc.NewTLS()
	defer tls.Close()
	m := libc.Xcalloc(tls, 1, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_pcache_methods2{})))
	if m == 0 {
		return false
	}
	va := libc.Xmalloc(tls, types.Size_t(unsafe.Sizeof(uintptr(0))))
	if va == 0 {
		libc.Xfree(tls, m)
		return false
	}
	defer libc.Xfree(tls, va)
	// SQLite's own methods first: their xInit still has to run (below).
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_GETPCACHE2, libc.VaList(va, m)); rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, m)
		return false
	}
	t := (*sqlite3.Tsqlite3_pcache_methods2)(cPtr(m))
	pcache1Init, pcache1Shutdown, pcache1Arg = t.FxInit, t.FxShutdown, t.FpArg
	t.FpArg = 0
	t.FiVersion = 1
	t.FxInit = cFunc(pcInit)
	t.FxShutdown = cFunc(pcShutdown)
	t.FxCreate = cFunc(pcCreate)
	t.FxCachesize = cFunc(pcCachesize)
	t.FxPagecount = cFunc(pcPagecount)
	t.FxFetch = cFunc(pcFetch)
	t.FxUnpin = cFunc(pcUnpin)
	t.FxRekey = cFunc(pcRekey)
	t.FxTruncate = cFunc(pcTruncate)
	t.FxDestroy = cFunc(pcDestroy)
	t.FxShrink = cFunc(pcShrink)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PCACHE2, libc.VaList(va, m)); rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, m)
		return false
	}
	return true // SQLite keeps a copy of the table; m stays, it is small
}

// cFunc is a Go function as the transpiled C calls a function pointer: the
// address of its func value (modernc.org/sqlite does the same for its
// callbacks; see https://golang.org/s/go11func).
func cFunc[T any](f T) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct{ f T }{f}))
}

// goFunc is a function pointer of the transpiled C as the Go function of
// type T it points to, to be called (the inverse of cFunc).
func goFunc[T any](fn uintptr) T {
	return *(*T)(unsafe.Pointer(&struct{ uintptr }{fn}))
}

// cPtr is an address of libc's memory (off the Go heap) as a pointer.
func cPtr(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// pcSlotHead is the head of a slot: sqlite3_pcache_page (pBuf, pExtra),
// then the slot's index in its cache.
const pcSlotHead = 24

// pcNone is no slot (an end of the LRU list).
const pcNone = -1

// connPageCache is one connection's (one database's) page cache.
type connPageCache struct {
	mu        sync.Mutex
	szPage    int
	szExtra   int
	slotSize  int
	purgeable bool
	max       int // cache_size in pages (purgeable caches only)
	pct90     int // max*9/10: beyond it an easy fetch declines

	pages map[uint32]int32 // page number → slot
	// maxKey is at least the largest page number cached, and nextKey at
	// least every other one (keyed, unkeyed): pcTruncate's walk is
	// skipped when nothing lies at or beyond its limit (the writer
	// truncates to the file's size at every commit), and is one lookup
	// when only the largest does. A B-tree's balance renumbers a page to
	// a number far beyond the file's end for a moment (262,145 at 4 KiB
	// pages): with maxKey alone the next truncate walked every page.
	maxKey, nextKey uint32
	slots           []pcSlot
	free            []int32 // slots holding no page
	// The unpinned pages, most recently unpinned first.
	lruHead, lruTail int32
	lruLen           int
	chunks           []uintptr
}

type pcSlot struct {
	addr       uintptr // the slot's memory: head, page, extra
	key        uint32
	used       bool
	inLRU      bool
	prev, next int32
}

// The caches by handle (the opaque sqlite3_pcache* SQLite holds is a
// cache's index + 1). Readers of the table take no lock: it is replaced
// whole, under pcRegistry.mu, when a cache is created or destroyed.
var (
	pcTable    atomic.Pointer[[]*connPageCache]
	pcRegistry struct {
		sync.Mutex
		free []uintptr
	}
)

func pcLookup(h uintptr) *connPageCache {
	t := pcTable.Load()
	if t == nil || h == 0 || int(h) > len(*t) {
		return nil
	}
	return (*t)[h-1]
}

func pcRegister(c *connPageCache) uintptr {
	pcRegistry.Lock()
	defer pcRegistry.Unlock()
	var old []*connPageCache
	if t := pcTable.Load(); t != nil {
		old = *t
	}
	t := make([]*connPageCache, len(old), len(old)+1)
	copy(t, old)
	var h uintptr
	if n := len(pcRegistry.free); n > 0 {
		h = pcRegistry.free[n-1]
		pcRegistry.free = pcRegistry.free[:n-1]
		t[h-1] = c
	} else {
		t = append(t, c)
		h = uintptr(len(t))
	}
	pcTable.Store(&t)
	return h
}

func pcUnregister(h uintptr) {
	pcRegistry.Lock()
	defer pcRegistry.Unlock()
	old := *pcTable.Load()
	t := make([]*connPageCache, len(old))
	copy(t, old)
	t[h-1] = nil
	pcTable.Store(&t)
	pcRegistry.free = append(pcRegistry.free, h)
}

// SQLite's own page cache methods' xInit and xShutdown (and their
// argument). SQLite still uses pcache1's allocator for a few buffers of its
// own (sqlite3PageMalloc: the pager's scratch page, the WAL's), which counts
// them under a mutex that pcache1's xInit makes: without it the counts are
// updated with no lock (a data race the race detector reports). So
// connPageCache's xInit runs pcache1's first.
var pcache1Init, pcache1Shutdown, pcache1Arg uintptr

func pcInit(tls *libc.TLS, arg uintptr) int32 {
	if pcache1Init == 0 {
		return sqlite3.SQLITE_OK
	}
	return goFunc[func(*libc.TLS, uintptr) int32](pcache1Init)(tls, pcache1Arg)
}

func pcShutdown(tls *libc.TLS, arg uintptr) {
	if pcache1Shutdown != 0 {
		goFunc[func(*libc.TLS, uintptr)](pcache1Shutdown)(tls, pcache1Arg)
	}
}

func pcCreate(tls *libc.TLS, szPage, szExtra, bPurgeable int32) uintptr {
	c := &connPageCache{
		szPage:    int(szPage),
		szExtra:   int(szExtra),
		slotSize:  (pcSlotHead + int(szPage) + int(szExtra) + 15) &^ 15,
		purgeable: bPurgeable != 0,
		pages:     map[uint32]int32{},
		lruHead:   pcNone,
		lruTail:   pcNone,
	}
	return pcRegister(c)
}

func pcCachesize(tls *libc.TLS, p uintptr, n int32) {
	c := pcLookup(p)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.purgeable {
		return
	}
	c.max = max(int(n), 0)
	c.pct90 = c.max * 9 / 10
	for len(c.pages) > c.max && c.lruTail != pcNone {
		c.release(c.lruTail)
	}
}

func pcPagecount(tls *libc.TLS, p uintptr) int32 {
	c := pcLookup(p)
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return int32(len(c.pages))
}

// pcFetch returns the page's slot (its sqlite3_pcache_page), pinned, or 0:
// createFlag 0 finds only; 1 also makes a page when that is easy (the
// cache not nearly full of pinned pages); 2 always does, recycling the
// least recently unpinned page once the cache is full, as pcache1 does.
func pcFetch(tls *libc.TLS, p uintptr, key uint32, createFlag int32) uintptr {
	c := pcLookup(p)
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.pages[key]; ok {
		if c.slots[i].inLRU {
			c.unlink(i)
		}
		return c.slots[i].addr
	}
	if createFlag == 0 {
		return 0
	}
	pinned := len(c.pages) - c.lruLen
	if createFlag == 1 && c.purgeable && pinned >= c.pct90 {
		return 0
	}
	i := int32(pcNone)
	if c.purgeable && c.lruTail != pcNone && len(c.pages) >= c.max {
		i = c.lruTail
		c.unlink(i)
		delete(c.pages, c.slots[i].key)
		c.unkeyed(c.slots[i].key)
	} else {
		i = c.alloc(tls)
		if i == pcNone {
			return 0
		}
	}
	s := &c.slots[i]
	s.key = key
	s.used = true
	c.pages[key] = i
	c.keyed(key)
	// SQLite's header in the extra is new when its first pointer is null.
	*(*uintptr)(cPtr(s.addr + pcSlotHead + uintptr(c.szPage))) = 0
	return s.addr
}

// pcUnpin parks the page at the head of the LRU, or drops it when SQLite
// will hardly want it again or the cache is over its size.
func pcUnpin(tls *libc.TLS, p, pg uintptr, discard int32) {
	c := pcLookup(p)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.slotOf(pg)
	if !ok || c.slots[i].inLRU {
		return
	}
	if discard != 0 || !c.purgeable || len(c.pages) > c.max {
		c.release(i)
		return
	}
	s := &c.slots[i]
	s.inLRU = true
	s.prev = pcNone
	s.next = c.lruHead
	if c.lruHead != pcNone {
		c.slots[c.lruHead].prev = i
	} else {
		c.lruTail = i
	}
	c.lruHead = i
	c.lruLen++
}

// pcRekey files the page under a new number; a page already there (never
// pinned, SQLite guarantees) is dropped.
func pcRekey(tls *libc.TLS, p, pg uintptr, oldKey, newKey uint32) {
	c := pcLookup(p)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.slotOf(pg)
	if !ok {
		return
	}
	if j, ok := c.pages[newKey]; ok && j != i {
		c.release(j)
	}
	if c.pages[oldKey] == i {
		delete(c.pages, oldKey)
		c.unkeyed(oldKey)
	}
	c.slots[i].key = newKey
	c.pages[newKey] = i
	c.keyed(newKey)
}

// pcTruncate drops every page numbered limit or more, pinned or not. SQLite
// calls it at the end of every write transaction with the file's size (and
// at a reset with 0): like pcache1 it does nothing when no page lies at or
// beyond the limit, and looks up the numbers from the limit to the largest
// cached when they are fewer than the pages cached. Before, each call
// walked every cached page: at every commit, on the writer, up to the 16,384
// pages of its cache.
func pcTruncate(tls *libc.TLS, p uintptr, limit uint32) {
	c := pcLookup(p)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) == 0 || limit > c.maxKey {
		return
	}
	if limit > c.nextKey { // only the largest can lie beyond
		if i, ok := c.pages[c.maxKey]; ok {
			c.release(i)
		}
		c.maxKey = c.nextKey
		return
	}
	if uint64(c.maxKey-limit) < uint64(len(c.pages)) {
		for key := uint64(limit); key <= uint64(c.maxKey); key++ {
			if i, ok := c.pages[uint32(key)]; ok {
				c.release(i)
			}
		}
	} else {
		for key, i := range c.pages {
			if key >= limit {
				c.release(i)
			}
		}
	}
	c.maxKey = max(limit, 1) - 1
	c.nextKey = min(c.nextKey, c.maxKey)
}

func pcDestroy(tls *libc.TLS, p uintptr) {
	c := pcLookup(p)
	if c == nil {
		return
	}
	c.mu.Lock()
	for _, m := range c.chunks {
		libc.Xfree(tls, m)
	}
	c.chunks, c.slots, c.free, c.pages = nil, nil, nil, nil
	c.mu.Unlock()
	pcUnregister(p)
}

// pcShrink drops every unpinned page (SQLite asks when memory is short).
func pcShrink(tls *libc.TLS, p uintptr) {
	c := pcLookup(p)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lruTail != pcNone {
		c.release(c.lruTail)
	}
}

// slotOf is the slot of a page SQLite hands back, checked.
func (c *connPageCache) slotOf(pg uintptr) (int32, bool) {
	if pg == 0 {
		return 0, false
	}
	i := *(*int64)(cPtr(pg + 16))
	if i < 0 || i >= int64(len(c.slots)) || c.slots[i].addr != pg || !c.slots[i].used {
		return 0, false
	}
	return int32(i), true
}

// unlink takes slot i off the LRU (it is pinned again or recycled).
func (c *connPageCache) unlink(i int32) {
	s := &c.slots[i]
	if s.prev != pcNone {
		c.slots[s.prev].next = s.next
	} else {
		c.lruHead = s.next
	}
	if s.next != pcNone {
		c.slots[s.next].prev = s.prev
	} else {
		c.lruTail = s.prev
	}
	s.prev, s.next, s.inLRU = pcNone, pcNone, false
	c.lruLen--
}

// keyed keeps maxKey and nextKey bounds once a page is cached as key.
func (c *connPageCache) keyed(key uint32) {
	if key > c.maxKey {
		c.nextKey, c.maxKey = c.maxKey, key
	} else {
		c.nextKey = max(c.nextKey, key)
	}
}

// unkeyed lowers maxKey when the page cached as key, the largest, is gone.
func (c *connPageCache) unkeyed(key uint32) {
	if key == c.maxKey {
		c.maxKey = c.nextKey
	}
}

// release drops slot i's page and keeps the slot for another.
func (c *connPageCache) release(i int32) {
	s := &c.slots[i]
	if !s.used {
		return
	}
	if s.inLRU {
		c.unlink(i)
	}
	if j, ok := c.pages[s.key]; ok && j == i {
		delete(c.pages, s.key)
		c.unkeyed(s.key)
	}
	s.used = false
	c.free = append(c.free, i)
}

// alloc is a free slot, from a new chunk if none is left; chunks grow with
// the cache (a temporary table's cache holds a page or two).
func (c *connPageCache) alloc(tls *libc.TLS) int32 {
	if n := len(c.free); n > 0 {
		i := c.free[n-1]
		c.free = c.free[:n-1]
		return i
	}
	n := min(max(len(c.slots)/2, 4), 256)
	m := libc.Xmalloc(tls, types.Size_t(n*c.slotSize))
	if m == 0 {
		return pcNone
	}
	c.chunks = append(c.chunks, m)
	first := int32(len(c.slots))
	for k := 0; k < n; k++ {
		a := m + uintptr(k*c.slotSize)
		i := first + int32(k)
		*(*uintptr)(cPtr(a)) = a + pcSlotHead                         // pBuf
		*(*uintptr)(cPtr(a + 8)) = a + pcSlotHead + uintptr(c.szPage) // pExtra
		*(*int64)(cPtr(a + 16)) = int64(i)
		c.slots = append(c.slots, pcSlot{addr: a, prev: pcNone, next: pcNone})
		if k > 0 {
			c.free = append(c.free, i)
		}
	}
	return first
}
