package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"zhizhi/internal/apperr"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/service"
)

// The residents' door's printable poster (有事找小杨, docs/gridwork.md):
// /m/poster/{grid} is an A4 sheet in Chinese with the grid's name, its
// grid worker's name and portrait (the team member's photo, or a neutral
// placeholder), and a QR code of the door's public link
// (/m/poster/{grid}/qr.png); the grid's people and the community print
// it. Portraits are set on /m/team.

// posterView is the poster of one grid.
type posterView struct {
	Grid    service.GridRef
	Worker  string // the grid worker the poster names
	Photo   string // their portrait's hash, "" for the placeholder
	Others  []string
	Link    string
	QR      string
	Keeper  bool
	Members []gridwork.TeamMember
}

func (v *posterView) title() string { return "居民入口海报" }

// doorLink is the public address of a grid's door as a phone outside
// reaches it: this request's host and scheme (https behind a proxy that
// says so).
func doorLink(r *http.Request, grid string) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/r/g/" + url.PathEscape(grid)
}

// posterWorker picks whom the poster names: the full-time grid worker,
// else a part-time one, else the grid chief; the other workers by name.
func posterWorker(team []gridwork.TeamMember) (gridwork.TeamMember, []string) {
	var pick gridwork.TeamMember
	for _, role := range []gridwork.TeamRole{gridwork.FullTime, gridwork.PartTime, gridwork.Chief} {
		for _, m := range team {
			if m.Role == role {
				pick = m
				break
			}
		}
		if pick.Name != "" {
			break
		}
	}
	var others []string
	for _, m := range team {
		if (m.Role == gridwork.FullTime || m.Role == gridwork.PartTime) && m.Name != pick.Name {
			others = append(others, m.Name)
		}
	}
	return pick, others
}

func (c *Console) gridPoster(w http.ResponseWriter, r *http.Request) error {
	grid := r.PathValue("grid")
	t, err := c.svc.Team(r.Context(), actorOf(r), grid)
	if err != nil {
		return err
	}
	pick, others := posterWorker(t.Members)
	v := &posterView{Grid: t.Grid, Worker: pick.Name, Photo: pick.Photo, Others: others, Link: doorLink(r, grid),
		QR: "/m/poster/" + url.PathEscape(grid) + "/qr.png"}
	c.render(w, r, http.StatusOK, "gridposter", v)
	return nil
}

func (c *Console) gridPosterQR(w http.ResponseWriter, r *http.Request) error {
	grid := r.PathValue("grid")
	if _, err := c.svc.Team(r.Context(), actorOf(r), grid); err != nil {
		return err // the same scope as the poster
	}
	png, err := qrcode.Encode(doorLink(r, grid), qrcode.Medium, 512)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(png)
	return nil
}

// teamPhoto sets a team member's portrait from /m/team (a file sent with
// the form; remove=1 takes it away).
func (c *Console) teamPhoto(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseMultipartForm(maxMemory); err != nil && !strings.Contains(err.Error(), "not multipart") {
		return apperr.Field("body", "表单无法解析")
	}
	grid := r.PathValue("grid")
	member, err := strconv.Atoi(r.PostFormValue("member"))
	if err != nil {
		return apperr.Field("member", "请选择队伍成员")
	}
	hash := ""
	if r.PostFormValue("remove") != "1" {
		var f apperr.Fields
		photos := c.photosOf(r, &f)
		if err := f.Err(); err != nil {
			return err
		}
		if len(photos) == 0 {
			return apperr.Field("photos", "请选择一张照片")
		}
		hash = photos[0].Hash
	}
	if _, err := c.svc.SetTeamPhoto(r.Context(), actorOf(r), grid, member, hash); err != nil {
		return err
	}
	http.Redirect(w, r, "/m/team?photo="+url.QueryEscape(grid), http.StatusSeeOther)
	return nil
}
