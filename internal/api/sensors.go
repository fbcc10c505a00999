package api

import (
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/sensors"
	"zhizhi/internal/store"
	"zhizhi/internal/textcheck"
)

// postReadings takes a gateway's readings over HTTP: the same write path
// as MQTT's, one problem per reading.
func (a *API) postReadings(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if !utf8.Valid(body) {
		return apperr.Field("body", "请求体"+textcheck.NotUTF8)
	}
	res, err := a.svc.IngestAs(r.Context(), actorOf(r), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) listDeviceKinds(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.DeviceKinds(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) putDeviceKind(w http.ResponseWriter, r *http.Request) error {
	var k sensors.Kind
	if err := decode(r, &k); err != nil {
		return err
	}
	if k.Code == "" {
		k.Code = r.PathValue("code")
	}
	if k.Code != r.PathValue("code") {
		return apperr.Field("code", "编码与地址不一致")
	}
	if err := a.svc.PutDeviceKind(r.Context(), actorOf(r), k); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

// limitParam reads ?limit= (default def, at most max).
func limitParam(r *http.Request, def, max int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, apperr.Field("limit", "须为1到"+strconv.Itoa(max)+"之间的整数")
	}
	return n, nil
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		return err
	}
	st := sensors.DeviceState(q.Get("state"))
	if st != "" && !st.Valid() {
		return apperr.Field("state", "状态须为 active、silent 或 retired")
	}
	list, err := a.svc.Devices(r.Context(), store.DeviceFilter{Kind: q.Get("kind"), Area: q.Get("area"), State: st, After: q.Get("after"), Limit: limit + 1})
	if err != nil {
		return err
	}
	out := map[string]any{"items": list}
	if len(list) > limit {
		out["items"], out["next"] = list[:limit], list[limit-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deviceDetail(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.Device(r.Context(), r.PathValue("id"), r.URL.Query().Get("grain"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// importDevices takes a CSV of devices: all or none, every problem of every
// row named as rows[N].field.
func (a *API) importDevices(w http.ResponseWriter, r *http.Request) error {
	n, _, err := a.svc.ImportDevices(r.Context(), actorOf(r), r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"imported": n})
	return nil
}

func (a *API) listSensorRules(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.SensorRules(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) putSensorRule(w http.ResponseWriter, r *http.Request) error {
	var rule sensors.Rule
	if err := decode(r, &rule); err != nil {
		return err
	}
	if rule.ID == "" {
		rule.ID = r.PathValue("id")
	}
	if rule.ID != r.PathValue("id") {
		return apperr.Field("id", "编号与地址不一致")
	}
	saved, err := a.svc.SaveSensorRule(r.Context(), actorOf(r), rule)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, saved)
	return nil
}

func (a *API) sensorRuleVersions(w http.ResponseWriter, r *http.Request) error {
	list, err := a.db.SensorRuleVersions(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return apperr.New(apperr.NotFound, "规则不存在")
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		return err
	}
	state := q.Get("state")
	if state != "" && state != "open" && state != "cleared" {
		return apperr.Field("state", "状态须为 open 或 cleared")
	}
	list, err := a.db.Incidents(r.Context(), store.IncidentFilter{State: state, Rule: q.Get("rule"), Before: q.Get("before"), Limit: limit + 1})
	if err != nil {
		return err
	}
	out := map[string]any{"items": list}
	if len(list) > limit {
		out["items"], out["next"] = list[:limit], list[limit-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
