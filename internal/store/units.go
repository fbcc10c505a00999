package store

import (
	"context"
	"encoding/json"
	"fmt"

	"zhizhi/internal/cases"
)

// PutUnit inserts or updates a unit.
func (t *Tx) PutUnit(ctx context.Context, u cases.Unit) error {
	_, err := t.Exec(ctx, `INSERT INTO units (id, name, kind, region_path, active, board, parent) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, region_path = excluded.region_path,
			active = excluded.active, board = excluded.board, parent = excluded.parent`,
		u.ID, u.Name, u.Kind, u.RegionPath, boolInt(u.Active), string(u.Board), u.Parent)
	if err != nil {
		return fmt.Errorf("put unit %s: %w", u.ID, err)
	}
	return nil
}

const unitCols = `id, name, kind, region_path, active, board, parent`

func scanUnit(row interface{ Scan(...any) error }) (cases.Unit, error) {
	var u cases.Unit
	var active int
	var board string
	err := row.Scan(&u.ID, &u.Name, &u.Kind, &u.RegionPath, &active, &board, &u.Parent)
	u.Active, u.Board = active == 1, cases.Board(board)
	return u, err
}

// Unit reads one unit.
func (db *DB) Unit(ctx context.Context, id string) (cases.Unit, error) {
	u, err := scanUnit(db.read.QueryRowContext(ctx, `SELECT `+unitCols+` FROM units WHERE id = $1`, id))
	if err != nil {
		return u, fmt.Errorf("unit %s: %w", id, translate(err))
	}
	return u, nil
}

// Units lists all units by name.
func (db *DB) Units(ctx context.Context) ([]cases.Unit, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+unitCols+` FROM units ORDER BY kind, name`)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", translate(err))
	}
	defer rows.Close()
	var out []cases.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, fmt.Errorf("list units: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// PutCategory inserts or updates a category.
func (t *Tx) PutCategory(ctx context.Context, c cases.Category) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode category: %w", err)
	}
	_, err = t.Exec(ctx, `INSERT INTO categories (code, active, doc) VALUES ($1,$2,$3)
		ON CONFLICT (code) DO UPDATE SET active = excluded.active, doc = excluded.doc`, c.Code, boolInt(c.Active), string(doc))
	if err != nil {
		return fmt.Errorf("put category %s: %w", c.Code, err)
	}
	return nil
}

// Categories lists all categories by code.
func (db *DB) Categories(ctx context.Context) ([]cases.Category, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM categories ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", translate(err))
	}
	defer rows.Close()
	var out []cases.Category
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var c cases.Category
		if err := json.Unmarshal([]byte(doc), &c); err != nil {
			return nil, fmt.Errorf("decode category: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Setting reads a JSON setting into v; ErrNotFound if unset.
func (db *DB) Setting(ctx context.Context, key string, v any) error {
	var s string
	if err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&s); err != nil {
		return fmt.Errorf("setting %s: %w", key, translate(err))
	}
	return json.Unmarshal([]byte(s), v)
}

// PutSetting stores a JSON setting.
func (t *Tx) PutSetting(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode setting %s: %w", key, err)
	}
	_, err = t.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1,$2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, string(b))
	if err != nil {
		return fmt.Errorf("put setting %s: %w", key, err)
	}
	return nil
}

// InitSetting stores a JSON setting only if it is not set yet; with several
// nodes starting at once, the first one's value stands and every node then
// reads that one.
func (t *Tx) InitSetting(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode setting %s: %w", key, err)
	}
	_, err = t.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1,$2) ON CONFLICT (key) DO NOTHING`, key, string(b))
	if err != nil {
		return fmt.Errorf("init setting %s: %w", key, err)
	}
	return nil
}

// LockSetting reads a JSON setting inside a write transaction, locking its
// row on PostgreSQL until the transaction ends (SQLite has one writer), so
// a read-modify-write of the setting is not lost to another at once;
// ErrNotFound if unset.
func (t *Tx) LockSetting(ctx context.Context, key string, v any) error {
	q := `SELECT value FROM settings WHERE key = $1`
	if t.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var s string
	if err := t.QueryRow(ctx, q, key).Scan(&s); err != nil {
		return fmt.Errorf("setting %s: %w", key, translate(err))
	}
	return json.Unmarshal([]byte(s), v)
}
