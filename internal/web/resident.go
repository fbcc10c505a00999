package web

import (
	"crypto/hmac"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/textcheck"
)

// The resident's pages need no account: /r reports a problem with a phone
// number for the follow-up call, /r/follow shows a case to whoever gives its
// number and that phone, and rates it once it is closed. The forms carry a
// CSRF token of the pre-session cookie, like the sign-in form; the report
// form also carries a form token (service.FormToken, field ref), good for
// one report, and the service counts reports per client address and per
// phone (service/doors.go): past its limits a report is held for screening
// or refused with 429. What a
// resident sees of a case is what a resident's app sees through Open311:
// the state in Chinese and the public steps (which unit, never the names of
// the staff), the reporter's phone masked.

// residentView is the resident's report form, the follow form and a case.
type residentView struct {
	Mode       string // "report" or "follow"
	Values     url.Values
	Errors     map[string]string
	Message    string
	Flash      string
	Categories []cases.Category
	Ref        string   // the form token, also the report's reference: the same form sent twice makes one case
	Photos     []string // photos already stored with this form, signed (hash.mac)
	Reported   string   // the number of the case just made

	Number, Phone string // the follow form
	Case          *residentCase

	// Own: the form of a signed-in resident or enterprise (/mine/report),
	// posted there, with their own pages' tabs and an optional phone.
	Own bool
}

// Action is where the report form posts.
func (v *residentView) Action() string {
	if v.Own {
		return "/mine/report"
	}
	return "/r"
}

func (v *residentView) title() string {
	if v.Mode == "follow" {
		return "查询办理进度"
	}
	return "我要反映"
}

// Val is a value the form had when it was sent back.
func (v *residentView) Val(name string) string { return v.Values.Get(name) }

// Has reports whether a multi-valued input had value.
func (v *residentView) Has(name, value string) bool {
	for _, s := range v.Values[name] {
		if s == value {
			return true
		}
	}
	return false
}

// Err is one input's error.
func (v *residentView) Err(name string) string { return v.Errors[name] }

// residentCase is a case as the resident who reported it sees it.
type residentCase struct {
	Number, Category, Description, Address, Phone string
	State                                         cases.State
	ReportedAt                                    time.Time
	Steps                                         []residentStep
	Rating                                        cases.Rating
	RatingNote                                    string
	CanRate                                       bool
	Ratings                                       []cases.Rating
}

type residentStep struct {
	At   time.Time
	Text string
}

// residentActions are the steps a resident follows: the same as the Open311
// updates, with the report and the rating. Reminders, warnings, whistles,
// meetings and progress notes stay internal.
var residentActions = map[cases.Action]bool{
	cases.ActReport: true, cases.ActSolvedOnSpot: true, cases.ActAccept: true, cases.ActReject: true, cases.ActMerge: true,
	cases.ActDispatch: true, cases.ActRedispatch: true, cases.ActSign: true, cases.ActFeedback: true, cases.ActVerify: true,
	cases.ActClose: true, cases.ActReturn: true, cases.ActParkApprove: true, cases.ActResume: true, cases.ActReopen: true,
	cases.ActEscalate: true, cases.ActRate: true,
}

// residentNoted are the steps whose note a resident reads: the unit's
// result, the check on site, the close and why a case was not taken on.
var residentNoted = map[cases.Action]bool{cases.ActFeedback: true, cases.ActVerify: true, cases.ActClose: true, cases.ActReject: true}

func (c *Console) residentCaseOf(cs cases.Case, steps []cases.Step) *residentCase {
	rc := &residentCase{Number: cs.Number, Category: c.catName(cs.Category), Description: cs.Description, Address: cs.Address,
		Phone: cases.MaskPhone(cs.Reporter.Phone), State: cs.State, ReportedAt: cs.ReportedAt, Rating: cs.Rating, RatingNote: cs.RatingNote}
	for _, s := range steps {
		if !residentActions[s.Action] {
			continue
		}
		text := s.Action.Label()
		switch s.Action {
		case cases.ActReport:
			text = "收到您的反映"
		case cases.ActMerge:
			text = "与相同问题合并办理"
		case cases.ActRate:
			text = "您已评价"
		}
		unit := s.UnitID
		if s.Action == cases.ActDispatch || s.Action == cases.ActRedispatch {
			unit, _ = s.Data["lead_unit"].(string)
		}
		if u, ok := c.svc.Unit(unit); ok && s.Action != cases.ActRate {
			text += "（" + u.Name + "）"
		}
		if n := strings.TrimSpace(s.Note); n != "" && residentNoted[s.Action] {
			text += "：" + n
		}
		rc.Steps = append(rc.Steps, residentStep{At: s.At, Text: text})
	}
	if cs.State == cases.Closed && cs.Rating == "" {
		rc.CanRate = true
		rc.Ratings = []cases.Rating{cases.Satisfied, cases.BasicSatisfied, cases.Unsatisfied}
	}
	return rc
}

// publicCategories are the active categories offered to residents.
func (c *Console) publicCategories() []cases.Category {
	var out []cases.Category
	for _, cat := range c.svc.Categories() {
		if cat.Active && cat.Public {
			out = append(out, cat)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Board < out[j].Board })
	return out
}

// formRefRE is what a form token looks like (service.FormToken); anything
// else is not signed with a photo's MAC.
var formRefRE = regexp.MustCompile(`^r-[A-Za-z0-9_-]{42}$`)

func (c *Console) residentPage(w http.ResponseWriter, r *http.Request) error {
	r = c.setPreCookie(w, r)
	ref, err := c.svc.FormToken(r.Context())
	if err != nil {
		return err
	}
	v := &residentView{Mode: "report", Values: url.Values{}, Categories: c.publicCategories(), Ref: ref}
	if n := r.URL.Query().Get("reported"); n != "" {
		v.Reported = n
	}
	c.render(w, r, http.StatusOK, "resident", v)
	return nil
}

// photoMAC signs a photo stored with a resident's form, so that a form sent
// back with errors keeps it without letting anyone attach a photo by hash.
func (c *Console) photoMAC(ref, hash string) string {
	return c.mac("resident-photo:" + ref + ":" + hash)
}

func (c *Console) residentReport(w http.ResponseWriter, r *http.Request) error {
	return c.takeReport(w, r, false)
}

// takeReport takes a report from the residents' form: the anonymous one
// (/r) or, own, a signed-in resident's or enterprise's (/mine/report). Both
// go through the same door (form token, counts per client and reporter);
// the anonymous form needs a phone to call back, a signed-in reporter is
// known by the account and may leave one.
func (c *Console) takeReport(w http.ResponseWriter, r *http.Request, own bool) error {
	if r.PostForm == nil {
		var err error
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			err = r.ParseMultipartForm(maxMemory)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			return apperr.Field("body", "表单无法解析")
		}
	}
	ref := r.PostFormValue("ref")
	// Photos come as files with the form, or signed from an earlier try of
	// the same form; never as bare hashes. A photo that is not accepted is
	// named to the resident and the form comes back (nothing is stored), so
	// no report goes in missing a photo its sender thinks is attached.
	var f apperr.Fields
	if len(r.PostForm["photo"]) > 0 {
		f.Add("photos", "照片须随表单上传，不接受照片编号；请重新选择照片")
	}
	r.PostForm.Del("photo")
	rep, perr := c.reportOf(r)
	seen := map[string]bool{}
	for _, p := range rep.Photos {
		seen[p.Hash] = true
	}
	for i, s := range r.PostForm["photo_signed"] {
		hash, sig, _ := strings.Cut(s, ".")
		switch {
		case hash == "" && sig == "":
		case seen[hash]:
		case !formRefRE.MatchString(ref) || !hmac.Equal([]byte(sig), []byte(c.photoMAC(ref, hash))):
			f.Addf("photos", "已附的第%d张照片（%s）未被接受：它的签名与本表单不符（表单可能已过期或被改动），请重新选择这张照片", i+1, shortHash(hash))
		default:
			seen[hash] = true
			rep.Photos = append(rep.Photos, cases.Photo{Hash: hash})
		}
	}
	rep.Source, rep.OnSpot, rep.Note, rep.Severity = cases.SourceResident, false, "", ""
	cat, ok := c.svc.Category(rep.Category)
	if rep.Category == "" || !ok || !cat.Public || !cat.Active {
		f.Add("category", "请选择问题类别")
	}
	if strings.TrimSpace(rep.Reporter.Phone) == "" {
		if !own {
			f.Add("reporter.phone", "请留下联系电话，以便回访和查询")
		}
	} else if !callablePhone(rep.Reporter.Phone) {
		f.Add("reporter.phone", "请填写有效的手机或固定电话号码")
	}
	err := mergeFields(perr, f.Err())
	if err != nil {
		// Name the report's other mistakes too, without storing anything.
		if !ok {
			cat = cases.Category{Code: rep.Category, Active: true}
		}
		_, _, verr := cases.New(rep, cat, cases.Placement{}, "", "", cases.Actor{Role: cases.RoleResident, Name: "居民"}, c.svc.Policy(cat), c.svc.Now())
		err = mergeFields(err, verr)
	} else {
		knock := service.Knock{Client: c.clientAddr(r), Token: ref}
		var cs cases.Case
		var rerr error
		if own {
			cs, rerr = c.svc.ReportOwn(r.Context(), actorOf(r), knock, rep)
		} else {
			cs, rerr = c.svc.ReportAnonymous(r.Context(), knock, rep)
		}
		switch {
		case rerr == nil && own:
			http.Redirect(w, r, "/cases/"+url.PathEscape(cs.ID)+"?reported=1", http.StatusSeeOther)
			return nil
		case rerr == nil:
			http.Redirect(w, r, "/r?reported="+url.QueryEscape(cs.Number), http.StatusSeeOther)
			return nil
		}
		err = rerr
	}
	v := &residentView{Mode: "report", Own: own, Values: r.PostForm, Categories: c.publicCategories(), Ref: ref}
	status, fresh := http.StatusBadRequest, !formRefRE.MatchString(ref)
	switch apperr.KindOf(err) {
	case apperr.Invalid:
		v.Errors, v.Message = fieldMap(err), "请按提示修改后重新提交"
		if m, bad := v.Errors["form_token"]; bad {
			// Expired or forged: the form comes back with a fresh token.
			delete(v.Errors, "form_token")
			v.Message, fresh = m, true
		}
	case apperr.Conflict:
		// The form was used by a report already (with another phone):
		// refused, nothing changed; the form comes back with a fresh token.
		status, v.Message, fresh = http.StatusConflict, messageOf(err), true
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
	for _, p := range rep.Photos {
		v.Photos = append(v.Photos, p.Hash+"."+c.photoMAC(v.Ref, p.Hash))
	}
	c.render(w, r, status, "resident", v)
	return nil
}

// shortHash names a photo by the start of its hash (or of whatever was sent
// as one), printable and short.
func shortHash(h string) string {
	if len(h) > 8 {
		h = h[:8]
	}
	if textcheck.Line(h) != "" {
		return "无效编号"
	}
	return h + "…"
}

// phoneDigits matches what may stand around a phone's digits.
var phoneDigits = regexp.MustCompile(`^(\+?86)?[0-9]{7,15}$`)

// callablePhone reports whether a resident's number can be called back: a
// mobile or a landline (with its area code), not a short service number.
func callablePhone(p string) bool {
	p = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(strings.TrimSpace(p))
	return phoneDigits.MatchString(p)
}

func (c *Console) residentFollowPage(w http.ResponseWriter, r *http.Request) error {
	r = c.setPreCookie(w, r)
	c.render(w, r, http.StatusOK, "resident", &residentView{Mode: "follow", Number: r.URL.Query().Get("number")})
	return nil
}

// follow shows a case to whoever gives its number and the phone left with
// it. A wrong pair learns nothing, and a client that gives too many wrong
// pairs waits (the service counts them per client address), so phones
// cannot be guessed; the case is never closed to its resident.
func (c *Console) follow(w http.ResponseWriter, r *http.Request, flash string, status int) error {
	number, phone := strings.TrimSpace(r.PostFormValue("number")), strings.TrimSpace(r.PostFormValue("phone"))
	v := &residentView{Mode: "follow", Number: number, Phone: phone, Flash: flash}
	cs, steps, err := c.svc.FollowAnonymous(r.Context(), c.clientAddr(r), number, phone)
	switch {
	case apperr.Is(err, apperr.TooMany):
		v.Message = messageOf(err)
		retryAfter(w, err)
		c.render(w, r, http.StatusTooManyRequests, "resident", v)
		return nil
	case apperr.Is(err, apperr.Invalid):
		v.Errors, v.Message = fieldMap(err), "请填写案件编号和电话"
		c.render(w, r, http.StatusBadRequest, "resident", v)
		return nil
	case apperr.Is(err, apperr.NotFound):
		v.Message = "案件编号或电话不正确，请核对后重试"
		c.render(w, r, http.StatusNotFound, "resident", v)
		return nil
	case err != nil:
		return err
	}
	v.Case = c.residentCaseOf(cs, steps)
	c.render(w, r, status, "resident", v)
	return nil
}

func (c *Console) residentFollow(w http.ResponseWriter, r *http.Request) error {
	return c.follow(w, r, "", http.StatusOK)
}

func (c *Console) residentRate(w http.ResponseWriter, r *http.Request) error {
	number, phone := strings.TrimSpace(r.PostFormValue("number")), strings.TrimSpace(r.PostFormValue("phone"))
	rating := cases.Rating(r.PostFormValue("rating"))
	if !rating.Valid() {
		// Shown on the case with the rating form again.
		return c.followWithError(w, r, "请选择满意、基本满意或不满意")
	}
	_, err := c.svc.RateAnonymous(r.Context(), c.clientAddr(r), number, phone, rating, strings.TrimSpace(r.PostFormValue("note")))
	switch {
	case err == nil:
		return c.follow(w, r, "感谢您的评价！", http.StatusOK)
	case apperr.Is(err, apperr.NotFound), apperr.Is(err, apperr.TooMany):
		// Shown without asking again (a second wrong pair would count).
		v := &residentView{Mode: "follow", Number: number, Phone: phone, Message: messageOf(err)}
		status := http.StatusNotFound
		if apperr.Is(err, apperr.TooMany) {
			status = http.StatusTooManyRequests
			retryAfter(w, err)
		}
		c.render(w, r, status, "resident", v)
		return nil
	case apperr.Is(err, apperr.Refused), apperr.Is(err, apperr.Conflict), apperr.Is(err, apperr.Invalid):
		return c.followWithError(w, r, messageOf(err))
	}
	return err
}

// followWithError shows the case again with a message above it.
func (c *Console) followWithError(w http.ResponseWriter, r *http.Request, msg string) error {
	number, phone := strings.TrimSpace(r.PostFormValue("number")), strings.TrimSpace(r.PostFormValue("phone"))
	cs, steps, err := c.svc.FollowAnonymous(r.Context(), c.clientAddr(r), number, phone)
	if err != nil {
		return c.follow(w, r, "", http.StatusNotFound)
	}
	v := &residentView{Mode: "follow", Number: number, Phone: phone, Message: msg, Case: c.residentCaseOf(cs, steps)}
	c.render(w, r, http.StatusConflict, "resident", v)
	return nil
}
