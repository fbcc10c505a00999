package web

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
)

func contextWith(r *http.Request, k, v any) context.Context {
	return context.WithValue(r.Context(), k, v)
}

// fieldMap turns an Invalid error's fields into input name → reason, the
// names reduced to the form's inputs: "co_units[1]" → "co_units",
// "photos[0]" → "photos", "answers.shop" stays.
func fieldMap(err error) map[string]string {
	var e *apperr.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, f := range e.Fields {
		name := inputName(f.Field)
		if m := decisionRE.FindStringSubmatch(f.Field); m != nil {
			// The meeting form has several decision rows: say which.
			n, _ := strconv.Atoi(m[1])
			f.Reason = "第" + strconv.Itoa(n+1) + "项决定：" + f.Reason
		}
		if prev, ok := out[name]; ok && prev != f.Reason {
			out[name] = prev + "；" + f.Reason
			continue
		}
		out[name] = f.Reason
	}
	return out
}

var (
	indexRE    = regexp.MustCompile(`\[\d+\]`)
	decisionRE = regexp.MustCompile(`^meeting\.decisions\[(\d+)\]`)
)

func inputName(field string) string {
	name := indexRE.ReplaceAllString(field, "")
	if strings.HasPrefix(name, "answers.") {
		return name
	}
	switch {
	case name == "amount" || name == "unit":
		return "extension"
	case strings.HasPrefix(name, "meeting"):
		return "meeting"
	case strings.HasPrefix(name, "reporter."):
		return strings.ReplaceAll(name, ".", "_")
	case name == "photo":
		return "photos"
	}
	return name
}

// messageOf is the user-facing message of an apperr, or a generic one.
func messageOf(err error) string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "服务器内部错误，请稍后重试"
}

// localTime reads a datetime-local input ("2026-01-02T15:04") in the
// calendar's zone.
func localTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad time")
}

// photosOf collects a form's photos: hashes already uploaded by the page's
// script (field photo) and files sent with the form (field photo_file),
// which are stored now. Problems are added to f under "photos".
func (c *Console) photosOf(r *http.Request, f *apperr.Fields) []cases.Photo {
	var out []cases.Photo
	seen := map[string]bool{}
	for _, h := range r.PostForm["photo"] {
		if h = strings.TrimSpace(h); h != "" && !seen[h] {
			seen[h] = true
			out = append(out, cases.Photo{Hash: h})
		}
	}
	if r.MultipartForm == nil {
		return out
	}
	for _, fh := range r.MultipartForm.File["photo_file"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // an empty file input
		}
		p, err := c.savePart(fh)
		if err != nil {
			if apperr.Is(err, apperr.Invalid) {
				for _, fe := range fieldErrors(err) {
					f.Add("photos", fh.Filename+"："+fe)
				}
				continue
			}
			if e := (*apperr.Error)(nil); errors.As(err, &e) && (e.Kind == apperr.TooLarge || e.Kind == apperr.TooMany) {
				f.Add("photos", fh.Filename+"："+e.Message)
				continue
			}
			f.Add("photos", "照片保存失败，请重试")
			c.log.Error("save photo", "err", err)
			continue
		}
		if !seen[p.Hash] {
			seen[p.Hash] = true
			out = append(out, p)
		}
	}
	return out
}

func (c *Console) savePart(fh *multipart.FileHeader) (cases.Photo, error) {
	file, err := fh.Open()
	if err != nil {
		return cases.Photo{}, err
	}
	defer file.Close()
	return c.svc.SavePhoto(file, service.DeclaredType(fh.Header.Get("Content-Type"), fh.Filename))
}

func fieldErrors(err error) []string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Reason)
	}
	return out
}

// commandOf reads an action form into a command. Inputs that cannot be read
// at all (a number that is not a number) are reported as field errors in
// Chinese; everything else is left to the rules.
func (c *Console) commandOf(r *http.Request, actor cases.Actor) (cases.Command, error) {
	var f apperr.Fields
	v := r.PostForm
	cmd := cases.Command{Action: cases.Action(v.Get("action")), Note: v.Get("note")}
	if s := v.Get("severity"); s != "" {
		cmd.Severity = sla.Severity(s)
	}
	cmd.Lead = v.Get("lead_unit")
	for _, u := range v["co_units"] {
		if u != "" && u != cmd.Lead {
			cmd.Co = append(cmd.Co, u)
		}
	}
	cmd.Target = v.Get("target")
	if n := strings.TrimSpace(v.Get("target_number")); n != "" {
		t, _, err := c.svc.Case(r.Context(), actor, n)
		if err != nil {
			f.Add("target", "找不到编号为“"+n+"”的案件")
		} else {
			cmd.Target = t.ID
		}
	}
	switch v.Get("passed") {
	case "yes":
		b := true
		cmd.Passed = &b
	case "no":
		b := false
		cmd.Passed = &b
	}
	cmd.Rating = cases.Rating(v.Get("rating"))
	cmd.AppealUnit = v.Get("appeal_unit")
	if a := strings.TrimSpace(v.Get("ext_amount")); a != "" || cmd.Action == cases.ActExtendRequest {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 {
			f.Add("extension", "请填写有效的延期时长（正整数）")
		} else {
			cmd.Extension = sla.Limit{Amount: n, Unit: sla.Unit(v.Get("ext_unit"))}
		}
	}
	loc := c.svc.Calendar().Location()
	if s := strings.TrimSpace(v.Get("until")); s != "" {
		t, err := localTime(s, loc)
		if err != nil {
			f.Add("until", "请填写有效的日期时间")
		}
		cmd.Until = t
	}
	if lat, lng := strings.TrimSpace(v.Get("lat")), strings.TrimSpace(v.Get("lng")); lat != "" || lng != "" {
		y, err1 := strconv.ParseFloat(lat, 64)
		x, err2 := strconv.ParseFloat(lng, 64)
		if p := (geo.Point{Lng: x, Lat: y}); err1 != nil || err2 != nil || !p.Valid() {
			f.Add("point", "经纬度无效")
		} else {
			cmd.Point = &p
		}
	}
	cmd.Photos = c.photosOf(r, &f)
	if cmd.Action == cases.ActWhistle {
		cmd.Kind = cases.WhistleKind(v.Get("whistle_kind"))
		for _, p := range v["party"] {
			switch {
			case strings.HasPrefix(p, "unit:"):
				cmd.Parties = append(cmd.Parties, cases.PartyRef{UnitID: strings.TrimPrefix(p, "unit:")})
			case strings.HasPrefix(p, "person:"):
				cmd.Parties = append(cmd.Parties, cases.PartyRef{AccountID: strings.TrimPrefix(p, "person:")})
			}
		}
	}
	if pr := v.Get("party_ref"); pr != "" {
		cmd.WhistleID, cmd.PartyKey, _ = strings.Cut(pr, "|")
	}
	cmd.DecisionID = v.Get("decision_id")
	if cmd.Action == cases.ActMeeting {
		m := &cases.MeetingInput{Kind: cases.MeetingKind(v.Get("meeting_kind")), Place: strings.TrimSpace(v.Get("meeting_place")),
			Shown: strings.TrimSpace(v.Get("meeting_shown"))}
		if s := strings.TrimSpace(v.Get("meeting_at")); s != "" {
			t, err := localTime(s, loc)
			if err != nil {
				f.Add("meeting", "会议时间无效")
			}
			m.At = t
		}
		for _, u := range v["meeting_units"] {
			m.Attendees = append(m.Attendees, cases.Attendee{Kind: cases.AttendeeUnit, UnitID: u})
		}
		for _, line := range strings.Split(v.Get("meeting_people"), "\n") {
			if name := strings.TrimSpace(line); name != "" {
				m.Attendees = append(m.Attendees, cases.Attendee{Kind: cases.AttendeeResident, Name: name})
			}
		}
		// The decisions come as rows of three inputs; a row left wholly
		// empty is skipped (the form offers spare rows), a partial one is
		// sent on for the rules to name what it lacks.
		texts, units, dues := v["decision_text"], v["decision_unit"], v["decision_due"]
		for i := range max(len(texts), len(units), len(dues)) {
			text, unit, dueText := strings.TrimSpace(at(texts, i)), at(units, i), strings.TrimSpace(at(dues, i))
			if text == "" && unit == "" && dueText == "" {
				continue
			}
			d := cases.DecisionInput{Text: text, UnitID: unit}
			if dueText != "" {
				due, err := localTime(dueText, loc)
				if err != nil {
					f.Add(fmt.Sprintf("meeting.decisions[%d].due", len(m.Decisions)), "完成期限无效")
				}
				d.Due = due
			}
			m.Decisions = append(m.Decisions, d)
		}
		cmd.WhistleID = v.Get("whistle_id")
		cmd.Meeting = m
	}
	return cmd, f.Err()
}

// at is the i-th value of a repeated input, or "".
func at(vals []string, i int) string {
	if i < len(vals) {
		return vals[i]
	}
	return ""
}

// reportOf reads the report form.
func (c *Console) reportOf(r *http.Request) (cases.Report, error) {
	var f apperr.Fields
	v := r.PostForm
	rep := cases.Report{
		Source: cases.Source(v.Get("source")), Category: v.Get("category"), Severity: sla.Severity(v.Get("severity")),
		Description: v.Get("description"), Address: strings.TrimSpace(v.Get("address")),
		OnSpot: v.Get("on_spot") != "", Note: v.Get("on_spot_note"),
		Reporter: cases.Reporter{Name: strings.TrimSpace(v.Get("reporter_name")), Phone: strings.TrimSpace(v.Get("reporter_phone"))},
	}
	lat, lng := strings.TrimSpace(v.Get("lat")), strings.TrimSpace(v.Get("lng"))
	if lat != "" || lng != "" {
		y, err1 := strconv.ParseFloat(lat, 64)
		x, err2 := strconv.ParseFloat(lng, 64)
		p := geo.Point{Lng: x, Lat: y}
		if err1 != nil || err2 != nil || !p.Valid() {
			f.Add("point", "经纬度无效")
		} else {
			rep.Point = &p
		}
	}
	if cat, ok := c.svc.Category(rep.Category); ok && len(cat.Questions) > 0 {
		rep.Answers = map[string]any{}
		loc := c.svc.Calendar().Location()
		for _, q := range cat.Questions {
			vals := v["answers."+q.Code]
			switch {
			case q.Type == cases.QMulti:
				if len(vals) > 0 {
					rep.Answers[q.Code] = vals
				}
			case len(vals) == 0 || strings.TrimSpace(vals[0]) == "":
			case q.Type == cases.QDateTime:
				t, err := localTime(vals[0], loc)
				if err != nil {
					f.Add("answers."+q.Code, "请填写有效的日期时间")
					continue
				}
				rep.Answers[q.Code] = t.Format(time.RFC3339)
			default:
				rep.Answers[q.Code] = vals[0]
			}
		}
	}
	rep.Photos = c.photosOf(r, &f)
	return rep, f.Err()
}
