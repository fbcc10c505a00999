package service

import (
	"context"
	"errors"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// PutCategory validates and stores a category, then refreshes the caches.
func (s *Service) PutCategory(ctx context.Context, c cases.Category) error {
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
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutCategory(ctx, c) }); err != nil {
		return err
	}
	return s.changed(ctx)
}

// PutUnit validates and stores a unit, then refreshes the caches.
func (s *Service) PutUnit(ctx context.Context, u cases.Unit) error {
	var f apperr.Fields
	if !strings.ContainsAny(u.ID, "abcdefghijklmnopqrstuvwxyz0123456789") || len(u.ID) > 40 {
		f.Add("id", "编号无效")
	}
	if n := len([]rune(strings.TrimSpace(u.Name))); n == 0 || n > 50 {
		f.Add("name", "名称不能为空且不超过50字")
	}
	if u.Kind != "department" && u.Kind != "section" {
		f.Add("kind", "类型应为 department（区级部门）或 section（街道科室）")
	}
	if _, ok := s.pathKnown(u.RegionPath); !ok {
		f.Add("region_path", "所属区域不存在")
	}
	if err := f.Err(); err != nil {
		return err
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutUnit(ctx, u) })
	if errors.Is(err, store.ErrConflict) {
		return apperr.Field("name", "名称已被其他部门使用")
	}
	if err != nil {
		return err
	}
	return s.changed(ctx)
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
