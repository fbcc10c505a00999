package enterprise

import (
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/textcheck"
)

// DefaultContactLimit is how soon the liaison must contact the enterprise
// after a request: four working hours on the official calendar.
var DefaultContactLimit = sla.Limit{Amount: 4, Unit: sla.WorkHours}

// DefaultAnswerLimit is the answer limit of a request in the enterprise's own
// words (no service picked): five working days.
var DefaultAnswerLimit = sla.Limit{Amount: 5, Unit: sla.WorkDays}

// Request is an enterprise's service request (企业诉求) on the one form. Its
// handling is the case CaseID on the economic-development board; the request
// holds the three levels' follow-up: the liaison's contact clock, the answer
// clock of the service's limit, the questions put to the enterprise and its
// answers, and the escalation to the street leader.
type Request struct {
	ID           string         `json:"id"`
	EnterpriseID string         `json:"enterprise_id"`
	Enterprise   string         `json:"enterprise"` // its name when asked
	Service      string         `json:"service,omitempty"`
	ServiceName  string         `json:"service_name,omitempty"`
	Color        Color          `json:"color,omitempty"`
	UnitID       string         `json:"unit_id,omitempty"` // the service's unit, the case's suggested lead
	Words        string         `json:"words"`
	Answers      map[string]any `json:"answers,omitempty"`
	CaseID       string         `json:"case_id"`
	CaseNumber   string         `json:"case_number"`
	AccountID    string         `json:"account_id"` // who asked
	AccountName  string         `json:"account_name"`
	LiaisonID    string         `json:"liaison_id"`
	LeaderID     string         `json:"leader_id"`
	RegionPath   string         `json:"region_path"`
	ClassID      string         `json:"class_id,omitempty"` // raised at a policy class
	CreatedAt    time.Time      `json:"created_at"`
	Contact      sla.Clock      `json:"contact"` // the liaison's clock
	Answer       sla.Clock      `json:"answer"`  // the service's limit, until the unit answers
	ContactedAt  time.Time      `json:"contacted_at,omitzero"`
	ContactNote  string         `json:"contact_note,omitempty"`
	AnsweredAt   time.Time      `json:"answered_at,omitzero"`
	EscalatedAt  time.Time      `json:"escalated_at,omitzero"`
	Escalation   string         `json:"escalation,omitempty"` // why it went to the leader
	Notes        []Note         `json:"notes,omitempty"`
	Rating       cases.Rating   `json:"rating,omitempty"`
}

// NoteKind is what a note on a request is.
type NoteKind string

// The notes on a request.
const (
	NoteContact  NoteKind = "contact"  // 联络员联系企业
	NoteQuestion NoteKind = "question" // 向企业提问（补充材料）
	NoteAnswer   NoteKind = "answer"   // 企业答复
	NoteEscalate NoteKind = "escalate" // 超时提级至街道领导
	NoteLeader   NoteKind = "leader"   // 街道领导批示
)

// Label is the note kind's Chinese name.
func (k NoteKind) Label() string {
	switch k {
	case NoteContact:
		return "联络员联系企业"
	case NoteQuestion:
		return "向企业提问"
	case NoteAnswer:
		return "企业答复"
	case NoteEscalate:
		return "超时提级"
	case NoteLeader:
		return "街道领导批示"
	}
	return string(k)
}

// Note is one step of the follow-up outside the case.
type Note struct {
	Seq       int       `json:"seq"`
	Kind      NoteKind  `json:"kind"`
	At        time.Time `json:"at"`
	ActorID   string    `json:"actor_id,omitempty"`
	ActorName string    `json:"actor_name"`
	Text      string    `json:"text"`
	Reply     int       `json:"reply,omitempty"` // an answer: the question's seq
}

// Level is one of the three levels that follow a request.
type Level string

// The three levels, and nobody.
const (
	LevelEnterprise Level = "enterprise" // the enterprise's own people
	LevelLiaison    Level = "liaison"    // the section liaison assigned to it
	LevelLeader     Level = "leader"     // the street leader assigned to it
	LevelNone       Level = ""
)

// Open starts a request: its contact clock and its answer clock run on the
// official calendar from now. The caller has validated the words and
// answers and supplies the case.
func Open(r Request, svc *Service, cal *calendar.Calendar, contact sla.Limit, now time.Time) Request {
	answer := DefaultAnswerLimit
	if svc != nil {
		r.Service, r.ServiceName, r.Color, r.UnitID = svc.Code, svc.Name, svc.Color, svc.UnitID
		answer = svc.Limit
	}
	if contact.Amount == 0 {
		contact = DefaultContactLimit
	}
	r.CreatedAt = now
	r.Contact = sla.Start(cal, now, contact, 0)
	r.Answer = sla.Start(cal, now, answer, 0)
	return r
}

// CheckWords validates the enterprise's own words on the form.
func CheckWords(words string, needService bool, service string) error {
	var f apperr.Fields
	w := strings.TrimSpace(words)
	if w == "" {
		f.Add("words", "请说明需要什么服务")
	} else if len([]rune(w)) > 2000 {
		f.Add("words", "不能超过2000字")
	}
	textcheck.AddBlock(&f, "words", words)
	if needService && service == "" {
		f.Add("service", "请选择服务事项")
	}
	return f.Err()
}

// ContactBy records the liaison's contact with the enterprise and stops the
// contact clock. Only the request's liaison contacts, once.
func ContactBy(r Request, actorID, name, text string, now time.Time) (Request, error) {
	if actorID != r.LiaisonID {
		return r, apperr.New(apperr.Forbidden, "只有该企业的联络员可以登记联系")
	}
	if !r.ContactedAt.IsZero() {
		return r, apperr.New(apperr.Refused, "已登记过联系企业")
	}
	if err := checkText("text", text); err != nil {
		return r, err
	}
	r.ContactedAt, r.ContactNote = now, strings.TrimSpace(text)
	r.Contact, _ = r.Contact.Stop(now)
	return addNote(r, Note{Kind: NoteContact, At: now, ActorID: actorID, ActorName: name, Text: r.ContactNote}), nil
}

// Ask puts a question to the enterprise (the liaison or the leader).
func Ask(r Request, level Level, actorID, name, text string, now time.Time) (Request, error) {
	if level != LevelLiaison && level != LevelLeader {
		return r, apperr.New(apperr.Forbidden, "只有联络员或街道领导可以向企业提问")
	}
	if err := checkText("text", text); err != nil {
		return r, err
	}
	kind := NoteQuestion
	return addNote(r, Note{Kind: kind, At: now, ActorID: actorID, ActorName: name, Text: strings.TrimSpace(text)}), nil
}

// Reply is the enterprise's answer to one of the questions put to it.
func Reply(r Request, level Level, actorID, name string, question int, text string, now time.Time) (Request, error) {
	if level != LevelEnterprise {
		return r, apperr.New(apperr.Forbidden, "只有本企业可以答复")
	}
	found := false
	for _, n := range r.Notes {
		if n.Seq == question && n.Kind == NoteQuestion {
			found = true
		}
		if n.Kind == NoteAnswer && n.Reply == question {
			return r, apperr.Field("question", "该问题已经答复")
		}
	}
	if !found {
		return r, apperr.Field("question", "没有这个问题")
	}
	if err := checkText("text", text); err != nil {
		return r, err
	}
	return addNote(r, Note{Kind: NoteAnswer, At: now, ActorID: actorID, ActorName: name, Text: strings.TrimSpace(text), Reply: question}), nil
}

// Pending returns the questions the enterprise has not answered yet.
func (r Request) Pending() []Note {
	answered := map[int]bool{}
	for _, n := range r.Notes {
		if n.Kind == NoteAnswer {
			answered[n.Reply] = true
		}
	}
	var out []Note
	for _, n := range r.Notes {
		if n.Kind == NoteQuestion && !answered[n.Seq] {
			out = append(out, n)
		}
	}
	return out
}

// Answered records that the unit answered (the case was fed back or closed)
// at t, stopping the answer clock. It is idempotent.
func Answered(r Request, t time.Time) Request {
	if !r.AnsweredAt.IsZero() {
		return r
	}
	r.AnsweredAt = t
	r.Answer, _ = r.Answer.Stop(t)
	return r
}

// Due says whether the request must go to the street leader now, and why:
// the liaison has not contacted the enterprise within the contact limit, or
// the request is unanswered past the service's limit. An escalated request
// is not escalated again.
func Due(r Request, now time.Time) (string, bool) {
	if !r.EscalatedAt.IsZero() {
		return "", false
	}
	if r.AnsweredAt.IsZero() && r.Answer.Overdue(now) {
		return "超过办理时限（" + r.Answer.Limit.String() + "）仍未答复，提级至街道领导", true
	}
	if r.ContactedAt.IsZero() && r.Contact.Overdue(now) {
		return "联络员超过" + r.Contact.Limit.String() + "未联系企业，提级至街道领导", true
	}
	return "", false
}

// Escalate sends the request to the street leader.
func Escalate(r Request, reason string, now time.Time) Request {
	r.EscalatedAt, r.Escalation = now, reason
	return addNote(r, Note{Kind: NoteEscalate, At: now, ActorName: "系统", Text: reason})
}

// LevelOf says at which level an account follows the request's enterprise.
func LevelOf(e Enterprise, accountID string, member bool) Level {
	switch {
	case member:
		return LevelEnterprise
	case accountID != "" && accountID == e.LiaisonID:
		return LevelLiaison
	case accountID != "" && accountID == e.LeaderID:
		return LevelLeader
	}
	return LevelNone
}

// Stage is the request's headline for the enterprise's page.
func (r Request) Stage(c cases.State) string {
	switch {
	case r.Rating != "":
		return "已评价"
	case c == cases.Closed:
		return "已办结，待评价"
	case c == cases.Rejected:
		return "不予受理"
	case !r.AnsweredAt.IsZero():
		return "已答复"
	case !r.EscalatedAt.IsZero():
		return "已提级街道领导"
	case !r.ContactedAt.IsZero():
		return "办理中"
	}
	return "待联络员联系"
}

func addNote(r Request, n Note) Request {
	n.Seq = len(r.Notes) + 1
	r.Notes = append(append([]Note(nil), r.Notes...), n)
	return r
}

func checkText(field, s string) error {
	var f apperr.Fields
	t := strings.TrimSpace(s)
	if t == "" {
		f.Add(field, "请填写内容")
	} else if len([]rune(t)) > 1000 {
		f.Add(field, "不能超过1000字")
	}
	textcheck.AddBlock(&f, field, s)
	return f.Err()
}
