package open311

import (
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
)

// MaxDescription is GeoReport's limit on a description, in characters.
const MaxDescription = 4000

// postForm is a POST requests form, parsed and checked against the spec
// alone (not yet against the service definition or the platform).
type postForm struct {
	APIKey        string
	ServiceCode   string
	Point         *geo.Point
	AddressString string
	AddressID     string
	Attributes    map[string]any // code → string, or []string for attribute[code][]
	FirstName     string
	LastName      string
	Phone         string
	PhoneDropped  bool // a phone was sent that is not a phone: dropped, the report kept
	Email         string
	DeviceID      string
	AccountID     string
	Description   string
	MediaURL      string
}

// problem is one thing wrong with a request, named by the Open311 parameter.
type problem struct {
	Param  string
	Reason string
}

// parseForm reads the parameters of POST requests. Empty parameters count as
// absent, as the spec's "optional arguments" require. It never panics on any
// input; the problems come in a stable order.
func parseForm(form url.Values) (postForm, []problem) {
	var p postForm
	var probs []problem
	add := func(param, reason string) { probs = append(probs, problem{param, reason}) }
	get := func(k string) string {
		v := form[k]
		if len(v) == 0 {
			return ""
		}
		return strings.TrimSpace(v[0])
	}
	p.APIKey = get("api_key")
	p.ServiceCode = get("service_code")
	if p.ServiceCode == "" {
		add("service_code", "缺少 service_code")
	}
	lat, long := get("lat"), get("long")
	switch {
	case lat != "" && long == "":
		add("long", "lat 与 long 须同时提供")
	case lat == "" && long != "":
		add("lat", "lat 与 long 须同时提供")
	case lat != "":
		y, errY := parseCoord(lat)
		x, errX := parseCoord(long)
		switch {
		case errY != nil || y < -90 || y > 90:
			add("lat", "纬度应为 -90 到 90 之间的数字（WGS84）")
		case errX != nil || x < -180 || x > 180:
			add("long", "经度应为 -180 到 180 之间的数字（WGS84）")
		default:
			p.Point = &geo.Point{Lng: x, Lat: y}
		}
	}
	p.AddressString = get("address_string")
	p.AddressID = get("address_id")
	if lat == "" && long == "" && p.AddressString == "" && p.AddressID == "" {
		add("lat", "须提供位置：lat 与 long、address_string 或 address_id")
	}
	p.FirstName, p.LastName = get("first_name"), get("last_name")
	p.Phone, p.Email = get("phone"), get("email")
	if p.Phone != "" {
		// Phones as people type them (spaces, brackets, +86, full-width
		// digits); one that is still not a phone is dropped with a note,
		// never the report.
		if n, ok := cases.NormalizePhone(p.Phone); ok {
			p.Phone = n
		} else {
			p.Phone, p.PhoneDropped = "", true
		}
	}
	p.DeviceID, p.AccountID = get("device_id"), get("account_id")
	if len(form["description"]) > 0 {
		p.Description = strings.TrimSpace(strings.ReplaceAll(form["description"][0], "\r\n", "\n"))
	}
	if !utf8.ValidString(p.Description) {
		add("description", "描述须为 UTF-8 文本")
	} else if n := utf8.RuneCountInString(p.Description); n > MaxDescription {
		add("description", "描述不能超过"+strconv.Itoa(MaxDescription)+"字（现有"+strconv.Itoa(n)+"字）")
	}
	if m := get("media_url"); m != "" {
		if u, err := url.Parse(m); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m) > 1000 {
			add("media_url", "media_url 应为 http 或 https 的完整网址")
		} else {
			p.MediaURL = u.String()
		}
	}
	attrs, attrProbs := parseAttributes(form)
	p.Attributes = attrs
	probs = append(probs, attrProbs...)
	return p, probs
}

// parseCoord reads a decimal coordinate; NaN and infinities are refused.
func parseCoord(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, strconv.ErrSyntax
	}
	return f, nil
}

// parseAttributes collects attribute[CODE]=v (one value) and
// attribute[CODE][]=v (repeated, a multivaluelist); attribute[CODE][n]=v, as
// some form libraries write lists, counts as the latter, in index order.
// A code given once is a string; a code given in list form, or repeated, is
// a list. Blank values are dropped.
func parseAttributes(form url.Values) (map[string]any, []problem) {
	type item struct {
		idx int
		pos int
		v   string
	}
	single := map[string][]string{}
	multi := map[string][]item{}
	var probs []problem
	keys := make([]string, 0, len(form))
	for k := range form {
		if strings.HasPrefix(k, "attribute[") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pos := 0
	for _, k := range keys {
		code, tail, ok := splitAttribute(k)
		if !ok {
			probs = append(probs, problem{k, "参数格式应为 attribute[编码] 或 attribute[编码][]"})
			continue
		}
		for _, v := range form[k] {
			v = strings.TrimSpace(v)
			pos++
			switch {
			case tail == "":
				if v != "" {
					single[code] = append(single[code], v)
				}
			default:
				idx := -1
				if tail != "[]" {
					idx, _ = strconv.Atoi(tail[1 : len(tail)-1])
				}
				if v != "" {
					multi[code] = append(multi[code], item{idx, pos, v})
				}
			}
		}
	}
	out := map[string]any{}
	for code, vs := range single {
		if len(vs) == 1 && len(multi[code]) == 0 {
			out[code] = vs[0]
			continue
		}
		for _, v := range vs {
			pos++
			multi[code] = append(multi[code], item{-1, pos, v})
		}
	}
	for code, items := range multi {
		sort.SliceStable(items, func(i, j int) bool {
			if items[i].idx != items[j].idx {
				return items[i].idx < items[j].idx
			}
			return items[i].pos < items[j].pos
		})
		vs := make([]string, len(items))
		for i, it := range items {
			vs[i] = it.v
		}
		out[code] = vs
	}
	if len(out) == 0 {
		out = nil
	}
	return out, probs
}

// splitAttribute splits "attribute[CODE]" into CODE and "", and
// "attribute[CODE][]" or "attribute[CODE][3]" into CODE and the brackets.
func splitAttribute(k string) (code, tail string, ok bool) {
	rest, found := strings.CutPrefix(k, "attribute[")
	if !found {
		return "", "", false
	}
	i := strings.IndexByte(rest, ']')
	if i <= 0 {
		return "", "", false
	}
	code, tail = rest[:i], rest[i+1:]
	if strings.ContainsAny(code, "[]") || strings.TrimSpace(code) != code {
		return "", "", false
	}
	switch {
	case tail == "", tail == "[]":
		return code, tail, true
	case len(tail) > 2 && len(tail) <= 6 && tail[0] == '[' && tail[len(tail)-1] == ']':
		for _, r := range tail[1 : len(tail)-1] {
			if r < '0' || r > '9' {
				return "", "", false
			}
		}
		return code, tail, true
	}
	return "", "", false
}

// parseTime reads a W3C date-time (http://www.w3.org/TR/NOTE-datetime) with
// its zone: 2010-01-01T00:00:00Z, with or without seconds and fractions. A
// date alone is midnight in China (+08:00). A "+" that a client left
// unencoded in a query arrives as a space and is read as "+".
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i > 10 {
		s = s[:i] + "+" + s[i+1:]
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// fullName joins a reporter's names as the client shows them: first_name
// then last_name (clients split one name field at its first space, so
// "王 小明" arrives as first 王, last 小明), with no space between two
// parts written in Chinese (王小明) and one space otherwise (Anna Smith,
// 王 Lee).
func fullName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	case endsHan(first) && startsHan(last):
		return first + last
	}
	return first + " " + last
}

func endsHan(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.Is(unicode.Han, r)
}

func startsHan(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.Han, r)
}
