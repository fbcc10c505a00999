package service

import (
	"context"
	"io"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/routing"
	"zhizhi/internal/store"
)

// Administrators' scope (issue 20). An administrator reads and changes only
// what lies inside its own region subtree: accounts, units, regions. It
// never grants a role or a scope wider than its own (an account it makes or
// changes must lie inside its subtree, before and after). District-wide
// settings (the graded classification library, the calendar, the
// evaluation's rules) belong to administrators of a district or above. The
// system (demo loading, the command line) is not bound.

// administers reports whether the actor may administer what lies at path.
func administers(actor cases.Actor, path string) bool {
	switch actor.Role {
	case cases.RoleSystem:
		return true
	case cases.RoleAdmin:
		return path != "" && actor.RegionPath != "" && strings.HasPrefix(path, actor.RegionPath)
	}
	return false
}

// DistrictWide reports whether the actor may change district-wide settings:
// an administrator of a district, of the city, or the system.
func DistrictWide(actor cases.Actor) bool {
	if actor.Role == cases.RoleSystem {
		return true
	}
	d := routing.Depth(actor.RegionPath)
	return actor.Role == cases.RoleAdmin && (d == 1 || d == 2)
}

// requireDistrictWide refuses a scoped administrator a district-wide setting.
func requireDistrictWide(actor cases.Actor, what string) error {
	if DistrictWide(actor) {
		return nil
	}
	return apperr.New(apperr.Forbidden, what+"由区级及以上管理员维护")
}

// accountPath is where an account lies for its administrators: its region,
// or its unit's for a department account; "" for residents, whom only
// district-wide administrators manage.
func (s *Service) accountPath(a store.Account) string {
	if a.Role == cases.RoleUnit {
		if u, ok := s.Unit(a.UnitID); ok {
			return u.RegionPath
		}
		return ""
	}
	return a.RegionPath
}

// administersAccount reports whether the actor may see and change an account.
func (s *Service) administersAccount(actor cases.Actor, a store.Account) bool {
	if p := s.accountPath(a); p != "" {
		return administers(actor, p)
	}
	return DistrictWide(actor)
}

// Accounts lists the accounts the actor administers (password hashes
// cleared).
func (s *Service) Accounts(ctx context.Context, actor cases.Actor) ([]store.Account, error) {
	all, err := s.db.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if s.administersAccount(actor, a) {
			a.PasswordHash = ""
			out = append(out, a)
		}
	}
	return out, nil
}

// ImportRegionsAs imports regions for an administrator: every region in the
// file must lie inside its subtree (with its parent), or nothing is
// imported. The import is recorded in the audit trail.
func (s *Service) ImportRegionsAs(ctx context.Context, actor cases.Actor, r io.Reader, format string) (int, error) {
	return s.importRegions(ctx, actor, r, format)
}

// PutCalendarAs sets the working calendar for a district-wide administrator,
// with an audit entry.
func (s *Service) PutCalendarAs(ctx context.Context, actor cases.Actor, cfg calendar.Config) error {
	if err := requireDistrictWide(actor, "工作日历"); err != nil {
		return err
	}
	if _, err := calendar.New(cfg); err != nil {
		return err
	}
	old := s.CalendarConfig(ctx)
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, "calendar", cfg); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "calendar", "calendar", true, old, cfg))
	}); err != nil {
		return err
	}
	return s.changed(ctx)
}

// AuditLogAs lists the audit trail for an administrator: all of it for a
// district-wide one; a scoped one only the trail of one account or unit it
// administers (object_id required), or of a category.
func (s *Service) AuditLogAs(ctx context.Context, actor cases.Actor, f store.AuditFilter) ([]store.AuditEntry, error) {
	if !DistrictWide(actor) {
		ok := false
		switch f.Kind {
		case "unit":
			u, found := s.Unit(f.ObjectID)
			ok = found && administers(actor, u.RegionPath)
		case "account":
			a, err := s.db.Account(ctx, f.ObjectID)
			ok = err == nil && s.administersAccount(actor, a)
		case "category":
			ok = f.ObjectID != ""
		}
		if !ok {
			return nil, apperr.New(apperr.Forbidden, "只能查看本辖区内账号、单位的操作记录")
		}
	}
	return s.db.AuditLog(ctx, f)
}
