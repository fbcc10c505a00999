package notify

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
)

// Prefs are one person's choices. The zero value is the default: every
// kind, by inbox and Web Push, no SMS, no quiet hours.
type Prefs struct {
	// Off lists the kinds the person does not want. An urgent notification
	// (a red clock, a whistle) still reaches the inbox, never the phone.
	Off []Kind `json:"off,omitempty"`
	// NoPush turns Web Push off; SMS turns text messages to the account's
	// phone on (they cost the operator money: off unless asked for).
	NoPush bool `json:"no_push,omitempty"`
	SMS    bool `json:"sms,omitempty"`
	// QuietFrom and QuietTo ("22:00", "07:30", local time) hold back push
	// and SMS of non-urgent notifications; empty: no quiet hours. The inbox
	// is silent and always gets them at once.
	QuietFrom string `json:"quiet_from,omitempty"`
	QuietTo   string `json:"quiet_to,omitempty"`
}

// Validate checks the preferences, naming each wrong field.
func (p Prefs) Validate() error {
	var f apperr.Fields
	for i, k := range p.Off {
		if !slices.Contains(Kinds, k) {
			f.Addf(fmt.Sprintf("off[%d]", i), "未知的提醒类型")
		}
	}
	from, errFrom := clockMinutes(p.QuietFrom)
	to, errTo := clockMinutes(p.QuietTo)
	if errFrom != nil {
		f.Add("quiet_from", "免打扰开始时间应为“时:分”，如 22:00")
	}
	if errTo != nil {
		f.Add("quiet_to", "免打扰结束时间应为“时:分”，如 07:30")
	}
	if errFrom == nil && errTo == nil {
		if (p.QuietFrom == "") != (p.QuietTo == "") {
			f.Add("quiet_to", "免打扰的开始和结束时间须同时填写或同时留空")
		} else if p.QuietFrom != "" && from == to {
			f.Add("quiet_to", "免打扰的结束时间不能与开始时间相同")
		}
	}
	return f.Err()
}

// clockMinutes parses "HH:MM" into minutes after midnight; "" is -1.
func clockMinutes(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Wants reports whether the person gets a notification of kind k in the
// inbox: every kind not turned off, and urgent ones always.
func (p Prefs) Wants(k Kind, urgent bool) bool {
	return urgent || !slices.Contains(p.Off, k)
}

// Channel is a way a notification leaves the platform.
type Channel string

// The outbound channels (the inbox is the notification row itself).
const (
	Push Channel = "push"
	SMS  Channel = "sms"
)

// Channels returns the outbound channels a notification of kind k takes
// for this person: none for a kind turned off (even an urgent one: the
// person chose, and it is in the inbox).
func (p Prefs) Channels(k Kind) []Channel {
	if slices.Contains(p.Off, k) {
		return nil
	}
	var out []Channel
	if !p.NoPush {
		out = append(out, Push)
	}
	if p.SMS {
		out = append(out, SMS)
	}
	return out
}

// SendAt is when a push or SMS of a notification made at now may go out:
// now, or for a non-urgent one in quiet hours the end of them (local time
// in loc; quiet hours may run past midnight).
func (p Prefs) SendAt(now time.Time, urgent bool, loc *time.Location) time.Time {
	from, err1 := clockMinutes(p.QuietFrom)
	to, err2 := clockMinutes(p.QuietTo)
	if urgent || err1 != nil || err2 != nil || from < 0 || to < 0 || from == to {
		return now
	}
	l := now.In(loc)
	m := l.Hour()*60 + l.Minute()
	var quiet bool
	if from < to {
		quiet = m >= from && m < to
	} else {
		quiet = m >= from || m < to
	}
	if !quiet {
		return now
	}
	end := time.Date(l.Year(), l.Month(), l.Day(), to/60, to%60, 0, 0, loc)
	if !end.After(l) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// Gateway is the operator's outbound SMS (or 政务 messaging) gateway: each
// message is a POST of JSON {"phone", "text", "kind", "id"} to URL with an
// optional authorization header; any 2xx is accepted.
type Gateway struct {
	URL        string `json:"url"`
	AuthHeader string `json:"auth_header,omitempty"` // e.g. Authorization
	AuthValue  string `json:"auth_value,omitempty"`  // e.g. Bearer …; never shown back in full
	// BaseURL is the platform's public address, for links in messages
	// (the resident page).
	BaseURL string `json:"base_url,omitempty"`
	// Templates per kind; {number}, {title}, {category}, {link} are
	// replaced. A kind without a template uses DefaultTemplates.
	Templates map[Kind]string `json:"templates,omitempty"`
}

// DefaultTemplates are the texts used when the operator sets none.
var DefaultTemplates = map[Kind]string{
	ResidentAccepted:   "【智治】您反映的问题（编号{number}）已受理，我们将尽快安排处置。",
	ResidentRejected:   "【智治】您反映的问题（编号{number}）不予受理，详情可查询：{link}",
	ResidentDispatched: "【智治】您反映的问题（编号{number}）已派遣至承办单位处置。",
	ResidentClosed:     "【智治】您反映的问题（编号{number}）已办结，请对处理结果进行评价：{link}",
}

// Enabled reports whether a gateway is configured.
func (g Gateway) Enabled() bool { return g.URL != "" }

// Validate checks the settings, naming each wrong field.
func (g Gateway) Validate() error {
	var f apperr.Fields
	if g.URL != "" {
		u, err := url.Parse(g.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			f.Add("url", "短信网关地址应为 http:// 或 https:// 开头的完整网址")
		}
	}
	if g.BaseURL != "" {
		u, err := url.Parse(g.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			f.Add("base_url", "平台对外地址应为 http:// 或 https:// 开头的网址，不带路径")
		}
	} else if g.URL != "" {
		f.Add("base_url", "请填写平台对外地址，短信中的链接需要它")
	}
	if (g.AuthHeader == "") != (g.AuthValue == "") {
		f.Add("auth_header", "认证头的名称和值须同时填写或同时留空")
	} else if g.AuthHeader != "" && (strings.ContainsAny(g.AuthHeader, " :\r\n") || strings.ContainsAny(g.AuthValue, "\r\n")) {
		f.Add("auth_header", "认证头名称不能含空格、冒号或换行")
	}
	for k, t := range g.Templates {
		field := "templates." + string(k)
		if !k.Valid() {
			f.Add(field, "未知的消息类型")
			continue
		}
		if strings.TrimSpace(t) == "" {
			f.Add(field, "模板不能为空；不需要自定义时请删除该项")
			continue
		}
		if n := len([]rune(t)); n > 300 {
			f.Add(field, "模板过长（最多300字）")
		}
		if bad := unknownPlaceholder(t); bad != "" {
			f.Add(field, "模板中的占位符“"+bad+"”无法识别，可用 {number} {title} {category} {link}")
		}
	}
	return f.Err()
}

var placeholders = []string{"{number}", "{title}", "{category}", "{link}"}

func unknownPlaceholder(t string) string {
	rest := t
	for {
		i := strings.Index(rest, "{")
		if i < 0 {
			return ""
		}
		j := strings.Index(rest[i:], "}")
		if j < 0 {
			return rest[i:]
		}
		ph := rest[i : i+j+1]
		if !slices.Contains(placeholders, ph) {
			return ph
		}
		rest = rest[i+j+1:]
	}
}

// Text renders the SMS of an event with the gateway's template.
func (g Gateway) Text(e Event) string {
	t, ok := g.Templates[e.Kind]
	if !ok {
		t, ok = DefaultTemplates[e.Kind]
	}
	if !ok {
		t = "【智治】{title}"
	}
	link := strings.TrimSuffix(g.BaseURL, "/")
	if e.Kind.Resident() {
		link += "/r/follow?number=" + url.QueryEscape(e.Number)
	} else {
		link += e.Link
	}
	return strings.NewReplacer("{number}", e.Number, "{title}", e.Title, "{category}", e.Category, "{link}", link).Replace(t)
}

// Redacted returns the settings as shown back: the auth value masked.
func (g Gateway) Redacted() Gateway {
	if g.AuthValue != "" {
		g.AuthValue = "******"
	}
	return g
}

// Backoff is how long the delivery's attempt-th failure waits before the
// next try: 30 s doubling, at most an hour.
func Backoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// MaxAttempts is how many times a delivery is tried before it is given up.
const MaxAttempts = 8
