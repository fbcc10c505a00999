package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"zhizhi/internal/evaluation"
)

// rollupKey is one row of rollups.
type rollupKey struct {
	kind    evaluation.SubjectKind
	subject string
	day     int
}

// rollupCols are the measure columns of rollups, in table order.
var rollupCols = func() []string {
	out := make([]string, len(evaluation.RollupMeasures))
	for i, m := range evaluation.RollupMeasures {
		out[i] = string(m)
	}
	return out
}()

// ApplyFacts brings the rollups in line with a case's new facts: it reads
// the facts last applied for the case (locking them on PostgreSQL), adds the
// difference per subject and day, and keeps the new facts. Applying the same
// facts again changes nothing.
func (t *Tx) ApplyFacts(ctx context.Context, caseID string, facts []evaluation.Fact) error {
	q := `SELECT doc FROM case_facts WHERE case_id = $1`
	if t.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var doc string
	var old []evaluation.Fact
	switch err := t.QueryRow(ctx, q, caseID).Scan(&doc); {
	case err == nil:
		if err := json.Unmarshal([]byte(doc), &old); err != nil {
			return fmt.Errorf("decode facts of case %s: %w", caseID, err)
		}
	case err == sql.ErrNoRows:
	default:
		return fmt.Errorf("read facts of case %s: %w", caseID, translate(err))
	}

	delta := map[rollupKey]evaluation.Counts{}
	add := func(fs []evaluation.Fact, sign int) {
		for _, f := range fs {
			k := rollupKey{f.Kind, f.Subject, f.Day}
			d := delta[k]
			if d == nil {
				d = evaluation.Counts{}
				delta[k] = d
			}
			for _, m := range evaluation.RollupMeasures {
				d[m] += sign * f.Counts[m]
			}
		}
	}
	add(old, -1)
	add(facts, +1)
	keys := make([]rollupKey, 0, len(delta))
	for k, d := range delta {
		nonzero := false
		for _, v := range d {
			nonzero = nonzero || v != 0
		}
		if nonzero {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		// One statement, one row per key, in a fixed order (no two
		// transactions lock the same rows in different orders).
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if a.kind != b.kind {
				return a.kind < b.kind
			}
			if a.subject != b.subject {
				return a.subject < b.subject
			}
			return a.day < b.day
		})
		var sb strings.Builder
		sb.WriteString(`INSERT INTO rollups (kind, subject, day, ` + strings.Join(rollupCols, ", ") + `) VALUES `)
		args := make([]any, 0, len(keys)*(3+len(rollupCols)))
		for i, k := range keys {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(")
			for j := 0; j < 3+len(rollupCols); j++ {
				if j > 0 {
					sb.WriteString(",")
				}
				fmt.Fprintf(&sb, "$%d", len(args)+j+1)
			}
			sb.WriteString(")")
			args = append(args, string(k.kind), k.subject, k.day)
			for _, m := range evaluation.RollupMeasures {
				args = append(args, delta[k][m])
			}
		}
		sb.WriteString(` ON CONFLICT (kind, subject, day) DO UPDATE SET `)
		for i, c := range rollupCols {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "%s = rollups.%s + excluded.%s", c, c, c)
		}
		if _, err := t.Exec(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("update rollups of case %s: %w", caseID, err)
		}
	}

	b, err := json.Marshal(facts)
	if err != nil {
		return fmt.Errorf("encode facts of case %s: %w", caseID, err)
	}
	if _, err := t.Exec(ctx, `INSERT INTO case_facts (case_id, doc) VALUES ($1, $2) ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc`, caseID, string(b)); err != nil {
		return fmt.Errorf("store facts of case %s: %w", caseID, err)
	}
	return nil
}

// ClearRollups empties rollups and case_facts, before a rebuild.
func (t *Tx) ClearRollups(ctx context.Context) error {
	for _, q := range []string{`DELETE FROM rollups`, `DELETE FROM case_facts`} {
		if _, err := t.Exec(ctx, q); err != nil {
			return fmt.Errorf("clear rollups: %w", err)
		}
	}
	return nil
}

// RollupCounts sums the rollups of one subject kind per subject, for the
// subjects starting with subjectPrefix ("" for all) and the days fromDay to
// toDay (yyyymmdd, both included).
func (db *DB) RollupCounts(ctx context.Context, kind evaluation.SubjectKind, subjectPrefix string, fromDay, toDay int) (map[string]evaluation.Counts, error) {
	sums := make([]string, len(rollupCols))
	for i, c := range rollupCols {
		sums[i] = "SUM(" + c + ")"
	}
	q := `SELECT subject, ` + strings.Join(sums, ", ") + ` FROM rollups WHERE kind = $1 AND day >= $2 AND day <= $3`
	args := []any{string(kind), fromDay, toDay}
	if subjectPrefix != "" {
		q += ` AND substr(subject, 1, $4) = $5`
		args = append(args, len([]rune(subjectPrefix)), subjectPrefix)
	}
	q += ` GROUP BY subject`
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", translate(err))
	}
	defer rows.Close()
	out := map[string]evaluation.Counts{}
	vals := make([]sql.NullInt64, len(rollupCols))
	dest := make([]any, 1+len(rollupCols))
	for rows.Next() {
		var subject string
		dest[0] = &subject
		for i := range vals {
			dest[i+1] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read rollups: %w", translate(err))
		}
		c := evaluation.Counts{}
		for i, m := range evaluation.RollupMeasures {
			if v := int(vals[i].Int64); v != 0 {
				c[m] = v
			}
		}
		out[subject] = c
	}
	return out, rows.Err()
}

// ChangedCases reads the steps after the step ID after and up to upto (IDs
// are time-sortable), in ID order, at most limit of them: the distinct IDs of
// their cases, in order of first appearance, and the last step ID read
// ("" when none).
func (db *DB) ChangedCases(ctx context.Context, after, upto string, limit int) (caseIDs []string, last string, err error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, case_id FROM steps WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, after, upto, limit)
	if err != nil {
		return nil, "", fmt.Errorf("read changed cases: %w", translate(err))
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return nil, "", fmt.Errorf("read changed cases: %w", translate(err))
		}
		last = id
		if !seen[c] {
			seen[c] = true
			caseIDs = append(caseIDs, c)
		}
	}
	return caseIDs, last, rows.Err()
}

// LastStepID is the newest step's ID, "" when there is none.
func (db *DB) LastStepID(ctx context.Context) (string, error) {
	var id sql.NullString
	if err := db.read.QueryRowContext(ctx, `SELECT MAX(id) FROM steps`).Scan(&id); err != nil {
		return "", fmt.Errorf("read last step: %w", translate(err))
	}
	return id.String, nil
}

// LockRollups makes the transaction the only one rolling facts until it
// ends (on PostgreSQL an advisory transaction lock; SQLite has one writer):
// nodes rolling at once would otherwise read a case each at a different
// version and the older could be applied last.
func (t *Tx) LockRollups(ctx context.Context) error {
	if t.dialect != Postgres {
		return nil
	}
	if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock(7242011)`); err != nil {
		return fmt.Errorf("lock rollups: %w", err)
	}
	return nil
}
