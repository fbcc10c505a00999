package store

import (
	"context"
	"fmt"

	"zhizhi/internal/seal"
)

// SealSubscriptionSecrets seals, with seal, every webhook subscription's
// secret still stored in plaintext (rows written before secrets were
// sealed at rest) and returns how many it sealed. It runs at start-up; a
// second run finds none.
func (t *Tx) SealSubscriptionSecrets(ctx context.Context, sealFn func(plain string) string) (int, error) {
	rows, err := t.Query(ctx, `SELECT id, secret FROM webhook_subs WHERE secret <> '' AND substr(secret, 1, $1) <> $2 ORDER BY id`,
		len(seal.Prefix), seal.Prefix)
	if err != nil {
		return 0, fmt.Errorf("plaintext subscription secrets: %w", err)
	}
	type plain struct{ id, secret string }
	var found []plain
	for rows.Next() {
		var p plain
		if err := rows.Scan(&p.id, &p.secret); err != nil {
			rows.Close()
			return 0, fmt.Errorf("plaintext subscription secrets: %w", err)
		}
		found = append(found, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("plaintext subscription secrets: %w", err)
	}
	for _, p := range found {
		if _, err := t.Exec(ctx, `UPDATE webhook_subs SET secret = $1 WHERE id = $2 AND secret = $3`, sealFn(p.secret), p.id, p.secret); err != nil {
			return 0, fmt.Errorf("seal the secret of subscription %s: %w", p.id, err)
		}
	}
	return len(found), nil
}

// StoredSubscriptionSecret reads a subscription's secret column as stored
// (sealed), for checks that it never holds the secret itself.
func (db *DB) StoredSubscriptionSecret(ctx context.Context, id string) (string, error) {
	var s string
	err := db.read.QueryRowContext(ctx, `SELECT secret FROM webhook_subs WHERE id = $1`, id).Scan(&s)
	return s, translate(err)
}
