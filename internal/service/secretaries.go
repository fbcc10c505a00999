package service

import (
	"context"
	"errors"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
	"zhizhi/internal/store"
)

// A leader's secretaries (秘书代录, issue 13): an administrator of the
// leader's region assigns accounts of the command center (role commander)
// whose region lies on the leader's line (the leader's region, above it or
// below it) to record visits on that leader's behalf. RecordVisit lets an
// account other than the leader record only for the leaders it is assigned
// to. Audited as kind secretary.

// AssignSecretary records that secretaryID may record visits for leaderID.
func (s *Service) AssignSecretary(ctx context.Context, actor cases.Actor, leaderID, secretaryID string) (leaders.Secretary, error) {
	sec := leaders.Secretary{LeaderID: strings.TrimSpace(leaderID), SecretaryID: strings.TrimSpace(secretaryID)}
	var f apperr.Fields
	if err := sec.Validate(); err != nil {
		f.Merge(err)
	}
	var leader, secretary store.Account
	if sec.LeaderID != "" {
		a, err := s.leaderAccount(ctx, sec.LeaderID, "leader_id")
		if err != nil {
			f.Merge(err)
		}
		leader = a
	}
	if sec.SecretaryID != "" && sec.SecretaryID != sec.LeaderID {
		a, err := s.db.Account(ctx, sec.SecretaryID)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !a.Active):
			f.Add("secretary_id", "秘书账号不存在或已停用")
		case err != nil:
			return sec, err
		case a.Role != cases.RoleCommander:
			f.Add("secretary_id", "秘书须为指挥中心账号")
		case leader.ID != "" && !onLine(a.RegionPath, leader.RegionPath):
			f.Add("secretary_id", "秘书账号的辖区须与领导的辖区在同一条线上")
		}
		secretary = a
	}
	if err := f.Err(); err != nil {
		return sec, err
	}
	if !administers(actor, leader.RegionPath) {
		return sec, apperr.New(apperr.Forbidden, "只能为本辖区的领导安排秘书")
	}
	sec.LeaderName, sec.SecretaryName, sec.RegionPath = leader.Name, secretary.Name, leader.RegionPath
	sec.AssignedBy, sec.AssignedAt = actor.AccountID, s.Now()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.SecretaryOf(ctx, sec.LeaderID, sec.SecretaryID); err == nil {
			return apperr.Field("secretary_id", "该账号已是这位领导的秘书")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutSecretary(ctx, sec); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "secretary", sec.LeaderID+"/"+sec.SecretaryID, false, nil, sec))
	})
	return sec, err
}

// RemoveSecretary ends an assignment (administrators of the leader's region).
func (s *Service) RemoveSecretary(ctx context.Context, actor cases.Actor, leaderID, secretaryID string) error {
	sec, err := s.db.Secretary(ctx, leaderID, secretaryID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !administers(actor, sec.RegionPath)) {
		return apperr.New(apperr.NotFound, "秘书安排不存在")
	} else if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSecretary(ctx, leaderID, secretaryID); err != nil {
			return err
		}
		e := s.auditEntry(actor, "secretary", leaderID+"/"+secretaryID, true, sec, nil)
		e.Action, e.After = "delete", nil
		return tx.Audit(ctx, e)
	})
}

// Secretaries lists the assignments the actor may see: administrators,
// leaders and commanders those of the leaders in their region; anyone
// their own (leaderID or secretaryID "me").
func (s *Service) Secretaries(ctx context.Context, actor cases.Actor, leaderID, secretaryID string) ([]leaders.Secretary, error) {
	if leaderID == "me" {
		leaderID = actor.AccountID
	}
	if secretaryID == "me" {
		secretaryID = actor.AccountID
	}
	f := store.SecretaryFilter{LeaderID: leaderID, SecretaryID: secretaryID}
	if leaderID != actor.AccountID && secretaryID != actor.AccountID {
		under, err := leaderScope(actor)
		if err != nil {
			return nil, err
		}
		f.Under = under
	}
	return s.db.Secretaries(ctx, f)
}

// onLine reports whether two region paths lie on one line: one holds the
// other.
func onLine(a, b string) bool {
	return a != "" && b != "" && (strings.HasPrefix(a, b) || strings.HasPrefix(b, a))
}
