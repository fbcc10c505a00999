package store

import (
	"context"
	"encoding/json"
	"fmt"

	"zhizhi/internal/geo"
	"zhizhi/internal/region"
)

// RegionRecord is a stored region with its materialised path.
type RegionRecord struct {
	region.Region
	Path string `json:"path"`
}

// PutRegions inserts or replaces regions (parents before children) in one
// transaction: all or nothing.
func (db *DB) PutRegions(ctx context.Context, rs []RegionRecord) error {
	return db.Write(ctx, func(tx *Tx) error {
		for _, r := range rs {
			if err := tx.PutRegion(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutRegion inserts or replaces one region.
func (t *Tx) PutRegion(ctx context.Context, r RegionRecord) error {
	shape := ""
	var minLng, minLat, maxLng, maxLat any
	if len(r.Shape) > 0 {
		b, err := json.Marshal(r.Shape)
		if err != nil {
			return fmt.Errorf("encode shape of %s: %w", r.Code, err)
		}
		shape = string(b)
		bb := r.Shape.Bounds()
		minLng, minLat, maxLng, maxLat = bb.Min.Lng, bb.Min.Lat, bb.Max.Lng, bb.Max.Lat
	}
	_, err := t.Exec(ctx, `INSERT INTO regions (code, name, level, parent_code, path, shape, min_lng, min_lat, max_lng, max_lat, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent_code = excluded.parent_code,
			path = excluded.path, shape = excluded.shape, min_lng = excluded.min_lng, min_lat = excluded.min_lat,
			max_lng = excluded.max_lng, max_lat = excluded.max_lat, updated_at = excluded.updated_at`,
		r.Code, r.Name, string(r.Level), r.ParentCode, r.Path, shape, minLng, minLat, maxLng, maxLat, nowMillis())
	if err != nil {
		return fmt.Errorf("put region %s: %w", r.Code, err)
	}
	return nil
}

const regionCols = `code, name, level, parent_code, path, shape`

func scanRegion(row interface{ Scan(...any) error }, withShape bool) (RegionRecord, error) {
	var r RegionRecord
	var level, shape string
	if err := row.Scan(&r.Code, &r.Name, &level, &r.ParentCode, &r.Path, &shape); err != nil {
		return r, fmt.Errorf("region: %w", translate(err))
	}
	r.Level = region.Level(level)
	if withShape && shape != "" {
		var mp geo.MultiPolygon
		if err := json.Unmarshal([]byte(shape), &mp); err != nil {
			return r, fmt.Errorf("decode shape of %s: %w", r.Code, err)
		}
		r.Shape = mp
	}
	return r, nil
}

// Region reads one region with its shape.
func (db *DB) Region(ctx context.Context, code string) (RegionRecord, error) {
	return scanRegion(db.read.QueryRowContext(ctx, `SELECT `+regionCols+` FROM regions WHERE code = $1`, code), true)
}

// RegionFilter selects regions.
type RegionFilter struct {
	Parent    string // children of this code
	Level     region.Level
	Under     string // path prefix
	WithShape bool
}

// Regions lists regions ordered by path.
func (db *DB) Regions(ctx context.Context, f RegionFilter) ([]RegionRecord, error) {
	w := &where{}
	if f.Parent != "" {
		w.add(`parent_code = ?`, f.Parent)
	}
	if f.Level != "" {
		w.add(`level = ?`, string(f.Level))
	}
	if f.Under != "" {
		lo, hi := prefixRange(f.Under)
		w.add(`path >= ? AND path < ?`, lo, hi)
	}
	cols := regionCols
	if !f.WithShape {
		cols = `code, name, level, parent_code, path, ''`
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+cols+` FROM regions`+w.sql()+` ORDER BY path`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", translate(err))
	}
	defer rows.Close()
	var out []RegionRecord
	for rows.Next() {
		r, err := scanRegion(rows, f.WithShape)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RegionLevels returns every stored region's level by code, for import checks.
func (db *DB) RegionLevels(ctx context.Context) (map[string]region.Level, map[string]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT code, level, path FROM regions`)
	if err != nil {
		return nil, nil, fmt.Errorf("region levels: %w", translate(err))
	}
	defer rows.Close()
	levels := map[string]region.Level{}
	paths := map[string]string{}
	for rows.Next() {
		var code, level, path string
		if err := rows.Scan(&code, &level, &path); err != nil {
			return nil, nil, err
		}
		levels[code] = region.Level(level)
		paths[code] = path
	}
	return levels, paths, rows.Err()
}

// CountRegions counts regions by level.
func (db *DB) CountRegions(ctx context.Context) (map[region.Level]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT level, COUNT(*) FROM regions GROUP BY level`)
	if err != nil {
		return nil, fmt.Errorf("count regions: %w", translate(err))
	}
	defer rows.Close()
	out := map[region.Level]int{}
	for rows.Next() {
		var l string
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[region.Level(l)] = n
	}
	return out, rows.Err()
}
