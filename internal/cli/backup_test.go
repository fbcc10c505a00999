package cli

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
)

// reporter keeps reporting cases through the service until stopped and
// remembers every case acknowledged so far.
type reporter struct {
	mu    sync.Mutex
	acked []string
	err   error
	stop  chan struct{}
	done  chan struct{}
}

func startReporting(t *testing.T, p *server.Platform) *reporter {
	t.Helper()
	ctx := context.Background()
	acct, err := p.DB.AccountByUsername(ctx, "zhouchunyan")
	if err != nil {
		t.Fatal(err)
	}
	actor := p.Service.ActorOf(acct)
	r := &reporter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for i := 0; ; i++ {
			select {
			case <-r.stop:
				return
			default:
			}
			c, err := p.Service.Report(ctx, actor, cases.Report{Source: cases.SourcePatrol, Category: "MS03", Address: "新影村社区",
				Description: fmt.Sprintf("备份期间上报的测试案件%d", i)})
			r.mu.Lock()
			if err != nil {
				r.err = err
				r.mu.Unlock()
				return
			}
			r.acked = append(r.acked, c.ID)
			r.mu.Unlock()
		}
	}()
	return r
}

// ackedSoFar returns the cases acknowledged so far, after waiting for at
// least n.
func (r *reporter) ackedSoFar(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r.mu.Lock()
		got, err := append([]string(nil), r.acked...), r.err
		r.mu.Unlock()
		if err != nil {
			t.Fatalf("report: %v", err)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d reports in a minute", len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *reporter) finish(t *testing.T) int {
	t.Helper()
	close(r.stop)
	<-r.done
	if r.err != nil {
		t.Fatalf("report: %v", r.err)
	}
	return len(r.acked)
}

// TestBackupUnderWrites backs up a database (SQLite, or PostgreSQL with
// ZHIZHI_TEST_POSTGRES) while a goroutine keeps reporting cases through
// the service, copies it under the same writes, restores the backup into an
// empty database and checks: counts and checksums equal the manifest, every
// case acknowledged before the backup started is there, a second restore
// into the same target is refused, and a tampered backup or a wrong digest
// fails verification before anything is written.
func TestBackupUnderWrites(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	src, drop, err := storetest.DSN(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	p, err := server.Open(ctx, server.Config{DB: src, DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: servertest.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 40, Seed: 5, Now: servertest.Now()}); err != nil {
		t.Fatal(err)
	}
	n0, err := p.DB.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	rep := startReporting(t, p)
	before := rep.ackedSoFar(t, 20)
	file := filepath.Join(dir, "backup", "zhizhi-backup.db")
	var out, errOut bytes.Buffer
	if err := Run([]string{"backup", "-db", src, "-out", file}, &out, &errOut); err != nil {
		rep.finish(t)
		t.Fatalf("backup: %v\n%s%s", err, out.String(), errOut.String())
	}
	during := len(rep.ackedSoFar(t, 0)) - len(before)
	// zhizhi copy reads its source in one snapshot, so it passes under writes.
	copyTo, dropCopy := freshTarget(t, dir, "copy.db")
	defer dropCopy()
	var cout bytes.Buffer
	if err := Run([]string{"copy", "-from", src, "-to", copyTo}, &cout, &errOut); err != nil {
		rep.finish(t)
		t.Fatalf("copy under writes: %v\n%s%s", err, cout.String(), errOut.String())
	}
	total := rep.finish(t)
	t.Logf("%d reports acknowledged before the backup, %d while it ran, %d in all\n%s", len(before), during, total, out.String())
	if _, err := os.Stat(file + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
	b, m, err := store.OpenBackup(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	digest := m.Digest()
	if !strings.Contains(out.String(), digest) {
		t.Errorf("backup output lacks the digest %s", digest)
	}
	b.Close()
	var caseRows int64
	for _, s := range m.Tables {
		if s.Table == "cases" {
			caseRows = s.Rows
		}
	}
	if caseRows < int64(n0+len(before)) || caseRows > int64(n0+total) {
		t.Errorf("manifest: %d cases, want between %d and %d", caseRows, n0+len(before), n0+total)
	}

	// Restore, with the digest the backup printed.
	target, dropTarget := freshTarget(t, dir, "restored.db")
	defer dropTarget()
	out.Reset()
	if err := Run([]string{"restore", "-from", file, "-db", target, "-digest", digest}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "restore complete") {
		t.Errorf("restore output:\n%s", out.String())
	}
	dst, err := store.OpenSource(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := dst.Checksums(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sums) != fmt.Sprint(m.Tables) {
		t.Errorf("restored checksums\n%v\nmanifest\n%v", sums, m.Tables)
	}
	for _, id := range before {
		if _, err := dst.Case(ctx, id); err != nil {
			t.Errorf("case %s, acknowledged before the backup: %v", id, err)
		}
	}
	dst.Close()

	// A target with data is refused.
	if err := Run([]string{"restore", "-from", file, "-db", target}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a database with data: %v, want refused", err)
	}

	// A wrong digest is refused.
	empty, dropEmpty := freshTarget(t, dir, "empty.db")
	defer dropEmpty()
	if err := Run([]string{"restore", "-from", file, "-db", empty, "-digest", "0123"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("restore with a wrong digest: %v, want refused", err)
	}

	// A tampered backup fails verification and leaves the target empty.
	tampered := filepath.Join(dir, "tampered.db")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tampered, data, 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", tampered)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE steps SET doc = replace(doc, '上报', '上极') WHERE rowid = (SELECT max(rowid) FROM steps)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	err = Run([]string{"restore", "-from", tampered, "-db", empty}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "steps") || !strings.Contains(err.Error(), "does not match the manifest") {
		t.Fatalf("restore of a tampered backup: %v, want a mismatch in steps", err)
	}
	e, err := store.OpenSource(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if n, err := e.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}}); err != nil || n != 0 {
		t.Errorf("after a refused restore the target has %d cases (%v)", n, err)
	}
}

// freshTarget is an empty, migrated database: a new SQLite file, or a new
// PostgreSQL database when the tests run there.
func freshTarget(t *testing.T, dir, name string) (string, func()) {
	t.Helper()
	dsn := filepath.Join(dir, name)
	drop := func() {}
	if storetest.Postgres() {
		var err error
		if dsn, drop, err = storetest.NewPostgres(os.Getenv(storetest.Env)); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		drop()
		t.Fatal(err)
	}
	db.Close()
	return dsn, drop
}
