package server

import (
	"errors"
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"1024", 1024, ""},
		{"8GiB", 8 << 30, ""},
		{" 512MiB ", 512 << 20, ""},
		{"512 MiB", 512 << 20, ""},
		{"3KiB", 3 << 10, ""},
		{"2TiB", 2 << 40, ""},
		{"100B", 100, ""},
		{"", 0, "not a size"},
		{"GiB", 0, "not a size"},
		{"8GB", 0, "not a size"},
		{"8g", 0, "not a size"},
		{"-1GiB", 0, "not a size"},
		{"1.5GiB", 0, "not a size"},
		{"9000000TiB", 0, "too large"},
	} {
		got, err := ParseSize(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSize(%q) = %d, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 12 << 30: "12GiB", 1536 << 20: "1536MiB", 1000: "1000B", 3 << 40: "3TiB", 5 << 10: "5KiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzParseSize: whatever reads as a size writes back as one that reads
// the same.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "8GiB", "512MiB", "1", "9223372036854775807B", "8388607TiB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
		back, err := ParseSize(FormatSize(n))
		if err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d, written %q, read back %d, %v", s, n, FormatSize(n), back, err)
		}
	})
}

func TestGCCheck(t *testing.T) {
	t.Parallel()
	for p, ok := range map[int]bool{400: true, 100: true, 25: true, 10000: true, 24: false, 0: false, -1: false, 10001: false} {
		if got := CheckPercent(p); (got == "") != ok {
			t.Errorf("CheckPercent(%d) = %q", p, got)
		}
	}
	for n, ok := range map[int64]bool{0: true, 12 << 30: true, MinMemoryLimit: true, MinMemoryLimit - 1: false, 100 << 20: false, 1: false} {
		if got := CheckLimit(n); (got == "") != ok {
			t.Errorf("CheckLimit(%d) = %q", n, got)
		}
	}
}

func TestHalfMemory(t *testing.T) {
	t.Parallel()
	meminfo := "MemTotal:       24683744 kB\nMemFree:        21000000 kB\n"
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(name string) ([]byte, error) {
			if s, ok := m[name]; ok {
				return []byte(s), nil
			}
			return nil, errors.New("no such file")
		}
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"machine", map[string]string{"/proc/meminfo": meminfo}, (24683744 << 10 / 2) &^ (1<<20 - 1)},
		{"cgroup lower", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "4294967296\n"}, 2 << 30},
		{"cgroup unlimited", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, (24683744 << 10 / 2) &^ (1<<20 - 1)},
		{"cgroup higher", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "99999999999999\n"}, (24683744 << 10 / 2) &^ (1<<20 - 1)},
		{"cgroup only", map[string]string{"/sys/fs/cgroup/memory.max": "1073741824"}, 512 << 20},
		{"small", map[string]string{"/sys/fs/cgroup/memory.max": "104857600"}, MinMemoryLimit},
		{"nothing", map[string]string{}, 0},
		{"unreadable meminfo", map[string]string{"/proc/meminfo": "MemTotal: lots\n"}, 0},
	} {
		if got := halfMemory(files(tc.files)); got != tc.want {
			t.Errorf("%s: halfMemory = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestGCApply sets the process's collector, so it runs alone (not
// parallel) and puts back what it found.
func TestGCApply(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	defer func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	}()
	none := func(string) string { return "" }

	got := GC{Percent: 400, Limit: 1 << 30}.Apply(none)
	if want := "gc-percent 400, memory-limit 1GiB"; got != want {
		t.Errorf("Apply = %q, want %q", got, want)
	}
	if p := debug.SetGCPercent(100); p != 400 {
		t.Errorf("GOGC in force %d, want 400", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 1<<30 {
		t.Errorf("memory limit in force %d, want %d", l, 1<<30)
	}

	// No limit: the runtime's own "none".
	GC{Percent: 200}.Apply(none)
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("memory limit in force %d, want none", l)
	}

	// Go's own variables win: nothing is changed, and the log says why.
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(3 << 30)
	env := map[string]string{"GOGC": "150", "GOMEMLIMIT": "3GiB"}
	got = GC{Percent: 400, Limit: 1 << 30}.Apply(func(k string) string { return env[k] })
	if want := "gc-percent GOGC=150, memory-limit GOMEMLIMIT=3GiB"; got != want {
		t.Errorf("Apply with GOGC and GOMEMLIMIT = %q, want %q", got, want)
	}
	if p := debug.SetGCPercent(100); p != 150 {
		t.Errorf("GOGC in force %d, want the variable's 150", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 3<<30 {
		t.Errorf("memory limit in force %d, want the variable's", l)
	}
}
