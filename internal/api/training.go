package api

import (
	"net/http"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/leaders"
)

// Cadre training (issue 13): courses, sessions with attendees, postings,
// a cadre's record and the figures per street and department.

type courseInput struct {
	Title    string `json:"title"`
	Topic    string `json:"topic"`
	Provider string `json:"provider,omitempty"`
	Hours    int    `json:"hours"`
}

func (a *API) createCourse(w http.ResponseWriter, r *http.Request) error {
	var in courseInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.svc.CreateCourse(r.Context(), actorOf(r), leaders.Course{Title: in.Title, Topic: in.Topic, Provider: in.Provider, Hours: in.Hours})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (a *API) listCourses(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Courses(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
	return nil
}

type sessionInput struct {
	CourseID  string    `json:"course_id"`
	At        time.Time `json:"at"`
	Place     string    `json:"place"`
	Trainers  []string  `json:"trainers"`
	Attendees []string  `json:"attendees"`
}

func (a *API) recordSession(w http.ResponseWriter, r *http.Request) error {
	var in sessionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.svc.RecordSession(r.Context(), actorOf(r), leaders.Session{CourseID: in.CourseID, At: in.At, Place: in.Place,
		Trainers: in.Trainers, Attendees: in.Attendees})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s)
	return nil
}

type postingInput struct {
	Post   string    `json:"post"`
	Region string    `json:"region,omitempty"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Note   string    `json:"note,omitempty"`
}

func (a *API) addPosting(w http.ResponseWriter, r *http.Request) error {
	var in postingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.svc.AddPosting(r.Context(), actorOf(r), leaders.Posting{CadreID: r.PathValue("id"), Post: in.Post, From: in.From, To: in.To, Note: in.Note}, in.Region)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (a *API) cadreRecord(w http.ResponseWriter, r *http.Request) error {
	rec, err := a.svc.Record(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

func (a *API) trainingFigures(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var from, to time.Time
	var fs apperr.Fields
	for _, k := range []string{"from", "to"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fs.Add(k, "时间格式应为 RFC 3339，如 2026-03-09T09:00:00+08:00")
			}
			if k == "from" {
				from = t
			} else {
				to = t
			}
		}
	}
	if err := fs.Err(); err != nil {
		return err
	}
	by := q.Get("by")
	if by == "" {
		by = "street"
	}
	rows, err := a.svc.TrainingFigures(r.Context(), actorOf(r), by, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rows})
	return nil
}
