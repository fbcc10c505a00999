package service

import (
	"context"
	"errors"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// ClientUpdate is a resident's follow-up that a client app posts on a case
// (Open311 servicerequestupdates): their words, optionally that the problem
// is still there (Reopen), under the client's own update ID.
type ClientUpdate struct {
	CaseID   string // the case's ID or number
	UpdateID string // the client's ID of the update: the same ID twice is one update
	Note     string
	Name     string // who wrote it, as the client shows the name
	MediaURL string // a link the client sent, kept, never fetched
	Reopen   bool   // the client says the request is open again
}

// ClientUpdateResult is what became of a client's update.
type ClientUpdateResult struct {
	Case     cases.Case
	StepID   string
	Reopened bool // the update reopened the closed case
	Repeated bool // the update ID was seen before: nothing was added
}

// MaxClientUpdateID bounds a client's update ID.
const MaxClientUpdateID = 64

// PostClientUpdate adds a client's update to a case's timeline as the
// resident's comment (群众留言), or, when the client says the request is
// open again and the case is closed (not rejected or merged), reopens it
// under the state machine's rules with the resident's words as the reason.
// Everything happens in one write with the record of the client's update
// ID, so an update sent twice, even at once, is taken once and answered
// the same.
func (s *Service) PostClientUpdate(ctx context.Context, key store.APIKey, in ClientUpdate) (ClientUpdateResult, error) {
	out, err := s.postClientUpdate(ctx, key, in)
	if errors.Is(err, store.ErrConflict) {
		// Another node took the same update at the same moment: answer
		// with what it recorded.
		out, err = s.postClientUpdate(ctx, key, in)
	}
	return out, err
}

func (s *Service) postClientUpdate(ctx context.Context, key store.APIKey, in ClientUpdate) (ClientUpdateResult, error) {
	var f apperr.Fields
	in.UpdateID = strings.TrimSpace(in.UpdateID)
	if in.UpdateID == "" || len(in.UpdateID) > MaxClientUpdateID {
		f.Addf("update_id", "须提供客户端的更新编号（不超过%d个字符）", MaxClientUpdateID)
	}
	in.Note = strings.TrimSpace(in.Note)
	if in.Note == "" {
		f.Add("description", "请填写留言内容")
	}
	if len([]rune(in.Name)) > 50 {
		f.Add("name", "姓名不能超过50字")
	}
	if err := f.Err(); err != nil {
		return ClientUpdateResult{}, err
	}
	actor := KeyActor(key)
	upd := &cases.ClientUpdate{Key: key.Name, UpdateID: in.UpdateID, Name: in.Name, MediaURL: in.MediaURL}
	var out ClientUpdateResult
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		out = ClientUpdateResult{}
		c, err := tx.Case(ctx, in.CaseID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !cases.CanSee(actor, &c) {
			return apperr.New(apperr.NotFound, "案件不存在")
		} else if err != nil {
			return err
		}
		prev, err := tx.ClientUpdate(ctx, key.ID, in.UpdateID)
		switch {
		case err == nil && prev.CaseID != c.ID:
			return apperr.Field("update_id", "该更新编号已用于另一件诉求")
		case err == nil:
			out = ClientUpdateResult{Case: c, StepID: prev.StepID, Repeated: true}
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		cmd := cases.Command{Action: cases.ActComment, Note: in.Note, Client: upd}
		if in.Reopen && c.State == cases.Closed {
			cmd.Action = cases.ActReopen
		}
		n, step, err := s.apply(ctx, tx, c, cmd, actor, s.Now())
		if err != nil {
			return err
		}
		out = ClientUpdateResult{Case: n, StepID: step.ID, Reopened: cmd.Action == cases.ActReopen}
		return tx.InsertClientUpdate(ctx, store.ClientUpdate{KeyID: key.ID, UpdateID: in.UpdateID, CaseID: c.ID, StepID: step.ID, At: step.At})
	})
	if err != nil {
		return ClientUpdateResult{}, err
	}
	return out, nil
}
