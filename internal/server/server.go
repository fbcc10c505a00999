// Package server wires the platform together: database, service, API,
// sweeper and HTTP server, and shuts them down in one place, in order.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"zhizhi/internal/api"
	"zhizhi/internal/clientip"
	"zhizhi/internal/ingest"
	"zhizhi/internal/open311"
	"zhizhi/internal/seal"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/web"
)

// Config is the platform's configuration, from flags and ZHIZHI_* variables.
type Config struct {
	Addr          string // listen address, e.g. 127.0.0.1:8080
	DB            string // SQLite path or postgres:// URL
	DataDir       string // photos live under DataDir/photos unless PhotoDir is set
	PhotoDir      string
	DefaultCenter string        // path for reports that fall in no grid
	SweepEvery    time.Duration // sweeper interval
	RollEvery     time.Duration // rollups interval (0: SweepEvery; < 0: this node does not roll)
	// AnalyzeEvery: the writer refreshes the planner's statistics after
	// this many committed writes (0: the store's default, 20,000; < 0:
	// never; on PostgreSQL autovacuum does it too, migration 28).
	AnalyzeEvery     int
	EscalateAfter    time.Duration      // red this long → escalate
	YellowShare      float64            // share of a limit after which a clock turns yellow (default 0.8)
	Tiles            string             // base-map tile URL template for the console's maps ("" = our shapes only)
	TilesAttribution string             // credit shown for the tiles
	TrustedProxies   clientip.Trusted   // reverse proxies whose X-Forwarded-For is believed
	Doors            service.DoorLimits // the anonymous doors' thresholds (zero fields: defaults)
	Logger           *slog.Logger
	Now              func() time.Time // the service's clock, for tests and benchmarks (nil: time.Now)
	MetricsToken     string           // bearer token for /metrics; empty: loopback clients only
	// SecretKey seals secrets at rest (webhook secrets, the SMS gateway's
	// credentials): 32 bytes as hex or base64; empty: the key file
	// DataDir/secret.key, made (0600) on first start (internal/seal).
	SecretKey string
	Listener  net.Listener  // if set, Start serves on it instead of listening on Addr
	MQTT      ingest.Config // sensor readings over MQTT; Broker "" = off
	// ReadingsRetention is how long raw sensor readings are kept (0: 7
	// days); minute aggregates are kept 30 days, hour aggregates 2 years.
	ReadingsRetention time.Duration
	// HistoryRetention is how long read notifications, finished
	// notification deliveries and webhook delivery log entries are kept
	// (0: 90 days).
	HistoryRetention time.Duration
	// Webhooks tunes this node's webhook delivery loop (zero: defaults;
	// docs/webhooks.md). Off stops this node from delivering.
	Webhooks    service.WebhookSettings
	WebhooksOff bool
	// GC is the process's garbage-collector setting (gc.go). Open does not
	// apply it: it is the process's, and a process may run several
	// platforms (the tests); the command that starts the node does.
	GC GC
}

// Platform is a running zhizhi node.
type Platform struct {
	DB       *store.DB
	Service  *service.Service
	Handler  http.Handler
	cfg      Config
	listener net.Listener
	http     *http.Server
	cancel   context.CancelFunc
	sweepers chan struct{} // closed when the sweeper and the listener have stopped
}

// Open opens the database and builds the service and HTTP handler; it does
// not listen yet.
func Open(ctx context.Context, cfg Config) (*Platform, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PhotoDir == "" {
		cfg.PhotoDir = filepath.Join(cfg.DataDir, "photos")
	}
	if cfg.YellowShare != 0 && (cfg.YellowShare <= 0 || cfg.YellowShare >= 1) {
		return nil, fmt.Errorf("yellow share %v: must be between 0 and 1", cfg.YellowShare)
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 15 * time.Second
	}
	key, made, err := seal.LoadKey(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if made {
		cfg.Logger.Info("secret key: made a key file (keep it with the backups; every node needs the same key)", "path", filepath.Join(cfg.DataDir, seal.KeyFile))
	}
	db, err := store.Open(ctx, cfg.DB, store.Options{AnalyzeEvery: cfg.AnalyzeEvery})
	if err != nil {
		return nil, err
	}
	if w, err := db.SearchWarning(ctx); err != nil {
		db.Close()
		return nil, err
	} else if w != "" {
		cfg.Logger.Warn("full-text search", "problem", w)
	}
	svc, err := service.New(ctx, db, service.Config{
		PhotoDir: cfg.PhotoDir, DefaultCenter: cfg.DefaultCenter, EscalateAfter: cfg.EscalateAfter, YellowShare: cfg.YellowShare, Logger: cfg.Logger,
		TrustedProxies:   cfg.TrustedProxies,
		Now:              cfg.Now,
		Doors:            cfg.Doors,
		SecretKey:        key,
		HistoryRetention: cfg.HistoryRetention,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	api.New(svc, cfg.Logger).Register(mux)
	open311.New(svc, open311.Options{Logger: cfg.Logger}).Register(mux)
	console := web.New(svc, cfg.Logger)
	console.SetTiles(cfg.Tiles, cfg.TilesAttribution)
	mux.Handle("/", console)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context(), db); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	m := newMetrics(db, svc)
	mux.Handle("GET /metrics", m.handler(cfg.MetricsToken, cfg.TrustedProxies))
	return &Platform{DB: db, Service: svc, Handler: m.instrument(mux), cfg: cfg}, nil
}

// ready reports whether the node can serve: the database answers within 2 s
// and its schema is the one this build migrates to (another node may be
// migrating it, or it is newer than this build).
func ready(ctx context.Context, db *store.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.Ping(ctx); err != nil {
		return errors.New("database unavailable")
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return errors.New("database unavailable")
	}
	if v != store.Version() {
		return fmt.Errorf("schema version %d, this build needs %d", v, store.Version())
	}
	return nil
}

// Start listens and serves in the background and starts the sweeper.
func (p *Platform) Start() error {
	ln := p.cfg.Listener
	var err error
	if ln == nil {
		if ln, err = net.Listen("tcp", p.cfg.Addr); err != nil {
			return fmt.Errorf("listen %s: %w", p.cfg.Addr, err)
		}
	}
	// Sensor readings over MQTT, when a broker is named: connected before
	// anything else starts, so a broker that cannot be reached stops the
	// start cleanly.
	var mq *ingest.MQTT
	if p.cfg.MQTT.Broker != "" {
		cfg := p.cfg.MQTT
		if cfg.Logger == nil {
			cfg.Logger = p.cfg.Logger
		}
		if mq, err = ingest.Start(context.Background(), cfg, p.Service); err != nil {
			ln.Close()
			return err
		}
	}
	p.listener = ln
	// Long-lived streams (server-sent events) end when shutdown begins, so
	// Shutdown does not wait for them.
	base, stopStreams := context.WithCancel(context.Background())
	p.http = &http.Server{Handler: p.Handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base }}
	p.http.RegisterOnShutdown(stopStreams)
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.sweepers = make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(4)
	go func() {
		defer bg.Done()
		p.Service.RunSweeper(ctx, p.cfg.SweepEvery)
	}()
	go func() {
		// Notifications: fan-out and the push and SMS deliveries
		// (service/notify.go), apart from the sweeper so a slow channel
		// never holds up the clocks.
		defer bg.Done()
		p.Service.RunNotifier(ctx, p.cfg.SweepEvery)
	}()
	go func() {
		defer bg.Done()
		if p.cfg.RollEvery < 0 {
			return
		}
		p.Service.RunRollups(ctx, cmp.Or(p.cfg.RollEvery, p.cfg.SweepEvery))
	}()
	go func() {
		// Other nodes' case changes, for this node's live subscribers
		// (PostgreSQL LISTEN/NOTIFY; nothing to do on SQLite).
		defer bg.Done()
		p.Service.RunListener(ctx)
	}()
	if mq != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			<-ctx.Done()
			mq.Stop()
		}()
	}
	if !p.cfg.WebhooksOff {
		bg.Add(1)
		go func() {
			// The webhook outbox's deliveries (docs/webhooks.md).
			defer bg.Done()
			p.Service.RunWebhooks(ctx, p.cfg.Webhooks)
		}()
	}
	bg.Add(1)
	go func() {
		// Sensor rules' clock (silence, clearing) and the readings' retention.
		defer bg.Done()
		p.Service.RunSensors(ctx, service.SensorSettings{Tick: p.cfg.SweepEvery, Retention: store.Retention{Raw: p.cfg.ReadingsRetention}})
	}()
	go func() {
		bg.Wait()
		close(p.sweepers)
	}()
	go func() {
		if err := p.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.cfg.Logger.Error("http server", "err", err)
		}
	}()
	return nil
}

// Addr is the address the platform listens on.
func (p *Platform) Addr() string {
	if p.listener == nil {
		return p.cfg.Addr
	}
	return p.listener.Addr().String()
}

// Close shuts down in order: stop accepting requests and let those in flight
// finish, stop the sweeper and the listener, drain the writer, close the database.
func (p *Platform) Close(ctx context.Context) error {
	var errs []error
	if p.http != nil {
		if err := p.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			p.http.Close()
		}
	}
	if p.cancel != nil {
		p.cancel()
		<-p.sweepers
	}
	if err := p.DB.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close database: %w", err))
	}
	return errors.Join(errs...)
}
