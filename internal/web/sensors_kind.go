package web

import (
	"net/http"
	"net/url"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/sensors"
)

// sensorSaveKind adds or changes a device kind (code, name, unit, range).
func (c *Console) sensorSaveKind(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	var bad apperr.Fields
	k := sensors.Kind{Code: strings.TrimSpace(f.Get("code")), Name: f.Get("name"), Unit: f.Get("unit"),
		Min: formNumber(f, "min", false, &bad), Max: formNumber(f, "max", false, &bad)}
	err := bad.Err()
	if err == nil {
		err = c.svc.PutDeviceKind(r.Context(), actorOf(r), k)
	} else if verr := k.Check(); verr != nil {
		err = mergeFields(err, verr)
	}
	if err == nil {
		http.Redirect(w, r, "/sensors/admin?saved="+url.QueryEscape("设备类型 "+k.Code)+"#kinds", http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	p, perr := c.sensorAdminOf(r, &formState{Values: f, Errors: fieldMap(err), Message: "请按提示修改后重新提交"}, nil)
	if perr != nil {
		return perr
	}
	c.render(w, r, http.StatusBadRequest, "sensors.admin", p)
	return nil
}
