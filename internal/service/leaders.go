package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/leaders"
	"zhizhi/internal/region"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// The leaders' work at the grassroots (issue 13, docs/leaders.md): the one
// write path for pairings, visits, lists, projects and supervisions. Every
// change is audited; a case changes only through report and apply, in the
// same transaction as the leader record that goes with it.

// leaderAccount returns the account of a leader by ID.
func (s *Service) leaderAccount(ctx context.Context, accountID, field string) (store.Account, error) {
	a, err := s.db.Account(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (a.Role != cases.RoleLeader || !a.Active)) {
		return a, apperr.Field(field, "领导账号不存在或已停用")
	}
	return a, err
}

func streetOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 3 {
		return parts[2]
	}
	return ""
}

// PutPairing stores a pairing (a new one when p.ID is empty): an
// administrator of the target's region records it, audited.
func (s *Service) PutPairing(ctx context.Context, actor cases.Actor, p leaders.Pairing) (leaders.Pairing, error) {
	var f apperr.Fields
	if err := p.Validate(); err != nil {
		f.Merge(err)
	}
	var leader store.Account
	if p.LeaderID != "" {
		a, err := s.leaderAccount(ctx, p.LeaderID, "leader_id")
		if err != nil {
			f.Merge(err)
		}
		leader = a
	}
	code := p.Target
	if p.Kind == leaders.TargetEnterprise {
		code = p.Region
	}
	ref := s.ref.Load()
	want := map[leaders.TargetKind][]region.Level{
		leaders.TargetStreet: {region.Street}, leaders.TargetCommunity: {region.Community},
		leaders.TargetGrid: {region.Grid}, leaders.TargetEnterprise: {region.Street, region.Community},
	}[p.Kind]
	field := "target"
	if p.Kind == leaders.TargetEnterprise {
		field = "region"
	}
	if code != "" && p.Kind.Valid() {
		if lv, ok := ref.levels[code]; !ok || !slices.Contains(want, lv) {
			f.Addf(field, "区域不存在或不是%s", p.Kind.Label())
		} else {
			p.RegionPath = ref.paths[code]
			if p.Kind != leaders.TargetEnterprise {
				p.TargetName = ref.names[code]
			}
		}
	}
	if err := f.Err(); err != nil {
		return p, err
	}
	if !administers(actor, p.RegionPath) {
		return p, apperr.New(apperr.Forbidden, "只能为本辖区内的街道、社区、网格或企业安排包联")
	}
	var old leaders.Pairing
	existed := false
	if p.ID != "" {
		o, err := s.db.Pairing(ctx, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			return p, apperr.New(apperr.NotFound, "包联关系不存在")
		} else if err != nil {
			return p, err
		}
		if !administers(actor, o.RegionPath) {
			return p, apperr.New(apperr.NotFound, "包联关系不存在")
		}
		old, existed = o, true
		p.CreatedAt = o.CreatedAt
	} else {
		p.ID, p.CreatedAt = id.New(), s.Now()
	}
	p.LeaderName = leader.Name
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutPairing(ctx, p); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "pairing", p.ID, existed, old, p))
	})
	return p, err
}

// DeletePairing ends a pairing record, audited.
func (s *Service) DeletePairing(ctx context.Context, actor cases.Actor, pairingID string) error {
	p, err := s.db.Pairing(ctx, pairingID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !administers(actor, p.RegionPath)) {
		return apperr.New(apperr.NotFound, "包联关系不存在")
	} else if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeletePairing(ctx, p.ID); err != nil {
			return err
		}
		e := s.auditEntry(actor, "pairing", p.ID, true, p, nil)
		e.Action, e.After = "delete", nil
		return tx.Audit(ctx, e)
	})
}

// leaderScope is the subtree of leader records an actor reads, or an error
// for roles that read none (unit staff read the projects they lead, through
// Project).
func leaderScope(actor cases.Actor) (string, error) {
	switch actor.Role {
	case cases.RoleSystem:
		return "", nil
	case cases.RoleLeader, cases.RoleCommander, cases.RoleAdmin:
		if actor.RegionPath != "" {
			return actor.RegionPath, nil
		}
	}
	return "", apperr.New(apperr.Forbidden, "只有领导、指挥中心和管理员可以查看包联、现场办公和清单")
}

// Pairings lists the pairings the actor may see; leaderID narrows to one
// leader ("me" is the actor).
func (s *Service) Pairings(ctx context.Context, actor cases.Actor, leaderID string, at time.Time) ([]leaders.Pairing, error) {
	if leaderID == "me" {
		leaderID = actor.AccountID
	}
	under, err := leaderScope(actor)
	if err != nil {
		return nil, err
	}
	if leaderID != "" && leaderID == actor.AccountID {
		under = "" // a leader's own pairings, wherever they lie
	}
	return s.db.Pairings(ctx, store.PairingFilter{LeaderID: leaderID, Under: under, At: at})
}

// VisitInput is a visit as recorded, with its problems.
type VisitInput = leaders.Visit

// RecordVisit records an on-site office visit: each problem raised becomes
// a case with source visit reported by the leader (whoever records it: the
// leader, or a secretary assigned to that leader, see secretaries.go, on
// their behalf: the report step then names the secretary) and is put on the
// leader's list, all in one transaction.
func (s *Service) RecordVisit(ctx context.Context, actor cases.Actor, v leaders.Visit) (leaders.Visit, []cases.Case, error) {
	now := s.Now()
	if actor.Role != cases.RoleLeader && actor.Role != cases.RoleCommander {
		return v, nil, apperr.New(apperr.Forbidden, "只有领导本人或其秘书（指挥中心）可以记录现场办公")
	}
	if v.LeaderID == "" || v.LeaderID == "me" {
		v.LeaderID = actor.AccountID
		if actor.Role != cases.RoleLeader {
			v.LeaderID = ""
		}
	}
	var f apperr.Fields
	if err := v.Validate(now); err != nil {
		f.Merge(err)
	}
	var leader store.Account
	if v.LeaderID != "" {
		a, err := s.leaderAccount(ctx, v.LeaderID, "leader_id")
		if err != nil {
			f.Merge(err)
		}
		leader = a
	}
	ref := s.ref.Load()
	var placedGrid string
	if pt := v.Place.Point; pt != nil && cases.PointValid(*pt) {
		if code, ok := s.Locate(*pt); ok {
			placedGrid, v.RegionPath = code, ref.paths[code]
		}
	}
	if v.RegionPath == "" && v.Place.RegionCode != "" {
		if p, ok := ref.paths[v.Place.RegionCode]; ok && ref.levels[v.Place.RegionCode] != region.City {
			v.RegionPath = p
			if ref.levels[v.Place.RegionCode] == region.Grid {
				placedGrid = v.Place.RegionCode
			}
		} else {
			f.Add("place.region_code", "区域不存在")
		}
	}
	if v.RegionPath == "" && f.Empty() {
		f.Add("place.region_code", "地点不在任何网格内，请选择现场办公所在的街道或社区")
	}
	for i, p := range v.Problems {
		if p.Category == "" {
			continue
		}
		if c, ok := s.Category(p.Category); !ok || !c.Active {
			f.Addf(fmt.Sprintf("problems[%d].category", i), "类别不存在或已停用")
		}
	}
	if err := f.Err(); err != nil {
		return v, nil, err
	}
	if !strings.HasPrefix(v.RegionPath, actor.RegionPath) || actor.RegionPath == "" {
		return v, nil, apperr.Field("place", "现场办公地点不在您的辖区内")
	}
	onBehalf := actor.AccountID != v.LeaderID
	notSecretary := apperr.New(apperr.Forbidden, "您不是该领导的秘书，不能代为记录现场办公（由管理员在“领导秘书”中安排）")
	if onBehalf {
		if _, err := s.db.Secretary(ctx, v.LeaderID, actor.AccountID); errors.Is(err, store.ErrNotFound) {
			return v, nil, notSecretary
		} else if err != nil {
			return v, nil, err
		}
	}
	v.LeaderName, v.RecordedBy, v.Recorder = leader.Name, actor.AccountID, actor.Name
	v.StreetCode, v.CreatedAt = streetOf(v.RegionPath), now
	if v.Place.Address == "" && v.Place.Enterprise == "" && v.Place.Point == nil {
		v.Place.Address = ref.names[lastCode(v.RegionPath)]
	}
	v.ID = id.At(now)

	// The cases, validated before the write.
	type made struct {
		c       cases.Case
		step    cases.Step
		counter string
	}
	var news []made
	var counters []string
	day := now.In(s.Calendar().Location()).Format("20060102")
	for i := range v.Problems {
		r := v.Report(i)
		if r.Address == "" && r.Point == nil {
			r.Address = ref.names[lastCode(v.RegionPath)]
		}
		cat, _ := s.Category(r.Category)
		place := cases.Placement{RegionPath: v.RegionPath, CenterPath: centerOf(v.RegionPath), GridCode: placedGrid}
		if r.Point != nil && r.Point != v.Place.Point {
			if code, ok := s.Locate(*r.Point); ok {
				place = cases.Placement{GridCode: code, RegionPath: ref.paths[code], CenterPath: centerOf(ref.paths[code])}
			}
		}
		caseID := id.At(now)
		c, step, err := cases.New(r, cat, place, caseID, "", actor, s.Policy(cat), now)
		if err != nil {
			var e *apperr.Error
			if errors.As(err, &e) {
				var pf apperr.Fields
				for _, fe := range e.Fields {
					pf.Add(fmt.Sprintf("problems[%d].%s", i, fe.Field), fe.Reason)
				}
				if pf.Empty() {
					return v, nil, err
				}
				return v, nil, pf.Err()
			}
			return v, nil, err
		}
		step.ID = id.At(now)
		step.Data = map[string]any{"visit": v.ID}
		if onBehalf {
			step.Data["secretary"], step.Data["secretary_id"], step.Data["leader"] = actor.Name, actor.AccountID, leader.Name
		}
		counter := "case:" + lastCode(place.CenterPath) + ":" + day
		if !slices.Contains(counters, counter) {
			counters = append(counters, counter)
		}
		news = append(news, made{c, step, counter})
	}
	fresh := v
	var out []cases.Case
	write := func(tx *store.Tx) error {
		v, out = fresh, nil
		v.CaseIDs = nil
		if v.ClientRef != "" {
			old, err := tx.VisitByClientRef(ctx, v.RecordedBy, v.ClientRef)
			if err == nil {
				v = old
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if onBehalf {
			// The assignment holds at the write, not only at the check.
			if _, err := tx.SecretaryOf(ctx, v.LeaderID, actor.AccountID); errors.Is(err, store.ErrNotFound) {
				return notSecretary
			} else if err != nil {
				return err
			}
		}
		list, err := s.leaderList(ctx, tx, leader, now)
		if err != nil {
			return err
		}
		for _, m := range news {
			c, step := m.c, m.step
			n, err := tx.NextNumber(ctx, m.counter)
			if err != nil {
				return err
			}
			c.Number = fmt.Sprintf("%s-%s-%04d", strings.Split(m.counter, ":")[1], day, n)
			if err := tx.InsertCase(ctx, &c, &step, s.ClockRule()); err != nil {
				return err
			}
			if err := s.enqueueHooks(ctx, tx, &c, &step); err != nil {
				return err
			}
			if err := tx.AddItem(ctx, leaders.Item{ListID: list.ID, Kind: leaders.ItemCase, RefID: c.ID, AddedBy: actor.AccountID, AddedAt: now}); err != nil {
				return err
			}
			tx.AfterCommit(func() { s.hub.Publish(eventOf(&c, &step)) })
			if err := tx.NotifyCase(ctx, s.node, c.ID, c.Version); err != nil {
				return err
			}
			v.CaseIDs = append(v.CaseIDs, c.ID)
			out = append(out, c)
		}
		if err := tx.InsertVisit(ctx, v); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "visit", v.ID, false, nil, v))
	}
	err := s.db.Write(ctx, write, counters...)
	if errors.Is(err, store.ErrConflict) && fresh.ClientRef != "" {
		// The same visit sent twice at once (another node took the first):
		// the unique (recorded_by, client_ref) refused this one, and the
		// second try returns the visit the first made.
		err = s.db.Write(ctx, write, counters...)
	}
	if err != nil {
		return v, nil, err
	}
	return v, out, nil
}

// leaderList finds the leader's list of the year, making it on first use.
func (s *Service) leaderList(ctx context.Context, tx *store.Tx, leader store.Account, now time.Time) (leaders.List, error) {
	l, err := tx.ListOf(ctx, leaders.ListLeader, leader.ID, now)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return l, err
	}
	from, to := yearOf(now, s.Calendar().Location())
	l = leaders.List{ID: id.At(now), Name: fmt.Sprintf("%s %d年现场办公问题清单", leader.Name, from.Year()), Kind: leaders.ListLeader,
		OwnerID: leader.ID, OwnerName: leader.Name, RegionPath: leader.RegionPath, From: from, To: to, CreatedAt: now}
	if err := tx.PutList(ctx, l); err != nil {
		return l, err
	}
	return l, tx.Audit(ctx, s.auditEntry(cases.System, "list", l.ID, false, nil, l))
}

func yearOf(t time.Time, loc *time.Location) (time.Time, time.Time) {
	y := t.In(loc).Year()
	return time.Date(y, 1, 1, 0, 0, 0, 0, loc), time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
}

// Visits lists the visits the actor may see.
func (s *Service) Visits(ctx context.Context, actor cases.Actor, f store.VisitFilter) ([]leaders.Visit, error) {
	under, err := leaderScope(actor)
	if err != nil {
		return nil, err
	}
	if f.Under == "" || !strings.HasPrefix(f.Under, under) {
		f.Under = under
	}
	return s.db.Visits(ctx, f)
}

// Visit returns one visit with the cases its problems became (those the
// actor may see).
func (s *Service) Visit(ctx context.Context, actor cases.Actor, visitID string) (leaders.Visit, []cases.Case, error) {
	v, err := s.db.Visit(ctx, visitID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !leaders.CanSee(actor, v.RegionPath, v.LeaderID)) {
		return v, nil, apperr.New(apperr.NotFound, "现场办公记录不存在")
	} else if err != nil {
		return v, nil, err
	}
	var list []cases.Case
	if len(v.CaseIDs) > 0 {
		list, err = s.List(ctx, actor, store.CaseFilter{IDs: v.CaseIDs, Limit: len(v.CaseIDs)})
	}
	return v, list, err
}

// TotalRow is one row of the visits' totals, named.
type TotalRow struct {
	store.VisitTotal
	Name string `json:"name"`
}

// Totals counts visits, problems raised and solved by leader, street or
// month in the actor's region (S8: the district's figures are this query).
func (s *Service) Totals(ctx context.Context, actor cases.Actor, f store.VisitFilter, by store.TotalsBy) ([]TotalRow, error) {
	under, err := leaderScope(actor)
	if err != nil {
		return nil, err
	}
	if by != store.TotalsByLeader && by != store.TotalsByStreet && by != store.TotalsByMonth {
		return nil, apperr.Field("by", "统计维度应为 leader、street 或 month")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, apperr.Field("to", "结束时间应晚于开始时间")
	}
	if f.Under == "" || !strings.HasPrefix(f.Under, under) {
		f.Under = under
	}
	rows, err := s.db.VisitTotals(ctx, f, by, s.Calendar().Location())
	if err != nil {
		return nil, err
	}
	out := make([]TotalRow, len(rows))
	names := map[string]string{}
	for i, r := range rows {
		out[i] = TotalRow{VisitTotal: r, Name: r.Key}
		switch by {
		case store.TotalsByStreet:
			if n := s.RegionName(r.Key); n != "" {
				out[i].Name = n
			}
		case store.TotalsByLeader:
			if n, ok := names[r.Key]; ok {
				out[i].Name = n
			} else if a, err := s.db.Account(ctx, r.Key); err == nil {
				out[i].Name, names[r.Key] = a.Name, a.Name
			}
		}
	}
	return out, nil
}

// TotalCases is the drill-down of a total: the cases made from the
// filter's visits (solved narrows to closed or not), that the actor may see.
func (s *Service) TotalCases(ctx context.Context, actor cases.Actor, f store.VisitFilter, solved *bool, limit int) ([]cases.Case, error) {
	under, err := leaderScope(actor)
	if err != nil {
		return nil, err
	}
	if f.Under == "" || !strings.HasPrefix(f.Under, under) {
		f.Under = under
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	ids, err := s.db.VisitCaseIDs(ctx, f, solved, limit)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return s.List(ctx, actor, store.CaseFilter{IDs: ids, Limit: limit})
}

// CreateList makes a list: a leader or a commander, for a region in their
// own; the owner is the actor unless another leader is named.
func (s *Service) CreateList(ctx context.Context, actor cases.Actor, l leaders.List, regionCode string) (leaders.List, error) {
	now := s.Now()
	if l.OwnerID == "" || l.OwnerID == "me" {
		l.OwnerID, l.OwnerName = actor.AccountID, actor.Name
	} else if a, err := s.db.Account(ctx, l.OwnerID); err != nil || !a.Active {
		return l, apperr.Field("owner_id", "责任人账号不存在或已停用")
	} else {
		l.OwnerName = a.Name
	}
	var f apperr.Fields
	if err := l.Validate(); err != nil {
		f.Merge(err)
	}
	l.RegionPath = actor.RegionPath
	if regionCode != "" {
		if p, ok := s.RegionPath(regionCode); ok {
			l.RegionPath = p
		} else {
			f.Add("region", "区域不存在")
		}
	}
	if err := f.Err(); err != nil {
		return l, err
	}
	if !leaders.Steers(actor, l.RegionPath) {
		return l, apperr.New(apperr.Forbidden, "只有本辖区的领导或指挥中心可以建立清单")
	}
	l.ID, l.CreatedAt = id.At(now), now
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutList(ctx, l); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "list", l.ID, false, nil, l))
	})
	return l, err
}

// Lists lists the lists the actor may see.
func (s *Service) Lists(ctx context.Context, actor cases.Actor, f store.ListFilter) ([]leaders.List, error) {
	under, err := leaderScope(actor)
	if err != nil {
		return nil, err
	}
	if f.Under == "" || !strings.HasPrefix(f.Under, under) {
		f.Under = under
	}
	return s.db.Lists(ctx, f)
}

// list reads a list the actor may see.
func (s *Service) list(ctx context.Context, actor cases.Actor, listID string) (leaders.List, error) {
	l, err := s.db.List(ctx, listID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !leaders.CanSee(actor, l.RegionPath, l.OwnerID)) {
		return l, apperr.New(apperr.NotFound, "清单不存在")
	}
	return l, err
}

// AddItem puts a case or a project on a list: the list's owner, or a
// leader or commander of its region, who may see the case.
func (s *Service) AddItem(ctx context.Context, actor cases.Actor, listID string, kind leaders.ItemKind, refID string) error {
	l, err := s.list(ctx, actor, listID)
	if err != nil {
		return err
	}
	if actor.AccountID != l.OwnerID && !leaders.Steers(actor, l.RegionPath) {
		return apperr.New(apperr.Forbidden, "只有清单责任人或本辖区的领导、指挥中心可以调整清单")
	}
	now := s.Now()
	return s.db.Write(ctx, func(tx *store.Tx) error {
		switch kind {
		case leaders.ItemCase:
			c, err := tx.Case(ctx, refID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && !cases.CanSee(actor, &c)) {
				return apperr.Field("ref_id", "案件不存在")
			} else if err != nil {
				return err
			}
			refID = c.ID
		case leaders.ItemProject:
			p, err := tx.Project(ctx, refID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && !leaders.CanSee(actor, p.RegionPath, p.OwnerID)) {
				return apperr.Field("ref_id", "项目不存在")
			} else if err != nil {
				return err
			}
		default:
			return apperr.Field("kind", "清单事项应为 case 或 project")
		}
		it := leaders.Item{ListID: l.ID, Kind: kind, RefID: refID, AddedBy: actor.AccountID, AddedAt: now}
		if err := tx.AddItem(ctx, it); errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, "该事项已在清单上")
		} else if err != nil {
			return err
		}
		e := s.auditEntry(actor, "list", l.ID, true, nil, it)
		e.Before = nil
		return tx.Audit(ctx, e)
	})
}

// ItemView is one row of a list board: a case or a project with its state,
// clock, owner and last step.
type ItemView struct {
	Kind       leaders.ItemKind `json:"kind"`
	RefID      string           `json:"ref_id"`
	Number     string           `json:"number,omitempty"` // a case's number
	Title      string           `json:"title"`
	State      string           `json:"state"`
	StateLabel string           `json:"state_label"`
	Open       bool             `json:"open"`
	Clock      sla.Status       `json:"clock,omitempty"` // the case's headline clock, or the project's next milestone
	Due        time.Time        `json:"due,omitzero"`
	Owner      string           `json:"owner,omitempty"` // the lead unit
	LastStep   string           `json:"last_step,omitempty"`
	LastAt     time.Time        `json:"last_at,omitzero"`
	Supervised bool             `json:"supervised,omitempty"`
	// SupervisionLate: a supervision's deadline ran out with the case
	// still open (督办超期), or the case closed past it.
	SupervisionLate bool `json:"supervision_late,omitempty"`
	Urges           int  `json:"urges,omitempty"`
	Version         int  `json:"version"`
}

// Board is a list with its items.
type Board struct {
	List   leaders.List `json:"list"`
	Items  []ItemView   `json:"items"`
	Open   int          `json:"open"`
	Closed int          `json:"closed"`
}

// ListBoard returns a list and the state of every item the actor may see.
func (s *Service) ListBoard(ctx context.Context, actor cases.Actor, listID string) (Board, error) {
	l, err := s.list(ctx, actor, listID)
	if err != nil {
		return Board{}, err
	}
	items, err := s.db.Items(ctx, l.ID)
	if err != nil {
		return Board{}, err
	}
	now := s.Now()
	b := Board{List: l, Items: []ItemView{}}
	var caseIDs, projIDs []string
	for _, it := range items {
		if it.Kind == leaders.ItemCase {
			caseIDs = append(caseIDs, it.RefID)
		} else {
			projIDs = append(projIDs, it.RefID)
		}
	}
	byID := map[string]cases.Case{}
	for len(caseIDs) > 0 {
		n := min(len(caseIDs), 500)
		list, err := s.List(ctx, actor, store.CaseFilter{IDs: caseIDs[:n], Limit: n})
		if err != nil {
			return b, err
		}
		for _, c := range list {
			byID[c.ID] = c
		}
		caseIDs = caseIDs[n:]
	}
	projs, err := s.db.Projects(ctx, "", projIDs)
	if err != nil {
		return b, err
	}
	pByID := map[string]leaders.Project{}
	for _, p := range projs {
		pByID[p.ID] = p
	}
	for _, it := range items {
		var v ItemView
		switch it.Kind {
		case leaders.ItemCase:
			c, ok := byID[it.RefID]
			if !ok {
				continue
			}
			v = s.caseItem(ctx, c, now)
		case leaders.ItemProject:
			p, ok := pByID[it.RefID]
			if !ok {
				continue
			}
			v = s.projectItem(p, now)
		}
		if v.Open {
			b.Open++
		} else {
			b.Closed++
		}
		b.Items = append(b.Items, v)
	}
	return b, nil
}

func (s *Service) unitName(id string) string {
	if u, ok := s.Unit(id); ok {
		return u.Name
	}
	return id
}

func (s *Service) caseItem(ctx context.Context, c cases.Case, now time.Time) ItemView {
	v := ItemView{Kind: leaders.ItemCase, RefID: c.ID, Number: c.Number, Title: c.Description, State: string(c.State),
		StateLabel: c.State.Label(), Open: c.State.Open(), Supervised: c.Supervised, Urges: c.Urges, Version: c.Version}
	if r := []rune(v.Title); len(r) > 60 {
		v.Title = string(r[:60]) + "…"
	}
	if cl, ok := headline(c); ok {
		v.Clock, v.Due = cl.Status(now), cl.Due
	}
	for _, sv := range c.Supervisions {
		if sv.Late || sv.Clock.Overdue(now) {
			v.SupervisionLate = true
		}
	}
	if i := c.LeadTask(); i >= 0 {
		v.Owner = s.unitName(c.Tasks[i].UnitID)
	}
	if steps, err := s.db.Steps(ctx, c.ID); err == nil && len(steps) > 0 {
		last := steps[len(steps)-1]
		v.LastStep, v.LastAt = last.Action.Label(), last.At
	}
	return v
}

// headline is the case's running clock that falls due first: the stage's,
// or an active task's.
func headline(c cases.Case) (sla.Clock, bool) {
	var best sla.Clock
	found := false
	consider := func(cl sla.Clock) {
		if cl.Due.IsZero() || !cl.Running() {
			return
		}
		if !found || cl.Due.Before(best.Due) {
			best, found = cl, true
		}
	}
	consider(c.Clock)
	for _, t := range c.Tasks {
		if !t.Active() {
			continue
		}
		if t.State == cases.TaskDispatched {
			consider(t.Sign)
		}
		consider(t.Handle)
	}
	return best, found
}

func (s *Service) projectItem(p leaders.Project, now time.Time) ItemView {
	v := ItemView{Kind: leaders.ItemProject, RefID: p.ID, Title: p.Name, State: string(p.State), StateLabel: p.State.Label(),
		Open: p.State == leaders.ProjectOpen, Owner: s.unitName(p.LeadUnit), Version: p.Version}
	if m := p.Next(); m != nil && p.State == leaders.ProjectOpen {
		v.Clock, v.Due = m.Clock.Status(now), m.Clock.Due
		v.LastStep = "下一节点：" + m.Title
	}
	for _, m := range p.Milestones {
		if m.Met() && m.MetAt.After(v.LastAt) {
			v.LastAt, v.LastStep = m.MetAt, "完成节点："+m.Title
		}
	}
	if p.State == leaders.ProjectClosed {
		v.LastAt, v.LastStep = p.ClosedAt, "验收销号"
	}
	return v
}

// ProjectInput is a project as planned.
type ProjectInput struct {
	Name       string                   `json:"name"`
	Goal       string                   `json:"goal"`
	LeadUnit   string                   `json:"lead_unit"`
	CoUnits    []string                 `json:"co_units,omitempty"`
	Region     string                   `json:"region,omitempty"` // a region code; default the actor's region
	ListID     string                   `json:"list_id,omitempty"`
	Milestones []leaders.MilestoneInput `json:"milestones"`
}

func (s *Service) newProject(actor cases.Actor, in ProjectInput, path, caseID string, now time.Time) (leaders.Project, error) {
	var f apperr.Fields
	if in.LeadUnit != "" {
		if u, ok := s.Unit(in.LeadUnit); !ok || !u.Active {
			f.Add("lead_unit", "牵头单位不存在或已停用")
		}
	}
	for i, u := range in.CoUnits {
		if x, ok := s.Unit(u); !ok || !x.Active {
			f.Addf(fmt.Sprintf("co_units[%d]", i), "配合单位不存在或已停用")
		}
	}
	p, err := leaders.NewProject(leaders.Project{Name: in.Name, Goal: in.Goal, LeadUnit: in.LeadUnit, CoUnits: in.CoUnits,
		RegionPath: path, CaseID: caseID, OwnerID: actor.AccountID, CreatedAt: now}, in.Milestones, s.Calendar(), now)
	if err != nil {
		f.Merge(err)
	}
	if err := f.Err(); err != nil {
		return p, err
	}
	p.ID = id.At(now)
	return p, nil
}

// CreateProject makes a key rectification project, optionally on a list.
func (s *Service) CreateProject(ctx context.Context, actor cases.Actor, in ProjectInput) (leaders.Project, error) {
	now := s.Now()
	path := actor.RegionPath
	if in.Region != "" {
		p, ok := s.RegionPath(in.Region)
		if !ok {
			return leaders.Project{}, apperr.Field("region", "区域不存在")
		}
		path = p
	}
	if !leaders.Steers(actor, path) {
		return leaders.Project{}, apperr.New(apperr.Forbidden, "只有本辖区的领导或指挥中心可以设立重点整治整改项目")
	}
	p, err := s.newProject(actor, in, path, "", now)
	if err != nil {
		return p, err
	}
	var l leaders.List
	if in.ListID != "" {
		if l, err = s.list(ctx, actor, in.ListID); err != nil {
			return p, apperr.Field("list_id", "清单不存在")
		}
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		if l.ID != "" {
			if err := tx.AddItem(ctx, leaders.Item{ListID: l.ID, Kind: leaders.ItemProject, RefID: p.ID, AddedBy: actor.AccountID, AddedAt: now}); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, s.auditEntry(actor, "project", p.ID, false, nil, p))
	})
	return p, err
}

// ProjectView is a project with its origin case's meetings and the lists it
// is on.
type ProjectView struct {
	Project  leaders.Project   `json:"project"`
	Meetings []cases.Meeting   `json:"meetings,omitempty"`
	Case     *cases.Case       `json:"case,omitempty"`
	Lists    []string          `json:"lists,omitempty"`
	Late     int               `json:"late"`
	Clocks   []sla.Status      `json:"clocks"` // each milestone's clock now, in order
	Units    map[string]string `json:"units,omitempty"`
}

// canSeeProject: the leader records' scope, plus the lead and co-units.
func canSeeProject(actor cases.Actor, p leaders.Project) bool {
	if leaders.CanSee(actor, p.RegionPath, p.OwnerID) {
		return true
	}
	return actor.HandlesTasks() && (actor.UnitID == p.LeadUnit || slices.Contains(p.CoUnits, actor.UnitID))
}

// Project returns a project the actor may see.
func (s *Service) Project(ctx context.Context, actor cases.Actor, projectID string) (ProjectView, error) {
	p, err := s.db.Project(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeProject(actor, p)) {
		return ProjectView{}, apperr.New(apperr.NotFound, "项目不存在")
	} else if err != nil {
		return ProjectView{}, err
	}
	now := s.Now()
	v := ProjectView{Project: p, Late: p.Late(now), Units: map[string]string{p.LeadUnit: s.unitName(p.LeadUnit)}}
	for _, u := range p.CoUnits {
		v.Units[u] = s.unitName(u)
	}
	for _, m := range p.Milestones {
		v.Clocks = append(v.Clocks, m.Clock.Status(now))
	}
	if p.CaseID != "" {
		if c, _, err := s.Case(ctx, actor, p.CaseID); err == nil {
			v.Case, v.Meetings = &c, c.Meetings
		}
	}
	v.Lists, err = s.db.ListsOf(ctx, p.ID)
	return v, err
}

// Projects lists the projects in the actor's region.
func (s *Service) Projects(ctx context.Context, actor cases.Actor) ([]leaders.Project, error) {
	under, err := leaderScope(actor)
	if err != nil {
		return nil, err
	}
	return s.db.Projects(ctx, under, nil)
}

// ProjectStep is a change to a project: a milestone met, or the verdict.
type ProjectStep struct {
	Action   string        `json:"action"` // meet or verify
	Seq      int           `json:"seq,omitempty"`
	Evidence string        `json:"evidence,omitempty"`
	Photos   []cases.Photo `json:"photos,omitempty"`
	Verdict  string        `json:"verdict,omitempty"`
	Version  int           `json:"version,omitempty"` // the project version the client saw
}

// ProjectAct meets a milestone (the lead unit, or a leader or commander of
// the region) or verifies and closes the project (a leader or commander).
func (s *Service) ProjectAct(ctx context.Context, actor cases.Actor, projectID string, in ProjectStep) (leaders.Project, error) {
	now := s.Now()
	photos, err := s.resolvePhotos(in.Photos)
	if err != nil {
		return leaders.Project{}, err
	}
	var out leaders.Project
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		p, err := tx.Project(ctx, projectID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeProject(actor, p)) {
			return apperr.New(apperr.NotFound, "项目不存在")
		} else if err != nil {
			return err
		}
		if in.Version > 0 && in.Version != p.Version {
			return apperr.Newf(apperr.Conflict, "项目已被他人更新（当前第%d版），请刷新后重试", p.Version)
		}
		steers := leaders.Steers(actor, p.RegionPath)
		var n leaders.Project
		switch in.Action {
		case "meet":
			if !steers && !(actor.HandlesTasks() && actor.UnitID == p.LeadUnit) {
				return apperr.New(apperr.Forbidden, "只有牵头单位或本辖区的领导、指挥中心可以报告节点完成")
			}
			n, err = p.MeetMilestone(in.Seq, in.Evidence, photos, actor.Name, now)
		case "verify":
			if !steers {
				return apperr.New(apperr.Forbidden, "只有本辖区的领导或指挥中心可以验收销号")
			}
			n, err = p.Verify(actor.Name, in.Verdict, now)
		default:
			return apperr.Field("action", "操作应为 meet（节点完成）或 verify（验收销号）")
		}
		if err != nil {
			return err
		}
		if err := tx.UpdateProject(ctx, n, p.Version); errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, "项目已被他人更新，请刷新后重试")
		} else if err != nil {
			return err
		}
		out = n
		ev := projectEvent(n, in.Action, actor, now)
		tx.AfterCommit(func() { s.hub.Publish(ev) })
		if err := tx.NotifyProject(ctx, s.node, n.ID, in.Action, actor.AccountID); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "project", p.ID, true, p, n))
	})
	return out, err
}

// SuperviseInput is a supervision as asked for.
type SuperviseInput struct {
	Note    string    `json:"note"`
	Limit   sla.Limit `json:"limit"`
	ListID  string    `json:"list_id,omitempty"`
	Version int       `json:"version,omitempty"` // the case version the client saw
}

// Supervise (督办) presses a case: the case's supervise action and the
// supervision with its own clock, in one transaction.
func (s *Service) Supervise(ctx context.Context, actor cases.Actor, caseID string, in SuperviseInput) (leaders.Supervision, cases.Case, error) {
	now := s.Now()
	sv, err := leaders.NewSupervision(leaders.Supervision{CaseID: caseID, ListID: in.ListID, SupervisorID: actor.AccountID,
		SupervisorName: actor.Name, Note: in.Note, Limit: in.Limit}, s.Calendar(), now)
	if err != nil {
		return sv, cases.Case{}, err
	}
	if in.ListID != "" {
		if _, err := s.list(ctx, actor, in.ListID); err != nil {
			return sv, cases.Case{}, apperr.Field("list_id", "清单不存在")
		}
	}
	sv.ID = id.At(now)
	var out cases.Case
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		c, err := tx.Case(ctx, caseID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !cases.CanSee(actor, &c)) {
			return apperr.New(apperr.NotFound, "案件不存在")
		} else if err != nil {
			return err
		}
		if in.Version > 0 && in.Version != c.Version {
			return apperr.Newf(apperr.Conflict, "案件已被他人更新（当前第%d版，您看到的是第%d版），请刷新后重试", c.Version, in.Version)
		}
		// The supervise step carries the deadline: the case keeps the
		// supervision's clock, which the sweeper warns on (督办超期).
		cmd := cases.Command{Action: cases.ActSupervise, Note: fmt.Sprintf("%s（限%s内办结）", sv.Note, sv.Limit),
			SuperviseID: sv.ID, SuperviseBy: sv.Limit}
		n, _, err := s.apply(ctx, tx, c, cmd, actor, now)
		if err != nil {
			return err
		}
		sv.CaseID, out = c.ID, n
		if cs, ok := n.SupervisionOf(sv.ID); ok {
			sv.Clock = cs.Clock
		}
		if err := tx.InsertSupervision(ctx, sv, c.RegionPath); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "supervision", sv.ID, false, nil, sv))
	})
	return sv, out, err
}

// SupervisionView is a supervision with how its case stands: the progress
// reported back to the supervisor.
type SupervisionView struct {
	leaders.Supervision
	Number     string     `json:"number"`
	State      string     `json:"state"`
	StateLabel string     `json:"state_label"`
	Status     sla.Status `json:"status"` // the supervision's clock now
	LastStep   string     `json:"last_step,omitempty"`
	LastNote   string     `json:"last_note,omitempty"`
	LastAt     time.Time  `json:"last_at,omitzero"`
	Since      int        `json:"since"` // steps on the case since the supervision
}

// Supervisions lists supervisions with their cases' progress: the actor's
// own ("me"), or those of a case.
func (s *Service) Supervisions(ctx context.Context, actor cases.Actor, supervisorID, caseID string) ([]SupervisionView, error) {
	f := store.SupervisionFilter{}
	switch {
	case caseID != "":
		c, _, err := s.Case(ctx, actor, caseID)
		if err != nil {
			return nil, err
		}
		f.CaseIDs = []string{c.ID}
	case supervisorID == "me" || supervisorID == actor.AccountID:
		f.SupervisorID = actor.AccountID
	default:
		under, err := leaderScope(actor)
		if err != nil {
			return nil, err
		}
		f.SupervisorID, f.Under = supervisorID, under
	}
	list, err := s.db.Supervisions(ctx, f)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := []SupervisionView{}
	for _, sv := range list {
		c, err := s.db.Case(ctx, sv.CaseID)
		if err != nil || !cases.CanSee(actor, &c) && sv.SupervisorID != actor.AccountID {
			continue
		}
		v := SupervisionView{Supervision: sv, Number: c.Number, State: string(c.State), StateLabel: c.State.Label()}
		v.Clock = sv.ClockFor(&c)
		v.Status = v.Clock.Status(now)
		if steps, err := s.db.Steps(ctx, c.ID); err == nil {
			for _, st := range steps {
				if st.At.After(sv.At) || st.At.Equal(sv.At) && st.Action != cases.ActSupervise {
					v.Since++
				}
			}
			if len(steps) > 0 {
				last := steps[len(steps)-1]
				v.LastStep, v.LastNote, v.LastAt = last.Action.Label(), last.Note, last.At
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// EscalateInput takes a case on as a district key rectification project.
type EscalateInput struct {
	ProjectInput
	Note string `json:"note"`
}

// EscalateToProject (S6) takes a case on as a key rectification project of
// the district in one step: the case escalates to the district center (when
// a street center owns it), a project grows from it, and the project goes
// on the district's key project list of the year (made on first use), all
// in one transaction.
func (s *Service) EscalateToProject(ctx context.Context, actor cases.Actor, caseID string, in EscalateInput) (leaders.Project, cases.Case, error) {
	now := s.Now()
	if actor.Role != cases.RoleCommander {
		return leaders.Project{}, cases.Case{}, apperr.New(apperr.Forbidden, "只有指挥中心可以把案件上提为区级重点整治整改项目")
	}
	if strings.TrimSpace(in.Note) == "" {
		return leaders.Project{}, cases.Case{}, apperr.Field("note", "请写明列为重点项目的理由")
	}
	var p leaders.Project
	var out cases.Case
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		c, err := tx.Case(ctx, caseID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !cases.CanSee(actor, &c)) {
			return apperr.New(apperr.NotFound, "案件不存在")
		} else if err != nil {
			return err
		}
		if !c.State.Open() || c.State == cases.Held {
			return apperr.New(apperr.Refused, "案件已办结或尚待甄别，不能列为重点项目")
		}
		if _, err := tx.ProjectOfCase(ctx, c.ID); err == nil {
			return apperr.New(apperr.Conflict, "该案件已列为重点整治整改项目")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		district := c.RegionPath
		if parts := strings.Split(strings.Trim(c.RegionPath, "/"), "/"); len(parts) >= 2 {
			district = "/" + parts[0] + "/" + parts[1] + "/"
		}
		if !leaders.Steers(actor, c.RegionPath) {
			return apperr.New(apperr.Forbidden, "只有本辖区的领导或指挥中心可以列为重点项目")
		}
		if c.CenterPath != district {
			// The street center hands it up: the case loop's escalate.
			n, _, err := s.apply(ctx, tx, c, cases.Command{Action: cases.ActEscalate, Note: "列为区级重点整治整改项目：" + in.Note}, actor, now)
			if err != nil {
				return err
			}
			c = n
		}
		out = c
		if in.Name == "" {
			in.Name = string([]rune(c.Description)[:min(30, len([]rune(c.Description)))])
		}
		p, err = s.newProject(actor, in.ProjectInput, district, c.ID, now)
		if err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		l, err := tx.ListAt(ctx, leaders.ListProject, district, now)
		if errors.Is(err, store.ErrNotFound) {
			from, to := yearOf(now, s.Calendar().Location())
			l = leaders.List{ID: id.At(now), Name: fmt.Sprintf("%d年%s重点整治整改项目清单", from.Year(), s.RegionName(lastCode(district))),
				Kind: leaders.ListProject, OwnerID: actor.AccountID, OwnerName: actor.Name, RegionPath: district, From: from, To: to, CreatedAt: now}
			if err := tx.PutList(ctx, l); err != nil {
				return err
			}
			if err := tx.Audit(ctx, s.auditEntry(actor, "list", l.ID, false, nil, l)); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := tx.AddItem(ctx, leaders.Item{ListID: l.ID, Kind: leaders.ItemProject, RefID: p.ID, AddedBy: actor.AccountID, AddedAt: now}); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "project", p.ID, false, nil, p))
	})
	return p, out, err
}

// PairingFigures is a pairing with its figures now: the leader's home.
type PairingFigures struct {
	Pairing  leaders.Pairing `json:"pairing"`
	Open     int             `json:"open"`     // open cases in the target's region
	Overdue  int             `json:"overdue"`  // of those, past due
	Whistles int             `json:"whistles"` // open cases with a whistle, among the newest 500 open
}

// LeaderHome is what a leader's pages start from: their pairings with
// figures, their lists, their supervisions.
type LeaderHome struct {
	Leader       store.Account     `json:"leader"`
	Pairings     []PairingFigures  `json:"pairings"`
	Lists        []leaders.List    `json:"lists"`
	Supervisions []SupervisionView `json:"supervisions"`
	Visits       []leaders.Visit   `json:"visits"` // the latest
}

// Home returns the actor's home as a leader.
func (s *Service) Home(ctx context.Context, actor cases.Actor) (LeaderHome, error) {
	if actor.Role != cases.RoleLeader {
		return LeaderHome{}, apperr.New(apperr.Forbidden, "只有领导有包联首页")
	}
	a, err := s.db.Account(ctx, actor.AccountID)
	if err != nil {
		return LeaderHome{}, err
	}
	a.PasswordHash = ""
	now := s.Now()
	h := LeaderHome{Leader: a, Pairings: []PairingFigures{}}
	ps, err := s.db.Pairings(ctx, store.PairingFilter{LeaderID: actor.AccountID, At: now})
	if err != nil {
		return h, err
	}
	open, yes := true, true
	for _, p := range ps {
		pf := PairingFigures{Pairing: p}
		// The leader's pairing lets them follow its region's cases even
		// outside their own region.
		sys := cases.System
		if pf.Open, err = s.Count(ctx, sys, store.CaseFilter{RegionPath: p.RegionPath, Open: &open, Now: now}); err != nil {
			return h, err
		}
		if pf.Overdue, err = s.Count(ctx, sys, store.CaseFilter{RegionPath: p.RegionPath, Open: &open, Overdue: &yes, Now: now}); err != nil {
			return h, err
		}
		list, err := s.db.Cases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, RegionPath: p.RegionPath, Open: &open, Limit: 500})
		if err != nil {
			return h, err
		}
		for _, c := range list {
			if len(c.Whistles) > 0 {
				pf.Whistles++
			}
		}
		h.Pairings = append(h.Pairings, pf)
	}
	if h.Lists, err = s.db.Lists(ctx, store.ListFilter{OwnerID: actor.AccountID}); err != nil {
		return h, err
	}
	if h.Supervisions, err = s.Supervisions(ctx, actor, "me", ""); err != nil {
		return h, err
	}
	h.Visits, err = s.db.Visits(ctx, store.VisitFilter{LeaderID: actor.AccountID, Limit: 10})
	return h, err
}
