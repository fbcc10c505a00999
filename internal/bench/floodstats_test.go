package bench

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"zhizhi/internal/store"
)

// Where a phase's time went (issue 19, PostgreSQL right after a flood):
// what the machine, this process and PostgreSQL did while the phase's
// listings ran. Read before and after each phase of BenchmarkScaleFlood and
// printed with it.
//
//   - disk: reads and writes of the machine's disks (/proc/diskstats), MB;
//   - cpu: the machine's busy share of its cores (/proc/stat), and this
//     process's own CPU (the node and the benchmark's one client; the
//     listings run one at a time, so more than the listings' share is the
//     node's background work);
//   - PostgreSQL (PostgreSQL only): buffer reads and hits of the cases
//     table and its indexes (pg_statio_user_tables; a read is a block
//     PostgreSQL did not hold in shared_buffers: from the OS cache or the
//     disk), rows fetched from the heap by index scans (pg_stat_user_tables
//     idx_tup_fetch: an index-only scan fetches the rows of pages not
//     marked all-visible), buffers written by backends and the checkpointer
//     (pg_stat_bgwriter), checkpoints;
//   - activity: what else PostgreSQL was doing, sampled every 100 ms
//     (pg_stat_activity: other sessions' statements in this database, the
//     checkpointer's and autovacuum's waits), as the share of samples.
//
// The disk, CPU and bgwriter figures are the machine's and the server's:
// other databases' work shows in them.
//
// PostgreSQL's counters reach the statistics views when a session goes idle,
// at most once a second: the snapshot after a phase waits 1.5 s, and the
// one before it may still miss the flood's last second.
type phaseStats struct {
	at                    time.Time
	diskRead, diskWritten float64 // MB
	cpuBusy, cpuAll       uint64  // jiffies
	self                  time.Duration
	pg                    bool
	heapRead, heapHit     int64
	idxRead, idxHit       int64
	tupFetch              int64
	bufBackend, bufCkpt   int64
	bufClean, checkpoints int64
	activity              map[string]int
	samples               int
	stopSampling          func()
	mu                    sync.Mutex
}

func takePhaseStats(ctx context.Context, db *store.DB) *phaseStats {
	s := &phaseStats{at: time.Now(), activity: map[string]int{}}
	s.diskRead, s.diskWritten = diskMB()
	s.cpuBusy, s.cpuAll = cpuJiffies()
	s.self = selfCPU()
	if db.Dialect != store.Postgres {
		return s
	}
	s.pg = true
	_ = db.Raw().QueryRowContext(ctx, `SELECT coalesce(heap_blks_read, 0), coalesce(heap_blks_hit, 0), coalesce(idx_blks_read, 0), coalesce(idx_blks_hit, 0),
		(SELECT coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relid = 'cases'::regclass),
		(SELECT buffers_backend FROM pg_stat_bgwriter), (SELECT buffers_checkpoint FROM pg_stat_bgwriter),
		(SELECT buffers_clean FROM pg_stat_bgwriter), (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)
		FROM pg_statio_user_tables WHERE relid = 'cases'::regclass`).Scan(&s.heapRead, &s.heapHit, &s.idxRead, &s.idxHit,
		&s.tupFetch, &s.bufBackend, &s.bufCkpt, &s.bufClean, &s.checkpoints)
	return s
}

// pgFrom takes PostgreSQL's counters from a later snapshot.
func (s *phaseStats) pgFrom(l *phaseStats) {
	s.heapRead, s.heapHit, s.idxRead, s.idxHit, s.tupFetch = l.heapRead, l.heapHit, l.idxRead, l.idxHit, l.tupFetch
	s.bufBackend, s.bufCkpt, s.bufClean, s.checkpoints = l.bufBackend, l.bufCkpt, l.bufClean, l.checkpoints
}

// sample records what else PostgreSQL does until stopped.
func (s *phaseStats) sample(ctx context.Context, db *store.DB) {
	if !s.pg {
		s.stopSampling = func() {}
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s.stopSampling = func() { cancel(); <-done }
	conn, err := db.Raw().Conn(ctx)
	if err != nil {
		close(done)
		return
	}
	go func() {
		defer close(done)
		defer conn.Close()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rows, err := conn.QueryContext(ctx, `SELECT backend_type, coalesce(wait_event, ''), coalesce(left(regexp_replace(query, '\s+', ' ', 'g'), 48), '')
				FROM pg_stat_activity WHERE pid <> pg_backend_pid()
				AND (state = 'active' AND datname = current_database() OR backend_type NOT IN ('client backend', 'background worker'))`)
			if err != nil {
				continue
			}
			seen := map[string]bool{}
			for rows.Next() {
				var kind, wait, q string
				if rows.Scan(&kind, &wait, &q) != nil {
					continue
				}
				label := kind
				switch {
				case kind == "client backend" && listingStatement(q):
					continue // the phase's own listing
				case kind == "client backend":
					label = "session: " + q
				case wait == "" || kind == "checkpointer" && wait == "CheckpointerMain" ||
					kind == "background writer" && wait == "BgWriterHibernate" || strings.HasSuffix(wait, "Main"):
					continue // idle
				default:
					label = kind + ": " + wait
				}
				seen[label] = true
			}
			rows.Close()
			s.mu.Lock()
			s.samples++
			for l := range seen {
				s.activity[l]++
			}
			s.mu.Unlock()
		}
	}()
}

// listingStatement reports whether q is one of the listings' statements.
func listingStatement(q string) bool {
	for _, p := range []string{"SELECT doc FROM cases", "SELECT item,", "SELECT count(*) FROM (SELECT id"} {
		if strings.HasPrefix(q, p) {
			return true
		}
	}
	return false
}

// describe is what happened between s and the later snapshot e, the phase
// having spent busy in its listings.
func (s *phaseStats) describe(e *phaseStats, busy time.Duration) string {
	wall := e.at.Sub(s.at)
	var b strings.Builder
	fmt.Fprintf(&b, "    disk read %.0f MB, written %.0f MB; machine CPU busy %.0f%%; this process %.1f s CPU in %.1f s (listings %.1f s)",
		e.diskRead-s.diskRead, e.diskWritten-s.diskWritten,
		100*float64(e.cpuBusy-s.cpuBusy)/float64(max(1, e.cpuAll-s.cpuAll)),
		(e.self - s.self).Seconds(), wall.Seconds(), busy.Seconds())
	if s.pg {
		fmt.Fprintf(&b, "\n    cases: heap blocks read %d / hit %d, index blocks read %d / hit %d, heap rows fetched by index scans %d; buffers written by backends %d, checkpointer %d, bgwriter %d; checkpoints %d",
			e.heapRead-s.heapRead, e.heapHit-s.heapHit, e.idxRead-s.idxRead, e.idxHit-s.idxHit, e.tupFetch-s.tupFetch,
			e.bufBackend-s.bufBackend, e.bufCkpt-s.bufCkpt, e.bufClean-s.bufClean, e.checkpoints-s.checkpoints)
		s.mu.Lock()
		type kv struct {
			k string
			n int
		}
		var acts []kv
		for k, n := range s.activity {
			acts = append(acts, kv{k, n})
		}
		sort.Slice(acts, func(i, j int) bool { return acts[i].n > acts[j].n })
		fmt.Fprintf(&b, "\n    besides the listings, in %d samples:", s.samples)
		if len(acts) == 0 {
			b.WriteString(" nothing")
		}
		for i, a := range acts {
			if i == 8 {
				break
			}
			fmt.Fprintf(&b, "\n      %3.0f%%  %s", 100*float64(a.n)/float64(max(1, s.samples)), a.k)
		}
		s.mu.Unlock()
	}
	return b.String()
}

// diskMB sums the reads and writes of the machine's whole disks.
func diskMB() (read, written float64) {
	raw, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		name := f[2]
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "dm-") {
			continue
		}
		// whole disks only: vda, sda, nvme0n1 (not vda1, nvme0n1p1)
		if last := name[len(name)-1]; last >= '0' && last <= '9' && !strings.HasPrefix(name, "nvme") ||
			strings.HasPrefix(name, "nvme") && strings.Contains(name[4:], "p") {
			continue
		}
		r, _ := strconv.ParseFloat(f[5], 64)
		w, _ := strconv.ParseFloat(f[9], 64)
		read += r * 512 / 1e6
		written += w * 512 / 1e6
	}
	return read, written
}

// cpuJiffies is the machine's busy and total CPU time (/proc/stat).
func cpuJiffies() (busy, all uint64) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		all += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, all
}

// selfCPU is this process's user and system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
