package web_test

import (
	"context"
	"net/http"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
)

// TestClientFieldsAndCommentsOnTheCasePage: what an Open311 client sent
// beyond the category's questions, and a resident's follow-up it posted,
// are on the case page for the center.
func TestClientFieldsAndCommentsOnTheCasePage(t *testing.T) {
	ctx := context.Background()
	secret, key, err := plat.Service.CreateAPIKey(ctx, service.NewAPIKey{Name: "市民应用", RegionCode: "500103"})
	if err != nil || secret == "" {
		t.Fatal(err)
	}
	p := gridPoint(t, "zhouchunyan")
	c, err := plat.Service.Report(ctx, service.KeyActor(key), cases.Report{Source: cases.SourceOpen311, Category: "AQ01", Point: &p,
		Description: "店门口堆放液化气罐", Answers: map[string]any{"shop": "某火锅店", "equipment": "lpg", "quantity": "2"},
		Extra: []cases.Extra{{Key: "fixmystreet_id", Value: "88123"}, {Key: "closest_address", Value: "石油路1号"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plat.Service.PostClientUpdate(ctx, key, service.ClientUpdate{CaseID: c.ID, UpdateID: "u-1", Note: "又多了一个气罐", Name: "王小明"}); err != nil {
		t.Fatal(err)
	}
	cmd := signIn(t, "syl_zhihui")
	expect(t, cmd.get("/cases/"+c.ID), http.StatusOK, "客户端附加信息", "fixmystreet_id", "88123", "石油路1号",
		"群众留言", "又多了一个气罐", "客户端附加信息：fixmystreet_id：88123；closest_address：石油路1号", "经“市民应用”转来，留言人：王小明")
}
