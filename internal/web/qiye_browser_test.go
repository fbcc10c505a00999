package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
)

// TestBrowserQiyePhone: on a phone-sized screen the enterprise opens its
// page, picks 医保政策咨询 from the green services, answers its questions on
// the one form and sees its request; then signs in at a policy class in its
// building with one tap.
func TestBrowserQiyePhone(t *testing.T) {
	sys := cases.Actor{Role: cases.RoleSystem, Name: "测试", RegionPath: actor(t, "hlq_zhihui").RegionPath}
	class, err := plat.Service.PutClass(context.Background(), sys, enterprise.Class{Topic: "浏览器测试：医保政策课堂", Building: "企业天地2号楼",
		At: time.Now().Add(10 * time.Minute), Minutes: 60, Speakers: []string{"渝中区医疗保障局"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844))
	b.signIn("qiye", "/mine")
	b.do(
		chromedp.Navigate(srv.URL+"/qiye"),
		chromedp.WaitVisible(chromedp.CSS(`.c-green .tile`)),
		chromedp.Click(chromedp.CSS(`.c-green a.tile[href^="/qiye?service=G01"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="answers.insured"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=words]`), "浏览器测试：门诊共济改革后职工报销怎么算"),
		chromedp.SendKeys(chromedp.CSS(`input[name="answers.insured"]`), "56"),
		chromedp.SetValue(chromedp.CSS(`select[name="answers.topic"]`), "outpatient"),
		chromedp.Click(chromedp.CSS(`#form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if s := b.text(".flash"); !strings.Contains(s, "诉求已提交") {
		t.Fatalf("flash %q", s)
	}
	if s := b.text("main"); !strings.Contains(s, "待联络员联系") || !strings.Contains(s, "医保政策咨询") {
		t.Fatalf("request page: %q", cut(s, 400))
	}
	// Nothing overflows the phone's width.
	if w := eval[float64](b, "document.documentElement.scrollWidth"); w > 400 {
		t.Errorf("the request page is %v px wide on a 390 px phone", w)
	}
	b.do(
		chromedp.Navigate(srv.URL+"/qiye/classes/"+class.ID),
		chromedp.WaitVisible(chromedp.CSS(`button.signin-big`)),
		chromedp.Click(chromedp.CSS(`button.signin-big`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if s := b.text(".flash"); s != "签到成功" {
		t.Fatalf("sign-in flash %q", s)
	}
	v, err := plat.Service.Class(context.Background(), sys, class.ID)
	if err != nil || len(v.Attendance) != 1 {
		t.Fatalf("attendance %+v %v", v.Attendance, err)
	}
}
