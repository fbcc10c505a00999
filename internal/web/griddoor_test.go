package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestGridDoorEndToEnd: a resident without an account writes to 杨诗培
// through her grid's door, gets a link, and follows it; she replies to
// one message and turns another into a case of the grid; each resident
// sees the answer by their link; bad input is named, a wrong link learns
// nothing.
func TestGridDoorEndToEnd(t *testing.T) {
	a := actor(t, "yangshipei")
	codes := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	grid := codes[len(codes)-1]
	door := "/r/g/" + grid
	write := func(client *client, text, phone string) response {
		t.Helper()
		r := client.get(door)
		expect(t, r, http.StatusOK, "有事找网格员", `id="door"`)
		m := refRE.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatal("the door's form has no token")
		}
		return client.post(door, url.Values{"ref": {m[1]}, "text": {text}, "phone": {phone}, "name": {"王阿姨"}})
	}
	res := newClient(t)
	expect(t, write(res, "", "13900001111"), http.StatusBadRequest, "请写下您要反映的事情")
	r := write(res, "三单元楼道灯坏了一周", "13900001111")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, door+"/m/") {
		t.Fatalf("a message: %d %q %s", r.status, r.location, excerpt(r.body))
	}
	link1 := r.location
	if f := res.get(link1); f.status != http.StatusOK || !strings.Contains(f.body, "三单元楼道灯坏了一周") || !strings.Contains(f.body, "待回复") || strings.Contains(f.body, "13900001111") {
		t.Fatalf("the resident's link: %d %s", f.status, excerpt(f.body))
	}
	res2 := newClientFrom(t, "127.0.0.2")
	r = write(res2, "小区门口垃圾堆了三天", "13900002222")
	if r.status != http.StatusSeeOther {
		t.Fatalf("a second message: %d %s", r.status, excerpt(r.body))
	}
	link2 := r.location
	expect(t, res.get(door+"/m/r-notarealkeynotarealkeynotarealkeynotareal"), http.StatusNotFound)

	// The grid worker sees both (phones whole: she calls back) and acts.
	w := signIn(t, "yangshipei")
	page := w.get("/m/messages")
	expect(t, page, http.StatusOK, "三单元楼道灯坏了一周", "小区门口垃圾堆了三天", "13900001111", door)
	ids := regexp.MustCompile(`id="msg-([0-9A-Z]+)"`).FindAllStringSubmatch(page.body, -1)
	byText := map[string]string{}
	for _, m := range ids {
		i := strings.Index(page.body, `id="msg-`+m[1]+`"`)
		chunk := page.body[i:min(len(page.body), i+600)]
		for _, txt := range []string{"三单元楼道灯坏了一周", "小区门口垃圾堆了三天"} {
			if strings.Contains(chunk, txt) {
				byText[txt] = m[1]
			}
		}
	}
	if len(byText) != 2 {
		t.Fatalf("messages on the page: %v", byText)
	}
	r = w.post("/m/messages/"+byText["三单元楼道灯坏了一周"], url.Values{"action": {"reply"}, "answer": {"明天上午物业来修"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", r.status, excerpt(r.body))
	}
	r = w.post("/m/messages/"+byText["小区门口垃圾堆了三天"], url.Values{"action": {"case"}, "category": {"MS03"}, "address": {"民乐村小区门口"}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, url.QueryEscape("案件编号")) {
		t.Fatalf("to case: %d %q %s", r.status, r.location, excerpt(r.body))
	}
	expect(t, w.post("/m/messages/"+byText["小区门口垃圾堆了三天"], url.Values{"action": {"block"}}), http.StatusConflict)
	// Another grid's worker cannot act on them.
	expect(t, signIn(t, "zhouchunyan").post("/m/messages/"+byText["三单元楼道灯坏了一周"], url.Values{"action": {"block"}}), http.StatusNotFound)
	// Each resident reads the answer by their link.
	expect(t, res.get(link1), http.StatusOK, "已回复", "杨诗培", "明天上午物业来修")
	expect(t, res2.get(link2), http.StatusOK, "已转为案件", "已作为案件上报，编号")
}
