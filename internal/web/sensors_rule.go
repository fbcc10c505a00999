package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/sensors"
	"zhizhi/internal/sla"
)

// sensorSaveRule saves a rule as its next version (a new rule when the ID
// is new).
func (c *Console) sensorSaveRule(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	var bad apperr.Fields
	ru := sensors.Rule{ID: strings.TrimSpace(f.Get("id")), Name: f.Get("name"), Type: sensors.RuleType(f.Get("type")),
		Kind: strings.TrimSpace(f.Get("kind")), Device: strings.TrimSpace(f.Get("device")), Area: strings.TrimSpace(f.Get("area")),
		Below: f.Get("below") != "", Category: f.Get("category"), Severity: sla.Severity(f.Get("severity")), Active: f.Get("active") != ""}
	silence := ru.Type == sensors.Silence
	ru.Raise = formNumber(f, "raise", silence, &bad)
	ru.Clear = formNumber(f, "clear", silence, &bad)
	ru.SilentMinutes = formInt(f, "silent_minutes", &bad)
	ru.ClearMinutes = formInt(f, "clear_minutes", &bad)
	ru.UpdateMinutes = formInt(f, "update_minutes", &bad)
	ru.Version = formInt(f, "version", &bad) // the version the form was opened on: a save over a newer one is refused
	var saved sensors.Rule
	err := bad.Err()
	if err == nil {
		saved, err = c.svc.SaveSensorRule(r.Context(), actorOf(r), ru)
	} else if verr := ru.Check(); verr != nil {
		err = mergeFields(err, verr)
	}
	if err == nil {
		http.Redirect(w, r, "/sensors/admin?saved="+url.QueryEscape("规则 "+saved.ID+" 第"+strconv.Itoa(saved.Version)+"版")+"#rules", http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	p, perr := c.sensorAdminOf(r, nil, &formState{Values: f, Errors: fieldMap(err), Message: "请按提示修改后重新提交"})
	if perr != nil {
		return perr
	}
	c.render(w, r, http.StatusBadRequest, "sensors.admin", p)
	return nil
}
