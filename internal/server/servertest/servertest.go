// Package servertest opens a whole platform with the Yuzhong demo for the
// test suites that drive it over HTTP (the API, Open311, the console): a
// SQLite file in a temporary directory, or a fresh PostgreSQL database when
// ZHIZHI_TEST_POSTGRES is set, and an httptest server on its handler.
package servertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"

	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/store/storetest"
)

// Demo opens the platform, loads the demo with the given number of
// historical cases and serves it. close releases everything (the server,
// the platform, the database and the directory).
func Demo(name string, cases int) (p *server.Platform, srv *httptest.Server, close func(), err error) {
	return DemoWith(name, cases, nil)
}

// DemoWith is Demo with the platform's configuration changed by edit first
// (for example tighter limits of the anonymous doors).
func DemoWith(name string, cases int, edit func(*server.Config)) (p *server.Platform, srv *httptest.Server, close func(), err error) {
	dir, err := os.MkdirTemp("", "zhizhi-"+name+"-test-")
	if err != nil {
		return nil, nil, nil, err
	}
	var undo []func()
	close = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	undo = append(undo, func() { os.RemoveAll(dir) })
	dsn, dropDB, err := storetest.DSN(dir)
	if err != nil {
		close()
		return nil, nil, nil, fmt.Errorf("test database: %w", err)
	}
	undo = append(undo, dropDB)
	ctx := context.Background()
	cfg := server.Config{DB: dsn, DataDir: dir, DefaultCenter: demo.District,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(&cfg)
	}
	p, err = server.Open(ctx, cfg)
	if err != nil {
		close()
		return nil, nil, nil, fmt.Errorf("open platform: %w", err)
	}
	undo = append(undo, func() { p.Close(context.Background()) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: cases, Seed: 1}); err != nil {
		close()
		return nil, nil, nil, fmt.Errorf("load demo: %w", err)
	}
	srv = httptest.NewServer(p.Handler)
	undo = append(undo, srv.Close)
	return p, srv, close, nil
}
