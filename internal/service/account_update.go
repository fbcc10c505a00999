package service

import (
	"context"
	"errors"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
	"zhizhi/internal/textcheck"
)

// AccountChange is what an administrator changes on an account; a nil field
// is left as it is. RegionCode names the new region by its code.
type AccountChange struct {
	Name       *string     `json:"name,omitempty"`
	Role       *cases.Role `json:"role,omitempty"`
	RegionCode *string     `json:"region_code,omitempty"`
	UnitID     *string     `json:"unit_id,omitempty"`
	Title      *string     `json:"title,omitempty"`
	Phone      *string     `json:"phone,omitempty"`
	Active     *bool       `json:"active,omitempty"`
	Password   *string     `json:"password,omitempty"`
	Unlock     *bool       `json:"unlock,omitempty"` // true: forget failed sign-ins and lift a lock
}

// UpdateAccount validates and applies an administrator's change to an
// account. An administrator cannot deactivate or demote their own account.
// Deactivating an account or changing its password, role or scope signs it
// out everywhere: its tokens are deleted and the token cache is cleared.
func (s *Service) UpdateAccount(ctx context.Context, by cases.Actor, id string, in AccountChange, params auth.Params) (store.Account, error) {
	old, err := s.db.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, apperr.New(apperr.NotFound, "账号不存在")
	}
	if err != nil {
		return store.Account{}, err
	}
	if by.Role != cases.RoleSystem && !s.administersAccount(by, old) {
		return store.Account{}, apperr.New(apperr.Forbidden, "该账号不在本辖区内，不能修改")
	}
	a := old
	var f apperr.Fields
	if in.Name != nil {
		a.Name = strings.TrimSpace(*in.Name)
		if n := len([]rune(a.Name)); n == 0 || n > 50 {
			f.Add("name", "姓名不能为空且不超过50字")
		}
		textcheck.AddLine(&f, "name", a.Name)
	}
	if in.Role != nil {
		a.Role = *in.Role
		if !a.Role.Valid() {
			f.Add("role", "角色无效")
		}
	}
	if in.Phone != nil {
		// A number stored before numbers were checked stays until changed,
		// so such an account can still be edited otherwise.
		if a.Phone = strings.TrimSpace(*in.Phone); a.Phone != "" && a.Phone != old.Phone {
			if n, ok := cases.NormalizeStaffPhone(a.Phone); ok {
				a.Phone = n
			} else {
				f.Add("phone", cases.PhoneHint)
			}
		}
	}
	if in.Active != nil {
		a.Active = *in.Active
	}
	if in.Password != nil && len(*in.Password) < 8 {
		f.Add("password", "密码至少8位")
	}
	if old.ID == by.AccountID {
		if !a.Active {
			f.Add("active", "不能停用自己的账号")
		}
		if a.Role != cases.RoleAdmin {
			f.Add("role", "不能取消自己的管理员角色")
		}
	}
	if in.Title != nil {
		a.Title = strings.TrimSpace(*in.Title)
		textcheck.AddLine(&f, "title", a.Title)
	}
	if a.Role == cases.RoleHead && (in.Title != nil || in.Role != nil) {
		titles, err := s.HeadTitles(ctx)
		if err != nil {
			return store.Account{}, err
		}
		if !slices.Contains(titles, a.Title) {
			f.Addf("title", "三长须选择职务：%s", strings.Join(titles, "、"))
		}
	} else if a.Role != cases.RoleHead && len([]rune(a.Title)) > 20 {
		f.Add("title", "职务不能超过20字")
	}
	// Scope: a unit account has a unit, a resident or enterprise neither, any
	// other role a region.
	if in.UnitID != nil {
		a.UnitID = *in.UnitID
	}
	switch a.Role {
	case cases.RoleUnit:
		a.RegionPath = ""
		u, ok := s.Unit(a.UnitID)
		changed := a.UnitID != old.UnitID || old.Role != cases.RoleUnit
		if !ok || (changed && !u.Active) || u.Kind == cases.UnitCommunity {
			f.Add("unit_id", "部门账号须指定有效的部门、板块、岗位或科室")
		}
	case cases.RoleCommunity:
		if in.RegionCode != nil {
			a.RegionPath, _ = s.RegionPath(strings.TrimSpace(*in.RegionCode))
		}
		u, ok := s.Unit(a.UnitID)
		if !ok || u.Kind != cases.UnitCommunity || (a.UnitID != old.UnitID && !u.Active) {
			f.Add("unit_id", "社区账号须指定有效的社区单位")
		} else if a.RegionPath != u.RegionPath {
			f.Add("region_code", "社区账号的区域须是其社区单位所在的社区")
		}
	case cases.RoleResident:
		a.RegionPath, a.UnitID = "", ""
	case cases.RoleEnterprise:
		a.UnitID = ""
		if in.RegionCode != nil {
			a.RegionPath, _ = s.RegionPath(strings.TrimSpace(*in.RegionCode))
		}
		if code := lastCode(a.RegionPath); a.RegionPath == "" || s.ref.Load().levels[code] != region.Street {
			f.Add("region_code", "企业账号须指定所在街道")
		}
	default:
		a.UnitID = ""
		if in.RegionCode != nil {
			p, ok := s.RegionPath(strings.TrimSpace(*in.RegionCode))
			if !ok {
				f.Add("region_code", "须指定账号管辖的区域")
			}
			a.RegionPath = p
		} else if _, ok := s.pathKnown(a.RegionPath); a.RegionPath == "" || !ok {
			f.Add("region_code", "须指定账号管辖的区域")
		}
	}
	if err := f.Err(); err != nil {
		return store.Account{}, err
	}
	if by.Role != cases.RoleSystem && !s.administersAccount(by, a) {
		return store.Account{}, apperr.New(apperr.Forbidden, "不能把账号的管辖范围设到本辖区以外")
	}
	if in.Password != nil {
		if a.PasswordHash, err = auth.Hash(*in.Password, params); err != nil {
			return store.Account{}, err
		}
	}
	revoke := (old.Active && !a.Active) || in.Password != nil || a.Role != old.Role ||
		a.RegionPath != old.RegionPath || a.UnitID != old.UnitID
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutAccount(ctx, a); err != nil {
			return err
		}
		if err := tx.Audit(ctx, s.auditEntry(by, "account", a.ID, true, old, a)); err != nil {
			return err
		}
		if (in.Unlock != nil && *in.Unlock) || in.Password != nil {
			if err := tx.ClearSignInLock(ctx, a.ID); err != nil {
				return err
			}
		}
		if revoke {
			if err := tx.DeleteTokensOf(ctx, a.ID); err != nil {
				return err
			}
		}
		if revoke || a.Name != old.Name {
			// Other nodes drop their cached sign-ins with the commit.
			return tx.NotifyTokens(ctx, s.node, "*")
		}
		return nil
	})
	if err != nil {
		return store.Account{}, err
	}
	if revoke || a.Name != old.Name {
		// The cache is keyed by token hash: drop it all (cached actors also
		// carry the name).
		s.forgetAllTokens()
	}
	a.PasswordHash = ""
	return a, nil
}
