package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"zhizhi/internal/cases"
)

// The text a case is found by (the body column, indexed by case_fts on
// SQLite and by the trigram index on PostgreSQL) has two parts on two
// lines: what the case is now (number, description, address, the
// category's answers, the units' feedback, the rating note), rewritten at
// every change, and the notes of its steps, appended as they come.
//
// On PostgreSQL a text longer than MaxInlineBody bytes is kept in
// body_long instead, body NULL (migration 39): body is non-NULL exactly
// when it is the whole text, and otherwise body_long is. A case's text is
// COALESCE(body, body_long) (sqlCaseBody).

// MaxInlineBody is the longest text, in bytes, PostgreSQL keeps in body,
// an INCLUDE column of the btree indexes cases_street and
// cases_district_cover, whose entries hold at most 2,704 bytes (a third of
// a page). Beside the text an entry holds its header (8 bytes, 16 with a
// NULL due time), the region code and the ID (about 10 and 27 with their
// lengths), the state, the category (a code of at most 32 characters),
// the due time and alignment: about 120 bytes. 2,000 bytes of text leave
// some 580 more for them and for codes longer than today's. The text is
// stored in the entry whole or compressed, never longer (PostgreSQL keeps
// a value uncompressed when compression does not shrink it; a text
// compressed or moved out of line in the table is taken whole and
// compressed again for the index): its part of the entry is at most its
// length and a 4-byte header, whatever the compression does. A longer
// text goes to body_long, which no btree index holds (bodyCols).
const MaxInlineBody = 2000

// bodyCols are the values of the body and body_long columns for a case's
// text on engine d: on PostgreSQL a text longer than MaxInlineBody goes to
// body_long and body is NULL; otherwise (and always on SQLite, whose index
// entries spill to overflow pages) body holds it.
func bodyCols(d Dialect, text string) (body, long any) {
	if d == Postgres && len(text) > MaxInlineBody {
		return nil, text
	}
	return text, nil
}

// caseText is the first line of the body: the case's own text now.
func caseText(c *cases.Case) string {
	parts := []string{c.Number, c.Description, c.Address}
	keys := make([]string, 0, len(c.Answers))
	for k := range c.Answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, answerText(c.Answers[k]))
	}
	for _, t := range c.Tasks {
		parts = append(parts, t.Feedback)
	}
	parts = append(parts, c.RatingNote)
	var b strings.Builder
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return oneLine(b.String())
}

// answerText is one category answer as text (a choice, a number, a list).
func answerText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return "" // a yes/no answer carries no words to find
	case []any:
		s := make([]string, 0, len(x))
		for _, e := range x {
			s = append(s, answerText(e))
		}
		return strings.Join(s, " ")
	case map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return lineBreaks.Replace(s)
}

// lineBreaks makes one line of a text (a Replacer is safe for concurrent
// use; making one at every call cost each report a dozen allocations).
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// searchBody is a case's whole body: its text, then the notes.
func searchBody(c *cases.Case, notes string) string {
	notes = strings.TrimSpace(notes)
	if notes == "" {
		return caseText(c)
	}
	return caseText(c) + "\n" + notes
}

// notesOf returns the notes part of a stored body.
func notesOf(body string) string {
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		return body[i+1:]
	}
	return ""
}

// stepNote is what a step adds to a case's notes: its note, or nothing when
// the note is the case's description (a report's first step carries the
// description as its note; the description is never changed after the
// report and is always on the body's first line, so writing it again found
// nothing more and cost each new case about 100 bytes of its row and a
// third of its full-text work: issue 19, intake pages).
func stepNote(c *cases.Case, note string) string {
	n, d := strings.TrimSpace(note), strings.TrimSpace(c.Description)
	if n != "" && (n == d || oneLine(n) == oneLine(d)) {
		return ""
	}
	return note
}

// withNote appends a step's note to the notes part.
func withNote(notes, note string) string {
	note = strings.TrimSpace(oneLine(note))
	if note == "" {
		return notes
	}
	if notes == "" {
		return note
	}
	return notes + " " + note
}

const sqlCaseBody = `SELECT COALESCE(body, body_long) FROM cases WHERE id = $1`

// newBody reads a case's stored body and returns it with the body the case
// has after this change (its text now, the notes with the step's note).
func (t *Tx) newBody(ctx context.Context, c *cases.Case, step *cases.Step) (old, body string, err error) {
	if err := t.QueryRow(ctx, sqlCaseBody, c.ID).Scan(&old); err != nil {
		return "", "", fmt.Errorf("read case text: %w", err)
	}
	note := ""
	if step != nil {
		note = step.Note
	}
	return old, searchBody(c, withNote(notesOf(old), stepNote(c, note))), nil
}

// mergeFTS turns the full-text rows of one batch, in the order they were
// written, into the index's deletes (the old text of changed cases) and
// inserts. A case inserted in the batch is not yet indexed: a later change
// only changes the text it will be indexed with; a case changed twice has
// one delete, of the text indexed before the batch.
func mergeFTS(rows []ftsRow) (deletes, inserts []ftsRow) {
	at := map[string]int{} // id -> index in inserts
	for _, r := range rows {
		if i, ok := at[r.id]; ok {
			inserts[i].body = r.body
			continue
		}
		if r.update {
			if r.old == r.body {
				continue
			}
			deletes = append(deletes, ftsRow{id: r.id, body: r.old})
		}
		at[r.id] = len(inserts)
		inserts = append(inserts, ftsRow{id: r.id, body: r.body})
	}
	return deletes, inserts
}

// RebuildSearch writes the body of every case again from its document and
// its steps' notes (after a change of what the text covers), a page of
// cases per transaction, and rebuilds the SQLite full-text index. progress,
// when set, is told the cases done so far. It returns how many bodies changed.
func (db *DB) RebuildSearch(ctx context.Context, progress func(done int)) (int, error) {
	const page = 500
	after, done, changed := "", 0, 0
	for {
		rows, err := db.write.QueryContext(ctx, `SELECT id, COALESCE(body, body_long), doc FROM cases WHERE id > $1 ORDER BY id LIMIT $2`, after, page)
		if err != nil {
			return changed, fmt.Errorf("read cases: %w", translate(err))
		}
		type item struct {
			c    cases.Case
			body string
		}
		var items []item
		for rows.Next() {
			var id, body, doc string
			if err := rows.Scan(&id, &body, &doc); err != nil {
				rows.Close()
				return changed, err
			}
			var c cases.Case
			if err := json.Unmarshal([]byte(doc), &c); err != nil {
				rows.Close()
				return changed, fmt.Errorf("case %s: %w", id, err)
			}
			items = append(items, item{c: c, body: body})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return changed, err
		}
		if len(items) == 0 {
			break
		}
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return changed, err
		}
		for _, it := range items {
			srows, err := tx.QueryContext(ctx, `SELECT doc FROM steps WHERE case_id = $1 ORDER BY seq`, it.c.ID)
			if err != nil {
				tx.Rollback()
				return changed, fmt.Errorf("read steps: %w", translate(err))
			}
			notes := ""
			for srows.Next() {
				var doc string
				var s cases.Step
				if err := srows.Scan(&doc); err == nil && json.Unmarshal([]byte(doc), &s) == nil {
					notes = withNote(notes, stepNote(&it.c, s.Note))
				}
			}
			srows.Close()
			body := searchBody(&it.c, notes)
			if body == it.body {
				continue
			}
			inline, long := bodyCols(db.Dialect, body)
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET body = $1, body_long = $2 WHERE id = $3`, inline, long, it.c.ID); err != nil {
				tx.Rollback()
				return changed, fmt.Errorf("write case text: %w", translate(err))
			}
			changed++
		}
		if err := tx.Commit(); err != nil {
			return changed, translate(err)
		}
		done += len(items)
		after = items[len(items)-1].c.ID
		if progress != nil {
			progress(done)
		}
	}
	if db.Dialect == SQLite {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO case_fts(case_fts) VALUES ('rebuild')`); err != nil {
			return changed, fmt.Errorf("rebuild the text index: %w", translate(err))
		}
	}
	return changed, nil
}
