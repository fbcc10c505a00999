package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

type sseEvent struct {
	CaseID string `json:"case_id"`
	Action string `json:"action"`
	State  string `json:"state"`
}

// stream opens the event stream as an account and returns the case events
// it receives. It returns once the server has said it is connected.
func stream(t *testing.T, username string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token(t, username))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("events for %s: %d %s", username, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == ": connected" {
			break
		}
	}
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "case":
				var e sseEvent
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e) == nil {
					out <- e
				}
			case line == "":
				event = ""
			}
		}
	}()
	return out
}

// waitFor returns the first event about the case within d.
func waitFor(ch <-chan sseEvent, caseID string, d time.Duration) (sseEvent, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return sseEvent{}, false
			}
			if e.CaseID == caseID {
				return e, true
			}
		case <-timer.C:
			return sseEvent{}, false
		}
	}
}

func TestEventsInScope(t *testing.T) {
	syl := stream(t, "syl_zhihui")
	jfb := stream(t, "jfb_zhihui")
	c := report(t, nil)
	e, ok := waitFor(syl, c.ID, 2*time.Second)
	if !ok {
		t.Fatalf("石油路 commander got no event for case %s within 2s", c.ID)
	}
	if e.Action != "report" || e.State != "reported" {
		t.Errorf("event: %+v", e)
	}
	// The next change arrives too, and 解放碑 hears of neither.
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	if e, ok := waitFor(syl, c.ID, 2*time.Second); !ok || e.Action != "accept" {
		t.Errorf("accept event: %+v %v", e, ok)
	}
	if e, ok := waitFor(jfb, c.ID, 500*time.Millisecond); ok {
		t.Errorf("解放碑 commander received %+v for a 石油路 case", e)
	}
	if st, body := call(t, "", "GET", "/api/v1/events", nil); st != http.StatusUnauthorized {
		t.Errorf("events without a token: %d %s", st, body)
	}
}
