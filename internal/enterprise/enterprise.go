// Package enterprise is the street's service to the enterprises in its
// buildings (四色四务, issue 14): the enterprise registry with its three
// levels of follow-up (the enterprise, the section liaison, the street
// leader), the service catalog in four colours, service requests with the
// liaison's contact clock and escalation to the leader, and policy classes in
// buildings (楼宇课堂). It is pure: no SQL, no HTTP. A request's handling is a
// case (package cases); this package holds what the case does not.
package enterprise

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/textcheck"
)

// Size is an enterprise's size class (企业规模).
type Size string

// The size classes.
const (
	Micro  Size = "micro"  // 微型
	Small  Size = "small"  // 小型
	Medium Size = "medium" // 中型
	Large  Size = "large"  // 大型
)

// Sizes lists the size classes.
var Sizes = []Size{Micro, Small, Medium, Large}

// Label is the size's Chinese name.
func (s Size) Label() string {
	switch s {
	case Micro:
		return "微型"
	case Small:
		return "小型"
	case Medium:
		return "中型"
	case Large:
		return "大型"
	}
	return string(s)
}

// ParseSize reads a size by key or Chinese name.
func ParseSize(s string) (Size, bool) {
	s = strings.TrimSpace(s)
	for _, z := range Sizes {
		if s == string(z) || s == z.Label() || s == z.Label()+"企业" {
			return z, true
		}
	}
	return "", false
}

// Contact is a person of the enterprise the liaison calls.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Title string `json:"title,omitempty"`
}

// Enterprise is one entry of the registry. GridCode places it; RegionPath
// (the grid's path, set by the service) is where its requests land and
// which street serves it. LiaisonID and LeaderID are accounts: the section
// liaison (科室联络员) and the street leader (街道领导) assigned to it.
type Enterprise struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	CreditCode string    `json:"credit_code"`
	Address    string    `json:"address"`
	GridCode   string    `json:"grid_code"`
	RegionPath string    `json:"region_path,omitempty"`
	Building   string    `json:"building,omitempty"`
	Industry   string    `json:"industry,omitempty"`
	Size       Size      `json:"size,omitempty"`
	Contacts   []Contact `json:"contacts,omitempty"`
	LiaisonID  string    `json:"liaison_id,omitempty"`
	LeaderID   string    `json:"leader_id,omitempty"`
	Key        bool      `json:"key"` // 重点企业, for leaders' pairings
	Active     bool      `json:"active"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// Validate checks the enterprise's own fields (whether the grid, the liaison
// and the leader exist is the service's to check).
func (e Enterprise) Validate() error {
	var f apperr.Fields
	if n := len([]rune(strings.TrimSpace(e.Name))); n == 0 || n > 100 {
		f.Add("name", "企业名称不能为空且不超过100字")
	}
	textcheck.AddLine(&f, "name", e.Name)
	if r := CheckCreditCode(e.CreditCode); r != "" {
		f.Add("credit_code", r)
	}
	if n := len([]rune(strings.TrimSpace(e.Address))); n == 0 || n > 200 {
		f.Add("address", "地址不能为空且不超过200字")
	}
	textcheck.AddLine(&f, "address", e.Address)
	if strings.TrimSpace(e.GridCode) == "" {
		f.Add("grid_code", "请指定企业所在网格")
	}
	for _, p := range []struct{ field, v string }{{"building", e.Building}, {"industry", e.Industry}} {
		if len([]rune(p.v)) > 50 {
			f.Add(p.field, "不能超过50字")
		}
		textcheck.AddLine(&f, p.field, p.v)
	}
	if e.Size != "" && !slices.Contains(Sizes, e.Size) {
		f.Add("size", "企业规模应为微型、小型、中型或大型")
	}
	if len(e.Contacts) == 0 {
		f.Add("contacts", "请至少填写一位联系人")
	}
	if len(e.Contacts) > 10 {
		f.Add("contacts", "联系人不能超过10位")
	}
	for i, c := range e.Contacts {
		p := fmt.Sprintf("contacts[%d]", i)
		if n := len([]rune(strings.TrimSpace(c.Name))); n == 0 || n > 50 {
			f.Add(p+".name", "联系人姓名不能为空且不超过50字")
		}
		textcheck.AddLine(&f, p+".name", c.Name)
		textcheck.AddLine(&f, p+".title", c.Title)
		if !ValidPhone(c.Phone) {
			f.Add(p+".phone", "联系电话格式不正确")
		}
	}
	if e.LiaisonID == "" {
		f.Add("liaison_id", "请指定联络员")
	}
	if e.LeaderID == "" {
		f.Add("leader_id", "请指定包联的街道领导")
	}
	return f.Err()
}

// ValidPhone accepts a mobile or landline number: 5–20 digits, an optional
// leading + and dashes between digits.
func ValidPhone(p string) bool {
	if len(p) < 5 || len(p) > 20 {
		return false
	}
	for i, r := range p {
		if !(r >= '0' && r <= '9') && !(r == '-' && i > 0) && !(r == '+' && i == 0) {
			return false
		}
	}
	return true
}
