package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"modernc.org/libc"
)

// TestConnPageCachePolicy drives one connection's page cache as SQLite
// does: pages found and made, pinned and unpinned, recycled least recently
// unpinned first once the cache is full, never while pinned; renumbered,
// truncated, shrunk.
func TestConnPageCachePolicy(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	const szPage, szExtra = 512, 40
	h := pcCreate(tls, szPage, szExtra, 1)
	defer pcDestroy(tls, h)
	pcCachesize(tls, h, 4)
	extra := func(pg uintptr) *uintptr { return (*uintptr)(cPtr(*(*uintptr)(cPtr(pg + 8)))) }
	buf := func(pg uintptr) *byte { return (*byte)(cPtr(*(*uintptr)(cPtr(pg)))) }
	fetch := func(key uint32, flag int32) uintptr {
		t.Helper()
		pg := pcFetch(tls, h, key, flag)
		if pg == 0 && flag == 2 {
			t.Fatalf("fetch %d: no page", key)
		}
		return pg
	}
	if pg := fetch(1, 0); pg != 0 {
		t.Fatalf("a lookup made page 1")
	}
	pages := map[uint32]uintptr{}
	for k := uint32(1); k <= 4; k++ {
		pg := fetch(k, 2)
		if *extra(pg) != 0 {
			t.Fatalf("page %d: extra not cleared", k)
		}
		*extra(pg) = uintptr(100 + k) // SQLite's header, as it would write it
		*buf(pg) = byte(k)
		pages[k] = pg
		pcUnpin(tls, h, pg, 0)
	}
	if n := pcPagecount(tls, h); n != 4 {
		t.Fatalf("page count %d, want 4", n)
	}
	// A page found again keeps its content and SQLite's header.
	if pg := fetch(2, 0); pg != pages[2] || *extra(pg) != 102 || *buf(pg) != 2 {
		t.Fatalf("page 2 found again: %x (was %x), extra %d, byte %d", pg, pages[2], *extra(pg), *buf(pg))
	} else {
		pcUnpin(tls, h, pg, 0)
	}
	// Full: a new page takes the least recently unpinned one's slot (1).
	pg5 := fetch(5, 2)
	if pg5 != pages[1] || *extra(pg5) != 0 {
		t.Fatalf("page 5: slot %x, extra %d; want page 1's slot %x, cleared", pg5, *extra(pg5), pages[1])
	}
	if fetch(1, 0) != 0 {
		t.Fatal("page 1 still cached after its slot was recycled")
	}
	if n := pcPagecount(tls, h); n != 4 {
		t.Fatalf("page count %d, want 4", n)
	}
	// Pin everything: nothing can be recycled, an easy fetch declines and
	// a forced one goes over the size; unpinned, the extra page is dropped.
	pinned := []uintptr{pg5, fetch(2, 0), fetch(3, 0), fetch(4, 0)}
	if fetch(6, 1) != 0 {
		t.Fatal("an easy fetch made a page with every page pinned")
	}
	pg6 := fetch(6, 2)
	for _, pg := range pinned {
		if pg == pg6 {
			t.Fatal("page 6 took a pinned page's slot")
		}
	}
	if n := pcPagecount(tls, h); n != 5 {
		t.Fatalf("page count %d, want 5 (one over the size)", n)
	}
	pcUnpin(tls, h, pg6, 0)
	if n := pcPagecount(tls, h); n != 4 || fetch(6, 0) != 0 {
		t.Fatalf("after unpinning the extra page: count %d, want 4, page 6 gone", n)
	}
	// Renumber 5 → 4 over an unpinned 4; discard 3.
	pcUnpin(tls, h, pinned[3], 0) // 4
	pcRekey(tls, h, pg5, 5, 4)
	if fetch(5, 0) != 0 || fetch(4, 0) != pg5 {
		t.Fatal("rekey 5 → 4")
	}
	pcUnpin(tls, h, pinned[2], 1) // 3, discarded
	if fetch(3, 0) != 0 {
		t.Fatal("a discarded page is still cached")
	}
	// Truncate drops pages at or after its limit, pinned too; shrink drops
	// the unpinned ones.
	for k := uint32(10); k < 12; k++ {
		pcUnpin(tls, h, fetch(k, 2), 0)
	}
	pcTruncate(tls, h, 11)
	if fetch(11, 0) != 0 {
		t.Fatal("truncate left a page after its limit")
	}
	if pg := fetch(10, 0); pg == 0 {
		t.Fatal("truncate dropped a page before its limit")
	} else {
		pcUnpin(tls, h, pg, 0)
	}
	pcShrink(tls, h)
	if n := pcPagecount(tls, h); n != 2 || fetch(10, 0) != 0 { // 2 and 4 are pinned
		t.Fatalf("after shrink: page count %d, want 2 (the pinned pages)", n)
	}
	pcTruncate(tls, h, 3)
	if n := pcPagecount(tls, h); n != 1 || fetch(4, 0) != 0 || fetch(2, 0) == 0 {
		t.Fatalf("after truncate at 3: page count %d, want 1 (page 2)", n)
	}
	// A truncate beyond every cached page (the writer's at each commit)
	// keeps them all; one at a page's number drops it, renumbered pages
	// included.
	pcUnpin(tls, h, fetch(7, 2), 0)
	pcTruncate(tls, h, 8)
	if fetch(7, 0) == 0 || pcPagecount(tls, h) != 2 {
		t.Fatal("a truncate beyond every page dropped one")
	}
	pcRekey(tls, h, fetch(7, 0), 7, 9)
	pcTruncate(tls, h, 9)
	if fetch(9, 0) != 0 || fetch(2, 0) == 0 || pcPagecount(tls, h) != 1 {
		t.Fatal("a truncate at a renumbered page's number kept it")
	}
	pcTruncate(tls, h, 0)
	if pcPagecount(tls, h) != 0 {
		t.Fatal("a truncate at 0 kept pages")
	}
}

// TestPageCacheKeyBounds drives a cache with random fetches, unpins,
// discards, renumberings (among them a B-tree balance's, to a number far
// beyond the file's end and back) and truncates, checked against a map of
// what it should hold: after each step maxKey bounds every page cached and
// nextKey every page but the largest, and after a balance's renumbering the
// bounds are back at the pages' own (the next commit's truncate a lookup,
// not a walk).
func TestPageCacheKeyBounds(t *testing.T) {
	t.Parallel()
	tls := libc.NewTLS()
	defer tls.Close()
	h := pcCreate(tls, 512, 40, 1)
	defer pcDestroy(tls, h)
	pcCachesize(tls, h, 64)
	c := pcLookup(h)
	const far = 262145
	rnd := rand.New(rand.NewPCG(19, 5))
	held := map[uint32]uintptr{} // pinned pages, as SQLite holds them
	check := func(step int, what string) {
		t.Helper()
		var largest uint32
		for k := range c.pages {
			largest = max(largest, k)
		}
		for k := range c.pages {
			if k > c.maxKey || (k != largest && k > c.nextKey) {
				t.Fatalf("step %d (%s): page %d cached beyond the bounds max %d, next %d", step, what, k, c.maxKey, c.nextKey)
			}
		}
		for k, pg := range held {
			if i, ok := c.pages[k]; !ok || c.slots[i].addr != pg {
				t.Fatalf("step %d (%s): pinned page %d lost", step, what, k)
			}
		}
	}
	for step := range 20000 {
		switch op := rnd.IntN(10); {
		case op < 4:
			k := uint32(1 + rnd.IntN(200))
			if _, ok := held[k]; ok {
				continue
			}
			if pg := pcFetch(tls, h, k, 2); pg != 0 {
				held[k] = pg
			}
			check(step, "fetch")
		case op < 7 && len(held) > 0:
			for k, pg := range held {
				pcUnpin(tls, h, pg, int32(rnd.IntN(2)))
				delete(held, k)
				break
			}
			check(step, "unpin")
		case op < 9 && len(held) > 0:
			// A balance: a pinned page to a number far beyond, then to
			// one no page has.
			for k, pg := range held {
				to := uint32(1 + rnd.IntN(200))
				if _, ok := held[to]; ok {
					break
				}
				pcRekey(tls, h, pg, k, far)
				delete(held, k)
				held[far] = pg
				check(step, "rekey far")
				pcRekey(tls, h, pg, far, to)
				delete(held, far)
				held[to] = pg
				check(step, "rekey back")
				if c.maxKey >= far {
					t.Fatalf("step %d: maxKey %d after the page came back from %d", step, c.maxKey, far)
				}
				break
			}
		default:
			limit := uint32(1 + rnd.IntN(240))
			pcTruncate(tls, h, limit)
			for k := range held {
				if k >= limit {
					delete(held, k) // truncated, pinned or not
				}
			}
			for k := range c.pages {
				if k >= limit {
					t.Fatalf("step %d: page %d left after a truncate at %d", step, k, limit)
				}
			}
			check(step, "truncate")
		}
	}
}

// BenchmarkPageCacheTruncate: SQLite truncates the writer's page cache to
// the file's size at the end of every write transaction; with the cache
// full (16,384 pages, the writer's cache_size) nothing lies beyond it.
// after_balance renumbers a page as a B-tree's balance does first (to
// 262,145 and back), as most of the writer's transactions under intake do.
//
//	go test ./internal/store -run '^$' -bench PageCacheTruncate
func BenchmarkPageCacheTruncate(b *testing.B) {
	for _, balance := range []bool{false, true} {
		name := "nothing_beyond"
		if balance {
			name = "after_balance"
		}
		b.Run(name, func(b *testing.B) {
			tls := libc.NewTLS()
			defer tls.Close()
			const pages = 16384
			h := pcCreate(tls, 4096, 120, 1)
			defer pcDestroy(tls, h)
			pcCachesize(tls, h, pages)
			for k := uint32(1); k <= pages; k++ {
				pg := pcFetch(tls, h, k, 2)
				if pg == 0 {
					b.Fatalf("page %d", k)
				}
				pcUnpin(tls, h, pg, 0)
			}
			for b.Loop() {
				if balance {
					pg := pcFetch(tls, h, 100, 0)
					pcRekey(tls, h, pg, 100, 262145)
					pcRekey(tls, h, pg, 262145, 100)
					pcUnpin(tls, h, pg, 0)
				}
				pcTruncate(tls, h, pages+1)
			}
			if n := pcPagecount(tls, h); n != pages {
				b.Fatalf("%d pages left, want %d", n, pages)
			}
		})
	}
}

// TestPageCacheUnderSQLite: SQLite runs on the connection page caches
// (unless ZHIZHI_SQLITE_PAGECACHE=sqlite), and a database written and read
// through caches of a few pages, with rollbacks, a temporary sort and
// readers seeing the writer's commits, reads back exactly what was
// written and passes SQLite's integrity check.
func TestPageCacheUnderSQLite(t *testing.T) {
	if os.Getenv("ZHIZHI_SQLITE_PAGECACHE") != "sqlite" && PageCacheMode != "connection" {
		t.Fatalf("page cache %q, want connection", PageCacheMode)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pc.db")
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=cache_size(8)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=cache_size(5)&_pragma=query_only(ON)")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v TEXT); CREATE INDEX t_k ON t(k)`); err != nil {
		t.Fatal(err)
	}
	row := func(i int) (string, string) {
		return fmt.Sprintf("k%07d", (i*7919)%100000), fmt.Sprintf("%0*d", 200+i%900, i)
	}
	var want, sumLen int
	for batch := 0; batch < 20; batch++ {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := batch * 200; i < batch*200+200; i++ {
			k, v := row(i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?)`, i, k, v); err != nil {
				t.Fatal(err)
			}
		}
		if batch%3 == 2 { // thrown away
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		for i := batch * 200; i < batch*200+200; i++ {
			_, v := row(i)
			want++
			sumLen += len(v)
		}
		// Readers see each commit, through caches that SQLite empties
		// when the database changed.
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var n, l int
				if err := r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(v)), 0) FROM t`).Scan(&n, &l); err != nil {
					errs <- err
					return
				}
				if n != want || l != sumLen {
					errs <- fmt.Errorf("reader: %d rows, %d bytes; want %d, %d", n, l, want, sumLen)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	// An ordered read through the index and a sort in a temporary table.
	var first, last string
	if err := r.QueryRowContext(ctx, `SELECT min(k), max(k) FROM t`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	rows, err := r.QueryContext(ctx, `SELECT k FROM t ORDER BY v, k`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != want {
		t.Fatalf("sorted read: %d rows, %v; want %d", n, err, want)
	}
	// Delete half (pages freed and renumbered by a vacuum), then check.
	if _, err := w.ExecContext(ctx, `DELETE FROM t WHERE id % 2 = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `VACUUM`); err != nil {
		t.Fatal(err)
	}
	var check string
	if err := w.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
	var left int
	if err := r.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE id % 2 = 1`).Scan(&left); err != nil || left != want/2 {
		t.Fatalf("after the delete: %d odd rows, %v; want %d", left, err, want/2)
	}
}
