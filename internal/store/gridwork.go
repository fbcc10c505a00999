package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"zhizhi/internal/gridwork"
)

// The grid worker's day (issue 15): patrols, household visits, the grid's
// roster, team and patrol plan. Each row keeps the full record as JSON
// (doc) with the columns queries select on.

// GridFilter selects patrols or visits: those of grids under a region path
// (a grid's own path selects that grid), of one person, in [From, To).
type GridFilter struct {
	Under    string // region path prefix; "" selects every grid
	PersonID string // the worker (patrols) or visitor (visits)
	From, To time.Time
	Limit    int // 0: 1000; at most 10000
}

func (f GridFilter) where(timeCol, personCol string) (string, []any) {
	q := ` WHERE 1 = 1`
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Under != "" {
		q += ` AND grid_path LIKE ` + arg(likePrefix(f.Under))
	}
	if f.PersonID != "" {
		q += ` AND ` + personCol + ` = ` + arg(f.PersonID)
	}
	if !f.From.IsZero() {
		q += ` AND ` + timeCol + ` >= ` + arg(ms(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND ` + timeCol + ` < ` + arg(ms(f.To))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	if limit > 10000 {
		limit = 10000
	}
	q += ` ORDER BY ` + timeCol + ` DESC, id DESC LIMIT ` + arg(limit)
	return q, args
}

// likePrefix is a LIKE pattern of a region path prefix (digits and
// slashes: nothing to escape, but refuse the wildcards to be safe).
func likePrefix(p string) string {
	out := make([]byte, 0, len(p)+1)
	for i := 0; i < len(p); i++ {
		if c := p[i]; c != '%' && c != '_' && c != '\\' {
			out = append(out, c)
		}
	}
	return string(out) + "%"
}

func docOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// PatrolByClientRef returns the patrol a worker stored under a client
// reference, inside a write.
func (t *Tx) PatrolByClientRef(ctx context.Context, worker, ref string) (gridwork.Patrol, error) {
	var doc string
	if err := t.QueryRow(ctx, `SELECT doc FROM grid_patrols WHERE worker_id = $1 AND client_ref = $2`, worker, ref).Scan(&doc); err != nil {
		return gridwork.Patrol{}, fmt.Errorf("patrol: %w", translate(err))
	}
	var p gridwork.Patrol
	return p, json.Unmarshal([]byte(doc), &p)
}

// InsertPatrol stores a patrol; ErrConflict when the worker stored one
// under the same client reference.
func (t *Tx) InsertPatrol(ctx context.Context, p gridwork.Patrol) error {
	doc, err := docOf(p)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO grid_patrols (id, worker_id, client_ref, grid_code, grid_path, started_at, doc) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		p.ID, p.WorkerID, p.ClientRef, p.GridCode, p.GridPath, ms(p.StartedAt), doc)
	if err != nil {
		return fmt.Errorf("insert patrol: %w", err)
	}
	return nil
}

// Patrols lists patrols newest first.
func (db *DB) Patrols(ctx context.Context, f GridFilter) ([]gridwork.Patrol, error) {
	w, args := f.where("started_at", "worker_id")
	return docsOf[gridwork.Patrol](db.read.QueryContext(ctx, `SELECT doc FROM grid_patrols`+w, args...))
}

// Patrol reads one patrol.
func (db *DB) Patrol(ctx context.Context, id string) (gridwork.Patrol, error) {
	return scanDoc[gridwork.Patrol](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_patrols WHERE id = $1`, id), "patrol")
}

// GridVisitByClientRef returns the visit a person stored under a client
// reference, inside a write.
func (t *Tx) GridVisitByClientRef(ctx context.Context, visitor, ref string) (gridwork.Visit, error) {
	var doc string
	if err := t.QueryRow(ctx, `SELECT doc FROM grid_visits WHERE visitor_id = $1 AND client_ref = $2`, visitor, ref).Scan(&doc); err != nil {
		return gridwork.Visit{}, fmt.Errorf("visit: %w", translate(err))
	}
	var v gridwork.Visit
	return v, json.Unmarshal([]byte(doc), &v)
}

// InsertGridVisit stores a household visit; ErrConflict when the visitor
// stored one under the same client reference.
func (t *Tx) InsertGridVisit(ctx context.Context, v gridwork.Visit) error {
	doc, err := docOf(v)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO grid_visits (id, visitor_id, client_ref, grid_code, grid_path, place_id, at, doc) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		v.ID, v.VisitorID, v.ClientRef, v.Grid, v.GridPath, v.PlaceID, ms(v.At), doc)
	if err != nil {
		return fmt.Errorf("insert visit: %w", err)
	}
	return nil
}

// GridVisits lists household visits newest first.
func (db *DB) GridVisits(ctx context.Context, f GridFilter) ([]gridwork.Visit, error) {
	w, args := f.where("at", "visitor_id")
	return docsOf[gridwork.Visit](db.read.QueryContext(ctx, `SELECT doc FROM grid_visits`+w, args...))
}

// PutPlace creates or replaces a place of a roster (by ID).
func (t *Tx) PutPlace(ctx context.Context, p gridwork.Place) error {
	doc, err := docOf(p)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO grid_places (id, grid_code, grid_path, kind, name, doc, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, doc = excluded.doc, updated_at = excluded.updated_at`,
		p.ID, p.GridCode, p.GridPath, string(p.Kind), p.Name, doc, ms(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put place: %w", err)
	}
	return nil
}

// PlaceByName finds a grid's place by kind and name, inside a write (the
// roster import updates what it finds).
func (t *Tx) PlaceByName(ctx context.Context, grid string, kind gridwork.PlaceKind, name string) (gridwork.Place, error) {
	var doc string
	if err := t.QueryRow(ctx, `SELECT doc FROM grid_places WHERE grid_code = $1 AND kind = $2 AND name = $3`, grid, string(kind), name).Scan(&doc); err != nil {
		return gridwork.Place{}, fmt.Errorf("place: %w", translate(err))
	}
	var p gridwork.Place
	return p, json.Unmarshal([]byte(doc), &p)
}

// Place reads a place inside a write.
func (t *Tx) Place(ctx context.Context, id string) (gridwork.Place, error) {
	var doc string
	if err := t.QueryRow(ctx, `SELECT doc FROM grid_places WHERE id = $1`, id).Scan(&doc); err != nil {
		return gridwork.Place{}, fmt.Errorf("place: %w", translate(err))
	}
	var p gridwork.Place
	return p, json.Unmarshal([]byte(doc), &p)
}

// Places lists a grid's roster by kind and name, each with the number of
// people recorded at it.
func (db *DB) Places(ctx context.Context, grid string) ([]gridwork.Place, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT p.doc, (SELECT count(*) FROM grid_people x WHERE x.place_id = p.id)
		FROM grid_places p WHERE p.grid_code = $1 ORDER BY p.kind, p.name`, grid)
	if err != nil {
		return nil, fmt.Errorf("places: %w", translate(err))
	}
	defer rows.Close()
	var out []gridwork.Place
	for rows.Next() {
		var doc string
		var n int
		if err := rows.Scan(&doc, &n); err != nil {
			return nil, fmt.Errorf("places: %w", translate(err))
		}
		var p gridwork.Place
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return nil, err
		}
		p.People = n
		out = append(out, p)
	}
	return out, rows.Err()
}

// Place reads one place of a roster.
func (db *DB) Place(ctx context.Context, id string) (gridwork.Place, error) {
	return scanDoc[gridwork.Place](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_places WHERE id = $1`, id), "place")
}

// PutPerson creates or replaces a person of a roster (by ID).
func (t *Tx) PutPerson(ctx context.Context, p gridwork.Person) error {
	doc, err := docOf(p)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO grid_people (id, place_id, grid_path, retain_until, doc) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (id) DO UPDATE SET retain_until = excluded.retain_until, doc = excluded.doc`,
		p.ID, p.PlaceID, p.GridPath, ms(p.RetainUntil), doc)
	if err != nil {
		return fmt.Errorf("put person: %w", err)
	}
	return nil
}

// People lists the people recorded at a place, as stored (unmasked: the
// service masks them).
func (db *DB) People(ctx context.Context, place string) ([]gridwork.Person, error) {
	return docsOf[gridwork.Person](db.read.QueryContext(ctx, `SELECT doc FROM grid_people WHERE place_id = $1 ORDER BY id`, place))
}

// Person reads one person of a roster, as stored.
func (db *DB) Person(ctx context.Context, id string) (gridwork.Person, error) {
	return scanDoc[gridwork.Person](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_people WHERE id = $1`, id), "person")
}

// PurgePeople removes the people whose retention ended at or before now
// and returns how many.
func (t *Tx) PurgePeople(ctx context.Context, now time.Time) (int, error) {
	res, err := t.Exec(ctx, `DELETE FROM grid_people WHERE retain_until <= $1`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("purge people: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Team is a grid's 1+3+N team as stored.
type Team struct {
	GridCode  string                `json:"grid_code"`
	Members   []gridwork.TeamMember `json:"members"`
	UpdatedAt time.Time             `json:"updated_at"`
}

// PutTeam replaces a grid's team.
func (t *Tx) PutTeam(ctx context.Context, grid, path string, team Team) error {
	doc, err := docOf(team)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO grid_teams (grid_code, grid_path, doc, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (grid_code) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, grid, path, doc, ms(team.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put team: %w", err)
	}
	return nil
}

// Team reads a grid's team; ErrNotFound when none was set.
func (db *DB) Team(ctx context.Context, grid string) (Team, error) {
	return scanDoc[Team](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_teams WHERE grid_code = $1`, grid), "team")
}

// Team reads a grid's team inside a write.
func (t *Tx) Team(ctx context.Context, grid string) (Team, error) {
	var doc string
	if err := t.QueryRow(ctx, `SELECT doc FROM grid_teams WHERE grid_code = $1`, grid).Scan(&doc); err != nil {
		return Team{}, fmt.Errorf("team: %w", translate(err))
	}
	var tm Team
	return tm, json.Unmarshal([]byte(doc), &tm)
}

// PutPlan sets a grid's patrol plan.
func (t *Tx) PutPlan(ctx context.Context, path string, p gridwork.Plan) error {
	doc, err := docOf(p)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO grid_plans (grid_code, grid_path, doc, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (grid_code) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, p.GridCode, path, doc, ms(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put plan: %w", err)
	}
	return nil
}

// Plan reads a grid's patrol plan; ErrNotFound when none was set.
func (db *DB) Plan(ctx context.Context, grid string) (gridwork.Plan, error) {
	return scanDoc[gridwork.Plan](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_plans WHERE grid_code = $1`, grid), "plan")
}

// docsOf reads rows of one doc column into a slice of T.
func docsOf[T any](rows *sql.Rows, err error) ([]T, error) {
	return scanDocs[T](rows, err, "grid work")
}

// GridVisitByClientRef reads the visit a person stored under a client
// reference, outside a write (a retry's quick answer).
func (db *DB) GridVisitByClientRef(ctx context.Context, visitor, ref string) (gridwork.Visit, error) {
	return scanDoc[gridwork.Visit](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_visits WHERE visitor_id = $1 AND client_ref = $2`, visitor, ref), "visit")
}

// PeopleOfGrid lists the people recorded in a grid, as stored.
func (db *DB) PeopleOfGrid(ctx context.Context, gridPath string) ([]gridwork.Person, error) {
	return docsOf[gridwork.Person](db.read.QueryContext(ctx, `SELECT doc FROM grid_people WHERE grid_path = $1 ORDER BY place_id, id`, gridPath))
}

// InsertMessage stores a residents' message with the hashes of its
// follow link's key and of its phone.
func (t *Tx) InsertMessage(ctx context.Context, m gridwork.Message, followHash, phoneHash string) error {
	doc, err := docOf(m)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO grid_messages (id, grid_code, grid_path, follow_hash, phone_hash, state, created_at, doc) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		m.ID, m.GridCode, m.GridPath, followHash, phoneHash, string(m.State), ms(m.CreatedAt), doc)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	return nil
}

// Message reads a residents' message inside a write.
func (t *Tx) Message(ctx context.Context, id string) (gridwork.Message, error) {
	var doc string
	if err := t.QueryRow(ctx, `SELECT doc FROM grid_messages WHERE id = $1`, id).Scan(&doc); err != nil {
		return gridwork.Message{}, fmt.Errorf("message: %w", translate(err))
	}
	var m gridwork.Message
	return m, json.Unmarshal([]byte(doc), &m)
}

// UpdateMessage writes a message's new state.
func (t *Tx) UpdateMessage(ctx context.Context, m gridwork.Message) error {
	doc, err := docOf(m)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `UPDATE grid_messages SET state = $2, doc = $3 WHERE id = $1`, m.ID, string(m.State), doc)
	if err != nil {
		return fmt.Errorf("update message: %w", err)
	}
	return nil
}

// PhoneBlocked reports whether a grid blocked a message of a phone.
func (t *Tx) PhoneBlocked(ctx context.Context, grid, phoneHash string) (bool, error) {
	var n int
	err := t.QueryRow(ctx, `SELECT count(*) FROM grid_messages WHERE grid_code = $1 AND phone_hash = $2 AND state = 'blocked'`, grid, phoneHash).Scan(&n)
	return n > 0, translate(err)
}

// MessageByFollow reads a message by the hash of its follow link's key.
func (db *DB) MessageByFollow(ctx context.Context, followHash string) (gridwork.Message, error) {
	return scanDoc[gridwork.Message](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_messages WHERE follow_hash = $1`, followHash), "message")
}

// GridMessage reads one residents' message.
func (db *DB) GridMessage(ctx context.Context, id string) (gridwork.Message, error) {
	return scanDoc[gridwork.Message](db.read.QueryRowContext(ctx, `SELECT doc FROM grid_messages WHERE id = $1`, id), "message")
}

// Messages lists the residents' messages of grids under a path, newest
// first, in [From, To) of their arrival.
func (db *DB) Messages(ctx context.Context, f GridFilter) ([]gridwork.Message, error) {
	f.PersonID = ""
	w, args := f.where("created_at", "id")
	return docsOf[gridwork.Message](db.read.QueryContext(ctx, `SELECT doc FROM grid_messages`+w, args...))
}
