// Package brokertest starts a private Mosquitto for tests and benchmarks,
// configured with the repository's sensor-feed configuration
// (deploy/mosquitto/zhizhi.conf) on a free port of 127.0.0.1, so figures
// and results do not depend on how the system's broker is configured (and
// the system's broker is never reconfigured).
package brokertest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary is the mosquitto binary to run: $ZHIZHI_MOSQUITTO, else
// mosquitto on PATH, else /usr/sbin/mosquitto; "" when there is none.
func Binary() string {
	if p := os.Getenv("ZHIZHI_MOSQUITTO"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// ConfigPath is the repository's broker configuration for sensor feeds.
func ConfigPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "mosquitto", "zhizhi.conf")
}

// Broker is a running private Mosquitto.
type Broker struct {
	Addr string // tcp://127.0.0.1:PORT
	Log  string // the broker's log file
	cmd  *exec.Cmd
}

// Start runs mosquitto -c (the repository's configuration, with its own
// listener, persistence directory and log, anonymous access) until the
// test ends. It skips the test when there is no mosquitto binary.
func Start(t testing.TB) *Broker {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("no mosquitto binary (set ZHIZHI_MOSQUITTO)")
	}
	conf, err := os.ReadFile(ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Run as root, mosquitto drops to its own user, which must write here.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	b := &Broker{Addr: fmt.Sprintf("tcp://127.0.0.1:%d", port), Log: filepath.Join(dir, "mosquitto.log")}
	var out strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		line := sc.Text()
		switch f := strings.Fields(line); {
		case len(f) == 0:
		case f[0] == "listener":
			line = fmt.Sprintf("listener %d 127.0.0.1", port)
		case f[0] == "allow_anonymous":
			line = "allow_anonymous true"
		case f[0] == "password_file", f[0] == "pid_file":
			line = ""
		case f[0] == "persistence_location":
			line = "persistence_location " + dir + "/"
		case f[0] == "log_dest":
			line = "log_dest file " + b.Log
		}
		out.WriteString(line + "\n")
	}
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(bin, "-c", path)
	var stderr bytes.Buffer
	b.cmd.Stderr = &stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	t.Cleanup(func() {
		b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(b.Log)
			t.Fatalf("mosquitto exited: %v\n%s%s", err, stderr.String(), log)
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto did not listen on %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Drops counts the broker's log lines saying it dropped messages for a
// client (its queue was full).
func (b *Broker) Drops() int {
	data, _ := os.ReadFile(b.Log)
	return strings.Count(string(data), "are being dropped")
}
