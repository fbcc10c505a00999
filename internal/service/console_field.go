package service

import (
	"context"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// Administration of API keys from the console. The command line acts for
// the whole installation; in the console an administrator acts within the
// region of his account: he sees, creates and revokes only keys whose scope
// lies in it.

// inAdminScope reports whether a region path lies in an administrator's
// region (an administrator without a region has the whole installation).
func inAdminScope(a cases.Actor, path string) bool {
	return strings.HasPrefix(path, a.RegionPath)
}

func requireAdmin(a cases.Actor) error {
	if a.Role != cases.RoleAdmin {
		return apperr.New(apperr.Forbidden, "需要管理员权限")
	}
	return nil
}

// KeyScopes lists the regions an administrator may give a key as its scope:
// the city, districts and streets in his region, in path order. (A
// community's code can be typed in; listing every community of a city would
// make a select of thousands.)
func (s *Service) KeyScopes(ctx context.Context, a cases.Actor) ([]store.RegionRecord, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	var out []store.RegionRecord
	for _, l := range []region.Level{region.City, region.District, region.Street} {
		rs, err := s.db.Regions(ctx, store.RegionFilter{Level: l, Under: a.RegionPath})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if inAdminScope(a, r.Path) {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(x, y store.RegionRecord) int { return strings.Compare(x.Path, y.Path) })
	return out, nil
}

// APIKeysOf lists the keys an administrator may see: those scoped within
// his region, active and revoked, newest first.
func (s *Service) APIKeysOf(ctx context.Context, a cases.Actor) ([]store.APIKey, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	all, err := s.APIKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.APIKey
	for _, k := range all {
		if inAdminScope(a, k.RegionPath) {
			out = append(out, k)
		}
	}
	slices.SortStableFunc(out, func(x, y store.APIKey) int { return y.CreatedAt.Compare(x.CreatedAt) })
	return out, nil
}

// CreateAPIKeyAs creates a key for an administrator, whose scope must lie in
// his region. It returns the secret, shown once.
func (s *Service) CreateAPIKeyAs(ctx context.Context, a cases.Actor, in NewAPIKey) (string, store.APIKey, error) {
	if err := requireAdmin(a); err != nil {
		return "", store.APIKey{}, err
	}
	if path, ok := s.RegionPath(strings.TrimSpace(in.RegionCode)); ok && !inAdminScope(a, path) {
		return "", store.APIKey{}, apperr.Field("region_code", "只能选择您管辖范围内的区域")
	}
	return s.createAPIKey(ctx, a, in)
}

// RevokeAPIKeyAs revokes a key, by its ID, for an administrator whose region
// holds the key's scope; another key is "not found".
func (s *Service) RevokeAPIKeyAs(ctx context.Context, a cases.Actor, keyID string) (store.APIKey, error) {
	if err := requireAdmin(a); err != nil {
		return store.APIKey{}, err
	}
	keys, err := s.APIKeysOf(ctx, a)
	if err != nil {
		return store.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == keyID {
			return s.revokeAPIKey(ctx, a, k.ID)
		}
	}
	return store.APIKey{}, apperr.New(apperr.NotFound, "密钥不存在")
}

// SetAPIKeyStatusesAs turns FixMyStreet's extended statuses on or off for a
// key the administrator manages (one scoped within his region).
func (s *Service) SetAPIKeyStatusesAs(ctx context.Context, a cases.Actor, keyID string, extended bool) (store.APIKey, error) {
	if err := requireAdmin(a); err != nil {
		return store.APIKey{}, err
	}
	keys, err := s.APIKeysOf(ctx, a)
	if err != nil {
		return store.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == keyID {
			return s.setAPIKeyStatuses(ctx, a, k.ID, extended)
		}
	}
	return store.APIKey{}, apperr.New(apperr.NotFound, "密钥不存在")
}
