package webhook

import (
	"math"
	"strconv"
	"testing"
	"time"
)

// TestBudgetReserve: the waits a bucket gives a sequence of deliveries,
// each asked at an offset from t0 with the node's last case write at
// another (negative: none): the burst goes at once, then one turn every
// 1/Rate; the tokens come back with time up to the burst; a quiet node's
// deliveries wait for nothing and take nothing; no budget, no wait.
func TestBudgetReserve(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	type ask struct {
		at, write time.Duration // write < 0: no case write yet
		wait      time.Duration
	}
	b := Budget{Rate: 1000, Burst: 2, Quiet: 100 * ms}
	tick := Budget{Rate: 1000, Burst: 10, Quiet: 100 * ms, Tick: 10 * ms}
	for _, tc := range []struct {
		name string
		b    Budget
		asks []ask
	}{
		{"busy: the burst, then one turn a millisecond", b, []ask{
			{0, 0, 0}, {0, 0, 0}, {0, 0, 1 * ms}, {0, 0, 2 * ms}, {0, 0, 3 * ms}}},
		{"the turns already reserved are kept when time passes", b, []ask{
			{0, 0, 0}, {0, 0, 0}, {0, 0, 1 * ms}, {0, 0, 2 * ms}, {1 * ms, 0, 2 * ms}}},
		{"tokens come back at the rate, up to the burst", b, []ask{
			{0, 0, 0}, {0, 0, 0}, {0, 0, 1 * ms}, {10 * ms, 0, 0}, {10 * ms, 0, 0}, {10 * ms, 0, 1 * ms}}},
		{"no case write yet: no budget", b, []ask{
			{0, -1, 0}, {0, -1, 0}, {0, -1, 0}, {0, -1, 0}}},
		{"quiet for longer than Quiet: lifted, and nothing taken", b, []ask{
			{200 * ms, 0, 0}, {200 * ms, 0, 0}, {200 * ms, 0, 0}, {200 * ms, 0, 0},
			{200 * ms, 150 * ms, 0}, {200 * ms, 150 * ms, 0}, {200 * ms, 150 * ms, 1 * ms}}},
		{"busy again after a quiet spell: the bucket is full", b, []ask{
			{0, 0, 0}, {0, 0, 0}, {0, 0, 1 * ms}, {500 * ms, 0, 0}, {500 * ms, 450 * ms, 0}, {500 * ms, 450 * ms, 0}, {500 * ms, 450 * ms, 1 * ms}}},
		{"a case write just after now counts as busy", b, []ask{
			{0, 5 * ms, 0}, {0, 5 * ms, 0}, {0, 5 * ms, 1 * ms}}},
		{"a clock going back takes no tokens back", b, []ask{
			{10 * ms, 10 * ms, 0}, {10 * ms, 10 * ms, 0}, {5 * ms, 10 * ms, 1 * ms}, {10 * ms, 10 * ms, 2 * ms}}},
		{"ticks: the turns that fall within a tick wait for its end", tick, []ask{
			{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, // the burst, at once
			{0, 0, 10 * ms}, {0, 0, 10 * ms}, {0, 0, 10 * ms}, {0, 0, 10 * ms}, {0, 0, 10 * ms}, // turns at 1 … 5 ms
			{0, 0, 10 * ms}, {0, 0, 10 * ms}, {0, 0, 10 * ms}, {0, 0, 10 * ms}, {0, 0, 10 * ms}, // 6 … 10 ms: 10 ms is the tick's end
			{0, 0, 20 * ms}, {0, 0, 20 * ms}}}, // 11, 12 ms
		{"ticks: asked within a tick, the wait runs to its end", tick, []ask{
			{3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0},
			{3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0}, {3 * ms, 3 * ms, 0},
			{3 * ms, 3 * ms, 7 * ms}, {4 * ms, 3 * ms, 6 * ms}}},
		{"ticks: a turn on a tick's end waits for nothing more", Budget{Rate: 1000, Burst: 1, Quiet: time.Hour, Tick: ms}, []ask{
			{0, 0, 0}, {0, 0, 1 * ms}, {0, 0, 2 * ms}, {500 * time.Microsecond, 0, 2500 * time.Microsecond}}},
		{"ticks: no longer than the burst's worth of turns", Budget{Rate: 1000, Burst: 2, Quiet: time.Hour, Tick: 10 * ms}, []ask{
			{0, 0, 0}, {0, 0, 0}, {0, 0, 2 * ms}, {0, 0, 2 * ms}, {0, 0, 4 * ms}, {0, 0, 4 * ms}}},
		{"ticks: a quiet node waits for nothing", tick, []ask{
			{200 * ms, 0, 0}, {200 * ms, 0, 0}, {200 * ms, 0, 0}, {200 * ms, 0, 0}}},
		{"no rate: no budget", Budget{Rate: 0, Burst: 1, Quiet: time.Hour}, []ask{
			{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}},
		{"a burst below one counts as one", Budget{Rate: 100, Burst: 0, Quiet: time.Hour}, []ask{
			{0, 0, 0}, {0, 0, 10 * ms}, {0, 0, 20 * ms}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := Bucket{Budget: tc.b}
			for i, a := range tc.asks {
				var w time.Time
				if a.write >= 0 {
					w = t0.Add(a.write)
				}
				if got := k.Reserve(t0.Add(a.at), w); got != a.wait {
					t.Errorf("delivery %d at +%v: wait %v, want %v", i, a.at, got, a.wait)
				}
			}
		})
	}
}

// TestBudgetCounts: of many deliveries asked for at once while busy, as
// many as the burst go at once and every later one waits its turn, so
// that the n-th is sent no sooner than (n − burst)/rate — and, with ticks,
// at the end of the tick that turn falls in, less than a tick later:
// counted, not timed.
func TestBudgetCounts(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	for _, b := range []Budget{DefaultBudget, {Rate: 150, Burst: 7, Quiet: time.Second}, {Rate: 1e4, Burst: 1, Quiet: time.Second},
		{Rate: 1000, Burst: 50, Quiet: time.Second, Tick: 50 * time.Millisecond}, {Rate: 150, Burst: 7, Quiet: time.Second, Tick: 7 * time.Millisecond}} {
		k := Bucket{Budget: b}
		at := 0
		var last time.Duration
		for n := 1; n <= 10000; n++ {
			w := k.Reserve(t0, t0)
			if w == 0 {
				at++
			}
			if w < last {
				t.Fatalf("%+v: delivery %d waits %v, less than the one before (%v)", b, n, w, last)
			}
			last = w
			want := time.Duration(float64(n-b.Burst) / b.Rate * float64(time.Second))
			if n > b.Burst && b.Tick <= 0 && (w < want-time.Microsecond || w > want+time.Microsecond) {
				t.Fatalf("%+v: delivery %d waits %v, want %v", b, n, w, want)
			}
			if n > b.Burst && b.Tick > 0 && (w < want-time.Microsecond || w >= want+b.Tick || !t0.Add(w).Truncate(b.Tick).Equal(t0.Add(w))) {
				t.Fatalf("%+v: delivery %d waits %v, want the end of the tick of %v", b, n, w, want)
			}
		}
		if at != b.Burst {
			t.Errorf("%+v: %d went at once, want the burst %d", b, at, b.Burst)
		}
	}
}

func TestBudgetBusy(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	b := Budget{Rate: 10, Burst: 1, Quiet: time.Second}
	for _, tc := range []struct {
		b     Budget
		now   time.Time
		write time.Time
		want  bool
	}{
		{b, t0, t0, true},
		{b, t0.Add(999 * time.Millisecond), t0, true},
		{b, t0.Add(time.Second), t0, false},
		{b, t0, time.Time{}, false},
		{b, t0, t0.Add(time.Second), true},
		{Budget{Rate: 0, Quiet: time.Second}, t0, t0, false},
		{Budget{Rate: -1, Quiet: time.Second}, t0, t0, false},
	} {
		if got := tc.b.Busy(tc.now, tc.write); got != tc.want {
			t.Errorf("%+v now %v write %v: busy %v, want %v", tc.b, tc.now, tc.write, got, tc.want)
		}
	}
}

// TestSigner: a signer reused for many deliveries gives each the
// signature Sign gives it alone, which Verify accepts.
func TestSigner(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	for _, secret := range []string{"a-secret-of-sixteen", "另一个签名密钥-0123456789"} {
		s := NewSigner(secret)
		for i, body := range []string{"", "{}", `{"id":"1","kind":"report"}`, string(make([]byte, 5000))} {
			ts := now.Unix() + int64(i)
			got, want := s.Sign(ts, []byte(body)), Sign(secret, ts, []byte(body))
			if got != want {
				t.Errorf("body %d: %s, want %s", i, got, want)
			}
			if !Verify(secret, strconv.FormatInt(ts, 10), got, []byte(body), now, time.Minute) {
				t.Errorf("body %d: not verified", i)
			}
		}
	}
}

func TestCheckBudgetRate(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		ok   bool
	}{
		{0, true}, {MinBudgetRate, true}, {2000, true}, {1e6, true},
		{MinBudgetRate - 1, false}, {1, false}, {-1, false}, {math.NaN(), false},
	} {
		if got := CheckBudgetRate(tc.rate); (got == "") != tc.ok {
			t.Errorf("%v: %q", tc.rate, got)
		}
	}
}

// TestBudgetTicksKeepRate: senders taking turns from a ticked bucket, on
// a simulated clock (each reserves its next turn once its last delivery,
// taking a millisecond, is sent), deliver at the budget's rate over ten
// seconds — the ticks change when deliveries go, not how many — both
// with as many senders as a tick's turns and with fewer; and never more
// than the rate allows.
func TestBudgetTicksKeepRate(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	const span = 10 * time.Second
	for _, tc := range []struct {
		b       Budget
		senders int
	}{
		{Budget{Rate: 1000, Burst: 50, Quiet: time.Hour, Tick: 50 * time.Millisecond}, 32},
		{Budget{Rate: 1000, Burst: 50, Quiet: time.Hour, Tick: 50 * time.Millisecond}, 100},
		{Budget{Rate: 2000, Burst: 100, Quiet: time.Hour, Tick: 50 * time.Millisecond}, 32},
		{Budget{Rate: 1000, Burst: 50, Quiet: time.Hour}, 32},
		{Budget{Rate: 1000, Burst: 1, Quiet: time.Hour, Tick: 50 * time.Millisecond}, 32}, // a tick cut to the burst's worth: 1 ms
	} {
		k := Bucket{Budget: tc.b}
		ready := make([]time.Time, tc.senders) // when each sender asks for its next turn
		for i := range ready {
			ready[i] = t0
		}
		sent := 0
		for {
			i := 0 // the sender that asks first
			for j := range ready {
				if ready[j].Before(ready[i]) {
					i = j
				}
			}
			now := ready[i]
			at := now.Add(k.Reserve(now, t0))
			if at.After(t0.Add(span)) {
				break
			}
			sent++
			ready[i] = at.Add(time.Millisecond)
		}
		most := tc.b.Rate*span.Seconds() + float64(tc.b.Burst)
		if least := 0.99 * tc.b.Rate * span.Seconds(); float64(sent) < least || float64(sent) > most+1 {
			t.Errorf("%+v, %d senders: %d deliveries in %v, want %.0f to %.0f", tc.b, tc.senders, sent, span, least, most)
		}
	}
}
