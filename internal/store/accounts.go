package store

import (
	"context"
	"fmt"
	"time"

	"zhizhi/internal/cases"
)

// Account is a person's login with role and scope.
type Account struct {
	ID           string     `json:"id"`
	Username     string     `json:"username"`
	Name         string     `json:"name"`
	Role         cases.Role `json:"role"`
	RegionPath   string     `json:"region_path,omitempty"`
	UnitID       string     `json:"unit_id,omitempty"`
	Phone        string     `json:"phone,omitempty"`
	Title        string     `json:"title,omitempty"` // a head's title (街长, 楼长…) or a post
	PasswordHash string     `json:"-"`
	Active       bool       `json:"active"`
	CreatedAt    time.Time  `json:"created_at"`
}

// Actor returns the account as a case actor.
func (a Account) Actor() cases.Actor {
	return cases.Actor{AccountID: a.ID, Name: a.Name, Role: a.Role, RegionPath: a.RegionPath, UnitID: a.UnitID}
}

const accountCols = `id, username, name, role, region_path, unit_id, phone, password_hash, active, created_at, title`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var role string
	var active int
	var created int64
	if err := row.Scan(&a.ID, &a.Username, &a.Name, &role, &a.RegionPath, &a.UnitID, &a.Phone, &a.PasswordHash, &active, &created, &a.Title); err != nil {
		return a, fmt.Errorf("account: %w", translate(err))
	}
	a.Role, a.Active, a.CreatedAt = cases.Role(role), active == 1, time.UnixMilli(created).UTC()
	return a, nil
}

// PutAccount inserts or updates an account (username is unique).
func (t *Tx) PutAccount(ctx context.Context, a Account) error {
	_, err := t.Exec(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
		ON CONFLICT (id) DO UPDATE SET username = excluded.username, name = excluded.name, role = excluded.role,
			region_path = excluded.region_path, unit_id = excluded.unit_id, phone = excluded.phone,
			password_hash = excluded.password_hash, active = excluded.active, title = excluded.title`,
		a.ID, a.Username, a.Name, string(a.Role), a.RegionPath, a.UnitID, a.Phone, a.PasswordHash, boolInt(a.Active), ms(a.CreatedAt), a.Title)
	if err != nil {
		return fmt.Errorf("put account %s: %w", a.Username, err)
	}
	return nil
}

// Account reads an account by ID.
func (db *DB) Account(ctx context.Context, id string) (Account, error) {
	return scanAccount(db.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
}

// AccountByUsername reads an account by its username.
func (db *DB) AccountByUsername(ctx context.Context, username string) (Account, error) {
	return scanAccount(db.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE username = $1`, username))
}

// Accounts lists accounts by username.
func (db *DB) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", translate(err))
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

// PutToken stores a token by the hash of its secret.
func (t *Tx) PutToken(ctx context.Context, hash, accountID, kind, name string, expires time.Time) error {
	_, err := t.Exec(ctx, `INSERT INTO tokens (hash, account_id, kind, name, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		hash, accountID, kind, name, nowMillis(), ms(expires))
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// TokenAccount returns the active account owning an unexpired token hash,
// and when the token expires.
func (db *DB) TokenAccount(ctx context.Context, hash string, now time.Time) (Account, time.Time, error) {
	var exp int64
	a, err := scanAccount(extraScan{db.read.QueryRowContext(ctx, `SELECT a.id, a.username, a.name, a.role, a.region_path, a.unit_id, a.phone,
		a.password_hash, a.active, a.created_at, a.title, t.expires_at FROM tokens t JOIN accounts a ON a.id = t.account_id
		WHERE t.hash = $1 AND t.expires_at > $2 AND a.active = 1`, hash, ms(now)), []any{&exp}})
	return a, time.UnixMilli(exp).UTC(), err
}

// extraScan scans a row's leading columns into what its caller asks and
// its last ones into extra.
type extraScan struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

// DeleteToken removes a token (sign-out, revocation).
func (t *Tx) DeleteToken(ctx context.Context, hash string) error {
	if _, err := t.Exec(ctx, `DELETE FROM tokens WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

// DeleteTokensOf removes every token of an account (deactivation, a new
// password, a new role or scope).
func (t *Tx) DeleteTokensOf(ctx context.Context, accountID string) error {
	if _, err := t.Exec(ctx, `DELETE FROM tokens WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("delete tokens of %s: %w", accountID, err)
	}
	return nil
}
