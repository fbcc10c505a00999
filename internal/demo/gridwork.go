package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// gridWorkS2 gives 杨诗培's 第九网格 its grid work (S2, issue 15): the
// roster (buildings, households, shops, a key place, the people recorded
// there), the 1+3+N team, the plan, and six months of patrols, household
// visits and residents' messages. The roster, team and plan go through the
// service; the history, like the demo's cases, is written directly, each
// record validated by the domain as of its own day.
func (g *generator) gridWorkS2(ctx context.Context, svc *service.Service) error {
	ysp, ok := g.actors["yangshipei"]
	if !ok {
		return nil
	}
	var grid store.RegionRecord
	for _, gr := range g.w.grids {
		if gr.Path == ysp.RegionPath {
			grid = gr
		}
	}
	if grid.Code == "" || len(grid.Shape) == 0 {
		return fmt.Errorf("grid work S2: 杨诗培's grid not found")
	}
	sys := cases.System
	if _, err := svc.SetTeam(ctx, sys, grid.Code, []gridwork.TeamMember{
		{Name: "民乐村社区党委书记", Role: gridwork.Chief}, {AccountID: ysp.AccountID, Role: gridwork.FullTime},
		{Name: "李兼职", Role: gridwork.PartTime}, {Name: "石油路街道驻社区干部", Role: gridwork.Instructor},
		{Name: "在职党员王某", Role: gridwork.Member}, {Name: "在职党员陈某", Role: gridwork.Member},
		{Name: "楼栋长刘阿姨", Role: gridwork.Other}, {Name: "志愿者周某", Role: gridwork.Volunteer},
	}); err != nil {
		return fmt.Errorf("grid work S2 team: %w", err)
	}
	if _, err := svc.SetPlan(ctx, sys, gridwork.Plan{GridCode: grid.Code, MinMinutes: 30}); err != nil {
		return fmt.Errorf("grid work S2 plan: %w", err)
	}
	centre := grid.Shape.Centroid()
	if !grid.Shape.Contains(centre) {
		centre = grid.Shape[0][0][0]
	}
	var homes []string
	for b := 1; b <= 4; b++ {
		bp, err := svc.PutPlace(ctx, sys, gridwork.Place{GridCode: grid.Code, Kind: gridwork.Building, Name: fmt.Sprintf("民乐村%d栋", b),
			Point: &geo.Point{Lng: centre.Lng + float64(b-2)*0.0003, Lat: centre.Lat}})
		if err != nil {
			return fmt.Errorf("grid work S2 roster: %w", err)
		}
		for _, unit := range []string{"101", "302", "501"} {
			h, err := svc.PutPlace(ctx, sys, gridwork.Place{GridCode: grid.Code, Kind: gridwork.Household, Name: fmt.Sprintf("民乐村%d栋%s", b, unit), Building: bp.ID})
			if err != nil {
				return fmt.Errorf("grid work S2 roster: %w", err)
			}
			homes = append(homes, h.Name)
			if unit == "101" {
				tags := []string{"独居老人"}
				if b%2 == 0 {
					tags = []string{"残疾人", "低保户"}
				}
				if _, err := svc.PutPerson(ctx, sys, gridwork.Person{PlaceID: h.ID, Name: fmt.Sprintf("%s某%d", []string{"张", "王", "李", "赵"}[b-1], b),
					Phone: fmt.Sprintf("1390230%04d", b*10), Relation: "户主", Tags: tags}); err != nil {
					return fmt.Errorf("grid work S2 roster: %w", err)
				}
			}
		}
	}
	for _, p := range []gridwork.Place{{Kind: gridwork.Shop, Name: "民乐便利店"}, {Kind: gridwork.Shop, Name: "民乐村菜市场"}, {Kind: gridwork.KeyPlace, Name: "民乐村幼儿园"}} {
		p.GridCode = grid.Code
		if _, err := svc.PutPlace(ctx, sys, p); err != nil {
			return fmt.Errorf("grid work S2 roster: %w", err)
		}
	}

	// Six months of history.
	cells := gridwork.CellsOf(grid.Shape, gridwork.CellSize)
	plan := gridwork.DefaultPlan(grid.Code)
	cal := svc.Calendar()
	var patrols []gridwork.Patrol
	var visits []gridwork.Visit
	var messages []gridwork.Message
	start := g.now.AddDate(0, 0, -182)
	for day := start; day.Before(g.now.Add(-2 * time.Hour)); day = day.AddDate(0, 0, 1) {
		local := day.In(shanghai)
		morning := time.Date(local.Year(), local.Month(), local.Day(), 9, g.pick(40), 0, 0, shanghai).UTC()
		if cal.IsWorkday(morning) && g.chance(0.85) && morning.Add(80*time.Minute).Before(g.now) {
			if p, ok := g.patrolAt(grid, ysp, cells, plan, centre, morning); ok {
				patrols = append(patrols, p)
			}
		}
		if g.chance(0.3) {
			at := morning.Add(3 * time.Hour)
			if at.Before(g.now) {
				visits = append(visits, g.visitAt(grid, ysp, homes, at))
			}
		}
		if g.chance(0.45) {
			at := morning.Add(g.minutes(0, 600))
			if at.Before(g.now.Add(-time.Hour)) {
				messages = append(messages, g.messageAt(grid, ysp, at))
			}
		}
	}
	return svc.DB().Write(ctx, func(tx *store.Tx) error {
		for _, p := range patrols {
			if err := tx.InsertPatrol(ctx, p); err != nil {
				return err
			}
		}
		for _, v := range visits {
			if err := tx.InsertGridVisit(ctx, v); err != nil {
				return err
			}
		}
		for _, m := range messages {
			sum := sha256.Sum256([]byte("demo:" + m.ID))
			if err := tx.InsertMessage(ctx, m, hex.EncodeToString(sum[:]), "demo:"+m.Phone); err != nil {
				return err
			}
		}
		return nil
	})
}

// patrolAt walks the grid for 35 to 75 minutes from t, a fix a minute.
func (g *generator) patrolAt(grid store.RegionRecord, by cases.Actor, cells gridwork.Cells, plan gridwork.Plan, from geo.Point, t time.Time) (gridwork.Patrol, bool) {
	n := 35 + g.pick(41)
	p, heading := from, g.rnd.Float64()*2*math.Pi
	var fixes []gridwork.Fix
	for i := 0; i < n; i++ {
		fixes = append(fixes, gridwork.Fix{Lng: p.Lng, Lat: p.Lat, At: t.Add(time.Duration(i) * time.Minute), Accuracy: 8})
		heading += (g.rnd.Float64() - 0.5) * 1.2
		next := geo.Point{Lng: p.Lng + 0.0004*math.Cos(heading), Lat: p.Lat + 0.00035*math.Sin(heading)}
		if !grid.Shape.Contains(next) {
			heading += math.Pi
			continue
		}
		p = next
	}
	end := t.Add(time.Duration(n) * time.Minute)
	pt, err := gridwork.NewPatrol(gridwork.PatrolUpload{ClientRef: "demo-" + id.At(t), Grid: grid.Code, StartedAt: t, EndedAt: end, Fixes: fixes}, cells, plan, end.Add(time.Minute))
	if err != nil {
		return pt, false
	}
	pt.ID, pt.GridPath, pt.WorkerID, pt.WorkerName, pt.CreatedAt = id.At(end), grid.Path, by.AccountID, by.Name, end
	return pt, true
}

var demoNeeds = []gridwork.Need{
	{Text: "医保关系转到重庆怎么办", Outcome: gridwork.Answered, Answer: "已告知到社区便民服务中心办理，带身份证"},
	{Text: "家里老人想申请老年助餐", Outcome: gridwork.FollowUp, Promise: "向社区问清条件后回复"},
	{Text: "楼上装修噪音太大", Outcome: gridwork.Answered, Answer: "已联系楼上住户，约定晚八点后停工"},
	{Text: "孩子上学的学区证明", Outcome: gridwork.Answered, Answer: "已告知开具流程"},
	{Text: "想报名社区志愿者", Outcome: gridwork.FollowUp, Promise: "登记后由社区联系"},
}

// visitAt is a household visit at t with one or two needs.
func (g *generator) visitAt(grid store.RegionRecord, by cases.Actor, homes []string, t time.Time) gridwork.Visit {
	in := gridwork.VisitInput{ClientRef: "demo-" + id.At(t), Grid: grid.Code, PlaceKind: gridwork.Household, Place: homes[g.pick(len(homes))], At: t}
	for k := 0; k < 1+g.pick(2); k++ {
		n := demoNeeds[g.pick(len(demoNeeds))]
		if n.Outcome == gridwork.FollowUp {
			due := t.Add(72 * time.Hour)
			n.Due = &due
		}
		in.Needs = append(in.Needs, n)
	}
	return gridwork.Visit{VisitInput: in, ID: id.At(t), GridPath: grid.Path, VisitorID: by.AccountID, VisitorName: by.Name, CreatedAt: t}
}

var demoMessages = []string{"楼道灯又不亮了", "小区门口垃圾没人收", "有人在楼下烧东西，烟很大", "想问问老年卡怎么办", "楼上漏水到我家了", "停车位被占了", "电动车在楼道里充电，很危险"}

// messageAt is a residents' message through the grid's door at t,
// answered by 杨诗培 mostly within hours (the recent ones may wait).
func (g *generator) messageAt(grid store.RegionRecord, by cases.Actor, t time.Time) gridwork.Message {
	m := gridwork.Message{MessageInput: gridwork.MessageInput{Phone: fmt.Sprintf("1399230%04d", g.pick(200)), Text: demoMessages[g.pick(len(demoMessages))]},
		ID: id.At(t), GridCode: grid.Code, GridPath: grid.Path, State: gridwork.Waiting, CreatedAt: t}
	if g.now.Sub(t) < 6*time.Hour && g.chance(0.5) {
		return m
	}
	wait := g.minutes(10, 240)
	if g.chance(0.07) {
		wait = g.minutes(25*60, 40*60)
	}
	m, _ = gridwork.Reply(m, "收到，我马上去看看，处理好了在这里回复您。", by.Name, t.Add(wait))
	m.AnsweredID = by.AccountID
	return m
}
