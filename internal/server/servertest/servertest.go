// Package servertest opens a whole platform with the Yuzhong demo for the
// test suites that drive it over HTTP (the API, Open311, the console): a
// SQLite file in a temporary directory, or a fresh PostgreSQL database when
// ZHIZHI_TEST_POSTGRES is set, and an httptest server on its handler.
//
// The demo makes its six months of cases back from the present, so what it
// holds (which cases are open or overdue, in which street, with which words)
// depends on the day the tests run; a test must make the data it counts on
// (see Clock to run a suite as if on another day).
package servertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"time"

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
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: Clock()}
	if edit != nil {
		edit(&cfg)
	}
	p, err = server.Open(ctx, cfg)
	if err != nil {
		close()
		return nil, nil, nil, fmt.Errorf("open platform: %w", err)
	}
	undo = append(undo, func() { p.Close(context.Background()) })
	var now time.Time // the demo's present: today unless the clock is another
	if cfg.Now != nil {
		now = cfg.Now()
	}
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: cases, Seed: 1, Now: now}); err != nil {
		close()
		return nil, nil, nil, fmt.Errorf("load demo: %w", err)
	}
	srv = httptest.NewServer(p.Handler)
	undo = append(undo, srv.Close)
	return p, srv, close, nil
}

// NowEnv names the variable that runs the suites built on this package as
// if on another day, to check that no test depends on the day's demo: an
// RFC 3339 time, for example
//
//	ZHIZHI_TEST_DEMO_NOW=2027-02-08T08:00:00+08:00 go test -count=1 -p 1 ./internal/api ./internal/web
//
// The time must be in the future. Unset (CI and everyday runs), the platform
// runs on the real clock and the demo is made back from today. It is read
// by the test helpers only, never by the server.
const NowEnv = "ZHIZHI_TEST_DEMO_NOW"

var clock = sync.OnceValue(func() func() time.Time {
	v := os.Getenv(NowEnv)
	if v == "" {
		return nil
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", NowEnv, v, err))
	}
	// The clock starts at the time given when the test binary first asks
	// and runs on from there, so that waits and timeouts behave as usual.
	offset := time.Until(at)
	if offset < 0 {
		// Only a present ahead of the real one is supported: the suites
		// were checked on such days only (sessions' expiry follows the
		// platform's clock since service.Authenticate moved to it, but
		// other real-clock checks, such as cookies' and TLS's, may not).
		panic(fmt.Sprintf("%s=%q: give a time in the future", NowEnv, v))
	}
	return func() time.Time { return time.Now().Add(offset) }
})

// Clock is the platform's clock for tests: nil (the real clock, which
// server.Config takes as time.Now) unless NowEnv sets another present. A
// test that opens its own platform and loads the demo passes it as
// server.Config.Now, and Now as demo.Options.Now.
func Clock() func() time.Time { return clock() }

// Now is the demo's present for a test that loads the demo itself: the zero
// time (demo.Load takes time.Now) unless NowEnv sets another present.
func Now() time.Time {
	if c := clock(); c != nil {
		return c()
	}
	return time.Time{}
}
