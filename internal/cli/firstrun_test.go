package cli

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
)

// TestHelpExitsZero: asking a command for its flags is not a failure.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"demo", "serve", "user", "migrate", "backup"} {
		var out, errOut bytes.Buffer
		if err := Run([]string{cmd, "-h"}, &out, &errOut); err != nil {
			t.Errorf("%s -h: %v", cmd, err)
		}
		if !strings.Contains(errOut.String(), "-db") {
			t.Errorf("%s -h printed no flags: %q", cmd, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if err := Run([]string{"demo", "-h"}, &out, &errOut); err != nil || !strings.Contains(errOut.String(), "ZHIZHI_DEMO_CASES") {
		t.Errorf("demo -h: %v %q", err, errOut.String())
	}
	if err := Run([]string{"demo", "-no-such-flag"}, &out, &errOut); err == nil {
		t.Error("an unknown flag must still fail")
	}
}

// TestBusyPortFailsFast: a port in use is named at once, before the
// database is opened or the demo data loaded.
func TestBusyPortFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	var out, errOut bytes.Buffer
	start := time.Now()
	err = Run([]string{"demo", "-addr", ln.Addr().String(), "-db", db, "-data", dir}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "已被占用") || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "ZHIZHI_ADDR") {
		t.Fatalf("busy port: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("busy port took %s to report", d)
	}
	if strings.Contains(out.String(), "正在载入") {
		t.Error("demo data loaded before the port was checked")
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("database created before the port was checked: %v", err)
	}
}

// TestEveryServeFlagHasVariable: each flag of serve and demo names its
// ZHIZHI_* variable, and that variable sets it.
func TestEveryServeFlagHasVariable(t *testing.T) {
	varRE := regexp.MustCompile(`ZHIZHI_[A-Z_]+`)
	sample := map[string]string{"trusted-proxies": "10.0.0.1", "yellow-share": "0.5", "sweep": "7s", "escalate-after": "7h", "cases": "7", "devices": "7", "readings-retention": "7h", "webhook-timeout": "7s", "webhook-lease": "70s", "webhook-budget": "700", "history-retention": "700h", "gc-percent": "700", "memory-limit": "7GiB"}
	for _, demoMode := range []bool{false, true} {
		fs, _, _, _, err := serveFlags(&bytes.Buffer{}, demoMode)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		fs.VisitAll(func(f *flag.Flag) {
			n++
			v := varRE.FindString(f.Usage)
			if v == "" {
				t.Errorf("-%s names no ZHIZHI_* variable: %q", f.Name, f.Usage)
				return
			}
			val := sample[f.Name]
			if val == "" {
				val = "zz-from-env"
			}
			t.Setenv(v, val)
			again, cfg, _, _, err := serveFlags(&bytes.Buffer{}, demoMode)
			if err != nil {
				t.Errorf("%s=%s: %v", v, val, err)
				return
			}
			if f.Name == "trusted-proxies" { // a func flag prints no value
				if reflect.ValueOf(cfg.TrustedProxies).IsZero() {
					t.Errorf("%s=%s does not set -%s", v, val, f.Name)
				}
			} else if got := again.Lookup(f.Name).Value.String(); got == f.DefValue {
				t.Errorf("%s=%s does not set -%s (still %q)", v, val, f.Name, got)
			}
			os.Unsetenv(v)
		})
		if n < 10 {
			t.Errorf("only %d flags", n)
		}
	}
}

// TestStartupText: one language, aligned columns, the resident page named.
func TestStartupText(t *testing.T) {
	var b bytes.Buffer
	startup{Addr: "127.0.0.1:8080", DB: "zhizhi-demo/zhizhi.db", Demo: true, Password: "pw",
		Accounts: []demo.Account{{Username: "admin", Role: cases.RoleAdmin, Name: "系统管理员"}, {Username: "zhouchunyan", Role: cases.RoleGridWorker, Name: "周春燕"}},
		KeyName:  "演示", Key: "k123"}.write(&b)
	text := b.String()
	for _, want := range []string{"居民上报", "http://127.0.0.1:8080/r\n", "控制台", "接口文档", "数据库", "演示账号", "Ctrl+C"} {
		if !strings.Contains(text, want) {
			t.Errorf("start-up text lacks %q:\n%s", want, text)
		}
	}
	for _, english := range []string{"listening", "database:", "demo accounts", "password"} {
		if strings.Contains(text, english) {
			t.Errorf("start-up text has English %q:\n%s", english, text)
		}
	}
	// Every URL and every account's role starts in the same terminal column.
	col := func(line, sub string) int { return displayWidth(line[:strings.Index(line, sub)]) }
	urls, roles := map[int]bool{}, map[int]bool{}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.Contains(line, "http://"):
			urls[col(line, "http://")] = true
		case strings.Contains(line, cases.RoleAdmin.Label()):
			roles[col(line, cases.RoleAdmin.Label())] = true
		case strings.Contains(line, cases.RoleGridWorker.Label()):
			roles[col(line, cases.RoleGridWorker.Label())] = true
		}
	}
	if len(urls) != 1 || len(roles) != 1 {
		t.Errorf("columns not aligned (url columns %v, role columns %v):\n%s", urls, roles, text)
	}
}

// syncBuffer is a bytes.Buffer safe for a server goroutine and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServePrintsAddresses: a real start prints the addresses it listens
// on, the resident page among them, and stops when asked. It also applies
// its garbage-collector setting to the process and logs it.
func TestServePrintsAddresses(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	prevPercent, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	defer func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	}()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "z.db"), "-data", dir,
			"-gc-percent", "300", "-memory-limit", "2GiB"}, &out, &logs, false)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "按 Ctrl+C 停止") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no start-up text: %q", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`居民上报 +http://127\.0\.0\.1:\d+/r\n`).MatchString(out.String()) || strings.Contains(out.String(), ":0/") {
		t.Errorf("start-up text: %q", out.String())
	}
	if !strings.Contains(logs.String(), `setting="gc-percent 300, memory-limit 2GiB"`) {
		t.Errorf("log says nothing of the collector: %q", logs.String())
	}
	if p := debug.SetGCPercent(100); p != 300 {
		t.Errorf("GOGC in force %d, want 300", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 2<<30 {
		t.Errorf("memory limit in force %d, want 2GiB", l)
	}
}
