package service_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"zhizhi/internal/demo"
	"zhizhi/internal/server"
)

// openNode opens a node of the platform on dsn with its own data
// directory, its loops not running. Nodes with data directories of their
// own share the secret key through configuration (docs/operations.md), as
// the several-node tests' nodes do. The caller closes it.
func openNode(t *testing.T, dsn, dir string) *server.Platform {
	t.Helper()
	p, err := server.Open(context.Background(), server.Config{DB: dsn, DataDir: dir, DefaultCenter: demo.District,
		SecretKey: strings.Repeat("5a", 32), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
