package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/notify"
	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

// Webhooks (issue 18, docs/webhooks.md): subscriptions are administered
// here; every case write calls enqueueHooks in its own transaction, which
// writes one event row for the step, with its body; RunWebhooks, a
// background loop on every node, fans events out into one narrow delivery
// row per subscription that takes them (fanOutHooks, in its own
// transactions; the body stays with the event, once), claims due
// deliveries with their event's body, sends them signed and records each
// outcome (an event goes with its last delivery). A case action never waits for a
// receiver, and its cost does not grow with the number of subscriptions.

// hookState is this node's copy of the subscriptions (reloaded with the
// reference data, so every node's writes see a change within a reload) and
// the bell that wakes the delivery loop after a local commit.
type hookState struct {
	subs   atomic.Pointer[[]webhook.Subscription]
	wake   chan struct{}
	once   sync.Once
	sent   atomic.Int64 // deliveries acknowledged by receivers, on this node
	fail   atomic.Int64 // failed attempts, on this node
	fanned atomic.Int64 // events fanned out by this node
}

func (h *hookState) bell() chan struct{} {
	h.once.Do(func() { h.wake = make(chan struct{}, 1) })
	return h.wake
}

func (s *Service) wakeHooks() {
	select {
	case s.hooks.bell() <- struct{}{}:
	default:
	}
}

// reloadHooks reads the subscriptions into this node's cache.
func (s *Service) reloadHooks(ctx context.Context) error {
	subs, err := s.db.Subscriptions(ctx)
	if err != nil {
		return err
	}
	s.hooks.subs.Store(&subs)
	return nil
}

// enqueueHooks writes the event of a case's step, in the transaction that
// writes the step: one row whatever the number of subscriptions that take
// it (the fan-out, fanOutHooks, writes their deliveries later), so the
// event exists if and only if the change commits. A step no subscription
// known to this node takes writes nothing. A paused subscription's events
// are queued too, for when it is resumed.
func (s *Service) enqueueHooks(ctx context.Context, tx *store.Tx, c *cases.Case, st *cases.Step) error {
	p := s.hooks.subs.Load()
	if p == nil || len(*p) == 0 {
		return nil
	}
	f := webhook.FactsOf(c, st)
	wanted := false
	for i := range *p {
		if (*p)[i].Wants(f) {
			wanted = true
			break
		}
	}
	if !wanted {
		return nil
	}
	body, err := webhook.Build(c, st).Encode()
	if err != nil {
		return err
	}
	if err := tx.PutHookEvent(ctx, store.HookEvent{CaseID: c.ID, Seq: st.Seq, EventID: st.ID, Facts: f, QueuedAt: s.Now(), Body: body}); err != nil {
		return err
	}
	tx.AfterCommit(s.wakeHooks)
	return nil
}

// fanOutHooks turns up to limit queued events into deliveries, in one
// write transaction: one narrow outbox row per subscription that takes the
// event (matched against the stored subscriptions, of any state; one
// created after the event was queued does not take it), and the events
// marked fanned (they keep the body their deliveries send) or, taken by
// none, deleted — all or nothing, so a crash never loses or repeats a
// fan-out. On
// PostgreSQL nodes fanning out at once take different events (SKIP
// LOCKED); the claim keeps each case's order meanwhile. It returns how many
// events it took.
func (s *Service) fanOutHooks(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		evs, err := tx.ClaimHookEvents(ctx, limit)
		if err != nil || len(evs) == 0 {
			n = 0
			return err
		}
		n = len(evs)
		subs, err := tx.FanOutSubscriptions(ctx)
		if err != nil {
			return err
		}
		taken := make([]bool, len(evs))
		for i, e := range evs {
			for _, sub := range webhook.Fan(subs, e.Facts, e.QueuedAt) {
				taken[i] = true
				if err := tx.PutOutbox(ctx, sub.ID, e.CaseID, e.Seq, e.QueuedAt); err != nil {
					return err
				}
			}
		}
		if err := tx.FannedHookEvents(ctx, evs, taken); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.hooks.fanned.Add(int64(n)) })
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// WebhookStats are this node's delivery counts (metrics, benchmarks).
func (s *Service) WebhookStats() (sent, failed int64) {
	return s.hooks.sent.Load(), s.hooks.fail.Load()
}

// WebhookFanned is how many events this node fanned out (tests, metrics).
func (s *Service) WebhookFanned() int64 { return s.hooks.fanned.Load() }

// SubscriptionView is a subscription as its administrators see it.
type SubscriptionView struct {
	webhook.Subscription
	Queued int    `json:"queued"` // events waiting for delivery
	Scope  string `json:"scope"`  // the region's or unit's name
}

// subPath is where a subscription lies for its administrators: its
// region, or its unit's region.
func (s *Service) subPath(sub webhook.Subscription) string {
	if sub.RegionPath != "" {
		return sub.RegionPath
	}
	if u, ok := s.Unit(sub.UnitID); ok {
		return u.RegionPath
	}
	return ""
}

func requireHookAdmin(actor cases.Actor) error {
	if actor.Role != cases.RoleAdmin && actor.Role != cases.RoleSystem {
		return apperr.New(apperr.Forbidden, "只有管理员可以管理推送订阅")
	}
	return nil
}

// Subscriptions lists the subscriptions the actor administers.
func (s *Service) Subscriptions(ctx context.Context, actor cases.Actor) ([]SubscriptionView, error) {
	if err := requireHookAdmin(actor); err != nil {
		return nil, err
	}
	subs, err := s.db.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	queued, err := s.db.OutboxCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := []SubscriptionView{}
	for _, sub := range subs {
		if administers(actor, s.subPath(sub)) {
			out = append(out, s.viewSub(sub, queued[sub.ID]))
		}
	}
	return out, nil
}

func (s *Service) viewSub(sub webhook.Subscription, queued int) SubscriptionView {
	v := SubscriptionView{Subscription: sub, Queued: queued}
	if sub.RegionCode != "" {
		v.Scope = s.RegionName(sub.RegionCode)
	} else if u, ok := s.Unit(sub.UnitID); ok {
		v.Scope = u.Name
	}
	return v
}

// Subscription reads one subscription the actor administers.
func (s *Service) Subscription(ctx context.Context, actor cases.Actor, subID string) (SubscriptionView, error) {
	if err := requireHookAdmin(actor); err != nil {
		return SubscriptionView{}, err
	}
	subs, err := s.Subscriptions(ctx, actor)
	if err != nil {
		return SubscriptionView{}, err
	}
	for _, v := range subs {
		if v.ID == subID {
			return v, nil
		}
	}
	return SubscriptionView{}, apperr.New(apperr.NotFound, "推送订阅不存在")
}

// scopeOf checks an input's scope against the reference data and the
// administrator's subtree.
func (s *Service) scopeOf(actor cases.Actor, in webhook.Input, sub *webhook.Subscription) error {
	sub.RegionCode, sub.RegionPath, sub.UnitID = "", "", ""
	if in.RegionCode != "" {
		p, ok := s.RegionPath(in.RegionCode)
		if !ok {
			return apperr.Field("region_code", "区域不存在")
		}
		if !administers(actor, p) {
			return apperr.Field("region_code", "只能订阅您管辖范围内的区域")
		}
		sub.RegionCode, sub.RegionPath = in.RegionCode, p
		return nil
	}
	u, ok := s.Unit(in.UnitID)
	if !ok {
		return apperr.Field("unit_id", "单位不存在")
	}
	if !administers(actor, u.RegionPath) {
		return apperr.Field("unit_id", "只能订阅您管辖范围内的单位")
	}
	sub.UnitID = u.ID
	return nil
}

// CreateSubscription validates and stores a subscription; its secret (the
// one given, or a generated one) is returned once.
func (s *Service) CreateSubscription(ctx context.Context, actor cases.Actor, in webhook.Input) (string, SubscriptionView, error) {
	if err := requireHookAdmin(actor); err != nil {
		return "", SubscriptionView{}, err
	}
	events, err := in.Validate()
	if err != nil {
		return "", SubscriptionView{}, err
	}
	now := s.Now()
	sub := webhook.Subscription{ID: id.New(), Name: trimmed(in.Name), URL: trimmed(in.URL), Events: events, Sources: in.Sources, Secret: in.Secret,
		State: webhook.Active, CreatedAt: now, CreatedBy: actor.Name, UpdatedAt: now}
	if err := s.scopeOf(actor, in, &sub); err != nil {
		return "", SubscriptionView{}, err
	}
	if sub.Secret == "" {
		sub.Secret, _ = auth.NewToken()
	}
	stored := sub
	stored.Secret = s.key.Seal(purposeHookSecret, sub.Secret) // never stored in plaintext
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutSubscription(ctx, stored); err != nil {
			return err
		}
		if err := tx.Audit(ctx, s.auditEntry(actor, "webhook", sub.ID, false, nil, sub)); err != nil {
			return err
		}
		return tx.NotifyReload(ctx, s.node)
	})
	if err != nil {
		return "", SubscriptionView{}, err
	}
	if err := s.reloadHooks(ctx); err != nil {
		return "", SubscriptionView{}, err
	}
	return sub.Secret, s.viewSub(sub, 0), nil
}

// UpdateSubscription changes a subscription's name, address, events, scope
// and (when given) secret; its state and queue are kept.
func (s *Service) UpdateSubscription(ctx context.Context, actor cases.Actor, subID string, in webhook.Input) (SubscriptionView, error) {
	if err := requireHookAdmin(actor); err != nil {
		return SubscriptionView{}, err
	}
	events, err := in.Validate()
	if err != nil {
		return SubscriptionView{}, err
	}
	var out webhook.Subscription
	err = s.changeSub(ctx, actor, subID, "update", func(sub *webhook.Subscription) error {
		sub.Name, sub.URL, sub.Events, sub.Sources = trimmed(in.Name), trimmed(in.URL), events, in.Sources
		if in.Secret != "" {
			sub.Secret = s.key.Seal(purposeHookSecret, in.Secret)
		}
		if err := s.scopeOf(actor, in, sub); err != nil {
			return err
		}
		out = *sub
		return nil
	})
	if err != nil {
		return SubscriptionView{}, err
	}
	return s.viewSub(out, 0), nil
}

// SetSubscriptionState pauses a subscription or resumes it (its failures
// forgotten, its queued events due at once).
func (s *Service) SetSubscriptionState(ctx context.Context, actor cases.Actor, subID, state string) (SubscriptionView, error) {
	if err := requireHookAdmin(actor); err != nil {
		return SubscriptionView{}, err
	}
	if state != webhook.Active && state != webhook.Paused {
		return SubscriptionView{}, apperr.Field("state", "状态应为 active 或 paused")
	}
	var out webhook.Subscription
	action := "pause"
	if state == webhook.Active {
		action = "resume"
	}
	err := s.changeSub(ctx, actor, subID, action, func(sub *webhook.Subscription) error {
		now := s.Now()
		if state == webhook.Paused && sub.State == webhook.Active {
			sub.State, sub.PauseReason, sub.PausedAt = webhook.Paused, "管理员暂停："+actor.Name, now
		} else if state == webhook.Active {
			sub.State, sub.PauseReason, sub.PausedAt, sub.Failures, sub.FailingSince = webhook.Active, "", time.Time{}, 0, time.Time{}
		}
		out = *sub
		return nil
	})
	if err != nil {
		return SubscriptionView{}, err
	}
	if state == webhook.Active {
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.ResumeSubscription(ctx, subID, s.Now()) }); err != nil {
			return SubscriptionView{}, err
		}
		s.wakeHooks()
	}
	return s.viewSub(out, 0), nil
}

// DeleteSubscription removes a subscription and its queued events.
func (s *Service) DeleteSubscription(ctx context.Context, actor cases.Actor, subID string) error {
	if err := requireHookAdmin(actor); err != nil {
		return err
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		sub, err := tx.Subscription(ctx, subID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !administers(actor, s.subPath(sub))) {
			return apperr.New(apperr.NotFound, "推送订阅不存在")
		} else if err != nil {
			return err
		}
		if err := tx.DeleteSubscription(ctx, subID); err != nil {
			return err
		}
		e := s.auditEntry(actor, "webhook", subID, true, sub, nil)
		e.Action, e.After = "delete", nil
		if err := tx.Audit(ctx, e); err != nil {
			return err
		}
		return tx.NotifyReload(ctx, s.node)
	})
	if err != nil {
		return err
	}
	return s.reloadHooks(ctx)
}

func (s *Service) changeSub(ctx context.Context, actor cases.Actor, subID, action string, edit func(*webhook.Subscription) error) error {
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		sub, err := tx.Subscription(ctx, subID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !administers(actor, s.subPath(sub))) {
			return apperr.New(apperr.NotFound, "推送订阅不存在")
		} else if err != nil {
			return err
		}
		before := sub
		if err := edit(&sub); err != nil {
			return err
		}
		sub.UpdatedAt = s.Now()
		if err := tx.PutSubscription(ctx, sub); err != nil {
			return err
		}
		e := s.auditEntry(actor, "webhook", subID, true, before, sub)
		e.Action = action
		if err := tx.Audit(ctx, e); err != nil {
			return err
		}
		return tx.NotifyReload(ctx, s.node)
	})
	if err != nil {
		return err
	}
	return s.reloadHooks(ctx)
}

// DeliveryLog is a subscription's latest attempts, newest first.
func (s *Service) DeliveryLog(ctx context.Context, actor cases.Actor, subID string, limit int) ([]store.LogEntry, error) {
	if _, err := s.Subscription(ctx, actor, subID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > KeepLog {
		limit = KeepLog
	}
	out, err := s.db.DeliveryLog(ctx, subID, limit)
	if out == nil {
		out = []store.LogEntry{}
	}
	return out, err
}

// KeepLog is how many attempts each subscription's log keeps.
const KeepLog = store.LogKeep

// WebhookSettings tune a node's delivery loop (zero fields: defaults).
type WebhookSettings struct {
	Concurrency int           // deliveries in flight on this node (32)
	Timeout     time.Duration // one attempt's limit (10 s)
	Lease       time.Duration // how long a claim holds a delivery (2 × Timeout + 40 s); longer than a wait in the read-ahead queue and an attempt, so none is sent twice while the receiver answers
	Poll        time.Duration // how often to look for due deliveries and events without a local commit's wake-up (1 s)
	FanOut      int           // events one fan-out transaction takes (200)
	BackoffBase time.Duration // webhook.BackoffBase
	BackoffMax  time.Duration // webhook.BackoffMax
	Pause       webhook.PauseRule
	Client      *http.Client
}

func (w *WebhookSettings) defaults() {
	if w.Concurrency <= 0 {
		w.Concurrency = 32
	}
	if w.Timeout <= 0 {
		w.Timeout = 10 * time.Second
	}
	// A claimed delivery may wait in the read-ahead queue while the senders
	// finish theirs (one attempt at most) and is then sent (another): the
	// lease outlasts both, so no other node sends it meanwhile.
	if w.Lease <= 2*w.Timeout {
		w.Lease = 2*w.Timeout + 40*time.Second
	}
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.FanOut <= 0 {
		w.FanOut = 200
	}
	if w.BackoffBase <= 0 {
		w.BackoffBase = webhook.BackoffBase
	}
	if w.BackoffMax <= 0 {
		w.BackoffMax = webhook.BackoffMax
	}
	if w.Pause.MinFailures <= 0 && w.Pause.After <= 0 {
		w.Pause = webhook.DefaultPause
	}
	if w.Client == nil {
		// Keep a connection per delivery in flight: the default transport
		// keeps 2 idle connections per host, so with 32 deliveries to one
		// receiver most would open (and close) a connection each time.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = w.Concurrency
		w.Client = &http.Client{Timeout: w.Timeout, Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
}

// RunWebhooks fans events out and delivers the outbox until ctx ends.
// Every node runs it; on PostgreSQL each event is fanned out by one node
// (store.ClaimHookEvents) and each delivery claimed by one node
// (store.ClaimDeliveries). Deliveries being sent when ctx ends are left to
// their lease: another node, or this one after a restart, sends them again
// (at least once).
//
// The fan-out follows the deliveries' demand: it runs when events may be
// waiting (a local commit rang, the last fan-out took a full slice, or a
// poll interval passed) and the outbox has run dry (the last claim found
// fewer deliveries than it had room for), or at least every poll interval.
// So while receivers are behind, events wait as one row each instead of
// one row per subscription, and the fan-out does not compete with intake
// for the writer faster than deliveries go out.
func (s *Service) RunWebhooks(ctx context.Context, cfg WebhookSettings) {
	cfg.defaults()
	results := make(chan store.Attempt, cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	inflight := 0
	var done []store.Attempt
	// Claimed deliveries waiting for a free sender: up to Concurrency more
	// than are in flight, so that a sender freed by an answer starts the
	// next at once instead of waiting for the writer's next round (which,
	// under intake, waits for a group commit). Their leases hold meanwhile.
	var queue []store.Delivery
	startSends := func() {
		for inflight < cfg.Concurrency && len(queue) > 0 {
			d := queue[0]
			queue = queue[1:]
			inflight++
			wg.Add(1)
			go func(d store.Delivery) {
				defer wg.Done()
				results <- s.send(ctx, cfg, d)
			}(d)
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	pending, dry := true, true // events may be waiting; the outbox has run dry
	var lastFan time.Time
	for {
		if time.Since(lastFan) >= cfg.Poll {
			pending = true // another node's events, or a fan-out that failed
		}
		if pending && (dry || time.Since(lastFan) >= cfg.Poll) && ctx.Err() == nil {
			n, err := s.fanOutHooks(ctx, cfg.FanOut)
			lastFan = time.Now()
			if err != nil && ctx.Err() == nil {
				s.log.Warn("webhooks: fan out events", "err", err)
			}
			pending = err == nil && n == cfg.FanOut
		}
		// What finished meanwhile.
	gather:
		for {
			select {
			case a := <-results:
				done = append(done, a)
				inflight--
				startSends()
			default:
				break gather
			}
		}
		if ctx.Err() != nil {
			// Drain the sends so their goroutines end; their outcomes are
			// not recorded (the leases run out and they are sent again).
			for inflight > 0 {
				<-results
				inflight--
			}
			return
		}
		// One transaction records the outcomes and claims what is due next
		// (the events after those just delivered among them).
		room := 2*cfg.Concurrency - inflight - len(queue)
		var ds []store.Delivery
		var paused []string
		if len(done) > 0 || room > 0 {
			now := s.Now()
			claim := s.node + ":" + id.New()
			err := s.db.Write(ctx, func(tx *store.Tx) error {
				ds, paused = nil, nil
				if len(done) > 0 {
					var err error
					if paused, err = s.recordTx(ctx, tx, done, cfg, now); err != nil {
						return err
					}
				}
				if room > 0 {
					var err error
					ds, err = tx.ClaimDeliveries(ctx, now, now.Add(cfg.Lease), claim, room)
					return err
				}
				return nil
			})
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("webhooks: record and claim deliveries", "err", err)
				}
				// The outcomes are retried with the next round; their
				// leases still hold meanwhile.
			} else {
				s.afterRecord(ctx, done, paused)
				done = done[:0]
			}
		}
		dry = room > len(ds)
		queue = append(queue, ds...)
		startSends()
		if (len(ds) > 0 || pending) && inflight+len(queue) < 2*cfg.Concurrency {
			continue // there may be more due, or events to fan out
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(cfg.Poll)
		select {
		case <-ctx.Done():
		case <-s.hooks.bell():
			pending = true
		case <-timer.C:
		case a := <-results:
			done = append(done, a)
			inflight--
			startSends()
			// Let a few more finish, so one transaction records several.
			coalesce := time.NewTimer(5 * time.Millisecond)
		more:
			for inflight > 0 {
				select {
				case a := <-results:
					done = append(done, a)
					inflight--
					startSends()
				case <-coalesce.C:
					break more
				}
			}
			coalesce.Stop()
		}
	}
}

// send makes one attempt.
func (s *Service) send(ctx context.Context, cfg WebhookSettings, d store.Delivery) store.Attempt {
	start := time.Now()
	at := s.Now()
	a := store.Attempt{Delivery: d, At: at, Node: s.node, LogID: id.New()}
	ts := at.Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	secret, serr := s.key.Open(purposeHookSecret, d.Secret) // stored sealed
	if err == nil && serr != nil {
		err = fmt.Errorf("subscription secret: %w", serr)
	}
	if err == nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "zhizhi-webhooks/1")
		req.Header.Set(webhook.HeaderEvent, d.Kind)
		req.Header.Set(webhook.HeaderEventID, d.EventID)
		req.Header.Set(webhook.HeaderIdem, d.EventID)
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, ts, d.Body))
		req.Header.Set(webhook.HeaderAttempt, strconv.Itoa(d.Attempts+1))
		var resp *http.Response
		resp, err = cfg.Client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			a.Status, a.Response = resp.StatusCode, cleanResponse(b)
			a.OK = webhook.OK(resp.StatusCode)
			if !a.OK {
				a.Error = "HTTP " + strconv.Itoa(resp.StatusCode)
			}
		}
	}
	if err != nil {
		a.Error = err.Error()
		if len(a.Error) > 500 {
			a.Error = a.Error[:500]
		}
	}
	a.Duration = time.Since(start)
	if !a.OK {
		a.Retry = at.Add(webhook.Backoff(d.Attempts+1, cfg.BackoffBase, cfg.BackoffMax))
	}
	return a
}

// cleanResponse keeps the start of a receiver's answer as valid text.
func cleanResponse(b []byte) string {
	return string(bytes.ToValidUTF8(bytes.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' {
			return ' '
		}
		return r
	}, b), []byte("?")))
}

// recordTx writes a batch of outcomes in the transaction tx (a few
// statements whatever the batch's size: store.RecordAttempts), pauses the
// subscriptions that keep failing (with an audit entry, and a notification
// to the administrators of the subscription's scope), and returns the
// subscriptions it paused.
func (s *Service) recordTx(ctx context.Context, tx *store.Tx, as []store.Attempt, cfg WebhookSettings, now time.Time) ([]string, error) {
	_, runs, err := tx.RecordAttempts(ctx, as)
	if err != nil {
		return nil, err
	}
	var paused []string
	for _, r := range runs { // in ID order
		if r.State == webhook.Active && r.Failures > 0 && cfg.Pause.ShouldPause(r.Failures, r.FailingSince, now) {
			sub, err := tx.Subscription(ctx, r.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			reason := fmt.Sprintf("连续%d次推送失败（自%s起），已自动暂停", sub.Failures,
				sub.FailingSince.In(s.Calendar().Location()).Format("2006-01-02 15:04"))
			ok, err := tx.PauseSubscription(ctx, r.ID, reason, now)
			if err != nil {
				return nil, err
			}
			if ok {
				paused = append(paused, r.ID)
				before := sub
				sub.State, sub.PauseReason, sub.PausedAt = webhook.Paused, reason, now
				e := s.auditEntry(cases.Actor{Role: cases.RoleSystem, Name: "推送服务"}, "webhook", r.ID, true, before, sub)
				e.Action = "pause"
				if err := tx.Audit(ctx, e); err != nil {
					return nil, err
				}
				// Every administrator of its scope is told (inbox and
				// their channels), in this transaction.
				if err := tx.PutNotifyEvent(ctx, id.At(now), notify.SubscriptionPaused(r.ID, sub.Name, s.subPath(sub), reason, now)); err != nil {
					return nil, err
				}
				tx.AfterCommit(s.wakeNotifier)
			}
		}
	}
	return paused, nil
}

// afterRecord counts the recorded outcomes and reloads the subscriptions
// when some were paused.
func (s *Service) afterRecord(ctx context.Context, as []store.Attempt, paused []string) {
	for _, a := range as {
		if a.OK {
			s.hooks.sent.Add(1)
		} else {
			s.hooks.fail.Add(1)
		}
	}
	for _, p := range paused {
		s.log.Warn("webhooks: subscription paused after failing", "subscription", p)
	}
	if len(paused) > 0 {
		if err := s.reloadHooks(ctx); err != nil {
			s.log.Warn("webhooks: reload after pausing", "err", err)
		}
	}
}

func trimmed(s string) string { return strings.TrimSpace(s) }
