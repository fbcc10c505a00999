package gridwork

import (
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/textcheck"
)

// The residents' door per grid (有事找小杨, GridDoor): a public link of each
// grid to a form without an account. A resident's message reaches the
// grid's worker, who answers it directly, turns it into a case of the grid
// (solved on the spot or reported), or blocks it when it is abusive. The
// resident follows the answer by the link they got.

// MessageState is where a residents' message stands.
type MessageState string

// The states of a message.
const (
	Waiting     MessageState = "waiting"  // 待回复
	Replied     MessageState = "answered" // 已回复
	MadeCase    MessageState = "case"     // 已转案件
	Blocked     MessageState = "blocked"  // 已屏蔽
	ReplyWithin              = 24 * time.Hour
)

// Label is the state's Chinese name.
func (s MessageState) Label() string {
	switch s {
	case Waiting:
		return "待回复"
	case Replied:
		return "已回复"
	case MadeCase:
		return "已转为案件"
	case Blocked:
		return "已屏蔽"
	}
	return string(s)
}

// MessageInput is what a resident writes through a grid's door.
type MessageInput struct {
	Name  string     `json:"name,omitempty"`
	Phone string     `json:"phone"`
	Text  string     `json:"text"`
	Point *geo.Point `json:"point,omitempty"`
	// Photos the resident added (sent with the form, stored by content
	// hash like a report's), at most MaxMessagePhotos.
	Photos []cases.Photo `json:"photos,omitempty"`
}

// MaxMessagePhotos bounds a message's photos: as many as a report takes.
const MaxMessagePhotos = 9

// Message is a stored residents' message.
type Message struct {
	MessageInput
	ID         string       `json:"id"`
	GridCode   string       `json:"grid_code"`
	GridPath   string       `json:"grid_path"`
	State      MessageState `json:"state"`
	Held       bool         `json:"held,omitempty"` // came past the door's soft thresholds (a flood)
	Answer     string       `json:"answer,omitempty"`
	AnsweredBy string       `json:"answered_by,omitempty"` // the worker's name
	AnsweredID string       `json:"answered_id,omitempty"` // the worker's account (set by the service)
	AnsweredAt time.Time    `json:"answered_at,omitzero"`
	CaseID     string       `json:"case_id,omitempty"`
	CaseNumber string       `json:"case_number,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
}

// MaxMessage bounds a message's text.
const MaxMessage = 1000

// CheckMessage validates a resident's message: the text and a phone to
// call back are required.
func CheckMessage(in MessageInput) error {
	var f apperr.Fields
	if in.Text == "" {
		f.Add("text", "请写下您要反映的事情")
	} else if utf8.RuneCountInString(in.Text) > MaxMessage {
		f.Addf("text", "留言不能超过%d个字", MaxMessage)
	}
	textcheck.AddBlock(&f, "text", in.Text)
	if in.Phone == "" {
		f.Add("phone", "请留下联系电话，以便网格员联系您")
	} else if !validPhone(in.Phone) {
		f.Add("phone", "电话号码格式不正确")
	}
	if utf8.RuneCountInString(in.Name) > MaxName {
		f.Addf("name", "称呼不能超过%d个字", MaxName)
	}
	textcheck.AddLine(&f, "name", in.Name)
	if in.Point != nil && !in.Point.Valid() {
		f.Add("point", "位置无效")
	}
	if len(in.Photos) > MaxMessagePhotos {
		f.Addf("photos", "照片最多%d张", MaxMessagePhotos)
	}
	return f.Err()
}

// Reply answers a waiting message.
func Reply(m Message, text, by string, now time.Time) (Message, error) {
	if m.State != Waiting {
		return m, apperr.New(apperr.Refused, "这条留言已经"+m.State.Label())
	}
	var f apperr.Fields
	if text == "" {
		f.Add("answer", "请填写回复内容")
	} else if utf8.RuneCountInString(text) > MaxMessage {
		f.Addf("answer", "回复不能超过%d个字", MaxMessage)
	}
	textcheck.AddBlock(&f, "answer", text)
	if err := f.Err(); err != nil {
		return m, err
	}
	m.State, m.Answer, m.AnsweredBy, m.AnsweredAt = Replied, text, by, now
	return m, nil
}

// ToCaseOf records the case a waiting message became; note is what was
// done when it was solved on the spot.
func ToCaseOf(m Message, c cases.Case, note, by string, now time.Time) (Message, error) {
	if m.State != Waiting {
		return m, apperr.New(apperr.Refused, "这条留言已经"+m.State.Label())
	}
	m.State, m.CaseID, m.CaseNumber, m.AnsweredBy, m.AnsweredAt = MadeCase, c.ID, c.Number, by, now
	if c.OnSpot {
		m.Answer = "已现场解决"
		if note != "" {
			m.Answer += "：" + note
		}
	} else {
		m.Answer = "已作为案件上报，编号 " + c.Number + "，请留意处理进展"
	}
	return m, nil
}

// Block marks a waiting message as abusive: its phone may write to the
// grid no more.
func Block(m Message, by string, now time.Time) (Message, error) {
	if m.State != Waiting {
		return m, apperr.New(apperr.Refused, "这条留言已经"+m.State.Label())
	}
	m.State, m.AnsweredBy, m.AnsweredAt = Blocked, by, now
	return m, nil
}

// InTime reports whether a message was answered (or made a case) within
// the limit.
func (m Message) InTime(limit time.Duration) bool {
	return (m.State == Replied || m.State == MadeCase) && !m.AnsweredAt.After(m.CreatedAt.Add(limit))
}

// Public is the message as its resident sees it by their link: their own
// words, the state and the answer, the worker's name; their phone masked.
func (m Message) Public() Message {
	m.Phone = cases.MaskPhone(m.Phone)
	m.GridPath = ""
	return m
}
