package enterprise

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/textcheck"
)

// Class is a policy class in a building (楼宇课堂): a session on a topic,
// with speakers (e.g. the district medical-insurance bureau), the
// enterprises invited, the enterprises that signed in on a phone, the
// materials handed out and the questions raised; a question can become a
// request.
type Class struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	Building   string          `json:"building"`
	Place      string          `json:"place,omitempty"`
	RegionPath string          `json:"region_path"` // the street holding it
	At         time.Time       `json:"at"`
	Minutes    int             `json:"minutes"`
	Speakers   []string        `json:"speakers"`
	Invited    []string        `json:"invited,omitempty"` // enterprise IDs
	Materials  []string        `json:"materials,omitempty"`
	Questions  []ClassQuestion `json:"questions,omitempty"`
	CreatedBy  string          `json:"created_by,omitempty"`
}

// ClassQuestion is a question an enterprise raised at a class.
type ClassQuestion struct {
	Seq          int       `json:"seq"`
	EnterpriseID string    `json:"enterprise_id"`
	Enterprise   string    `json:"enterprise"`
	Text         string    `json:"text"`
	At           time.Time `json:"at"`
	RequestID    string    `json:"request_id,omitempty"` // once it became a request
}

// Attendance is an enterprise's sign-in at a class.
type Attendance struct {
	ClassID      string    `json:"class_id"`
	EnterpriseID string    `json:"enterprise_id"`
	Enterprise   string    `json:"enterprise"`
	AccountID    string    `json:"account_id"`
	Name         string    `json:"name"`
	At           time.Time `json:"at"`
}

// SignInEarly is how long before a class its sign-in opens.
const SignInEarly = time.Hour

// Validate checks a class.
func (c Class) Validate() error {
	var f apperr.Fields
	for _, p := range []struct {
		field, v string
		max      int
		need     bool
	}{{"topic", c.Topic, 100, true}, {"building", c.Building, 50, true}, {"place", c.Place, 100, false}} {
		n := len([]rune(strings.TrimSpace(p.v)))
		if p.need && n == 0 {
			f.Add(p.field, "不能为空")
		} else if n > p.max {
			f.Addf(p.field, "不能超过%d字", p.max)
		}
		textcheck.AddLine(&f, p.field, p.v)
	}
	if c.At.IsZero() {
		f.Add("at", "请填写时间")
	}
	if c.Minutes < 15 || c.Minutes > 480 {
		f.Add("minutes", "时长应在15至480分钟之间")
	}
	if len(c.Speakers) == 0 {
		f.Add("speakers", "请至少填写一位主讲单位或主讲人")
	}
	for i, s := range c.Speakers {
		if strings.TrimSpace(s) == "" || len([]rune(s)) > 50 {
			f.Add(fmt.Sprintf("speakers[%d]", i), "主讲不能为空且不超过50字")
		}
		textcheck.AddLine(&f, fmt.Sprintf("speakers[%d]", i), s)
	}
	for i, m := range c.Materials {
		if strings.TrimSpace(m) == "" || len([]rune(m)) > 200 {
			f.Add(fmt.Sprintf("materials[%d]", i), "材料名称不能为空且不超过200字")
		}
		textcheck.AddLine(&f, fmt.Sprintf("materials[%d]", i), m)
	}
	return f.Err()
}

// End is when the class ends.
func (c Class) End() time.Time { return c.At.Add(time.Duration(c.Minutes) * time.Minute) }

// Held reports whether the class has begun by now.
func (c Class) Held(now time.Time) bool { return !now.Before(c.At) }

// CanSignIn says why an enterprise may not sign in now, or "": sign-in is
// open from an hour before the class until its end, to invited enterprises
// (any enterprise of the street when nobody was invited by name).
func (c Class) CanSignIn(enterpriseID string, now time.Time) string {
	if now.Before(c.At.Add(-SignInEarly)) {
		return "签到尚未开始（开课前1小时开放）"
	}
	if now.After(c.End()) {
		return "课堂已结束，不能签到"
	}
	if len(c.Invited) > 0 && !slices.Contains(c.Invited, enterpriseID) {
		return "本企业不在受邀名单中"
	}
	return ""
}

// Raise adds a question an enterprise raised.
func Raise(c Class, enterpriseID, enterprise, text string, now time.Time) (Class, error) {
	if err := checkText("text", text); err != nil {
		return c, err
	}
	q := ClassQuestion{Seq: len(c.Questions) + 1, EnterpriseID: enterpriseID, Enterprise: enterprise, Text: strings.TrimSpace(text), At: now}
	c.Questions = append(append([]ClassQuestion(nil), c.Questions...), q)
	return c, nil
}

// Promote marks question seq as having become request requestID.
func Promote(c Class, seq int, requestID string) (Class, ClassQuestion, error) {
	for i, q := range c.Questions {
		if q.Seq != seq {
			continue
		}
		if q.RequestID != "" {
			return c, q, apperr.Field("question", "该问题已转为诉求")
		}
		c.Questions = append([]ClassQuestion(nil), c.Questions...)
		c.Questions[i].RequestID = requestID
		return c, c.Questions[i], nil
	}
	return c, ClassQuestion{}, apperr.Field("question", "没有这个问题")
}
