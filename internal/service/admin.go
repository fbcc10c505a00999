package service

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/routing"
	"zhizhi/internal/store"
)

// PutCategory validates and stores an entry of the graded classification
// library, bumps its version and records the change in the audit trail, then
// refreshes the caches. Cases dispatched before keep the version they were
// routed under.
func (s *Service) PutCategory(ctx context.Context, actor cases.Actor, c cases.Category) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Limits != nil {
		if err := c.Limits.Validate(); err != nil {
			return err
		}
	}
	if c.DefaultUnit != "" {
		if _, ok := s.Unit(c.DefaultUnit); !ok {
			return apperr.Field("default_unit", "默认部门不存在")
		}
	}
	old, existed := s.Category(c.Code)
	c.Version = old.Version + 1
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutCategory(ctx, c); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "category", c.Code, existed, old, c))
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// PutUnit validates and stores a unit (a department, a street's board, post
// or section, or a community), records the change in the audit trail, then
// refreshes the caches.
func (s *Service) PutUnit(ctx context.Context, actor cases.Actor, u cases.Unit) error {
	var f apperr.Fields
	if !strings.ContainsAny(u.ID, "abcdefghijklmnopqrstuvwxyz0123456789") || len(u.ID) > 40 {
		f.Add("id", "编号无效")
	}
	u.Name = strings.TrimSpace(u.Name)
	if n := len([]rune(u.Name)); n == 0 || n > 50 {
		f.Add("name", "名称不能为空且不超过50字")
	}
	if _, ok := s.pathKnown(u.RegionPath); !ok {
		f.Add("region_path", "所属区域不存在")
	} else {
		var parent *cases.Unit
		if p, ok := s.Unit(u.Parent); ok {
			parent = &p
		}
		if err := routing.ValidateUnit(u, parent); err != nil {
			f.Merge(err)
		}
	}
	old, existed := s.Unit(u.ID)
	if existed && old.Kind == cases.UnitBoard && (u.Kind != cases.UnitBoard || u.Board != old.Board || u.RegionPath != old.RegionPath) {
		for _, c := range s.ref.Load().children[u.ID] {
			f.Addf("kind", "板块下还有岗位或科室（如“%s”），不能改变其类型、板块或街道", s.ref.Load().units[c].Name)
			break
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutUnit(ctx, u); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "unit", u.ID, existed, old, u))
	})
	if errors.Is(err, store.ErrConflict) {
		return apperr.Field("name", "名称已被其他单位使用")
	}
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// auditEntry builds the audit row of a change to reference data.
func (s *Service) auditEntry(actor cases.Actor, kind, objectID string, existed bool, before, after any) store.AuditEntry {
	e := store.AuditEntry{ID: id.New(), At: s.Now(), ActorID: actor.AccountID, ActorName: actor.Name,
		Kind: kind, ObjectID: objectID, Action: "create"}
	if existed {
		e.Action = "update"
		e.Before, _ = json.Marshal(before)
	}
	e.After, _ = json.Marshal(after)
	return e
}

// AuditLog lists the audit trail, newest first.
func (s *Service) AuditLog(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	return s.db.AuditLog(ctx, f)
}

func (s *Service) pathKnown(path string) (string, bool) {
	code := lastCode(path)
	p, ok := s.RegionPath(code)
	return code, ok && p == path
}

// CalendarConfig returns the working hours and overlay in force.
func (s *Service) CalendarConfig(ctx context.Context) calendar.Config {
	var cfg calendar.Config
	if err := s.db.Setting(ctx, "calendar", &cfg); err != nil {
		cfg.Hours = calendar.DefaultHours()
	}
	return cfg
}

// PutCalendar validates and stores working hours and the holiday overlay.
func (s *Service) PutCalendar(ctx context.Context, cfg calendar.Config) error {
	if _, err := calendar.New(cfg); err != nil {
		return err
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, "calendar", cfg) }); err != nil {
		return err
	}
	return s.changed(ctx)
}
