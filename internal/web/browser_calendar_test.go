package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/calendar"
)

// TestBrowserCalendarView: the administrator clicks a worked Wednesday and
// a Saturday of 2027 in the calendar view; the script flips the cells and
// the overlay box in place (no request), and 保存 stores both through the
// calendar's write path. Year navigation moves the view.
func TestBrowserCalendarView(t *testing.T) {
	ctx := context.Background()
	orig := plat.Service.CalendarConfig(ctx)
	t.Cleanup(func() { plat.Service.PutCalendar(ctx, orig) })
	b := newBrowser(t)
	b.signIn("admin", "/board")
	b.do(chromedp.Navigate(srv.URL+"/admin/calendar?year=2027"), chromedp.WaitVisible(chromedp.CSS(`#calendar-view`)))
	b.do(chromedp.Click(chromedp.CSS(`button[data-date="2027-03-03"]`)), chromedp.Click(chromedp.CSS(`button[data-date="2027-03-06"]`)))
	if loc := eval[string](b, "location.pathname + location.search"); loc != "/admin/calendar?year=2027" {
		t.Fatalf("a click left the page: %s", loc)
	}
	box := eval[string](b, `document.getElementById('overlay').value`)
	if !strings.Contains(box, "2027-03-03,休") || !strings.Contains(box, "2027-03-06,班") {
		t.Fatalf("overlay box after the clicks: %q", box)
	}
	if s := b.text(`button[data-date="2027-03-03"] small`); s != "休" {
		t.Errorf("clicked Wednesday reads %q", s)
	}
	if !eval[bool](b, `document.querySelector('button[data-date="2027-03-06"]').classList.contains('work')`) {
		t.Error("clicked Saturday is not shown worked")
	}
	b.do(chromedp.Click(chromedp.CSS(`#calendar-form button.primary`)), chromedp.WaitVisible(chromedp.CSS(`#calendar-view`)))
	deadline := time.Now().Add(10 * time.Second)
	for {
		cal := plat.Service.Calendar()
		wed := time.Date(2027, 3, 3, 12, 0, 0, 0, calendar.Shanghai())
		if !cal.IsWorkday(wed) && cal.IsWorkday(wed.AddDate(0, 0, 3)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saved calendar: %+v", plat.Service.CalendarConfig(ctx).Overlay)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.do(chromedp.Click(chromedp.CSS(`#cal-next`)), chromedp.WaitVisible(chromedp.CSS(`button[data-date="2028-01-01"]`)))
	if s := b.text(`#cal-year`); s != "2028 年" {
		t.Errorf("after 下一年: %q", s)
	}
}
