package service

import (
	"context"
	"errors"
	"io"

	"zhizhi/internal/apperr"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// ImportRegions parses a GeoJSON or CSV file of regions and stores all of it,
// or nothing when any row is wrong. It returns how many regions were stored.
func (s *Service) ImportRegions(ctx context.Context, r io.Reader, format string) (int, error) {
	levels, paths, err := s.db.RegionLevels(ctx)
	if err != nil {
		return 0, err
	}
	existing := func(code string) (region.Level, bool) {
		l, ok := levels[code]
		return l, ok
	}
	var regs []region.Region
	switch format {
	case "geojson":
		regs, err = region.ParseGeoJSON(r, existing)
	case "csv":
		regs, err = region.ParseCSV(r, existing)
	default:
		return 0, apperr.Field("format", "格式应为 geojson 或 csv")
	}
	var ie *region.ImportError
	if errors.As(err, &ie) {
		return 0, ie.AppErr()
	}
	if err != nil {
		return 0, err
	}
	recs := make([]store.RegionRecord, 0, len(regs))
	for _, rg := range regs {
		parent := ""
		if rg.ParentCode != "" {
			parent = paths[rg.ParentCode]
			if parent == "" {
				return 0, apperr.Field("parent_code", "上级区域"+rg.ParentCode+"不存在")
			}
		} else {
			parent = "/"
		}
		p := parent + rg.Code + "/"
		if old, ok := paths[rg.Code]; ok && old != p {
			return 0, apperr.Field("parent_code", "区域"+rg.Code+"已存在且上级不同，不能通过导入移动")
		}
		paths[rg.Code] = p
		recs = append(recs, store.RegionRecord{Region: rg, Path: p})
	}
	if err := s.db.PutRegions(ctx, recs); err != nil {
		return 0, err
	}
	return len(recs), s.changed(ctx)
}

// ExportRegions writes the regions under a code (all when empty) as GeoJSON
// or CSV.
func (s *Service) ExportRegions(ctx context.Context, w io.Writer, under, format string) error {
	f := store.RegionFilter{WithShape: format == "geojson"}
	if under != "" {
		p, ok := s.RegionPath(under)
		if !ok {
			return apperr.Field("under", "区域不存在")
		}
		f.Under = p
	}
	recs, err := s.db.Regions(ctx, f)
	if err != nil {
		return err
	}
	regs := make([]region.Region, len(recs))
	for i, r := range recs {
		regs[i] = r.Region
	}
	switch format {
	case "geojson":
		return region.WriteGeoJSON(w, regs)
	case "csv":
		return region.WriteCSV(w, regs)
	}
	return apperr.Field("format", "格式应为 geojson 或 csv")
}
