// Package service is the one door through which every change to a case
// passes, whether it comes from the API, Open311, the console, the sweeper or
// a sensor rule. It places reports in their grid, routes them, applies the
// pure state machine of package cases, and stores the result with the store's
// group-commit writer, then tells live subscribers.
package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/clientip"
	"zhizhi/internal/geo"
	"zhizhi/internal/id"
	"zhizhi/internal/region"
	"zhizhi/internal/routing"
	"zhizhi/internal/seal"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// Config holds the service's settings.
type Config struct {
	PhotoDir        string           // where photos are stored by content hash
	DefaultCenter   string           // path of the center that receives reports no grid holds (e.g. the district)
	YellowShare     float64          // share of a limit after which a clock turns yellow (default 0.8)
	EscalateAfter   time.Duration    // red for this long → escalate to the next center (0 = never)
	DuplicateRadius float64          // meters within which open cases of a category are possible duplicates (default 100)
	TrustedProxies  clientip.Trusted // proxies whose X-Forwarded-For names the client (ClientAddr)
	Doors           DoorLimits       // the anonymous doors' thresholds (doors.go; zero fields: defaults)
	Now             func() time.Time
	Logger          *slog.Logger
	// SecretKey seals secrets at rest (secrets.go); nil: a key for this
	// process only (tools and tests without a platform).
	SecretKey *seal.Key
	// HistoryRetention is how long read notifications, finished
	// notification deliveries and webhook delivery log entries are kept
	// (0: DefaultHistoryRetention, 90 days; retention.go).
	HistoryRetention time.Duration
}

// Service is the case loop's application service.
type Service struct {
	db    *store.DB
	cfg   Config
	cal   atomic.Pointer[calendar.Calendar]
	grids atomic.Pointer[geo.Index]
	ref   atomic.Pointer[reference]
	hub   *Hub
	key   *seal.Key // seals secrets at rest
	node  string    // this process, in the case notices it sends to other nodes
	log   *slog.Logger
	mu    sync.Mutex // serialises reloads

	keys   keyLimiter   // API keys' rate buckets on this node
	signIn *signInGuard // sign-in throttle on this node
	doors  *doorGuard   // the anonymous doors' counts on this node (doors.go)

	formKeyCache atomic.Pointer[[]byte] // the console key, for form tokens

	photoKey []byte // signs photo addresses (photos.go), from the installation's key

	tokMu  sync.Mutex
	tokens map[string]cachedToken // token hash → actor, briefly
	tokGen uint64                 // bumped when the cache is cleared

	sweepFired atomic.Int64                                     // clock events the sweeper fired on this node (metrics)
	sweepPause func(ctx context.Context, d time.Duration) error // between slices (tests count the pauses)
	refused    Refusals

	sens   atomic.Pointer[sensorState] // the sensors' rules on this node, loaded on first use (sensors.go)
	sensMu sync.Mutex

	hooks hookState // webhook subscriptions and the delivery loop's bell (webhooks.go)
	nt    *notifier // notifications to people: live inboxes, channels (notify.go)
}

// reference is the slowly-changing data cached in memory on every node:
// categories, units and region paths. It is replaced whole on change.
type reference struct {
	categories map[string]cases.Category
	catOrder   []cases.Category
	units      map[string]cases.Unit
	children   map[string][]string // board unit → its posts and sections
	paths      map[string]string   // region code → path
	levels     map[string]region.Level
	names      map[string]string // region code → name
	// stray holds the region codes with a descendant whose code does not
	// begin with theirs: a ranking under one of them cannot read its
	// subjects by code prefix.
	stray map[string]bool
}

// New builds the service and loads its caches from the database.
func New(ctx context.Context, db *store.DB, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DuplicateRadius <= 0 {
		cfg.DuplicateRadius = 100
	}
	s := &Service{db: db, cfg: cfg, hub: NewHub(), node: id.New(), log: cfg.Logger, signIn: newSignInGuard(), sweepPause: pause, doors: newDoorGuard(cfg.Doors), nt: newNotifier()}
	s.cal.Store(calendar.Default())
	if err := s.initSecrets(ctx); err != nil {
		return nil, err
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	key, err := s.ConsoleKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("installation key: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("photo addresses"))
	s.photoKey = m.Sum(nil)
	return s, nil
}

// DB returns the store, for read models that need no rules.
func (s *Service) DB() *store.DB { return s.db }

// Hub returns the live event hub.
func (s *Service) Hub() *Hub { return s.hub }

// Refusals counts, on this node, the sign-ins and the anonymous (Open311
// API key) requests refused, by reason, for the metrics.
type Refusals struct {
	SignInThrottled atomic.Int64 // too many failures from the client or for the name (429)
	SignInLocked    atomic.Int64 // the account is locked (429)
	SignInBusy      atomic.Int64 // no password-hash slot within 3 s (429)
	SignInFailed    atomic.Int64 // unknown name, wrong password or inactive account (401)
	KeyInvalid      atomic.Int64 // missing, unknown or revoked API key (403)
	KeyRateLimited  atomic.Int64 // an API key over its rate (429)
}

// Refused returns the node's refusal counters.
func (s *Service) Refused() *Refusals { return &s.refused }

// SweepFired is how many clock events sweeps on this node have fired.
func (s *Service) SweepFired() int64 { return s.sweepFired.Load() }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.cfg.Now().UTC() }

// Calendar returns the working calendar in force.
func (s *Service) Calendar() *calendar.Calendar { return s.cal.Load() }

// Reload rebuilds the in-memory caches: the grid index, categories, units,
// region paths and the calendar overlay.
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	regs, err := s.db.Regions(ctx, store.RegionFilter{Level: region.Grid, WithShape: true})
	if err != nil {
		return fmt.Errorf("load grids: %w", err)
	}
	entries := make([]geo.Entry, 0, len(regs))
	for _, r := range regs {
		if len(r.Shape) > 0 {
			entries = append(entries, geo.Entry{Code: r.Code, Shape: r.Shape})
		}
	}
	s.grids.Store(geo.NewIndex(entries))
	all, err := s.db.Regions(ctx, store.RegionFilter{})
	if err != nil {
		return fmt.Errorf("load regions: %w", err)
	}
	ref := &reference{categories: map[string]cases.Category{}, units: map[string]cases.Unit{}, children: map[string][]string{},
		paths: map[string]string{}, levels: map[string]region.Level{}, names: map[string]string{}}
	for _, r := range all {
		ref.paths[r.Code], ref.levels[r.Code], ref.names[r.Code] = r.Path, r.Level, r.Name
	}
	ref.stray = strayAncestors(ref.paths)
	cats, err := s.db.Categories(ctx)
	if err != nil {
		return err
	}
	for _, c := range cats {
		ref.categories[c.Code] = c
	}
	ref.catOrder = cats
	units, err := s.db.Units(ctx)
	if err != nil {
		return err
	}
	for _, u := range units {
		ref.units[u.ID] = u
		if u.Parent != "" {
			ref.children[u.Parent] = append(ref.children[u.Parent], u.ID)
		}
	}
	s.ref.Store(ref)
	var cc calendar.Config
	if err := s.db.Setting(ctx, "calendar", &cc); err == nil {
		cal, err := calendar.New(cc)
		if err != nil {
			return fmt.Errorf("calendar setting: %w", err)
		}
		s.cal.Store(cal)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.reloadHooks(ctx); err != nil {
		return err
	}
	return s.reloadSensors(ctx)
}

// Category returns a category by code.
func (s *Service) Category(code string) (cases.Category, bool) {
	c, ok := s.ref.Load().categories[code]
	return c, ok
}

// Categories returns all categories in code order.
func (s *Service) Categories() []cases.Category { return s.ref.Load().catOrder }

// Unit returns a unit by ID.
func (s *Service) Unit(id string) (cases.Unit, bool) {
	u, ok := s.ref.Load().units[id]
	return u, ok
}

// SubUnits returns the posts and sections of a board unit.
func (s *Service) SubUnits(boardID string) []cases.Unit {
	ref := s.ref.Load()
	var out []cases.Unit
	for _, id := range ref.children[boardID] {
		out = append(out, ref.units[id])
	}
	return out
}

// ActorOf returns an account as a case actor, with the units a board head
// sees: every post and section of the board.
func (s *Service) ActorOf(a store.Account) cases.Actor {
	actor := a.Actor()
	if a.Role == cases.RoleUnit {
		actor.Units = append([]string(nil), s.ref.Load().children[a.UnitID]...)
	}
	return actor
}

// RegionName returns the name of a region code.
func (s *Service) RegionName(code string) string { return s.ref.Load().names[code] }

// RegionPath returns the materialised path of a region code.
func (s *Service) RegionPath(code string) (string, bool) {
	p, ok := s.ref.Load().paths[code]
	return p, ok
}

// Locate returns the grid code holding a point.
func (s *Service) Locate(p geo.Point) (string, bool) { return s.grids.Load().Locate(p) }

// defaultLimits is sla.DefaultTable, built once: Policy is asked at every
// report and action, and only reads it.
var defaultLimits = sla.DefaultTable()

// Policy builds the state machine's policy for a category.
func (s *Service) Policy(cat cases.Category) cases.Policy {
	def := defaultLimits
	return cases.Policy{
		Calendar:    s.Calendar(),
		YellowShare: s.cfg.YellowShare,
		Limit: func(stage string, sev sla.Severity) sla.Limit {
			if l, ok := cat.Limits.Limit(sla.Stage(stage), sev); ok {
				return l
			}
			l, _ := def.Limit(sla.Stage(stage), sev)
			return l
		},
	}
}

// ClockRule is the escalation rule the clocks table is armed with.
func (s *Service) ClockRule() store.ClockRule {
	return store.ClockRule{EscalateAfter: s.cfg.EscalateAfter}
}

// place puts a point in its grid, and the case under the grid's street
// center. A point no grid holds is kept with no grid, under the reporter's
// street (or the default center) for the center to place by hand.
func (s *Service) place(actor cases.Actor, p *geo.Point) cases.Placement {
	ref := s.ref.Load()
	if p != nil {
		if code, ok := s.grids.Load().Locate(*p); ok {
			path := ref.paths[code]
			return cases.Placement{GridCode: code, RegionPath: path, CenterPath: centerOf(path)}
		}
	}
	path := actor.RegionPath
	if path == "" {
		path = s.cfg.DefaultCenter
	}
	return cases.Placement{RegionPath: path, CenterPath: centerOf(path)}
}

// centerOf returns the path of the street center above a region path, or the
// path itself when it is above street level: /city/district/street/….
func centerOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	if len(parts) == 0 || parts[0] == "" {
		return path
	}
	return "/" + strings.Join(parts, "/") + "/"
}

// parentCenter returns the path of the next center up, or "" at the top.
func parentCenter(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) <= 1 {
		return ""
	}
	return "/" + strings.Join(parts[:len(parts)-1], "/") + "/"
}

func lastCode(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[len(parts)-1]
}

// Report takes a new report: validates it, places it in its grid, routes it,
// starts its clock and stores it durably before returning.
func (s *Service) Report(ctx context.Context, actor cases.Actor, r cases.Report) (cases.Case, error) {
	c, _, err := s.report(ctx, actor, r, nil, nil)
	return c, err
}

// formUse is a form token a report uses up (the anonymous doors, doors.go).
type formUse struct {
	token   string
	expires time.Time
}

// report is Report, also consuming a form token in the report's write when
// one is given; replay is whether the report was one already taken (the
// same client reference of the same reporter), returned as it was.
//
// also, when given, runs in the report's write transaction after the case is
// written (an enterprise's request is stored with its case, enterprise.go).
func (s *Service) report(ctx context.Context, actor cases.Actor, r cases.Report, use *formUse, also func(*store.Tx, *cases.Case) error) (c cases.Case, replay bool, err error) {
	now := s.Now()
	if actor.Role == cases.RoleEnterprise && r.Point == nil {
		// An enterprise's report without a point lands in the enterprise's
		// grid, under its street's center (the account's own street
		// otherwise).
		if p, ok := s.enterprisePath(ctx, actor.AccountID); ok {
			actor.RegionPath = p
		}
	}
	var f apperr.Fields
	cat, ok := s.Category(r.Category)
	if r.Category == "" {
		f.Add("category", "请选择问题类别")
	} else if !ok {
		f.Add("category", "类别不存在")
	}
	photos, err := s.resolvePhotos(r.Photos)
	if e, ok := err.(*apperr.Error); ok {
		for _, fe := range e.Fields {
			f.Add(fe.Field, fe.Reason)
		}
	} else if err != nil {
		return cases.Case{}, false, err
	}
	if !f.Empty() {
		// Name the report's other mistakes too, not only the category:
		// validate it against a stand-in for the missing category.
		if !ok {
			probe := r
			probe.Answers, probe.Photos = nil, nil
			_, _, err := cases.New(probe, cases.Category{Code: r.Category, Active: true}, cases.Placement{}, "", "", actor, s.Policy(cases.Category{}), now)
			var e *apperr.Error
			if errors.As(err, &e) {
				for _, fe := range e.Fields {
					f.Add(fe.Field, fe.Reason)
				}
			}
		}
		return cases.Case{}, false, f.Err()
	}
	r.Photos = photos
	place := s.place(actor, r.Point)
	caseID := id.At(now)
	c, step, err := cases.New(r, cat, place, caseID, "", actor, s.Policy(cat), now)
	if err != nil {
		return cases.Case{}, false, err
	}
	step.ID = id.At(now)
	center := lastCode(place.CenterPath)
	day := now.In(s.Calendar().Location()).Format("20060102")
	fresh := c
	// Encoded here, side by side with other reports; the writer adds the
	// number (store.NewCaseDocs).
	docs := store.EncodeNewCase(&fresh, &step)
	hookBody := s.hookBody(&fresh, &step)
	counter := "case:" + center + ":" + day
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		c, replay = fresh, false // the writer may run this again after another job failed
		if c.ClientRef != "" && c.Reporter.AccountID != "" {
			// Sent again (an offline phone's retry): the case it made.
			old, err := tx.CaseByClientRef(ctx, c.Reporter.AccountID, c.ClientRef)
			if err == nil {
				c, replay = old, true
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if use != nil {
			if _, err := tx.UseFormToken(ctx, use.token, c.ID, now, use.expires); errors.Is(err, store.ErrConflict) {
				return apperr.New(apperr.Conflict, "这份表单已经提交过一次，不能再次使用；如需反映新的问题，请重新打开页面填写")
			} else if err != nil {
				return err
			}
		}
		n, err := tx.NextNumber(ctx, counter)
		if err != nil {
			return err
		}
		c.Number = fmt.Sprintf("%s-%s-%04d", center, day, n)
		if err := tx.InsertNewCase(ctx, &c, &step, s.ClockRule(), docs); err != nil {
			return err
		}
		if err := s.enqueueHooksWith(ctx, tx, &c, &step, hookBody); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx, &c); err != nil {
				return err
			}
		}
		tx.AfterCommit(func() { s.hub.Publish(eventOf(&c, &step)) })
		return tx.NotifyCase(ctx, s.node, c.ID, c.Version)
	}, counter)
	if err != nil {
		return cases.Case{}, false, err
	}
	return c, replay, nil
}

// Act takes an action on a case. When expect is above zero the case must still
// be at that version (the client saw it), or the action is refused as a
// conflict; either way the read, the rules and the write happen in one
// transaction, so two people acting at once cannot corrupt a case.
func (s *Service) Act(ctx context.Context, actor cases.Actor, caseID string, cmd cases.Command, expect int) (cases.Case, cases.Step, error) {
	return s.act(ctx, actor, caseID, cmd, expect, nil)
}

// act is Act with a further check of the case as read in the write
// transaction (the holding queue's actions take held cases only).
func (s *Service) act(ctx context.Context, actor cases.Actor, caseID string, cmd cases.Command, expect int, check func(*cases.Case) error) (cases.Case, cases.Step, error) {
	now := s.Now()
	if cmd.Action == cases.ActDispatch || cmd.Action == cases.ActRedispatch {
		var f apperr.Fields
		if cmd.Lead != "" {
			if u, ok := s.Unit(cmd.Lead); !ok || !u.Dispatchable() {
				f.Add("lead_unit", "主办单位不存在、已停用或不能直接承办")
			}
		}
		for i, u := range cmd.Co {
			if x, ok := s.Unit(u); !ok || !x.Dispatchable() {
				f.Addf(fmt.Sprintf("co_units[%d]", i), "协办单位不存在、已停用或不能直接承办")
			}
		}
		if err := f.Err(); err != nil {
			return cases.Case{}, cases.Step{}, err
		}
	}
	if err := s.prepareWhistle(ctx, &cmd); err != nil {
		return cases.Case{}, cases.Step{}, err
	}
	photos, err := s.resolvePhotos(cmd.Photos)
	if err != nil {
		return cases.Case{}, cases.Step{}, err
	}
	cmd.Photos = photos
	var out cases.Case
	var outStep cases.Step
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		c, err := tx.Case(ctx, caseID)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.NotFound, "案件不存在")
		} else if err != nil {
			return err
		}
		if !cases.CanSee(actor, &c) {
			return apperr.New(apperr.NotFound, "案件不存在")
		}
		if expect > 0 && c.Version != expect {
			return apperr.Newf(apperr.Conflict, "案件已被他人更新（当前第%d版，您看到的是第%d版），请刷新后重试", c.Version, expect)
		}
		if check != nil {
			if err := check(&c); err != nil {
				return err
			}
		}
		n, step, err := s.apply(ctx, tx, c, cmd, actor, now)
		if err != nil {
			return err
		}
		out, outStep = n, step
		return nil
	})
	if err != nil {
		return cases.Case{}, cases.Step{}, err
	}
	return out, outStep, nil
}

// apply runs the state machine inside a write transaction and stores the result.
func (s *Service) apply(ctx context.Context, tx *store.Tx, c cases.Case, cmd cases.Command, actor cases.Actor, now time.Time) (cases.Case, cases.Step, error) {
	cat, ok := s.Category(c.Category)
	if !ok {
		cat = cases.Category{Code: c.Category}
	}
	switch cmd.Action {
	case cases.ActEscalate:
		cmd.Parent = parentCenter(c.CenterPath)
	case cases.ActHandDown:
		if cases.Allowed(&c, cmd.Action, actor) {
			down, err := routing.HandDown(c.CenterPath, c.RegionPath, cat)
			if err != nil {
				return c, cases.Step{}, err
			}
			cmd.Parent = down
		}
	case cases.ActDispatch, cases.ActRedispatch:
		if cases.Allowed(&c, cmd.Action, actor) {
			if err := s.checkRoute(c, cat, &cmd); err != nil {
				return c, cases.Step{}, err
			}
		}
	case cases.ActPlace:
		if cmd.Point != nil && cmd.Point.Valid() {
			if code, ok := s.Locate(*cmd.Point); ok {
				path, _ := s.RegionPath(code)
				if actor.Role != cases.RoleSystem && !strings.HasPrefix(path, actor.RegionPath) {
					return c, cases.Step{}, apperr.Field("point", "该位置不在您的管辖范围内")
				}
				cmd.Place = &cases.Placement{GridCode: code, RegionPath: path, CenterPath: centerOf(path)}
			}
		}
	case cases.ActMerge:
		if cmd.Target != "" {
			t, err := tx.Case(ctx, cmd.Target)
			if errors.Is(err, store.ErrNotFound) {
				return c, cases.Step{}, apperr.Field("target", "要合并到的案件不存在")
			} else if err != nil {
				return c, cases.Step{}, err
			}
			if !t.State.Open() {
				return c, cases.Step{}, apperr.Field("target", "要合并到的案件已办结，不能合并")
			}
			if t.State == cases.Held {
				return c, cases.Step{}, apperr.Field("target", "要合并到的案件尚待甄别，不能合并")
			}
			if t.ID == c.ID {
				return c, cases.Step{}, apperr.Field("target", "不能合并到自身")
			}
			cmd.Target = t.ID
		}
	}
	pol, err := s.policyFor(ctx, cat, cmd)
	if err != nil {
		return c, cases.Step{}, err
	}
	n, step, err := cases.Apply(c, cmd, actor, pol, now)
	if err != nil {
		return c, cases.Step{}, err
	}
	step.ID = id.At(now)
	if err := tx.UpdateCase(ctx, &c, &n, &step, s.ClockRule()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return c, cases.Step{}, apperr.New(apperr.Conflict, "案件已被他人更新，请刷新后重试")
		}
		return c, cases.Step{}, err
	}
	if err := s.enqueueHooks(ctx, tx, &n, &step); err != nil {
		return c, cases.Step{}, err
	}
	if n.Source == cases.SourceEnterprise {
		if err := s.followCase(ctx, tx, &n, &step); err != nil {
			return c, cases.Step{}, err
		}
	}
	if err := s.notifyStep(ctx, tx, &n, &step); err != nil {
		return c, cases.Step{}, err
	}
	tx.AfterCommit(func() { s.hub.Publish(eventOf(&n, &step)) })
	if err := tx.NotifyCase(ctx, s.node, n.ID, n.Version); err != nil {
		return c, cases.Step{}, err
	}
	return n, step, nil
}

// Case returns a case the actor may see, redacted for the actor, with its
// timeline.
func (s *Service) Case(ctx context.Context, actor cases.Actor, idOrNumber string) (cases.Case, []cases.Step, error) {
	c, err := s.db.Case(ctx, idOrNumber)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !cases.CanSee(actor, &c)) {
		return cases.Case{}, nil, apperr.New(apperr.NotFound, "案件不存在")
	}
	if err != nil {
		return cases.Case{}, nil, err
	}
	steps, err := s.db.Steps(ctx, c.ID)
	if err != nil {
		return cases.Case{}, nil, err
	}
	return cases.Redact(actor, c), steps, nil
}

// List returns the cases the actor may see that match the filter.
func (s *Service) List(ctx context.Context, actor cases.Actor, f store.CaseFilter) ([]cases.Case, error) {
	f.Scope = store.ScopeOf(actor)
	if f.Now.IsZero() {
		f.Now = s.Now()
	}
	list, err := s.db.Cases(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = cases.Redact(actor, list[i])
	}
	return list, nil
}

// ListItems lists the same cases as List, as a list shows them
// (cases.Item, issue 19): read from the items the store keeps, no case
// document decoded. An item carries nothing List would redact (no
// reporter).
func (s *Service) ListItems(ctx context.Context, actor cases.Actor, f store.CaseFilter) ([]store.CaseItem, error) {
	f.Scope = store.ScopeOf(actor)
	if f.Now.IsZero() {
		f.Now = s.Now()
	}
	return s.db.CaseItems(ctx, f)
}

// Count counts the cases the actor may see that match the filter.
func (s *Service) Count(ctx context.Context, actor cases.Actor, f store.CaseFilter) (int, error) {
	f.Scope = store.ScopeOf(actor)
	if f.Now.IsZero() {
		f.Now = s.Now()
	}
	return s.db.CountCases(ctx, f)
}

// ListTotalCap is where the total a case list shows above its first page
// stops (CountUpTo): past it the console says "10000+". A district's
// history holds a million cases; counting how many are closed, or of a
// category, walked them at every view of the list.
const ListTotalCap = 10000

// CountUpTo counts the cases the actor may see that match the filter, up
// to limit (store.CountCasesUpTo): more says that more than n (then limit)
// match. A region's open cases are counted exactly whatever the limit.
func (s *Service) CountUpTo(ctx context.Context, actor cases.Actor, f store.CaseFilter, limit int) (n int, more bool, err error) {
	f.Scope = store.ScopeOf(actor)
	if f.Now.IsZero() {
		f.Now = s.Now()
	}
	return s.db.CountCasesUpTo(ctx, f, limit)
}

// Duplicates lists open cases of the same category near a case: what the
// commander compares before accepting.
func (s *Service) Duplicates(ctx context.Context, actor cases.Actor, c cases.Case) ([]cases.Case, error) {
	if c.Point == nil {
		return nil, nil
	}
	list, err := s.db.Nearby(ctx, c.Category, *c.Point, s.cfg.DuplicateRadius, c.ID, 10)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, d := range list {
		if cases.CanSee(actor, &d) && d.ReportedAt.Before(c.ReportedAt.Add(time.Second)) {
			out = append(out, cases.Redact(actor, d))
		}
	}
	return out, nil
}

// ClientAddr is the address of the client behind a request, for the
// per-client throttles: the connection's peer, or, when the peer is a
// trusted proxy (Config.TrustedProxies), the nearest untrusted address in
// X-Forwarded-For.
func (s *Service) ClientAddr(r *http.Request) string {
	return s.cfg.TrustedProxies.Of(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}
