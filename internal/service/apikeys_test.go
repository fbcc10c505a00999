package service

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// testClock is a settable clock for the service.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func square(lng, lat, d float64) geo.MultiPolygon {
	return geo.MultiPolygon{{{{Lng: lng, Lat: lat}, {Lng: lng + d, Lat: lat}, {Lng: lng + d, Lat: lat + d}, {Lng: lng, Lat: lat + d}, {Lng: lng, Lat: lat}}}}
}

// keyWorld is a service over a fresh SQLite file with one district, two
// streets with a grid each, and one public category.
func keyWorld(t testing.TB) (*Service, *testClock) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "zhizhi.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := func(code, name string, l region.Level, parent, path string, shape geo.MultiPolygon) store.RegionRecord {
		return store.RegionRecord{Region: region.Region{Code: code, Name: name, Level: l, ParentCode: parent, Shape: shape}, Path: path}
	}
	if err := db.PutRegions(ctx, []store.RegionRecord{
		rec("500000", "重庆市", region.City, "", "/500000/", nil),
		rec("500103", "渝中区", region.District, "500000", "/500000/500103/", nil),
		rec("500103001", "甲街道", region.Street, "500103", "/500000/500103/500103001/", nil),
		rec("500103001001", "甲社区", region.Community, "500103001", "/500000/500103/500103001/500103001001/", nil),
		rec("500103001001001", "甲网格", region.Grid, "500103001001", "/500000/500103/500103001/500103001001/500103001001001/", square(106.50, 29.50, 0.01)),
		rec("500103002", "乙街道", region.Street, "500103", "/500000/500103/500103002/", nil),
		rec("500103002001", "乙社区", region.Community, "500103002", "/500000/500103/500103002/500103002001/", nil),
		rec("500103002001001", "乙网格", region.Grid, "500103002001", "/500000/500103/500103002/500103002001/500103002001001/", square(106.60, 29.50, 0.01)),
	}); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)}
	s, err := New(ctx, db, Config{PhotoDir: t.TempDir(), DefaultCenter: "/500000/500103/", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutCategory(ctx, cases.System, cases.Category{Code: "MS01", Name: "道路破损", Board: cases.BoardServices, Level: "district", Public: true, Active: true}); err != nil {
		t.Fatal(err)
	}
	return s, clock
}

func fieldsOf(err error) []string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCreateAPIKeyValidates(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		in    NewAPIKey
		field string
	}{
		{NewAPIKey{Name: " ", RegionCode: "500103"}, "name"},
		{NewAPIKey{Name: "app", RegionCode: "999"}, "region_code"},
		{NewAPIKey{Name: "app", RegionCode: ""}, "region_code"},
		{NewAPIKey{Name: "app", RegionCode: "500103", RatePerMinute: -1}, "rate_per_minute"},
		{NewAPIKey{Name: "app", RegionCode: "500103", RatePerMinute: MaxKeyRate + 1}, "rate_per_minute"},
	} {
		_, _, err := s.CreateAPIKey(ctx, tc.in)
		if !apperr.Is(err, apperr.Invalid) || len(fieldsOf(err)) != 1 || fieldsOf(err)[0] != tc.field {
			t.Errorf("%+v: %v, want invalid %s", tc.in, err, tc.field)
		}
	}
	secret, k, err := s.CreateAPIKey(ctx, NewAPIKey{Name: " app ", RegionCode: "500103001"})
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" || k.Name != "app" || k.RegionPath != "/500000/500103/500103001/" || k.RatePerMinute != DefaultKeyRate || k.Hash == secret {
		t.Fatalf("key %+v secret %q", k, secret)
	}
	if _, _, err := s.CreateAPIKey(ctx, NewAPIKey{Name: "app", RegionCode: "500103"}); fieldsOf(err) == nil || fieldsOf(err)[0] != "name" {
		t.Fatalf("duplicate name: %v", err)
	}
}

func TestUseAPIKeyAndRevoke(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	secret, k, err := s.CreateAPIKey(ctx, NewAPIKey{Name: "居民应用", RegionCode: "500103001"})
	if err != nil {
		t.Fatal(err)
	}
	actor, got, err := s.UseAPIKey(ctx, " "+secret+" ")
	if err != nil {
		t.Fatal(err)
	}
	want := cases.Actor{AccountID: "apikey:" + k.ID, Name: "居民应用", Role: cases.RoleSystem, RegionPath: "/500000/500103/500103001/"}
	if !reflect.DeepEqual(actor, want) || got.ID != k.ID {
		t.Fatalf("actor %+v key %+v, want %+v", actor, got, want)
	}
	for _, bad := range []string{"", "   ", "zz_not-a-key"} {
		if _, _, err := s.UseAPIKey(ctx, bad); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("key %q: %v, want forbidden", bad, err)
		}
	}
	if _, err := s.RevokeAPIKey(ctx, "nope"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	r, err := s.RevokeAPIKey(ctx, "居民应用")
	if err != nil || r.Active() {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	if _, _, err := s.UseAPIKey(ctx, secret); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := s.RevokeAPIKey(ctx, k.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("revoke twice: %v", err)
	}
	list, err := s.APIKeys(ctx)
	if err != nil || len(list) != 1 || list[0].Active() {
		t.Fatalf("list %+v %v", list, err)
	}
}

func TestAPIKeyRateLimit(t *testing.T) {
	s, clock := keyWorld(t)
	ctx := context.Background()
	secret, _, err := s.CreateAPIKey(ctx, NewAPIKey{Name: "slow", RegionCode: "500103", RatePerMinute: 2})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.CreateAPIKey(ctx, NewAPIKey{Name: "other", RegionCode: "500103", RatePerMinute: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, _, err := s.UseAPIKey(ctx, secret); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
	_, _, err = s.UseAPIKey(ctx, secret)
	var rl *RateLimited
	if !apperr.Is(err, apperr.TooMany) || !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second {
		t.Fatalf("third use: %v (%+v), want too many, retry after 30s", err, rl)
	}
	// Each key has its own bucket.
	if _, _, err := s.UseAPIKey(ctx, other); err != nil {
		t.Fatalf("other key: %v", err)
	}
	clock.Add(29 * time.Second)
	if _, _, err := s.UseAPIKey(ctx, secret); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("after 29s: %v", err)
	}
	clock.Add(time.Second)
	if _, _, err := s.UseAPIKey(ctx, secret); err != nil {
		t.Fatalf("after 30s: %v", err)
	}
	// A long pause refills only up to a minute's worth.
	clock.Add(time.Hour)
	for i := range 2 {
		if _, _, err := s.UseAPIKey(ctx, secret); err != nil {
			t.Fatalf("after an hour, use %d: %v", i, err)
		}
	}
	if _, _, err := s.UseAPIKey(ctx, secret); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("burst past the bucket: %v", err)
	}
}

func TestAPIKeyReportsIntoItsRegion(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	secret, k, err := s.CreateAPIKey(ctx, NewAPIKey{Name: "甲街道应用", RegionCode: "500103001"})
	if err != nil {
		t.Fatal(err)
	}
	inA, inB, nowhere := geo.Point{Lng: 106.505, Lat: 29.505}, geo.Point{Lng: 106.605, Lat: 29.505}, geo.Point{Lng: 106.9, Lat: 29.9}
	for _, tc := range []struct {
		p    *geo.Point
		want bool
	}{{&inA, true}, {&inB, false}, {&nowhere, true}, {nil, true}} {
		if got := s.InKeyScope(k, tc.p); got != tc.want {
			t.Errorf("InKeyScope(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	actor, _, err := s.UseAPIKey(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	report := func(p *geo.Point) cases.Case {
		t.Helper()
		c, err := s.Report(ctx, actor, cases.Report{Source: cases.SourceOpen311, Point: p, Address: "某路口", Category: "MS01",
			Description: "路面塌陷", Reporter: cases.Reporter{Name: "张三", Phone: "13800000000"}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// A point in a grid goes to its grid and street; one in no grid, or an
	// address alone, falls back to the key's region.
	c := report(&inA)
	if c.GridCode != "500103001001001" || c.CenterPath != "/500000/500103/500103001/" || c.Source != cases.SourceOpen311 || c.Reporter.AccountID != "" {
		t.Fatalf("in a grid: %+v", c)
	}
	for _, p := range []*geo.Point{&nowhere, nil} {
		c := report(p)
		if c.GridCode != "" || c.RegionPath != k.RegionPath || c.CenterPath != "/500000/500103/500103001/" {
			t.Fatalf("no grid (%v): %+v", p, c)
		}
	}
	_, steps, err := s.Case(ctx, cases.System, c.Number)
	if err != nil || len(steps) != 1 || steps[0].ActorID != "apikey:"+k.ID || steps[0].ActorName != "甲街道应用" {
		t.Fatalf("steps %+v %v", steps, err)
	}
}
