package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"zhizhi/internal/api"
)

// lockedBuffer is a log sink for one test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestClientGoneIsNotAnError (issue 20): a request whose client went away
// while it was served is not logged as a server failure (it was one 500 in
// the log per impatient client).
func TestClientGoneIsNotAnError(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	h := api.New(plat.Service, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	mux := http.NewServeMux()
	h.Register(mux)
	tok := token(t, "qu_zhihui")
	for _, path := range []string{"/api/v1/cases?limit=500", "/api/v1/cases?q=%E7%81%AB%E9%94%85", "/api/v1/me"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client has gone before the server reads anything
		req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok+"x") // not cached: the check reads the database
		mux.ServeHTTP(httptest.NewRecorder(), req)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a client that went away was logged as a failure:\n%s", logs.String())
	}
	// A live request still answers as before.
	req := httptest.NewRequest("GET", "/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("live request: %d, length %q", rec.Code, rec.Header().Get("Content-Length"))
	}
}
