package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// SensorKinds are sample kinds of Yuzhong's IoT devices (the district's
// command system watches 231 kinds; these are a few of the common ones).
var SensorKinds = []sensors.Kind{
	{Code: "crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 200000},
	{Code: "smoke", Name: "烟感", Unit: "ppm", Min: 0, Max: 1000},
	{Code: "gas", Name: "燃气浓度", Unit: "%LEL", Min: 0, Max: 100},
	{Code: "water_level", Name: "积水水位", Unit: "cm", Min: 0, Max: 300},
	{Code: "manhole_tilt", Name: "井盖倾角", Unit: "°", Min: 0, Max: 90},
	{Code: "strain", Name: "结构应变", Unit: "με", Min: -2000, Max: 2000},
}

// JFBSquare is the area of the crowd counters around 解放碑's square.
const JFBSquare = "jfb-square"

// sensorRules are the demo's rules. Silence is off by default: a demo
// without the simulator running would otherwise open a case per device.
var sensorRules = []sensors.Rule{
	{ID: "jfb-crowd", Name: "解放碑步行街客流", Type: sensors.AreaSum, Area: JFBSquare, Kind: "crowd", Raise: 150000, Clear: 120000,
		ClearMinutes: 10, UpdateMinutes: 10, Category: "AQ10", Severity: sla.Critical, Active: true},
	{ID: "smoke-high", Name: "烟感超标", Type: sensors.Threshold, Kind: "smoke", Raise: 300, Clear: 100, ClearMinutes: 5, Category: "AQ03", Severity: sla.Urgent, Active: true},
	{ID: "gas-high", Name: "燃气浓度超标", Type: sensors.Threshold, Kind: "gas", Raise: 20, Clear: 10, ClearMinutes: 5, Category: "AQ09", Severity: sla.Critical, Active: true},
	{ID: "water-high", Name: "下穿道积水", Type: sensors.Threshold, Kind: "water_level", Raise: 30, Clear: 20, ClearMinutes: 10, Category: "MS07", Severity: sla.Urgent, Active: true},
	{ID: "water-rise", Name: "水位快速上涨", Type: sensors.Rate, Kind: "water_level", Raise: 5, Clear: 1, ClearMinutes: 10, Category: "MS07", Severity: sla.Urgent, Active: true},
	{ID: "strain-high", Name: "结构应变超限", Type: sensors.Threshold, Kind: "strain", Raise: 1500, Clear: 1200, ClearMinutes: 30, Category: "AQ08", Severity: sla.Critical, Active: true},
	{ID: "smoke-silent", Name: "烟感离线", Type: sensors.Silence, Kind: "smoke", SilentMinutes: 60, Category: "AQ03", Severity: sla.Normal, Active: false},
}

// LoadSensors registers the demo's kinds, n devices spread over the demo's
// grids (40 crowd counters of them around 解放碑's square, in area
// jfb-square) and the demo's rules. A rule whose category is missing or asks
// required questions is skipped. It returns how many devices it registered.
func LoadSensors(ctx context.Context, svc *service.Service, n int, seed uint64) (int, error) {
	for _, k := range SensorKinds {
		if err := svc.PutDeviceKind(ctx, cases.System, k); err != nil {
			return 0, err
		}
	}
	grids, err := svc.DB().Regions(ctx, store.RegionFilter{Level: region.Grid, WithShape: true})
	if err != nil {
		return 0, err
	}
	if len(grids) == 0 {
		return 0, fmt.Errorf("no grids with shapes: load the demo first")
	}
	rnd := rand.New(rand.NewPCG(seed, 16))
	risk := map[string][]string{
		"strain":       {"长江大桥", "嘉陵江大桥", "解放碑地下环道", "较场口下穿隧道", "大坪高层住宅"},
		"water_level":  {"较场口下穿道", "储奇门下穿道", "两路口地下通道"},
		"gas":          {"八一路餐饮街", "民族路燃气管线", "大坪燃气调压站"},
		"manhole_tilt": {"邹容路", "中山三路", "长江一路"},
	}
	var b strings.Builder
	b.WriteString("id,kind,name,lng,lat,area,risk_point\n")
	for i := 0; i < n; i++ {
		var k sensors.Kind
		var p geo.Point
		area := ""
		if i < 40 {
			// Around 解放碑's square (inside the demo's 解放碑街道, whose
			// grids are synthesized east of the real square).
			k = SensorKinds[0]
			p = geo.Point{Lng: 106.5812 + 0.003*(rnd.Float64()-0.5), Lat: 29.5563 + 0.002*(rnd.Float64()-0.5)}
			area = JFBSquare
		} else {
			k = SensorKinds[rnd.IntN(len(SensorKinds))]
			g := grids[rnd.IntN(len(grids))]
			bb := g.Shape.Bounds()
			p = geo.Point{Lng: bb.Min.Lng + (bb.Max.Lng-bb.Min.Lng)*rnd.Float64(), Lat: bb.Min.Lat + (bb.Max.Lat-bb.Min.Lat)*rnd.Float64()}
		}
		rp := ""
		if list := risk[k.Code]; len(list) > 0 {
			rp = list[rnd.IntN(len(list))]
		}
		fmt.Fprintf(&b, "YZ-%s-%05d,%s,%s%05d,%.6f,%.6f,%s,%s\n", strings.ToUpper(strings.ReplaceAll(k.Code, "_", "")), i, k.Code, k.Name, i, p.Lng, p.Lat, area, rp)
	}
	m, _, err := svc.ImportDevices(ctx, cases.System, strings.NewReader(b.String()))
	if err != nil {
		return 0, err
	}
	have, err := svc.SensorRules(ctx)
	if err != nil {
		return m, err
	}
	saved := map[string]int{}
	for _, r := range have {
		saved[r.ID] = r.Version
	}
	for _, r := range sensorRules {
		if _, ok := saved[r.ID]; ok {
			continue
		}
		// An installation without the rule's category (or whose category
		// asks required questions) does without the rule.
		_, _ = svc.SaveSensorRule(ctx, cases.System, r)
	}
	return m, nil
}
