package store

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// notCopied are the tables a copy or backup leaves out on purpose: the
// schema's version (both ends migrate), the residents' used form tokens
// (good for an hour), and SQLite's full-text index (rebuilt at the target).
var notCopied = []string{"schema_migrations", "form_tokens"}

// TestEveryTableIsCopied: a new table must be added to copyTables (or, on
// purpose, to notCopied), or copy and backup would silently lose it.
func TestEveryTableIsCopied(t *testing.T) {
	db := mustOpen(t, t.TempDir()+"/z.db")
	rows, err := db.read.QueryContext(context.Background(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "case_fts") || slices.Contains(notCopied, name) {
			continue
		}
		if !slices.Contains(copyTables, name) {
			t.Errorf("table %s is neither copied nor listed as left out", name)
		}
	}
}
