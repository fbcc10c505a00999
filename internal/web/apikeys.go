package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The administrator's page of Open311 API keys: the list (name, scope, rate
// limit, created, revoked), a form to create one, which shows the secret
// once (only its hash is stored), and a button to revoke one, which stops
// it at once on every node. An administrator sees and manages the keys
// scoped within his own region (service.APIKeysOf).

// keyAdmins may open the API keys page.
var keyAdmins = access{roles: []cases.Role{cases.RoleAdmin}}

type apiKeysView struct {
	Keys        []apiKeyRow
	Scopes      []store.RegionRecord
	Values      url.Values
	Errors      map[string]string
	Message     string
	Flash       string
	Secret      string // the new key's secret, shown this once
	SecretName  string
	DefaultRate int
}

func (v *apiKeysView) title() string { return "API 密钥" }

// Val is a value the create form had when it was sent back.
func (v *apiKeysView) Val(name string) string { return v.Values.Get(name) }

// Err is one input's error.
func (v *apiKeysView) Err(name string) string { return v.Errors[name] }

type apiKeyRow struct {
	store.APIKey
	Scope string
}

func (c *Console) apiKeysView(r *http.Request) (*apiKeysView, error) {
	actor := actorOf(r)
	keys, err := c.svc.APIKeysOf(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	scopes, err := c.svc.KeyScopes(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	v := &apiKeysView{Scopes: scopes, Values: url.Values{}, DefaultRate: service.DefaultKeyRate}
	for _, k := range keys {
		v.Keys = append(v.Keys, apiKeyRow{APIKey: k, Scope: strings.Join(c.svc.PathNames(k.RegionPath), " · ")})
	}
	return v, nil
}

func (c *Console) apiKeysPage(w http.ResponseWriter, r *http.Request) error {
	v, err := c.apiKeysView(r)
	if err != nil {
		return err
	}
	if n := r.URL.Query().Get("revoked"); n != "" {
		v.Flash = "已吊销密钥“" + n + "”，它立即失效。"
	}
	if n := r.URL.Query().Get("statuses"); n != "" {
		v.Flash = "已更改密钥“" + n + "”的状态词。"
	}
	c.render(w, r, http.StatusOK, "apikeys", v)
	return nil
}

func (c *Console) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	in := service.NewAPIKey{Name: r.PostFormValue("name"), RegionCode: strings.TrimSpace(r.PostFormValue("region_code")),
		ExtendedStatuses: r.PostFormValue("extended_statuses") == "on", Hotline: r.PostFormValue("hotline") == "on"}
	if code := strings.TrimSpace(r.PostFormValue("region_code_text")); code != "" {
		in.RegionCode = code
	}
	var f apperr.Fields
	if s := strings.TrimSpace(r.PostFormValue("rate_per_minute")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			f.Add("rate_per_minute", "请填写整数")
		}
		in.RatePerMinute = n
	}
	var secret string
	var key store.APIKey
	err := f.Err()
	if err == nil {
		secret, key, err = c.svc.CreateAPIKeyAs(r.Context(), actorOf(r), in)
	}
	if err != nil && !apperr.Is(err, apperr.Invalid) {
		return err
	}
	v, verr := c.apiKeysView(r)
	if verr != nil {
		return verr
	}
	if err != nil {
		v.Values, v.Errors, v.Message = r.PostForm, fieldMap(err), "请按提示修改后重新提交"
		c.render(w, r, http.StatusBadRequest, "apikeys", v)
		return nil
	}
	// Answered at once, not by a redirect: the secret must never sit in a
	// URL or come back on a reload.
	v.Secret, v.SecretName = secret, key.Name
	c.render(w, r, http.StatusOK, "apikeys", v)
	return nil
}

func (c *Console) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := c.svc.RevokeAPIKeyAs(r.Context(), actorOf(r), r.PathValue("id"))
	if apperr.Is(err, apperr.Conflict) {
		v, verr := c.apiKeysView(r)
		if verr != nil {
			return verr
		}
		v.Message = "密钥“" + k.Name + "”已经吊销"
		c.render(w, r, http.StatusConflict, "apikeys", v)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/apikeys?revoked="+url.QueryEscape(k.Name), http.StatusSeeOther)
	return nil
}

// setAPIKeyStatuses turns a key's extended statuses on or off.
func (c *Console) setAPIKeyStatuses(w http.ResponseWriter, r *http.Request) error {
	var extended bool
	switch r.PostFormValue("extended_statuses") {
	case "on":
		extended = true
	case "off":
	default:
		return apperr.Field("extended_statuses", "应为 on 或 off")
	}
	k, err := c.svc.SetAPIKeyStatusesAs(r.Context(), actorOf(r), r.PathValue("id"), extended)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/apikeys?statuses="+url.QueryEscape(k.Name), http.StatusSeeOther)
	return nil
}
