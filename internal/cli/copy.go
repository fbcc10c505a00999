package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"zhizhi/internal/store"
)

// copyDB moves a whole installation from one database to another, empty one
// (SQLite to PostgreSQL, typically) and compares counts, checksums and
// full-text search at both ends.
func copyDB(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source: SQLite file or postgres:// URL")
	to := fs.String("to", "", "target, empty: postgres:// URL or SQLite file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" || *from == *to {
		return errors.New("copy: -from and -to are required and must differ")
	}
	ctx := context.Background()
	src, err := store.Open(ctx, *from, store.Options{})
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	defer src.Close()
	dst, err := store.Open(ctx, *to, store.Options{})
	if err != nil {
		return fmt.Errorf("open target: %w", err)
	}
	defer dst.Close()
	res, err := store.Copy(ctx, src, dst, func(table string, rows int64) {
		fmt.Fprintf(stdout, "copied %-12s %9d rows\n", table, rows)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-12s %9s %9s  %s\n", "table", "source", "target", "checksum")
	for i, s := range res.Source {
		d := res.Target[i]
		mark := "ok"
		if s != d {
			mark = "MISMATCH " + d.Sum
		}
		fmt.Fprintf(stdout, "%-12s %9d %9d  %s %s\n", s.Table, s.Rows, d.Rows, s.Sum[:16], mark)
	}
	for _, s := range res.Search {
		fmt.Fprintf(stdout, "search %-8s source %d, target %d\n", s.Word, s.Source, s.Target)
	}
	if !res.OK() {
		return errors.New("copy: the target differs from the source")
	}
	fmt.Fprintln(stdout, "copy complete: counts, checksums and searches match")
	return nil
}
