package api

import "net/http"

// A leader's secretaries (秘书代录, issue 13; service/secretaries.go).

type secretaryInput struct {
	LeaderID    string `json:"leader_id"`
	SecretaryID string `json:"secretary_id"`
}

func (a *API) listSecretaries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list, err := a.svc.Secretaries(r.Context(), actorOf(r), q.Get("leader"), q.Get("secretary"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
	return nil
}

func (a *API) assignSecretary(w http.ResponseWriter, r *http.Request) error {
	var in secretaryInput
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.svc.AssignSecretary(r.Context(), actorOf(r), in.LeaderID, in.SecretaryID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s)
	return nil
}

func (a *API) removeSecretary(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.RemoveSecretary(r.Context(), actorOf(r), r.PathValue("leader"), r.PathValue("secretary")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
