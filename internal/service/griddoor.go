package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// The residents' door per grid (有事找小杨, docs/gridwork.md): a public
// form of each grid, guarded like the anonymous report door (doors.go): a
// one-use form token, consumed in the message's write; the client address
// and the phone counted, past the soft thresholds the message is taken but
// marked held, past the hard ones refused (429). The token is also the
// resident's key to follow the message: the link /r/g/{grid}/m/{token};
// only its hash is stored.

func followHash(key string) string {
	sum := sha256.Sum256([]byte("zhizhi-grid-message:" + key))
	return hex.EncodeToString(sum[:])
}

// PostGridMessage takes a resident's message to a grid's worker. It
// returns the message and the key of its follow link.
func (s *Service) PostGridMessage(ctx context.Context, k Knock, grid string, in gridwork.MessageInput) (gridwork.Message, string, error) {
	in.Name, in.Text, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.Text), normalPhone(in.Phone)
	if err := gridwork.CheckMessage(in); err != nil {
		return gridwork.Message{}, "", err
	}
	// Photos: only stored images, their type and size from the stored file.
	photos, err := s.resolvePhotos(in.Photos)
	if err != nil {
		return gridwork.Message{}, "", err
	}
	in.Photos = photos
	if len(in.Photos) == 0 {
		in.Photos = nil
	}
	g, err := s.grid(ctx, grid, "grid")
	if err != nil {
		return gridwork.Message{}, "", apperr.New(apperr.NotFound, "网格不存在")
	}
	expires, err := s.checkToken(ctx, k.Token)
	if err != nil {
		return gridwork.Message{}, "", err
	}
	phoneKey := anonymousActor(in.Phone).AccountID
	now := s.Now()
	wait, why := s.doors.admit(k.Client, phoneKey, now)
	if wait > 0 {
		return gridwork.Message{}, "", tooMany("留言过于频繁，请稍后再试；如情况紧急，请拨打12345热线", wait)
	}
	m := gridwork.Message{MessageInput: in, ID: id.At(now), GridCode: g.Code, GridPath: g.Path, State: gridwork.Waiting, Held: why != "", CreatedAt: now}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if blocked, err := tx.PhoneBlocked(ctx, g.Code, phoneKey); err != nil {
			return err
		} else if blocked {
			return apperr.New(apperr.Forbidden, "您在本网格的留言已被限制；如有急事，请拨打12345热线")
		}
		if _, err := tx.UseFormToken(ctx, k.Token, m.ID, now, expires); errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, "这份留言已经提交过了，可以通过提交后给您的链接查看回复")
		} else if err != nil {
			return err
		}
		if err := tx.InsertMessage(ctx, m, followHash(k.Token), phoneKey); err != nil {
			return err
		}
		return s.notifyMessage(ctx, tx, m)
	})
	if err != nil {
		s.doors.giveBack(k.Client, phoneKey)
		return gridwork.Message{}, "", err
	}
	return m, k.Token, nil
}

// FollowedMessage is a message as its resident follows it: with the state
// of the case it became, if any.
type FollowedMessage struct {
	gridwork.Message
	CaseState string `json:"case_state,omitempty"`
}

// FollowGridMessage returns a message to the resident holding its link,
// as they may see it (their phone masked). A wrong key counts as a miss of
// the client (429 past the limit, like following a case).
func (s *Service) FollowGridMessage(ctx context.Context, client, key string) (FollowedMessage, error) {
	now := s.Now()
	if wait := s.doors.followWait(client, now); wait > 0 {
		return FollowedMessage{}, tooMany("查询过于频繁，请稍后再试", wait)
	}
	m, err := s.db.MessageByFollow(ctx, followHash(key))
	if errors.Is(err, store.ErrNotFound) {
		s.doors.miss(client, now)
		return FollowedMessage{}, apperr.New(apperr.NotFound, "留言不存在，请检查链接")
	}
	if err != nil {
		return FollowedMessage{}, err
	}
	out := FollowedMessage{Message: m.Public()}
	if m.CaseID != "" {
		if c, err := s.db.Case(ctx, m.CaseID); err == nil {
			out.CaseState = c.State.Label()
		}
	}
	return out, nil
}

// GridMessages lists the messages of a grid the actor reads (phones
// masked; the grid's own people reveal one by answering or calling from
// the case it becomes).
func (s *Service) GridMessages(ctx context.Context, actor cases.Actor, grid string, from time.Time) ([]gridwork.Message, error) {
	g, err := s.seenGrid(ctx, actor, grid)
	if err != nil {
		return nil, err
	}
	list, err := s.db.Messages(ctx, store.GridFilter{Under: g.Path, From: from})
	if err != nil {
		return nil, err
	}
	if !gridwork.SeesPeople(actor, g.Path) {
		for i := range list {
			list[i] = list[i].Public()
		}
	}
	return list, nil
}

// MessageAction is what a grid worker does with a residents' message.
type MessageAction struct {
	Action   string        `json:"action"` // reply, case, block
	Answer   string        `json:"answer,omitempty"`
	Category string        `json:"category,omitempty"` // case: the category
	OnSpot   bool          `json:"solved_on_spot,omitempty"`
	Note     string        `json:"note,omitempty"`    // case on the spot: what was done
	Address  string        `json:"address,omitempty"` // case: where, when the message has no point
	Point    *geo.Point    `json:"point,omitempty"`   // case: where (default the message's)
	Photos   []cases.Photo `json:"photos,omitempty"`  // case on the spot: the evidence
}

// ActOnMessage replies to a waiting message, turns it into a case of the
// grid (through Report: source resident, the resident as reporter, solved
// on the spot or reported; client reference msg-<id>, so a retry makes
// one case), or blocks it. Only the grid's workers and chiefs act.
func (s *Service) ActOnMessage(ctx context.Context, actor cases.Actor, msgID string, a MessageAction) (gridwork.Message, error) {
	m, err := s.db.GridMessage(ctx, msgID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !gridwork.SeesRoster(actor, m.GridPath)) {
		return m, apperr.New(apperr.NotFound, "留言不存在")
	}
	if err != nil {
		return m, err
	}
	if !gridwork.Works(actor, m.GridPath) {
		return m, apperr.New(apperr.Forbidden, "只有本网格的网格员和网格长可以处理居民留言")
	}
	now := s.Now()
	var c cases.Case
	switch a.Action {
	case "reply", "block":
	case "case":
		if m.State != gridwork.Waiting {
			return m, apperr.New(apperr.Refused, "这条留言已经"+m.State.Label())
		}
		pt := a.Point
		if pt == nil {
			pt = m.Point
		}
		if a.OnSpot && len(a.Photos) == 0 {
			// the resident's photos show the problem, not that it was solved
			return m, apperr.Field("photos", "就地解决请上传处置后的照片")
		}
		// The resident's photos go with the case, after the worker's (none
		// of the worker's is dropped by the bound).
		photos := append(slices.Clone(a.Photos), m.Photos...)
		if len(photos) > gridwork.MaxMessagePhotos {
			photos = photos[:gridwork.MaxMessagePhotos]
		}
		c, err = s.Report(ctx, actor, cases.Report{Source: cases.SourceResident, Reporter: cases.Reporter{Name: m.Name, Phone: m.Phone},
			Point: pt, Address: a.Address, Category: a.Category, Description: m.Text, OnSpot: a.OnSpot, Note: a.Note, Photos: photos,
			ClientRef: "msg-" + m.ID})
		if err != nil {
			return m, err
		}
	default:
		return m, apperr.Field("action", "操作应为回复、转为案件或屏蔽")
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		cur, err := tx.Message(ctx, msgID)
		if err != nil {
			return err
		}
		switch a.Action {
		case "reply":
			cur, err = gridwork.Reply(cur, strings.TrimSpace(a.Answer), actor.Name, now)
		case "case":
			cur, err = gridwork.ToCaseOf(cur, c, a.Note, actor.Name, now)
		case "block":
			cur, err = gridwork.Block(cur, actor.Name, now)
		}
		if err != nil {
			return err
		}
		cur.AnsweredID = actor.AccountID
		m = cur
		return tx.UpdateMessage(ctx, cur)
	})
	return m, err
}
