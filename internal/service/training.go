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
	"zhizhi/internal/store"
)

// Cadre training (issue 13): courses, sessions with their attendees,
// practical postings, a cadre's record and the figures per street and
// department. Leaders, commanders and administrators keep the records of
// the cadres in their region; every write is audited (kind training).

// trainer checks that the actor keeps training records.
func trainer(actor cases.Actor) (string, error) {
	under, err := leaderScope(actor)
	if err != nil {
		return "", apperr.New(apperr.Forbidden, "只有领导、指挥中心和管理员可以管理干部培训")
	}
	return under, nil
}

// cadre reads an account the actor keeps training records of.
func (s *Service) cadre(ctx context.Context, actor cases.Actor, accountID, field string) (store.Account, error) {
	under, err := trainer(actor)
	if err != nil {
		return store.Account{}, err
	}
	a, err := s.db.Account(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!a.Active || !strings.HasPrefix(s.accountPath(a), under))) {
		return a, apperr.Field(field, "干部账号不存在或不在本辖区")
	}
	return a, err
}

// CreateCourse stores a new course.
func (s *Service) CreateCourse(ctx context.Context, actor cases.Actor, c leaders.Course) (leaders.Course, error) {
	if _, err := trainer(actor); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	now := s.Now()
	c.ID, c.CreatedAt = id.At(now), now
	return c, s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutCourse(ctx, c); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "training", c.ID, false, nil, c))
	})
}

// Courses lists the courses (to those who keep training records).
func (s *Service) Courses(ctx context.Context, actor cases.Actor) ([]leaders.Course, error) {
	if _, err := trainer(actor); err != nil {
		return nil, err
	}
	return s.db.Courses(ctx)
}

// RecordSession stores a session of a course with the cadres attending.
func (s *Service) RecordSession(ctx context.Context, actor cases.Actor, in leaders.Session) (leaders.Session, error) {
	under, err := trainer(actor)
	if err != nil {
		return in, err
	}
	var f apperr.Fields
	if err := in.Validate(); err != nil {
		f.Merge(err)
	}
	course, err := s.db.Course(ctx, in.CourseID)
	if in.CourseID != "" && errors.Is(err, store.ErrNotFound) {
		f.Add("course_id", "课程不存在")
	} else if in.CourseID != "" && err != nil {
		return in, err
	}
	var who []store.Attendee
	for i, accountID := range in.Attendees {
		if accountID == "" {
			continue
		}
		a, err := s.cadre(ctx, actor, accountID, fmt.Sprintf("attendees[%d]", i))
		var e *apperr.Error
		if errors.As(err, &e) && e.Kind == apperr.Invalid {
			f.Merge(err)
			continue
		} else if err != nil {
			return in, err
		}
		who = append(who, store.Attendee{AccountID: a.ID, StreetCode: streetOf(s.accountPath(a)), UnitID: a.UnitID})
	}
	if err := f.Err(); err != nil {
		return in, err
	}
	now := s.Now()
	in.ID, in.CreatedAt, in.RegionPath = id.At(now), now, under
	return in, s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertSession(ctx, in, course.Hours, who); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "training", in.ID, false, nil, in))
	})
}

// AddPosting records a cadre's practical posting.
func (s *Service) AddPosting(ctx context.Context, actor cases.Actor, p leaders.Posting, regionCode string) (leaders.Posting, error) {
	var f apperr.Fields
	if err := p.Validate(); err != nil {
		f.Merge(err)
	}
	var a store.Account
	if p.CadreID != "" {
		var err error
		if a, err = s.cadre(ctx, actor, p.CadreID, "cadre_id"); err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.Invalid {
				return p, err
			}
			f.Merge(err)
		}
	}
	p.RegionPath = s.accountPath(a)
	if regionCode != "" {
		if path, ok := s.RegionPath(regionCode); ok {
			p.RegionPath = path
		} else {
			f.Add("region", "区域不存在")
		}
	}
	if err := f.Err(); err != nil {
		return p, err
	}
	now := s.Now()
	p.ID, p.CreatedAt = id.At(now), now
	return p, s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertPosting(ctx, p); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "training", p.ID, false, nil, p))
	})
}

// SessionLine is a session on a cadre's record, with its course.
type SessionLine struct {
	Session leaders.Session `json:"session"`
	Course  leaders.Course  `json:"course"`
}

// CadreRecord is a cadre's training record.
type CadreRecord struct {
	CadreID  string            `json:"cadre_id"`
	Name     string            `json:"name"`
	Role     cases.Role        `json:"role"`
	Unit     string            `json:"unit,omitempty"`
	Region   string            `json:"region,omitempty"`
	Sessions []SessionLine     `json:"sessions"`
	Hours    int               `json:"hours"`
	Postings []leaders.Posting `json:"postings"`
}

// Record returns a cadre's training record: their own, or one of a cadre
// in the reader's region.
func (s *Service) Record(ctx context.Context, actor cases.Actor, accountID string) (CadreRecord, error) {
	if accountID == "me" {
		accountID = actor.AccountID
	}
	var a store.Account
	var err error
	if accountID == actor.AccountID {
		a, err = s.db.Account(ctx, accountID)
	} else if a, err = s.cadre(ctx, actor, accountID, "id"); err != nil {
		if apperr.Is(err, apperr.Invalid) {
			return CadreRecord{}, apperr.New(apperr.NotFound, "干部不存在")
		}
		return CadreRecord{}, err
	}
	if err != nil {
		return CadreRecord{}, err
	}
	r := CadreRecord{CadreID: a.ID, Name: a.Name, Role: a.Role, Sessions: []SessionLine{}, Postings: []leaders.Posting{}}
	if a.UnitID != "" {
		r.Unit = s.unitName(a.UnitID)
	}
	if p := s.accountPath(a); p != "" {
		r.Region = s.RegionName(lastCode(p))
	}
	sessions, err := s.db.SessionsOf(ctx, a.ID)
	if err != nil {
		return r, err
	}
	courses := map[string]leaders.Course{}
	for _, ss := range sessions {
		c, ok := courses[ss.CourseID]
		if !ok {
			if c, err = s.db.Course(ctx, ss.CourseID); err != nil {
				return r, err
			}
			courses[ss.CourseID] = c
		}
		r.Sessions = append(r.Sessions, SessionLine{Session: ss, Course: c})
		r.Hours += c.Hours
	}
	ps, err := s.db.PostingsOf(ctx, a.ID)
	if ps != nil {
		r.Postings = ps
	}
	return r, err
}

// TrainingRow is one row of the training figures, named.
type TrainingRow struct {
	store.TrainingFigure
	Name string `json:"name"`
}

// TrainingFigures counts the cadres trained, attendances and class hours
// per street or department (by "street" or "unit") in [from, to), for the
// streets and units in the reader's region.
func (s *Service) TrainingFigures(ctx context.Context, actor cases.Actor, by string, from, to time.Time) ([]TrainingRow, error) {
	under, err := trainer(actor)
	if err != nil {
		return nil, err
	}
	if by != "street" && by != "unit" {
		return nil, apperr.Field("by", "统计维度应为 street 或 unit")
	}
	rows, err := s.db.TrainingFigures(ctx, by == "unit", from, to)
	if err != nil {
		return nil, err
	}
	posts, err := s.db.PostingCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	rows = withPostings(rows, posts, func(c store.PostingCount) string {
		if by == "unit" {
			return c.UnitID
		}
		a := store.Account{Role: cases.Role(c.Role), RegionPath: c.RegionPath, UnitID: c.UnitID}
		return streetOf(s.accountPath(a))
	})
	out := []TrainingRow{}
	for _, r := range rows {
		name, path := "", ""
		if by == "unit" {
			if u, ok := s.Unit(r.Key); ok {
				name, path = u.Name, u.RegionPath
			}
		} else if p, ok := s.RegionPath(r.Key); ok {
			name, path = s.RegionName(r.Key), p
		}
		if path == "" || !strings.HasPrefix(path, under) {
			continue
		}
		out = append(out, TrainingRow{TrainingFigure: r, Name: name})
	}
	return out, nil
}

// withPostings adds the postings to the attendance figures, each group of
// postings under the key place gives it (a street code or a unit ID; ""
// for a cadre of none), keeping the rows in key order.
func withPostings(rows []store.TrainingFigure, posts []store.PostingCount, place func(store.PostingCount) string) []store.TrainingFigure {
	at := map[string]int{}
	for i, r := range rows {
		at[r.Key] = i
	}
	for _, c := range posts {
		k := place(c)
		i, ok := at[k]
		if !ok {
			rows = append(rows, store.TrainingFigure{Key: k})
			i = len(rows) - 1
			at[k] = i
		}
		rows[i].Postings += c.Postings
		rows[i].Posted += c.Cadres
	}
	slices.SortFunc(rows, func(a, b store.TrainingFigure) int { return strings.Compare(a.Key, b.Key) })
	return rows
}
