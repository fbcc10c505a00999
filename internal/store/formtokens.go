package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Form tokens of the anonymous doors (issue 20): a token the residents'
// report page handed out is good for one report. The report's write
// consumes it (UseFormToken) in the same transaction as the case, so two
// reports with one token, on one node or on several, make one case. A row is
// kept until the token expires (a token past its expiry is refused anyway),
// then PurgeFormTokens deletes it.

// UseFormToken records that token was used by the case caseID. A token
// already used is ErrConflict, with the ID of the case that used it; nothing
// is written then.
func (t *Tx) UseFormToken(ctx context.Context, token, caseID string, now, expires time.Time) (string, error) {
	// Read first: a reused token (a flood of them) fails without writing,
	// so the writer need not run the batch again without it. The held
	// case rows do not touch this table: no flush.
	var used string
	err := t.queryRow(ctx, `SELECT case_id FROM form_tokens WHERE token = $1`, token).Scan(&used)
	if err == nil {
		return used, ErrConflict
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("form token: %w", err)
	}
	// Another node may have used it since: its row locks ours out until it
	// commits, and then nothing is inserted (the batch runs again without
	// this report, which is refused).
	var got string
	err = t.queryRow(ctx, `INSERT INTO form_tokens (token, case_id, used_at, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token) DO NOTHING RETURNING token`, token, caseID, ms(now), ms(expires)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrConflict
	}
	if err != nil {
		return "", fmt.Errorf("use form token: %w", err)
	}
	return "", nil
}

// FormTokenCase returns the case that used a form token, or ErrNotFound.
func (db *DB) FormTokenCase(ctx context.Context, token string) (string, error) {
	var id string
	err := db.read.QueryRowContext(ctx, `SELECT case_id FROM form_tokens WHERE token = $1`, token).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("form token: %w", translate(err))
	}
	return id, nil
}

// PurgeFormTokens deletes the used tokens that expired before now and
// returns how many.
func (db *DB) PurgeFormTokens(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM form_tokens WHERE expires_at < $1`, ms(now))
		if err != nil {
			return fmt.Errorf("purge form tokens: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
