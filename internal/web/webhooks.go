package web

import (
	"net/http"
	"net/url"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

// The administrator's page of webhook subscriptions (推送订阅,
// docs/webhooks.md): the list with each subscription's state (a paused one
// says why), failures in a row, queued events and last success; a form to
// subscribe a receiver, which shows the secret once; pause, resume and
// remove; and a subscription's delivery log. Everything goes through the
// service, which keeps an administrator within its region.

type webhooksView struct {
	Subs       []service.SubscriptionView
	Kinds      []struct{ Kind, Label string }
	Sources    []struct{ Code, Label string }
	Scopes     []store.RegionRecord
	Values     url.Values
	Errors     map[string]string
	Message    string
	Flash      string
	Secret     string // the new subscription's secret, shown this once
	SecretName string
	// The delivery log of one subscription (/admin/webhooks/{id}).
	Sub *service.SubscriptionView
	Log []store.LogEntry
}

func (v *webhooksView) title() string { return "推送订阅" }

// Val is a value the form had when it was sent back.
func (v *webhooksView) Val(name string) string { return v.Values.Get(name) }

// Checked reports whether a box of a multi-value input was ticked.
func (v *webhooksView) Checked(name, value string) bool {
	for _, x := range v.Values[name] {
		if x == value {
			return true
		}
	}
	return false
}

// Err is one input's error.
func (v *webhooksView) Err(name string) string { return v.Errors[name] }

func (c *Console) webhooksView(r *http.Request) (*webhooksView, error) {
	actor := actorOf(r)
	subs, err := c.svc.Subscriptions(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	scopes, err := c.svc.KeyScopes(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	v := &webhooksView{Subs: subs, Scopes: scopes, Values: url.Values{}}
	v.Kinds = append(v.Kinds, struct{ Kind, Label string }{webhook.All, webhook.KindLabel(webhook.All)})
	for _, k := range webhook.Kinds() {
		v.Kinds = append(v.Kinds, struct{ Kind, Label string }{k, webhook.KindLabel(k)})
	}
	for _, s := range []string{"hotline", "resident", "open311", "enterprise", "patrol", "sensor", "visit"} {
		v.Sources = append(v.Sources, struct{ Code, Label string }{s, sourceLabel(s)})
	}
	return v, nil
}

func (c *Console) webhooksPage(w http.ResponseWriter, r *http.Request) error {
	v, err := c.webhooksView(r)
	if err != nil {
		return err
	}
	switch {
	case r.URL.Query().Get("paused") != "":
		v.Flash = "已暂停推送，新事件仍会排队，恢复后按顺序补发。"
	case r.URL.Query().Get("resumed") != "":
		v.Flash = "已恢复推送，排队的事件立即开始补发。"
	case r.URL.Query().Get("deleted") != "":
		v.Flash = "已删除订阅及其排队事件。"
	}
	c.render(w, r, http.StatusOK, "webhooks", v)
	return nil
}

func (c *Console) createWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.Field("body", "表单无法读取")
	}
	in := webhook.Input{Name: r.PostFormValue("name"), URL: strings.TrimSpace(r.PostFormValue("url")), Events: r.PostForm["events"],
		Sources: r.PostForm["sources"], Secret: strings.TrimSpace(r.PostFormValue("secret"))}
	switch r.PostFormValue("scope") {
	case "unit":
		in.UnitID = strings.TrimSpace(r.PostFormValue("unit_id"))
	default:
		in.RegionCode = strings.TrimSpace(r.PostFormValue("region_code"))
		if code := strings.TrimSpace(r.PostFormValue("region_code_text")); code != "" {
			in.RegionCode = code
		}
	}
	secret, sub, err := c.svc.CreateSubscription(r.Context(), actorOf(r), in)
	if err != nil && !apperr.Is(err, apperr.Invalid) {
		return err
	}
	v, verr := c.webhooksView(r)
	if verr != nil {
		return verr
	}
	if err != nil {
		v.Values, v.Errors, v.Message = r.PostForm, fieldMap(err), "请按提示修改后重新提交"
		if e := v.Errors["unit_id"]; e != "" && v.Errors["region_code"] == "" {
			v.Errors["region_code"] = e
		}
		c.render(w, r, http.StatusBadRequest, "webhooks", v)
		return nil
	}
	// Answered at once, not by a redirect: the secret must never sit in a URL.
	v.Secret, v.SecretName = secret, sub.Name
	c.render(w, r, http.StatusOK, "webhooks", v)
	return nil
}

func (c *Console) setWebhookState(w http.ResponseWriter, r *http.Request) error {
	state := r.PostFormValue("state")
	if _, err := c.svc.SetSubscriptionState(r.Context(), actorOf(r), r.PathValue("id"), state); err != nil {
		return err
	}
	flag := "paused"
	if state == webhook.Active {
		flag = "resumed"
	}
	http.Redirect(w, r, "/admin/webhooks?"+flag+"=1", http.StatusSeeOther)
	return nil
}

func (c *Console) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := c.svc.DeleteSubscription(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/webhooks?deleted=1", http.StatusSeeOther)
	return nil
}

func (c *Console) webhookLog(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	sub, err := c.svc.Subscription(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	log, err := c.svc.DeliveryLog(r.Context(), actor, sub.ID, service.KeepLog)
	if err != nil {
		return err
	}
	v := &webhooksView{Sub: &sub, Log: log, Values: url.Values{}}
	c.render(w, r, http.StatusOK, "webhooks", v)
	return nil
}

func sourceLabel(s string) string { return cases.Source(s).Label() }
