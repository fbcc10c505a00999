package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"zhizhi/internal/scale"
)

// bench runs the benchmarks that need a whole installation: chongqing
// fills an empty database with a city the size of Chongqing's platform
// (docs/benchmarks.md): PostgreSQL, or a SQLite file with the cases of one
// district (-district); workload (workload.go) runs the side-by-side
// workload against a serving zhizhi over HTTP and prints its figures.
func bench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "workload" {
		return benchWorkload(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "chongqing" {
		fmt.Fprintln(stderr, "usage: zhizhi bench chongqing -db postgres://…|FILE.db [-cases N] [-years 2] [-district CODE]")
		fmt.Fprintln(stderr, "       zhizhi bench workload -url http://… [-n 250] [-clients 1,4] [-json]")
		return errors.New("bench: unknown or missing kind (chongqing, workload)")
	}
	fs := flag.NewFlagSet("bench chongqing", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", env("ZHIZHI_DB", ""), "empty database: postgres:// URL or SQLite file path (ZHIZHI_DB)")
	n := fs.Int("cases", 7_790_000, "cases to generate")
	years := fs.Int("years", 2, "years of history the cases span, ending now")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same data)")
	chunk := fs.Int("chunk", 50_000, "cases per COPY or SQLite transaction")
	district := fs.String("district", "", "6-digit code of a district (e.g. 500103 渝中区): all cases fall in its grids; the whole city is still created")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("bench chongqing: -db postgres://… or a SQLite file is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := scale.Load(ctx, *dsn, scale.Options{Cases: *n, Years: *years, Seed: *seed, Chunk: *chunk, District: *district, Log: stdout})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Summary())
	return nil
}
