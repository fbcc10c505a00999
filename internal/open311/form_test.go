package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseAttributes(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  string // fmt of the map, sorted by key
		probs int
	}{
		{"attribute[a]=1", "map[a:1]", 0},
		{"attribute[a][]=x&attribute[a][]=y", "map[a:[x y]]", 0},
		{"attribute[a][]=x", "map[a:[x]]", 0},
		{"attribute[a]=x&attribute[a]=y", "map[a:[x y]]", 0},
		{"attribute[a]=x&attribute[a][]=y", "map[a:[y x]]", 0},
		{"attribute[a][1]=second&attribute[a][0]=first", "map[a:[first second]]", 0},
		{"attribute[a]=&attribute[b][]=+", "map[]", 0},
		{"attribute[a]=1&attribute[b]=2&other=3&attributes=4", "map[a:1 b:2]", 0},
		{"attribute[]=1", "map[]", 1},
		{"attribute[a=1", "map[]", 1},
		{"attribute[a][x]=1", "map[]", 1},
		{"attribute[a][][]=1", "map[]", 1},
		{"attribute[a]b=1", "map[]", 1},
		{"attribute[ a]=1", "map[]", 1},
	} {
		v, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, probs := parseAttributes(v)
		if fmt.Sprint(got) != tc.want && !(got == nil && tc.want == "map[]") || len(probs) != tc.probs {
			t.Errorf("%s: %v %v, want %s with %d problems", tc.query, got, probs, tc.want, tc.probs)
		}
	}
}

func TestParseForm(t *testing.T) {
	ok := "service_code=MS01&lat=29.5&long=106.5&description=%E5%9D%91"
	for _, tc := range []struct {
		query  string
		params string // the problems' parameters
	}{
		{ok, ""},
		{"service_code=MS01&address_string=x", ""},
		{"service_code=MS01&address_id=500103", ""},
		{"lat=29.5&long=106.5", "service_code"},
		{"service_code=MS01", "lat"},
		{"service_code=MS01&lat=29.5", "long"},
		{"service_code=MS01&long=106.5", "lat"},
		{"service_code=MS01&lat=x&long=106.5", "lat"},
		{"service_code=MS01&lat=29.5&long=Inf", "long"},
		{"service_code=MS01&lat=-90.1&long=0", "lat"},
		{"service_code=MS01&lat=0&long=180.1", "long"},
		{"service_code=MS01&lat=+&long=+&address_string=x", ""},
		{ok + "&media_url=ftp://x/y", "media_url"},
		{ok + "&media_url=/relative", "media_url"},
		{"service_code=MS01&address_string=x&description=" + strings.Repeat("a", 4001), "description"},
		{"service_code=MS01&address_string=x&description=" + strings.Repeat("%E5%9D%91", 4000), ""},
	} {
		v, _ := url.ParseQuery(tc.query)
		_, probs := parseForm(v)
		var params []string
		for _, p := range probs {
			params = append(params, p.Param)
		}
		if got := strings.Join(params, ","); got != tc.params {
			t.Errorf("%.80s: problems %v, want %s", tc.query, probs, tc.params)
		}
	}
	v, _ := url.ParseQuery(ok + "&first_name=John&last_name=Smith&media_url=https://x.example/a.jpg&api_key=k")
	p, _ := parseForm(v)
	if p.Point == nil || p.Point.Lat != 29.5 || p.Point.Lng != 106.5 || p.Description != "坑" || p.APIKey != "k" ||
		fullName(p.FirstName, p.LastName) != "John Smith" || p.MediaURL != "https://x.example/a.jpg" {
		t.Fatalf("%+v", p)
	}
	// As the client shows the name: first_name then last_name.
	for _, tc := range [][3]string{
		{"王", "小明", "王小明"}, {"张", "三", "张三"}, {"", "张", "张"}, {"Ann", "", "Ann"},
		{"Anna", "Smith", "Anna Smith"}, {"王", "Lee", "王 Lee"}, {"Li", "小明", "Li 小明"},
	} {
		if got := fullName(tc[0], tc[1]); got != tc[2] {
			t.Errorf("fullName(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-03-01T00:00:00Z", "2026-03-01T08:00:00+08:00", "2026-03-01T08:00:00 08:00",
		"2026-03-01T08:00+08:00", "2026-03-01T00:00:00.000Z", "2026-03-01T08:00:00.000+08:00", "2026-03-01"} {
		got, ok := parseTime(s)
		if s == "2026-03-01" {
			want = time.Date(2026, 3, 1, 0, 0, 0, 0, zone)
		}
		if !ok || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "2026-03-01T08:00:00", "yesterday", "2026-13-01T00:00:00Z", "1 2"} {
		if _, ok := parseTime(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

// FuzzParseForm feeds the POST parser any query string: it must not panic,
// and whatever it accepts must satisfy the spec's rules.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"service_code=AQ01&lat=29.5&long=106.5&attribute[shop]=x&attribute[kind][]=a&attribute[kind][]=b",
		"service_code=MS01&address_string=%E8%B7%AF&description=%E5%9D%91&media_url=https://a.example/b.jpg",
		"attribute[a][0]=x&attribute[a][1]=y&attribute[b]=1&attribute[b]=2",
		"attribute[=1&attribute]=2&attribute[[]]=3&attribute[a][99999]=4",
		"lat=NaN&long=-Inf&service_code=%00",
		"service_code=x&address_id=1&first_name=%E4%B8%89&last_name=%E5%BC%A0&description=%ff%fe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, probs := parseForm(v)
		for code, a := range p.Attributes {
			if code == "" || strings.ContainsAny(code, "[]") {
				t.Fatalf("attribute code %q", code)
			}
			switch x := a.(type) {
			case string:
				if strings.TrimSpace(x) == "" {
					t.Fatalf("blank attribute %q", code)
				}
			case []string:
				if len(x) == 0 {
					t.Fatalf("empty list %q", code)
				}
				for _, s := range x {
					if strings.TrimSpace(s) == "" {
						t.Fatalf("blank list item in %q", code)
					}
				}
			default:
				t.Fatalf("attribute %q is %T", code, a)
			}
		}
		for _, pr := range probs {
			if pr.Param == "" || pr.Reason == "" {
				t.Fatalf("problem %+v", pr)
			}
		}
		if len(probs) > 0 {
			return
		}
		if p.ServiceCode == "" {
			t.Fatal("accepted without service_code")
		}
		if p.Point == nil && p.AddressString == "" && p.AddressID == "" {
			t.Fatal("accepted without a location")
		}
		if p.Point != nil && (math.IsNaN(p.Point.Lat) || math.IsNaN(p.Point.Lng) || !p.Point.Valid()) {
			t.Fatalf("accepted point %v", *p.Point)
		}
		if !utf8.ValidString(p.Description) || utf8.RuneCountInString(p.Description) > MaxDescription {
			t.Fatal("accepted description")
		}
		if p.MediaURL != "" {
			if u, err := url.Parse(p.MediaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				t.Fatalf("accepted media_url %q", p.MediaURL)
			}
		}
	})
}

// FuzzEncode checks that any text, however broken, gives well-formed XML
// with the declaration and valid JSON.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "路面<坑洼>&\"'", "\x00\x01\ufffe", "\xff\xfe", "]]>", "line\nbreak\r\n\ttab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := requestsDoc[request]{Requests: []request{{ID: s, Status: "open", StatusNotes: text(s), ServiceCode: s,
			Description: text(s), Address: text(s), Requested: stamp(time.Unix(0, 0)), Lat: coord{1.5, true}}}}
		x, err := encode(formatXML, d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(x, []byte(xmlDeclaration)) {
			t.Fatal("no declaration")
		}
		dec := xml.NewDecoder(bytes.NewReader(x))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("malformed XML for %q: %v\n%s", s, err, x)
			}
		}
		j, err := encode(formatJSON, d)
		if err != nil {
			t.Fatal(err)
		}
		var back []map[string]any
		if err := json.Unmarshal(j, &back); err != nil || len(back) != 1 {
			t.Fatalf("bad JSON for %q: %v\n%s", s, err, j)
		}
		if _, ok := back[0]["service_request_id"].(string); !ok {
			t.Fatal("id not a string")
		}
	})
}
