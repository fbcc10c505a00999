package server

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// GC is the garbage collector's setting of a node's process: Percent is
// GOGC (how far the heap may grow beyond what the last collection left
// before the next one starts) and Limit the soft memory limit, bytes (0:
// none), the runtime's GOMEMLIMIT. It belongs to the process, not to one
// Platform, so Open does not apply it: the command that starts a node does
// (Apply), and the benchmarks do the same for theirs.
//
// A node's live heap is small (the cases live in the database, and
// SQLite's page caches outside the Go heap), so letting the heap grow to
// five times that before each collection costs little memory, and the
// collector runs about a quarter as often as at GOGC 100, on the CPU that
// intake's writer shares (docs/benchmarks-journal.md, section 1, "The collector's
// setting"). The limit keeps a node whose live heap does grow (a large
// import) from growing five times as far: near it the collector runs as
// often as it must.
type GC struct {
	Percent int
	Limit   int64
}

// DefaultGCPercent is GC.Percent unless configured.
const DefaultGCPercent = 400

// MinMemoryLimit is the least soft memory limit a node may be given
// (other than none): below it the collector would run all the time.
const MinMemoryLimit = 256 << 20

// DefaultGC is the setting unless configured: DefaultGCPercent, and a soft
// limit of half the memory this process may use (the machine's, or its
// cgroup's when lower; none when neither can be read).
func DefaultGC() GC {
	return GC{Percent: DefaultGCPercent, Limit: halfMemory(os.ReadFile)}
}

// halfMemory is half of the lower of MemTotal (/proc/meminfo) and the
// cgroup's memory.max, in whole MiB and at least MinMemoryLimit; 0 when
// neither is known.
func halfMemory(read func(string) ([]byte, error)) int64 {
	var total int64
	if b, err := read("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 && kb < math.MaxInt64>>10 {
					total = kb << 10
				}
			}
		}
	}
	if b, err := read("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	if total == 0 {
		return 0
	}
	return max(total/2&^(1<<20-1), MinMemoryLimit) // whole MiB, as the flag shows it
}

// CheckPercent returns why p cannot be GC.Percent, or "".
func CheckPercent(p int) string {
	if p < 25 || p > 10000 {
		return "must be between 25 and 10000"
	}
	return ""
}

// CheckLimit returns why n cannot be GC.Limit, or "".
func CheckLimit(n int64) string {
	if n != 0 && n < MinMemoryLimit {
		return "must be 0 (none) or at least " + FormatSize(MinMemoryLimit)
	}
	return ""
}

// Apply sets the runtime's collector to g, except where Go's own variables
// are set (getenv("GOGC"), getenv("GOMEMLIMIT")): the runtime has read
// those at start, and they win. It returns what is in force, for the
// start-up log.
func (g GC) Apply(getenv func(string) string) string {
	var percent, limit string
	if v := getenv("GOGC"); v != "" {
		percent = "GOGC=" + v
	} else {
		debug.SetGCPercent(g.Percent)
		percent = strconv.Itoa(g.Percent)
	}
	if v := getenv("GOMEMLIMIT"); v != "" {
		limit = "GOMEMLIMIT=" + v
	} else {
		n := g.Limit
		if n == 0 {
			n = math.MaxInt64 // the runtime's "no limit"
		}
		debug.SetMemoryLimit(n)
		limit = FormatSize(g.Limit)
	}
	return "gc-percent " + percent + ", memory-limit " + limit
}

// sizeUnits are the units ParseSize reads, as GOMEMLIMIT writes them.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// ParseSize reads a size as GOMEMLIMIT does: a whole number of bytes with
// an optional unit B, KiB, MiB, GiB or TiB ("8GiB", "512MiB", "0").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	shift := uint(0)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, shift = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: not a size (a whole number of bytes, or with B, KiB, MiB, GiB or TiB, e.g. 8GiB)", s)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return n << shift, nil
}

// FormatSize writes n in the largest unit that divides it ("12GiB",
// "1536MiB", "0"); ParseSize reads it back.
func FormatSize(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, u := range sizeUnits {
		if u.shift > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
