package store

import (
	"encoding/json"

	gojson "github.com/goccy/go-json"
)

// Case documents are the store's own JSON, written by encoding/json. A
// listing decoded fifty of them for one page, and decoding was three
// quarters of a page's time (issue 19), so they are read back with
// goccy/go-json, which decodes the same documents into the same values in
// about half the time. TestFastDecoderAgrees (internal/demo) decodes every
// case of the demo both ways and wants equal results. (A page of cases now
// reads list items instead, CaseItems.)

// decodeCaseDoc decodes a stored case document.
func decodeCaseDoc(doc []byte, v any) error {
	return gojson.Unmarshal(doc, v)
}

// DecodeCaseDocs decodes one document both ways, for the test that checks
// the two decoders agree.
func DecodeCaseDocs(doc []byte, std, fast any) error {
	if err := json.Unmarshal(doc, std); err != nil {
		return err
	}
	return gojson.Unmarshal(doc, fast)
}
