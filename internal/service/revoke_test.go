package service_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store/storetest"
)

// TestRevocationReachesEveryNode (issue 20): two nodes on one PostgreSQL
// database; a token another node has checked (and cached) stops working
// there as soon as it is signed out on the first node, and so do the tokens
// of an account deactivated there: through the commit's notice, not after
// the cache's 30 seconds.
func TestRevocationReachesEveryNode(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("several nodes share PostgreSQL only")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	dsn, drop, err := storetest.DSN(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	open := func() *server.Platform {
		p, err := server.Open(ctx, server.Config{DB: dsn, DataDir: dir, DefaultCenter: demo.District,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close(context.Background()) })
		return p
	}
	a := open()
	if err := demo.Load(ctx, a.Service, demo.Options{Cases: 0, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	b := open()
	for _, p := range []*server.Platform{a, b} {
		go p.Service.RunListener(ctx)
	}
	time.Sleep(300 * time.Millisecond) // both listening

	signIn := func(name string) string {
		tok, _, err := a.Service.SignInFrom(ctx, "192.0.2.50", name, demo.Password)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Service.Authenticate(ctx, tok); err != nil { // cached on b now
			t.Fatal(err)
		}
		return tok
	}
	refusedOnB := func(what, tok string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := b.Service.Authenticate(ctx, tok)
			if apperr.Is(err, apperr.Unauthorized) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the other node still accepts the token after 5 s (%v)", what, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	tok := signIn("syl_zhihui")
	if err := a.Service.SignOut(ctx, tok); err != nil {
		t.Fatal(err)
	}
	refusedOnB("sign-out", tok)

	tok = signIn("jfb_zhihui")
	acct, err := a.DB.AccountByUsername(ctx, "jfb_zhihui")
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := a.Service.UpdateAccount(ctx, cases.Actor{Role: cases.RoleSystem, Name: "test"}, acct.ID,
		service.AccountChange{Active: &off}, auth.DefaultParams); err != nil {
		t.Fatal(err)
	}
	refusedOnB("deactivation", tok)
}
