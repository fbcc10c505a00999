package service

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

// hookDelivery is a delivery of the event n to url, with the secret sealed
// by s's key.
func hookDelivery(s *Service, url string, n int) store.Delivery {
	body := fmt.Appendf(nil, `{"id":"01JEVENT%04d","kind":"report","case":{"id":"C1","number":"500103-20261205-0001"},"text":"接诉即办"}`, n)
	return store.Delivery{SubID: "S1", CaseID: "C1", Seq: n, EventID: fmt.Sprintf("01JEVENT%04d", n), Kind: "report", Body: body,
		URL: url, Secret: s.key.Seal(purposeHookSecret, hookTestSecret), Attempts: 0}
}

const hookTestSecret = "a-secret-of-sixteen-or-more"

// A sender's own connection carries one delivery after another, each
// request as the standard client makes it (which sends where a proxy
// applies, or when a client is configured): the headers the receivers are
// told of, the body byte for byte, the signature good.
func TestHookConnCarriesDeliveries(t *testing.T) {
	t.Parallel()
	s, _ := keyWorld(t)
	for _, client := range []string{"own", "standard"} {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			carries(t, s, client == "standard")
		})
	}
}

func carries(t *testing.T, s *Service, standard bool) {
	var conns atomic.Int64
	var mu sync.Mutex
	var bad []string
	var host string
	rcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		want := map[string]string{
			"Content-Type": "application/json; charset=utf-8", "User-Agent": "zhizhi-webhooks/1",
			webhook.HeaderEvent: "report", webhook.HeaderAttempt: "1",
			webhook.HeaderEventID: r.Header.Get(webhook.HeaderIdem),
		}
		for k, v := range want {
			if got := r.Header.Get(k); got != v || got == "" {
				bad = append(bad, fmt.Sprintf("%s: %q, want %q", k, got, v))
			}
		}
		if r.Method != http.MethodPost || r.URL.RequestURI() != "/hook?x=1" || r.ContentLength != int64(len(body)) || "http://"+r.Host != host {
			bad = append(bad, fmt.Sprintf("request %s %s, length %d of %d", r.Method, r.URL.RequestURI(), r.ContentLength, len(body)))
		}
		if !webhook.Verify(hookTestSecret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, hookSentAt(r), time.Minute) {
			bad = append(bad, "signature does not verify")
		}
		if !strings.Contains(string(body), `"id":"01JEVENT`) || !strings.Contains(string(body), "接诉即办") {
			bad = append(bad, "body: "+string(body))
		}
		io.WriteString(w, "已收到")
	}))
	rcv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	rcv.Start()
	defer rcv.Close()
	mu.Lock()
	host = rcv.URL
	mu.Unlock()
	cfg := WebhookSettings{}
	if standard {
		cfg.Client = &http.Client{}
	}
	cfg.defaults()
	sc := newSendScratch()
	defer sc.closeConns()
	for i := range 20 {
		a := s.send(context.Background(), cfg, sc, hookDelivery(s, rcv.URL+"/hook?x=1", i))
		if !a.OK || a.Status != 200 || a.Response != "已收到" || a.Error != "" {
			t.Fatalf("delivery %d: %+v", i, a)
		}
	}
	// The own connections are kept by the sender: exactly one. The standard
	// transport gives a connection back to its pool only once it has seen
	// the request's write end, and dials anew when that takes it over 50 ms
	// (as it can under the race detector on a loaded machine); what is ours
	// there is reading each answer to its end, without which none is reused.
	if n := conns.Load(); !standard && n != 1 {
		t.Errorf("20 deliveries on %d connections, want 1", n)
	} else if standard && n > 10 {
		t.Errorf("20 deliveries on %d connections, want most on a reused one", n)
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// rawReceiver serves each connection with fn, which reads requests from r
// and answers on c as it likes; n counts the requests fn reports read.
func rawReceiver(t *testing.T, fn func(c net.Conn, r *bufio.Reader, n *atomic.Int64)) (url string, n *atomic.Int64, conns *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	n, conns = new(atomic.Int64), new(atomic.Int64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				fn(c, bufio.NewReader(c), n)
			}()
		}
	}()
	return "http://" + l.Addr().String(), n, conns
}

// noContent is an answer that acknowledges a delivery and keeps the
// connection.
const noContent = "HTTP/1.1 204 No Content\r\n\r\n"

// answerAll answers every request on a connection with answer.
func answerAll(answer string) func(net.Conn, *bufio.Reader, *atomic.Int64) {
	return func(c net.Conn, r *bufio.Reader, n *atomic.Int64) {
		for readRequest(r, n) {
			io.WriteString(c, answer)
		}
	}
}

// readRequest reads one request and its body, counting it.
func readRequest(r *bufio.Reader, n *atomic.Int64) bool {
	req, err := http.ReadRequest(r)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, req.Body)
	n.Add(1)
	return true
}

// A receiver that closes a kept connection without saying so costs no
// delivery: the one that finds it closed is sent again at once on a new
// connection, and received once. One that drops the request after reading
// it on a new connection fails, and is not sent again then.
func TestHookConnReceiverCloses(t *testing.T) {
	t.Parallel()
	s, _ := keyWorld(t)
	cfg := WebhookSettings{Timeout: 5 * time.Second}
	cfg.defaults()

	// Answers one request a connection, keep-alive, then closes it.
	once, got, conns := rawReceiver(t, func(c net.Conn, r *bufio.Reader, n *atomic.Int64) {
		if readRequest(r, n) {
			io.WriteString(c, noContent)
		}
	})
	sc := newSendScratch()
	defer sc.closeConns()
	for i := range 5 {
		if a := s.send(context.Background(), cfg, sc, hookDelivery(s, once, i)); !a.OK {
			t.Fatalf("delivery %d: %+v", i, a)
		}
		time.Sleep(20 * time.Millisecond) // the receiver's close arrives
	}
	if got.Load() != 5 || conns.Load() != 5 {
		t.Errorf("5 deliveries: %d received on %d connections, want 5 on 5", got.Load(), conns.Load())
	}

	// Reads the request and closes without an answer.
	drop, dropped, _ := rawReceiver(t, func(c net.Conn, r *bufio.Reader, n *atomic.Int64) {
		readRequest(r, n)
	})
	sc2 := newSendScratch()
	defer sc2.closeConns()
	a := s.send(context.Background(), cfg, sc2, hookDelivery(s, drop, 1))
	if a.OK || a.Status != 0 || !strings.Contains(a.Error, "EOF") || a.Retry.IsZero() {
		t.Errorf("dropped on a new connection: %+v", a)
	}
	time.Sleep(20 * time.Millisecond)
	if dropped.Load() != 1 {
		t.Errorf("dropped on a new connection: received %d times, want 1", dropped.Load())
	}
}

// Answers of every shape: the status and the start of the text are kept,
// and the connection is kept only when the answer ended as it said.
func TestHookConnAnswers(t *testing.T) {
	t.Parallel()
	s, _ := keyWorld(t)
	cfg := WebhookSettings{Timeout: 5 * time.Second}
	cfg.defaults()
	long := strings.Repeat("x", 2<<20) // beyond the allowance
	tests := []struct {
		name     string
		answer   string
		status   int
		response string
		kept     bool // the next delivery goes on the same connection
		fail     string
	}{
		{"no content", noContent, 204, "", true, ""},
		{"text", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n已收到", 200, "已收到", true, ""},
		{"chunked", "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 202, "abcdef", true, ""},
		{"early hints first", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", true, ""},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false, ""},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false, ""},
		{"refused", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 503, "busy", true, "HTTP 503"},
		{"long", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(long), long), 200, long[:512], false, ""},
		{"unasked bytes after", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n", 200, "ok", false, ""},
		{"headers without end", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("x", 1000)+"\r\n", 2000), 0, "", false, "longer than 1 MiB"},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, "", false, "malformed HTTP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, got, conns := rawReceiver(t, answerAll(tt.answer))
			sc := newSendScratch()
			defer sc.closeConns()
			a := s.send(context.Background(), cfg, sc, hookDelivery(s, url, 1))
			if a.Status != tt.status || a.Response != tt.response || !strings.Contains(a.Error, tt.fail) || (tt.fail == "") != a.OK {
				t.Errorf("answer: status %d, response %.40q, OK %v, error %q; want %d, %.40q, error %q",
					a.Status, a.Response, a.OK, a.Error, tt.status, tt.response, tt.fail)
			}
			s.send(context.Background(), cfg, sc, hookDelivery(s, url, 2))
			time.Sleep(20 * time.Millisecond)
			want := int64(2)
			if tt.kept {
				want = 1
			}
			if got.Load() != 2 || conns.Load() != want {
				t.Errorf("two deliveries: %d received on %d connections, want 2 on %d", got.Load(), conns.Load(), want)
			}
		})
	}
}

// TLS: the senders' own connections check the receiver's certificate
// against the roots they are given (the system's by default).
func TestHookConnTLS(t *testing.T) {
	t.Parallel()
	s, _ := keyWorld(t)
	var got atomic.Int64
	rcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.Verify(hookTestSecret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, hookSentAt(r), time.Minute) && r.ProtoMajor == 1 {
			got.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	cfg := WebhookSettings{Timeout: 5 * time.Second}
	cfg.defaults()
	sc := newSendScratch()
	defer sc.closeConns()
	if a := s.send(context.Background(), cfg, sc, hookDelivery(s, rcv.URL, 1)); a.OK || !strings.Contains(a.Error, "certificate") {
		t.Errorf("a certificate of no known root: %+v", a)
	}

	roots := x509.NewCertPool()
	roots.AddCert(rcv.Certificate())
	cfg.TLS = &tls.Config{RootCAs: roots}
	for i := range 3 {
		if a := s.send(context.Background(), cfg, sc, hookDelivery(s, rcv.URL, i)); !a.OK || a.Status != 204 {
			t.Fatalf("delivery %d over TLS: %+v", i, a)
		}
	}
	if got.Load() != 3 {
		t.Errorf("received and verified %d of 3 over HTTP/1.1 and TLS", got.Load())
	}
}

// A receiver that does not answer costs a sender its timeout at most, and
// the node's end at once; a delivery that timed out on a kept connection
// is not sent again then.
func TestHookConnSlowReceiver(t *testing.T) {
	t.Parallel()
	s, _ := keyWorld(t)
	// Answers the first request on a connection, not the next.
	url, got, _ := rawReceiver(t, func(c net.Conn, r *bufio.Reader, n *atomic.Int64) {
		if readRequest(r, n) {
			io.WriteString(c, noContent)
		}
		readRequest(r, n)
		io.Copy(io.Discard, r) // no answer; wait for the sender to go
	})
	cfg := WebhookSettings{Timeout: 200 * time.Millisecond}
	cfg.defaults()
	sc := newSendScratch()
	defer sc.closeConns()
	if a := s.send(context.Background(), cfg, sc, hookDelivery(s, url, 0)); !a.OK {
		t.Fatalf("first delivery: %+v", a)
	}
	start := time.Now()
	a := s.send(context.Background(), cfg, sc, hookDelivery(s, url, 1))
	if a.OK || !strings.Contains(a.Error, "Timeout") || time.Since(start) > 3*time.Second {
		t.Errorf("no answer within the timeout: %+v after %v", a, time.Since(start))
	}
	time.Sleep(50 * time.Millisecond)
	if got.Load() != 2 {
		t.Errorf("two deliveries, the second unanswered on the kept connection: received %d times, want 2", got.Load())
	}

	mute, _, _ := rawReceiver(t, func(c net.Conn, r *bufio.Reader, n *atomic.Int64) {
		io.Copy(io.Discard, r) // never answers
	})
	cfg = WebhookSettings{Timeout: time.Minute}
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	a = s.send(ctx, cfg, sc, hookDelivery(s, mute, 2))
	if a.OK || !strings.Contains(a.Error, "context canceled") || time.Since(start) > 5*time.Second {
		t.Errorf("the node ending: %+v after %v", a, time.Since(start))
	}
}

// A connection kept idle longer than hookIdle is not used again: it is
// closed and another dialled.
func TestHookConnIdle(t *testing.T) {
	t.Parallel()
	s, _ := keyWorld(t)
	url, got, conns := rawReceiver(t, answerAll(noContent))
	cfg := WebhookSettings{}
	cfg.defaults()
	sc := newSendScratch()
	defer sc.closeConns()
	for i := range 3 {
		if a := s.send(context.Background(), cfg, sc, hookDelivery(s, url, i)); !a.OK {
			t.Fatalf("delivery %d: %+v", i, a)
		}
		for _, c := range sc.conns {
			c.used = c.used.Add(-hookIdle) // as if kept that long
		}
	}
	if got.Load() != 3 || conns.Load() != 3 {
		t.Errorf("3 deliveries, each after an idle spell: %d received on %d connections, want 3 on 3", got.Load(), conns.Load())
	}
	if len(sc.conns) != 1 {
		t.Errorf("%d connections kept, want 1", len(sc.conns))
	}
}

// hookSentAt is the time a delivery says it was sent (the service's clock
// is the test's).
func hookSentAt(r *http.Request) time.Time {
	ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
	return time.Unix(ts, 0)
}

// A receiver's address as the sender dials it and names it.
func TestHookTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, addr, key, host, path string
		tls                        bool
	}{
		{"http://example.org/hook", "example.org:80", "http://example.org:80", "example.org", "/hook", false},
		{"https://example.org", "example.org:443", "https://example.org:443", "example.org", "/", true},
		{"http://10.0.0.5:8080/a/b%20c?x=1&y=二", "10.0.0.5:8080", "http://10.0.0.5:8080", "10.0.0.5:8080", "/a/b%20c?x=1&y=二", false}, // as the standard client sends it
		{"http://[fe80::1%25eth0]:9000/h", "[fe80::1%eth0]:9000", "http://[fe80::1%eth0]:9000", "[fe80::1]:9000", "/h", false},
		{"https://[2001:db8::1]/h", "[2001:db8::1]:443", "https://[2001:db8::1]:443", "[2001:db8::1]", "/h", true},
	}
	for _, tt := range tests {
		got, err := newHookTarget(tt.raw)
		if err != nil {
			t.Errorf("%s: %v", tt.raw, err)
			continue
		}
		if got.addr != tt.addr || got.key != tt.key || got.host != tt.host || got.path != tt.path || got.tls != tt.tls {
			t.Errorf("%s: addr %q key %q host %q path %q tls %v; want %q %q %q %q %v", tt.raw,
				got.addr, got.key, got.host, got.path, got.tls, tt.addr, tt.key, tt.host, tt.path, tt.tls)
		}
	}
	for _, raw := range []string{"ftp://example.org/x", "http:///x", "http://exa mple.org/", "http://example.org/\r\nX: y"} {
		if _, err := newHookTarget(raw); err == nil {
			t.Errorf("%q: taken", raw)
		}
	}
}
