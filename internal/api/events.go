package api

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"zhizhi/internal/service"
)

// events streams case changes in the caller's scope as server-sent events
// ("case"), and changes to the key rectification projects the caller reads
// ("project": a milestone met, a project verified; heard on the node that
// made the change). A client that fell behind gets a "resync" event and
// should reload its view.
func (a *API) events(w http.ResponseWriter, r *http.Request) error {
	sub := a.svc.Hub().Subscribe(actorOf(r))
	defer sub.Close()
	fl, err := openStream(w)
	if err != nil {
		return err
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-ping.C:
			if sub.Lost() {
				// Events from other nodes may have been missed while the
				// database listener reconnected.
				fmt.Fprint(w, "event: resync\ndata: {}\n\n")
			}
			fmt.Fprint(w, ": ping\n\n")
		case e := <-sub.C:
			if sub.Lost() {
				fmt.Fprint(w, "event: resync\ndata: {}\n\n")
			}
			writeEvent(w, e)
			// Events already waiting go out in the same write: under a
			// burst, one flush (one system call) for many events.
			for more := true; more; {
				select {
				case e := <-sub.C:
					writeEvent(w, e)
				default:
					more = false
				}
			}
		}
		fl.Flush()
	}
}

// writeEvent writes one event of the hub: a case's step, or a project's change.
func writeEvent(w io.Writer, e *service.Event) {
	if e.Kind == "project" {
		fmt.Fprintf(w, "id: p-%s-%d\nevent: project\ndata: %s\n\n", e.ProjectID, e.Version, e.JSON())
		return
	}
	fmt.Fprintf(w, "id: %s-%d\nevent: case\ndata: %s\n\n", e.CaseID, e.Version, e.JSON())
}
