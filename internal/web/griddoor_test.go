package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"zhizhi/internal/service"
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

// TestGridDoorPhotoAndPoint: a resident adds a photo (sent with the form)
// and a location to her message; a bare photo hash and a bad point are
// refused naming the field, nothing stored; she sees them noted by her
// link; the grid's worker sees the photo and the point with the message,
// and the case made of it carries the photo.
func TestGridDoorPhotoAndPoint(t *testing.T) {
	a := actor(t, "yangshipei")
	codes := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	grid := codes[len(codes)-1]
	door := "/r/g/" + grid
	res := newClientFrom(t, "127.0.0.9")
	ref := func() string {
		r := res.get(door)
		expect(t, r, http.StatusOK, `enctype="multipart/form-data"`, `name="photo_file"`, `id="locate"`, `id="pin-map"`, "/static/resident.")
		return refRE.FindStringSubmatch(r.body)[1]
	}
	text := "五单元门口井盖松动，见照片"
	expect(t, res.postFiles(door, url.Values{"ref": {ref()}, "text": {text}, "phone": {"13900005555"}, "lat": {"91"}, "lng": {"106.5"}}, "photo_file", pngPhoto(7)),
		http.StatusBadRequest, "经纬度无效")
	expect(t, res.post(door, url.Values{"ref": {ref()}, "text": {text}, "phone": {"13900005555"}, "photo": {strings.Repeat("a", 64)}}),
		http.StatusBadRequest, "照片须随表单上传")
	rg, _ := plat.DB.Region(t.Context(), grid)
	pt := rg.Shape.Centroid()
	r := res.postFiles(door, url.Values{"ref": {ref()}, "text": {text}, "phone": {"13900005555"},
		"lat": {strconv.FormatFloat(pt.Lat, 'f', 6, 64)}, "lng": {strconv.FormatFloat(pt.Lng, 'f', 6, 64)}}, "photo_file", pngPhoto(7))
	if r.status != http.StatusSeeOther {
		t.Fatalf("a message with a photo: %d %s", r.status, excerpt(r.body))
	}
	expect(t, res.get(r.location), http.StatusOK, text, "附照片 1 张", "已附位置")

	w := signIn(t, "yangshipei")
	page := w.get("/m/messages")
	i := strings.Index(page.body, text)
	if i < 0 {
		t.Fatalf("the worker does not see the message: %s", excerpt(page.body))
	}
	after := page.body[i:]
	if end := strings.Index(after, `class="message `); end > 0 {
		after = after[:end]
	}
	if !strings.Contains(after, "<img src=") || !strings.Contains(after, "居民标注的位置") {
		t.Fatalf("the worker's view of the message lacks the photo or point: %s", excerpt(after))
	}
	id := regexp.MustCompile(`id="msg-([^"]+)"`).FindAllStringSubmatch(page.body[:i], -1)
	if len(id) == 0 {
		t.Fatal("no message id")
	}
	msgID := id[len(id)-1][1]
	m, err := plat.Service.ActOnMessage(t.Context(), a, msgID, service.MessageAction{Action: "case", Category: "MS03"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := plat.Service.Case(t.Context(), a, m.CaseID)
	if err != nil || len(c.Photos) != 1 || c.Point == nil {
		t.Fatalf("the case of the message: %+v %v", c, err)
	}
}
