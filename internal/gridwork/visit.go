package gridwork

import (
	"fmt"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
	"zhizhi/internal/textcheck"
)

// Outcome is what became of a need raised on a visit.
type Outcome string

// The outcomes of a need.
const (
	Answered Outcome = "answered"  // 当场答复: answered on the spot
	ToCase   Outcome = "case"      // 转为案件: reported as a case of the grid
	FollowUp Outcome = "follow_up" // 承诺跟进: a follow-up promised by a date
)

// Label is the outcome's Chinese name.
func (o Outcome) Label() string {
	switch o {
	case Answered:
		return "当场答复"
	case ToCase:
		return "转为案件"
	case FollowUp:
		return "承诺跟进"
	}
	return string(o)
}

// Need is one need a household raised on a visit. A need to become a case
// names the category (and may name a severity); the service reports it
// through the case service and keeps the case's ID.
type Need struct {
	Text     string     `json:"text"`
	Outcome  Outcome    `json:"outcome"`
	Answer   string     `json:"answer,omitempty"`   // answered: what was said
	Category string     `json:"category,omitempty"` // case: the category to report under
	CaseID   string     `json:"case_id,omitempty"`  // case: set by the service
	Promise  string     `json:"promise,omitempty"`  // follow_up: what was promised
	Due      *time.Time `json:"due,omitempty"`      // follow_up: by when
}

// VisitInput is a household visit as the phone sends it.
type VisitInput struct {
	ClientRef string     `json:"client_ref"`
	Grid      string     `json:"grid"`
	PlaceID   string     `json:"place_id,omitempty"` // a place of the grid's roster, when it is on it
	PlaceKind PlaceKind  `json:"place_kind"`
	Place     string     `json:"place"` // what was visited, in words (kept even with a place ID)
	At        time.Time  `json:"at"`
	Point     *geo.Point `json:"point,omitempty"` // where the visit was, from the phone (the roster's place point is preferred)
	Needs     []Need     `json:"needs,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// Visit is a stored household visit.
type Visit struct {
	VisitInput
	ID          string    `json:"id"`
	GridPath    string    `json:"grid_path"`
	VisitorID   string    `json:"visitor_id"`
	VisitorName string    `json:"visitor_name"`
	CreatedAt   time.Time `json:"created_at"`
}

// Visit limits.
const (
	MaxNeeds    = 20
	MaxNeedText = 1000
	MaxPlace    = 100
	// MaxVisitRef leaves room in a case's client reference (64) for the
	// suffix -n<need> of the cases a visit's needs become.
	MaxVisitRef = 56
)

// CheckVisit validates a visit: a place of a known kind, a time not in the
// future nor more than 30 days back, and each need with what its outcome
// requires. Every offending field is named.
func CheckVisit(in VisitInput, now time.Time) error {
	var f apperr.Fields
	if in.ClientRef == "" {
		f.Add("client_ref", "缺少走访的客户端编号")
	} else if !validRef(in.ClientRef, MaxVisitRef) {
		f.Addf("client_ref", "客户端编号只能包含字母、数字、下划线和横线，最长%d位", MaxVisitRef)
	}
	if in.Grid == "" {
		f.Add("grid", "请选择网格")
	}
	if !in.PlaceKind.Valid() {
		f.Add("place_kind", "请选择走访对象：住户、商铺、楼栋或重点场所")
	}
	if in.Place == "" && in.PlaceID == "" {
		f.Add("place", "请填写走访的住户、商铺或楼栋")
	} else if utf8.RuneCountInString(in.Place) > MaxPlace {
		f.Addf("place", "走访对象不能超过%d个字符", MaxPlace)
	}
	textcheck.AddLine(&f, "place", in.Place)
	switch {
	case in.At.IsZero():
		f.Add("at", "缺少走访时间")
	case in.At.After(now.Add(5 * time.Minute)):
		f.Add("at", "走访时间不能晚于现在")
	case in.At.Before(now.AddDate(0, 0, -30)):
		f.Add("at", "只能补录30天内的走访")
	}
	if utf8.RuneCountInString(in.Note) > MaxNote {
		f.Addf("note", "备注不能超过%d个字符", MaxNote)
	}
	textcheck.AddBlock(&f, "note", in.Note)
	if in.Point != nil && !in.Point.Valid() {
		f.Add("point", "坐标无效")
	}
	if len(in.Needs) > MaxNeeds {
		f.Addf("needs", "一次走访最多记录%d项诉求", MaxNeeds)
	}
	for i, n := range in.Needs {
		at := func(k string) string { return fmt.Sprintf("needs[%d].%s", i, k) }
		if n.Text == "" {
			f.Add(at("text"), "请填写群众的诉求")
		} else if utf8.RuneCountInString(n.Text) > MaxNeedText {
			f.Addf(at("text"), "诉求不能超过%d个字符", MaxNeedText)
		}
		textcheck.AddBlock(&f, at("text"), n.Text)
		textcheck.AddBlock(&f, at("answer"), n.Answer)
		textcheck.AddBlock(&f, at("promise"), n.Promise)
		if n.CaseID != "" {
			f.Add(at("case_id"), "案件由系统生成，不能指定")
		}
		switch n.Outcome {
		case Answered:
			if n.Answer == "" {
				f.Add(at("answer"), "当场答复的诉求请填写答复内容")
			}
		case ToCase:
			if n.Category == "" {
				f.Add(at("category"), "转为案件的诉求请选择问题类别")
			}
		case FollowUp:
			if n.Promise == "" {
				f.Add(at("promise"), "请填写承诺跟进的事项")
			}
			if n.Due == nil {
				f.Add(at("due"), "请填写跟进期限")
			} else if !n.Due.After(in.At) {
				f.Add(at("due"), "跟进期限应晚于走访时间")
			}
		default:
			f.Add(at("outcome"), "请选择处理方式：当场答复、转为案件或承诺跟进")
		}
		if utf8.RuneCountInString(n.Answer) > MaxNeedText || utf8.RuneCountInString(n.Promise) > MaxNeedText {
			f.Addf(at("answer"), "答复或承诺不能超过%d个字符", MaxNeedText)
		}
	}
	return f.Err()
}
