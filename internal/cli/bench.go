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

// bench generates installations for scale tests. The one kind so far,
// chongqing, fills an empty PostgreSQL database with a city the size of
// Chongqing's platform (docs/benchmarks.md).
func bench(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "chongqing" {
		fmt.Fprintln(stderr, "usage: zhizhi bench chongqing -db postgres://… [-cases N] [-years 2]")
		return errors.New("bench: unknown or missing kind (chongqing)")
	}
	fs := flag.NewFlagSet("bench chongqing", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", env("ZHIZHI_DB", ""), "empty PostgreSQL database: postgres:// URL (ZHIZHI_DB)")
	n := fs.Int("cases", 7_790_000, "cases to generate")
	years := fs.Int("years", 2, "years of history the cases span, ending now")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same data)")
	chunk := fs.Int("chunk", 50_000, "cases per COPY")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("bench chongqing: -db postgres://… is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := scale.Load(ctx, *dsn, scale.Options{Cases: *n, Years: *years, Seed: *seed, Chunk: *chunk, Log: stdout})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Summary())
	return nil
}
