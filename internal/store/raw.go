package store

import (
	"context"
	"fmt"

	"zhizhi/internal/cases"
)

// RawCase is a new case with its first step, for WriteRaw.
type RawCase struct {
	Case *cases.Case
	Step *cases.Step
}

// WriteRaw writes new cases the way the writer writes a batch of reports,
// with nothing around it: no HTTP, no service, no group commit, no queue.
// In one transaction it reserves the batch's numbers from the counter in
// one statement, writes each case's rows with the store's own statements
// (InsertCase: the case row with its level codes, its units and people, its
// clocks with next_at, its first step), the full-text rows in one
// statement, and the counter back, then commits. It is the raw baseline of
// the intake benchmark (internal/bench), which must write exactly the rows
// intake writes; it is not a way to load data (use Bulk).
func (db *DB) WriteRaw(ctx context.Context, counter string, rule ClockRule, batch []RawCase) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("raw write: %w", translate(err))
	}
	defer sqlTx.Rollback()
	// The writer connection's hot statements, prepared once when the
	// database was opened (SQLite), exactly as the writer uses them.
	// (Statements prepared on this transaction instead would be prepared
	// again at every use: sql.Tx.StmtContext re-prepares a statement that
	// belongs to a transaction.)
	t := &Tx{tx: sqlTx, w: newWriteSet(false), dialect: db.Dialect, hot: db.hot}
	var next int64
	if err := sqlTx.QueryRowContext(ctx, sqlReserve, counter, len(batch)).Scan(&next); err != nil {
		return fmt.Errorf("raw write: reserve numbers: %w", translate(err))
	}
	next -= int64(len(batch))
	for _, rc := range batch {
		next++
		if rc.Case.Number == "" {
			rc.Case.Number = fmt.Sprintf("%s-%04d", counter, next)
		}
		if err := t.InsertCase(ctx, rc.Case, rc.Step, rule); err != nil {
			return fmt.Errorf("raw write: %w", err)
		}
	}
	if len(t.fts) > 0 {
		if err := insertFTS(ctx, sqlTx, t.fts); err != nil {
			return fmt.Errorf("raw write: index case text: %w", err)
		}
	}
	if err := addGauge(ctx, sqlTx, t.gauge); err != nil {
		return fmt.Errorf("raw write: %w", err)
	}
	if _, err := sqlTx.ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name = $2`, next, counter); err != nil {
		return fmt.Errorf("raw write: counter: %w", translate(err))
	}
	if err := sqlTx.Commit(); err != nil {
		return translate(err)
	}
	// Durable like the writer's batches: on SQLite the log synced before
	// the call returns (one fsync a batch, not overlapped with the next).
	return db.Durable(ctx)
}
