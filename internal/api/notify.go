package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/notify"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// Notifications to people (issue 18, docs/notifications.md): the inbox, its
// live unread count, read marks, preferences, Web Push subscriptions and
// the SMS gateway's settings. The rows join the route table and the
// OpenAPI maps here, after api.go's init.
func init() {
	routes = append(routes,
		route{"GET", "/api/v1/notifications", signed, (*API).notifications, "The caller's notifications, newest first (?unread=1&before=<id>&limit=)"},
		route{"GET", "/api/v1/notifications/unread", signed, (*API).unread, "How many of the caller's notifications are unread"},
		route{"GET", "/api/v1/notifications/events", signed, (*API).inboxEvents, "Server-sent events: the caller's unread count (event unread) at once and whenever it changes"},
		route{"POST", "/api/v1/notifications/{id}/read", signed, (*API).markRead, "Mark one of the caller's notifications read"},
		route{"POST", "/api/v1/notifications/read", signed, (*API).markAllRead, "Mark all the caller's notifications read"},
		route{"GET", "/api/v1/notifications/preferences", signed, (*API).prefs, "The caller's notification preferences"},
		route{"PUT", "/api/v1/notifications/preferences", signed, (*API).setPrefs, "Replace the caller's notification preferences (kinds turned off, Web Push, SMS, quiet hours)"},
		route{"GET", "/api/v1/push/key", signed, (*API).pushKey, "The installation's VAPID public key, for PushManager.subscribe"},
		route{"POST", "/api/v1/push/subscriptions", signed, (*API).subscribe, "Register this browser's Web Push subscription for the caller"},
		route{"DELETE", "/api/v1/push/subscriptions", signed, (*API).unsubscribe, "Remove the caller's Web Push subscription of an endpoint (body: {\"endpoint\"}); none of the caller's: nothing changes, still 204"},
		route{"GET", "/api/v1/notifications/gateway", admin, (*API).gateway, "The SMS gateway's settings (the auth value masked)"},
		route{"PUT", "/api/v1/notifications/gateway", admin, (*API).setGateway, "Replace the SMS gateway's settings (administrators of a district or above)"},
	)
	prefs := obj(map[string]any{
		"off":        arr(enum(kindNames(notify.Kinds)...)),
		"no_push":    map[string]any{"type": "boolean"},
		"sms":        map[string]any{"type": "boolean", "description": "text messages to the account's phone through the gateway"},
		"quiet_from": str("HH:MM, local time; push and SMS of non-urgent notifications wait until quiet_to"),
		"quiet_to":   str("HH:MM"),
	})
	requestBodies["PUT /api/v1/notifications/preferences"] = "NotifyPrefs"
	requestBodies["POST /api/v1/push/subscriptions"] = "PushSubscription"
	requestBodies["PUT /api/v1/notifications/gateway"] = "SMSGateway"
	schemas["NotifyPrefs"] = prefs
	schemas["PushSubscription"] = obj(map[string]any{"endpoint": str("the push service's URL"),
		"keys": obj(map[string]any{"p256dh": str("base64url"), "auth": str("base64url")})})
	schemas["SMSGateway"] = obj(map[string]any{"url": str("the gateway's URL: each message is a POST of JSON {id, phone, text, kind}"),
		"auth_header": str("e.g. Authorization"), "auth_value": str("sent as is; '******' keeps the stored one"),
		"base_url":  str("the platform's public address, for links in messages"),
		"templates": map[string]any{"type": "object", "description": "a template per kind; {number} {title} {category} {link}"}})
	responses["GET /api/v1/notifications"] = response{200, listOf[store.Notification](), ""}
	responses["GET /api/v1/notifications/unread"] = response{200, map[string]any{"type": "object", "properties": map[string]any{"unread": map[string]any{"type": "integer"}}, "required": []any{"unread"}}, ""}
	responses["GET /api/v1/notifications/events"] = response{200, nil, "text/event-stream"}
	responses["POST /api/v1/notifications/{id}/read"] = response{204, nil, ""}
	responses["POST /api/v1/notifications/read"] = response{200, map[string]any{"type": "object", "properties": map[string]any{"marked": map[string]any{"type": "integer"}}, "required": []any{"marked"}}, ""}
	responses["GET /api/v1/notifications/preferences"] = response{200, notify.Prefs{}, ""}
	responses["PUT /api/v1/notifications/preferences"] = response{200, notify.Prefs{}, ""}
	responses["GET /api/v1/push/key"] = response{200, map[string]any{"type": "object", "properties": map[string]any{"public_key": str("base64url")}, "required": []any{"public_key"}}, ""}
	responses["POST /api/v1/push/subscriptions"] = response{201, store.PushSub{}, ""}
	responses["DELETE /api/v1/push/subscriptions"] = response{204, nil, ""}
	responses["GET /api/v1/notifications/gateway"] = response{200, notify.Gateway{}, ""}
	responses["PUT /api/v1/notifications/gateway"] = response{200, notify.Gateway{}, ""}
	queryParams["GET /api/v1/notifications"] = []string{"unread", "before", "limit"}
}

func kindNames(ks []notify.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f apperr.Fields
	in := store.InboxFilter{Before: q.Get("before"), Limit: 50}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			f.Add("limit", "条数应为1到200之间的整数")
		}
		in.Limit = n
	}
	switch q.Get("unread") {
	case "", "0", "false":
	case "1", "true":
		in.Unread = true
	default:
		f.Add("unread", "应为 1 或 0")
	}
	if err := f.Err(); err != nil {
		return err
	}
	list, err := a.svc.Notifications(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	out := map[string]any{"items": list}
	if len(list) == in.Limit {
		out["next"] = list[len(list)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) unread(w http.ResponseWriter, r *http.Request) error {
	n, err := a.svc.Unread(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"unread": n})
	return nil
}

// inboxEvents streams the caller's unread count: at once, at every change,
// and with each keep-alive (so a change announced while another node's
// listener reconnected is caught up within 20 s).
func (a *API) inboxEvents(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	sub := a.svc.SubscribeInbox(actor)
	defer sub.Close()
	fl, err := openStream(w)
	if err != nil {
		return err
	}
	last := -1
	send := func() {
		n, err := a.svc.Unread(r.Context(), actor)
		if err != nil || n == last {
			return
		}
		last = n
		b, _ := json.Marshal(map[string]int{"unread": n})
		fmt.Fprintf(w, "event: unread\ndata: %s\n\n", b)
	}
	send()
	fl.Flush()
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-ping.C:
			send()
			fmt.Fprint(w, ": ping\n\n")
		case <-sub.C:
			send()
		}
		fl.Flush()
	}
}

// noBody reads and drops a body the route does not take, so one over the
// route's limit is refused like everywhere else.
func noBody(r *http.Request) error {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return bodyError(err)
	}
	return nil
}

func (a *API) markRead(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(r); err != nil {
		return err
	}
	if err := a.svc.MarkRead(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) markAllRead(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(r); err != nil {
		return err
	}
	n, err := a.svc.MarkAllRead(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"marked": n})
	return nil
}

func (a *API) prefs(w http.ResponseWriter, r *http.Request) error {
	p, err := a.svc.Prefs(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) setPrefs(w http.ResponseWriter, r *http.Request) error {
	var p notify.Prefs
	if err := decode(r, &p); err != nil {
		return err
	}
	out, err := a.svc.SetPrefs(r.Context(), actorOf(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) pushKey(w http.ResponseWriter, r *http.Request) error {
	pub, _, err := a.svc.VAPIDKeys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"public_key": pub})
	return nil
}

func (a *API) subscribe(w http.ResponseWriter, r *http.Request) error {
	var in service.PushInput
	if err := decode(r, &in); err != nil {
		return err
	}
	sub, err := a.svc.Subscribe(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sub)
	return nil
}

func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Endpoint string `json:"endpoint"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Endpoint == "" {
		return apperr.Field("endpoint", "请提供要取消的推送地址")
	}
	if err := a.svc.Unsubscribe(r.Context(), actorOf(r), in.Endpoint); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) gateway(w http.ResponseWriter, r *http.Request) error {
	g, err := a.svc.Gateway(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (a *API) setGateway(w http.ResponseWriter, r *http.Request) error {
	var g notify.Gateway
	if err := decode(r, &g); err != nil {
		return err
	}
	out, err := a.svc.SetGateway(r.Context(), actorOf(r), g)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
