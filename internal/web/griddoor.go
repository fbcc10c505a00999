package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/service"
)

// The residents' door per grid (有事找小杨, docs/gridwork.md): /r/g/{grid}
// is a grid's public form, without an account; the message reaches the
// grid's worker at /m/messages, who replies, turns it into a case of the
// grid or blocks it; the resident follows it at /r/g/{grid}/m/{key}, the
// link they got (the form's token, good for one message).

// doorView is a grid's public form and a followed message.
type doorView struct {
	Grid     string
	GridName string
	Workers  []string // the grid's workers, as the poster names them
	Ref      string
	Values   url.Values
	Errors   map[string]string
	Message  string
	Followed *service.FollowedMessage
	Link     string
}

func (v *doorView) title() string { return "有事找网格员" }

// Val is a value the form had when it was sent back.
func (v *doorView) Val(name string) string { return v.Values.Get(name) }

// Err is one input's error.
func (v *doorView) Err(name string) string { return v.Errors[name] }

func (c *Console) doorView(r *http.Request) (*doorView, error) {
	code := r.PathValue("grid")
	reg, err := c.svc.DB().Region(r.Context(), code)
	if err != nil || reg.Level != "grid" {
		return nil, apperr.New(apperr.NotFound, "网格不存在")
	}
	v := &doorView{Grid: code, GridName: c.svc.RegionName(reg.ParentCode) + reg.Name, Values: url.Values{}}
	if t, err := c.svc.DB().Team(r.Context(), code); err == nil {
		for _, m := range t.Members {
			if m.Role == gridwork.FullTime || m.Role == gridwork.PartTime {
				v.Workers = append(v.Workers, m.Name)
			}
		}
	}
	return v, nil
}

func (c *Console) doorPage(w http.ResponseWriter, r *http.Request) error {
	r = c.setPreCookie(w, r) // the form's CSRF token, without an account
	v, err := c.doorView(r)
	if err != nil {
		return err
	}
	if v.Ref, err = c.svc.FormToken(r.Context()); err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "griddoor", v)
	return nil
}

func (c *Console) doorPost(w http.ResponseWriter, r *http.Request) error {
	v, err := c.doorView(r)
	if err != nil {
		return err
	}
	var perr error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		perr = r.ParseMultipartForm(maxMemory)
	} else {
		perr = r.ParseForm()
	}
	if perr != nil {
		return apperr.Field("body", "表单无法解析")
	}
	f := r.PostForm
	in := gridwork.MessageInput{Name: f.Get("name"), Phone: f.Get("phone"), Text: f.Get("text")}
	// Photos and a point, as the anonymous report door takes them: photos
	// only as files sent with the form (never a bare hash), a point from
	// the phone's location or the map's pin.
	var fe apperr.Fields
	if len(f["photo"]) > 0 {
		fe.Add("photos", "照片须随表单上传，不接受照片编号；请重新选择照片")
	}
	f.Del("photo")
	in.Photos = c.photosOf(r, &fe)
	if lat, lng := strings.TrimSpace(f.Get("lat")), strings.TrimSpace(f.Get("lng")); lat != "" || lng != "" {
		y, err1 := strconv.ParseFloat(lat, 64)
		x, err2 := strconv.ParseFloat(lng, 64)
		if p := (geo.Point{Lng: x, Lat: y}); err1 != nil || err2 != nil || !p.Valid() {
			fe.Add("point", "经纬度无效")
		} else {
			in.Point = &p
		}
	}
	err = fe.Err()
	var key string
	if err == nil {
		_, key, err = c.svc.PostGridMessage(r.Context(), service.Knock{Client: c.clientAddr(r), Token: f.Get("ref")}, v.Grid, in)
	}
	if err == nil {
		http.Redirect(w, r, "/r/g/"+url.PathEscape(v.Grid)+"/m/"+url.PathEscape(key), http.StatusSeeOther)
		return nil
	}
	v.Values, v.Ref = f, f.Get("ref")
	status, fresh := http.StatusBadRequest, false
	switch apperr.KindOf(err) {
	case apperr.Invalid:
		v.Errors, v.Message = fieldMap(err), "请按提示修改后重新提交"
		if m, bad := v.Errors["form_token"]; bad {
			delete(v.Errors, "form_token")
			v.Message, fresh = m, true
		}
	case apperr.Conflict, apperr.Forbidden:
		status, v.Message, fresh = apperr.Status(err), messageOf(err), true
	case apperr.TooMany:
		status, v.Message = http.StatusTooManyRequests, messageOf(err)
		retryAfter(w, err)
	default:
		return err
	}
	if fresh {
		if v.Ref, err = c.svc.FormToken(r.Context()); err != nil {
			return err
		}
	}
	c.render(w, r, status, "griddoor", v)
	return nil
}

func (c *Console) doorFollow(w http.ResponseWriter, r *http.Request) error {
	v, err := c.doorView(r)
	if err != nil {
		return err
	}
	m, err := c.svc.FollowGridMessage(r.Context(), c.clientAddr(r), r.PathValue("key"))
	if err != nil {
		if apperr.Is(err, apperr.TooMany) {
			retryAfter(w, err)
		}
		return err
	}
	if m.GridCode != v.Grid {
		return apperr.New(apperr.NotFound, "留言不存在，请检查链接")
	}
	v.Followed, v.Link = &m, r.URL.Path
	c.render(w, r, http.StatusOK, "griddoor", v)
	return nil
}

// messagesView is the grid worker's residents' messages.
type messagesView struct {
	Flash      string
	Grids      []messagesGrid
	Categories []cases.Category
}

func (v *messagesView) title() string { return "居民留言" }

type messagesGrid struct {
	service.GridRef
	Link     string
	Messages []gridwork.Message
	Waiting  int
}

func (c *Console) gridMessages(w http.ResponseWriter, r *http.Request) error {
	ctx, actor := r.Context(), actorOf(r)
	grids, err := c.svc.GridsOf(ctx, actor)
	if err != nil {
		return err
	}
	v := &messagesView{Flash: r.URL.Query().Get("done")}
	for _, cat := range c.svc.Categories() {
		if cat.Active {
			v.Categories = append(v.Categories, cat)
		}
	}
	for _, g := range grids {
		list, err := c.svc.GridMessages(ctx, actor, g.Code, c.svc.Now().AddDate(0, 0, -30))
		if err != nil {
			return err
		}
		mg := messagesGrid{GridRef: g, Link: "/r/g/" + g.Code}
		// Waiting first, then the rest, each newest first.
		for _, m := range list {
			if m.State == gridwork.Waiting {
				mg.Messages = append(mg.Messages, m)
				mg.Waiting++
			}
		}
		for _, m := range list {
			if m.State != gridwork.Waiting {
				mg.Messages = append(mg.Messages, m)
			}
		}
		v.Grids = append(v.Grids, mg)
	}
	c.render(w, r, http.StatusOK, "gridmessages", v)
	return nil
}

func (c *Console) actOnMessage(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.Field("body", "表单无法解析")
	}
	f := r.PostForm
	a := service.MessageAction{Action: f.Get("action"), Answer: strings.TrimSpace(f.Get("answer")), Category: f.Get("category"),
		Address: strings.TrimSpace(f.Get("address"))}
	m, err := c.svc.ActOnMessage(r.Context(), actorOf(r), r.PathValue("id"), a)
	if err != nil {
		return err
	}
	done := m.State.Label()
	if m.CaseNumber != "" {
		done += "，案件编号 " + m.CaseNumber
	}
	http.Redirect(w, r, "/m/messages?done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}
