// Package storetest gives test binaries a fresh database: a SQLite file in a
// temporary directory by default, or a new PostgreSQL database on the server
// named by ZHIZHI_TEST_POSTGRES, dropped again when the tests end.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Env names the environment variable holding the PostgreSQL server's DSN.
const Env = "ZHIZHI_TEST_POSTGRES"

// Postgres reports whether tests should run on PostgreSQL.
func Postgres() bool { return os.Getenv(Env) != "" }

// DSN returns the DSN of a fresh, empty database for one test binary and a
// function that removes it: a SQLite file under dir, or, when
// ZHIZHI_TEST_POSTGRES is set, a new PostgreSQL database on that server.
func DSN(dir string) (string, func(), error) {
	base := os.Getenv(Env)
	if base == "" {
		return filepath.Join(dir, "zhizhi.db"), func() {}, nil
	}
	return NewPostgres(base)
}

// NewPostgres creates a database with a random name on the server of base (a
// postgres:// URL) and returns its URL and a function that drops it.
func NewPostgres(base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", Env, err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", nil, fmt.Errorf("random name: %w", err)
	}
	name := "zt_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	ctx := context.Background()
	// template0 with a UTF-8 ctype, so pg_trgm treats Chinese characters as
	// word characters whatever the server's default is.
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8'`); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	}
	return u.String(), drop, nil
}
