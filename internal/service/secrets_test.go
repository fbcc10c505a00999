package service_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/demo"
	"zhizhi/internal/notify"
	"zhizhi/internal/seal"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
	"zhizhi/internal/webhook"
)

// TestSecretsSealedAtRest (both engines): a subscription's secret and the
// SMS gateway's auth value are stored sealed under the key in the data
// directory's key file (made 0600 on first start), never as themselves,
// and shown back masked or not at all; values stored in plaintext before
// are sealed when a node starts; a node with another key refuses to start.
func TestSecretsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn, drop, err := storetest.DSN(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := server.Open(ctx, server.Config{DB: dsn, DataDir: dir, DefaultCenter: demo.District, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 0, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	key, made, err := seal.LoadKey("", dir)
	if err != nil || made {
		t.Fatalf("the first start made no key file: %v made %v", err, made)
	}
	acct, err := p.DB.AccountByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin := p.Service.ActorOf(acct)

	const hookSecret = "hook-secret-0123456789-abc"
	secret, view, err := p.Service.CreateSubscription(ctx, admin, webhook.Input{Name: "密钥测试", URL: "http://127.0.0.1:1/hook",
		Events: []string{webhook.All}, RegionCode: "500103", Secret: hookSecret})
	if err != nil || secret != hookSecret {
		t.Fatalf("create: %q %v", secret, err)
	}
	storedHook := func() string {
		t.Helper()
		s, err := p.DB.StoredSubscriptionSecret(ctx, view.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := storedHook(); strings.Contains(s, hookSecret) || !seal.IsSealed(s) {
		t.Errorf("the subscription's column holds %q", s)
	}
	if b, _ := json.Marshal(view); strings.Contains(string(b), hookSecret) {
		t.Errorf("the subscription is shown with its secret: %s", b)
	}
	// A new secret on change is sealed too.
	const newSecret = "hook-secret-changed-98765"
	if _, err := p.Service.UpdateSubscription(ctx, admin, view.ID, webhook.Input{Name: "密钥测试", URL: "http://127.0.0.1:1/hook",
		Events: []string{webhook.All}, RegionCode: "500103", Secret: newSecret}); err != nil {
		t.Fatal(err)
	}
	if s := storedHook(); strings.Contains(s, newSecret) {
		t.Errorf("the changed secret stored as %q", s)
	} else if v, err := key.Open("webhook-secret", s); err != nil || v != newSecret {
		t.Errorf("the stored secret opens to %q %v", v, err)
	}

	const gwPass = "gw-pass-0123456789"
	if _, err := p.Service.SetGateway(ctx, admin, notify.Gateway{URL: "http://127.0.0.1:1/send", BaseURL: "https://zz.example",
		AuthHeader: "Authorization", AuthValue: gwPass}); err != nil {
		t.Fatal(err)
	}
	rawGateway := func() string {
		t.Helper()
		var raw json.RawMessage
		if err := p.DB.Setting(ctx, "sms_gateway", &raw); err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	if s := rawGateway(); strings.Contains(s, gwPass) || !strings.Contains(s, seal.Prefix) {
		t.Errorf("the gateway's setting holds %s", s)
	}
	if g, err := p.Service.Gateway(ctx, admin); err != nil || g.AuthValue != "******" {
		t.Errorf("the gateway shown as %+v %v", g, err)
	}

	// Rows from before secrets were sealed: plaintext, sealed at start.
	now := time.Now()
	err = p.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutSubscription(ctx, webhook.Subscription{ID: "plain-old", Name: "旧订阅", URL: "http://127.0.0.1:1/old",
			Events: []string{webhook.All}, RegionCode: "500103", RegionPath: "/500000/500103/", Secret: "old-plain-secret-123",
			State: webhook.Active, CreatedAt: now, CreatedBy: "t", UpdatedAt: now}); err != nil {
			return err
		}
		return tx.PutSetting(ctx, "sms_gateway", notify.Gateway{URL: "http://127.0.0.1:1/send", AuthHeader: "Authorization", AuthValue: "old-gw-pass-456"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := service.New(ctx, p.DB, service.Config{DefaultCenter: demo.District, Logger: quiet, SecretKey: key}); err != nil {
		t.Fatal(err)
	}
	if s, _ := p.DB.StoredSubscriptionSecret(ctx, "plain-old"); strings.Contains(s, "old-plain") || !seal.IsSealed(s) {
		t.Errorf("the old subscription's secret after start: %q", s)
	}
	if s := rawGateway(); strings.Contains(s, "old-gw-pass") || !strings.Contains(s, seal.Prefix) {
		t.Errorf("the old gateway setting after start: %s", s)
	}
	// Another key: the node refuses to start, naming the key.
	if _, err := service.New(ctx, p.DB, service.Config{DefaultCenter: demo.District, Logger: quiet, SecretKey: seal.Random()}); err == nil ||
		!strings.Contains(err.Error(), "secret key") {
		t.Errorf("a node with another key started: %v", err)
	}
}
