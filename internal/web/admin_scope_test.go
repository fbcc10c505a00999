package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

var streetAdminOnce sync.Once

// TestStreetAdminConsole: in the console, an administrator scoped to 石油路街道
// lists only its street's accounts, cannot change another street's
// commander, and sees the categories and the calendar read-only (a forged
// POST is refused with nothing changed).
func TestStreetAdminConsole(t *testing.T) {
	ctx := context.Background()
	jfb, _ := plat.DB.AccountByUsername(ctx, "jfb_zhihui")
	c := signIn(t, streetAdmin(t))
	r := c.get("/admin/accounts")
	expect(t, r, http.StatusOK, "syl_zhihui")
	if strings.Contains(r.body, "jfb_zhihui") || strings.Contains(r.body, "qu_zhihui") {
		t.Errorf("the street administrator lists accounts outside its street")
	}
	if r := c.post("/admin/accounts/"+jfb.ID, url.Values{"name": {"改名"}}); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Errorf("changing another street's commander: %d %s", r.status, excerpt(r.body))
	}
	if now, _ := plat.DB.Account(ctx, jfb.ID); now.Name != jfb.Name {
		t.Errorf("another street's commander renamed to %q", now.Name)
	}
	expect(t, c.get("/admin/categories"), http.StatusOK, "由区级及以上管理员维护")
	expect(t, c.get("/admin/calendar"), http.StatusOK, "由区级及以上管理员维护")
	before, _ := plat.Service.Category("MS03")
	form := url.Values{"code": {"MS03"}, "name": {"改名的类别"}, "board": {string(before.Board)}, "level": {before.Level},
		"default_unit": {before.DefaultUnit}, "active": {"on"}, "public": {"on"}}
	if r := c.post("/admin/categories", form); r.status != http.StatusForbidden {
		t.Errorf("saving a category: %d %s", r.status, excerpt(r.body))
	}
	if after, _ := plat.Service.Category("MS03"); after.Name != before.Name || after.Version != before.Version {
		t.Errorf("category changed by a street administrator: %+v", after)
	}
	if r := c.post("/admin/calendar", url.Values{"hours": {"09:00-17:00"}}); r.status != http.StatusForbidden {
		t.Errorf("saving the calendar: %d %s", r.status, excerpt(r.body))
	}
}

// TestAdminUnlocksAccount: an account locked by failed sign-ins shows the
// lock on its edit page, and the administrator lifts it there.
func TestAdminUnlocksAccount(t *testing.T) {
	ctx := context.Background()
	acct, err := plat.DB.AccountByUsername(ctx, "yj_staff")
	if err != nil {
		t.Fatal(err)
	}
	if err := plat.DB.Write(ctx, func(tx *store.Tx) error {
		for range 10 {
			if _, err := tx.SignInFailed(ctx, acct.ID, plat.Service.Now(), 10, 30*time.Minute); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	a := signIn(t, "admin")
	expect(t, a.get("/admin/accounts?edit="+acct.ID), http.StatusOK, "因多次密码错误锁定至", "解除登录锁定")
	r := a.post("/admin/accounts/"+acct.ID, url.Values{"e.name": {acct.Name}, "e.role": {string(acct.Role)}, "e.unit_id": {acct.UnitID},
		"e.title": {acct.Title}, "e.phone": {acct.Phone}, "e.active": {"1"}, "e.unlock": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("unlock: %d %s", r.status, excerpt(r.body))
	}
	if l, _ := plat.Service.SignInLockOf(ctx, acct.ID); l.Locked(plat.Service.Now()) || l.Failures != 0 {
		t.Errorf("still locked: %+v", l)
	}
}

// streetAdmin makes (once) an administrator scoped to 石油路街道 and returns
// its username.
func streetAdmin(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	streetAdminOnce.Do(func() {
		cmd, err := plat.DB.AccountByUsername(ctx, "syl_zhihui")
		if err != nil {
			t.Fatal(err)
		}
		segs := strings.Split(strings.Trim(cmd.RegionPath, "/"), "/")
		if _, err := plat.Service.CreateAccount(ctx, service.NewAccount{Username: "syl_admin_web", Name: "石油路街道管理员",
			Role: cases.RoleAdmin, RegionCode: segs[len(segs)-1], Password: demo.Password}, auth.DefaultParams); err != nil {
			t.Fatal(err)
		}
	})
	return "syl_admin_web"
}
