package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchUnknownDistrict: `bench chongqing -district` with a code that is
// not one of the city's districts is refused before the database is created.
func TestBenchUnknownDistrict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cq.db")
	var out, errOut bytes.Buffer
	err := Run([]string{"bench", "chongqing", "-db", path, "-district", "500199", "-cases", "10"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "-district") || !strings.Contains(err.Error(), "500199") {
		t.Fatalf("unknown district: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused bench created the database: %v", err)
	}
}
