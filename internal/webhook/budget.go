package webhook

import (
	"fmt"
	"time"
)

// Budget is a node's pace of deliveries while case work is being written:
// deliveries share the node's CPU with case actions (the HTTP exchange,
// the signature, the garbage), and case actions come first. While the
// node wrote a case change within the last Quiet, its deliveries go at
// most Rate a second (after a Burst); once it is quiet the budget lifts,
// so a backlog drains as fast as the receivers take it. The budget
// counts attempts, failed ones too; it changes when a delivery is sent,
// never whether, nor the order of a case's events.
//
// The turns are given out in ticks: a delivery whose turn falls within a
// Tick waits until the tick's end, with the other turns of that tick, so
// that a busy node's deliveries go out together every Tick instead of one
// at a time every 1/Rate. Each exchange costs both ends less CPU so: a
// process woken for one request every millisecond pays its wake-ups (the
// scheduler, the poller, the threads) for each, one woken for fifty at a
// time pays them once (on the 2-core test machine, 1,000 requests a
// second one at a time cost the two processes about 300 µs of CPU each,
// fifty every 50 ms about 90 µs: docs/webhooks.md). A delivery is never
// sent before its turn; it may go up to one Tick after it.
type Budget struct {
	Rate  float64       // deliveries a second while busy; 0 or less: no budget
	Burst int           // deliveries that may go at once before the pace applies (at least 1)
	Quiet time.Duration // how long after its last case write the node still counts as busy
	Tick  time.Duration // turns are given out at the ends of ticks this long (of the clock's time since year 1), at most Burst/Rate; 0 or less: each at its own time
}

// DefaultBudget is a node's budget unless configured: 2,000 deliveries a
// second while case work is being written, in bursts of 100, given out
// every 50 ms, lifted 250 ms after the last case write. On the 2-core test machine (docs/benchmarks-journal.md,
// issue 18) intake with ten subscriptions kept 76% of its pace at this
// budget, 79% at 1,000 and 56% with none; 2,000 drains a backlog twice as
// fast as 1,000 for about the same share of intake.
var DefaultBudget = Budget{Rate: 2000, Burst: 100, Quiet: 250 * time.Millisecond, Tick: 50 * time.Millisecond}

// MinBudgetRate is the least rate a configured budget may have: an outbox
// delivery claimed under its own lease may wait for the turns of the
// deliveries before it (at most one per sender), which must stay short.
const MinBudgetRate = 100

// CheckBudgetRate returns why a configured budget rate (deliveries a
// second; 0: no budget) is refused, or "".
func CheckBudgetRate(rate float64) string {
	if rate != 0 && !(rate >= MinBudgetRate) { // NaN refused too
		return fmt.Sprintf("推送预算应为 0（不限速）或每秒至少 %d 次", MinBudgetRate)
	}
	return ""
}

// Bucket is a budget's state: a token bucket whose tokens may go below
// zero, each negative token a delivery waiting for its turn (reserved in
// the order asked). Not safe for concurrent use: its owner locks.
type Bucket struct {
	Budget
	tokens float64
	last   time.Time // when tokens was last brought up to date; zero: never
}

// Busy reports whether a node whose last case write was at lastWrite
// (zero: none yet) counts as busy at now.
func (b Budget) Busy(now, lastWrite time.Time) bool {
	return b.Rate > 0 && !lastWrite.IsZero() && now.Sub(lastWrite) < b.Quiet
}

// Reserve takes one delivery's turn at now, the node's last case write
// having been at lastWrite, and returns how long the delivery waits before
// it is sent (0: at once). A quiet node's deliveries take no token (the
// bucket fills up meanwhile); a busy node's take one each, and once the
// burst is spent each waits 1/Rate after the one before it, and then for
// the end of the tick its turn falls in.
func (k *Bucket) Reserve(now, lastWrite time.Time) time.Duration {
	burst := float64(max(k.Burst, 1))
	if k.last.IsZero() {
		k.tokens = burst
	} else if d := now.Sub(k.last); d > 0 {
		k.tokens = min(burst, k.tokens+d.Seconds()*k.Rate)
	}
	if now.After(k.last) {
		k.last = now
	}
	if !k.Busy(now, lastWrite) {
		return 0
	}
	k.tokens--
	if k.tokens >= 0 {
		return 0
	}
	w := time.Duration(-k.tokens / k.Rate * float64(time.Second))
	// A tick holds at most the burst's worth of turns: the senders woken
	// at its end, however few, send the rest of its turns from the tokens
	// that came back meanwhile, so the rate is kept.
	if tick := min(k.Tick, time.Duration(burst/k.Rate*float64(time.Second))); tick > 0 {
		turn := now.Add(w)
		end := turn.Truncate(tick)
		if end.Before(turn) {
			end = end.Add(tick)
		}
		w = end.Sub(now)
	}
	return w
}
