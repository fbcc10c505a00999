package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// Sweep fires the clock events that are due at now: yellow and red warnings
// and escalations of cases red for too long. Each event is claimed and acted
// on in one transaction, so it fires exactly once even across restarts and
// several nodes, and anything that fell due while no node ran fires at the
// next sweep. It returns how many events fired. batch is the most clocks
// claimed in one write transaction (a slice; 0: the default); slices yield
// to other writers (SweepWith).
func (s *Service) Sweep(ctx context.Context, now time.Time, batch int) (int, error) {
	return s.SweepWith(ctx, now, SweepOptions{Slice: batch})
}

// SweepOptions shape a sweep.
type SweepOptions struct {
	// Slice is the most clocks claimed and fired in one write transaction
	// (default DefaultSweepSlice).
	Slice int
	// NoYield runs the slices back to back, for comparison in benchmarks
	// only: a backlog then takes the writer's every batch.
	NoYield bool
}

// DefaultSweepSlice is how many clocks a sweep claims in one transaction.
const DefaultSweepSlice = 200

// SweepWith is Sweep with options. It claims the due clocks in slices, each
// in a write transaction of its own; between slices, when other writers
// used the writer meanwhile or wait, it pauses as long as the slice took, so that a
// backlog of tens of thousands of clocks (after an outage, at the start of a
// working day) takes at most about half of the writer's time and intake goes
// on.
func (s *Service) SweepWith(ctx context.Context, now time.Time, opt SweepOptions) (int, error) {
	slice := opt.Slice
	if slice <= 0 {
		slice = DefaultSweepSlice
	}
	fired := 0
	for {
		n := 0
		jobs := s.db.WriterStats().Jobs
		start := time.Now()
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			due, err := tx.ClaimDue(ctx, now, slice)
			if err != nil {
				return err
			}
			n = len(due)
			for _, d := range due {
				if err := s.fire(ctx, tx, d, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fired, err
		}
		fired += n
		s.sweepFired.Add(int64(n))
		// A clock due at once for its yellow and red gives two events, so
		// fewer events than the slice means fewer clocks: nothing is left.
		if n < slice {
			return fired, nil
		}
		// Others wrote while the slice ran (their jobs went through the
		// writer beside it) or wait now: give them the writer for as long
		// as the slice had it, at most a second.
		if !opt.NoYield && (s.db.WriterStats().Jobs-jobs > 1 || s.db.Queued() > 0) {
			if err := s.sweepPause(ctx, min(time.Since(start), time.Second)); err != nil {
				return fired, err
			}
		}
	}
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *Service) fire(ctx context.Context, tx *store.Tx, d store.DueClock, now time.Time) error {
	c, err := tx.Case(ctx, d.CaseID)
	if err != nil {
		return err
	}
	var cmd cases.Command
	switch {
	case d.Key == cases.ParkTimer:
		// The park's end: its first event resumes the case; the others
		// (the same instant) have nothing left to do.
		if d.Kind != "yellow" {
			return nil
		}
		cmd = cases.Command{Action: cases.ActResume, Note: "挂账期满，自动恢复处置"}
	case d.Kind == "yellow" || d.Kind == "red":
		cmd = cases.Command{Action: cases.ActWarn, Clock: d.Key, Level: d.Kind}
	case d.Kind == "escalate":
		if !cases.CaseClock(d.Key) {
			// A party late to report in or a decision past its deadline
			// counts against the party or the unit; it does not move the
			// case to the next center.
			return nil
		}
		cmd = cases.Command{Action: cases.ActEscalate, Note: "超期未办结，按规则自动上提：" + clockName(d.Key)}
	}
	_, _, err = s.apply(ctx, tx, c, cmd, cases.System, now)
	if apperr.Is(err, apperr.Refused) {
		// The rule no longer applies (for example the case is already at the
		// top center): the claim stands, nothing happens.
		return nil
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("sweeper", "case", d.CaseID, "clock", d.Key, "err", err)
	}
	return err
}

func clockName(key string) string {
	switch {
	case strings.HasSuffix(key, ":accept"):
		return "受理"
	case strings.HasSuffix(key, ":dispatch"):
		return "派遣"
	case strings.HasSuffix(key, ":sign"):
		return "签收"
	case strings.HasSuffix(key, ":handle"):
		return "处置"
	case strings.HasSuffix(key, ":verify"):
		return "核查"
	}
	return key
}

// RunSweeper sweeps every interval until ctx ends (parked cases resume
// through their park timers). It first arms the park timers of cases parked
// before those existed.
func (s *Service) RunSweeper(ctx context.Context, every time.Duration) {
	if _, err := s.ArmParkTimers(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("arm park timers", "err", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var purged time.Time
	for {
		if _, err := s.Sweep(ctx, s.Now(), 200); err != nil && ctx.Err() == nil {
			s.log.Error("sweep", "err", err)
		}
		// Enterprises' requests past their contact or answer limit go to
		// the street leader (enterprise.go).
		if _, err := s.SweepRequests(ctx, s.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("sweep enterprise requests", "err", err)
		}
		if now := s.Now(); now.Sub(purged) >= time.Hour {
			// Used form tokens past their expiry (doors.go).
			if _, err := s.PurgeFormTokens(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("purge form tokens", "err", err)
			} else if _, err := s.PurgeRoster(ctx); err != nil && ctx.Err() == nil {
				// People of the grids' rosters past their retention (gridroster.go).
				s.log.Error("purge roster", "err", err)
			} else if _, err := s.PurgeHistory(ctx); err != nil && ctx.Err() == nil {
				// Notification and webhook history past its retention (retention.go).
				s.log.Error("purge notification and webhook history", "err", err)
			} else {
				purged = now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunRollups rolls the changed cases into the rollups every interval until
// ctx ends. It runs apart from the sweeper, so the first roll of a large
// installation (a rebuild) never holds up the clocks.
func (s *Service) RunRollups(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Roll(ctx, s.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("roll up", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ArmParkTimers gives their park timer to the parked cases stored before
// park timers existed: it reads the IDs of the open parked cases without a
// park timer a page at a time (store.UnarmedParked) and writes the timers of
// a page in one transaction, each case as it stands there (one resumed or
// closed since the read, or parked without an end, is left alone; the
// clocks table's rows are keyed by case and clock, and a clock whose times
// are unchanged keeps its fired flags). The sweeper runs it once at start;
// where every parked case has its timer (any case parked by this build) it
// reads nothing and writes nothing.
func (s *Service) ArmParkTimers(ctx context.Context) (int, error) {
	const page = 500
	armed, after := 0, ""
	for {
		ids, err := s.db.UnarmedParked(ctx, after, page)
		if err != nil || len(ids) == 0 {
			return armed, err
		}
		n := 0
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			n = 0
			for _, id := range ids {
				c, err := tx.Case(ctx, id)
				if err != nil {
					return err
				}
				if c.State != cases.Parked || c.ParkedUntil.IsZero() {
					continue
				}
				if err := tx.ArmTimers(ctx, &c, s.ClockRule()); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return armed, err
		}
		armed += n
		if len(ids) < page {
			return armed, nil
		}
		after = ids[len(ids)-1]
	}
}
