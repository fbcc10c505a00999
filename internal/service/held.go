package service

import (
	"context"
	"errors"
	"strings"
	"sync"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// The holding queue (待甄别, issue 20): anonymous reports held under a
// flood (doors.go, cases/hold.go) wait here, outside the live queue, until
// the center releases them (the accept clock starts then) or rejects them,
// one by one or many at once. Every case goes through the state machine.

// MaxScreen is the most cases one screening request takes.
const MaxScreen = 1000

// HeldQueue lists the held reports the actor may see, newest first, and
// counts them all.
func (s *Service) HeldQueue(ctx context.Context, actor cases.Actor, after string, limit int) ([]cases.Case, int, error) {
	switch actor.Role {
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
	default:
		return nil, 0, apperr.New(apperr.Forbidden, "无权查看待甄别队列")
	}
	f := store.CaseFilter{States: []cases.State{cases.Held}}
	total, err := s.Count(ctx, actor, f)
	if err != nil {
		return nil, 0, err
	}
	f.After, f.Limit = after, limit
	list, err := s.List(ctx, actor, f)
	return list, total, err
}

// Screened is what a screening request did: the cases released or
// rejected, and why each of the others was not (its Chinese message).
type Screened struct {
	Done   []string          `json:"done"`
	Failed map[string]string `json:"failed,omitempty"`
}

// Screen releases (cases.ActRelease) or rejects (cases.ActReject, with a
// reason) held reports. Each case is its own action through the state
// machine, taken only while the case is still held; a case that is not (any
// more) held, unknown or out of the actor's scope is listed as failed and
// left alone.
func (s *Service) Screen(ctx context.Context, actor cases.Actor, ids []string, cmd cases.Command) (Screened, error) {
	if actor.Role != cases.RoleCommander {
		return Screened{}, apperr.New(apperr.Forbidden, "只有指挥中心可以甄别")
	}
	if cmd.Action != cases.ActRelease && cmd.Action != cases.ActReject {
		return Screened{}, apperr.Field("action", "只能放行或不予受理")
	}
	if cmd.Action == cases.ActReject && strings.TrimSpace(cmd.Note) == "" {
		return Screened{}, apperr.Field("note", "请填写不予受理的原因")
	}
	seen := map[string]bool{}
	var todo []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return Screened{}, apperr.Field("ids", "请选择案件")
	}
	if len(todo) > MaxScreen {
		return Screened{}, apperr.Field("ids", "一次最多处理1000件")
	}
	heldOnly := func(c *cases.Case) error {
		if c.State != cases.Held {
			return apperr.Newf(apperr.Refused, "案件当前状态为“%s”，不在待甄别队列中", c.State.Label())
		}
		return nil
	}
	// A few at a time, so the writer commits them in groups.
	out := Screened{Failed: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	var fatal error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				_, _, err := s.act(ctx, actor, id, cmd, 0, heldOnly)
				mu.Lock()
				switch {
				case err == nil:
					out.Done = append(out.Done, id)
				case apperr.KindOf(err) != "":
					var e *apperr.Error
					errors.As(err, &e)
					out.Failed[id] = e.Message
					if len(e.Fields) > 0 {
						out.Failed[id] = e.Fields[0].Reason
					}
				default:
					if fatal == nil {
						fatal = err
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range todo {
		next <- id
	}
	close(next)
	wg.Wait()
	if fatal != nil {
		return out, fatal
	}
	if len(out.Failed) == 0 {
		out.Failed = nil
	}
	return out, nil
}
