package api

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/region"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

func (a *API) listRegions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.RegionFilter{Parent: q.Get("parent"), Level: region.Level(q.Get("level"))}
	if f.Level != "" && !f.Level.Valid() {
		return apperr.Field("level", "层级无效")
	}
	if u := q.Get("under"); u != "" {
		p, ok := a.svc.RegionPath(u)
		if !ok {
			return apperr.Field("under", "区域不存在")
		}
		f.Under = p
	}
	list, err := a.db.Regions(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) regionDetail(w http.ResponseWriter, r *http.Request) error {
	rg, err := a.db.Region(r.Context(), r.PathValue("code"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.NotFound, "区域不存在")
		}
		return err
	}
	writeJSON(w, http.StatusOK, rg)
	return nil
}

func (a *API) importRegions(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if format == "" {
		switch mt {
		case "text/csv":
			format = "csv"
		case "application/geo+json", "application/json":
			format = "geojson"
		}
	}
	// The body is read as it is parsed, never held whole; Register bounds
	// it at service.MaxRegionImport.
	n, err := a.svc.ImportRegionsAs(r.Context(), actorOf(r), r.Body, format)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"imported": n})
	return nil
}

func (a *API) exportRegions(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "geojson"
	}
	var buf bytes.Buffer
	if err := a.svc.ExportRegions(r.Context(), &buf, r.URL.Query().Get("under"), format); err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="regions.csv"`)
	} else {
		w.Header().Set("Content-Type", "application/geo+json")
		w.Header().Set("Content-Disposition", `attachment; filename="regions.geojson"`)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func (a *API) listCategories(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"items": a.svc.Categories()})
	return nil
}

func (a *API) putCategory(w http.ResponseWriter, r *http.Request) error {
	var c cases.Category
	if err := decode(r, &c); err != nil {
		return err
	}
	if c.Code == "" {
		c.Code = r.PathValue("code")
	}
	if c.Code != r.PathValue("code") {
		return apperr.Field("code", "编码与地址不一致")
	}
	if err := a.svc.PutCategory(r.Context(), actorOf(r), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (a *API) listUnits(w http.ResponseWriter, r *http.Request) error {
	list, err := a.db.Units(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) putUnit(w http.ResponseWriter, r *http.Request) error {
	var u cases.Unit
	if err := decode(r, &u); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = r.PathValue("id")
	}
	if u.ID != r.PathValue("id") {
		return apperr.Field("id", "编号与地址不一致")
	}
	if err := a.svc.PutUnit(r.Context(), actorOf(r), u); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Accounts(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	for i := range list {
		list[i].Phone = cases.MaskPhone(list[i].Phone)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in service.NewAccount
	if err := decode(r, &in); err != nil {
		return err
	}
	in.By = actorOf(r)
	acct, err := a.svc.CreateAccount(r.Context(), in, auth.DefaultParams)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, acct)
	return nil
}

func (a *API) updateAccount(w http.ResponseWriter, r *http.Request) error {
	var in service.AccountChange
	if err := decode(r, &in); err != nil {
		return err
	}
	acct, err := a.svc.UpdateAccount(r.Context(), actorOf(r), r.PathValue("id"), in, auth.DefaultParams)
	if err != nil {
		return err
	}
	acct.Phone = cases.MaskPhone(acct.Phone)
	writeJSON(w, http.StatusOK, acct)
	return nil
}

func (a *API) calendar(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, a.svc.CalendarConfig(r.Context()))
	return nil
}

func (a *API) putCalendar(w http.ResponseWriter, r *http.Request) error {
	var cfg calendar.Config
	if err := decode(r, &cfg); err != nil {
		return err
	}
	if err := a.svc.PutCalendarAs(r.Context(), actorOf(r), cfg); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.svc.CalendarConfig(r.Context()))
	return nil
}

func (a *API) listBoards(w http.ResponseWriter, r *http.Request) error {
	street := r.URL.Query().Get("street")
	actor := actorOf(r)
	if street == "" && actor.RegionPath != "" {
		// Default: the signed-in person's own street.
		if parts := strings.Split(strings.Trim(actor.RegionPath, "/"), "/"); len(parts) >= 3 {
			street = parts[2]
		}
	}
	if street == "" {
		return apperr.Field("street", "请指定街道编码")
	}
	list, err := a.svc.Boards(r.Context(), actor, street)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"street": street, "items": list})
	return nil
}

func (a *API) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{Kind: q.Get("kind"), ObjectID: q.Get("object_id"), ActorID: q.Get("actor_id"),
		Action: q.Get("action"), Before: q.Get("before")}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return apperr.Field(p.name, "时间格式应为 RFC 3339，如 2026-12-01T00:00:00+08:00")
			}
			*p.to = t
		}
	}
	if err := service.CheckAuditFilter(f); err != nil {
		return err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return apperr.Field("limit", "应为1–500的整数")
		}
		f.Limit = n
	}
	list, err := a.svc.AuditLogAs(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	next := ""
	if len(list) > 0 && len(list) == max(f.Limit, 100) {
		next = list[len(list)-1].ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list, "next": next})
	return nil
}

func (a *API) setUpBoards(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Region string `json:"region"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	created, err := a.svc.SetUpBoards(r.Context(), actorOf(r), in.Region)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"created": created})
	return nil
}
