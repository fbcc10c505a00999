package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"time"

	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo/yuzhong"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// Password is every demo account's password.
const Password = "zhizhi2026"

// Account is a demo account as printed at start.
type Account struct {
	Username string
	Name     string
	Role     cases.Role
	Region   string // region name (code resolved at load)
	Unit     string
}

// Accounts lists the demo accounts.
func Accounts() []Account {
	return []Account{
		{"admin", "系统管理员", cases.RoleAdmin, "渝中区", ""},
		{"shi_zhihui", "市指挥中心值班长", cases.RoleCommander, "重庆市", ""},
		{"qu_zhihui", "区指挥中心值班长", cases.RoleCommander, "渝中区", ""},
		{"syl_zhihui", "石油路街道值班指挥长", cases.RoleCommander, "石油路街道", ""},
		{"jfb_zhihui", "解放碑街道值班指挥长", cases.RoleCommander, "解放碑街道", ""},
		{"syl_pa_head", "石油路街道平安法治板块负责人", cases.RoleUnit, "", "syl-pa-bk"},
		{"syl_pa_a", "石油路街道平安法治板块A岗", cases.RoleUnit, "", "syl-pa-a"},
		{"syl_ms_a", "石油路街道民生服务板块A岗", cases.RoleUnit, "", "syl-ms-a"},
		{"syl_ms", "石油路街道民生服务办", cases.RoleUnit, "", "syl-ms"},
		{"xyc_shuji", "新影村社区书记", cases.RoleCommunity, "新影村社区", "c-500103014010"},
		{"wuzhonglan", "吴中兰", cases.RoleCommunity, "嘉西村社区", "c-500103005013"},
		{"zhouchunyan", "周春燕", cases.RoleGridWorker, "新影村社区#1", ""},
		{"yangshipei", "杨诗培", cases.RoleGridWorker, "民乐村社区#9", ""},
		{"xyc_wgz", "新影村社区网格长", cases.RoleGridChief, "新影村社区", ""},
		{"xyc_jiezhang", "新影村街长", cases.RoleHead, "新影村社区#1", ""},
		{"xyc_louzhang", "新影村楼长", cases.RoleHead, "新影村社区#1", ""},
		{"xyc_dianzhang", "新影村店长", cases.RoleHead, "新影村社区#1", ""},
		{"yj_staff", "区应急管理局工作人员", cases.RoleUnit, "", "yj"},
		{"scjg_staff", "区市场监管局工作人员", cases.RoleUnit, "", "scjg"},
		{"xf_staff", "区消防救援支队工作人员", cases.RoleUnit, "", "xf"},
		{"cg_staff", "区城市管理局工作人员", cases.RoleUnit, "", "cg"},
		{"leader", "区领导", cases.RoleLeader, "渝中区", ""},
		{"liu_quzhang", "刘区长", cases.RoleLeader, "渝中区", ""},
		{"chen_fuquzhang", "陈副区长", cases.RoleLeader, "渝中区", ""},
		{"qiye", "重庆某科技有限公司", cases.RoleEnterprise, "化龙桥街道", ""},
		{"jumin", "居民张先生", cases.RoleResident, "", ""},
	}
}

// headTitles gives the demo's heads (三长) their titles.
var headTitles = map[string]string{"xyc_jiezhang": "街长", "xyc_louzhang": "楼长", "xyc_dianzhang": "店长"}

// Options tune the demo.
type Options struct {
	Cases int       // historical cases to generate (default 4000)
	Now   time.Time // the present (default time.Now())
	Seed  uint64
}

// Loaded reports whether the demo (or any region tree) is already there.
func Loaded(ctx context.Context, db *store.DB) (bool, error) {
	n, err := db.CountRegions(ctx)
	if err != nil {
		return false, err
	}
	return n[region.District] > 0, nil
}

// world is what the generator knows of the loaded regions.
type world struct {
	byName      map[string]store.RegionRecord
	byCode      map[string]store.RegionRecord // streets and communities
	grids       []store.RegionRecord
	byComm      map[string][]store.RegionRecord // community code → grids
	streets     []store.RegionRecord
	communities []store.RegionRecord
}

// Load puts the whole demo into an empty database through the service.
func Load(ctx context.Context, svc *service.Service, opt Options) error {
	if opt.Cases == 0 {
		opt.Cases = 4000
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if _, err := svc.ImportRegions(ctx, yuzhong.GeoJSON(), "geojson"); err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	w, err := loadWorld(ctx, svc.DB())
	if err != nil {
		return err
	}
	var all []cases.Unit
	for _, u := range units {
		u.Active = true
		u.RegionPath = District
		all = append(all, u)
	}
	// Boards before their posts and sections: a post names its board.
	if err := svc.PutUnits(ctx, cases.System, append(all, w.streetUnits()...)); err != nil {
		return fmt.Errorf("units: %w", err)
	}
	if err := svc.PutCategories(ctx, cases.System, Categories()); err != nil {
		return fmt.Errorf("categories: %w", err)
	}
	actors := map[string]cases.Actor{}
	// Every demo account has the same password: hash it once.
	hash, err := auth.Hash(Password, auth.DefaultParams)
	if err != nil {
		return err
	}
	for i, a := range append(Accounts(), w.staffAccounts()...) {
		in := service.NewAccount{Username: a.Username, Name: a.Name, Role: a.Role, UnitID: a.Unit, PasswordHash: hash,
			Phone: "1380000" + fmt.Sprintf("%04d", i+1), Title: headTitles[a.Username] + communityTitle(a)}
		if a.Region != "" {
			r, ok := w.resolve(a.Region)
			if !ok {
				return fmt.Errorf("demo account %s: region %s not in the data", a.Username, a.Region)
			}
			in.RegionCode = r.Code
		}
		acct, err := svc.CreateAccount(ctx, in, auth.DefaultParams)
		if err != nil {
			return fmt.Errorf("account %s: %w", a.Username, err)
		}
		actors[a.Username] = svc.ActorOf(acct)
	}
	if err := createDemoKey(ctx, svc); err != nil {
		return err
	}
	photos, err := demoPhotos(svc)
	if err != nil {
		return err
	}
	g := &generator{svc: svc, w: w, rnd: rand.New(rand.NewPCG(opt.Seed, 20260101)), now: opt.Now.UTC(), photos: photos, actors: actors}
	g.index()
	// A year of leaders' visits: one per 16 cases (250 in the full demo),
	// about 1.25 problems each, every problem a case, so that visits'
	// cases are a few in a hundred, as in a district's year (the seed's
	// district held more than 1,200 visits in a year of far more cases:
	// the totals are a query, and -cases scales them). They are part of
	// the cases asked for: the history makes the rest (its own cases never
	// claim a leader's visit that did not happen).
	visits := max(12, opt.Cases/16)
	if err := g.history(ctx, max(opt.Cases-visits*5/4, opt.Cases/2)); err != nil {
		return err
	}
	if err := g.scenarios(ctx); err != nil {
		return err
	}
	if err := g.scenarioLeaders(ctx, visits); err != nil {
		return err
	}
	if err := leadersNow(ctx, svc, w, actors); err != nil {
		return err
	}
	if err := enterprises(ctx, svc, w, rand.New(rand.NewPCG(opt.Seed, 20261204)), opt.Now.UTC(), hash); err != nil {
		return err
	}
	if err := g.party(ctx, svc, max(3, opt.Cases*30/4000)); err != nil {
		return err
	}
	return g.gridWorkS2(ctx, svc)
}

func loadWorld(ctx context.Context, db *store.DB) (*world, error) {
	all, err := db.Regions(ctx, store.RegionFilter{WithShape: true})
	if err != nil {
		return nil, err
	}
	w := &world{byName: map[string]store.RegionRecord{}, byCode: map[string]store.RegionRecord{}, byComm: map[string][]store.RegionRecord{}}
	for _, r := range all {
		switch r.Level {
		case region.Grid:
			w.grids = append(w.grids, r)
			w.byComm[r.ParentCode] = append(w.byComm[r.ParentCode], r)
		case region.Street:
			w.streets = append(w.streets, r)
			w.byName[r.Name], w.byCode[r.Code] = r, r
		case region.Community:
			w.communities = append(w.communities, r)
			w.byName[r.Name], w.byCode[r.Code] = r, r
		default:
			w.byName[r.Name] = r
		}
	}
	if len(w.grids) == 0 {
		return nil, errors.New("demo regions have no grids")
	}
	return w, nil
}

// resolve finds a region by name, or "community#n" for its n-th grid.
func (w *world) resolve(name string) (store.RegionRecord, bool) {
	if comm, n, ok := strings.Cut(name, "#"); ok {
		c, ok := w.byName[comm]
		if !ok {
			return store.RegionRecord{}, false
		}
		grids := w.byComm[c.Code]
		var i int
		fmt.Sscanf(n, "%d", &i)
		if len(grids) == 0 {
			return store.RegionRecord{}, false
		}
		if i < 1 || i > len(grids) {
			i = len(grids)
		}
		return grids[i-1], true
	}
	r, ok := w.byName[name]
	return r, ok
}

// demoPhotos stores a few generated pictures to attach to demo steps.
func demoPhotos(svc *service.Service) ([]cases.Photo, error) {
	var out []cases.Photo
	for i, c := range []color.RGBA{{200, 60, 50, 255}, {60, 140, 200, 255}, {90, 170, 90, 255}} {
		img := image.NewRGBA(image.Rect(0, 0, 64, 48))
		for y := 0; y < 48; y++ {
			for x := 0; x < 64; x++ {
				k := uint8((x + y + i*7) % 32)
				img.Set(x, y, color.RGBA{c.R - k, c.G - k/2, c.B, 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return nil, err
		}
		p, err := svc.SavePhoto(&buf, "image/png")
		if err != nil {
			return nil, fmt.Errorf("demo photo: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// randomPoint returns a point inside a grid.
func randomPoint(rnd *rand.Rand, shape geo.MultiPolygon) geo.Point {
	b := shape.Bounds()
	for i := 0; i < 200; i++ {
		p := geo.Point{Lng: b.Min.Lng + rnd.Float64()*(b.Max.Lng-b.Min.Lng), Lat: b.Min.Lat + rnd.Float64()*(b.Max.Lat-b.Min.Lat)}
		if shape.Contains(p) {
			return p
		}
	}
	return shape.Centroid()
}

// DemoKeyName names the Open311 API key the demo creates.
const DemoKeyName = "demo"

// demoKeySetting holds the demo key's secret, so that every start of the
// demo can print it (real keys' secrets are never stored).
const demoKeySetting = "demo_open311_key"

// createDemoKey makes the demo's Open311 key, scoped to the district.
func createDemoKey(ctx context.Context, svc *service.Service) error {
	secret, _, err := svc.CreateAPIKey(ctx, service.NewAPIKey{Name: DemoKeyName, RegionCode: lastSeg(District), RatePerMinute: 600})
	if err != nil {
		return fmt.Errorf("demo api key: %w", err)
	}
	return svc.DB().Write(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, demoKeySetting, secret) })
}

// APIKey returns the secret of the demo's Open311 key.
func APIKey(ctx context.Context, db *store.DB) (string, error) {
	var secret string
	err := db.Setting(ctx, demoKeySetting, &secret)
	return secret, err
}
