package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"zhizhi/internal/cases"
)

// NewCaseDocs are the encoded forms InsertCase stores for a new case (its
// document, list item, search text, first step), made before the case
// reaches the writer (EncodeNewCase), in the reporting request's own
// goroutine. The one thing the writer adds to a new case is its number
// (NextNumber, counted inside the transaction), so the forms keep a gap
// where the number goes, and the writer only fills it in (InsertNewCase).
// At intake the encoding was about a tenth of the writer's time, spent one
// report after another; encoded here, reports are encoded side by side.
type NewCaseDocs struct {
	id           string
	version      int
	doc, item    NumberGapped // JSON: the number's gap is a JSON string
	body         gapped       // the search text: the number's gap is bare
	step         string       // the first step's document (no number in it)
	stepID       string       // checked at insert, with the case's ID, version and report time
	reportedAtMs int64
}

// numberGap is the number a case is encoded with before it has one. It
// holds NUL bytes, which no text reaching a case carries (textcheck
// refuses control characters) and which JSON writes as \u0000; and
// EncodeNewCase keeps the forms only if the gap is found exactly once in
// each, so a text that did carry it would only mean encoding in the
// writer, as before.
const numberGap = "\x00case-number\x00"

// numberGapJSON is numberGap as a JSON string, quotes included.
const numberGapJSON = `"\u0000case-number\u0000"`

// gapped is a text with a gap: what comes before and after it.
type gapped struct{ head, tail string }

// gapIn splits s at its only gap; ok is false when s holds none or more
// than one.
func gapIn(s, gap string) (g gapped, ok bool) {
	i := strings.Index(s, gap)
	if i < 0 || strings.Contains(s[i+len(gap):], gap) {
		return gapped{}, false
	}
	return gapped{s[:i], s[i+len(gap):]}, true
}

func (g gapped) with(filler string) string { return g.head + filler + g.tail }

// encodeGapped encodes a copy of c whose number is numberGap and splits
// the text at gap, numberGap as the text writes it.
func encodeGapped(c *cases.Case, gap string, encode func(*cases.Case) (string, error)) (gapped, bool) {
	g := *c
	g.Number = numberGap
	s, err := encode(&g)
	if err != nil {
		return gapped{}, false
	}
	return gapIn(s, gap)
}

// EncodeNewCase encodes what InsertNewCase stores for c with its first
// step, c's number left as a gap. It returns nil when the forms cannot be
// made this way (InsertNewCase then encodes them in the writer).
func EncodeNewCase(c *cases.Case, step *cases.Step) *NewCaseDocs {
	st, err := json.Marshal(step)
	if err != nil {
		return nil
	}
	d := &NewCaseDocs{id: c.ID, version: c.Version, step: string(st), stepID: step.ID, reportedAtMs: c.ReportedAt.UnixMilli()}
	var ok1, ok2, ok3 bool
	d.doc, ok1 = EncodeNumberGapped(c, func(g *cases.Case) ([]byte, error) { return json.Marshal(g) })
	d.item, ok2 = EncodeNumberGapped(c, func(g *cases.Case) ([]byte, error) {
		item, err := ItemDoc(g)
		return []byte(item), err
	})
	d.body, ok3 = encodeGapped(c, numberGap, func(g *cases.Case) (string, error) { return caseBody(g, step), nil })
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	return d
}

// NumberGapped is a JSON document of a case encoded before the case had
// its number (EncodeNumberGapped): what else a report writes that carries
// its number, as its webhook event's body, is encoded beside the case's own
// forms and filled in by the writer.
type NumberGapped struct{ g gapped }

// EncodeNumberGapped encodes c with encode, c's number left as a gap; ok is
// false when the gap is not found exactly once (encode in the writer).
func EncodeNumberGapped(c *cases.Case, encode func(*cases.Case) ([]byte, error)) (NumberGapped, bool) {
	g, ok := encodeGapped(c, numberGapJSON, func(c *cases.Case) (string, error) {
		b, err := encode(c)
		return string(b), err
	})
	return NumberGapped{g}, ok
}

// With is the document with number filled in; ok is false when the number
// would need escaping in JSON (numbers are digits, letters and dashes).
func (n NumberGapped) With(number string) ([]byte, bool) {
	num, ok := numberJSON(number)
	if !ok || number == "" {
		return nil, false
	}
	return []byte(n.g.with(num)), true
}

// numberJSON is a case number as a JSON string, or false when it holds a
// character JSON escapes, or json.Marshal does for HTML (numbers are
// digits, letters and dashes).
func numberJSON(n string) (string, bool) {
	for i := 0; i < len(n); i++ {
		if b := n[i]; b < 0x20 || b >= 0x7f || strings.IndexByte(`"\<>&`, b) >= 0 {
			return "", false
		}
	}
	return `"` + n + `"`, true
}

// InsertNewCase is InsertCase with the forms encoded beforehand (docs,
// from EncodeNewCase for c and step before c had its number; nil: encode
// them here). c must be the case encoded, its number set since.
func (t *Tx) InsertNewCase(ctx context.Context, c *cases.Case, step *cases.Step, rule ClockRule, docs *NewCaseDocs) error {
	if docs == nil || docs.id != c.ID || docs.version != c.Version || docs.stepID != step.ID ||
		docs.reportedAtMs != c.ReportedAt.UnixMilli() {
		return t.InsertCase(ctx, c, step, rule)
	}
	doc, ok1 := docs.doc.With(c.Number)
	item, ok2 := docs.item.With(c.Number)
	if !ok1 || !ok2 {
		return t.InsertCase(ctx, c, step, rule)
	}
	return t.insertCase(ctx, c, step, rule, encodedCase{doc: doc, item: string(item), body: docs.body.with(c.Number), step: docs.step})
}

// encodedCase is what insertCase stores of a new case besides its columns.
type encodedCase struct {
	doc        []byte
	item, body string
	step       string
}

// encodeCase encodes a new case's forms in the writer (InsertCase).
func encodeCase(c *cases.Case, step *cases.Step) (encodedCase, error) {
	doc, err := json.Marshal(c)
	if err != nil {
		return encodedCase{}, fmt.Errorf("encode case: %w", err)
	}
	item, err := ItemDoc(c)
	if err != nil {
		return encodedCase{}, err
	}
	st, err := json.Marshal(step)
	if err != nil {
		return encodedCase{}, fmt.Errorf("encode step: %w", err)
	}
	return encodedCase{doc: doc, item: item, body: caseBody(c, step), step: string(st)}, nil
}
