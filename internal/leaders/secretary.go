package leaders

import (
	"time"

	"zhizhi/internal/apperr"
)

// Secretary assigns an account to record on a leader's behalf (秘书代录):
// the visits it records for that leader, and only for that leader, carry
// its name ("由秘书 X 代 Y 录入"). An administrator of the leader's region
// keeps the assignments.
type Secretary struct {
	LeaderID      string    `json:"leader_id"`
	LeaderName    string    `json:"leader_name"`
	SecretaryID   string    `json:"secretary_id"`
	SecretaryName string    `json:"secretary_name"`
	RegionPath    string    `json:"region_path"` // the leader's region
	AssignedBy    string    `json:"assigned_by"`
	AssignedAt    time.Time `json:"assigned_at"`
}

// Validate checks an assignment as asked for.
func (s Secretary) Validate() error {
	var f apperr.Fields
	if s.LeaderID == "" {
		f.Add("leader_id", "请选择领导")
	}
	if s.SecretaryID == "" {
		f.Add("secretary_id", "请选择秘书账号")
	}
	if s.LeaderID != "" && s.LeaderID == s.SecretaryID {
		f.Add("secretary_id", "领导不能做自己的秘书")
	}
	return f.Err()
}

// OnBehalf is the line a visit, and each case it made, shows when a
// secretary recorded it for the leader; empty when the leader did.
func (v Visit) OnBehalf() string {
	if v.RecordedBy == "" || v.RecordedBy == v.LeaderID {
		return ""
	}
	return "由秘书 " + v.Recorder + " 代 " + v.LeaderName + " 录入"
}
