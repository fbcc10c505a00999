package bench

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

func BenchmarkZZProbe(b *testing.B) {
	ctx := context.Background()
	db := openScale(b)
	defer db.Close()
	streets, _ := activeRegions(ctx, b, db)
	for _, w := range []string{"消防通道", "井盖", "垃圾", "占道经营", "路灯", "漏水", "噪声", "违章搭建"} {
		var worst, sum time.Duration
		for _, s := range streets[:6] {
			sc := store.ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-c", RegionPath: s.Path})
			f := store.CaseFilter{Scope: sc, Text: w, Limit: 50}
			t0 := time.Now()
			if _, err := db.Cases(ctx, f); err != nil {
				b.Fatal(err)
			}
			d := time.Since(t0)
			sum += d
			worst = max(worst, d)
		}
		sc := store.ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-c", RegionPath: streets[0].Path})
		plan, _ := db.ExplainCases(ctx, store.CaseFilter{Scope: sc, Text: w, Limit: 50})
		b.Logf("%s: mean %v worst %v\n%s", w, sum/6, worst, plan)
	}
}
