package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
)

func square(lng, lat, d float64) geo.MultiPolygon {
	return geo.MultiPolygon{{{{Lng: lng, Lat: lat}, {Lng: lng + d, Lat: lat}, {Lng: lng + d, Lat: lat + d}, {Lng: lng, Lat: lat + d}, {Lng: lng, Lat: lat}}}}
}

func TestRegions(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		rec := func(code, name string, l region.Level, parent, path string) RegionRecord {
			return RegionRecord{Region: region.Region{Code: code, Name: name, Level: l, ParentCode: parent}, Path: path}
		}
		grid := rec(gridCode, "第一网格", region.Grid, "500103001001", gridPath)
		grid.Shape = square(106.5, 29.5, 0.01)
		rs := []RegionRecord{
			rec("500000", "重庆市", region.City, "", cityPath),
			rec("500103", "渝中区", region.District, "500000", districtPath),
			rec("500103001", "解放碑街道", region.Street, "500103", streetPath),
			rec("500103001001", "解放碑社区", region.Community, "500103001", communityPath),
			grid,
			rec("500103002", "七星岗街道", region.Street, "500103", siblingStreet),
			rec("500104", "大渡口区", region.District, "500000", "/500000/500104/"),
		}
		if err := db.PutRegions(ctx, rs); err != nil {
			t.Fatal(err)
		}
		codes := func(f RegionFilter) []string {
			t.Helper()
			got, err := db.Regions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range got {
				out = append(out, r.Code)
				if f.WithShape != (len(r.Shape) > 0) && r.Code == gridCode {
					t.Errorf("shape of %s with WithShape=%v: %v", r.Code, f.WithShape, r.Shape)
				}
			}
			return out
		}
		if got, want := codes(RegionFilter{}), []string{"500000", "500103", "500103001", "500103001001", gridCode, "500103002", "500104"}; !slices.Equal(got, want) {
			t.Errorf("all: %v, want %v", got, want)
		}
		if got, want := codes(RegionFilter{Under: streetPath}), []string{"500103001", "500103001001", gridCode}; !slices.Equal(got, want) {
			t.Errorf("under street: %v, want %v", got, want)
		}
		if got, want := codes(RegionFilter{Under: districtPath, WithShape: true}), []string{"500103", "500103001", "500103001001", gridCode, "500103002"}; !slices.Equal(got, want) {
			t.Errorf("under district: %v, want %v", got, want)
		}
		if got, want := codes(RegionFilter{Parent: "500103"}), []string{"500103001", "500103002"}; !slices.Equal(got, want) {
			t.Errorf("children: %v, want %v", got, want)
		}
		if got, want := codes(RegionFilter{Level: region.District}), []string{"500103", "500104"}; !slices.Equal(got, want) {
			t.Errorf("districts: %v, want %v", got, want)
		}
		r, err := db.Region(ctx, gridCode)
		if err != nil || r.Path != gridPath || r.Name != "第一网格" || jsonOf(t, r.Shape) != jsonOf(t, grid.Shape) {
			t.Fatalf("region: %+v %v", r, err)
		}
		if _, err := db.Region(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing region: %v", err)
		}
		levels, paths, err := db.RegionLevels(ctx)
		if err != nil || len(levels) != 7 || levels[gridCode] != region.Grid || paths["500103002"] != siblingStreet {
			t.Fatalf("levels %v paths %v %v", levels, paths, err)
		}
		counts, err := db.CountRegions(ctx)
		if err != nil || counts[region.Street] != 2 || counts[region.District] != 2 || counts[region.Grid] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
		// Upsert renames; a batch with a clashing path changes nothing.
		if err := db.PutRegions(ctx, []RegionRecord{rec("500104", "大渡口", region.District, "500000", "/500000/500104/")}); err != nil {
			t.Fatal(err)
		}
		if r, _ := db.Region(ctx, "500104"); r.Name != "大渡口" {
			t.Fatalf("rename: %+v", r)
		}
		err = db.PutRegions(ctx, []RegionRecord{
			rec("500105", "江北区", region.District, "500000", "/500000/500105/"),
			rec("500106", "沙坪坝区", region.District, "500000", "/500000/500105/"),
		})
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("clashing paths: %v", err)
		}
		if _, err := db.Region(ctx, "500105"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("partial batch stored: %v", err)
		}
	})
}

func TestUnitsCategoriesSettings(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		us := []cases.Unit{
			{ID: "u2", Name: "城管科", Kind: "section", RegionPath: streetPath, Active: true},
			{ID: "u1", Name: "区住建委", Kind: "department", RegionPath: districtPath, Active: true},
			{ID: "u3", Name: "区交通局", Kind: "department", RegionPath: districtPath},
		}
		cats := []cases.Category{
			{Code: "road.pothole", Name: "道路坑洼", Board: cases.BoardServices, Level: "street", Keywords: []string{"坑"}, Active: true, Public: true},
			{Code: "env.garbage", Name: "垃圾", Board: cases.BoardServices, Level: "community"},
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			for _, u := range us {
				if err := tx.PutUnit(ctx, u); err != nil {
					return err
				}
			}
			for _, c := range cats {
				if err := tx.PutCategory(ctx, c); err != nil {
					return err
				}
			}
			return tx.PutSetting(ctx, "sla", map[string]int{"a": 1})
		}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Units(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range got {
			names = append(names, u.ID)
		}
		if !slices.Equal(names, []string{"u3", "u1", "u2"}) {
			t.Fatalf("units order %v", names)
		}
		if u, err := db.Unit(ctx, "u3"); err != nil || u != us[2] {
			t.Fatalf("unit: %+v %v", u, err)
		}
		if _, err := db.Unit(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing unit: %v", err)
		}
		upd := us[2]
		upd.Active, upd.Name = true, "区交通运输局"
		if err := db.Write(ctx, func(tx *Tx) error { return tx.PutUnit(ctx, upd) }); err != nil {
			t.Fatal(err)
		}
		if u, _ := db.Unit(ctx, "u3"); u != upd {
			t.Fatalf("updated unit %+v", u)
		}
		err = db.Write(ctx, func(tx *Tx) error { return tx.PutUnit(ctx, cases.Unit{ID: "u9", Name: "城管科", Kind: "section"}) })
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate unit name: %v", err)
		}

		gc, err := db.Categories(ctx)
		if err != nil || len(gc) != 2 || jsonOf(t, gc[0]) != jsonOf(t, cats[1]) || jsonOf(t, gc[1]) != jsonOf(t, cats[0]) {
			t.Fatalf("categories %+v %v", gc, err)
		}

		var m map[string]int
		if err := db.Setting(ctx, "sla", &m); err != nil || m["a"] != 1 {
			t.Fatalf("setting %v %v", m, err)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.PutSetting(ctx, "sla", map[string]int{"a": 2}) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Setting(ctx, "sla", &m); err != nil || m["a"] != 2 {
			t.Fatalf("setting %v %v", m, err)
		}
		if err := db.Setting(ctx, "nope", &m); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing setting: %v", err)
		}
	})
}

func TestAccountsAndTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		created := time.Date(2026, 3, 1, 8, 0, 0, 123_000_000, time.UTC)
		a := Account{ID: "a1", Username: "zhang", Name: "张三", Role: cases.RoleGridWorker, RegionPath: gridPath,
			Phone: "13800000000", Title: "街长", PasswordHash: "hash", Active: true, CreatedAt: created}
		b := Account{ID: "a2", Username: "li", Name: "李四", Role: cases.RoleUnit, UnitID: "u1", PasswordHash: "h2", Active: true, CreatedAt: created}
		now := time.Now()
		if err := db.Write(ctx, func(tx *Tx) error {
			for _, x := range []Account{a, b} {
				if err := tx.PutAccount(ctx, x); err != nil {
					return err
				}
			}
			for _, tok := range []struct {
				hash, acct string
				exp        time.Time
			}{{"live", "a1", now.Add(time.Hour)}, {"old", "a1", now.Add(-time.Second)}, {"b", "a2", now.Add(time.Hour)}} {
				if err := tx.PutToken(ctx, tok.hash, tok.acct, "session", "", tok.exp); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, get := range []func() (Account, error){
			func() (Account, error) { return db.Account(ctx, "a1") },
			func() (Account, error) { return db.AccountByUsername(ctx, "zhang") },
			func() (Account, error) {
				a, exp, err := db.TokenAccount(ctx, "live", now)
				if want := now.Add(time.Hour).Truncate(time.Millisecond); err == nil && !exp.Equal(want) {
					t.Errorf("token expires %v, want %v", exp, want)
				}
				return a, err
			},
		} {
			got, err := get()
			if err != nil || got != a {
				t.Fatalf("account %+v %v, want %+v", got, err, a)
			}
		}
		if _, err := db.Account(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing account: %v", err)
		}
		list, err := db.Accounts(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "a2" || list[1].ID != "a1" {
			t.Fatalf("accounts %+v %v", list, err)
		}
		if _, _, err := db.TokenAccount(ctx, "old", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired token: %v", err)
		}
		if _, _, err := db.TokenAccount(ctx, "live", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token past expiry: %v", err)
		}
		if _, _, err := db.TokenAccount(ctx, "nope", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		// Deactivating the account or deleting the token ends the session.
		b.Active = false
		dup := Account{ID: "a3", Username: "zhang", Name: "x", Role: cases.RoleResident, PasswordHash: "h", CreatedAt: created}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.PutAccount(ctx, dup) }); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate username: %v", err)
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutAccount(ctx, b); err != nil {
				return err
			}
			return tx.DeleteToken(ctx, "live")
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.TokenAccount(ctx, "b", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("inactive account token: %v", err)
		}
		if _, _, err := db.TokenAccount(ctx, "live", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted token: %v", err)
		}
		if got, _ := db.Account(ctx, "a2"); got.Active {
			t.Fatal("still active")
		}
	})
}
