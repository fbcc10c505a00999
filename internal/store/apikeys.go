package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// APIKey lets another system (a residents' app speaking Open311) report
// cases. Only the SHA-256 of its secret is stored.
type APIKey struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Hash          string    `json:"-"`
	RegionPath    string    `json:"region_path"`     // the region it may report into
	RatePerMinute int       `json:"rate_per_minute"` // reports a minute
	CreatedAt     time.Time `json:"created_at"`
	RevokedAt     time.Time `json:"revoked_at,omitzero"`
	// ExtendedStatuses opts the key's client in to FixMyStreet's extended
	// status words (investigating, in_progress, fixed…) instead of open
	// and closed alone (docs/open311.md).
	ExtendedStatuses bool `json:"extended_statuses"`
	// Hotline marks the key of the district's 12345 hotline platform: it
	// may send work orders and return visits (docs/webhooks.md).
	Hotline bool `json:"hotline"`
}

// Active reports whether the key has not been revoked.
func (k APIKey) Active() bool { return k.RevokedAt.IsZero() }

const apiKeyCols = `id, name, hash, region_path, rate_per_minute, created_at, revoked_at, extended_statuses, hotline`

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked sql.NullInt64
	var extended, hotline int
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &k.RegionPath, &k.RatePerMinute, &created, &revoked, &extended, &hotline); err != nil {
		return k, fmt.Errorf("api key: %w", translate(err))
	}
	k.CreatedAt = time.UnixMilli(created).UTC()
	k.ExtendedStatuses, k.Hotline = extended != 0, hotline != 0
	if revoked.Valid {
		k.RevokedAt = time.UnixMilli(revoked.Int64).UTC()
	}
	return k, nil
}

// InsertAPIKey stores a new key. A name already used by an active key, or a
// repeated hash, is ErrConflict.
func (t *Tx) InsertAPIKey(ctx context.Context, k APIKey) error {
	_, err := t.Exec(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		k.ID, k.Name, k.Hash, k.RegionPath, k.RatePerMinute, ms(k.CreatedAt), nullMs(k.RevokedAt), boolInt(k.ExtendedStatuses), boolInt(k.Hotline))
	if err != nil {
		return fmt.Errorf("insert api key %s: %w", k.Name, err)
	}
	return nil
}

// RevokeAPIKey marks an active key revoked at the given time; ErrNotFound when
// no active key has that ID.
func (t *Tx) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := t.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, ms(at), id)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke api key %s: %w", id, ErrNotFound)
	}
	return nil
}

// APIKeyByHash reads the active key whose secret hashes to hash.
func (db *DB) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	return scanAPIKey(db.read.QueryRowContext(ctx,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash))
}

// APIKey reads a key by its ID, or the active key with that name.
func (db *DB) APIKey(ctx context.Context, idOrName string) (APIKey, error) {
	return scanAPIKey(db.read.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys
		WHERE id = $1 OR (name = $1 AND revoked_at IS NULL) ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1`, idOrName))
}

// APIKeys lists all keys, active and revoked, by name then creation.
func (db *DB) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY name, created_at`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", translate(err))
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SetAPIKeyStatuses turns a key's extended statuses on or off; ErrNotFound
// when no active key has that ID.
func (t *Tx) SetAPIKeyStatuses(ctx context.Context, id string, extended bool) error {
	res, err := t.Exec(ctx, `UPDATE api_keys SET extended_statuses = $1 WHERE id = $2 AND revoked_at IS NULL`, boolInt(extended), id)
	if err != nil {
		return fmt.Errorf("set api key statuses: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set api key statuses %s: %w", id, ErrNotFound)
	}
	return nil
}
