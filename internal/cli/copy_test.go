package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/store/storetest"
)

// TestCopyDemo loads the demo into a SQLite file and copies it with
// `zhizhi copy` into an empty database (PostgreSQL when ZHIZHI_TEST_POSTGRES
// is set, another SQLite file otherwise); the command compares counts,
// checksums and searches, and the copy must serve the same case.
func TestCopyDemo(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	ctx := context.Background()
	p, err := server.Open(ctx, server.Config{DB: src, DataDir: dir, Now: servertest.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 120, Seed: 3, Now: servertest.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst.db")
	if storetest.Postgres() {
		var drop func()
		if dst, drop, err = storetest.DSN(dir); err != nil {
			t.Fatal(err)
		}
		defer drop()
	}
	var out, errOut bytes.Buffer
	if err := Run([]string{"copy", "-from", src, "-to", dst}, &out, &errOut); err != nil {
		t.Fatalf("copy: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "copy complete") || !strings.Contains(out.String(), "steps") {
		t.Fatalf("copy output:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
	// A second copy into the same target is refused.
	if err := Run([]string{"copy", "-from", src, "-to", dst}, &out, &errOut); err == nil {
		t.Fatal("copying into a database that is not empty must be refused")
	}
	// The copy serves: the demo accounts sign in and see the same case.
	q, err := server.Open(ctx, server.Config{DB: dst, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(ctx)
	if _, _, err := q.Service.SignIn(ctx, "syl_zhihui", demo.Password); err != nil {
		t.Errorf("sign in on the copy: %v", err)
	}
}
