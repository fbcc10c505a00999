package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"zhizhi/internal/demo"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/store"
)

// TestUserAndToken creates an account and a long-lived token through the
// command line, then checks that the token signs the account in.
func TestUserAndToken(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "z.db")
	common := []string{"-db", db, "-data", dir}
	var out, errOut bytes.Buffer
	err := Run(append([]string{"user", "-username", "zhang", "-name", "张先生", "-role", "resident", "-password", "long-enough-1"}, common...), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "created account zhang") {
		t.Fatalf("user: %v %s %s", err, out.String(), errOut.String())
	}
	out.Reset()
	if err := Run(append([]string{"token", "-username", "zhang", "-ttl", "1h"}, common...), &out, &errOut); err != nil {
		t.Fatalf("token: %v %s", err, errOut.String())
	}
	secret := strings.TrimSpace(out.String())
	p, err := server.Open(context.Background(), server.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	actor, err := p.Service.Authenticate(context.Background(), secret)
	if err != nil || actor.Name != "张先生" {
		t.Fatalf("token does not authenticate: %+v %v", actor, err)
	}
	// Bad input is refused with a clear error and creates nothing.
	if err := Run(append([]string{"user", "-username", "x", "-name", "", "-role", "boss", "-password", "short"}, common...), &out, &errOut); err == nil {
		t.Fatal("a bad account must be refused")
	}
	// A staff phone must be a mobile number or a landline with its area code.
	err = Run(append([]string{"user", "-username", "li", "-name", "李", "-role", "resident", "-phone", "6388123", "-password", "long-enough-1"}, common...), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "phone") {
		t.Fatalf("a 7-digit phone: %v", err)
	}
	if err := Run(append([]string{"user", "-username", "li", "-name", "李", "-role", "resident", "-phone", "023 6388 1234", "-password", "long-enough-1"}, common...), &out, &errOut); err != nil {
		t.Fatalf("a landline: %v", err)
	}
	if a, err := p.DB.AccountByUsername(context.Background(), "li"); err != nil || a.Phone != "023-63881234" {
		t.Fatalf("account li: %+v %v", a, err)
	}
	if err := Run(append([]string{"token", "-username", "nobody"}, common...), &out, &errOut); err == nil {
		t.Fatal("a token for an unknown account must be refused")
	}
	if err := Run([]string{"frobnicate"}, &out, &errOut); err == nil {
		t.Fatal("an unknown command must be refused")
	}
	if err := Run(append([]string{"demo", "-yellow-share", "1.5", "-addr", "127.0.0.1:0"}, common...), &out, &errOut); err == nil {
		t.Fatal("a yellow share outside (0, 1) must be refused")
	}
}

// TestRollupRebuild: 'zhizhi rollup rebuild' rolls every case of an
// installation into the rollups; the district's reported count is then the
// number of cases.
func TestRollupRebuild(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "z.db")
	ctx := context.Background()
	p, err := server.Open(ctx, server.Config{DB: db, DataDir: dir, Now: servertest.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 80, Now: servertest.Now()}); err != nil {
		t.Fatal(err)
	}
	n, err := p.DB.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}})
	p.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := Run([]string{"rollup", "rebuild", "-db", db, "-data", dir}, &out, &errOut); err != nil {
		t.Fatalf("rollup rebuild: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("rolled %d cases", n)) {
		t.Fatalf("output %q, want %d cases", out.String(), n)
	}
	if err := Run([]string{"rollup", "frobnicate"}, &out, &errOut); err == nil {
		t.Fatal("an unknown rollup command must be refused")
	}
	d, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	counts, err := d.RollupCounts(ctx, evaluation.District, "", 20000101, 21001231)
	if err != nil || counts["500103"][evaluation.Reported] != n {
		t.Fatalf("district reported %d (%v), want %d", counts["500103"][evaluation.Reported], err, n)
	}
}

// TestSearchRebuild: 'zhizhi search rebuild' writes the search text of the
// cases again: a category answer stored before the text covered answers is
// found afterwards.
func TestSearchRebuild(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "z.db")
	ctx := context.Background()
	p, err := server.Open(ctx, server.Config{DB: db, DataDir: dir, Now: servertest.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 20, Now: servertest.Now()}); err != nil {
		t.Fatal(err)
	}
	p.Close(ctx)
	d, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := store.CaseFilter{Scope: store.Scope{All: true}, Limit: 1}
	list, err := d.Cases(ctx, all)
	if err != nil || len(list) == 0 {
		t.Fatal(err)
	}
	c := list[0]
	c.Answers = map[string]any{"shop": "山城榫卯工坊"}
	doc, _ := json.Marshal(c)
	// The case as an older build stored it: answers in the document, not in the text.
	if _, err := d.Raw().ExecContext(ctx, `UPDATE cases SET doc = $1 WHERE id = $2`, string(doc), c.ID); err != nil {
		t.Fatal(err)
	}
	d.Close()
	var out, errOut bytes.Buffer
	if err := Run([]string{"search", "rebuild", "-db", db}, &out, &errOut); err != nil {
		t.Fatalf("search rebuild: %v %s", err, errOut.String())
	}
	// (The demo's generated history adds its steps after the case, so their
	// notes are written into the text by the rebuild too.)
	if !strings.Contains(out.String(), "rewrote the search text of ") || strings.Contains(out.String(), "text of 0 cases") {
		t.Fatalf("output %q", out.String())
	}
	if err := Run([]string{"search", "frobnicate"}, &out, &errOut); err == nil {
		t.Fatal("an unknown search command must be refused")
	}
	d, err = store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, q := range []string{"榫卯", "山城榫卯工坊"} { // words no demo phrase holds
		found, err := d.Cases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, Text: q})
		if err != nil || len(found) != 1 || found[0].ID != c.ID {
			t.Errorf("%s after the rebuild: %d cases %v", q, len(found), err)
		}
	}
}
