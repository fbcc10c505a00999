package service_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/server"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
)

// gridWorker is the demo's grid worker 周春燕 (新影村, 石油路街道, whose
// commander is syl_zhihui) and a point in her first grid, where tests
// report from.
func gridWorker(t *testing.T, db *store.DB) (store.Account, geo.Point) {
	t.Helper()
	ctx := context.Background()
	gw, err := db.AccountByUsername(ctx, "zhouchunyan")
	if err != nil {
		t.Fatal(err)
	}
	grids, err := db.Regions(ctx, store.RegionFilter{Level: "grid", Under: gw.RegionPath, WithShape: true})
	if err != nil || len(grids) == 0 {
		t.Fatal("no grid", err)
	}
	return gw, grids[0].Shape.Centroid()
}

// demoNode opens one node on a fresh database (SQLite, or PostgreSQL with
// ZHIZHI_TEST_POSTGRES) with a demo of one case (seed 1), closed and
// dropped at the test's end; its loops are not running.
func demoNode(t *testing.T) *server.Platform {
	t.Helper()
	dir := t.TempDir()
	dsn, drop, err := storetest.DSN(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	p := openNode(t, dsn, dir)
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := demo.Load(context.Background(), p.Service, demo.Options{Cases: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return p
}

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

// twoNodes opens two nodes on a fresh PostgreSQL database (the test is
// skipped without one): A with the small demo loaded (and settle, if not
// nil, run on it), then B with its listener of the other nodes' changes
// running. Both are closed and the database dropped when the test ends.
func twoNodes(t *testing.T, settle func(*testing.T, *server.Platform)) (a, b *server.Platform) {
	t.Helper()
	if !storetest.Postgres() {
		t.Skip(storetest.Env + " not set")
	}
	dsn, drop, err := storetest.DSN("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	open := func() *server.Platform {
		p := openNode(t, dsn, t.TempDir())
		t.Cleanup(func() { p.Close(context.Background()) })
		return p
	}
	a = open()
	if err := demo.Load(context.Background(), a.Service, demo.Options{Cases: 3, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if settle != nil {
		settle(t, a)
	}
	b = open()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go b.Service.RunListener(ctx)
	return a, b
}
