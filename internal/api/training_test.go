package api_test

import (
	"testing"
	"time"
)

// TestCadreTraining: a course, a session with cadres of the district, a
// practical posting; the cadre's record shows them; the figures per street
// and department add the session's hours; bad input is refused by field.
func TestCadreTraining(t *testing.T) {
	ids := accountIDs(t)
	now := plat.Service.Now()
	type fig struct {
		Key      string `json:"key"`
		Name     string `json:"name"`
		Cadres   int    `json:"cadres"`
		Sessions int    `json:"sessions"`
		Hours    int    `json:"hours"`
	}
	figures := func(by string) map[string]fig {
		var out struct {
			Items []fig `json:"items"`
		}
		mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/training/figures?by="+by, nil), &out)
		m := map[string]fig{}
		for _, f := range out.Items {
			m[f.Key] = f
		}
		return m
	}
	streets0, units0 := figures("street"), figures("unit")

	var course struct {
		ID    string `json:"id"`
		Hours int    `json:"hours"`
	}
	mustJSON(t, as(t, "leader", 201, "POST", "/api/v1/training/courses", map[string]any{
		"title": "数字化转型专题培训", "topic": "数字化转型", "provider": "红色三岩学院", "hours": 6}), &course)
	as(t, "leader", 200, "GET", "/api/v1/training/courses", nil)
	refuse(t, "leader", 400, "hours", "POST", "/api/v1/training/courses", map[string]any{"title": "t", "topic": "x", "hours": 0})
	refuse(t, "zhouchunyan", 403, "", "POST", "/api/v1/training/courses", map[string]any{"title": "t", "topic": "x", "hours": 2})

	refuse(t, "leader", 400, "attendees[1]", "POST", "/api/v1/training/sessions", map[string]any{"course_id": course.ID, "at": rfc(now),
		"place": "红色三岩学院", "trainers": []string{"张教授"}, "attendees": []string{ids["syl_zhihui"], "nobody"}})
	refuse(t, "jfb_zhihui", 400, "attendees[0]", "POST", "/api/v1/training/sessions", map[string]any{"course_id": course.ID, "at": rfc(now),
		"place": "解放碑", "trainers": []string{"张教授"}, "attendees": []string{ids["syl_zhihui"]}})
	refuse(t, "leader", 400, "course_id", "POST", "/api/v1/training/sessions", map[string]any{"course_id": "nope", "at": rfc(now),
		"place": "p", "trainers": []string{"张教授"}, "attendees": []string{ids["syl_zhihui"]}})
	as(t, "leader", 201, "POST", "/api/v1/training/sessions", map[string]any{"course_id": course.ID, "at": rfc(now.Add(-24 * time.Hour)),
		"place": "红色三岩学院", "trainers": []string{"张教授", "李处长"}, "attendees": []string{ids["syl_zhihui"], ids["xyc_shuji"], ids["yj_staff"]}})

	as(t, "leader", 201, "POST", "/api/v1/cadres/"+ids["syl_zhihui"]+"/postings", map[string]any{"post": "新影村社区第一书记（挂职）",
		"region": "500103014010", "from": rfc(now.AddDate(0, -1, 0)), "to": rfc(now.AddDate(0, 5, 0))})
	refuse(t, "leader", 400, "to", "POST", "/api/v1/cadres/"+ids["syl_zhihui"]+"/postings", map[string]any{"post": "p",
		"from": rfc(now), "to": rfc(now.AddDate(0, -1, 0))})

	var rec struct {
		Name     string `json:"name"`
		Hours    int    `json:"hours"`
		Sessions []struct {
			Course struct {
				Title string `json:"title"`
			} `json:"course"`
		} `json:"sessions"`
		Postings []struct {
			Post string `json:"post"`
		} `json:"postings"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/cadres/"+ids["syl_zhihui"], nil), &rec)
	if rec.Hours < 6 || len(rec.Sessions) == 0 || rec.Sessions[0].Course.Title != "数字化转型专题培训" || len(rec.Postings) == 0 {
		t.Fatalf("record %+v", rec)
	}
	as(t, "syl_zhihui", 200, "GET", "/api/v1/cadres/me", nil)
	refuse(t, "jfb_zhihui", 404, "", "GET", "/api/v1/cadres/"+ids["syl_zhihui"], nil)

	// The figures: 石油路 gained two cadres (its commander and a community
	// secretary), the emergency bureau one, six hours each.
	streets, units := figures("street"), figures("unit")
	if d := streets["500103014"]; d.Sessions-streets0["500103014"].Sessions != 2 || d.Hours-streets0["500103014"].Hours != 12 || d.Name != "石油路街道" {
		t.Fatalf("石油路: before %+v, after %+v", streets0["500103014"], d)
	}
	if d := units["yj"]; d.Sessions-units0["yj"].Sessions != 1 || d.Hours-units0["yj"].Hours != 6 {
		t.Fatalf("区应急管理局: before %+v, after %+v", units0["yj"], d)
	}
	refuse(t, "leader", 400, "by", "GET", "/api/v1/training/figures?by=color", nil)
}
