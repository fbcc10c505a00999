package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"time"
)

// The documents of GeoReport v2. Each is one Go value with both XML and JSON
// tags: XML is the spec's tree, element for element; JSON is the same tree
// with containers as arrays (the Spark convention), so a root list such as
// <services> becomes a JSON array. Every id and code is a string in both.
// An empty optional field is an empty element in XML and null in JSON, as in
// the spec's examples.

// doc is a response document: XML marshals the value itself; JSON marshals
// what jsonValue returns.
type doc interface{ jsonValue() any }

// xmlDeclaration precedes every XML document, exactly as the spec shows it.
const xmlDeclaration = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// Content types of the two formats.
const (
	contentXML  = "text/xml; charset=utf-8"
	contentJSON = "application/json; charset=utf-8"
)

// zone is the zone every time is shown in: China Standard Time, +08:00.
var zone = time.FixedZone("CST", 8*3600)

// text is an optional string: an empty element in XML, null in JSON.
type text string

func (t text) MarshalJSON() ([]byte, error) {
	if t == "" {
		return []byte("null"), nil
	}
	return jsonString(string(t))
}

// stamp is an optional time in W3C format with its zone, +08:00.
type stamp time.Time

func (s stamp) String() string {
	t := time.Time(s)
	if t.IsZero() {
		return ""
	}
	return t.In(zone).Format(time.RFC3339)
}

func (s stamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(s.String(), start)
}

func (s stamp) MarshalJSON() ([]byte, error) {
	if time.Time(s).IsZero() {
		return []byte("null"), nil
	}
	return jsonString(s.String())
}

// coord is an optional WGS84 coordinate: a number, or empty/null.
type coord struct {
	v  float64
	ok bool
}

func (c coord) String() string {
	if !c.ok {
		return ""
	}
	return strconv.FormatFloat(c.v, 'f', -1, 64)
}

func (c coord) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(c.String(), start)
}

func (c coord) MarshalJSON() ([]byte, error) {
	if !c.ok {
		return []byte("null"), nil
	}
	return []byte(c.String()), nil
}

// jsonString encodes s as a JSON string without escaping <, > and &.
func jsonString(s string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// list returns items, or an empty slice for none: a JSON array, never null.
func list[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

// Discovery (http://wiki.open311.org/Service_Discovery).

type discoveryDoc struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact" json:"contact"`
	KeyService string     `xml:"key_service" json:"key_service"`
	Endpoints  []endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

func (d discoveryDoc) jsonValue() any { d.Endpoints = list(d.Endpoints); return d }

type endpoint struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

// GET services.

type servicesDoc struct {
	XMLName  xml.Name      `xml:"services"`
	Services []serviceItem `xml:"service"`
}

func (d servicesDoc) jsonValue() any { return list(d.Services) }

type serviceItem struct {
	Code        string `xml:"service_code" json:"service_code"`
	Name        string `xml:"service_name" json:"service_name"`
	Description text   `xml:"description" json:"description"`
	Metadata    bool   `xml:"metadata" json:"metadata"`
	Type        string `xml:"type" json:"type"`
	Keywords    text   `xml:"keywords" json:"keywords"`
	Group       text   `xml:"group" json:"group"`
}

// GET services/{code}.

type definitionDoc struct {
	XMLName    xml.Name   `xml:"service_definition" json:"-"`
	Code       string     `xml:"service_code" json:"service_code"`
	Attributes attributes `xml:"attributes" json:"attributes"`
}

func (d definitionDoc) jsonValue() any { return d }

// attributes is <attributes> holding <attribute>s (present even when empty);
// in JSON an array.
type attributes struct {
	Items []attribute `xml:"attribute"`
}

func (a attributes) MarshalJSON() ([]byte, error) { return json.Marshal(list(a.Items)) }

type attribute struct {
	Variable            bool    `xml:"variable" json:"variable"`
	Code                string  `xml:"code" json:"code"`
	Datatype            string  `xml:"datatype" json:"datatype"`
	Required            bool    `xml:"required" json:"required"`
	DatatypeDescription text    `xml:"datatype_description" json:"datatype_description"`
	Order               int     `xml:"order" json:"order"`
	Description         string  `xml:"description" json:"description"`
	Values              *values `xml:"values,omitempty" json:"values,omitempty"`
}

// values is <values> holding <value>s, only for the two list datatypes.
type values struct {
	Items []value `xml:"value"`
}

func (v values) MarshalJSON() ([]byte, error) { return json.Marshal(list(v.Items)) }

type value struct {
	Key  string `xml:"key" json:"key"`
	Name string `xml:"name" json:"name"`
}

// service_requests: the answer to POST requests, GET requests, GET
// requests/{id} and GET tokens/{token}, each with its own kind of <request>.

type requestsDoc[T any] struct {
	XMLName  xml.Name `xml:"service_requests"`
	Requests []T      `xml:"request"`
}

func (d requestsDoc[T]) jsonValue() any { return list(d.Requests) }

// created is the answer to POST requests: the service is realtime, so the
// case number comes back at once and no token is returned.
type created struct {
	ID            string `xml:"service_request_id" json:"service_request_id"`
	ServiceNotice text   `xml:"service_notice" json:"service_notice"`
	AccountID     text   `xml:"account_id" json:"account_id"`
}

// tokenAnswer is the answer to GET tokens/{token}.
type tokenAnswer struct {
	ID    string `xml:"service_request_id" json:"service_request_id"`
	Token string `xml:"token" json:"token"`
}

// request is one case as GeoReport shows it.
type request struct {
	ID                string `xml:"service_request_id" json:"service_request_id"`
	Status            string `xml:"status" json:"status"`
	StatusNotes       text   `xml:"status_notes" json:"status_notes"`
	ServiceName       text   `xml:"service_name" json:"service_name"`
	ServiceCode       string `xml:"service_code" json:"service_code"`
	Description       text   `xml:"description" json:"description"`
	AgencyResponsible text   `xml:"agency_responsible" json:"agency_responsible"`
	ServiceNotice     text   `xml:"service_notice" json:"service_notice"`
	Requested         stamp  `xml:"requested_datetime" json:"requested_datetime"`
	Updated           stamp  `xml:"updated_datetime" json:"updated_datetime"`
	Expected          stamp  `xml:"expected_datetime" json:"expected_datetime"`
	Address           text   `xml:"address" json:"address"`
	AddressID         text   `xml:"address_id" json:"address_id"`
	Zipcode           text   `xml:"zipcode" json:"zipcode"`
	Lat               coord  `xml:"lat" json:"lat"`
	Long              coord  `xml:"long" json:"long"`
	MediaURL          text   `xml:"media_url" json:"media_url"`
}

// GET servicerequestupdates, as FixMyStreet's extension defines it.

type updatesDoc struct {
	XMLName xml.Name `xml:"service_requests_updates"`
	Updates []update `xml:"request_update"`
}

func (d updatesDoc) jsonValue() any { return list(d.Updates) }

type update struct {
	ID          string `xml:"update_id" json:"update_id"`
	RequestID   string `xml:"service_request_id" json:"service_request_id"`
	Status      string `xml:"status" json:"status"`
	Updated     stamp  `xml:"updated_datetime" json:"updated_datetime"`
	Description text   `xml:"description" json:"description"`
	MediaURL    text   `xml:"media_url" json:"media_url"`
}

// POST servicerequestupdates answers with the update's ID.

type postedUpdatesDoc struct {
	XMLName xml.Name       `xml:"service_request_updates"`
	Updates []postedUpdate `xml:"request_update"`
}

func (d postedUpdatesDoc) jsonValue() any { return list(d.Updates) }

type postedUpdate struct {
	ID string `xml:"update_id" json:"update_id"`
}

// Errors.

type errorsDoc struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []errorItem `xml:"error"`
}

func (d errorsDoc) jsonValue() any { return list(d.Errors) }

type errorItem struct {
	Code        string `xml:"code" json:"code"`
	Description string `xml:"description" json:"description"`
}

// encode renders a document in a format, with the XML declaration first.
func encode(f format, d doc) ([]byte, error) {
	var b bytes.Buffer
	if f == formatJSON {
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d.jsonValue()); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	b.WriteString(xmlDeclaration)
	if err := xml.NewEncoder(&b).Encode(d); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
