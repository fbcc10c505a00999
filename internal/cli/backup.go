package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"zhizhi/internal/store"
)

// backup writes a consistent backup of a database that may be serving (see
// store.Backup) and prints its manifest and digest.
func backup(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "zhizhi.db", "database to back up: SQLite file or postgres:// URL (ZHIZHI_DB)")
	out := fs.String("out", "", "backup file to create (a SQLite file; must not exist)")
	if err := envFlags(fs, [][2]string{{"db", "ZHIZHI_DB"}}); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: -out is required")
	}
	ctx := context.Background()
	src, err := store.OpenSource(ctx, *db)
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	defer src.Close()
	m, err := store.Backup(ctx, src, *out)
	if err != nil {
		return err
	}
	printManifest(stdout, m)
	fmt.Fprintf(stdout, "backup written to %s; manifest digest %s\n", *out, m.Digest())
	return nil
}

// restore copies a backup into an empty database and verifies it against
// the backup's manifest (see store.Restore).
func restore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "backup file made by zhizhi backup")
	db := fs.String("db", "", "target, empty: SQLite file or postgres:// URL (ZHIZHI_DB)")
	digest := fs.String("digest", "", "the manifest digest zhizhi backup printed; if given it must match")
	if err := envFlags(fs, [][2]string{{"db", "ZHIZHI_DB"}}); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *db == "" {
		return errors.New("restore: -from and -db are required")
	}
	ctx := context.Background()
	b, m, err := store.OpenBackup(ctx, *from)
	if err != nil {
		return err
	}
	defer b.Close()
	if *digest != "" && *digest != m.Digest() {
		return fmt.Errorf("restore: manifest digest %s, expected %s", m.Digest(), *digest)
	}
	dst, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return fmt.Errorf("open target: %w", err)
	}
	defer dst.Close()
	res, err := store.Restore(ctx, b, m, dst, func(table string, rows int64) {
		fmt.Fprintf(stdout, "restored %-12s %9d rows\n", table, rows)
	})
	if err != nil {
		return err
	}
	for _, s := range res.Search {
		fmt.Fprintf(stdout, "search %-8s backup %d, restored %d\n", s.Word, s.Source, s.Target)
	}
	fmt.Fprintf(stdout, "restore complete: counts and checksums match the manifest of %s (taken %s from %s, digest %s)\n",
		*from, m.Taken.Format("2006-01-02 15:04:05Z"), m.Source, m.Digest())
	return nil
}

func printManifest(w io.Writer, m store.Manifest) {
	fmt.Fprintf(w, "%-12s %9s  %s\n", "table", "rows", "checksum")
	for _, t := range m.Tables {
		fmt.Fprintf(w, "%-12s %9d  %s\n", t.Table, t.Rows, t.Sum)
	}
}

// envFlags sets each flag from its ZHIZHI_* variable through the flag's own
// parser, as common does; the command line, parsed afterwards, wins.
func envFlags(fs *flag.FlagSet, pairs [][2]string) error {
	for _, fv := range pairs {
		if v, ok := os.LookupEnv(fv[1]); ok && v != "" {
			if err := fs.Set(fv[0], v); err != nil {
				return fmt.Errorf("%s=%q: %v", fv[1], v, err)
			}
		}
	}
	return nil
}
