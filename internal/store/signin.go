package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SignInLock is an account's run of failed sign-ins.
type SignInLock struct {
	Failures    int       `json:"failures"`     // consecutive failures since the last success or lock
	LastFailure time.Time `json:"last_failure"` // zero when none
	LockedUntil time.Time `json:"locked_until"` // zero when never locked
}

// Locked reports whether the account is locked at now.
func (l SignInLock) Locked(now time.Time) bool { return l.LockedUntil.After(now) }

// SignInLockOf reads an account's failed sign-ins (zero when none).
func (db *DB) SignInLockOf(ctx context.Context, accountID string) (SignInLock, error) {
	var l SignInLock
	var last, until int64
	err := db.read.QueryRowContext(ctx, `SELECT failures, last_failure, locked_until FROM signin_locks WHERE account_id = $1`, accountID).Scan(&l.Failures, &last, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("read sign-in lock: %w", translate(err))
	}
	l.LastFailure = time.UnixMilli(last).UTC()
	if until > 0 {
		l.LockedUntil = time.UnixMilli(until).UTC()
	}
	return l, nil
}

// SignInFailed counts a failed sign-in of an account; the limit-th
// consecutive failure locks it until now + lockFor and starts the count
// again. It returns the account's state after the failure.
func (t *Tx) SignInFailed(ctx context.Context, accountID string, now time.Time, limit int, lockFor time.Duration) (SignInLock, error) {
	var l SignInLock
	var last, until int64
	err := t.QueryRow(ctx, `INSERT INTO signin_locks (account_id, failures, last_failure, locked_until) VALUES ($1, 1, $2, 0)
		ON CONFLICT (account_id) DO UPDATE SET failures = signin_locks.failures + 1, last_failure = excluded.last_failure
		RETURNING failures, last_failure, locked_until`, accountID, ms(now)).Scan(&l.Failures, &last, &until)
	if err != nil {
		return l, fmt.Errorf("count failed sign-in: %w", translate(err))
	}
	if l.Failures >= limit {
		until = ms(now.Add(lockFor))
		if _, err := t.Exec(ctx, `UPDATE signin_locks SET failures = 0, locked_until = $2 WHERE account_id = $1`, accountID, until); err != nil {
			return l, fmt.Errorf("lock account: %w", err)
		}
		l.Failures = 0
	}
	l.LastFailure = time.UnixMilli(last).UTC()
	if until > 0 {
		l.LockedUntil = time.UnixMilli(until).UTC()
	}
	return l, nil
}

// ClearSignInLock forgets an account's failed sign-ins and lock (a
// successful sign-in, an administrator's unlock, a new password).
func (t *Tx) ClearSignInLock(ctx context.Context, accountID string) error {
	if _, err := t.Exec(ctx, `DELETE FROM signin_locks WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("clear sign-in lock: %w", err)
	}
	return nil
}
