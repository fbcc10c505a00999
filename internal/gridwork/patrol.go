package gridwork

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/textcheck"
)

// PatrolUpload is what the phone sends once a patrol ends: the grid, when
// it started and ended, the fixes it sampled, and the client's own ID for
// the patrol (sending it again stores nothing new).
type PatrolUpload struct {
	ClientRef string    `json:"client_ref"`
	Grid      string    `json:"grid"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Fixes     []Fix     `json:"fixes"`
	Note      string    `json:"note,omitempty"`
	// ReportRefs are the client references of the reports the worker
	// made on the patrol (source patrol, through the case service, sent
	// before the patrol); the service keeps their cases' IDs.
	ReportRefs []string `json:"report_refs,omitempty"`
}

// Patrol is a stored patrol.
type Patrol struct {
	ID         string    `json:"id"`
	ClientRef  string    `json:"client_ref"`
	GridCode   string    `json:"grid_code"`
	GridPath   string    `json:"grid_path"`
	WorkerID   string    `json:"worker_id"`
	WorkerName string    `json:"worker_name"`
	StartedAt  time.Time `json:"started_at"`
	EndedAt    time.Time `json:"ended_at"`
	Seconds    int64     `json:"seconds"`  // duration
	Meters     float64   `json:"meters"`   // distance along the cleaned track
	Points     int       `json:"points"`   // fixes kept after thinning
	Track      string    `json:"track"`    // EncodeTrack of the thinned fixes
	Cells      []int     `json:"cells"`    // the grid's cells the track passed through
	CaseIDs    []string  `json:"case_ids"` // reports made on it
	Note       string    `json:"note,omitempty"`
	Counted    bool      `json:"counted"` // long enough to count toward the grid's plan
	CreatedAt  time.Time `json:"created_at"`
}

// Patrol limits.
const (
	MaxPatrol    = 12 * time.Hour
	MaxClientRef = 64
	MaxNote      = 500
	MaxCases     = 50
	minFixes     = 2
)

// NewPatrol validates an upload and builds the patrol: the fixes are
// cleaned (Clean), measured, matched against the grid's cells and thinned
// for storage. Identity, worker and grid path are the caller's to set.
// Every offending field is named; nothing is built from bad input.
func NewPatrol(in PatrolUpload, cells Cells, plan Plan, now time.Time) (Patrol, error) {
	var f apperr.Fields
	if in.ClientRef == "" {
		f.Add("client_ref", "缺少巡查的客户端编号")
	} else if !validRef(in.ClientRef, MaxClientRef) {
		f.Addf("client_ref", "客户端编号只能包含字母、数字、下划线和横线，最长%d位", MaxClientRef)
	}
	if in.Grid == "" {
		f.Add("grid", "请选择巡查的网格")
	}
	switch {
	case in.StartedAt.IsZero():
		f.Add("started_at", "缺少开始时间")
	case in.EndedAt.IsZero():
		f.Add("ended_at", "缺少结束时间")
	case !in.EndedAt.After(in.StartedAt):
		f.Add("ended_at", "结束时间应晚于开始时间")
	case in.EndedAt.Sub(in.StartedAt) > MaxPatrol:
		f.Add("ended_at", "一次巡查不能超过12小时")
	case in.EndedAt.After(now.Add(5 * time.Minute)):
		f.Add("ended_at", "结束时间不能晚于现在")
	}
	if len(in.Fixes) > MaxFixes {
		f.Addf("fixes", "轨迹点不能超过%d个", MaxFixes)
	}
	if utf8.RuneCountInString(in.Note) > MaxNote {
		f.Addf("note", "备注不能超过%d个字符", MaxNote)
	}
	textcheck.AddBlock(&f, "note", in.Note)
	if len(in.ReportRefs) > MaxCases {
		f.Addf("report_refs", "一次巡查最多关联%d件上报", MaxCases)
	}
	for i, r := range in.ReportRefs {
		if !validRef(r, MaxClientRef) {
			f.Addf(fmt.Sprintf("report_refs[%d]", i), "上报的客户端编号只能包含字母、数字、下划线和横线，最长%d位", MaxClientRef)
		}
	}
	var kept []Fix
	if f.Empty() {
		var within []Fix
		for _, x := range in.Fixes {
			if !x.At.Before(in.StartedAt.Add(-time.Minute)) && !x.At.After(in.EndedAt.Add(time.Minute)) {
				within = append(within, x)
			}
		}
		kept = Clean(within)
		if len(kept) < minFixes {
			f.Add("fixes", "有效轨迹点太少，请打开定位后重新巡查")
		}
	}
	if err := f.Err(); err != nil {
		return Patrol{}, err
	}
	thin := Thin(kept, ThinTolerance)
	p := Patrol{
		ClientRef: in.ClientRef, GridCode: in.Grid,
		StartedAt: in.StartedAt.UTC(), EndedAt: in.EndedAt.UTC(),
		Seconds: int64(in.EndedAt.Sub(in.StartedAt) / time.Second),
		Meters:  math.Round(Length(kept)*10) / 10,
		Points:  len(thin), Track: EncodeTrack(thin), Cells: cells.Touched(kept),
		CaseIDs: []string{}, Note: in.Note, CreatedAt: now.UTC(),
	}
	if p.Cells == nil {
		p.Cells = []int{}
	}
	p.Counted = plan.Counts(in.EndedAt.Sub(in.StartedAt))
	return p, nil
}

// validRef reports whether a client reference is 1 to n letters, digits,
// underscores and hyphens (the case service's rule for client_ref).
func validRef(s string, n int) bool {
	if s == "" || len(s) > n {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
