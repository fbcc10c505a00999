package service

import (
	"context"
	"errors"
	"time"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// The rollups (issue 11) are per-subject daily counts of the evaluation's
// measures, kept off the intake path: the sweeper rolls the cases whose
// timelines grew since a watermark (a step ID kept in settings) into them,
// and they can be rebuilt from the cases at any time.
const (
	rollupWatermark = "rollup_watermark"
	// RollupLag is how far behind now the rollups read the steps: a step is
	// rolled once its ID is this old, so a transaction that took its step ID
	// and committed a little later is not stepped over.
	RollupLag  = 10 * time.Second
	rollupPage = 1000 // steps read at a time
)

// Roll brings the rollups up to date with the cases changed by steps after
// the watermark and up to now − RollupLag, a page of steps at a time; each
// page's cases and the new watermark are written in one transaction.
// Applying a case's facts again is harmless, so a page read twice does no
// harm. With no watermark yet (a new installation or an upgrade) it
// rebuilds. It returns how many cases it rolled.
func (s *Service) Roll(ctx context.Context, now time.Time) (int, error) {
	var wm string
	if err := s.db.Setting(ctx, rollupWatermark, &wm); errors.Is(err, store.ErrNotFound) {
		return s.RebuildRollups(ctx)
	} else if err != nil {
		return 0, err
	}
	upto := id.Last(now.Add(-RollupLag))
	loc := s.Calendar().Location()
	rolled := 0
	for {
		ids, last, err := s.db.ChangedCases(ctx, wm, upto, rollupPage)
		if err != nil || last == "" {
			return rolled, err
		}
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			if err := tx.LockRollups(ctx); err != nil {
				return err
			}
			for _, cid := range ids {
				if err := rollCase(ctx, tx, cid, loc); err != nil {
					return err
				}
			}
			return tx.PutSetting(ctx, rollupWatermark, last)
		})
		if err != nil {
			return rolled, err
		}
		rolled += len(ids)
		wm = last
	}
}

// rollCase applies the current facts of one case.
func rollCase(ctx context.Context, tx *store.Tx, caseID string, loc *time.Location) error {
	c, err := tx.Case(ctx, caseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.ApplyFacts(ctx, caseID, evaluation.Facts(&c, loc))
}

// RebuildRollups empties the rollups and applies the facts of every case
// again, a page of cases per transaction. The watermark becomes the newest
// step at the start, but no later than the start − RollupLag: steps
// committed while it ran are rolled again by the next Roll. It returns how
// many cases it applied. Readers see partial counts while it runs.
func (s *Service) RebuildRollups(ctx context.Context) (int, error) {
	start := s.Now()
	last, err := s.db.LastStepID(ctx)
	if err != nil {
		return 0, err
	}
	if bound := id.Last(start.Add(-RollupLag)); last > bound {
		last = bound
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.ClearRollups(ctx); err != nil {
			return err
		}
		return tx.PutSetting(ctx, rollupWatermark, last)
	}); err != nil {
		return 0, err
	}
	loc := s.Calendar().Location()
	f := store.CaseFilter{Scope: store.Scope{All: true}, Limit: store.MaxPage}
	applied := 0
	for {
		list, err := s.db.Cases(ctx, f)
		if err != nil {
			return applied, err
		}
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			for i := range list {
				if err := tx.ApplyFacts(ctx, list[i].ID, evaluation.Facts(&list[i], loc)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return applied, err
		}
		applied += len(list)
		if len(list) < f.Limit {
			return applied, nil
		}
		f.After = list[len(list)-1].ID
	}
}
