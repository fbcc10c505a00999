package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
	"zhizhi/internal/operation"
	"zhizhi/internal/service"
)

// NYEOperationID is the demo's operation: New Year's Eve 2024 at 解放碑
// (scenario S3).
const NYEOperationID = "nye2024-jfb"

var cst = time.FixedZone("CST", 8*3600)

func rect(lng0, lat0, lng1, lat1 float64) geo.MultiPolygon {
	return geo.MultiPolygon{{{{Lng: lng0, Lat: lat0}, {Lng: lng1, Lat: lat0}, {Lng: lng1, Lat: lat1}, {Lng: lng0, Lat: lat1}, {Lng: lng0, Lat: lat0}}}}
}

// NYEOperation is the 2024 New Year's Eve operation at 解放碑, starting at
// start (the real one: 2023-12-31 20:00 Beijing time), its times scaled by
// 1/speed (1 for the real evening; the replay compresses it). The square's
// area is the one the demo's 40 crowd counters are summed in; its lines
// are set so the evening's crowd (peaking near 150,000 at the countdown)
// goes yellow at 100,000 and red at 140,000. At 00:05 the clean-up goes to
// the city management bureau and the traffic to the police, 15 minutes
// each; the pedestrian diversion goes out when the square turns red.
func NYEOperation(start time.Time, speed float64) operation.Operation {
	if speed < 1 {
		speed = 1
	}
	at := func(d time.Duration) time.Time { return start.Add(time.Duration(float64(d) / speed)) }
	countdown := 4*time.Hour + 5*time.Minute
	return operation.Operation{
		ID: NYEOperationID, Name: "2024跨年夜解放碑", Start: start, End: at(6 * time.Hour), Kind: "crowd", AlertCategory: "AQ10",
		Areas: []operation.Area{{
			Key: JFBSquare, Name: "解放碑广场及步行街", Shape: rect(106.5792, 29.5548, 106.5832, 29.5578), Yellow: 100000, Red: 140000,
			Duty: []operation.Duty{
				{Unit: "ga", Name: "刘建国", Role: "现场指挥（公安）", Phone: "023-63751110"},
				{Unit: "cg", Name: "陈晓峰", Role: "环卫保洁", Phone: "023-63752200"},
				{Name: "王敏", Role: "街道带班领导", Phone: "023-63781234"},
			},
		}},
		Tasks: []operation.Task{
			{ID: "clean", Area: JFBSquare, Title: "跨年活动后广场及步行街清扫", Category: "MS03", Unit: "cg", At: at(countdown), LimitMinutes: 15,
				Description: "倒计时结束后清运垃圾、清扫地面。"},
			{ID: "traffic", Area: JFBSquare, Title: "跨年活动后交通疏导与恢复", Category: "MS14", Unit: "ga", At: at(countdown), LimitMinutes: 15,
				Description: "撤除临时管制设施，疏导散场车流。"},
			{ID: "divert", Area: JFBSquare, Title: "解放碑人流分流（单向通行）", Category: "MS14", Unit: "ga", Trigger: operation.OnRed, LimitMinutes: 10},
		},
	}
}

// NYEStart is when the real operation began.
var NYEStart = time.Date(2023, 12, 31, 20, 0, 0, 0, cst)

// NYECrowd is the share of the peak crowd in 解放碑's square at a moment of
// the evening (elapsed since 20:00): rising through the evening to the
// countdown at 00:00, leaving quickly after it.
func NYECrowd(elapsed time.Duration) float64 {
	h := elapsed.Hours()
	switch {
	case h < 0:
		return 0.3
	case h < 4:
		x := h / 4
		return 0.3 + 0.7*x*x*(3-2*x) // smooth rise to the countdown
	case h < 4+1.0/12:
		return 1
	default:
		return math.Max(0.05, math.Exp(-(h-4-1.0/12)*3)) // the crowd leaves within the hour
	}
}

// LoadOperation stores the demo's operation (the real New Year's Eve
// 2024, long past, so its record is there to read), planned by 解放碑's
// commander. An operation already there is kept.
func LoadOperation(ctx context.Context, svc *service.Service) error {
	a, err := svc.DB().AccountByUsername(ctx, "jfb_zhihui")
	if err != nil {
		return fmt.Errorf("demo operation: %w", err)
	}
	_, err = svc.SaveOperation(ctx, svc.ActorOf(a), NYEOperation(NYEStart, 1))
	var e *apperr.Error
	if errors.As(err, &e) && len(e.Fields) == 1 && e.Fields[0].Field == "id" {
		return nil // stored before
	}
	return err
}

// ReplayOperation plans a copy of the New Year's Eve operation starting at
// start, its evening compressed speed times, named after the moment (so
// each replay has its own record and report).
func ReplayOperation(ctx context.Context, svc *service.Service, start time.Time, speed float64) (operation.Operation, error) {
	a, err := svc.DB().AccountByUsername(ctx, "jfb_zhihui")
	if err != nil {
		return operation.Operation{}, fmt.Errorf("demo operation: %w", err)
	}
	op := NYEOperation(start, speed)
	op.ID = "nye-replay-" + start.In(cst).Format("0102-150405")
	op.Name += "（回放 " + start.In(cst).Format("01-02 15:04") + "）"
	return svc.SaveOperation(ctx, svc.ActorOf(a), op)
}
