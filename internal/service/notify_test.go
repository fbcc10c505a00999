package service_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/notify"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// smsGateway stands in for the operator's SMS gateway: it keeps what it
// receives and answers with status (200 unless set).
type smsGateway struct {
	mu     sync.Mutex
	got    []map[string]string
	auth   []string
	status int
}

func (g *smsGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]string
	json.NewDecoder(r.Body).Decode(&m)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.status != 0 && g.status != 200 {
		w.WriteHeader(g.status)
		io.WriteString(w, "gateway down")
		return
	}
	g.got = append(g.got, m)
	g.auth = append(g.auth, r.Header.Get("X-Api-Key"))
}

func (g *smsGateway) texts(phone string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, m := range g.got {
		if m["phone"] == phone {
			out = append(out, m["kind"]+": "+m["text"])
		}
	}
	return out
}

type notifyWorld struct {
	p   *server.Platform
	svc *service.Service
	gw  *smsGateway
	pt  cases.Report
}

func newNotifyWorld(t *testing.T) *notifyWorld {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	p, err := server.Open(ctx, server.Config{DB: filepath.Join(dir, "z.db"), DataDir: dir, DefaultCenter: demo.District})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 5, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	settleDemo(t, p)
	w := &notifyWorld{p: p, svc: p.Service, gw: &smsGateway{}}
	srv := httptest.NewServer(w.gw)
	t.Cleanup(srv.Close)
	admin := w.actor(t, "admin")
	if _, err := w.svc.SetGateway(ctx, admin, notify.Gateway{URL: srv.URL + "/send", BaseURL: "https://zz.example", AuthHeader: "X-Api-Key", AuthValue: "k-123",
		Templates: map[notify.Kind]string{notify.ResidentClosed: "【测试】{number}已办结，请评价：{link}"}}); err != nil {
		t.Fatal(err)
	}
	// A point in 周春燕's grid (新影村, 石油路街道, whose commander is syl_zhihui).
	gw, _ := p.DB.AccountByUsername(ctx, "zhouchunyan")
	grids, err := p.DB.Regions(ctx, store.RegionFilter{Level: "grid", Under: gw.RegionPath, WithShape: true})
	if err != nil || len(grids) == 0 {
		t.Fatal("no grids", err)
	}
	pt := grids[0].Shape.Centroid()
	w.pt = cases.Report{Category: "MS03", Description: "小区门口垃圾堆放多日", Point: &pt, Reporter: cases.Reporter{Name: "李女士", Phone: "13912345678"}}
	return w
}

func (w *notifyWorld) actor(t *testing.T, username string) cases.Actor {
	t.Helper()
	a, err := w.p.DB.AccountByUsername(context.Background(), username)
	if err != nil {
		t.Fatalf("%s: %v", username, err)
	}
	return w.svc.ActorOf(a)
}

// report files the resident's report through the anonymous door.
func (w *notifyWorld) report(t *testing.T) cases.Case {
	t.Helper()
	ctx := context.Background()
	tok, err := w.svc.FormToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.svc.ReportAnonymous(ctx, service.Knock{Client: "192.0.2.7", Token: tok}, w.pt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *notifyWorld) act(t *testing.T, a cases.Actor, c cases.Case, cmd cases.Command) {
	t.Helper()
	if _, _, err := w.svc.Act(context.Background(), a, c.ID, cmd, 0); err != nil {
		t.Fatalf("%s: %v", cmd.Action, err)
	}
}

// flush fans out and delivers what is pending.
func (w *notifyWorld) flush(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.svc.FanOut(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *notifyWorld) inbox(t *testing.T, username string) []store.Notification {
	t.Helper()
	list, err := w.svc.Notifications(context.Background(), w.actor(t, username), store.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func kindsOf(list []store.Notification, caseID string) []notify.Kind {
	var out []notify.Kind
	for _, n := range list {
		if n.CaseID == caseID {
			out = append(out, n.Kind)
		}
	}
	return out
}

// TestNotifyCaseLoop: a resident's case through accept, dispatch and
// close. The unit's people get the dispatch in their inbox (the commander
// who dispatched gets nothing of their own step), the center gets the
// feedback to verify... and the resident gets three SMS through the
// gateway with the operator's template, the link to the resident page.
func TestNotifyCaseLoop(t *testing.T) {
	w := newNotifyWorld(t)
	ctx := context.Background()
	commander := w.actor(t, "syl_zhihui")
	unit := w.actor(t, "cg_staff")
	c := w.report(t)
	w.act(t, commander, c, cases.Command{Action: cases.ActAccept})
	w.act(t, commander, c, cases.Command{Action: cases.ActDispatch, Lead: "cg"})
	w.flush(t)
	got := w.inbox(t, "cg_staff")
	if k := kindsOf(got, c.ID); !slices.Equal(k, []notify.Kind{notify.Dispatched}) {
		t.Fatalf("cg_staff's inbox: %v", k)
	}
	if got[0].Link != "/cases/"+c.ID || !strings.Contains(got[0].Title, c.Number) {
		t.Errorf("notification %+v", got[0])
	}
	if k := kindsOf(w.inbox(t, "syl_zhihui"), c.ID); len(k) != 0 {
		t.Errorf("the dispatching commander is told of their own step: %v", k)
	}
	if k := kindsOf(w.inbox(t, "yj_staff"), c.ID); len(k) != 0 {
		t.Errorf("another unit is told: %v", k)
	}
	if n, _ := w.svc.Unread(ctx, unit); n != 1 {
		t.Errorf("unread %d", n)
	}
	w.act(t, unit, c, cases.Command{Action: cases.ActSign})
	w.act(t, unit, c, cases.Command{Action: cases.ActFeedback, Note: "已清运"})
	w.act(t, commander, c, cases.Command{Action: cases.ActClose})
	w.flush(t)
	// The grid's worker is asked to verify (the case lies in her grid).
	if k := kindsOf(w.inbox(t, "zhouchunyan"), c.ID); !slices.Equal(k, []notify.Kind{notify.ToVerify}) {
		t.Errorf("zhouchunyan's inbox: %v", k)
	}
	texts := w.gw.texts("13912345678")
	want := []string{
		"resident_accepted: 【智治】您反映的问题（编号" + c.Number + "）已受理，我们将尽快安排处置。",
		"resident_dispatched: 【智治】您反映的问题（编号" + c.Number + "）已派遣至承办单位处置。",
		"resident_closed: 【测试】" + c.Number + "已办结，请评价：https://zz.example/r/follow?number=" + c.Number,
	}
	if !slices.Equal(texts, want) {
		t.Errorf("the resident's SMS:\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range w.gw.auth {
		if a != "k-123" {
			t.Errorf("gateway auth header %q", a)
		}
	}
	// Marks: one read, then all.
	if err := w.svc.MarkRead(ctx, unit, got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.MarkRead(ctx, w.actor(t, "yj_staff"), got[0].ID); err == nil {
		t.Error("marked another's notification")
	}
	if n, _ := w.svc.Unread(ctx, unit); n != 0 {
		t.Errorf("unread after read: %d", n)
	}
	// The gateway's settings as shown back never carry the secret.
	g, err := w.svc.Gateway(ctx, w.actor(t, "admin"))
	if err != nil || g.AuthValue == "k-123" {
		t.Errorf("gateway shown back: %+v %v", g, err)
	}
}

// TestNotifyRedClockAndQuietHours: a red clock tells the unit, the center's
// commander and the supervising leader, urgently, with a push at once even
// in quiet hours; the dispatch's push to the same person in quiet hours
// waits until they end. A failing gateway fails no case action: the SMS
// waits for its retry.
func TestNotifyRedClockAndQuietHours(t *testing.T) {
	w := newNotifyWorld(t)
	ctx := context.Background()
	commander := w.actor(t, "syl_zhihui")
	unit := w.actor(t, "cg_staff")
	leader := w.actor(t, "leader")
	push := newPushService(t)
	sub := push.subscribe(t, w.svc, unit)
	// Quiet hours around now for cg_staff.
	loc := w.svc.Calendar().Location()
	now := time.Now().In(loc)
	quiet := notify.Prefs{QuietFrom: now.Add(-time.Hour).Format("15:04"), QuietTo: now.Add(time.Hour).Format("15:04")}
	if _, err := w.svc.SetPrefs(ctx, unit, quiet); err != nil {
		t.Fatal(err)
	}
	w.gw.mu.Lock()
	w.gw.status = 502
	w.gw.mu.Unlock()
	c := w.report(t)
	w.act(t, commander, c, cases.Command{Action: cases.ActAccept})
	w.act(t, commander, c, cases.Command{Action: cases.ActDispatch, Lead: "cg"})
	w.flush(t)
	// The gateway failed: the actions went through, the SMS waits.
	sms, err := w.p.DB.Deliveries(ctx, store.DeliveryFilter{Channel: notify.SMS})
	if err != nil || len(sms) != 2 {
		t.Fatalf("SMS deliveries %d %v", len(sms), err)
	}
	for _, d := range sms {
		if d.State != "pending" || d.Attempts != 1 || !strings.Contains(d.LastError, "502") || !d.NextAt.After(time.Now()) {
			t.Errorf("failed SMS: %+v", d)
		}
	}
	pushes, _ := w.p.DB.Deliveries(ctx, store.DeliveryFilter{Channel: notify.Push, Account: unit.AccountID})
	if len(pushes) != 1 || pushes[0].State != "pending" || pushes[0].Attempts != 0 || pushes[0].NextAt.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("the dispatch's push in quiet hours: %+v", pushes)
	}
	if _, _, err := w.svc.Supervise(ctx, leader, c.ID, service.SuperviseInput{Note: "请尽快清运", Limit: sla.Limit{Amount: 1, Unit: sla.WorkDays}}); err != nil {
		t.Fatal(err)
	}
	// Long after every clock's due: the sign clock turns yellow and red.
	if _, err := w.svc.Sweep(ctx, time.Now().Add(30*24*time.Hour), 200); err != nil {
		t.Fatal(err)
	}
	w.flush(t)
	red := func(username string) *store.Notification {
		for _, n := range w.inbox(t, username) {
			if n.CaseID == c.ID && n.Kind == notify.ClockRed {
				return &n
			}
		}
		return nil
	}
	for _, who := range []string{"cg_staff", "syl_zhihui", "leader"} {
		if n := red(who); n == nil || !n.Urgent {
			t.Errorf("%s: red clock %+v", who, n)
		}
	}
	if k := kindsOf(w.inbox(t, "cg_staff"), c.ID); !slices.Contains(k, notify.Supervised) {
		t.Errorf("cg_staff not told of the supervision: %v", k)
	}
	// The urgent push went out at once, through quiet hours, and the
	// browser's key opens it.
	msgs := push.messages()
	if len(msgs) == 0 {
		t.Fatal("no push received")
	}
	// (The demo's own cases dispatched to cg turn red too: pick this case's.)
	type payload struct {
		Title, URL string
		Urgent     bool
	}
	var mine []payload
	var urgency []string
	for _, m := range msgs {
		var p payload
		if err := json.Unmarshal(m.plain, &p); err != nil {
			t.Fatalf("push payload %q: %v", m.plain, err)
		}
		if p.URL == "/cases/"+c.ID {
			mine, urgency = append(mine, p), append(urgency, m.urgency)
		}
	}
	if len(mine) == 0 {
		t.Fatalf("no push of the case among %d", len(msgs))
	}
	for i, p := range mine {
		if !p.Urgent || !strings.Contains(p.Title, c.Number) || urgency[i] != "high" {
			t.Errorf("push %+v urgency %q", p, urgency[i])
		}
	}
	for _, m := range msgs {
		if m.sub != sub {
			t.Errorf("push to %s", m.sub)
		}
	}
	// The quiet-hours push is still waiting.
	pushes, _ = w.p.DB.Deliveries(ctx, store.DeliveryFilter{Channel: notify.Push, Account: unit.AccountID})
	waiting := 0
	for _, d := range pushes {
		if d.State == "pending" && d.Event.Kind == notify.Dispatched {
			waiting++
		}
	}
	if waiting != 1 {
		t.Errorf("%d dispatch pushes waiting, want 1", waiting)
	}
}

// pushService stands in for a browser vendor's push service: it checks
// each request's VAPID JWT (ES256 under the key the request names, which
// must be the installation's, audience its origin, not expired) and
// decrypts the aes128gcm body (RFC 8291) with the browser's keys.
type pushService struct {
	srv  *httptest.Server
	priv *ecdh.PrivateKey
	auth []byte
	t    *testing.T
	mu   sync.Mutex
	got  []pushMsg
	key  string // the VAPID public key expected
}

type pushMsg struct {
	sub     string
	plain   []byte
	urgency string
}

func newPushService(t *testing.T) *pushService {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ps := &pushService{priv: priv, auth: make([]byte, 16), t: t}
	rand.Read(ps.auth)
	ps.srv = httptest.NewServer(http.HandlerFunc(ps.serve))
	t.Cleanup(ps.srv.Close)
	return ps
}

func (ps *pushService) subscribe(t *testing.T, svc *service.Service, a cases.Actor) string {
	t.Helper()
	var in service.PushInput
	in.Endpoint = ps.srv.URL + "/push/abc"
	in.Keys.P256dh = base64.RawURLEncoding.EncodeToString(ps.priv.PublicKey().Bytes())
	in.Keys.Auth = base64.RawURLEncoding.EncodeToString(ps.auth)
	sub, err := svc.Subscribe(context.Background(), a, in)
	if err != nil {
		t.Fatal(err)
	}
	ps.key, _, err = svc.VAPIDKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sub.Endpoint
}

func (ps *pushService) messages() []pushMsg {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return slices.Clone(ps.got)
}

func (ps *pushService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := ps.checkVAPID(r.Header.Get("Authorization")); err != nil {
		ps.t.Errorf("VAPID: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		ps.t.Errorf("headers %v", r.Header)
	}
	plain, err := ps.decrypt(body)
	if err != nil {
		ps.t.Errorf("decrypt: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ps.mu.Lock()
	ps.got = append(ps.got, pushMsg{sub: ps.srv.URL + r.URL.Path, plain: plain, urgency: r.Header.Get("Urgency")})
	ps.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

func (ps *pushService) checkVAPID(h string) error {
	rest, ok := strings.CutPrefix(h, "vapid t=")
	if !ok {
		return fmt.Errorf("authorization %q", h)
	}
	tok, k, ok := strings.Cut(rest, ", k=")
	if !ok {
		return fmt.Errorf("authorization %q", h)
	}
	want, _ := base64.RawURLEncoding.DecodeString(strings.TrimRight(ps.key, "="))
	if wantAlt, err := base64.URLEncoding.DecodeString(ps.key); err == nil {
		want = wantAlt
	}
	kb, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil || !bytes.Equal(kb, want) {
		return fmt.Errorf("k is not the installation's key")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("jwt %q", tok)
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), kb)
	if x == nil {
		return fmt.Errorf("bad key")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("signature does not verify")
	}
	var hdr struct{ Alg string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(hb, &hdr)
	var claims struct {
		Aud string
		Exp int64
		Sub string
	}
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(cb, &claims); err != nil {
		return err
	}
	if hdr.Alg != "ES256" || claims.Aud != ps.srv.URL || claims.Exp < time.Now().Unix() || claims.Exp > time.Now().Add(24*time.Hour).Unix() ||
		!strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return fmt.Errorf("claims %+v alg %s", claims, hdr.Alg)
	}
	return nil
}

// decrypt opens an aes128gcm body (RFC 8188) with the keys of RFC 8291.
func (ps *pushService) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("short body")
	}
	salt, idlen := body[:16], int(body[20])
	if len(body) < 21+idlen {
		return nil, fmt.Errorf("short header")
	}
	asPub, ct := body[21:21+idlen], body[21+idlen:]
	peer, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, err
	}
	secret, err := ps.priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), ps.priv.PublicKey().Bytes()...), asPub...)
	ikm, err := hkdf.Key(sha256.New, secret, ps.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, fmt.Errorf("no last-record delimiter")
	}
	return plain[:i], nil
}

// settleDemo fans out what the demo's own steps announced (its supervisions,
// dispatches…) and marks it all read, before any device subscribes, so a
// test counts only the notifications of its own steps. Which demo cases
// announce what depends on the time of day the demo is generated at.
func settleDemo(t *testing.T, p *server.Platform) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		n, err := p.Service.FanOut(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	accts, err := p.DB.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if _, err := p.Service.MarkAllRead(ctx, p.Service.ActorOf(a)); err != nil {
			t.Fatal(err)
		}
	}
}
