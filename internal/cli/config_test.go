package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestMalformedConfiguration: a ZHIZHI_* variable that does not parse, or
// a value that makes no sense, stops start-up with the variable or flag
// named, before anything opens; nothing falls back to a default silently.
func TestMalformedConfiguration(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "z.db")
	for _, tc := range []struct {
		env, value, want string
	}{
		{"ZHIZHI_SWEEP", "fifteen seconds", "ZHIZHI_SWEEP"},
		{"ZHIZHI_YELLOW_SHARE", "80%", "ZHIZHI_YELLOW_SHARE"},
		{"ZHIZHI_ESCALATE_AFTER", "1 day", "ZHIZHI_ESCALATE_AFTER"},
		{"ZHIZHI_SWEEP", "-5s", "ZHIZHI_SWEEP"},
		{"ZHIZHI_YELLOW_SHARE", "1.5", "ZHIZHI_YELLOW_SHARE"},
		{"ZHIZHI_ESCALATE_AFTER", "-1h", "ZHIZHI_ESCALATE_AFTER"},
		{"ZHIZHI_TRUSTED_PROXIES", "proxy.local", "ZHIZHI_TRUSTED_PROXIES"},
		{"ZHIZHI_METRICS_TOKEN", "short", "ZHIZHI_METRICS_TOKEN"},
		{"ZHIZHI_METRICS_TOKEN", "a token with spaces in it", "ZHIZHI_METRICS_TOKEN"},
		// The default timeout is 10 s: a lease must outlast two attempts.
		{"ZHIZHI_WEBHOOK_LEASE", "20s", "ZHIZHI_WEBHOOK_LEASE"},
		{"ZHIZHI_WEBHOOK_BUDGET", "fast", "ZHIZHI_WEBHOOK_BUDGET"},
		{"ZHIZHI_WEBHOOK_BUDGET", "50", "ZHIZHI_WEBHOOK_BUDGET"},
		{"ZHIZHI_WEBHOOK_BUDGET", "-1", "ZHIZHI_WEBHOOK_BUDGET"},
		{"ZHIZHI_GC_PERCENT", "lots", "ZHIZHI_GC_PERCENT"},
		{"ZHIZHI_GC_PERCENT", "10", "ZHIZHI_GC_PERCENT"},
		{"ZHIZHI_GC_PERCENT", "-1", "ZHIZHI_GC_PERCENT"},
		{"ZHIZHI_MEMORY_LIMIT", "8GB", "ZHIZHI_MEMORY_LIMIT"},
		{"ZHIZHI_MEMORY_LIMIT", "100MiB", "ZHIZHI_MEMORY_LIMIT"},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			var out, errOut bytes.Buffer
			err := Run([]string{"serve", "-db", db, "-data", dir, "-addr", "127.0.0.1:0"}, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve with %s=%q: %v", tc.env, tc.value, err)
			}
		})
	}
	// The same for a flag's own bad value (flag names it).
	var out, errOut bytes.Buffer
	if err := Run([]string{"serve", "-db", db, "-sweep", "0s"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "-sweep") {
		t.Fatalf("-sweep 0s: %v", err)
	}
}
