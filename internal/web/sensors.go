package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"zhizhi/internal/cases"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The sensors' pages (感知设备, /sensors): the devices with their last
// readings (filtered by kind, area and state, a page at a time), the open
// and recent incidents with their cases, the rules in force and the kind
// catalog; and one device's page (/sensors/devices/{id}) with its series
// drawn as a chart and its refused readings. Commanders, leaders and
// administrators read them; rules, kinds and devices are changed through
// the API by district-wide administrators (audited).

// sensorsPage is how many devices the list shows at once.
const sensorsPage = 100

type sensorsView struct {
	Kinds     []sensors.Kind
	KindNames map[string]string
	Devices   []store.DeviceRow
	More      string // the next page's cursor
	Kind      string
	Area      string
	State     string
	States    []sensors.DeviceState
	Rules     []sensors.Rule
	Incidents []incidentRow
	Total     int
}

// incidentRow is an incident as the list shows it.
type incidentRow struct {
	store.IncidentRow
	RuleName    string
	Value, Peak string
	CaseLink    bool // the reader may open the incident's case
}

func (v *sensorsView) title() string { return "感知设备" }

func (c *Console) sensorsList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	v := &sensorsView{Kind: q.Get("kind"), Area: q.Get("area"), State: q.Get("state"), KindNames: map[string]string{},
		States: []sensors.DeviceState{sensors.Active, sensors.Silent, sensors.Retired}}
	st := sensors.DeviceState(v.State)
	if st != "" && !st.Valid() {
		st, v.State = "", ""
	}
	var err error
	if v.Kinds, err = c.svc.DeviceKinds(ctx); err != nil {
		return err
	}
	for _, k := range v.Kinds {
		v.KindNames[k.Code] = k.Name
	}
	list, err := c.svc.Devices(ctx, store.DeviceFilter{Kind: v.Kind, Area: v.Area, State: st, After: q.Get("after"), Limit: sensorsPage + 1})
	if err != nil {
		return err
	}
	if len(list) > sensorsPage {
		list, v.More = list[:sensorsPage], list[sensorsPage-1].ID
	}
	v.Devices = list
	if v.Total, err = c.svc.DB().CountDevices(ctx); err != nil {
		return err
	}
	if v.Rules, err = c.svc.SensorRules(ctx); err != nil {
		return err
	}
	incs, err := c.svc.DB().Incidents(ctx, store.IncidentFilter{Limit: 50})
	if err != nil {
		return err
	}
	rules := map[string]sensors.Rule{}
	for _, ru := range v.Rules {
		rules[ru.ID] = ru
	}
	actor := actorOf(r)
	for _, inc := range incs {
		ru := rules[inc.Incident.Rule]
		name := ru.Name
		if name == "" {
			name = inc.Incident.Rule
		}
		row := incidentRow{IncidentRow: inc, RuleName: name,
			Value: incidentValue(ru, inc.Incident.Value), Peak: incidentValue(ru, inc.Incident.Peak)}
		// Every commander reads the district's incidents; the case behind
		// one is linked only for those who may open it.
		if id := inc.Incident.CaseID; id != "" {
			if k, err := c.svc.DB().Case(ctx, id); err == nil && cases.CanSee(actor, &k) {
				row.CaseLink = true
			}
		}
		v.Incidents = append(v.Incidents, row)
	}
	c.render(w, r, http.StatusOK, "sensors", v)
	return nil
}

// moreQuery is the list's query string for its next page.
func (v *sensorsView) MoreQuery() string {
	q := []string{"after=" + v.More}
	for k, val := range map[string]string{"kind": v.Kind, "area": v.Area, "state": v.State} {
		if val != "" {
			q = append(q, k+"="+val)
		}
	}
	return strings.Join(q, "&")
}

type deviceView struct {
	service.DeviceView
	Chart *seriesChart
}

func (v *deviceView) title() string { return "设备 " + v.Device.ID }

// seriesChart is a device's series drawn as SVG: the average as a line,
// the minimum and maximum as a band, in a viewBox of W×H.
type seriesChart struct {
	W, H         int
	Line, Band   string // SVG points
	Min, Max     string // the value axis' ends, with the unit
	First, Last  string // the time axis' ends
	Points, Gaps int
}

func (c *Console) devicePage(w http.ResponseWriter, r *http.Request) error {
	dv, err := c.svc.Device(r.Context(), r.PathValue("id"), r.URL.Query().Get("grain"))
	if err != nil {
		return err
	}
	v := &deviceView{DeviceView: dv}
	if len(dv.Series) > 0 {
		v.Chart = c.chartOf(dv)
	}
	c.render(w, r, http.StatusOK, "device", v)
	return nil
}

func (c *Console) chartOf(dv service.DeviceView) *seriesChart {
	const w, h, pad = 640, 200, 4
	s := dv.Series
	lo, hi := s[0].Min, s[0].Max
	for _, a := range s {
		lo, hi = math.Min(lo, a.Min), math.Max(hi, a.Max)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	t0, t1 := s[0].At, s[len(s)-1].At
	span := t1.Sub(t0).Seconds()
	x := func(i int) float64 {
		if span == 0 {
			return w / 2
		}
		return pad + (w-2*pad)*s[i].At.Sub(t0).Seconds()/span
	}
	y := func(v float64) float64 { return pad + (h-2*pad)*(hi-v)/(hi-lo) }
	pt := func(x, y float64) string {
		return strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64)
	}
	var line, top, bottom []string
	for i, a := range s {
		line = append(line, pt(x(i), y(a.Avg)))
		top = append(top, pt(x(i), y(a.Max)))
		bottom = append([]string{pt(x(i), y(a.Min))}, bottom...)
	}
	unit := dv.Kind.Unit
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + unit }
	return &seriesChart{W: w, H: h, Line: strings.Join(line, " "), Band: strings.Join(append(top, bottom...), " "),
		Min: num(lo), Max: num(hi), First: c.when(t0), Last: c.when(t1), Points: len(s)}
}

// incidentValue is an incident's value with its rule's meaning, for the
// lists.
func incidentValue(rule sensors.Rule, v float64) string {
	if rule.Type == sensors.Silence {
		return fmt.Sprintf("%d分钟无读数", int(v))
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
