package open311_test

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// TestUpdatesWaitForDurable: on SQLite a committed batch is visible to
// readers a few milliseconds before its log is synced (store.DB.Durable).
// With the platform's log syncer held, a case is accepted (the step is
// readable) but the accept is not durable: a request to the updates feed
// reads it and waits, not answering while the sync is held, and answers
// with the update once the sync is released. SQLite only (PostgreSQL's
// commits are durable when they return).
func TestUpdatesWaitForDurable(t *testing.T) {
	ctx := context.Background()
	number := report(t, "json", aq01(t, demoKey))
	c := mustCase(t, number)
	// The feed's position after the report: follow the feed to its end.
	next := "/open311/v2/servicerequestupdates.json?api_key=" + demoKey + "&start_date=" + url.QueryEscape(c.ReportedAt.Add(-time.Second).Format(time.RFC3339))
	for polls := 0; ; polls++ {
		if polls > 100 {
			t.Fatal("the feed does not end")
		}
		r := get(t, next)
		n := len(updatesOf(t, "json", r))
		cursor := strings.Contains(next, "after=")
		next = nextOf(t, r)
		if cursor && n == 0 {
			break
		}
	}

	release, ok := plat.DB.HoldLogSync()
	if !ok {
		t.Skip("PostgreSQL: a commit is durable when it returns")
	}
	defer release()
	commander := actor(t, "syl_zhihui")
	accepted := make(chan error, 1)
	go func() {
		_, _, err := plat.Service.Act(ctx, commander, c.ID, cases.Command{Action: cases.ActAccept}, 0)
		accepted <- err
	}()
	for end := time.Now().Add(time.Minute); mustCase(t, number).State != cases.Accepted; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the accept did not commit within a minute")
		}
	}
	type answer struct {
		r   reply
		err error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := srv.Client().Get(srv.URL + next)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{reply{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header, body}, err}
	}()
	select {
	case a := <-answered:
		t.Fatalf("the feed answered before the accept was durable: %v %s", a.err, a.r)
	case err := <-accepted:
		t.Fatalf("the accept was answered (%v) before its log was synced", err)
	case <-time.After(500 * time.Millisecond):
	}

	release()
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	a := <-answered
	if a.err != nil {
		t.Fatal(a.err)
	}
	ups := updatesOf(t, "json", a.r)
	if len(ups) != 1 || ups[0]["service_request_id"] != number || ups[0]["status"] != "open" {
		t.Fatalf("updates after the report: %v; want the accept of %s", ups, number)
	}
}
