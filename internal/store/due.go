package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DueCount is how many clocks have an event due at now that no sweep has
// claimed yet.
func (db *DB) DueCount(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM clocks WHERE next_at <= $1`, ms(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count due clocks: %w", translate(err))
	}
	return n, nil
}

// OldestDue is the time of the oldest clock event not yet claimed, and
// whether there is one at or before now (the sweeper's lag is now minus it).
func (db *DB) OldestDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var at sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT min(next_at) FROM clocks WHERE next_at IS NOT NULL`).Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("oldest due clock: %w", translate(err))
	}
	if !at.Valid || at.Int64 > ms(now) {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(at.Int64), true, nil
}
