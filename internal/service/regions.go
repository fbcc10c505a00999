package service

import (
	"context"
	"errors"
	"io"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// MaxRegionImport is the largest region file accepted, in bytes (GeoJSON or
// CSV, whichever door it comes through). The file is parsed as it is read,
// one feature at a time, and never held whole (docs/benchmarks.md has the
// memory this takes).
const MaxRegionImport = 64 << 20

// capped reads at most n bytes from r and then fails with the 413 error,
// so that a file over the limit is refused whichever door it came through.
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		// One byte more tells a file of exactly the limit from a longer one.
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		switch {
		case n > 0:
			return 0, apperr.BodyTooLarge(MaxRegionImport)
		case err == nil || errors.Is(err, io.EOF):
			return 0, io.EOF
		}
		return 0, err // the caller's own limit, or a broken connection
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// ImportRegions parses a GeoJSON or CSV file of regions and stores all of it,
// or nothing when any row is wrong. It returns how many regions were stored.
func (s *Service) ImportRegions(ctx context.Context, r io.Reader, format string) (int, error) {
	return s.importRegions(ctx, cases.System, r, format)
}

func (s *Service) importRegions(ctx context.Context, actor cases.Actor, r io.Reader, format string) (int, error) {
	if actor.Role != cases.RoleSystem && actor.Role != cases.RoleAdmin {
		return 0, apperr.New(apperr.Forbidden, "只有管理员可以导入区域")
	}
	levels, paths, err := s.db.RegionLevels(ctx)
	if err != nil {
		return 0, err
	}
	existing := func(code string) (region.Level, bool) {
		l, ok := levels[code]
		return l, ok
	}
	var regs []region.Region
	r = &capped{r: r, n: MaxRegionImport}
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
		if !administers(actor, p) {
			return 0, apperr.New(apperr.Forbidden, "只能导入本辖区内的区域，“"+rg.Name+"”（"+rg.Code+"）不在本辖区内")
		}
		paths[rg.Code] = p
		recs = append(recs, store.RegionRecord{Region: rg, Path: p})
	}
	codes := make([]string, len(recs))
	for i, rec := range recs {
		codes[i] = rec.Code
	}
	audit := s.auditEntry(actor, "regions", format, false, nil, map[string]any{"imported": len(recs), "codes": codes})
	audit.Action = "import"
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		for _, rec := range recs {
			if err := tx.PutRegion(ctx, rec); err != nil {
				return err
			}
		}
		if actor.Role == cases.RoleSystem {
			return nil
		}
		return tx.Audit(ctx, audit)
	})
	if err != nil {
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
