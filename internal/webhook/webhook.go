// Package webhook holds the pure rules of webhook deliveries to other
// systems (issue 18, docs/webhooks.md): which case events a subscription
// takes, the payload, the signature, the retry schedule, the order per case
// and when a failing subscription is paused. Storage (the outbox) is in
// internal/store, the write path and the delivery worker in
// internal/service (webhooks.go).
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// All is the event list entry that takes every kind.
const All = "*"

// ActReturnVisit is the hotline's return visit (回访) of a case, an event
// kind like the state machine's actions (internal/cases/visit.go).
const ActReturnVisit = cases.ActReturnVisit

// Kinds are the event kinds a subscription may name: every action of the
// case state machine (a step's action), the report and the on-the-spot
// report, in the table's order.
func Kinds() []string {
	out := []string{string(cases.ActReport), string(cases.ActSolvedOnSpot)}
	for _, r := range cases.Table {
		if !slices.Contains(out, string(r.Action)) {
			out = append(out, string(r.Action))
		}
	}
	return out
}

// KindLabel is the Chinese name of an event kind.
func KindLabel(k string) string {
	if k == All {
		return "全部事件"
	}
	return cases.Action(k).Label()
}

// States of a subscription.
const (
	Active = "active" // delivering
	Paused = "paused" // kept failing, or paused by an administrator: events queue up, nothing is sent
)

// Subscription is another system's standing order for case events.
type Subscription struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	URL        string   `json:"url"`
	Events     []string `json:"events"`
	RegionCode string   `json:"region_code,omitempty"` // scope: cases placed in this region's subtree
	RegionPath string   `json:"region_path,omitempty"`
	UnitID     string   `json:"unit_id,omitempty"` // or scope: cases on which this unit has a task
	Sources    []string `json:"sources,omitempty"` // only cases from these sources (none: every source)
	Secret     string   `json:"-"`
	State      string   `json:"state"`
	// Why it was paused, and when.
	PauseReason string    `json:"pause_reason,omitempty"`
	PausedAt    time.Time `json:"paused_at,omitzero"`
	// The current run of failed attempts (0 after a success) and when it began.
	Failures     int       `json:"failures"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	LastOK       time.Time `json:"last_ok,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Input is what an administrator gives to create or change a subscription.
type Input struct {
	Name       string   `json:"name"`
	URL        string   `json:"url"`
	Events     []string `json:"events"`
	RegionCode string   `json:"region_code,omitempty"`
	UnitID     string   `json:"unit_id,omitempty"`
	// Sources narrows the scope to cases from these sources (the 12345
	// hotline's subscription: hotline); empty: every source.
	Sources []string `json:"sources,omitempty"`
	// Secret signs the deliveries; empty on creation: one is generated and
	// shown once; empty on a change: kept.
	Secret string `json:"secret,omitempty"`
}

// Limits on a subscription.
const (
	MaxName   = 50
	MaxURL    = 2000
	MinSecret = 16
	MaxSecret = 200
	MaxEvents = 64
)

// Validate checks an input's own fields (the service checks the scope
// exists and lies within the administrator's). Events come back
// de-duplicated in kind order, All alone when it is named.
func (in Input) Validate() ([]string, error) {
	var f apperr.Fields
	name := strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxName {
		f.Addf("name", "名称不能为空且不超过%d字", MaxName)
	}
	if err := CheckURL(in.URL); err != "" {
		f.Add("url", err)
	}
	var events []string
	if len(in.Events) == 0 {
		f.Add("events", "请至少选择一种事件")
	} else if len(in.Events) > MaxEvents {
		f.Add("events", "事件种类过多")
	} else {
		kinds := Kinds()
		seen := map[string]bool{}
		for i, e := range in.Events {
			if e == All {
				seen[All] = true
				continue
			}
			if !slices.Contains(kinds, e) {
				f.Addf("events["+strconv.Itoa(i)+"]", "未知的事件种类：%s", e)
				continue
			}
			seen[e] = true
		}
		if seen[All] {
			events = []string{All}
		} else {
			for _, k := range kinds {
				if seen[k] {
					events = append(events, k)
				}
			}
		}
	}
	for i, src := range in.Sources {
		if !cases.Source(src).Valid() {
			f.Addf("sources["+strconv.Itoa(i)+"]", "未知的案件来源：%s", src)
		}
	}
	region, unit := strings.TrimSpace(in.RegionCode), strings.TrimSpace(in.UnitID)
	if (region == "") == (unit == "") {
		f.Add("region_code", "请指定订阅范围：区域或单位（二选一）")
	}
	if in.Secret != "" {
		if n := len(in.Secret); n < MinSecret || n > MaxSecret {
			f.Addf("secret", "签名密钥长度应在%d到%d个字符之间", MinSecret, MaxSecret)
		} else if strings.ContainsAny(in.Secret, " \r\n\t\v\f") {
			f.Add("secret", "签名密钥不能含空白字符")
		}
	}
	return events, f.Err()
}

// CheckURL returns why a receiver's address is refused, or "".
func CheckURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "请填写接收地址"
	}
	if len(raw) > MaxURL {
		return "接收地址过长"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "接收地址须为 http:// 或 https:// 开头的完整地址"
	}
	if u.User != nil {
		return "接收地址不能包含用户名或密码，请使用签名密钥验证"
	}
	if u.Fragment != "" {
		return "接收地址不能包含 # 片段"
	}
	return ""
}

// Takes reports whether the subscription takes the event kind.
func (s *Subscription) Takes(kind string) bool {
	return slices.Contains(s.Events, All) || slices.Contains(s.Events, kind)
}

// Covers reports whether a case lies in the subscription's scope: placed in
// its region's subtree, or with a task (any, finished ones too) of its unit.
func (s *Subscription) Covers(c *cases.Case) bool {
	return s.covers(FactsOf(c, nil))
}

func (s *Subscription) covers(f Facts) bool {
	if len(s.Sources) > 0 && !slices.Contains(s.Sources, f.Source) {
		return false
	}
	if s.RegionPath != "" {
		return strings.HasPrefix(f.RegionPath, s.RegionPath)
	}
	if s.UnitID != "" {
		return slices.Contains(f.Units, s.UnitID)
	}
	return false
}

// Facts are what the matching of subscriptions needs to know of a case's
// step: the event's row keeps them, so the delivery loop matches each
// event read after a subscription's cursor without reading the case.
type Facts struct {
	Kind       string   // the step's action
	Source     string   // the case's source
	RegionPath string   // where the case is placed
	Units      []string // the units with a task on the case (finished ones too), after the step
}

// FactsOf are the facts of a step of a case as it stands after the step
// (st nil: the case alone, Kind empty).
func FactsOf(c *cases.Case, st *cases.Step) Facts {
	f := Facts{Source: string(c.Source), RegionPath: c.RegionPath}
	if st != nil {
		f.Kind = string(st.Action)
	}
	for _, t := range c.Tasks {
		if !slices.Contains(f.Units, t.UnitID) {
			f.Units = append(f.Units, t.UnitID)
		}
	}
	return f
}

// Wants reports whether the subscription takes an event with these facts.
func (s *Subscription) Wants(f Facts) bool {
	return s.Takes(f.Kind) && s.covers(f)
}

// Match returns the subscriptions (of any state: a paused one keeps its
// events queued) that take a step of a case.
func Match(subs []Subscription, c *cases.Case, s *cases.Step) []*Subscription {
	return Fan(subs, FactsOf(c, s), time.Time{})
}

// Fan returns the subscriptions (of any state) that take an event with
// these facts, written to the outbox at queuedAt: a subscription created
// after the event was queued does not take it (it receives the events from
// its creation on). A zero queuedAt skips that rule.
func Fan(subs []Subscription, f Facts, queuedAt time.Time) []*Subscription {
	var out []*Subscription
	for i := range subs {
		if !queuedAt.IsZero() && subs[i].CreatedAt.After(queuedAt) {
			continue
		}
		if subs[i].Wants(f) {
			out = append(out, &subs[i])
		}
	}
	return out
}

// Headers of a delivery.
const (
	HeaderEvent     = "X-Zhizhi-Event"     // the event kind (the step's action)
	HeaderEventID   = "X-Zhizhi-Event-Id"  // the idempotency key: the same on every attempt
	HeaderTimestamp = "X-Zhizhi-Timestamp" // Unix seconds of this attempt
	HeaderSignature = "X-Zhizhi-Signature" // sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
	HeaderAttempt   = "X-Zhizhi-Attempt"   // 1 for the first attempt
	HeaderIdem      = "Idempotency-Key"    // the event ID again, under the common name
)

// Sign is the signature header's value for a body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Signer signs deliveries with one secret, reusing its HMAC state and
// buffers from one delivery to the next (Sign makes them anew each
// time): the sender keeps one per secret. Not safe for concurrent use.
type Signer struct {
	mac hash.Hash
	ts  [20]byte
	sum [sha256.Size]byte
	out [len(sigPrefix) + 2*sha256.Size]byte
}

const sigPrefix = "sha256="

// NewSigner makes a signer for a secret.
func NewSigner(secret string) *Signer {
	s := &Signer{mac: hmac.New(sha256.New, []byte(secret))}
	copy(s.out[:], sigPrefix)
	return s
}

// Sign is the signature header's value for a body sent at ts, the same as
// Sign(secret, ts, body).
func (s *Signer) Sign(ts int64, body []byte) string {
	s.mac.Reset()
	s.mac.Write(strconv.AppendInt(s.ts[:0], ts, 10))
	s.mac.Write([]byte{'.'})
	s.mac.Write(body)
	hex.Encode(s.out[len(sigPrefix):], s.mac.Sum(s.sum[:0]))
	return string(s.out[:])
}

// Verify checks a delivery as a receiver should: the signature over the
// timestamp and the body, and the timestamp within tolerance of now (so a
// captured delivery cannot be replayed later).
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}

// Retry schedule: the wait after the n-th failed attempt of a delivery is
// BackoffBase × 2^(n−1), at most BackoffMax.
const (
	BackoffBase = 10 * time.Second
	BackoffMax  = time.Hour
)

// Backoff is the wait after the failures-th failed attempt (1 for the first
// failure) under a base and a cap.
func Backoff(failures int, base, max time.Duration) time.Duration {
	if failures < 1 {
		return 0
	}
	d := base
	for i := 1; i < failures; i++ {
		d *= 2
		if d >= max || d <= 0 {
			return max
		}
	}
	return min(d, max)
}

// PauseRule says when a subscription that keeps failing is paused: after
// at least MinFailures consecutive failed attempts spanning After or more
// (no success in between). The defaults: 10 failures over 24 hours — a
// receiver down for a night is not paused, one gone for a day is.
type PauseRule struct {
	MinFailures int
	After       time.Duration
}

// DefaultPause is the rule unless configured.
var DefaultPause = PauseRule{MinFailures: 10, After: 24 * time.Hour}

// ShouldPause reports whether a subscription with failures consecutive
// failed attempts since failingSince is to be paused at now.
func (r PauseRule) ShouldPause(failures int, failingSince, now time.Time) bool {
	return failures >= r.MinFailures && !failingSince.IsZero() && now.Sub(failingSince) >= r.After
}

// Item is one queued delivery as the ordering rule sees it.
type Item struct {
	Sub    string
	CaseID string
	Seq    int       // the step's number in its case
	NextAt time.Time // not before
	Leased bool      // being sent by a worker
}

// Ready returns the deliveries that may be sent at now, oldest first: per
// subscription and case only the earliest queued event (a later event waits
// until the earlier one is delivered, also while the earlier is being sent
// or waits for a retry), and only when its retry time has come and no worker
// holds it. The store's claim implements the same rule in SQL
// (store.ClaimDeliveries; the store test compares them).
func Ready(queue []Item, now time.Time) []Item {
	first := map[[2]string]Item{}
	for _, it := range queue {
		k := [2]string{it.Sub, it.CaseID}
		if f, ok := first[k]; !ok || it.Seq < f.Seq {
			first[k] = it
		}
	}
	var out []Item
	for _, it := range first {
		if !it.Leased && !it.NextAt.After(now) {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NextAt.Equal(out[j].NextAt) {
			return out[i].NextAt.Before(out[j].NextAt)
		}
		if out[i].Sub != out[j].Sub {
			return out[i].Sub < out[j].Sub
		}
		if out[i].CaseID != out[j].CaseID {
			return out[i].CaseID < out[j].CaseID
		}
		return out[i].Seq < out[j].Seq
	})
	return out
}

// OK reports whether a receiver's status code acknowledges a delivery.
func OK(status int) bool { return status >= 200 && status < 300 }
