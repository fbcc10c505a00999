package service

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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
// background loop on every node, holds some subscriptions by a lease, reads
// each one's events after its cursor, sends those it takes signed, and
// moves the cursor in one write per batch; a failed delivery waits in the
// outbox for its retry, the later events of its case behind it. A case
// action never waits for a receiver, and its cost does not grow with the
// number of subscriptions.

// hookState is this node's copy of the subscriptions (reloaded with the
// reference data, so every node's writes see a change within a reload) and
// the bell that wakes the delivery loop after a local commit.
type hookState struct {
	subs    atomic.Pointer[[]webhook.Subscription]
	wake    chan struct{}
	once    sync.Once
	sent    atomic.Int64 // deliveries acknowledged by receivers, on this node
	fail    atomic.Int64 // failed attempts, on this node
	batches atomic.Int64 // cursor batches recorded by this node
	reads   atomic.Int64 // reads of events after a cursor that found some, by this node
	secrets sync.Map     // sealed secret → the secret (opened once, not per delivery)

	// The delivery budget (webhook.Budget): when this node last wrote a
	// case change (Unix nanoseconds; 0: never), the bucket, and how many
	// deliveries waited for their turn.
	lastCase atomic.Int64
	budgetMu sync.Mutex
	bucket   webhook.Bucket
	waited   atomic.Int64
}

// caseWritten notes that this node is writing a case change now: its
// deliveries keep to the budget until it has been quiet for a while.
func (h *hookState) caseWritten() { h.lastCase.Store(time.Now().UnixNano()) }

// busy reports whether this node wrote a case change within quiet of now.
func (h *hookState) busy(now time.Time, quiet time.Duration) bool {
	n := h.lastCase.Load()
	return n != 0 && now.Sub(time.Unix(0, n)) < quiet
}

// turn takes a delivery's turn in the budget and returns how long it waits.
func (h *hookState) turn() time.Duration {
	var last time.Time
	if n := h.lastCase.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	h.budgetMu.Lock()
	w := h.bucket.Reserve(time.Now(), last)
	h.budgetMu.Unlock()
	return w
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
// it (each reads it after its cursor: RunWebhooks), so the event exists if
// and only if the change commits. A step no subscription known to this
// node takes writes nothing. A paused subscription's events wait after its
// cursor, for when it is resumed.
func (s *Service) enqueueHooks(ctx context.Context, tx *store.Tx, c *cases.Case, st *cases.Step) error {
	return s.enqueueHooksWith(ctx, tx, c, st, nil)
}

// hooksWant reports whether a subscription this node knows of takes the
// event of step st of c.
func (s *Service) hooksWant(c *cases.Case, st *cases.Step) (webhook.Facts, bool) {
	p := s.hooks.subs.Load()
	if p == nil || len(*p) == 0 {
		return webhook.Facts{}, false
	}
	f := webhook.FactsOf(c, st)
	for i := range *p {
		if (*p)[i].Wants(f) {
			return f, true
		}
	}
	return f, false
}

// hookBody encodes, before the writer, the event body of a new case's
// first step with the case number left as a gap (store.NumberGapped), when
// a subscription takes it; nil otherwise.
func (s *Service) hookBody(c *cases.Case, st *cases.Step) *store.NumberGapped {
	if _, ok := s.hooksWant(c, st); !ok {
		return nil
	}
	g, ok := store.EncodeNumberGapped(c, func(c *cases.Case) ([]byte, error) { return webhook.Build(c, st).Encode() })
	if !ok {
		return nil
	}
	return &g
}

// enqueueHooksWith is enqueueHooks with the body encoded beforehand (pre,
// from hookBody for c before it had its number; nil: encode it here).
func (s *Service) enqueueHooksWith(ctx context.Context, tx *store.Tx, c *cases.Case, st *cases.Step, pre *store.NumberGapped) error {
	s.hooks.caseWritten() // every case step passes here: the delivery budget applies
	f, wanted := s.hooksWant(c, st)
	if !wanted {
		return nil
	}
	var body []byte
	ok := false
	if pre != nil {
		body, ok = pre.With(c.Number)
	}
	if !ok {
		var err error
		if body, err = webhook.Build(c, st).Encode(); err != nil {
			return err
		}
	}
	if err := tx.PutHookEvent(ctx, store.HookEvent{CaseID: c.ID, Seq: st.Seq, EventID: st.ID, Facts: f, QueuedAt: s.Now(), Body: body}); err != nil {
		return err
	}
	tx.AfterCommit(s.wakeHooks)
	return nil
}

// WebhookStats are this node's delivery counts (metrics, benchmarks).
func (s *Service) WebhookStats() (sent, failed int64) {
	return s.hooks.sent.Load(), s.hooks.fail.Load()
}

// WebhookWaited is how many deliveries of this node waited for their turn
// in the delivery budget (metrics, tests).
func (s *Service) WebhookWaited() int64 { return s.hooks.waited.Load() }

// WebhookBatches is how many cursor batches this node recorded (tests,
// metrics).
func (s *Service) WebhookBatches() int64 { return s.hooks.batches.Load() }

// WebhookReads is how many reads of the events after a cursor found some
// on this node (tests: subscriptions at one cursor share a read).
func (s *Service) WebhookReads() int64 { return s.hooks.reads.Load() }

// SubscriptionView is a subscription as its administrators see it.
type SubscriptionView struct {
	webhook.Subscription
	Queued     int    `json:"queued"`                // events waiting for delivery, at most QueuedCap
	QueuedMore bool   `json:"queued_more,omitempty"` // more than Queued wait: the count stopped at QueuedCap
	Scope      string `json:"scope"`                 // the region's or unit's name
}

// QueuedCap is where a subscription's count of queued events stops: a
// paused subscription may keep days of events, and the list is not made
// to walk them all at each view.
const QueuedCap = 10000

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
	queued, err := s.db.QueuedCounts(ctx, QueuedCap)
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
	v := SubscriptionView{Subscription: sub, Queued: min(queued, QueuedCap), QueuedMore: queued > QueuedCap}
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
		// It takes the events committed from now on: its cursor starts
		// after those already readable.
		start, err := tx.HookStart(ctx)
		if err != nil {
			return err
		}
		if err := tx.SetHookCursor(ctx, sub.ID, start); err != nil {
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
	Batch       int           // events one read after a subscription's cursor takes (500)
	Gather      time.Duration // after a batch that was not full, how long a subscription's next events gather before they are read (50 ms)
	LogEvery    time.Duration // a subscription's successes are logged at most once in this time, the last of a batch (1 s); failures always
	Purge       time.Duration // how often the loop deletes the events every cursor has passed (2 s)
	PurgeBusy   time.Duration // while the node writes case changes (Budget.Quiet) the purge waits, at most this long since the last (30 s): its deletes would share the writer with case work
	// Budget paces this node's deliveries while it writes case changes
	// (webhook.Budget; zero: webhook.DefaultBudget; a negative Rate: no
	// budget; a zero Burst: a twentieth of a second's deliveries; a zero
	// Quiet or Tick: the default's; a negative Tick: no ticks).
	Budget      webhook.Budget
	BackoffBase time.Duration // webhook.BackoffBase
	BackoffMax  time.Duration // webhook.BackoffMax
	Pause       webhook.PauseRule
	// Client, when set, sends every delivery. Otherwise each sender keeps
	// connections of its own to the receivers (hookconn.go), and the
	// standard client sends where a proxy of the environment applies.
	Client *http.Client
	// TLS is the senders' own connections' TLS settings (nil: the
	// system's roots).
	TLS *tls.Config

	direct bool // Client was not set: senders use their own connections
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
	if w.Batch <= 0 {
		w.Batch = 500
	}
	if w.Gather <= 0 {
		w.Gather = 50 * time.Millisecond
	}
	if w.LogEvery <= 0 {
		w.LogEvery = time.Second
	}
	if w.Purge <= 0 {
		w.Purge = 2 * time.Second
	}
	if w.PurgeBusy < w.Purge {
		w.PurgeBusy = max(w.Purge, 30*time.Second)
	}
	if w.Budget.Rate == 0 {
		w.Budget = webhook.DefaultBudget
	}
	if w.Budget.Burst <= 0 {
		w.Budget.Burst = max(1, int(w.Budget.Rate/20))
	}
	if w.Budget.Quiet <= 0 {
		w.Budget.Quiet = webhook.DefaultBudget.Quiet
	}
	if w.Budget.Tick == 0 {
		w.Budget.Tick = webhook.DefaultBudget.Tick
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
		w.direct = true
		// Keep a connection per delivery in flight: the default transport
		// keeps 2 idle connections per host, so with 32 deliveries to one
		// receiver most would open (and close) a connection each time.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = w.Concurrency
		w.Client = &http.Client{Timeout: w.Timeout, Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
}

// RunWebhooks delivers the subscriptions' events until ctx ends. Every
// node runs it. A node takes the deliveries of the active subscriptions
// no node holds (store.AcquireHookLeases: one node per subscription at a
// time, so no event is sent twice while receivers answer 2xx), keeps its
// leases renewed, and for each subscription it holds reads the events
// after its cursor (store.HookEventsAfter, a read), sends those it takes
// (each case's events one after another, cases at once, up to
// cfg.Concurrency in flight on the node) and records the batch in one
// statement (store.AdvanceHookCursor): a successful delivery writes no
// row of its own. A failed one goes to the outbox with its retry time, and
// the later events of its case behind it; the outbox's due deliveries are
// claimed, sent and recorded as before (store.ClaimDeliveries,
// store.RecordAttempts). Batches being sent when ctx ends are not
// recorded and the leases are given up: the next holder sends those
// events again (at least once).
func (s *Service) RunWebhooks(ctx context.Context, cfg WebhookSettings) {
	cfg.defaults()
	s.hooks.budgetMu.Lock()
	s.hooks.bucket = webhook.Bucket{Budget: cfg.Budget}
	s.hooks.budgetMu.Unlock()
	token := s.node + ":" + id.New() // this loop's lease token
	// The senders take chains from a queue of their own, so that sending
	// goes on while the loop waits for the writer (a record waits for a
	// group commit under intake); their outcomes wait in results.
	results := make(chan chainDone, 1<<14)
	sq := newSendQueue()
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := newSendScratch()
			defer sc.closeConns()
			for {
				c, ok := sq.pop()
				if !ok {
					return
				}
				r := s.sendChain(ctx, cfg, sc, c)
				if c.batch != nil && !c.batch.add(r) {
					continue // the batch's other cases are still being sent
				}
				results <- r
			}
		}()
	}
	held := map[string]*hookSub{}
	outboxOut := 0           // outbox deliveries claimed and not yet recorded
	var done []store.Attempt // outbox outcomes to record
	var ready []*hookBatch   // cursor batches sent, to record
	defer func() {
		// The sends end (ctx is done); their outcomes are not recorded
		// (leases given up: the next holder sends them again).
		sq.close()
		go func() { wg.Wait(); close(results) }()
		for range results {
		}
		if len(held) > 0 {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.db.Write(rctx, func(tx *store.Tx) error { return tx.ReleaseHookLeases(rctx, token, nil) }); err != nil {
				s.log.Warn("webhooks: give up leases", "err", err)
			}
		}
	}()
	outboxDue := false // outbox deliveries may be due for this node
	finish := func(r chainDone) {
		if r.c.batch == nil {
			done = append(done, r.sent...)
			return
		}
		ready = append(ready, r.c.batch) // its last case sent (hookBatch.add)
	}
	var lastPoll, lastRenew, lastPurge time.Time
	advanced := false // some cursor moved since the last purge
	win := &hookWindow{keep: 4 * cfg.Batch}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
	gather:
		for {
			select {
			case r := <-results:
				finish(r)
			default:
				break gather
			}
		}
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		if now.Sub(lastPoll) >= cfg.Poll {
			lastPoll = now
			for _, h := range held {
				h.due = true // another node's events
			}
			outboxDue = true
			s.acquireHooks(ctx, cfg, token, held)
		}
		if len(held) > 0 && now.Sub(lastRenew) >= cfg.Lease/4 {
			lastRenew = now
			s.renewHooks(ctx, cfg, token, held)
		}
		if advanced && now.Sub(lastPurge) >= cfg.Purge && (now.Sub(lastPurge) >= cfg.PurgeBusy || !s.hooks.busy(now, cfg.Budget.Quiet)) {
			lastPurge, advanced = now, false
			if err := s.db.Write(ctx, func(tx *store.Tx) error { _, err := tx.PurgeHookEvents(ctx, 5000); return err }); err != nil && ctx.Err() == nil {
				s.log.Warn("webhooks: purge events", "err", err)
			}
		}

		// Read the next batch of each subscription held, idle and with
		// events maybe waiting.
		cache := map[string]*webhook.Subscription{}
		if p := s.hooks.subs.Load(); p != nil {
			for i := range *p {
				cache[(*p)[i].ID] = &(*p)[i]
			}
		}
		var gone []string
		reads := map[store.HookCursor][]store.CursorEvent{} // this round's reads, shared by the subscriptions at one cursor
		// The lowest cursors first: their reads fill the window the
		// others then take their events from.
		due := make([]*hookSub, 0, len(held))
		for _, h := range held {
			if !h.busy && h.due && !now.Before(h.next) {
				due = append(due, h)
			}
		}
		slices.SortFunc(due, func(a, b *hookSub) int { return cmp.Or(a.cursor.Compare(b.cursor), cmp.Compare(a.id, b.id)) })
		for _, h := range due {
			subID := h.id
			sub := cache[subID]
			if sub == nil {
				h.next = now.Add(cfg.Poll) // not yet reloaded here, or removed (the renewal lets it go)
				continue
			}
			if sub.State != webhook.Active {
				gone = append(gone, subID) // paused by an administrator
				delete(held, subID)
				continue
			}
			b, err := s.readHookBatch(ctx, cfg, h, sub, token, now, reads, win)
			if err != nil {
				h.next = now.Add(cfg.Poll)
				if ctx.Err() == nil {
					s.log.Warn("webhooks: read events", "subscription", subID, "err", err)
				}
				continue
			}
			if b == nil {
				continue
			}
			if b.left == 0 {
				ready = append(ready, b)
			}
			sq.push(b.chains, false)
			b.chains = nil
		}
		if len(gone) > 0 {
			if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.ReleaseHookLeases(ctx, token, gone) }); err != nil && ctx.Err() == nil {
				s.log.Warn("webhooks: give up leases", "err", err)
			}
		}

		// One transaction records the batches sent and the outbox's
		// outcomes, and claims the outbox's due deliveries.
		room := cfg.Concurrency - outboxOut
		if !outboxDue {
			room = 0
		}
		if len(ready) > 0 || len(done) > 0 || room > 0 {
			wnow := s.Now()
			claim := s.node + ":" + id.New()
			var ds []store.Delivery
			var res []store.CursorResult
			var paused []string
			err := s.db.Write(ctx, func(tx *store.Tx) error {
				ds, res, paused = nil, nil, nil
				var runs []store.SubRun
				for _, b := range ready {
					b.rec.Lease = wnow.Add(cfg.Lease)
					r, err := tx.AdvanceHookCursor(ctx, b.rec)
					if err != nil {
						return err
					}
					res = append(res, r)
					if r.Held {
						runs = append(runs, r.Run)
					}
				}
				if len(done) > 0 {
					_, more, err := tx.RecordAttempts(ctx, done)
					if err != nil {
						return err
					}
					runs = append(runs, more...)
				}
				var err error
				if paused, err = s.pauseFailing(ctx, tx, runs, cfg, wnow); err != nil {
					return err
				}
				// A subscription paused (now, or meanwhile by an
				// administrator) is let go: whoever resumes it takes it.
				var letGo []string
				for i, r := range res {
					if r.Held && (r.Run.State != webhook.Active || slices.Contains(paused, r.Run.ID)) {
						letGo = append(letGo, ready[i].rec.SubID)
					}
				}
				if len(letGo) > 0 {
					if err := tx.ReleaseHookLeases(ctx, token, letGo); err != nil {
						return err
					}
				}
				if room > 0 {
					ds, err = tx.ClaimDeliveries(ctx, wnow, wnow.Add(cfg.Lease), claim, token, room)
				}
				return err
			})
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("webhooks: record and claim deliveries", "err", err)
				}
				// Retried with the next round; the leases still hold.
			} else {
				for i, b := range ready {
					h := b.sub
					h.busy = false
					s.countAttempts(b.rec.Sent)
					if !res[i].Held {
						delete(held, h.id) // another node has it now, or it was removed
						continue
					}
					s.hooks.batches.Add(1)
					h.cursor, advanced = b.rec.To, true
					if b.full {
						h.next = time.Time{}
					} else {
						h.next = time.Now().Add(cfg.Gather)
					}
					if len(b.rec.Blocked) > 0 || b.failed {
						outboxDue = true
					}
					if b.rec.LogOK {
						h.lastLog = time.Now()
					}
					if res[i].Run.State != webhook.Active || slices.Contains(paused, h.id) {
						delete(held, h.id) // let go in the transaction
					}
				}
				ready = ready[:0]
				s.countAttempts(done)
				for _, a := range done {
					if a.OK {
						outboxDue = true // the next of its case may be claimed
					}
				}
				outboxOut -= len(done)
				done = done[:0]
				for _, p := range paused {
					s.log.Warn("webhooks: subscription paused after failing", "subscription", p)
				}
				if len(paused) > 0 {
					if err := s.reloadHooks(ctx); err != nil {
						s.log.Warn("webhooks: reload after pausing", "err", err)
					}
				}
				if room > 0 && len(ds) < room {
					outboxDue = false
				}
				outboxOut += len(ds)
				// The outbox's deliveries go first: their own leases run meanwhile.
				var front []*hookChain
				for _, d := range ds {
					front = append(front, &hookChain{ds: []store.Delivery{d}})
				}
				sq.push(front, true)
			}
		}

		// Wait for an answer, a local commit, the next read or the poll.
		wait := cfg.Poll - time.Since(lastPoll)
		if len(ready) > 0 || len(done) > 0 {
			wait = min(wait, 10*time.Millisecond) // a failed write: soon again
		}
		for _, h := range held {
			if !h.busy && h.due {
				wait = min(wait, time.Until(h.next)) // zero: at once
			}
		}
		if wait <= 0 {
			continue
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-s.hooks.bell():
			for _, h := range held {
				h.due = true
			}
		case <-timer.C:
		case r := <-results:
			finish(r)
		}
	}
}

// hookSub is a subscription whose deliveries this node holds.
type hookSub struct {
	id      string
	cursor  store.HookCursor
	busy    bool      // a batch is being sent or recorded
	due     bool      // events may be waiting after the cursor
	next    time.Time // not read again before (a batch gathers the events meanwhile); zero: at once
	lastLog time.Time // when its last success was logged
}

// hookBatch is a batch of one subscription's events from its cursor.
type hookBatch struct {
	sub    *hookSub
	rec    store.CursorBatch
	chains []*hookChain
	mu     sync.Mutex // the senders' outcomes: rec.Sent, rec.Blocked, left
	left   int        // chains not yet sent
	full   bool       // the read was full: more may wait
	failed bool
}

// add records a chain's outcomes in its batch (by the sender) and reports
// whether it was the batch's last: only then is the loop told, once per
// batch rather than once per case.
func (b *hookBatch) add(r chainDone) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rec.Sent = append(b.rec.Sent, r.sent...)
	b.rec.Blocked = append(b.rec.Blocked, r.blocked...)
	b.left--
	return b.left == 0
}

// hookChain is what one sender sends in turn: a case's events of a cursor
// batch (stopping at the first failure), or one outbox delivery.
type hookChain struct {
	batch *hookBatch // nil: an outbox delivery
	ds    []store.Delivery
}

type chainDone struct {
	c       *hookChain
	sent    []store.Attempt
	blocked []store.Delivery // not sent: behind a failure of their case
}

// sendChain sends a chain's deliveries in order; after a failure the rest
// wait (in the outbox, behind it). Each delivery takes its turn in the
// budget first: a cursor batch's waits for it; an outbox delivery, claimed
// under a lease of its own that must not run out while it waits, is
// counted without waiting (at most cfg.Concurrency are out at a time, and
// only after their backoff).
func (s *Service) sendChain(ctx context.Context, cfg WebhookSettings, sc *sendScratch, c *hookChain) chainDone {
	out := chainDone{c: c, sent: make([]store.Attempt, 0, len(c.ds))}
	for i, d := range c.ds {
		if w := s.hooks.turn(); w > 0 && c.batch != nil {
			s.hooks.waited.Add(1)
			sc.sleep(ctx, w)
		}
		a := s.send(ctx, cfg, sc, d)
		out.sent = append(out.sent, a)
		if !a.OK {
			if c.batch != nil {
				out.blocked = append(out.blocked, c.ds[i+1:]...)
			}
			break
		}
	}
	return out
}

// readHookBatch reads the events after a subscription's cursor and makes
// its next batch: the events it takes, one chain per case (a case with a
// delivery in the outbox: its events wait behind it, unsent). Nil when no
// event is waiting. reads are the loop round's reads by cursor: the
// subscriptions whose cursors are at one place (those that take the same
// events and were read together before) share one read — the events are
// read, and made durable, once for them all, not once per subscription.
// A cursor inside the window (the reads of the rounds before, hookwindow.go)
// takes its events from there.
func (s *Service) readHookBatch(ctx context.Context, cfg WebhookSettings, h *hookSub, sub *webhook.Subscription, token string, now time.Time,
	reads map[store.HookCursor][]store.CursorEvent, win *hookWindow) (*hookBatch, error) {
	evs, ok := reads[h.cursor]
	more := false // the events came from the window, to its end: more may wait after it
	if !ok {
		evs, more, ok = win.after(h.cursor, cfg.Batch)
	}
	if !ok {
		var err error
		if evs, err = s.db.HookEventsAfter(ctx, h.cursor, cfg.Batch); err != nil {
			return nil, err
		}
		// A read sees commits whose log the store may not have synced yet
		// (store.DB.Durable): none is sent before it is on disk, so a
		// power loss cannot take back an event a receiver was told of.
		if len(evs) > 0 {
			if err := s.db.Durable(ctx); err != nil {
				return nil, err
			}
		}
		reads[h.cursor] = evs // read-only from here: the batches copy what they send
		win.add(h.cursor, evs)
		if len(evs) > 0 {
			s.hooks.reads.Add(1)
		}
	}
	if len(evs) == 0 {
		h.due = false
		return nil, nil
	}
	heldCases, err := s.db.HeldCases(ctx, h.id)
	if err != nil {
		return nil, err
	}
	b := &hookBatch{sub: h, full: len(evs) == cfg.Batch,
		rec: store.CursorBatch{SubID: h.id, Claim: token, To: evs[len(evs)-1].At, LogOK: now.Sub(h.lastLog) >= cfg.LogEvery}}
	h.due = b.full || more
	byCase := map[string]*hookChain{}
	for _, e := range evs {
		if !e.TakenBy(sub) {
			continue
		}
		d := store.Delivery{SubID: h.id, CaseID: e.CaseID, Seq: e.Seq, EventID: e.EventID, Kind: e.Kind, Body: e.Body,
			URL: sub.URL, Secret: sub.Secret, Queued: e.QueuedAt}
		if heldCases[e.CaseID] {
			b.rec.Blocked = append(b.rec.Blocked, d)
			continue
		}
		c := byCase[e.CaseID]
		if c == nil {
			c = &hookChain{batch: b}
			byCase[e.CaseID] = c
			b.chains = append(b.chains, c)
		}
		c.ds = append(c.ds, d)
	}
	b.left = len(b.chains)
	h.busy = true
	return b, nil
}

// acquireHooks takes the subscriptions no node holds (after a read that
// finds one, so that an idle poll writes nothing).
func (s *Service) acquireHooks(ctx context.Context, cfg WebhookSettings, token string, held map[string]*hookSub) {
	free, err := s.db.FreeHookLeases(ctx, s.Now())
	if err != nil || !free {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("webhooks: look for subscriptions", "err", err)
		}
		return
	}
	var got []store.LeasedSub
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		now := s.Now()
		var err error
		got, err = tx.AcquireHookLeases(ctx, now, now.Add(cfg.Lease), token, 1000)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("webhooks: take subscriptions", "err", err)
		}
		return
	}
	for _, l := range got {
		held[l.ID] = &hookSub{id: l.ID, cursor: l.Cursor, due: true}
	}
	if len(got) > 0 {
		s.log.Info("webhooks: took subscriptions", "count", len(got))
	}
}

// renewHooks extends this node's leases; a subscription whose lease was
// lost (another node has it, or it was removed or paused) is let go once
// its batch, if any, is recorded (the record finds the lease gone).
func (s *Service) renewHooks(ctx context.Context, cfg WebhookSettings, token string, held map[string]*hookSub) {
	var kept map[string]bool
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		now := s.Now()
		var err error
		kept, err = tx.RenewHookLeases(ctx, now, now.Add(cfg.Lease), token)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("webhooks: renew leases", "err", err)
		}
		return
	}
	for subID, h := range held {
		if !kept[subID] && !h.busy {
			delete(held, subID)
		}
	}
}

// countAttempts counts recorded outcomes.
func (s *Service) countAttempts(as []store.Attempt) {
	for _, a := range as {
		if a.OK {
			s.hooks.sent.Add(1)
		} else {
			s.hooks.fail.Add(1)
		}
	}
}

// hookSecret opens a subscription's sealed secret, once per sealed value.
func (s *Service) hookSecret(sealed string) (string, error) {
	if v, ok := s.hooks.secrets.Load(sealed); ok {
		return v.(string), nil
	}
	secret, err := s.key.Open(purposeHookSecret, sealed)
	if err != nil {
		return "", err
	}
	s.hooks.secrets.Store(sealed, secret)
	return secret, nil
}

// sendScratch is what one sender reuses from one delivery to the next:
// the receivers' parsed addresses, a signer per secret, its connections
// to the receivers (hookconn.go), the buffer the start of an answer is
// read into, and a timer.
type sendScratch struct {
	targets map[string]*hookTarget
	signers map[string]*webhook.Signer // by sealed secret
	conns   map[string]*hookConn       // by hookTarget.key
	swept   time.Time                  // when idle connections were last closed
	buf     [512]byte
	num     [20]byte
	timer   *time.Timer
}

func newSendScratch() *sendScratch {
	return &sendScratch{targets: map[string]*hookTarget{}, signers: map[string]*webhook.Signer{}, conns: map[string]*hookConn{}}
}

// sleep waits for d or the end of ctx.
func (sc *sendScratch) sleep(ctx context.Context, d time.Duration) {
	if sc.timer == nil {
		sc.timer = time.NewTimer(d)
	} else {
		sc.timer.Reset(d)
	}
	select {
	case <-ctx.Done():
		sc.timer.Stop()
	case <-sc.timer.C:
	}
}

// target is a receiver's address, parsed once per sender.
func (sc *sendScratch) target(raw string) (*hookTarget, error) {
	t, ok := sc.targets[raw]
	if !ok {
		var err error
		if t, err = newHookTarget(raw); err != nil {
			return nil, err
		}
		if len(sc.targets) >= 1000 {
			clear(sc.targets) // addresses changed many times: start again
		}
		sc.targets[raw] = t
	}
	return t, nil
}

// signer is the signer of a subscription's sealed secret.
func (s *Service) signer(sc *sendScratch, sealed string) (*webhook.Signer, error) {
	if g, ok := sc.signers[sealed]; ok {
		return g, nil
	}
	secret, err := s.hookSecret(sealed)
	if err != nil {
		return nil, err
	}
	if len(sc.signers) >= 1000 {
		clear(sc.signers)
	}
	g := webhook.NewSigner(secret)
	sc.signers[sealed] = g
	return g, nil
}

var (
	hookContentType = []string{"application/json; charset=utf-8"}
	hookUserAgent   = []string{"zhizhi-webhooks/1"}
)

// send makes one attempt: the headers' values made once (the signature
// with the sender's signer of the secret), the body sent from the event's
// stored bytes, on the sender's own connection (sc.post) or through the
// standard client (sendStandard); the answer's start is read into the
// sender's buffer and kept only when there is one.
func (s *Service) send(ctx context.Context, cfg WebhookSettings, sc *sendScratch, d store.Delivery) store.Attempt {
	start := time.Now()
	at := s.Now()
	a := store.Attempt{Delivery: d, At: at, Node: s.node, LogID: id.New()}
	t, err := sc.target(d.URL)
	var g *webhook.Signer
	if err == nil {
		if g, err = s.signer(sc, d.Secret); err != nil { // stored sealed
			err = fmt.Errorf("subscription secret: %w", err)
		}
	}
	if err == nil {
		ts := at.Unix()
		hdr := [hookHeaders]string{d.Kind, d.EventID, d.EventID, strconv.FormatInt(ts, 10), g.Sign(ts, d.Body), strconv.Itoa(d.Attempts + 1)}
		var n int
		if cfg.direct && !t.proxied {
			a.Status, n, err = sc.post(ctx, cfg, t, &hdr, d.Body)
		} else {
			a.Status, n, err = sendStandard(ctx, cfg, sc, t, &hdr, d.Body)
		}
		if err == nil {
			if n > 0 {
				a.Response = cleanResponse(sc.buf[:n])
			}
			a.OK = webhook.OK(a.Status)
			if !a.OK {
				a.Error = "HTTP " + strconv.Itoa(a.Status)
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

// sendStandard posts one delivery through cfg.Client: the request built
// by hand, its headers in one map over hdr's values (the constant ones
// shared); the answer's status and start (into sc.buf; n bytes).
func sendStandard(ctx context.Context, cfg WebhookSettings, sc *sendScratch, t *hookTarget, hdr *[hookHeaders]string, body []byte) (status, n int, err error) {
	h := http.Header{"Content-Type": hookContentType, "User-Agent": hookUserAgent}
	for i, name := range hookHeaderNames {
		h[name] = hdr[i : i+1 : i+1]
	}
	u := *t.u // the client's own handling may change it
	req := (&http.Request{Method: http.MethodPost, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: u.Host, ContentLength: int64(len(body)),
		Body:    io.NopCloser(bytes.NewReader(body)),
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }}).WithContext(ctx)
	if len(body) == 0 {
		req.Body, req.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, _ = io.ReadFull(resp.Body, sc.buf[:]) // the start of the answer
	if n == len(sc.buf) {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	}
	resp.Body.Close()
	return resp.StatusCode, n, nil
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

// pauseFailing pauses, in the transaction tx, the subscriptions whose run
// of failures (after the outcomes just recorded) meets the pause rule,
// with an audit entry and a notification to the administrators of the
// subscription's scope, and returns those it paused.
func (s *Service) pauseFailing(ctx context.Context, tx *store.Tx, runs []store.SubRun, cfg WebhookSettings, now time.Time) ([]string, error) {
	var paused []string
	for _, r := range runs {
		if r.State == webhook.Active && r.Failures > 0 && cfg.Pause.ShouldPause(r.Failures, r.FailingSince, now) && !slices.Contains(paused, r.ID) {
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

func trimmed(s string) string { return strings.TrimSpace(s) }

// sendQueue is the chains waiting for a sender.
type sendQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []*hookChain
	closed bool
}

func newSendQueue() *sendQueue {
	q := &sendQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push adds chains at the end, or at the front (the outbox's deliveries,
// whose own leases run while they wait).
func (q *sendQueue) push(cs []*hookChain, front bool) {
	if len(cs) == 0 {
		return
	}
	q.mu.Lock()
	if front {
		q.q = append(slices.Clone(cs), q.q...)
	} else {
		q.q = append(q.q, cs...)
	}
	q.mu.Unlock()
	for range len(cs) { // a sender for each chain, not all of them for one
		q.cond.Signal()
	}
}

// pop waits for a chain; false once the queue is closed.
func (q *sendQueue) pop() (*hookChain, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.q) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, false
	}
	c := q.q[0]
	q.q[0] = nil
	q.q = q.q[1:]
	return c, true
}

func (q *sendQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
