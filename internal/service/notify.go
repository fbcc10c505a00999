package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/notify"
	"zhizhi/internal/store"
)

// Notifications to people (issue 18, docs/notifications.md). The events a
// change makes (notify.FromStep) are written to the outbox in the change's
// own transaction; RunNotifier fans them out to inboxes and deliveries and
// sends the deliveries (Web Push, SMS through the operator's gateway), so a
// slow or failing channel never holds up a case action.

// notifier is this node's part: the live inboxes and the channels' clients.
type notifier struct {
	inbox  *inboxHub
	wake   chan struct{} // a commit wrote events: fan out now
	client *http.Client  // outbound calls (push services, the SMS gateway)
	vapid  struct {
		sync.Mutex
		pub, priv string
	}
}

func newNotifier() *notifier {
	return &notifier{inbox: newInboxHub(), wake: make(chan struct{}, 1), client: &http.Client{Timeout: 10 * time.Second}}
}

// SetNotifyClient replaces the HTTP client of the outbound channels (tests).
func (s *Service) SetNotifyClient(c *http.Client) { s.nt.client = c }

// inboxHub tells each account's live listeners that its inbox changed.
type inboxHub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newInboxHub() *inboxHub { return &inboxHub{subs: map[string]map[chan struct{}]struct{}{}} }

// InboxSub is one live listener of an account's inbox: C gets a value when
// the unread count may have changed.
type InboxSub struct {
	C       chan struct{}
	account string
	hub     *inboxHub
}

// Close stops the listener.
func (s *InboxSub) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if m := s.hub.subs[s.account]; m != nil {
		delete(m, s.C)
		if len(m) == 0 {
			delete(s.hub.subs, s.account)
		}
	}
}

func (h *inboxHub) subscribe(account string) *InboxSub {
	s := &InboxSub{C: make(chan struct{}, 1), account: account, hub: h}
	h.mu.Lock()
	if h.subs[account] == nil {
		h.subs[account] = map[chan struct{}]struct{}{}
	}
	h.subs[account][s.C] = struct{}{}
	h.mu.Unlock()
	return s
}

// publish never blocks: a listener already signalled needs no second signal.
func (h *inboxHub) publish(account string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs[account] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// SubscribeInbox starts listening for changes of the actor's inbox.
func (s *Service) SubscribeInbox(actor cases.Actor) *InboxSub {
	return s.nt.inbox.subscribe(actor.AccountID)
}

// notifyStep writes the events of a step to the outbox, in the step's
// transaction (held with the case's rows: no extra round trip).
func (s *Service) notifyStep(ctx context.Context, tx *store.Tx, c *cases.Case, step *cases.Step) error {
	events := notify.FromStep(c, step)
	for _, e := range events {
		if err := tx.PutNotifyEvent(ctx, id.At(step.At), e); err != nil {
			return err
		}
	}
	if len(events) > 0 {
		tx.AfterCommit(s.wakeNotifier)
	}
	return nil
}

// notifyMessage tells the grid's people of a message at its door (not of
// one held back as a flood: the grid chief screens those).
func (s *Service) notifyMessage(ctx context.Context, tx *store.Tx, m gridwork.Message) error {
	if m.Held {
		return nil
	}
	if err := tx.PutNotifyEvent(ctx, id.At(m.CreatedAt), notify.Message(m.GridPath, m.GridCode, m.CreatedAt)); err != nil {
		return err
	}
	tx.AfterCommit(s.wakeNotifier)
	return nil
}

func (s *Service) wakeNotifier() {
	select {
	case s.nt.wake <- struct{}{}:
	default:
	}
}

// RunNotifier fans out new events and sends due deliveries until ctx ends:
// at once after a commit on this node wrote events, otherwise every
// interval (events of other nodes, retries, the end of quiet hours).
func (s *Service) RunNotifier(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.FanOut(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("notifications: fan out", "err", err)
		}
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("notifications: deliver", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.nt.wake:
		}
	}
}

// fanOutSlice is how many events one fan-out transaction takes.
const fanOutSlice = 100

// FanOut turns pending events into inbox entries and deliveries, a slice
// of events per transaction, until none is left. It returns how many
// events it fanned out.
func (s *Service) FanOut(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.fanOutSlice(ctx)
		total += n
		if err != nil || n < fanOutSlice {
			return total, err
		}
	}
}

func (s *Service) fanOutSlice(ctx context.Context) (int, error) {
	now := s.Now()
	gw := s.gateway(ctx)
	loc := s.Calendar().Location()
	n := 0
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		evs, err := tx.ClaimNotifyEvents(ctx, fanOutSlice)
		if err != nil {
			return err
		}
		n = len(evs)
		told := map[string]bool{}
		for _, ev := range evs {
			e := ev.Event
			if e.To.Phone != "" {
				// A resident's SMS: sent whatever the hour (it answers their
				// own report), only through a configured gateway.
				if gw.Enabled() {
					if err := tx.InsertNotifyDelivery(ctx, store.NotifyDelivery{ID: id.At(now), EventID: ev.ID, Channel: notify.SMS, Target: e.To.Phone, NextAt: now, Event: e}); err != nil {
						return err
					}
				}
				continue
			}
			people, err := tx.Audience(ctx, e.To, e.CaseID)
			if err != nil {
				return err
			}
			ids := make([]string, len(people))
			for i, p := range people {
				ids[i] = p.ID
			}
			prefs, err := tx.PrefsOf(ctx, ids)
			if err != nil {
				return err
			}
			subs, err := tx.PushSubsOf(ctx, ids)
			if err != nil {
				return err
			}
			for _, p := range people {
				pr := prefs[p.ID]
				if !pr.Wants(e.Kind, e.Urgent) {
					continue
				}
				added, err := tx.InsertNotification(ctx, store.Notification{ID: id.At(now), AccountID: p.ID, EventID: ev.ID, Kind: e.Kind,
					CaseID: e.CaseID, Number: e.Number, Urgent: e.Urgent, Title: e.Title, Body: e.Body, Link: e.Link, At: e.At})
				if err != nil {
					return err
				}
				if !added {
					continue
				}
				told[p.ID] = true
				at := pr.SendAt(now, e.Urgent, loc)
				for _, ch := range pr.Channels(e.Kind) {
					switch ch {
					case notify.Push:
						for _, sub := range subs[p.ID] {
							if err := tx.InsertNotifyDelivery(ctx, store.NotifyDelivery{ID: id.At(now), EventID: ev.ID, AccountID: p.ID, Channel: notify.Push, Target: sub.ID, NextAt: at, Event: e}); err != nil {
								return err
							}
						}
					case notify.SMS:
						if p.Phone != "" && gw.Enabled() {
							if err := tx.InsertNotifyDelivery(ctx, store.NotifyDelivery{ID: id.At(now), EventID: ev.ID, AccountID: p.ID, Channel: notify.SMS, Target: p.Phone, NextAt: at, Event: e}); err != nil {
								return err
							}
						}
					}
				}
			}
		}
		for acct := range told {
			if err := tx.NotifyInbox(ctx, s.node, acct); err != nil {
				return err
			}
			tx.AfterCommit(func() { s.nt.inbox.publish(acct) })
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// deliverSlice is how many deliveries one pass claims; deliverLease how
// long a claim keeps other nodes off one (longer than a send can take).
const (
	deliverSlice = 50
	deliverLease = 2 * time.Minute
)

// Deliver sends the due deliveries: claims a slice, sends each outside any
// transaction, records each outcome (a failure waits notify.Backoff before
// the next try, and is given up after notify.MaxAttempts). It returns how
// many were sent.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	sent := 0
	for {
		now := s.Now()
		var claimed []store.NotifyDelivery
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			claimed, err = tx.ClaimNotifyDeliveries(ctx, now, deliverLease, deliverSlice)
			return err
		})
		if err != nil {
			return sent, err
		}
		if len(claimed) == 0 {
			return sent, nil
		}
		type outcome struct {
			d    store.NotifyDelivery
			err  error
			gone bool
		}
		// Targets in parallel (at most 8 at once); each target's messages
		// one after another in the order of their events, so a resident
		// reads "accepted" before "dispatched".
		outs := make([]outcome, len(claimed))
		byTarget := map[string][]int{}
		var order []string
		for i, d := range claimed {
			k := string(d.Channel) + " " + d.Target
			if byTarget[k] == nil {
				order = append(order, k)
			}
			byTarget[k] = append(byTarget[k], i)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, k := range order {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				for _, i := range byTarget[k] {
					gone, err := s.sendNotification(ctx, claimed[i])
					outs[i] = outcome{claimed[i], err, gone}
				}
			}()
		}
		wg.Wait()
		done := s.Now()
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			for _, o := range outs {
				if o.err == nil {
					if err := tx.FinishNotifyDelivery(ctx, o.d, true, "", time.Time{}, done); err != nil {
						return err
					}
					continue
				}
				var next time.Time
				if !o.gone && o.d.Attempts < notify.MaxAttempts {
					next = done.Add(notify.Backoff(o.d.Attempts))
				}
				if err := tx.FinishNotifyDelivery(ctx, o.d, false, o.err.Error(), next, done); err != nil {
					return err
				}
				if o.gone {
					// The browser unsubscribed or the push service forgot it.
					if _, err := tx.DeletePushSub(ctx, o.d.Target, ""); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return sent, err
		}
		for _, o := range outs {
			if o.err == nil {
				sent++
			} else {
				target := o.d.Target
				if o.d.Channel == notify.SMS {
					target = cases.MaskPhone(target)
				}
				s.log.Warn("notification not delivered", "channel", o.d.Channel, "target", target, "attempt", o.d.Attempts, "err", o.err)
			}
		}
		if len(claimed) < deliverSlice {
			return sent, nil
		}
	}
}

// send makes one delivery; gone says the target no longer exists (a push
// subscription the service answered 404 or 410 for): no retry.
func (s *Service) sendNotification(ctx context.Context, d store.NotifyDelivery) (gone bool, err error) {
	switch d.Channel {
	case notify.SMS:
		return false, s.sendSMS(ctx, d)
	case notify.Push:
		return s.sendPush(ctx, d)
	}
	return true, fmt.Errorf("unknown channel %q", d.Channel)
}

// smsBody is what the gateway receives.
type smsBody struct {
	ID    string      `json:"id"` // the delivery's ID: the gateway may drop a repeat
	Phone string      `json:"phone"`
	Text  string      `json:"text"`
	Kind  notify.Kind `json:"kind"`
}

func (s *Service) sendSMS(ctx context.Context, d store.NotifyDelivery) error {
	return s.postSMS(ctx, s.gateway(ctx), d)
}

// postSMS posts one message to the gateway gw.
func (s *Service) postSMS(ctx context.Context, gw notify.Gateway, d store.NotifyDelivery) error {
	if !gw.Enabled() {
		return errors.New("no SMS gateway configured")
	}
	b, _ := json.Marshal(smsBody{ID: d.ID, Phone: d.Target, Text: gw.Text(d.Event), Kind: d.Event.Kind})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gw.URL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Idempotency-Key", d.ID)
	if gw.AuthHeader != "" {
		req.Header.Set(gw.AuthHeader, gw.AuthValue)
	}
	resp, err := s.nt.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("gateway answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// pushPayload is what the service worker receives (sw.js).
type pushPayload struct {
	Title  string `json:"title"`
	Body   string `json:"body,omitempty"`
	URL    string `json:"url"`
	Tag    string `json:"tag"`
	Urgent bool   `json:"urgent,omitempty"`
}

func (s *Service) sendPush(ctx context.Context, d store.NotifyDelivery) (bool, error) {
	sub, err := s.db.PushSubscription(ctx, d.Target)
	if errors.Is(err, store.ErrNotFound) {
		return true, errors.New("push subscription removed")
	} else if err != nil {
		return false, err
	}
	pub, priv, err := s.VAPIDKeys(ctx)
	if err != nil {
		return false, err
	}
	link := d.Event.Link
	if link == "" {
		link = "/"
	}
	title := d.Event.Title
	if d.Event.Number != "" && !strings.Contains(title, d.Event.Number) {
		title += "（" + d.Event.Number + "）"
	}
	payload, _ := json.Marshal(pushPayload{Title: title, Body: d.Event.Kind.Label(), URL: link, Tag: d.EventID, Urgent: d.Event.Urgent})
	urgency := webpush.UrgencyNormal
	if d.Event.Urgent {
		urgency = webpush.UrgencyHigh
	}
	gw := s.gateway(ctx)
	// The contact push services may use: the platform's address when it
	// is https, otherwise an address the library sends as mailto:.
	subscriber := "notify@zhizhi.invalid"
	if strings.HasPrefix(gw.BaseURL, "https:") {
		subscriber = gw.BaseURL
	}
	resp, err := webpush.SendNotificationWithContext(ctx, payload, &webpush.Subscription{Endpoint: sub.Endpoint,
		Keys: webpush.Keys{P256dh: sub.P256dh, Auth: sub.Auth}}, &webpush.Options{
		HTTPClient: s.nt.client, Subscriber: subscriber, VAPIDPublicKey: pub, VAPIDPrivateKey: priv,
		TTL: 24 * 3600, Urgency: urgency, Topic: topic(d.EventID)})
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<12))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return true, fmt.Errorf("push service answered %d: subscription expired", resp.StatusCode)
	case resp.StatusCode/100 != 2:
		return false, fmt.Errorf("push service answered %d", resp.StatusCode)
	}
	return false, nil
}

// topic is a push topic (at most 32 URL-safe characters) for an event, so
// a push service replaces an undelivered repeat.
func topic(eventID string) string {
	h := sha256.Sum256([]byte(eventID))
	return hex.EncodeToString(h[:16])
}

// vapidSetting is where the installation's VAPID key pair is kept.
const vapidSetting = "vapid_keys"

type vapidKeys struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

// VAPIDKeys returns the installation's VAPID key pair, made once and kept
// in the database (the first node to make one wins; every node then reads
// that one).
func (s *Service) VAPIDKeys(ctx context.Context) (pub, priv string, err error) {
	v := &s.nt.vapid
	v.Lock()
	defer v.Unlock()
	if v.pub != "" {
		return v.pub, v.priv, nil
	}
	var k vapidKeys
	err = s.db.Setting(ctx, vapidSetting, &k)
	if errors.Is(err, store.ErrNotFound) {
		fresh, ferr := newVAPIDKeys()
		if ferr != nil {
			return "", "", ferr
		}
		if werr := s.db.Write(ctx, func(tx *store.Tx) error {
			return tx.InitSetting(ctx, vapidSetting, fresh)
		}); werr != nil {
			return "", "", werr
		}
		err = s.db.Setting(ctx, vapidSetting, &k)
	}
	if err != nil {
		return "", "", err
	}
	v.pub, v.priv = k.Public, k.Private
	return v.pub, v.priv, nil
}

func newVAPIDKeys() (vapidKeys, error) {
	priv, pub, err := webpush.GenerateVAPIDKeys()
	return vapidKeys{Public: pub, Private: priv}, err
}

// gatewaySetting is where the SMS gateway's settings are kept.
const gatewaySetting = "sms_gateway"

// gateway returns the SMS gateway settings (none when unset or unreadable).
func (s *Service) gateway(ctx context.Context) notify.Gateway {
	var g notify.Gateway
	if err := s.db.Setting(ctx, gatewaySetting, &g); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("notifications: read the SMS gateway settings", "err", err)
	}
	v, err := s.key.Open(purposeGateway, g.AuthValue) // stored sealed
	if err != nil {
		s.log.Warn("notifications: the SMS gateway's auth value does not open", "err", err)
	}
	g.AuthValue = v
	return g
}

// Gateway returns the SMS gateway's settings as administrators see them
// (the auth value masked).
func (s *Service) Gateway(ctx context.Context, actor cases.Actor) (notify.Gateway, error) {
	if actor.Role != cases.RoleAdmin {
		return notify.Gateway{}, apperr.New(apperr.Forbidden, "只有管理员可以查看短信网关设置")
	}
	return s.gateway(ctx).Redacted(), nil
}

// SetGateway stores the SMS gateway's settings (administrators of a
// district or above). An auth value given as the mask keeps the one stored.
func (s *Service) SetGateway(ctx context.Context, actor cases.Actor, g notify.Gateway) (notify.Gateway, error) {
	if err := requireDistrictWide(actor, "短信网关"); err != nil {
		return notify.Gateway{}, err
	}
	old := s.gateway(ctx)
	if g.AuthValue == "******" {
		g.AuthValue = old.AuthValue
	}
	g.URL, g.BaseURL = strings.TrimSpace(g.URL), strings.TrimRight(strings.TrimSpace(g.BaseURL), "/")
	if err := g.Validate(); err != nil {
		return notify.Gateway{}, err
	}
	stored := g
	stored.AuthValue = s.key.Seal(purposeGateway, g.AuthValue) // never stored in plaintext
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, gatewaySetting, stored); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "sms_gateway", "sms_gateway", old.Enabled(), old.Redacted(), g.Redacted()))
	})
	return g.Redacted(), err
}

// smsTestKind is the kind a test message carries to the gateway.
const smsTestKind notify.Kind = "test"

// mobile is a mainland mobile number.
var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// SendTestSMS sends one test message to phone through the configured
// gateway at once (administrators of a district or above, who maintain
// it) and returns the text sent; a gateway that fails answers with its
// status. The attempt is audited with the number masked.
func (s *Service) SendTestSMS(ctx context.Context, actor cases.Actor, phone string) (string, error) {
	if err := requireDistrictWide(actor, "短信网关"); err != nil {
		return "", err
	}
	phone = strings.TrimSpace(phone)
	if !mobile.MatchString(phone) {
		return "", apperr.Field("phone", "请填写11位手机号码")
	}
	gw := s.gateway(ctx)
	if !gw.Enabled() {
		return "", apperr.Field("url", "尚未配置短信网关地址，请先保存设置")
	}
	e := notify.Event{Kind: smsTestKind, Title: "短信网关测试：收到本消息说明短信网关配置正确。", At: s.Now()}
	d := store.NotifyDelivery{ID: id.New(), Channel: notify.SMS, Target: phone, Event: e}
	err := s.postSMS(ctx, gw, d)
	result := "sent"
	if err != nil {
		result = err.Error()
	}
	if aerr := s.db.Write(ctx, func(tx *store.Tx) error {
		entry := s.auditEntry(actor, "sms_gateway", "sms_gateway", true, nil, map[string]string{"test_to": cases.MaskPhone(phone), "result": result})
		entry.Action = "test"
		return tx.Audit(ctx, entry)
	}); aerr != nil {
		return "", aerr
	}
	if err != nil {
		return "", apperr.New(apperr.Refused, "测试短信发送失败："+err.Error())
	}
	return gw.Text(e), nil
}

// Notifications lists the actor's inbox, newest first.
func (s *Service) Notifications(ctx context.Context, actor cases.Actor, f store.InboxFilter) ([]store.Notification, error) {
	if actor.AccountID == "" {
		return nil, apperr.New(apperr.Forbidden, "没有收件箱")
	}
	f.Account = actor.AccountID
	return s.db.Notifications(ctx, f)
}

// Unread counts the actor's unread notifications.
func (s *Service) Unread(ctx context.Context, actor cases.Actor) (int, error) {
	if actor.AccountID == "" {
		return 0, nil
	}
	return s.db.Unread(ctx, actor.AccountID)
}

// MarkRead marks one of the actor's notifications read.
func (s *Service) MarkRead(ctx context.Context, actor cases.Actor, notificationID string) error {
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.MarkRead(ctx, actor.AccountID, notificationID, s.Now()); errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.NotFound, "提醒不存在")
		} else if err != nil {
			return err
		}
		tx.AfterCommit(func() { s.nt.inbox.publish(actor.AccountID) })
		return tx.NotifyInbox(ctx, s.node, actor.AccountID)
	})
	return err
}

// MarkAllRead marks all the actor's notifications read.
func (s *Service) MarkAllRead(ctx context.Context, actor cases.Actor) (int, error) {
	n := 0
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if n, err = tx.MarkAllRead(ctx, actor.AccountID, s.Now()); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.nt.inbox.publish(actor.AccountID) })
		return tx.NotifyInbox(ctx, s.node, actor.AccountID)
	})
	return n, err
}

// Prefs returns the actor's notification preferences.
func (s *Service) Prefs(ctx context.Context, actor cases.Actor) (notify.Prefs, error) {
	return s.db.Prefs(ctx, actor.AccountID)
}

// SetPrefs stores the actor's notification preferences.
func (s *Service) SetPrefs(ctx context.Context, actor cases.Actor, p notify.Prefs) (notify.Prefs, error) {
	if actor.AccountID == "" {
		return p, apperr.New(apperr.Forbidden, "没有可设置的账号")
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	return p, s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutPrefs(ctx, actor.AccountID, p) })
}

// PushInput is a browser's push subscription as PushManager.subscribe gives it.
type PushInput struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// pushSubID names a subscription by its endpoint.
func pushSubID(endpoint string) string {
	h := sha256.Sum256([]byte(endpoint))
	return hex.EncodeToString(h[:16])
}

// Subscribe stores the actor's browser's push subscription.
func (s *Service) Subscribe(ctx context.Context, actor cases.Actor, in PushInput) (store.PushSub, error) {
	var f apperr.Fields
	if !strings.HasPrefix(in.Endpoint, "https://") && !strings.HasPrefix(in.Endpoint, "http://") || len(in.Endpoint) > 2000 {
		f.Add("endpoint", "推送地址无效")
	}
	if len(in.Keys.P256dh) < 80 || len(in.Keys.P256dh) > 100 {
		f.Add("keys.p256dh", "推送公钥无效")
	}
	if len(in.Keys.Auth) < 16 || len(in.Keys.Auth) > 32 {
		f.Add("keys.auth", "推送认证密钥无效")
	}
	if err := f.Err(); err != nil {
		return store.PushSub{}, err
	}
	if actor.AccountID == "" {
		return store.PushSub{}, apperr.New(apperr.Forbidden, "没有可订阅的账号")
	}
	sub := store.PushSub{ID: pushSubID(in.Endpoint), AccountID: actor.AccountID, Endpoint: in.Endpoint,
		P256dh: in.Keys.P256dh, Auth: in.Keys.Auth, CreatedAt: s.Now()}
	return sub, s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutPushSub(ctx, sub) })
}

// Unsubscribe removes the actor's push subscription of an endpoint. Like
// any DELETE it may be repeated: an endpoint the actor has no subscription
// for (none, or another account's) changes nothing and is no error.
func (s *Service) Unsubscribe(ctx context.Context, actor cases.Actor, endpoint string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.DeletePushSub(ctx, pushSubID(endpoint), actor.AccountID)
		return err
	})
}
