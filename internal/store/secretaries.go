package store

import (
	"context"
	"fmt"

	"zhizhi/internal/leaders"
)

// A leader's secretaries (issue 13, migration 23).

// SecretaryFilter narrows the assignments: to one leader, one secretary,
// or the leaders of a region (Under, a path prefix).
type SecretaryFilter struct {
	LeaderID, SecretaryID, Under string
}

// PutSecretary stores an assignment, ErrConflict when it exists already.
func (t *Tx) PutSecretary(ctx context.Context, s leaders.Secretary) error {
	doc, err := encodeDoc(s)
	if err != nil {
		return err
	}
	if _, err := t.Exec(ctx, `INSERT INTO leader_secretaries (leader_id, secretary_id, region_path, doc) VALUES ($1,$2,$3,$4)`,
		s.LeaderID, s.SecretaryID, s.RegionPath, doc); err != nil {
		return fmt.Errorf("put secretary: %w", translate(err))
	}
	return nil
}

// DeleteSecretary removes an assignment, ErrNotFound when there is none.
func (t *Tx) DeleteSecretary(ctx context.Context, leaderID, secretaryID string) error {
	r, err := t.Exec(ctx, `DELETE FROM leader_secretaries WHERE leader_id = $1 AND secretary_id = $2`, leaderID, secretaryID)
	if err != nil {
		return fmt.Errorf("delete secretary: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SecretaryOf reads one assignment inside a write (the visit's check and
// its record are one transaction).
func (t *Tx) SecretaryOf(ctx context.Context, leaderID, secretaryID string) (leaders.Secretary, error) {
	var doc string
	err := t.QueryRow(ctx, `SELECT doc FROM leader_secretaries WHERE leader_id = $1 AND secretary_id = $2`, leaderID, secretaryID).Scan(&doc)
	return decodeDoc[leaders.Secretary](doc, err, "secretary")
}

// Secretary reads one assignment.
func (db *DB) Secretary(ctx context.Context, leaderID, secretaryID string) (leaders.Secretary, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM leader_secretaries WHERE leader_id = $1 AND secretary_id = $2`, leaderID, secretaryID).Scan(&doc)
	return decodeDoc[leaders.Secretary](doc, err, "secretary")
}

// Secretaries lists assignments, by leader and secretary.
func (db *DB) Secretaries(ctx context.Context, f SecretaryFilter) ([]leaders.Secretary, error) {
	var w where
	if f.LeaderID != "" {
		w.add(`leader_id = ?`, f.LeaderID)
	}
	if f.SecretaryID != "" {
		w.add(`secretary_id = ?`, f.SecretaryID)
	}
	pathCond(&w, f.Under)
	q, args := w.query(`SELECT doc FROM leader_secretaries`, ` ORDER BY leader_id, secretary_id LIMIT 2000`)
	rows, err := db.read.QueryContext(ctx, q, args...)
	return scanDocs[leaders.Secretary](rows, err, "list secretaries")
}
