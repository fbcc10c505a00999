package open311_test

// Conformance tests written from GeoReport v2 (http://wiki.open311.org/GeoReport_v2),
// Service Discovery (http://wiki.open311.org/Service_Discovery) and
// FixMyStreet's servicerequestupdates: every endpoint and every error, in
// both formats, with the XML declaration, element names and order, content
// types, and ids and codes as JSON strings.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/region"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

var (
	serviceFields   = []string{"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
	attributeFields = []string{"variable", "code", "datatype", "required", "datatype_description", "order", "description"}
	requestFields   = []string{"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
		"agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
		"address", "address_id", "zipcode", "lat", "long", "media_url"}
	createdFields = []string{"service_request_id", "service_notice", "account_id"}
	updateFields  = []string{"update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"}
)

// w3c is a W3C date-time in China's zone, as every time must be shown.
var w3c = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$`)

func TestDiscovery(t *testing.T) {
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			r := get(t, "/open311/v2/discovery."+f)
			if r.status != http.StatusOK {
				t.Fatal(r)
			}
			wantURL := srv.URL + "/open311/v2"
			if f == "xml" {
				root := parseXML(t, r)
				if root.Name != "discovery" || strings.Join(root.names(), ",") != "changeset,contact,key_service,endpoints" {
					t.Fatalf("<%s> %v", root.Name, root.names())
				}
				eps := root.child(t, "endpoints")
				if len(eps.Kids) != 1 || eps.Kids[0].Name != "endpoint" {
					t.Fatalf("endpoints %v", eps.names())
				}
				ep := eps.Kids[0]
				if got := strings.Join(ep.names(), ","); got != "specification,url,changeset,type,formats" {
					t.Fatalf("endpoint %s", got)
				}
				if ep.val(t, "specification") != "http://wiki.open311.org/GeoReport_v2" || ep.val(t, "url") != wantURL || ep.val(t, "type") != "production" {
					t.Fatalf("endpoint %+v", ep)
				}
				var fm []string
				for _, k := range ep.child(t, "formats").Kids {
					if k.Name != "format" {
						t.Fatalf("<formats> holds <%s>", k.Name)
					}
					fm = append(fm, k.Text)
				}
				if !slices.Equal(fm, []string{"text/xml", "application/json"}) {
					t.Fatalf("formats %v", fm)
				}
				if root.val(t, "changeset") == "" || root.val(t, "changeset") != ep.val(t, "changeset") || root.val(t, "contact") == "" || root.val(t, "key_service") == "" {
					t.Fatalf("discovery %+v", root)
				}
				return
			}
			d, ok := parseJSON(t, r).(map[string]any)
			if !ok {
				t.Fatalf("want an object: %s", r.body)
			}
			if got := keysOf(d); !slices.Equal(got, []string{"changeset", "contact", "endpoints", "key_service"}) {
				t.Fatalf("keys %v", got)
			}
			eps := jsonArray(t, d["endpoints"])
			if len(eps) != 1 || str(t, eps[0], "url") != wantURL || str(t, eps[0], "specification") != "http://wiki.open311.org/GeoReport_v2" {
				t.Fatalf("endpoints %v", eps)
			}
			fm, ok := eps[0]["formats"].([]any)
			if !ok || len(fm) != 2 || fm[0] != "text/xml" || fm[1] != "application/json" {
				t.Fatalf("formats %v", eps[0]["formats"])
			}
		})
	}
}

func TestServices(t *testing.T) {
	want := map[string]bool{}
	for _, c := range plat.Service.Categories() {
		if c.Public && c.Active {
			want[c.Code] = true
		}
	}
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			r := get(t, "/open311/v2/services."+f)
			if r.status != http.StatusOK {
				t.Fatal(r)
			}
			got := map[string]map[string]string{}
			if f == "xml" {
				root := parseXML(t, r)
				if root.Name != "services" {
					t.Fatalf("root <%s>", root.Name)
				}
				for _, s := range root.Kids {
					if s.Name != "service" || !slices.Equal(s.names(), serviceFields) {
						t.Fatalf("<%s> %v, want <service> %v", s.Name, s.names(), serviceFields)
					}
					m := map[string]string{}
					for _, k := range s.Kids {
						m[k.Name] = k.Text
					}
					got[m["service_code"]] = m
				}
			} else {
				for _, s := range jsonArray(t, parseJSON(t, r)) {
					if !slices.Equal(keysOf(s), sorted(serviceFields)) {
						t.Fatalf("service keys %v", keysOf(s))
					}
					m := map[string]string{}
					for _, k := range []string{"service_code", "service_name", "description", "type", "keywords", "group"} {
						m[k] = str(t, s, k)
					}
					b, ok := s["metadata"].(bool)
					if !ok {
						t.Fatalf("metadata %T, want a boolean", s["metadata"])
					}
					m["metadata"] = fmt.Sprint(b)
					got[m["service_code"]] = m
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d services, want %d public active categories", len(got), len(want))
			}
			for code := range want {
				if got[code] == nil {
					t.Fatalf("service %s missing", code)
				}
			}
			if _, ok := got["DJ01"]; ok {
				t.Fatal("a party-building category is not public but is listed")
			}
			aq, ms := got["AQ01"], got["MS01"]
			if aq["service_name"] != "危化品违规使用" || aq["metadata"] != "true" || aq["type"] != "realtime" || aq["group"] != "平安法治" ||
				!strings.Contains(aq["keywords"], "醇基燃料") || ms["metadata"] != "false" || ms["group"] != "民生服务" {
				t.Fatalf("AQ01 %v, MS01 %v", aq, ms)
			}
		})
	}
}

// attr is an attribute as the tests compare it.
type attr struct {
	code, datatype, required, order string
	values                          []string // key=name
}

func TestServiceDefinition(t *testing.T) {
	want := map[string][]attr{
		"AQ01": {
			{"shop", "string", "true", "1", nil},
			{"equipment", "singlevaluelist", "true", "2", []string{"alcohol_stove=醇基燃料灶具", "lpg=液化气罐", "other=其他"}},
			{"quantity", "number", "false", "3", nil},
		},
		"MS02": {
			{"kind", "multivaluelist", "true", "1", []string{"rain=雨水", "sewage=污水", "power=电力", "telecom=通信"}},
			{"found_at", "datetime", "false", "2", nil},
			{"detail", "text", "false", "3", nil},
		},
		"MS01": nil,
	}
	for _, f := range formats {
		for code, attrs := range want {
			t.Run(f+"/"+code, func(t *testing.T) {
				r := get(t, "/open311/v2/services/"+code+"."+f)
				if r.status != http.StatusOK {
					t.Fatal(r)
				}
				var got []attr
				if f == "xml" {
					root := parseXML(t, r)
					if root.Name != "service_definition" || strings.Join(root.names(), ",") != "service_code,attributes" || root.val(t, "service_code") != code {
						t.Fatalf("<%s> %v", root.Name, root.names())
					}
					for _, a := range root.child(t, "attributes").Kids {
						names := a.names()
						if a.Name != "attribute" || !slices.Equal(names[:min(len(names), 7)], attributeFields) || len(names) > 8 {
							t.Fatalf("<%s> %v", a.Name, names)
						}
						if a.val(t, "variable") != "true" || a.val(t, "description") == "" || a.val(t, "datatype_description") == "" {
							t.Fatalf("attribute %+v", a)
						}
						x := attr{a.val(t, "code"), a.val(t, "datatype"), a.val(t, "required"), a.val(t, "order"), nil}
						if len(names) == 8 {
							if names[7] != "values" {
								t.Fatalf("attribute ends with <%s>", names[7])
							}
							for _, v := range a.child(t, "values").Kids {
								if v.Name != "value" || strings.Join(v.names(), ",") != "key,name" {
									t.Fatalf("<%s> %v", v.Name, v.names())
								}
								x.values = append(x.values, v.val(t, "key")+"="+v.val(t, "name"))
							}
						}
						got = append(got, x)
					}
				} else {
					d, ok := parseJSON(t, r).(map[string]any)
					if !ok || str(t, d, "service_code") != code || !slices.Equal(keysOf(d), []string{"attributes", "service_code"}) {
						t.Fatalf("definition %s", r.body)
					}
					for _, a := range jsonArray(t, d["attributes"]) {
						x := attr{code: str(t, a, "code"), datatype: str(t, a, "datatype")}
						req, ok1 := a["required"].(bool)
						vr, ok2 := a["variable"].(bool)
						if !ok1 || !ok2 || !vr {
							t.Fatalf("required/variable %v", a)
						}
						x.required, x.order = fmt.Sprint(req), fmt.Sprint(a["order"])
						str(t, a, "description")
						str(t, a, "datatype_description")
						if vs, ok := a["values"]; ok {
							for _, v := range jsonArray(t, vs) {
								x.values = append(x.values, str(t, v, "key")+"="+str(t, v, "name"))
							}
						}
						got = append(got, x)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(attrs) {
					t.Fatalf("attributes\n got %v\nwant %v", got, attrs)
				}
			})
		}
	}
}

func TestServiceDefinitionNotFound(t *testing.T) {
	for _, f := range formats {
		// Unknown, and a category that exists but is not public.
		for _, code := range []string{"NOPE", "DJ01"} {
			t.Run(f+"/"+code, func(t *testing.T) {
				expectError(t, get(t, "/open311/v2/services/"+code+"."+f), f, http.StatusNotFound)
			})
		}
	}
}

func TestPostRequest(t *testing.T) {
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			form := aq01(t, demoKey)
			r := post(t, "/open311/v2/requests."+f, form)
			if r.status != http.StatusOK {
				t.Fatal(r)
			}
			var id string
			if f == "xml" {
				root := parseXML(t, r)
				if root.Name != "service_requests" || strings.Join(root.names(), ",") != "request" {
					t.Fatalf("<%s> %v", root.Name, root.names())
				}
				req := root.child(t, "request")
				if !slices.Equal(req.names(), createdFields) {
					t.Fatalf("request %v, want %v", req.names(), createdFields)
				}
				id = req.val(t, "service_request_id")
				if !strings.Contains(req.val(t, "service_notice"), "石油路街道") {
					t.Fatalf("service_notice %q", req.val(t, "service_notice"))
				}
			} else {
				arr := jsonArray(t, parseJSON(t, r))
				if len(arr) != 1 || !slices.Equal(keysOf(arr[0]), sorted(createdFields)) || arr[0]["account_id"] != nil {
					t.Fatalf("answer %s", r.body)
				}
				id = str(t, arr[0], "service_request_id")
			}
			// The report is a case like any other: source open311, placed
			// in its grid, owned by the street, with the answers and the
			// reporter (family name first for Chinese names).
			c, err := plat.DB.Case(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			_, grid := pointInGridOf(t, "zhouchunyan")
			if c.Number != id || c.Source != cases.SourceOpen311 || c.GridCode != grid ||
				c.State != cases.Reported || c.Reporter.Name != "张三" || c.Reporter.Phone != "13800001234" || c.Reporter.AccountID != "" ||
				c.Answers["shop"] != "某餐饮店" || c.Answers["equipment"] != "alcohol_stove" || c.Answers["quantity"] != 3.0 {
				t.Fatalf("case %+v", c)
			}
			if name := plat.Service.RegionName(lastSegment(c.CenterPath)); name != "石油路街道" {
				t.Fatalf("center %s (%s)", c.CenterPath, name)
			}
			// And it reads back through GET requests/{id}.
			g := get(t, "/open311/v2/requests/"+id+"."+f)
			req := requestOf(t, f, g)
			if len(req) != 1 || req[0]["service_request_id"] != id || req[0]["status"] != "open" || req[0]["status_notes"] != "待受理" ||
				req[0]["service_code"] != "AQ01" || req[0]["service_name"] != "危化品违规使用" || req[0]["address_id"] != grid ||
				req[0]["description"] != "商铺准备使用醇基燃料灶具" || req[0]["agency_responsible"] != "" || req[0]["media_url"] != "" ||
				!w3c.MatchString(req[0]["requested_datetime"]) || !w3c.MatchString(req[0]["expected_datetime"]) ||
				req[0]["lat"] != form.Get("lat") || req[0]["long"] != form.Get("long") {
				t.Fatalf("request %v", req)
			}
		})
	}
}

func lastSegment(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[len(parts)-1]
}

// xmlItems reads an XML list answer: the root element, then items whose
// children are exactly fields, in order; each item as a map of text.
func xmlItems(t *testing.T, r reply, rootName, item string, fields []string) []map[string]string {
	t.Helper()
	root := parseXML(t, r)
	if root.Name != rootName {
		t.Fatalf("root <%s>, want <%s>", root.Name, rootName)
	}
	var out []map[string]string
	for _, q := range root.Kids {
		if q.Name != item || !slices.Equal(q.names(), fields) {
			t.Fatalf("<%s> %v, want <%s> %v", q.Name, q.names(), item, fields)
		}
		m := map[string]string{}
		for _, k := range q.Kids {
			m[k.Name] = k.Text
		}
		out = append(out, m)
	}
	return out
}

// requestOf reads a service_requests answer of full requests as maps of
// text, checking the element names and order (XML) or that every id and
// code is a string (JSON). Empty XML elements and JSON nulls read as "".
func requestOf(t *testing.T, f string, r reply) []map[string]string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatal(r)
	}
	if f == "xml" {
		return xmlItems(t, r, "service_requests", "request", requestFields)
	}
	var out []map[string]string
	for _, q := range jsonArray(t, parseJSON(t, r)) {
		if !slices.Equal(keysOf(q), sorted(requestFields)) {
			t.Fatalf("request keys %v", keysOf(q))
		}
		str(t, q, "service_request_id")
		str(t, q, "service_code")
		m := map[string]string{}
		for k, v := range q {
			switch x := v.(type) {
			case nil:
				m[k] = ""
			case string:
				if k == "lat" || k == "long" {
					t.Fatalf("%s is a string, want a number", k)
				}
				m[k] = x
			default:
				if k != "lat" && k != "long" {
					t.Fatalf("%s is %T, want a string or null", k, v)
				}
				m[k] = fmt.Sprint(x)
			}
		}
		out = append(out, m)
	}
	return out
}

func TestPostMultipartMedia(t *testing.T) {
	for i, f := range formats {
		t.Run(f, func(t *testing.T) {
			img := pngImage(t, uint8(100+i))
			form := aq01(t, demoKey)
			form.Del("description") // optional in the spec: the service name stands in
			r := postMultipart(t, "/open311/v2/requests."+f, form, img, pngImage(t, uint8(200+i)))
			if r.status != http.StatusOK {
				t.Fatal(r)
			}
			var id string
			if f == "xml" {
				id = parseXML(t, r).child(t, "request").val(t, "service_request_id")
			} else {
				id = str(t, jsonArray(t, parseJSON(t, r))[0], "service_request_id")
			}
			c, err := plat.DB.Case(context.Background(), id)
			if err != nil || len(c.Photos) != 2 || c.Photos[0].Type != "image/jpeg" || c.Description != "危化品违规使用" {
				t.Fatalf("case %+v %v", c, err)
			}
			req := requestOf(t, f, get(t, "/open311/v2/requests/"+id+"."+f))
			mu := req[0]["media_url"]
			if !strings.HasPrefix(mu, srv.URL+"/open311/v2/media/"+id+"/") || !strings.HasSuffix(mu, ".jpg") {
				t.Fatalf("media_url %q", mu)
			}
			resp, err := srv.Client().Get(mu)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			// The photo is served as stored: the upload decoded and written
			// again as a JPEG of the same size, named by its own hash.
			sum := sha256.Sum256(b.Bytes())
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(b.Bytes()))
			want, _ := png.DecodeConfig(bytes.NewReader(img))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || err != nil ||
				cfg.Width != want.Width || cfg.Height != want.Height || hex.EncodeToString(sum[:]) != c.Photos[0].Hash {
				t.Fatalf("media: %d %s, %d bytes, %v", resp.StatusCode, resp.Header.Get("Content-Type"), b.Len(), err)
			}
		})
	}
}

func TestPostMediaURLAndAddressID(t *testing.T) {
	_, grid := pointInGridOf(t, "yangshipei")
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			form := url.Values{"api_key": {demoKey}, "service_code": {"MS01"}, "address_id": {grid},
				"description": {"路面坑洼"}, "media_url": {"https://img.example.com/a.jpg"}}
			id := report(t, f, form)
			c, err := plat.DB.Case(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			// No point: the case falls under the addressed grid's street,
			// with the grid's name as its address.
			if c.Point != nil || !strings.HasPrefix(c.RegionPath, "/500000/500103/") || !strings.HasSuffix(c.RegionPath, "/"+grid+"/") ||
				c.Address != plat.Service.RegionName(grid) || !strings.Contains(c.Description, "https://img.example.com/a.jpg") {
				t.Fatalf("case %+v", c)
			}
			req := requestOf(t, f, get(t, "/open311/v2/requests/"+id+"."+f))
			if req[0]["media_url"] != "https://img.example.com/a.jpg" || req[0]["lat"] != "" || req[0]["address"] != c.Address {
				t.Fatalf("request %v", req[0])
			}
		})
	}
}

// TestPostErrors covers every refusal of POST requests in both formats, and
// that nothing is created by any of them.
func TestPostErrors(t *testing.T) {
	ctx := context.Background()
	sylCode := lastSegment(actor(t, "syl_zhihui").RegionPath)
	if plat.Service.RegionName(sylCode) != "石油路街道" {
		t.Fatalf("syl_zhihui's region %s", sylCode)
	}
	streetKey, _, err := plat.Service.CreateAPIKey(ctx, service.NewAPIKey{Name: "石油路街道应用", RegionCode: sylCode})
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, err := plat.Service.CreateAPIKey(ctx, service.NewAPIKey{Name: "revoked", RegionCode: "500103"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plat.Service.RevokeAPIKey(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	// A point in a grid of 解放碑街道, outside the street key's region.
	jfbGrids, err := plat.DB.Regions(ctx, store.RegionFilter{Under: actor(t, "jfb_zhihui").RegionPath, Level: region.Grid, WithShape: true})
	if err != nil || len(jfbGrids) == 0 {
		t.Fatalf("grids of 解放碑街道: %v", err)
	}
	jfb := pointIn(t, jfbGrids[0].Shape)
	with := func(mod func(url.Values)) func(url.Values) { return mod }
	for _, tc := range []struct {
		name   string
		mod    func(url.Values)
		status int
		param  string // the description names this parameter
	}{
		{"missing api_key", with(func(v url.Values) { v.Del("api_key") }), 403, "api_key"},
		{"bad api_key", with(func(v url.Values) { v.Set("api_key", "zz_wrong") }), 403, "api_key"},
		{"revoked api_key", with(func(v url.Values) { v.Set("api_key", revoked) }), 403, "api_key"},
		{"missing service_code", with(func(v url.Values) { v.Del("service_code") }), 400, "service_code"},
		{"unknown service_code", with(func(v url.Values) { v.Set("service_code", "NOPE") }), 404, "service_code"},
		{"service not public", with(func(v url.Values) { v.Set("service_code", "DJ01") }), 404, "service_code"},
		{"no location", with(func(v url.Values) { v.Del("lat"); v.Del("long"); v.Del("address_string") }), 400, "lat"},
		{"lat without long", with(func(v url.Values) { v.Del("long") }), 400, "long"},
		{"long without lat", with(func(v url.Values) { v.Del("lat") }), 400, "lat"},
		{"lat not a number", with(func(v url.Values) { v.Set("lat", "north") }), 400, "lat"},
		{"lat out of range", with(func(v url.Values) { v.Set("lat", "91") }), 400, "lat"},
		{"long out of range", with(func(v url.Values) { v.Set("long", "-180.5") }), 400, "long"},
		{"lat NaN", with(func(v url.Values) { v.Set("lat", "NaN") }), 400, "lat"},
		{"description over 4000", with(func(v url.Values) { v.Set("description", strings.Repeat("坑", 4001)) }), 400, "description"},
		{"required attribute missing", with(func(v url.Values) { v.Del("attribute[shop]") }), 400, "attribute[shop]"},
		{"list value not a key", with(func(v url.Values) { v.Set("attribute[equipment]", "gas_can") }), 400, "attribute[equipment]"},
		{"single value list given as a list", with(func(v url.Values) {
			v.Del("attribute[equipment]")
			v["attribute[equipment][]"] = []string{"lpg", "other"}
		}), 400, "attribute[equipment]"},
		{"bad number", with(func(v url.Values) { v.Set("attribute[quantity]", "three") }), 400, "attribute[quantity]"},
		{"malformed attribute", with(func(v url.Values) { v.Set("attribute[shop", "x") }), 400, "attribute[shop"},
		{"name too long", with(func(v url.Values) { v.Set("first_name", strings.Repeat("名", 60)) }), 400, "first_name"},
		{"bad media_url", with(func(v url.Values) { v.Set("media_url", "javascript:alert(1)") }), 400, "media_url"},
		{"unknown address_id", with(func(v url.Values) { v.Set("address_id", "999999") }), 400, "address_id"},
		{"address too long", with(func(v url.Values) { v.Set("address_string", strings.Repeat("路", 201)) }), 400, "address_string"},
		{"outside the key's region", with(func(v url.Values) {
			v.Set("api_key", streetKey)
			v.Set("lat", fmt.Sprint(jfb.Lat))
			v.Set("long", fmt.Sprint(jfb.Lng))
		}), 403, ""},
	} {
		for _, f := range formats {
			t.Run(f+"/"+tc.name, func(t *testing.T) {
				form := aq01(t, demoKey)
				tc.mod(form)
				before := countCases(t)
				descs := expectError(t, post(t, "/open311/v2/requests."+f, form), f, tc.status)
				if tc.param != "" && !strings.Contains(strings.Join(descs, "\n"), tc.param) {
					t.Fatalf("errors %q do not name %s", descs, tc.param)
				}
				if after := countCases(t); after != before {
					t.Fatalf("a refused request created %d cases", after-before)
				}
			})
		}
	}
	// The multivaluelist and datetime attributes of MS02, and a file that is
	// not an image.
	ms02 := func() url.Values {
		p, _ := pointInGridOf(t, "zhouchunyan")
		return url.Values{"api_key": {demoKey}, "service_code": {"MS02"}, "lat": {fmt.Sprint(p.Lat)}, "long": {fmt.Sprint(p.Lng)},
			"description": {"井盖缺失"}, "attribute[kind][]": {"rain", "sewage"}, "attribute[found_at]": {"2026-03-01T08:00:00+08:00"}}
	}
	for _, f := range formats {
		for _, tc := range []struct {
			name  string
			mod   func(url.Values)
			param string
		}{
			{"multivaluelist value not a key", func(v url.Values) { v["attribute[kind][]"] = []string{"rain", "lava"} }, "attribute[kind]"},
			{"required multivaluelist missing", func(v url.Values) { v.Del("attribute[kind][]") }, "attribute[kind]"},
			{"bad datetime", func(v url.Values) { v.Set("attribute[found_at]", "yesterday") }, "attribute[found_at]"},
			{"datetime without zone", func(v url.Values) { v.Set("attribute[found_at]", "2026-03-01T08:00:00") }, "attribute[found_at]"},
		} {
			t.Run(f+"/"+tc.name, func(t *testing.T) {
				form := ms02()
				tc.mod(form)
				before := countCases(t)
				descs := expectError(t, post(t, "/open311/v2/requests."+f, form), f, 400)
				if !strings.Contains(strings.Join(descs, "\n"), tc.param) {
					t.Fatalf("errors %q do not name %s", descs, tc.param)
				}
				if countCases(t) != before {
					t.Fatal("a refused request created a case")
				}
			})
		}
		t.Run(f+"/media not an image", func(t *testing.T) {
			before := countCases(t)
			descs := expectError(t, postMultipart(t, "/open311/v2/requests."+f, aq01(t, demoKey), []byte("not a picture at all")), f, 400)
			if !strings.Contains(descs[0], "media") || countCases(t) != before {
				t.Fatalf("errors %q", descs)
			}
		})
		t.Run(f+"/several problems at once", func(t *testing.T) {
			form := aq01(t, demoKey)
			form.Del("service_code")
			form.Del("long")
			form.Set("description", strings.Repeat("x", 4001))
			descs := expectError(t, post(t, "/open311/v2/requests."+f, form), f, 400)
			if len(descs) != 3 {
				t.Fatalf("errors %q, want three", descs)
			}
			// A form problem and an attribute problem come back together.
			form = aq01(t, demoKey)
			form.Del("long")
			form.Set("attribute[equipment]", "gas_can")
			descs = expectError(t, post(t, "/open311/v2/requests."+f, form), f, 400)
			if len(descs) != 2 || !strings.HasPrefix(descs[0], "long") || !strings.HasPrefix(descs[1], "attribute[equipment]") {
				t.Fatalf("errors %q, want long and attribute[equipment]", descs)
			}
		})
	}
	// The valid forms of MS02 are accepted: a list, and W3C times in any form.
	for _, when := range []string{"2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00Z", "2026-03-01T08:00+08:00", "2026-03-01T08:00:00.5+08:00"} {
		form := ms02()
		form.Set("attribute[found_at]", when)
		id := report(t, "xml", form)
		c, err := plat.DB.Case(ctx, id)
		if err != nil || !slices.Equal(c.Answers["kind"].([]any), []any{"rain", "sewage"}) || c.Answers["found_at"] == "" {
			t.Fatalf("%s: %+v %v", when, c.Answers, err)
		}
	}
}

func TestRateLimit(t *testing.T) {
	ctx := context.Background()
	key, _, err := plat.Service.CreateAPIKey(ctx, service.NewAPIKey{Name: "one-a-minute", RegionCode: "500103", RatePerMinute: 1})
	if err != nil {
		t.Fatal(err)
	}
	report(t, "xml", aq01(t, key))
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			before := countCases(t)
			r := post(t, "/open311/v2/requests."+f, aq01(t, key))
			expectError(t, r, f, http.StatusTooManyRequests)
			if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" || countCases(t) != before {
				t.Fatalf("Retry-After %q", ra)
			}
		})
	}
}

// TestGetErrors covers the refusals of the GET endpoints and of the routing.
func TestGetErrors(t *testing.T) {
	for _, f := range formats {
		for _, tc := range []struct {
			name, path string
			status     int
		}{
			{"range over 90 days", "requests.F?start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z", 400},
			{"end before start", "requests.F?start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", 400},
			{"bad start_date", "requests.F?start_date=last+week", 400},
			{"start_date without zone", "requests.F?start_date=2026-03-01T08:00:00", 400},
			{"bad updated_after", "requests.F?updated_after=soon", 400},
			{"bad status", "requests.F?status=pending", 400},
			{"bad page", "requests.F?page=0", 400},
			{"bad page_size", "requests.F?page_size=many", 400},
			{"updates over 90 days", "servicerequestupdates.F?api_key=" + demoKey + "&start_date=2025-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", 400},
			{"unknown request", "requests/500103014-19990101-0001.F", 404},
			{"unknown token", "tokens/NOPE.F", 404},
			{"unknown path", "nothing.F", 404},
			{"wrong method", "services.F", 400},
		} {
			t.Run(f+"/"+tc.name, func(t *testing.T) {
				path := "/open311/v2/" + strings.Replace(tc.path, ".F", "."+f, 1)
				method := "GET"
				if tc.name == "wrong method" {
					method = "DELETE"
				}
				req, _ := http.NewRequest(method, srv.URL+path, nil)
				expectError(t, do(t, req), f, tc.status)
			})
		}
	}
	// A format other than xml or json, or none, is a bad request, answered in XML.
	for _, path := range []string{"services.txt", "services", "requests.html", "services/AQ01.yaml", "discovery"} {
		t.Run("format/"+path, func(t *testing.T) {
			expectError(t, get(t, "/open311/v2/"+path), "xml", 400)
		})
	}
}

func TestGetRequests(t *testing.T) {
	ids := []string{report(t, "xml", aq01(t, demoKey)), report(t, "xml", aq01(t, demoKey))}
	start := plat.Service.Now().Add(-time.Hour).In(time.UTC).Format(time.RFC3339)
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			all := requestOf(t, f, get(t, "/open311/v2/requests."+f))
			if len(all) == 0 || len(all) > 1000 {
				t.Fatalf("%d requests by default", len(all))
			}
			seen := map[string]bool{}
			for _, r := range all {
				c, _ := plat.Service.Category(r["service_code"])
				if !c.Public {
					t.Fatalf("request %s of a non-public category", r["service_request_id"])
				}
				req, err := time.Parse(time.RFC3339, r["requested_datetime"])
				if err != nil || plat.Service.Now().Sub(req) > 91*24*time.Hour || !w3c.MatchString(r["updated_datetime"]) {
					t.Fatalf("request outside the default 90 days: %v", r)
				}
				if r["status"] != "open" && r["status"] != "closed" {
					t.Fatalf("status %q", r["status"])
				}
				seen[r["service_request_id"]] = true
			}
			for _, id := range ids {
				if !seen[id] {
					t.Fatalf("new request %s not listed", id)
				}
			}
			// A service_request_id list overrides every other parameter,
			// even ones that would be refused; unknown ids are left out.
			got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?service_request_id="+ids[1]+",NOPE,"+ids[0]+"&status=bogus&start_date=x"))
			if len(got) != 2 || got[0]["service_request_id"] != ids[1] || got[1]["service_request_id"] != ids[0] {
				t.Fatalf("by ids: %v", got)
			}
			for _, st := range []string{"open", "closed"} {
				for _, r := range requestOf(t, f, get(t, "/open311/v2/requests."+f+"?status="+st)) {
					if r["status"] != st {
						t.Fatalf("status=%s listed %v", st, r)
					}
				}
			}
			if n := len(requestOf(t, f, get(t, "/open311/v2/requests."+f+"?status=open,closed"))); n != len(all) {
				t.Fatalf("open,closed: %d, want %d", n, len(all))
			}
			for _, r := range requestOf(t, f, get(t, "/open311/v2/requests."+f+"?service_code=AQ01,DJ01")) {
				if r["service_code"] != "AQ01" {
					t.Fatalf("service_code=AQ01 listed %v", r)
				}
			}
			if got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?service_code=DJ01")); len(got) != 0 {
				t.Fatalf("a non-public service listed %d requests", len(got))
			}
			// Pages: page_size and page walk the same list.
			p1 := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?page_size=1&page=1"))
			p2 := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?page_size=1&page=2"))
			if len(p1) != 1 || len(p2) != 1 || p1[0]["service_request_id"] != all[0]["service_request_id"] || p2[0]["service_request_id"] != all[1]["service_request_id"] {
				t.Fatalf("pages %v %v", p1, p2)
			}
			// A window of requested_datetime, and of updated_datetime.
			recent := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?start_date="+url.QueryEscape(start)))
			for _, r := range recent {
				if req, _ := time.Parse(time.RFC3339, r["requested_datetime"]); req.Before(plat.Service.Now().Add(-time.Hour)) {
					t.Fatalf("start_date let in %v", r)
				}
			}
			if len(recent) < 2 {
				t.Fatalf("start_date: %d requests", len(recent))
			}
			// An unencoded "+" in the zone arrives as a space and still works.
			plus := plat.Service.Now().Add(-time.Hour).In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05") + "+08:00"
			if got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?updated_after="+plus)); len(got) < 2 {
				t.Fatalf("updated_after with a raw +: %d", len(got))
			}
			if got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?updated_before="+url.QueryEscape(start))); slices.ContainsFunc(got, func(r map[string]string) bool { return r["service_request_id"] == ids[0] }) {
				t.Fatal("updated_before let in a newer request")
			}
		})
	}
}

func TestTokens(t *testing.T) {
	id := report(t, "xml", aq01(t, demoKey))
	c, err := plat.DB.Case(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			r := get(t, "/open311/v2/tokens/"+c.ID+"."+f)
			if r.status != 200 {
				t.Fatal(r)
			}
			if f == "xml" {
				root := parseXML(t, r)
				q := root.child(t, "request")
				if root.Name != "service_requests" || strings.Join(q.names(), ",") != "service_request_id,token" || q.val(t, "service_request_id") != id || q.val(t, "token") != c.ID {
					t.Fatalf("token answer %s", r.body)
				}
				return
			}
			arr := jsonArray(t, parseJSON(t, r))
			if len(arr) != 1 || str(t, arr[0], "service_request_id") != id || str(t, arr[0], "token") != c.ID {
				t.Fatalf("token answer %s", r.body)
			}
			// The case number is not a token.
			expectError(t, get(t, "/open311/v2/tokens/"+id+"."+f), f, 404)
		})
	}
}

func TestUnpublishedCasesStayHidden(t *testing.T) {
	ctx := context.Background()
	p, _ := pointInGridOf(t, "zhouchunyan")
	c, err := plat.Service.Report(ctx, actor(t, "zhouchunyan"), cases.Report{Source: cases.SourcePatrol, Point: &p,
		Category: "DJ01", Description: "党员组织关系转接"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		expectError(t, get(t, "/open311/v2/requests/"+c.Number+"."+f), f, 404)
		expectError(t, get(t, "/open311/v2/tokens/"+c.ID+"."+f), f, 404)
		if got := requestOf(t, f, get(t, "/open311/v2/requests."+f+"?service_request_id="+c.Number)); len(got) != 0 {
			t.Fatalf("listed by id: %v", got)
		}
	}
}

func TestMediaNotFound(t *testing.T) {
	id := report(t, "xml", aq01(t, demoKey))
	for _, path := range []string{
		"media/" + id + "/" + strings.Repeat("ab", 32) + ".png", // not a photo of this request
		"media/NOPE/" + strings.Repeat("ab", 32) + ".png",
	} {
		expectError(t, get(t, "/open311/v2/"+path), "xml", 404)
	}
}

// TestHeldCasesNotPublished: a resident's report held for screening (待甄别)
// is not in the public listing, open or unfiltered, until the center
// releases it; by its own number it reads back (its reporter follows it).
func TestHeldCasesNotPublished(t *testing.T) {
	ctx := context.Background()
	p, _ := pointInGridOf(t, "zhouchunyan")
	var held cases.Case
	for range service.DefaultDoorLimits.PhoneHold + 1 {
		tok, err := plat.Service.FormToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held, err = plat.Service.ReportAnonymous(ctx, service.Knock{Token: tok}, cases.Report{Category: "MS03", Point: &p,
			Description: "待甄别不公开测试", Reporter: cases.Reporter{Phone: "13677770000"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if held.State != cases.Held {
		t.Fatalf("the fourth report of one phone: %s", held.State)
	}
	listed := func(f, query string) bool {
		for _, r := range requestOf(t, f, get(t, "/open311/v2/requests."+f+query)) {
			if r["service_request_id"] == held.Number {
				return true
			}
		}
		return false
	}
	for _, f := range formats {
		if listed(f, "?status=open&service_code=MS03") || listed(f, "?service_code=MS03") {
			t.Errorf("%s: a held case is published", f)
		}
		if !listed(f, "?service_request_id="+held.Number) {
			t.Errorf("%s: the held case does not read back by its number", f)
		}
	}
	cmd := cases.Actor{AccountID: "cmd", Role: cases.RoleCommander, RegionPath: held.CenterPath}
	if _, err := plat.Service.Screen(ctx, cmd, []string{held.ID}, cases.Command{Action: cases.ActRelease}); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		if !listed(f, "?status=open&service_code=MS03") {
			t.Errorf("%s: the released case is not published", f)
		}
	}
}
