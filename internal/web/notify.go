package web

import (
	"net/http"
	"slices"
	"strings"

	"zhizhi/internal/notify"
	"zhizhi/internal/store"
)

// The notifications inbox (issue 18, docs/notifications.md): the page
// lists the signed-in person's notifications with links to their cases,
// marks them read, and holds the person's preferences and the button that
// turns Web Push on for this browser. The bell in the header (layout.html,
// notify.js) shows the unread count live from /api/v1/notifications/events.
func init() {
	routes = append(routes,
		route{"GET", "/notifications", signed, (*Console).notificationsPage},
		route{"POST", "/notifications/read", signed, (*Console).notificationsReadAll},
		route{"POST", "/notifications/{id}/open", signed, (*Console).notificationOpen},
		route{"POST", "/notifications/preferences", signed, (*Console).notificationPrefs},
	)
}

type notificationsView struct {
	Items  []store.Notification
	Unread bool
	Next   string
	Prefs  notify.Prefs
	Kinds  []kindChoice
	Flash  string
}

type kindChoice struct {
	Kind  notify.Kind
	Label string
	On    bool
}

func (v *notificationsView) title() string { return "消息提醒" }

func (c *Console) notificationsPage(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	q := r.URL.Query()
	v := &notificationsView{Unread: q.Get("unread") == "1"}
	list, err := c.svc.Notifications(r.Context(), actor, store.InboxFilter{Unread: v.Unread, Before: q.Get("before"), Limit: 50})
	if err != nil {
		return err
	}
	v.Items = list
	if len(list) == 50 {
		v.Next = list[len(list)-1].ID
	}
	if v.Prefs, err = c.svc.Prefs(r.Context(), actor); err != nil {
		return err
	}
	for _, k := range notify.Kinds {
		v.Kinds = append(v.Kinds, kindChoice{Kind: k, Label: k.Label(), On: !slices.Contains(v.Prefs.Off, k)})
	}
	switch q.Get("done") {
	case "read":
		v.Flash = "已全部标为已读"
	case "prefs":
		v.Flash = "提醒设置已保存"
	}
	c.render(w, r, http.StatusOK, "notifications", v)
	return nil
}

func (c *Console) notificationsReadAll(w http.ResponseWriter, r *http.Request) error {
	if _, err := c.svc.MarkAllRead(r.Context(), actorOf(r)); err != nil {
		return err
	}
	http.Redirect(w, r, "/notifications?done=read", http.StatusSeeOther)
	return nil
}

// notificationOpen marks a notification read and goes to what it is about.
func (c *Console) notificationOpen(w http.ResponseWriter, r *http.Request) error {
	if err := c.svc.MarkRead(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	to := r.PostFormValue("to")
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.Contains(to, `\`) {
		to = "/notifications"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (c *Console) notificationPrefs(w http.ResponseWriter, r *http.Request) error {
	p := notify.Prefs{NoPush: r.PostFormValue("push") != "on", SMS: r.PostFormValue("sms") == "on",
		QuietFrom: strings.TrimSpace(r.PostFormValue("quiet_from")), QuietTo: strings.TrimSpace(r.PostFormValue("quiet_to"))}
	on := r.PostForm["kind"]
	for _, k := range notify.Kinds {
		if !slices.Contains(on, string(k)) {
			p.Off = append(p.Off, k)
		}
	}
	if _, err := c.svc.SetPrefs(r.Context(), actorOf(r), p); err != nil {
		return err
	}
	http.Redirect(w, r, "/notifications?done=prefs", http.StatusSeeOther)
	return nil
}
