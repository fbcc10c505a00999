package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/routing"
	"zhizhi/internal/store"
	"zhizhi/internal/textcheck"
)

// PutCategory validates and stores an entry of the graded classification
// library, bumps its version and records the change in the audit trail, then
// refreshes the caches. Cases dispatched before keep the version they were
// routed under.
func (s *Service) PutCategory(ctx context.Context, actor cases.Actor, c cases.Category) error {
	return s.PutCategories(ctx, actor, []cases.Category{c})
}

// PutCategories stores several library entries in one transaction, each
// validated, versioned and audited, and refreshes the caches once; nothing
// is stored if one is refused.
func (s *Service) PutCategories(ctx context.Context, actor cases.Actor, list []cases.Category) error {
	if err := requireDistrictWide(actor, "事项分类（分级分类清单）"); err != nil {
		return err
	}
	ref := s.ref.Load()
	for i := range list {
		c := &list[i]
		if err := c.Validate(); err != nil {
			return err
		}
		if c.Limits != nil {
			if err := c.Limits.Validate(); err != nil {
				return err
			}
		}
		if c.DefaultUnit != "" {
			if _, ok := ref.units[c.DefaultUnit]; !ok {
				return apperr.Field("default_unit", "默认部门不存在")
			}
		}
		c.Version = ref.categories[c.Code].Version + 1
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for _, c := range list {
			if err := tx.PutCategory(ctx, c); err != nil {
				return err
			}
			old, existed := ref.categories[c.Code]
			if err := tx.Audit(ctx, s.auditEntry(actor, "category", c.Code, existed, old, c)); err != nil {
				return err
			}
		}
		return nil
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
	return s.PutUnits(ctx, actor, []cases.Unit{u})
}

// PutUnits validates and stores several units in one transaction (a post may
// name a board given earlier in the list), each with its audit row, and
// refreshes the caches once. Nothing is stored if any unit is refused; the
// fields of a refusal name the unit by its place in the list when there are
// several.
func (s *Service) PutUnits(ctx context.Context, actor cases.Actor, list []cases.Unit) error {
	ref := s.ref.Load()
	for _, u := range list {
		old, existed := ref.units[u.ID]
		if !administers(actor, u.RegionPath) || (existed && !administers(actor, old.RegionPath)) {
			name := u.Name
			if existed {
				name = old.Name
			}
			return apperr.New(apperr.Forbidden, "只能管理本辖区内的单位，“"+name+"”不在本辖区内")
		}
	}
	batch := map[string]cases.Unit{}
	var f apperr.Fields
	for i, u := range list {
		prefix := ""
		if len(list) > 1 {
			prefix = fmt.Sprintf("units[%d].", i)
		}
		var uf apperr.Fields
		if !strings.ContainsAny(u.ID, "abcdefghijklmnopqrstuvwxyz0123456789") || len(u.ID) > 40 {
			uf.Add("id", "编号无效")
		}
		list[i].Name = strings.TrimSpace(u.Name)
		u = list[i]
		if n := len([]rune(u.Name)); n == 0 || n > 50 {
			uf.Add("name", "名称不能为空且不超过50字")
		}
		textcheck.AddLine(&uf, "name", u.Name)
		if _, ok := s.pathKnown(u.RegionPath); !ok {
			uf.Add("region_path", "所属区域不存在")
		} else {
			var parent *cases.Unit
			if p, ok := batch[u.Parent]; ok {
				parent = &p
			} else if p, ok := ref.units[u.Parent]; ok {
				parent = &p
			}
			if err := routing.ValidateUnit(u, parent); err != nil {
				uf.Merge(err)
			}
		}
		if old, ok := ref.units[u.ID]; ok && old.Kind == cases.UnitBoard &&
			(u.Kind != cases.UnitBoard || u.Board != old.Board || u.RegionPath != old.RegionPath) && len(ref.children[u.ID]) > 0 {
			uf.Addf("kind", "板块下还有岗位或科室（如“%s”），不能改变其类型、板块或街道", ref.units[ref.children[u.ID][0]].Name)
		}
		if err := uf.Err(); err != nil {
			for _, fe := range err.(*apperr.Error).Fields {
				f.Add(prefix+fe.Field, fe.Reason)
			}
		}
		batch[u.ID] = u
	}
	if err := f.Err(); err != nil {
		return err
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for _, u := range list {
			if err := tx.PutUnit(ctx, u); err != nil {
				return err
			}
			old, existed := ref.units[u.ID]
			if err := tx.Audit(ctx, s.auditEntry(actor, "unit", u.ID, existed, old, u)); err != nil {
				return err
			}
		}
		return nil
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
