package api

import (
	"net/http"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/service"
	"zhizhi/internal/webhook"
)

// Webhook subscriptions (administrators, in their region's subtree) and the
// 12345 hotline's inbound routes (the hotline platform's API key in the
// X-Api-Key header). docs/webhooks.md.

// hookCreated answers a new subscription with its secret, shown once.
type hookCreated struct {
	Subscription service.SubscriptionView `json:"subscription"`
	Secret       string                   `json:"secret"`
}

// hookKind is an event kind a subscription may name.
type hookKind struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

// hookState is the body of a pause or resume.
type hookState struct {
	State string `json:"state"`
}

func (a *API) listHooks(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Subscriptions(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) hookKinds(w http.ResponseWriter, r *http.Request) error {
	out := []hookKind{{webhook.All, webhook.KindLabel(webhook.All)}}
	for _, k := range webhook.Kinds() {
		out = append(out, hookKind{k, webhook.KindLabel(k)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) createHook(w http.ResponseWriter, r *http.Request) error {
	var in webhook.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	secret, sub, err := a.svc.CreateSubscription(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, hookCreated{Subscription: sub, Secret: secret})
	return nil
}

func (a *API) putHook(w http.ResponseWriter, r *http.Request) error {
	var in webhook.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	sub, err := a.svc.UpdateSubscription(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (a *API) setHookState(w http.ResponseWriter, r *http.Request) error {
	var in hookState
	if err := decode(r, &in); err != nil {
		return err
	}
	sub, err := a.svc.SetSubscriptionState(r.Context(), actorOf(r), r.PathValue("id"), in.State)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (a *API) deleteHook(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteSubscription(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) hookLog(w http.ResponseWriter, r *http.Request) error {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return apperr.Field("limit", "条数应为正整数")
		}
		limit = n
	}
	list, err := a.svc.DeliveryLog(r.Context(), actorOf(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// hotlineAnswer is what the hotline platform gets for a work order.
type hotlineAnswer struct {
	Number     string `json:"number"`      // the order's number, as sent
	CaseID     string `json:"case_id"`     // the platform's case
	CaseNumber string `json:"case_number"` // the case's human number
	State      string `json:"state"`
	Created    bool   `json:"created"` // false: the order was taken before (an order sent twice makes one case)
}

// visitAnswerHotline is what the hotline platform gets for a return visit.
type hotlineVisitAnswer struct {
	Number  string `json:"number"`
	CaseID  string `json:"case_id"`
	StepID  string `json:"step_id"`
	Version int    `json:"version"`
}

func hotlineSecret(r *http.Request) string {
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "ApiKey ") {
		return strings.TrimPrefix(h, "ApiKey ")
	}
	return ""
}

func (a *API) hotlineOrder(w http.ResponseWriter, r *http.Request) error {
	var in service.HotlineOrder
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.svc.TakeHotlineOrder(r.Context(), hotlineSecret(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hotlineAnswer{Number: strings.TrimSpace(in.Number), CaseID: res.Case.ID, CaseNumber: res.Case.Number,
		State: string(res.Case.State), Created: res.Created})
	return nil
}

func (a *API) hotlineVisit(w http.ResponseWriter, r *http.Request) error {
	var in service.HotlineVisit
	if err := decode(r, &in); err != nil {
		return err
	}
	c, st, err := a.svc.RecordHotlineVisit(r.Context(), hotlineSecret(r), r.PathValue("number"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hotlineVisitAnswer{Number: r.PathValue("number"), CaseID: c.ID, StepID: st.ID, Version: c.Version})
	return nil
}
