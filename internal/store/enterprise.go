package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/enterprise"
)

// The enterprise services' tables (migration 11, package enterprise): each
// row carries what is filtered on as columns and the whole record as JSON.

// PutEnterprise inserts or updates an enterprise.
func (t *Tx) PutEnterprise(ctx context.Context, e enterprise.Enterprise) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode enterprise: %w", err)
	}
	_, err = t.Exec(ctx, `INSERT INTO enterprises (id, credit_code, name, region_path, building, liaison_id, leader_id, key_flag, active, doc)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT (id) DO UPDATE SET credit_code = excluded.credit_code, name = excluded.name, region_path = excluded.region_path,
			building = excluded.building, liaison_id = excluded.liaison_id, leader_id = excluded.leader_id,
			key_flag = excluded.key_flag, active = excluded.active, doc = excluded.doc`,
		e.ID, e.CreditCode, e.Name, e.RegionPath, e.Building, e.LiaisonID, e.LeaderID, boolInt(e.Key), boolInt(e.Active), string(doc))
	if err != nil {
		return fmt.Errorf("put enterprise %s: %w", e.CreditCode, err)
	}
	return nil
}

func scanDoc[T any](row interface{ Scan(...any) error }, what string) (T, error) {
	var v T
	var doc string
	if err := row.Scan(&doc); err != nil {
		return v, fmt.Errorf("%s: %w", what, translate(err))
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, nil
}

// Enterprise reads an enterprise by ID.
func (db *DB) Enterprise(ctx context.Context, id string) (enterprise.Enterprise, error) {
	return scanDoc[enterprise.Enterprise](db.read.QueryRowContext(ctx, `SELECT doc FROM enterprises WHERE id = $1`, id), "enterprise")
}

// Enterprise reads an enterprise by ID in a write transaction.
func (t *Tx) Enterprise(ctx context.Context, id string) (enterprise.Enterprise, error) {
	return scanDoc[enterprise.Enterprise](t.QueryRow(ctx, `SELECT doc FROM enterprises WHERE id = $1`, id), "enterprise")
}

// EnterpriseByCode reads an enterprise by its credit code in a write
// transaction.
func (t *Tx) EnterpriseByCode(ctx context.Context, code string) (enterprise.Enterprise, error) {
	return scanDoc[enterprise.Enterprise](t.QueryRow(ctx, `SELECT doc FROM enterprises WHERE credit_code = $1`, code), "enterprise")
}

// EnterpriseByCode reads an enterprise by its credit code.
func (db *DB) EnterpriseByCode(ctx context.Context, code string) (enterprise.Enterprise, error) {
	return scanDoc[enterprise.Enterprise](db.read.QueryRowContext(ctx, `SELECT doc FROM enterprises WHERE credit_code = $1`, code), "enterprise")
}

// EnterpriseFilter selects enterprises; zero fields do not filter.
type EnterpriseFilter struct {
	RegionPath string // under this path
	LiaisonID  string
	LeaderID   string
	KeyOnly    bool
}

// Enterprises lists enterprises by name.
func (db *DB) Enterprises(ctx context.Context, f EnterpriseFilter) ([]enterprise.Enterprise, error) {
	q := `SELECT doc FROM enterprises WHERE 1 = 1`
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.RegionPath != "" {
		lo, hi := prefixRange(f.RegionPath)
		q += ` AND region_path >= ` + arg(lo) + ` AND region_path < ` + arg(hi)
	}
	if f.LiaisonID != "" {
		q += ` AND liaison_id = ` + arg(f.LiaisonID)
	}
	if f.LeaderID != "" {
		q += ` AND leader_id = ` + arg(f.LeaderID)
	}
	if f.KeyOnly {
		q += ` AND key_flag = 1`
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY name`, args...)
	return scanDocs[enterprise.Enterprise](rows, err, "enterprises")
}

// PutMember makes an account one of an enterprise's people.
func (t *Tx) PutMember(ctx context.Context, accountID, enterpriseID string) error {
	_, err := t.Exec(ctx, `INSERT INTO enterprise_members (account_id, enterprise_id) VALUES ($1,$2)
		ON CONFLICT (account_id) DO UPDATE SET enterprise_id = excluded.enterprise_id`, accountID, enterpriseID)
	if err != nil {
		return fmt.Errorf("put member %s: %w", accountID, err)
	}
	return nil
}

// MemberOf returns the enterprise an account belongs to, or ErrNotFound.
func (db *DB) MemberOf(ctx context.Context, accountID string) (string, error) {
	var id string
	err := db.read.QueryRowContext(ctx, `SELECT enterprise_id FROM enterprise_members WHERE account_id = $1`, accountID).Scan(&id)
	return id, translate(err)
}

// Members lists the accounts of an enterprise's people.
func (db *DB) Members(ctx context.Context, enterpriseID string) ([]Account, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+accountColsOf("a.")+` FROM accounts a
		JOIN enterprise_members m ON m.account_id = a.id WHERE m.enterprise_id = $1 ORDER BY a.username`, enterpriseID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", translate(err))
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutService inserts or updates a service of the catalog.
func (t *Tx) PutService(ctx context.Context, s enterprise.Service) error {
	doc, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode service: %w", err)
	}
	_, err = t.Exec(ctx, `INSERT INTO enterprise_services (code, color, active, doc) VALUES ($1,$2,$3,$4)
		ON CONFLICT (code) DO UPDATE SET color = excluded.color, active = excluded.active, doc = excluded.doc`,
		s.Code, string(s.Color), boolInt(s.Active), string(doc))
	if err != nil {
		return fmt.Errorf("put service %s: %w", s.Code, err)
	}
	return nil
}

// Services lists the catalog (inactive services too) in catalog order.
func (db *DB) Services(ctx context.Context) ([]enterprise.Service, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM enterprise_services ORDER BY code`)
	return scanDocs[enterprise.Service](rows, err, "services")
}

// Service reads one service of the catalog in a write transaction.
func (t *Tx) Service(ctx context.Context, code string) (enterprise.Service, error) {
	return scanDoc[enterprise.Service](t.QueryRow(ctx, `SELECT doc FROM enterprise_services WHERE code = $1`, code), "service")
}

// PutRequest inserts or updates an enterprise's request.
func (t *Tx) PutRequest(ctx context.Context, r enterprise.Request) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	_, err = t.Exec(ctx, `INSERT INTO enterprise_requests (id, enterprise_id, service, color, unit_id, case_id, liaison_id, leader_id,
			region_path, created_at, contact_due, answer_due, contacted_at, answered_at, escalated_at, rating, doc)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
		ON CONFLICT (id) DO UPDATE SET service = excluded.service, color = excluded.color, unit_id = excluded.unit_id,
			liaison_id = excluded.liaison_id, leader_id = excluded.leader_id, contacted_at = excluded.contacted_at,
			answered_at = excluded.answered_at, escalated_at = excluded.escalated_at, rating = excluded.rating, doc = excluded.doc`,
		r.ID, r.EnterpriseID, r.Service, string(r.Color), r.UnitID, r.CaseID, r.LiaisonID, r.LeaderID, r.RegionPath,
		ms(r.CreatedAt), ms(r.Contact.Due), ms(r.Answer.Due), zeroMs(r.ContactedAt), zeroMs(r.AnsweredAt), zeroMs(r.EscalatedAt),
		string(r.Rating), string(doc))
	if err != nil {
		return fmt.Errorf("put request %s: %w", r.ID, err)
	}
	return nil
}

func zeroMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Request reads a request by ID.
func (db *DB) Request(ctx context.Context, id string) (enterprise.Request, error) {
	return scanDoc[enterprise.Request](db.read.QueryRowContext(ctx, `SELECT doc FROM enterprise_requests WHERE id = $1`, id), "request")
}

// Request reads a request by ID in a write transaction.
func (t *Tx) Request(ctx context.Context, id string) (enterprise.Request, error) {
	return scanDoc[enterprise.Request](t.QueryRow(ctx, `SELECT doc FROM enterprise_requests WHERE id = $1`, id), "request")
}

// RequestOfCase reads the request a case handles in a write transaction, or
// ErrNotFound when the case is no enterprise's request.
func (t *Tx) RequestOfCase(ctx context.Context, caseID string) (enterprise.Request, error) {
	return scanDoc[enterprise.Request](t.QueryRow(ctx, `SELECT doc FROM enterprise_requests WHERE case_id = $1`, caseID), "request")
}

// RequestUnit returns the service's unit of the request a case handles, or
// ErrNotFound when the case is no enterprise's request.
func (db *DB) RequestUnit(ctx context.Context, caseID string) (string, error) {
	var u string
	err := db.read.QueryRowContext(ctx, `SELECT unit_id FROM enterprise_requests WHERE case_id = $1`, caseID).Scan(&u)
	return u, translate(err)
}

// RequestFilter selects requests; zero fields do not filter.
type RequestFilter struct {
	EnterpriseID string
	LiaisonID    string
	LeaderID     string
	RegionPath   string // under this path
	OpenOnly     bool   // not yet answered
	Escalated    bool   // escalated to the leader
	Limit        int    // default 200
}

// Requests lists requests newest first.
func (db *DB) Requests(ctx context.Context, f RequestFilter) ([]enterprise.Request, error) {
	q := `SELECT doc FROM enterprise_requests WHERE 1 = 1`
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.EnterpriseID != "" {
		q += ` AND enterprise_id = ` + arg(f.EnterpriseID)
	}
	if f.LiaisonID != "" {
		q += ` AND liaison_id = ` + arg(f.LiaisonID)
	}
	if f.LeaderID != "" {
		q += ` AND leader_id = ` + arg(f.LeaderID)
	}
	if f.RegionPath != "" {
		lo, hi := prefixRange(f.RegionPath)
		q += ` AND region_path >= ` + arg(lo) + ` AND region_path < ` + arg(hi)
	}
	if f.OpenOnly {
		q += ` AND answered_at = 0`
	}
	if f.Escalated {
		q += ` AND escalated_at > 0`
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY id DESC LIMIT `+arg(f.Limit), args...)
	return scanDocs[enterprise.Request](rows, err, "requests")
}

// DueRequests lists, in a write transaction, up to limit requests not yet
// escalated whose liaison has not contacted the enterprise by its due, or
// that are unanswered past their limit, at now.
func (t *Tx) DueRequests(ctx context.Context, now time.Time, limit int) ([]enterprise.Request, error) {
	rows, err := t.Query(ctx, `SELECT doc FROM enterprise_requests WHERE escalated_at = 0
		AND ((contacted_at = 0 AND contact_due <= $1) OR (answered_at = 0 AND answer_due <= $1)) ORDER BY id LIMIT $2`, ms(now), limit)
	return scanDocs[enterprise.Request](rows, err, "due requests")
}

// AnyDueRequest reports, from the read pool, whether some request is due
// for escalation at now (so the sweeper opens no write when none is).
func (db *DB) AnyDueRequest(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM enterprise_requests WHERE escalated_at = 0
		AND ((contacted_at = 0 AND contact_due <= $1) OR (answered_at = 0 AND answer_due <= $1)) LIMIT 1) d`, ms(now)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("due requests: %w", translate(err))
	}
	return n > 0, nil
}

// PutClass inserts or updates a policy class.
func (t *Tx) PutClass(ctx context.Context, c enterprise.Class) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode class: %w", err)
	}
	_, err = t.Exec(ctx, `INSERT INTO enterprise_classes (id, region_path, at, doc) VALUES ($1,$2,$3,$4)
		ON CONFLICT (id) DO UPDATE SET region_path = excluded.region_path, at = excluded.at, doc = excluded.doc`,
		c.ID, c.RegionPath, ms(c.At), string(doc))
	if err != nil {
		return fmt.Errorf("put class %s: %w", c.ID, err)
	}
	return nil
}

// Class reads a policy class by ID.
func (db *DB) Class(ctx context.Context, id string) (enterprise.Class, error) {
	return scanDoc[enterprise.Class](db.read.QueryRowContext(ctx, `SELECT doc FROM enterprise_classes WHERE id = $1`, id), "class")
}

// Class reads a policy class in a write transaction.
func (t *Tx) Class(ctx context.Context, id string) (enterprise.Class, error) {
	return scanDoc[enterprise.Class](t.QueryRow(ctx, `SELECT doc FROM enterprise_classes WHERE id = $1`, id), "class")
}

// Classes lists the classes under a region path, newest first.
func (db *DB) Classes(ctx context.Context, regionPath string) ([]enterprise.Class, error) {
	lo, hi := prefixRange(regionPath)
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM enterprise_classes WHERE region_path >= $1 AND region_path < $2 ORDER BY at DESC`, lo, hi)
	return scanDocs[enterprise.Class](rows, err, "classes")
}

// SignIn records an enterprise's attendance at a class; an enterprise that
// already signed in is ErrConflict.
func (t *Tx) SignIn(ctx context.Context, a enterprise.Attendance) error {
	res, err := t.Exec(ctx, `INSERT INTO class_attendance (class_id, enterprise_id, account_id, name, at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (class_id, enterprise_id) DO NOTHING`, a.ClassID, a.EnterpriseID, a.AccountID, a.Name, ms(a.At))
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return nil
}

// Attendance lists a class's sign-ins in order, with the enterprises' names.
func (db *DB) Attendance(ctx context.Context, classID string) ([]enterprise.Attendance, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT a.class_id, a.enterprise_id, e.name, a.account_id, a.name, a.at
		FROM class_attendance a JOIN enterprises e ON e.id = a.enterprise_id WHERE a.class_id = $1 ORDER BY a.at, a.enterprise_id`, classID)
	if err != nil {
		return nil, fmt.Errorf("attendance: %w", translate(err))
	}
	defer rows.Close()
	var out []enterprise.Attendance
	for rows.Next() {
		var a enterprise.Attendance
		var at int64
		if err := rows.Scan(&a.ClassID, &a.EnterpriseID, &a.Enterprise, &a.AccountID, &a.Name, &at); err != nil {
			return nil, fmt.Errorf("attendance: %w", err)
		}
		a.At = time.UnixMilli(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// accountColsOf is accountCols with each column qualified by alias.
func accountColsOf(alias string) string {
	cols := strings.Split(accountCols, ", ")
	for i := range cols {
		cols[i] = alias + cols[i]
	}
	return strings.Join(cols, ", ")
}

// IsNotFound reports whether err is the store's not found.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// RequestFigure is one row of the enterprise services' figures: the requests
// of one colour, service, liaison or unit in a period, and how they went.
type RequestFigure struct {
	Key             string `json:"key"`
	Requests        int    `json:"requests"`
	Contacted       int    `json:"contacted"`
	ContactedOnTime int    `json:"contacted_on_time"`
	Answered        int    `json:"answered"`
	AnsweredOnTime  int    `json:"answered_on_time"`
	Resolved        int    `json:"resolved"` // the case closed
	Rated           int    `json:"rated"`
	Satisfied       int    `json:"satisfied"` // satisfied or basically satisfied
	Escalated       int    `json:"escalated"`
}

// FigureBy are the dimensions of RequestFigures, by their column.
var FigureBy = map[string]string{"color": "r.color", "service": "r.service", "liaison": "r.liaison_id", "unit": "r.unit_id"}

// RequestFigures counts the requests made in [from, to) under a region path,
// grouped by one dimension (FigureBy), by GROUP BY.
func (db *DB) RequestFigures(ctx context.Context, regionPath, by string, from, to time.Time) ([]RequestFigure, error) {
	col, ok := FigureBy[by]
	if !ok {
		return nil, fmt.Errorf("figures by %q: unknown dimension", by)
	}
	lo, hi := prefixRange(regionPath)
	rows, err := db.read.QueryContext(ctx, `SELECT `+col+`, COUNT(*),
			SUM(CASE WHEN r.contacted_at > 0 THEN 1 ELSE 0 END),
			SUM(CASE WHEN r.contacted_at > 0 AND r.contacted_at <= r.contact_due THEN 1 ELSE 0 END),
			SUM(CASE WHEN r.answered_at > 0 THEN 1 ELSE 0 END),
			SUM(CASE WHEN r.answered_at > 0 AND r.answered_at <= r.answer_due THEN 1 ELSE 0 END),
			SUM(CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END),
			SUM(CASE WHEN r.rating <> '' THEN 1 ELSE 0 END),
			SUM(CASE WHEN r.rating IN ('satisfied', 'basic_satisfied') THEN 1 ELSE 0 END),
			SUM(CASE WHEN r.escalated_at > 0 THEN 1 ELSE 0 END)
		FROM enterprise_requests r JOIN cases c ON c.id = r.case_id
		WHERE r.region_path >= $1 AND r.region_path < $2 AND r.created_at >= $3 AND r.created_at < $4
		GROUP BY `+col+` ORDER BY `+col, lo, hi, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("request figures: %w", translate(err))
	}
	defer rows.Close()
	var out []RequestFigure
	for rows.Next() {
		var f RequestFigure
		if err := rows.Scan(&f.Key, &f.Requests, &f.Contacted, &f.ContactedOnTime, &f.Answered, &f.AnsweredOnTime,
			&f.Resolved, &f.Rated, &f.Satisfied, &f.Escalated); err != nil {
			return nil, fmt.Errorf("request figures: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ServiceTotals are the period's totals beyond the requests: enterprises
// served, classes held and attended.
type ServiceTotals struct {
	EnterprisesServed int `json:"enterprises_served"` // distinct enterprises with a request
	ClassesHeld       int `json:"classes_held"`       // classes begun in the period (before now)
	Attendances       int `json:"attendances"`        // enterprises' sign-ins at those classes
	Attending         int `json:"attending"`          // distinct enterprises that attended one
}

// ServiceTotals counts, under a region path, the enterprises served by
// requests made in [from, to) and the classes held in [from, min(to, now)).
func (db *DB) ServiceTotals(ctx context.Context, regionPath string, from, to, now time.Time) (ServiceTotals, error) {
	var t ServiceTotals
	lo, hi := prefixRange(regionPath)
	end := to
	if now.Before(end) {
		end = now
	}
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(DISTINCT enterprise_id) FROM enterprise_requests
		WHERE region_path >= $1 AND region_path < $2 AND created_at >= $3 AND created_at < $4`, lo, hi, ms(from), ms(to)).Scan(&t.EnterprisesServed)
	if err != nil {
		return t, fmt.Errorf("enterprises served: %w", translate(err))
	}
	err = db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM enterprise_classes
		WHERE region_path >= $1 AND region_path < $2 AND at >= $3 AND at < $4`, lo, hi, ms(from), ms(end)).Scan(&t.ClassesHeld)
	if err != nil {
		return t, fmt.Errorf("classes held: %w", translate(err))
	}
	err = db.read.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT a.enterprise_id) FROM class_attendance a
		JOIN enterprise_classes c ON c.id = a.class_id
		WHERE c.region_path >= $1 AND c.region_path < $2 AND c.at >= $3 AND c.at < $4`, lo, hi, ms(from), ms(end)).Scan(&t.Attendances, &t.Attending)
	if err != nil {
		return t, fmt.Errorf("attendance: %w", translate(err))
	}
	return t, nil
}
