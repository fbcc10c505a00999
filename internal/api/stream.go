package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// streamPing is how often a stream with nothing to say sends a comment, so
// proxies keep the connection and clients know it is alive.
const streamPing = 20 * time.Second

// openStream starts a server-sent-event response: the headers (no caching,
// no proxy buffering), 200, the client's reconnect delay and a first
// comment, flushed. The case events, the inbox's unread count and the
// operations board all begin here.
func openStream(w http.ResponseWriter) (http.Flusher, error) {
	fl, ok := w.(http.Flusher)
	if !ok {
		return nil, errors.New("streaming unsupported")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	fl.Flush()
	return fl, nil
}
