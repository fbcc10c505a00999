// Package cli parses zhizhi's subcommands and flags and hands over to the
// wiring in package server; configuration comes from flags and ZHIZHI_*
// environment variables and is passed down as values.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"zhizhi/internal/auth"
	zcases "zhizhi/internal/cases"
	"zhizhi/internal/clientip"
	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

const usage = `usage: zhizhi <command> [flags]

commands:
  demo      start on an embedded SQLite file with the Yuzhong demo data
  serve     start on the configured database
  migrate   create or upgrade the database schema
  user      create an account
  token     issue a long-lived API token for an account
  apikey    create, list or revoke Open311 API keys
  copy      copy a whole installation to another, empty database (SQLite → PostgreSQL)
  backup    write a consistent backup file of a database, also while it serves (backup -db … -out FILE)
  restore   restore a backup file into an empty database and verify it (restore -from FILE -db …)
  rollup    rebuild the evaluation's rollups from the cases (rollup rebuild)
  search    write every case's search text again and rebuild the text index (search rebuild -db …)
  bench     generate a Chongqing-sized installation for scale tests (bench chongqing -db postgres://… or FILE.db -district CODE);
            run the side-by-side workload against a serving zhizhi and print its figures (bench workload -url http://… -n 250 -clients 1,4)
  simulate  publish realistic sensor readings of the registered devices to the MQTT broker (simulate sensors -mqtt tcp://… [-register 3000]);
            replay the 2024 New Year's Eve at 解放碑 now, compressed (simulate operation -mqtt tcp://… [-speed 60])
Run 'zhizhi <command> -h' for the flags of a command.`

// Run runs one subcommand. Asking a command for its flags (-h, -help) is
// not an error: the usage goes to stderr and Run returns nil.
func Run(args []string, stdout, stderr io.Writer) error {
	err := run(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "demo":
		return serve(args[1:], stdout, stderr, true)
	case "serve":
		return serve(args[1:], stdout, stderr, false)
	case "migrate":
		return migrate(args[1:], stdout, stderr)
	case "user":
		return user(args[1:], stdout, stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "apikey":
		return apikey(args[1:], stdout, stderr)
	case "copy":
		return copyDB(args[1:], stdout, stderr)
	case "backup":
		return backup(args[1:], stdout, stderr)
	case "restore":
		return restore(args[1:], stdout, stderr)
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "rollup":
		return rollup(args[1:], stdout, stderr)
	case "search":
		return search(args[1:], stdout, stderr)
	case "simulate":
		return simulate(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// common registers the flags every serving command shares, each with the
// ZHIZHI_* variable that sets it when the command line does not: a variable
// is read through its flag's own parser, so a malformed value stops
// start-up with the variable named instead of falling back to the default.
func common(fs *flag.FlagSet, cfg *server.Config, demoMode bool) error {
	defDB, defData := "zhizhi.db", "data"
	if demoMode {
		defDB, defData = filepath.Join("zhizhi-demo", "zhizhi.db"), "zhizhi-demo"
	}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address (ZHIZHI_ADDR)")
	fs.StringVar(&cfg.DB, "db", defDB, "SQLite file or postgres:// URL (ZHIZHI_DB)")
	fs.StringVar(&cfg.DataDir, "data", defData, "data directory for photos (ZHIZHI_DATA)")
	fs.StringVar(&cfg.PhotoDir, "photos", "", "photo directory shared by all nodes (ZHIZHI_PHOTOS; default DATA/photos)")
	fs.StringVar(&cfg.DefaultCenter, "default-center", demo.District, "region path that receives reports outside every grid (ZHIZHI_DEFAULT_CENTER)")
	fs.DurationVar(&cfg.SweepEvery, "sweep", 15*time.Second, "clock sweeper interval (ZHIZHI_SWEEP)")
	fs.Float64Var(&cfg.YellowShare, "yellow-share", 0.8, "share of a time limit after which a clock turns yellow (ZHIZHI_YELLOW_SHARE)")
	fs.DurationVar(&cfg.EscalateAfter, "escalate-after", 24*time.Hour, "escalate a case red for this long; 0 disables (ZHIZHI_ESCALATE_AFTER)")
	fs.StringVar(&cfg.Tiles, "tiles", "", "base-map tile URL template with {z}/{x}/{y} for the console's maps; empty draws only our own shapes (ZHIZHI_TILES)")
	fs.StringVar(&cfg.TilesAttribution, "tiles-attribution", "", "attribution shown for the tiles (ZHIZHI_TILES_ATTRIBUTION)")
	fs.Func("trusted-proxies", "reverse proxies (addresses, CIDR prefixes, comma-separated) whose X-Forwarded-For names the client; default none (ZHIZHI_TRUSTED_PROXIES)", func(s string) error {
		t, err := clientip.Parse(s)
		if err != nil {
			return err
		}
		cfg.TrustedProxies = t
		return nil
	})
	fs.StringVar(&cfg.MetricsToken, "metrics-token", "", "bearer token that may read /metrics from anywhere; empty: loopback clients only (ZHIZHI_METRICS_TOKEN)")
	fs.StringVar(&cfg.MQTT.Broker, "mqtt", "", "MQTT broker whose sensor readings this node ingests, e.g. tcp://127.0.0.1:1883; empty: no MQTT ingest (ZHIZHI_MQTT)")
	fs.StringVar(&cfg.MQTT.ClientID, "mqtt-client-id", "", "this node's MQTT client ID, stable across restarts (ZHIZHI_MQTT_CLIENT_ID; default zhizhi-HOSTNAME)")
	fs.StringVar(&cfg.MQTT.Prefix, "mqtt-prefix", "zhizhi/readings", "topic prefix of the readings: PREFIX/{kind}/{device} (ZHIZHI_MQTT_PREFIX)")
	fs.StringVar(&cfg.MQTT.Group, "mqtt-group", "zhizhi", "shared-subscription group of the nodes (ZHIZHI_MQTT_GROUP)")
	fs.DurationVar(&cfg.ReadingsRetention, "readings-retention", 7*24*time.Hour, "how long raw sensor readings are kept; aggregates are kept longer (ZHIZHI_READINGS_RETENTION)")
	fs.DurationVar(&cfg.Webhooks.Timeout, "webhook-timeout", 10*time.Second, "how long one webhook delivery attempt may take (ZHIZHI_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&cfg.Webhooks.Lease, "webhook-lease", time.Minute, "how long a node holds a claimed webhook delivery before another node may send it again; must exceed twice -webhook-timeout (ZHIZHI_WEBHOOK_LEASE)")
	fs.Float64Var(&cfg.Webhooks.Budget.Rate, "webhook-budget", webhook.DefaultBudget.Rate, "webhook deliveries a second this node sends at most while it writes case changes (lifted when quiet); 0: no budget (ZHIZHI_WEBHOOK_BUDGET)")
	fs.DurationVar(&cfg.HistoryRetention, "history-retention", 90*24*time.Hour, "how long read notifications, sent notification deliveries and webhook delivery logs are kept (ZHIZHI_HISTORY_RETENTION)")
	fs.StringVar(&cfg.SecretKey, "secret-key", "", "key sealing secrets at rest (webhook secrets, SMS gateway credentials): 32 bytes as 64 hex digits or base64; empty: the key file DATA/secret.key, made on first start (ZHIZHI_SECRET_KEY)")
	return envFlags(fs, [][2]string{{"addr", "ZHIZHI_ADDR"}, {"db", "ZHIZHI_DB"}, {"data", "ZHIZHI_DATA"}, {"photos", "ZHIZHI_PHOTOS"},
		{"default-center", "ZHIZHI_DEFAULT_CENTER"}, {"sweep", "ZHIZHI_SWEEP"}, {"yellow-share", "ZHIZHI_YELLOW_SHARE"},
		{"escalate-after", "ZHIZHI_ESCALATE_AFTER"}, {"tiles", "ZHIZHI_TILES"}, {"tiles-attribution", "ZHIZHI_TILES_ATTRIBUTION"},
		{"metrics-token", "ZHIZHI_METRICS_TOKEN"}, {"trusted-proxies", "ZHIZHI_TRUSTED_PROXIES"},
		{"mqtt", "ZHIZHI_MQTT"}, {"mqtt-client-id", "ZHIZHI_MQTT_CLIENT_ID"}, {"mqtt-prefix", "ZHIZHI_MQTT_PREFIX"},
		{"mqtt-group", "ZHIZHI_MQTT_GROUP"}, {"readings-retention", "ZHIZHI_READINGS_RETENTION"},
		{"webhook-timeout", "ZHIZHI_WEBHOOK_TIMEOUT"}, {"webhook-lease", "ZHIZHI_WEBHOOK_LEASE"},
		{"webhook-budget", "ZHIZHI_WEBHOOK_BUDGET"},
		{"secret-key", "ZHIZHI_SECRET_KEY"}, {"history-retention", "ZHIZHI_HISTORY_RETENTION"}})
}

// gcFlags registers the process's garbage-collector setting (server.GC),
// which the commands that serve a node apply (serve and demo); the one-off
// commands keep Go's default and do not take these flags.
func gcFlags(fs *flag.FlagSet, gc *server.GC) error {
	*gc = server.DefaultGC()
	fs.IntVar(&gc.Percent, "gc-percent", gc.Percent, "how far the Go heap may grow, in percent of what the last collection left, before the next (GOGC; ZHIZHI_GC_PERCENT; Go's own GOGC variable wins when set)")
	fs.Var(sizeValue{&gc.Limit}, "memory-limit", "soft limit of the Go heap, e.g. 8GiB; 0: none; default half the memory of the machine or its cgroup (GOMEMLIMIT; ZHIZHI_MEMORY_LIMIT; Go's own GOMEMLIMIT wins when set)")
	return envFlags(fs, [][2]string{{"gc-percent", "ZHIZHI_GC_PERCENT"}, {"memory-limit", "ZHIZHI_MEMORY_LIMIT"}})
}

// sizeValue is a flag holding a size in bytes, read and written as
// GOMEMLIMIT is ("8GiB", "0").
type sizeValue struct{ n *int64 }

func (v sizeValue) String() string {
	if v.n == nil {
		return "0"
	}
	return server.FormatSize(*v.n)
}

func (v sizeValue) Set(s string) error {
	n, err := server.ParseSize(s)
	if err != nil {
		return err
	}
	*v.n = n
	return nil
}

// checkCommon refuses settings that parse but make no sense, naming the
// flag and its variable.
func checkCommon(cfg *server.Config) error {
	switch {
	case cfg.SweepEvery <= 0:
		return fmt.Errorf("-sweep (ZHIZHI_SWEEP) %s: must be more than 0", cfg.SweepEvery)
	case cfg.HistoryRetention < 24*time.Hour:
		return fmt.Errorf("-history-retention (ZHIZHI_HISTORY_RETENTION) %s: must be at least a day", cfg.HistoryRetention)
	case cfg.Webhooks.Timeout <= 0 || cfg.Webhooks.Lease <= 2*cfg.Webhooks.Timeout:
		return fmt.Errorf("-webhook-timeout (ZHIZHI_WEBHOOK_TIMEOUT) %s, -webhook-lease (ZHIZHI_WEBHOOK_LEASE) %s: the timeout must be more than 0 and the lease longer than twice the timeout (a claimed delivery may wait for one attempt before its own)",
			cfg.Webhooks.Timeout, cfg.Webhooks.Lease)
	case webhook.CheckBudgetRate(cfg.Webhooks.Budget.Rate) != "":
		return fmt.Errorf("-webhook-budget (ZHIZHI_WEBHOOK_BUDGET) %v: %s", cfg.Webhooks.Budget.Rate, webhook.CheckBudgetRate(cfg.Webhooks.Budget.Rate))
	case cfg.YellowShare <= 0 || cfg.YellowShare >= 1:
		return fmt.Errorf("-yellow-share (ZHIZHI_YELLOW_SHARE) %v: must be between 0 and 1", cfg.YellowShare)
	case cfg.EscalateAfter < 0:
		return fmt.Errorf("-escalate-after (ZHIZHI_ESCALATE_AFTER) %s: must be 0 (off) or more", cfg.EscalateAfter)
	case cfg.MetricsToken != "" && (len(cfg.MetricsToken) < 16 || strings.ContainsAny(cfg.MetricsToken, " \t\r\n")):
		return errors.New("-metrics-token (ZHIZHI_METRICS_TOKEN): must be at least 16 characters, without spaces")
	case cfg.MQTT.Broker != "" && !strings.Contains(cfg.MQTT.Broker, "://"):
		return fmt.Errorf("-mqtt (ZHIZHI_MQTT) %q: must be a broker URL such as tcp://127.0.0.1:1883", cfg.MQTT.Broker)
	case cfg.ReadingsRetention < time.Hour:
		return fmt.Errorf("-readings-retention (ZHIZHI_READINGS_RETENTION) %s: must be at least 1h", cfg.ReadingsRetention)
	case server.CheckPercent(cfg.GC.Percent) != "":
		return fmt.Errorf("-gc-percent (ZHIZHI_GC_PERCENT) %d: %s", cfg.GC.Percent, server.CheckPercent(cfg.GC.Percent))
	case server.CheckLimit(cfg.GC.Limit) != "":
		return fmt.Errorf("-memory-limit (ZHIZHI_MEMORY_LIMIT) %s: %s", server.FormatSize(cfg.GC.Limit), server.CheckLimit(cfg.GC.Limit))
	}
	if cfg.Webhooks.Budget.Rate == 0 {
		cfg.Webhooks.Budget.Rate = -1 // no budget (a zero Rate means the default below the flags)
	}
	if cfg.MQTT.Broker != "" && cfg.MQTT.ClientID == "" {
		host, _ := os.Hostname()
		cfg.MQTT.ClientID = "zhizhi-" + host
	}
	return nil
}

func serve(args []string, stdout, stderr io.Writer, demoMode bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runServe(ctx, args, stdout, stderr, demoMode)
}

// serveFlags is the flag set of serve and demo: common's flags, the
// garbage collector's (gcFlags), and for demo the number of cases to
// generate (-cases, ZHIZHI_DEMO_CASES) and of sensor devices to register
// (-devices, ZHIZHI_DEMO_DEVICES).
func serveFlags(stderr io.Writer, demoMode bool) (*flag.FlagSet, *server.Config, *int, *int, error) {
	name := "serve"
	if demoMode {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	if err := common(fs, &cfg, demoMode); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := gcFlags(fs, &cfg.GC); err != nil {
		return nil, nil, nil, nil, err
	}
	var n, d *int
	if demoMode {
		n = fs.Int("cases", 4000, "how many historical cases to generate on first start (ZHIZHI_DEMO_CASES)")
		d = fs.Int("devices", 3000, "how many sensor devices to register on first start (ZHIZHI_DEMO_DEVICES)")
		if err := envFlags(fs, [][2]string{{"cases", "ZHIZHI_DEMO_CASES"}, {"devices", "ZHIZHI_DEMO_DEVICES"}}); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	return fs, &cfg, n, d, nil
}

// runServe serves until ctx ends. The listen address is taken before the
// database is opened or the demo data loaded, so a busy port fails at once
// instead of after a minute of loading.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, demoMode bool) error {
	fs, cfg, ncases, devices, err := serveFlags(stderr, demoMode)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkCommon(cfg); err != nil {
		return err
	}
	if demoMode && *ncases < 0 {
		return fmt.Errorf("-cases (ZHIZHI_DEMO_CASES) %d: must be 0 or more", *ncases)
	}
	if demoMode && *devices < 0 {
		return fmt.Errorf("-devices (ZHIZHI_DEMO_DEVICES) %d: must be 0 or more", *devices)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("地址 %s 已被占用（另一个 zhizhi 或其他程序正在使用该端口）；请先停止它，或用 -addr / ZHIZHI_ADDR 换一个地址，如 -addr 127.0.0.1:8081", cfg.Addr)
		}
		return fmt.Errorf("无法监听地址 %s（-addr / ZHIZHI_ADDR）：%w", cfg.Addr, err)
	}
	cfg.Listener = ln
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.Logger.Info("garbage collector", "setting", cfg.GC.Apply(os.Getenv))
	p, err := server.Open(ctx, *cfg)
	if err != nil {
		ln.Close()
		return err
	}
	var accounts []demo.Account
	if demoMode {
		loaded, err := demo.Loaded(ctx, p.DB)
		if err != nil {
			ln.Close()
			p.Close(context.Background())
			return err
		}
		if !loaded {
			fmt.Fprintln(stdout, "正在载入渝中区演示数据…")
			start := time.Now()
			if err := demo.Load(ctx, p.Service, demo.Options{Cases: *ncases}); err != nil {
				ln.Close()
				p.Close(context.Background())
				return fmt.Errorf("载入演示数据失败：%w", err)
			}
			// Sensors: the demo's device kinds, a few thousand devices and
			// rules; 'zhizhi simulate sensors' feeds them over MQTT.
			if _, err := demo.LoadSensors(ctx, p.Service, *devices, 1); err != nil {
				p.Close(context.Background())
				return fmt.Errorf("load demo sensors: %w", err)
			}
			// S3: the 2024 New Year's Eve operation at 解放碑
			// ('zhizhi simulate operation' replays it).
			if err := demo.LoadOperation(ctx, p.Service); err != nil {
				p.Close(context.Background())
				return fmt.Errorf("load demo operation: %w", err)
			}
			fmt.Fprintf(stdout, "演示数据已载入（%.1f 秒）\n", time.Since(start).Seconds())
		}
		accounts = demo.Accounts()
	}
	if err := p.Start(); err != nil {
		ln.Close()
		p.Close(context.Background())
		return err
	}
	info := startup{Addr: p.Addr(), DB: cfg.DB, Demo: demoMode, Accounts: accounts}
	if demoMode {
		info.Password = demo.Password
		if key, err := demo.APIKey(ctx, p.DB); err == nil {
			info.KeyName, info.Key = demo.DemoKeyName, key
		}
	}
	info.write(stdout)
	<-ctx.Done()
	fmt.Fprintln(stdout, "正在停止…")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Close(sctx)
}

func migrate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", env("ZHIZHI_DB", "zhizhi.db"), "SQLite file or postgres:// URL (ZHIZHI_DB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := store.Open(context.Background(), *db, store.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "schema at version %d\n", store.Version())
	// The list items of cases written before migration 27 (listings make
	// them from the documents until then).
	start := time.Now()
	n, err := d.FillItems(context.Background(), func(done int) {
		if done%100000 == 0 {
			fmt.Fprintf(stderr, "%d case items…\n", done)
		}
	})
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "wrote the list items of %d cases in %.1f s\n", n, time.Since(start).Seconds())
	}
	return nil
}

func user(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	if err := common(fs, &cfg, false); err != nil {
		return err
	}
	var in service.NewAccount
	fs.StringVar(&in.Username, "username", "", "username")
	fs.StringVar(&in.Name, "name", "", "display name")
	role := fs.String("role", "", "role: gridworker, gridchief, head, commander, unit, leader, admin, enterprise, resident")
	fs.StringVar(&in.RegionCode, "region", "", "region code of the account's scope")
	fs.StringVar(&in.UnitID, "unit", "", "unit ID for unit staff")
	fs.StringVar(&in.Phone, "phone", "", "phone: an 11-digit mobile number or a landline with its area code (023-63881234)")
	fs.StringVar(&in.Title, "title", "", "title of a head: 街长, 路长, 巷长, 楼长, 店长 (setting head_titles)")
	fs.StringVar(&in.Password, "password", os.Getenv("ZHIZHI_PASSWORD"), "password (or ZHIZHI_PASSWORD)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in.Role = casesRole(*role)
	ctx := context.Background()
	p, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	a, err := p.Service.CreateAccount(ctx, in, auth.DefaultParams)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created account %s (%s)\n", a.Username, a.ID)
	return nil
}

// rollup rebuilds the evaluation's rollups from every case (rollup
// rebuild): after a bulk load that bypassed the service, or to check them.
func rollup(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return errors.New("usage: zhizhi rollup rebuild [-db …]")
	}
	fs := flag.NewFlagSet("rollup rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	if err := common(fs, &cfg, false); err != nil {
		return err
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	p, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	start := time.Now()
	n, err := p.Service.RebuildRollups(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rolled %d cases into the rollups in %.1f s\n", n, time.Since(start).Seconds())
	return nil
}

// search rebuilds the text cases are searched by (number, description,
// address, category answers, feedback, rating note, step notes) for cases
// stored before it covered all of them.
func search(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return errors.New("usage: zhizhi search rebuild [-db …]")
	}
	fs := flag.NewFlagSet("search rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", env("ZHIZHI_DB", "zhizhi.db"), "SQLite file or postgres:// URL (ZHIZHI_DB)")
	quiet := fs.Bool("q", false, "do not report progress")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	progress := func(done int) {
		if !*quiet && done%10000 == 0 {
			fmt.Fprintf(stderr, "%d cases…\n", done)
		}
	}
	n, err := d.RebuildSearch(ctx, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rewrote the search text of %d cases in %.1f s\n", n, time.Since(start).Seconds())
	return nil
}

func casesRole(s string) zcases.Role { return zcases.Role(strings.TrimSpace(s)) }

func token(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	if err := common(fs, &cfg, false); err != nil {
		return err
	}
	username := fs.String("username", "", "the account the token acts as")
	name := fs.String("name", "cli", "what the token is for")
	ttl := fs.Duration("ttl", 30*24*time.Hour, "how long the token lasts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" || *ttl <= 0 {
		return errors.New("token: -username and a positive -ttl are required")
	}
	ctx := context.Background()
	p, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	acct, err := p.DB.AccountByUsername(ctx, *username)
	if err != nil {
		return fmt.Errorf("account %s: %w", *username, err)
	}
	secret, err := p.Service.IssueToken(ctx, acct.ID, *name, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}
