package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// A new case's forms encoded before the writer and filled with its number
// there are stored exactly as InsertCase encodes them in the writer: the
// same document, list item, search text and step, byte for byte.
func TestNewCaseDocsAsInsertCase(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := openTestDB(t)
		mods := map[string]func(*cases.Case){
			"plain": func(*cases.Case) {},
			"answers, photos, extra": func(c *cases.Case) {
				c.Answers = map[string]any{"depth": 12.5, "lanes": []any{"东", "西"}, "night": true}
				c.Photos = []cases.Photo{{Hash: "ab12", Type: "image/jpeg", Size: 2048}}
				c.Extra = []cases.Extra{{Key: "hotline_no", Value: "GD2026120600012"}}
			},
			"text JSON escapes": func(c *cases.Case) {
				c.Description = `井盖"松动" <危险> & 夜间\看不清` + "\n第二行\t制表 🚧"
				c.Address = "解放碑 <步行街> & 八一路"
			},
			"long text": func(c *cases.Case) { c.Description = strings.Repeat("占道经营，", 900) },
			"no point":  func(c *cases.Case) { c.Point, c.GridCode = nil, "" },
			"tasks": func(c *cases.Case) {
				c.State = cases.Dispatched
				c.Tasks = []cases.Task{{UnitID: "cgj", Role: cases.Lead, Feedback: "已安排"}}
			},
		}
		n := 0
		for name, mod := range mods {
			n++
			a := newCase("NA"+name, mod)
			b := newCase("NB"+name, mod)
			sa, sb := stepOf(a, cases.ActReport), stepOf(b, cases.ActReport)
			sa.Note, sb.Note = "现场照片已上传", "现场照片已上传"
			docs := EncodeNewCase(b, sb)
			if docs == nil {
				t.Fatalf("%s: not encoded beforehand", name)
			}
			// The writer numbers them.
			a.Number, b.Number = fmt.Sprintf("500103014-20261206-%03d1", n), fmt.Sprintf("500103014-20261206-%03d2", n)
			err := db.Write(ctx, func(tx *Tx) error {
				if err := tx.InsertCase(ctx, a, sa, ClockRule{EscalateAfter: time.Hour}); err != nil {
					return err
				}
				return tx.InsertNewCase(ctx, b, sb, ClockRule{EscalateAfter: time.Hour}, docs)
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ra, rb := storedForms(t, db, a.ID), storedForms(t, db, b.ID)
			if !strings.Contains(rb, b.Number) || strings.Contains(rb, "case-number") {
				t.Errorf("%s: the number was not filled in: %s", name, rb)
			}
			ra = strings.NewReplacer(a.ID, "ID", a.Number, "NUMBER").Replace(ra)
			rb = strings.NewReplacer(b.ID, "ID", b.Number, "NUMBER").Replace(rb)
			if ra != rb {
				t.Errorf("%s: stored forms differ\nInsertCase:    %s\nInsertNewCase: %s", name, ra, rb)
			}
		}
		// Found by the full-text search by its number, as any case.
		got, err := db.Cases(ctx, CaseFilter{Scope: Scope{All: true}, Text: "500103014-20261206-0012"})
		if err != nil || len(got) != 1 {
			t.Fatalf("search by number: %d cases, %v", len(got), err)
		}
	})
}

// storedForms is what a case's rows hold besides its columns.
func storedForms(t *testing.T, db *DB, id string) string {
	t.Helper()
	var doc, item, stepDoc string
	var body, long sql.NullString
	err := db.read.QueryRowContext(context.Background(), `SELECT c.doc, c.item, c.body, c.body_long, s.doc FROM cases c JOIN steps s ON s.case_id = c.id WHERE c.id = $1`, id).
		Scan(&doc, &item, &body, &long, &stepDoc)
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return strings.Join([]string{doc, item, body.String, long.String, stepDoc}, "\n|")
}

// A case whose text holds the number's gap itself is encoded in the
// writer, and stored whole.
func TestNewCaseDocsGapInText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	c := newCase("NG1", func(c *cases.Case) { c.Description = "看" + numberGap + "这里" })
	step := stepOf(c, cases.ActReport)
	if docs := EncodeNewCase(c, step); docs != nil {
		t.Fatal("a case whose text holds the gap was encoded beforehand")
	}
	c.Number = "500103014-20261206-0100"
	if err := db.Write(ctx, func(tx *Tx) error { return tx.InsertNewCase(ctx, c, step, ClockRule{}, nil) }); err != nil {
		t.Fatal(err)
	}
	got, err := db.Case(ctx, c.ID)
	if err != nil || got.Number != c.Number || got.Description != c.Description {
		t.Fatalf("stored %q %q, %v", got.Number, got.Description, err)
	}
	// Docs made for another case, or before the case changed, are not used.
	d := newCase("NG2")
	ds := stepOf(d, cases.ActReport)
	docs := EncodeNewCase(d, ds)
	e := newCase("NG3")
	e.Number = "500103014-20261206-0101"
	if err := db.Write(ctx, func(tx *Tx) error { return tx.InsertNewCase(ctx, e, stepOf(e, cases.ActReport), ClockRule{}, docs) }); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Case(ctx, "NG3"); err != nil || got.ID != "NG3" || got.Number != e.Number {
		t.Fatalf("NG3 stored as %q %q, %v", got.ID, got.Number, err)
	}
}

// A number is filled in as it is only when json.Marshal would write it as
// it is; otherwise the forms are encoded in the writer.
func TestNumberJSON(t *testing.T) {
	t.Parallel()
	for n, want := range map[string]bool{
		"500103014-20261206-0007": true, "ZZ12": true,
		`a"b`: false, `a\b`: false, "a<b": false, "a>b": false, "a&b": false, "a\x00b": false, "a\u2028b": false, "门牌": false,
	} {
		got, ok := numberJSON(n)
		if ok != want {
			t.Errorf("numberJSON(%q) ok = %v, want %v", n, ok, want)
			continue
		}
		if ok {
			m, _ := json.Marshal(n)
			if got != string(m) {
				t.Errorf("numberJSON(%q) = %s, json.Marshal %s", n, got, m)
			}
		}
	}
}
