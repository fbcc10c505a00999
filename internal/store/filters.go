package store

import (
	"context"
	"fmt"
	"time"
)

// SavedFilter is a filter of the board queue that a person saved under a
// name: the query string the board reads (web.boardFilter).
type SavedFilter struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxSavedFilters is how many filters one person may keep.
const MaxSavedFilters = 30

// SaveFilter stores a person's filter; one of the same name is replaced
// (keeping its ID). It returns the stored filter.
func (t *Tx) SaveFilter(ctx context.Context, f SavedFilter) (SavedFilter, error) {
	var id string
	err := t.QueryRow(ctx, `INSERT INTO saved_filters (id, account_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, name) DO UPDATE SET query = excluded.query, created_at = excluded.created_at
		RETURNING id`, f.ID, f.AccountID, f.Name, f.Query, ms(f.CreatedAt)).Scan(&id)
	if err != nil {
		return f, fmt.Errorf("save filter: %w", err)
	}
	f.ID = id
	return f, nil
}

// CountSavedFilters counts a person's saved filters.
func (t *Tx) CountSavedFilters(ctx context.Context, account string) (int, error) {
	var n int
	err := t.QueryRow(ctx, `SELECT count(*) FROM saved_filters WHERE account_id = $1`, account).Scan(&n)
	return n, err
}

// DeleteSavedFilter deletes one of a person's filters; ErrNotFound when the
// person has no filter with that ID (another person's is not theirs).
func (t *Tx) DeleteSavedFilter(ctx context.Context, account, id string) error {
	res, err := t.Exec(ctx, `DELETE FROM saved_filters WHERE id = $1 AND account_id = $2`, id, account)
	if err != nil {
		return fmt.Errorf("delete filter: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("filter %s: %w", id, ErrNotFound)
	}
	return nil
}

// SavedFilters lists a person's saved filters by name.
func (db *DB) SavedFilters(ctx context.Context, account string) ([]SavedFilter, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, account_id, name, query, created_at FROM saved_filters
		WHERE account_id = $1 ORDER BY name`, account)
	if err != nil {
		return nil, fmt.Errorf("list filters: %w", translate(err))
	}
	defer rows.Close()
	var out []SavedFilter
	for rows.Next() {
		var f SavedFilter
		var at int64
		if err := rows.Scan(&f.ID, &f.AccountID, &f.Name, &f.Query, &at); err != nil {
			return nil, fmt.Errorf("list filters: %w", translate(err))
		}
		f.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}
