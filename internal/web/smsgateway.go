package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/notify"
	"zhizhi/internal/service"
)

// The administrator's page of the SMS gateway (短信网关,
// docs/notifications.md): its address, the platform's public address for
// links, the auth header (its value shown masked), a template per kind of
// message, and a button that sends a test message through the gateway as
// saved. Saving and testing are for administrators of a district or above
// (the service refuses others).

type smsView struct {
	DistrictWide bool
	Gateway      notify.Gateway
	Kinds        []smsKind
	Values       url.Values // a form sent back
	Errors       map[string]string
	Message      string
	Flash        string
	TestPhone    string
	TestErrors   map[string]string
	TestMessage  string
	TestSent     string // the text sent
}

type smsKind struct {
	Kind, Label, Template, Default string
}

func (v *smsView) title() string { return "系统管理 · 短信网关" }

// Val is a field's value: the form's when sent back, else the saved one.
func (v *smsView) Val(name string) string {
	if v.Values != nil {
		return v.Values.Get(name)
	}
	switch name {
	case "url":
		return v.Gateway.URL
	case "base_url":
		return v.Gateway.BaseURL
	case "auth_header":
		return v.Gateway.AuthHeader
	case "auth_value":
		return v.Gateway.AuthValue // masked
	}
	return ""
}

// Err is one input's error.
func (v *smsView) Err(name string) string { return v.Errors[name] }

func (c *Console) smsView(r *http.Request) (*smsView, error) {
	actor := actorOf(r)
	g, err := c.svc.Gateway(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	v := &smsView{DistrictWide: service.DistrictWide(actor), Gateway: g}
	for _, k := range append(append([]notify.Kind{}, notify.ResidentKinds...), notify.Kinds...) {
		def := notify.DefaultTemplates[k]
		if def == "" {
			def = "【智治】{title}"
		}
		v.Kinds = append(v.Kinds, smsKind{Kind: string(k), Label: k.Label(), Template: g.Templates[k], Default: def})
	}
	return v, nil
}

func (c *Console) smsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := c.smsView(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("saved") != "" {
		v.Flash = "短信网关设置已保存"
	}
	c.render(w, r, http.StatusOK, "smsgateway", v)
	return nil
}

func (c *Console) saveSMS(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.Field("body", "表单无法读取")
	}
	g := notify.Gateway{URL: r.PostFormValue("url"), BaseURL: r.PostFormValue("base_url"),
		AuthHeader: strings.TrimSpace(r.PostFormValue("auth_header")), AuthValue: r.PostFormValue("auth_value")}
	for _, k := range append(append([]notify.Kind{}, notify.ResidentKinds...), notify.Kinds...) {
		if t := strings.TrimSpace(r.PostFormValue("tpl_" + string(k))); t != "" {
			if g.Templates == nil {
				g.Templates = map[notify.Kind]string{}
			}
			g.Templates[k] = t
		}
	}
	_, err := c.svc.SetGateway(r.Context(), actorOf(r), g)
	if err != nil && !apperr.Is(err, apperr.Invalid) {
		return err
	}
	if err != nil {
		v, verr := c.smsView(r)
		if verr != nil {
			return verr
		}
		v.Values, v.Errors, v.Message = r.PostForm, map[string]string{}, "请按提示修改后重新提交"
		for name, reason := range fieldMap(err) {
			v.Errors[strings.Replace(name, "templates.", "tpl_", 1)] = reason
		}
		for i, k := range v.Kinds {
			v.Kinds[i].Template = r.PostFormValue("tpl_" + k.Kind)
		}
		c.render(w, r, http.StatusBadRequest, "smsgateway", v)
		return nil
	}
	http.Redirect(w, r, "/admin/sms?saved=1", http.StatusSeeOther)
	return nil
}

func (c *Console) testSMS(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.Field("body", "表单无法读取")
	}
	phone := strings.TrimSpace(r.PostFormValue("phone"))
	text, err := c.svc.SendTestSMS(r.Context(), actorOf(r), phone)
	if err != nil && !apperr.Is(err, apperr.Invalid) && !apperr.Is(err, apperr.Refused) {
		return err
	}
	v, verr := c.smsView(r)
	if verr != nil {
		return verr
	}
	v.TestPhone = phone
	status := http.StatusOK
	switch {
	case apperr.Is(err, apperr.Invalid):
		v.TestErrors, status = fieldMap(err), http.StatusBadRequest
	case err != nil:
		var e *apperr.Error
		errors.As(err, &e)
		v.TestMessage, status = e.Message, http.StatusBadGateway
	default:
		v.TestSent = text
	}
	c.render(w, r, status, "smsgateway", v)
	return nil
}
