package leaders

import (
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/textcheck"
)

// Cadre training (the seed's 红色三岩学院 and targeted training): courses
// on a topic, sessions of a course with trainers and the cadres attending,
// and a cadre's practical postings (多岗位历练).

// Course is a training course.
type Course struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Topic     string    `json:"topic"`              // e.g. 数字化转型, 项目融资
	Provider  string    `json:"provider,omitempty"` // e.g. 红色三岩学院
	Hours     int       `json:"hours"`              // class hours a session gives each attendee
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks a course.
func (c *Course) Validate() error {
	var f apperr.Fields
	c.Title, c.Topic, c.Provider = strings.TrimSpace(c.Title), strings.TrimSpace(c.Topic), strings.TrimSpace(c.Provider)
	if n := len([]rune(c.Title)); n == 0 || n > 100 {
		f.Add("title", "课程名称不能为空且不超过100字")
	}
	if n := len([]rune(c.Topic)); n == 0 || n > 50 {
		f.Add("topic", "请填写培训主题（不超过50字）")
	}
	if len([]rune(c.Provider)) > 100 {
		f.Add("provider", "承办机构不能超过100字")
	}
	if c.Hours < 1 || c.Hours > 200 {
		f.Add("hours", "学时应在1至200之间")
	}
	textcheck.AddLine(&f, "title", c.Title)
	textcheck.AddLine(&f, "topic", c.Topic)
	textcheck.AddLine(&f, "provider", c.Provider)
	return f.Err()
}

// Session is one run of a course, with its trainers and attendees.
type Session struct {
	ID         string    `json:"id"`
	CourseID   string    `json:"course_id"`
	At         time.Time `json:"at"`
	Place      string    `json:"place"`
	Trainers   []string  `json:"trainers"`
	Attendees  []string  `json:"attendees"` // account IDs of the cadres attending
	RegionPath string    `json:"region_path"`
	CreatedAt  time.Time `json:"created_at"`
}

// MaxAttendees is the most cadres one session records.
const MaxAttendees = 500

// Validate checks a session's own fields; the service checks the course
// and the accounts.
func (s *Session) Validate() error {
	var f apperr.Fields
	if s.CourseID == "" {
		f.Add("course_id", "请选择课程")
	}
	if s.At.IsZero() {
		f.Add("at", "请填写培训时间")
	}
	s.Place = strings.TrimSpace(s.Place)
	if n := len([]rune(s.Place)); n == 0 || n > 100 {
		f.Add("place", "请填写培训地点（不超过100字）")
	}
	textcheck.AddLine(&f, "place", s.Place)
	if len(s.Trainers) == 0 {
		f.Add("trainers", "请填写授课人")
	}
	for i, t := range s.Trainers {
		s.Trainers[i] = strings.TrimSpace(t)
		if s.Trainers[i] == "" || len([]rune(t)) > 50 {
			f.Add(fieldAt("trainers", i), "授课人姓名不能为空且不超过50字")
		}
		textcheck.AddLine(&f, fieldAt("trainers", i), t)
	}
	if len(s.Attendees) == 0 {
		f.Add("attendees", "请选择参训干部")
	}
	if len(s.Attendees) > MaxAttendees {
		f.Addf("attendees", "一期培训最多记录%d人", MaxAttendees)
	}
	for i, a := range s.Attendees {
		if a == "" || slices.Index(s.Attendees, a) < i {
			f.Add(fieldAt("attendees", i), "参训干部不能为空或重复")
		}
	}
	return f.Err()
}

// Posting is a cadre's practical posting (多岗位历练) for a period.
type Posting struct {
	ID         string    `json:"id"`
	CadreID    string    `json:"cadre_id"`
	Post       string    `json:"post"` // e.g. 石油路街道新影村社区第一书记
	RegionPath string    `json:"region_path"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Note       string    `json:"note,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Validate checks a posting.
func (p *Posting) Validate() error {
	var f apperr.Fields
	if p.CadreID == "" {
		f.Add("cadre_id", "请选择干部")
	}
	p.Post = strings.TrimSpace(p.Post)
	if n := len([]rune(p.Post)); n == 0 || n > 100 {
		f.Add("post", "请填写历练岗位（不超过100字）")
	}
	textcheck.AddLine(&f, "post", p.Post)
	checkPeriod(&f, p.From, p.To)
	checkNote(&f, "note", p.Note, 500)
	return f.Err()
}
