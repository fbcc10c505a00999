// Package operation holds big-event operations (大型活动, scenario S3): an
// operation's areas with their crowd thresholds and the people on duty, the
// prepared tasks released at set moments or when an area goes red, the
// state machine of an area's crowd level and of its restoration, and the
// after-event report. It is pure: times come from the caller.
package operation

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
	"zhizhi/internal/textcheck"
)

// Level is an area's crowd level against its thresholds.
type Level string

// The levels.
const (
	Green  Level = "green"  // below yellow
	Yellow Level = "yellow" // at or above yellow
	Red    Level = "red"    // at or above red
)

// Label is the level's Chinese name.
func (l Level) Label() string {
	switch l {
	case Yellow:
		return "黄色预警"
	case Red:
		return "红色预警"
	}
	return "正常"
}

func (l Level) rank() int {
	switch l {
	case Yellow:
		return 1
	case Red:
		return 2
	}
	return 0
}

// Hysteresis is the share below a threshold the crowd must fall before an
// area's level goes down: a count hovering on a line does not flap the board.
const Hysteresis = 0.05

// Duty is one person on duty in an area.
type Duty struct {
	Unit  string `json:"unit,omitempty"` // the unit's ID
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"` // 现场指挥, 安保, 保洁…
	Phone string `json:"phone,omitempty"`
}

// Area is one area of an operation: a polygon on the map, the sensor area
// its crowd counters are summed in, and its capacity thresholds.
type Area struct {
	Key    string           `json:"key"` // the devices' area (sensors.Device.Area), e.g. jfb-square
	Name   string           `json:"name"`
	Shape  geo.MultiPolygon `json:"shape"` // GeoJSON Polygon or MultiPolygon
	Yellow float64          `json:"yellow"`
	Red    float64          `json:"red"`
	Duty   []Duty           `json:"duty,omitempty"`
}

// Trigger is what releases a task other than its moment.
type Trigger string

// The triggers.
const (
	OnTime Trigger = ""    // released at At
	OnRed  Trigger = "red" // released the first time its area goes red
)

// Task is a prepared task: released at At (or on its trigger) as a case of
// Category dispatched to Unit, to be handled within LimitMinutes.
type Task struct {
	ID           string    `json:"id"`
	Area         string    `json:"area"` // an area's key
	Title        string    `json:"title"`
	Description  string    `json:"description,omitempty"`
	Category     string    `json:"category"`
	Unit         string    `json:"unit"`
	At           time.Time `json:"at,omitzero"`
	Trigger      Trigger   `json:"trigger,omitempty"`
	LimitMinutes int       `json:"limit_minutes"`
}

// PostEvent reports whether the task is one of the area's post-event tasks
// (released at a moment): their being done restores the area.
func (t Task) PostEvent() bool { return t.Trigger == OnTime }

// Operation is a big event.
type Operation struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Kind          string    `json:"kind"`           // the crowd counters' device kind
	AlertCategory string    `json:"alert_category"` // the category of the alert cases
	Areas         []Area    `json:"areas"`
	Tasks         []Task    `json:"tasks,omitempty"`
	RegionPath    string    `json:"region_path"` // the center that runs it (its owner's region)
	Owner         string    `json:"owner"`       // the commander's account: tasks are released in their name
	OwnerName     string    `json:"owner_name"`
	Version       int       `json:"version"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

// Bounds.
const (
	MaxAreas    = 50
	MaxTasks    = 200
	MaxDuty     = 100
	MaxKeyLen   = 24 // the key is part of the alert rules' IDs
	MaxLimit    = 24 * 60
	MaxDuration = 14 * 24 * time.Hour
)

var keyRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,24}$`)

// ValidKey reports whether s may be an area's or a task's key.
func ValidKey(s string) bool { return keyRE.MatchString(s) }

// Normalize trims the text fields.
func (o *Operation) Normalize() {
	o.Name = strings.TrimSpace(o.Name)
	for i := range o.Areas {
		a := &o.Areas[i]
		a.Key, a.Name = strings.TrimSpace(a.Key), strings.TrimSpace(a.Name)
		for j := range a.Duty {
			d := &a.Duty[j]
			d.Name, d.Role, d.Phone, d.Unit = strings.TrimSpace(d.Name), strings.TrimSpace(d.Role), strings.TrimSpace(d.Phone), strings.TrimSpace(d.Unit)
		}
	}
	for i := range o.Tasks {
		t := &o.Tasks[i]
		t.ID, t.Area, t.Title, t.Description = strings.TrimSpace(t.ID), strings.TrimSpace(t.Area), strings.TrimSpace(t.Title), strings.TrimSpace(t.Description)
	}
}

// Check validates an operation, naming every field at fault
// (areas[1].red, tasks[0].at…). Whether categories and units exist is the
// service's to check.
func (o Operation) Check() error {
	var f apperr.Fields
	text := func(field, v, empty string, max int) {
		switch {
		case v == "":
			if empty != "" {
				f.Add(field, empty)
			}
		case len([]rune(v)) > max:
			f.Addf(field, "不能超过%d个字", max)
		default:
			textcheck.AddLine(&f, field, v)
		}
	}
	text("name", o.Name, "请填写活动名称", 100)
	switch {
	case o.Start.IsZero():
		f.Add("start", "请填写开始时间")
	case o.End.IsZero():
		f.Add("end", "请填写结束时间")
	case !o.End.After(o.Start):
		f.Add("end", "结束时间须晚于开始时间")
	case o.End.Sub(o.Start) > MaxDuration:
		f.Add("end", "活动时长不能超过14天")
	}
	if o.Kind == "" {
		f.Add("kind", "请指定客流计数设备类型")
	}
	if o.AlertCategory == "" {
		f.Add("alert_category", "请选择告警案件类别")
	}
	if len(o.Areas) == 0 {
		f.Add("areas", "至少需要一个区域")
	} else if len(o.Areas) > MaxAreas {
		f.Addf("areas", "区域不能超过%d个", MaxAreas)
	}
	keys := map[string]int{}
	for i, a := range o.Areas {
		p := fmt.Sprintf("areas[%d].", i)
		if !ValidKey(a.Key) {
			f.Add(p+"key", "区域编码须为1至24位字母、数字或 _ . -（与客流计数设备的区域一致）")
		} else if j, dup := keys[a.Key]; dup {
			f.Addf(p+"key", "与第%d个区域编码重复", j+1)
		} else {
			keys[a.Key] = i
		}
		text(p+"name", a.Name, "请填写区域名称", 50)
		if len(a.Shape) == 0 {
			f.Add(p+"shape", "请绘制或导入区域范围（GeoJSON 多边形）")
		} else if err := a.Shape.Validate(); err != nil {
			f.Add(p+"shape", "区域范围无效："+err.Error())
		}
		switch {
		case !finite(a.Yellow) || a.Yellow <= 0:
			f.Add(p+"yellow", "黄色阈值须为正数")
		case !finite(a.Red) || a.Red <= a.Yellow:
			f.Add(p+"red", "红色阈值须大于黄色阈值")
		}
		if len(a.Duty) > MaxDuty {
			f.Addf(p+"duty", "值守人员不能超过%d人", MaxDuty)
		}
		for j, d := range a.Duty {
			q := fmt.Sprintf("%sduty[%d].", p, j)
			text(q+"name", d.Name, "请填写值守人员姓名", 30)
			text(q+"role", d.Role, "", 30)
			if d.Phone != "" && !phoneRE.MatchString(d.Phone) {
				f.Add(q+"phone", "电话号码格式不正确")
			}
		}
	}
	if len(o.Tasks) > MaxTasks {
		f.Addf("tasks", "预置任务不能超过%d个", MaxTasks)
	}
	ids := map[string]int{}
	for i, t := range o.Tasks {
		p := fmt.Sprintf("tasks[%d].", i)
		if !ValidKey(t.ID) {
			f.Add(p+"id", "任务编号须为1至24位字母、数字或 _ . -")
		} else if j, dup := ids[t.ID]; dup {
			f.Addf(p+"id", "与第%d个任务编号重复", j+1)
		} else {
			ids[t.ID] = i
		}
		if _, ok := keys[t.Area]; !ok {
			f.Add(p+"area", "任务须属于本活动的一个区域")
		}
		text(p+"title", t.Title, "请填写任务名称", 60)
		if t.Description != "" {
			if len([]rune(t.Description)) > 500 {
				f.Add(p+"description", "不能超过500个字")
			} else {
				textcheck.AddBlock(&f, p+"description", t.Description)
			}
		}
		if t.Category == "" {
			f.Add(p+"category", "请选择案件类别")
		}
		if t.Unit == "" {
			f.Add(p+"unit", "请选择承办单位")
		}
		switch t.Trigger {
		case OnTime:
			if t.At.IsZero() {
				f.Add(p+"at", "请填写下达时间，或设触发条件")
			} else if o.End.After(o.Start) && (t.At.Before(o.Start) || t.At.After(o.End)) {
				f.Add(p+"at", "下达时间须在活动时段内")
			}
		case OnRed:
			if !t.At.IsZero() {
				f.Add(p+"at", "触发下达的任务不设下达时间")
			}
		default:
			f.Add(p+"trigger", "触发条件只能为空（按时下达）或 red（区域红色预警时下达）")
		}
		if t.LimitMinutes < 1 || t.LimitMinutes > MaxLimit {
			f.Addf(p+"limit_minutes", "处置时限须为1至%d分钟", MaxLimit)
		}
	}
	return f.Err()
}

var phoneRE = regexp.MustCompile(`^[0-9+\-() ]{3,20}$`)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Area returns the area of a key.
func (o Operation) Area(key string) (Area, bool) {
	for _, a := range o.Areas {
		if a.Key == key {
			return a, true
		}
	}
	return Area{}, false
}

// Task returns the task of an ID.
func (o Operation) Task(id string) (Task, bool) {
	for _, t := range o.Tasks {
		if t.ID == id {
			return t, true
		}
	}
	return Task{}, false
}

// Phase is where an operation stands at a moment.
func (o Operation) Phase(now time.Time) string {
	switch {
	case now.Before(o.Start):
		return "planned"
	case now.Before(o.End):
		return "running"
	}
	return "ended"
}

// PhaseLabel is the phase's Chinese name.
func PhaseLabel(p string) string {
	switch p {
	case "planned":
		return "未开始"
	case "running":
		return "进行中"
	}
	return "已结束"
}

// Watched reports whether the operation's areas are watched at now: from
// an hour before its start to its end (crowds gather early).
func (o Operation) Watched(now time.Time) bool {
	return !now.Before(o.Start.Add(-time.Hour)) && now.Before(o.End)
}

// AlertRuleID is the ID of the sensor rule that raises an area's alerts
// of a level.
func AlertRuleID(opID, area string, l Level) string {
	return "op-" + opID + "-" + area + "-" + string(l)
}

// SortTasks orders tasks by release time (triggered ones last), then ID.
func SortTasks(ts []Task) {
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if (a.Trigger == OnTime) != (b.Trigger == OnTime) {
			return a.Trigger == OnTime
		}
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return a.ID < b.ID
	})
}
