package store

import (
	"context"
	"fmt"
	"time"

	"zhizhi/internal/leaders"
)

// Cadre training (issue 13, migration 13): courses, sessions with one
// attendance row per cadre (with the cadre's street and unit at the time,
// for the figures), and practical postings.

// PutCourse inserts or replaces a course.
func (t *Tx) PutCourse(ctx context.Context, c leaders.Course) error {
	doc, err := encodeDoc(c)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO training_courses (id, doc) VALUES ($1,$2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, c.ID, doc)
	if err != nil {
		return fmt.Errorf("put course: %w", err)
	}
	return nil
}

// Course reads one course.
func (db *DB) Course(ctx context.Context, id string) (leaders.Course, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM training_courses WHERE id = $1`, id).Scan(&doc)
	return decodeDoc[leaders.Course](doc, err, "course")
}

// Courses lists every course.
func (db *DB) Courses(ctx context.Context) ([]leaders.Course, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM training_courses ORDER BY id DESC LIMIT 2000`)
	return scanDocs[leaders.Course](rows, err, "list courses")
}

// Attendee is a cadre at a session, with where they worked then.
type Attendee struct {
	AccountID, StreetCode, UnitID string
}

// InsertSession stores a session with its attendance rows, each worth the
// course's hours.
func (t *Tx) InsertSession(ctx context.Context, s leaders.Session, hours int, who []Attendee) error {
	doc, err := encodeDoc(s)
	if err != nil {
		return err
	}
	if _, err := t.Exec(ctx, `INSERT INTO training_sessions (id, course_id, region_path, at, doc) VALUES ($1,$2,$3,$4,$5)`,
		s.ID, s.CourseID, s.RegionPath, ms(s.At), doc); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	for _, a := range who {
		if _, err := t.Exec(ctx, `INSERT INTO training_attendance (session_id, account_id, street_code, unit_id, hours, at) VALUES ($1,$2,$3,$4,$5,$6)`,
			s.ID, a.AccountID, a.StreetCode, a.UnitID, hours, ms(s.At)); err != nil {
			return fmt.Errorf("insert attendance: %w", err)
		}
	}
	return nil
}

// SessionsOf lists the sessions a cadre attended, newest first.
func (db *DB) SessionsOf(ctx context.Context, accountID string) ([]leaders.Session, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT s.doc FROM training_sessions s JOIN training_attendance a ON a.session_id = s.id
		WHERE a.account_id = $1 ORDER BY s.at DESC, s.id DESC LIMIT 1000`, accountID)
	return scanDocs[leaders.Session](rows, err, "sessions of a cadre")
}

// InsertPosting stores a posting.
func (t *Tx) InsertPosting(ctx context.Context, p leaders.Posting) error {
	doc, err := encodeDoc(p)
	if err != nil {
		return err
	}
	if _, err := t.Exec(ctx, `INSERT INTO cadre_postings (id, cadre_id, from_at, doc) VALUES ($1,$2,$3,$4)`, p.ID, p.CadreID, ms(p.From), doc); err != nil {
		return fmt.Errorf("insert posting: %w", err)
	}
	return nil
}

// PostingsOf lists a cadre's postings, newest first.
func (db *DB) PostingsOf(ctx context.Context, cadreID string) ([]leaders.Posting, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM cadre_postings WHERE cadre_id = $1 ORDER BY from_at DESC, id DESC LIMIT 500`, cadreID)
	return scanDocs[leaders.Posting](rows, err, "postings of a cadre")
}

// TrainingFigure is one row of the training figures.
type TrainingFigure struct {
	Key      string `json:"key"`      // a street code or a unit ID
	Cadres   int    `json:"cadres"`   // distinct cadres trained
	Sessions int    `json:"sessions"` // attendances
	Hours    int    `json:"hours"`    // class hours
	Postings int    `json:"postings"` // practical postings begun (PostingCounts, placed by the service)
	Posted   int    `json:"posted"`   // distinct cadres posted
}

// TrainingFigures counts the attendance of sessions in [from, to) by the
// attendee's street (byUnit false) or unit (byUnit true); cadres of no
// street or unit are under "".
func (db *DB) TrainingFigures(ctx context.Context, byUnit bool, from, to time.Time) ([]TrainingFigure, error) {
	col := "street_code"
	if byUnit {
		col = "unit_id"
	}
	var w where
	if !from.IsZero() {
		w.add(`at >= ?`, ms(from))
	}
	if !to.IsZero() {
		w.add(`at < ?`, ms(to))
	}
	q, args := w.query(`SELECT `+col+`, COUNT(DISTINCT account_id), COUNT(*), SUM(hours) FROM training_attendance`, ` GROUP BY `+col+` ORDER BY `+col)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("training figures: %w", translate(err))
	}
	defer rows.Close()
	var out []TrainingFigure
	for rows.Next() {
		var f TrainingFigure
		if err := rows.Scan(&f.Key, &f.Cadres, &f.Sessions, &f.Hours); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// PostingCount is the practical postings that began in a period, grouped
// by the posted cadre's account as it is now (its role, region and unit:
// the service places each group in a street or a department).
type PostingCount struct {
	Role       string
	RegionPath string
	UnitID     string
	Postings   int // postings
	Cadres     int // distinct cadres posted
}

// PostingCounts counts the postings beginning in [from, to) by the posted
// cadre's role, region and unit (a cadre is one account, so the groups'
// cadres add up without counting anyone twice).
func (db *DB) PostingCounts(ctx context.Context, from, to time.Time) ([]PostingCount, error) {
	var w where
	if !from.IsZero() {
		w.add(`p.from_at >= ?`, ms(from))
	}
	if !to.IsZero() {
		w.add(`p.from_at < ?`, ms(to))
	}
	q, args := w.query(`SELECT a.role, a.region_path, a.unit_id, COUNT(*), COUNT(DISTINCT p.cadre_id) FROM cadre_postings p JOIN accounts a ON a.id = p.cadre_id`,
		` GROUP BY a.role, a.region_path, a.unit_id ORDER BY a.role, a.region_path, a.unit_id`)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("posting counts: %w", translate(err))
	}
	defer rows.Close()
	var out []PostingCount
	for rows.Next() {
		var c PostingCount
		if err := rows.Scan(&c.Role, &c.RegionPath, &c.UnitID, &c.Postings, &c.Cadres); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
