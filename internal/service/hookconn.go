package service

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zhizhi/internal/webhook"
)

// A sender's own connections to receivers (docs/webhooks.md, "Connections").
//
// The standard client hands each request from the caller's goroutine to a
// connection's writing goroutine and its answer back from a reading one:
// three goroutines and their wake-ups per delivery, and per request a
// header copier for redirects (never followed here) and a cancel timer.
// A webhook delivery is one small POST whose answer is read at once, so
// each sender keeps a connection of its own to each receiver and writes
// the request and reads the answer on it in its own goroutine: the
// standard client's request (less its Accept-Encoding: gzip), the answer
// parsed by the standard library (http.ReadResponse).
// Deliveries to an address a proxy of the environment applies to
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), and every delivery when
// WebhookSettings.Client is set, go through the standard client instead.

// hookTarget is a receiver's address as a sender uses it, parsed once.
type hookTarget struct {
	u       *url.URL
	addr    string // host:port to dial
	key     string // the sender's connection: scheme and addr
	tls     bool   // https
	host    string // the Host header: the URL's host without an IPv6 zone
	path    string // the request target: the URL's escaped path and query
	proxied bool   // a proxy of the environment applies: the standard client sends
}

func newHookTarget(raw string) (*hookTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	t := &hookTarget{u: u, host: u.Host, path: u.RequestURI()}
	switch u.Scheme {
	case "http":
	case "https":
		t.tls = true
	default:
		return nil, fmt.Errorf("unsupported protocol scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("no host in request URL")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if t.tls {
			port = "443"
		}
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	t.key = u.Scheme + "://" + t.addr
	if i := strings.IndexByte(t.host, '%'); i >= 0 && t.host[0] == '[' { // an IPv6 zone is not sent
		if j := strings.LastIndexByte(t.host, ']'); j > i {
			t.host = t.host[:i] + t.host[j:]
		}
	}
	p, err := http.ProxyFromEnvironment(&http.Request{URL: u})
	if err != nil {
		return nil, err
	}
	t.proxied = p != nil
	return t, nil
}

// hookConn is one of a sender's connections.
type hookConn struct {
	nc   net.Conn
	lim  hookLimit // what an answer may still read from nc
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it last carried a request; zero: never
}

// hookAnswerMax bounds what one answer may make a sender read, its headers
// and all: a receiver sending without end costs it no more.
const hookAnswerMax = 1 << 20

// hookLimit reads from a connection up to what is left of an answer's
// allowance.
type hookLimit struct {
	nc   net.Conn
	left int
}

func (l *hookLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errHookAnswerLong
	}
	if len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.nc.Read(p)
	l.left -= n
	return n, err
}

// hookIdle is how long a sender keeps a connection that carries nothing:
// less than the common servers' idle timeouts, so that it is rarely used
// just as the receiver closes it.
const hookIdle = 50 * time.Second

// drop closes the sender's connection under key and forgets it.
func (sc *sendScratch) drop(key string) {
	if c := sc.conns[key]; c != nil {
		c.nc.Close()
		delete(sc.conns, key)
	}
}

// conn is the sender's connection to t, dialled when it has none or has
// kept it idle too long; reused tells whether it carried a request before.
func (sc *sendScratch) conn(ctx context.Context, cfg WebhookSettings, t *hookTarget, now time.Time) (c *hookConn, reused bool, err error) {
	if c = sc.conns[t.key]; c != nil {
		if now.Sub(c.used) < hookIdle {
			return c, true, nil
		}
		sc.drop(t.key)
	}
	// Those kept idle too long, to other receivers, are closed now too.
	if now.Sub(sc.swept) > hookIdle {
		sc.swept = now
		for k, o := range sc.conns {
			if now.Sub(o.used) >= hookIdle {
				sc.drop(k)
			}
		}
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	var nc net.Conn
	if t.tls {
		conf := &tls.Config{NextProtos: []string{"http/1.1"}}
		if cfg.TLS != nil {
			conf = cfg.TLS.Clone()
			conf.NextProtos = []string{"http/1.1"}
		}
		nc, err = (&tls.Dialer{NetDialer: d, Config: conf}).DialContext(dctx, "tcp", t.addr)
	} else {
		nc, err = d.DialContext(dctx, "tcp", t.addr)
	}
	if err != nil {
		return nil, false, err
	}
	c = &hookConn{nc: nc, lim: hookLimit{nc: nc}, bw: bufio.NewWriterSize(nc, 4096)}
	c.br = bufio.NewReaderSize(&c.lim, 4096)
	sc.conns[t.key] = c
	return c, false, nil
}

// closeConns closes every connection the sender keeps.
func (sc *sendScratch) closeConns() {
	for k := range sc.conns {
		sc.drop(k)
	}
}

// aLongTimeAgo is a deadline in the past: it ends a connection's wait.
var aLongTimeAgo = time.Unix(1, 0)

// post sends one delivery on the sender's connection to t and reads the
// answer's status and start (into sc.buf; n bytes). A connection that
// carried requests before and turns out closed by the receiver before any
// byte of the answer (it closed it while it was idle) is dialled again
// once: the delivery carries its idempotency key, so a receiver that did
// see it drops the repeat, as the standard client does for such requests.
func (sc *sendScratch) post(ctx context.Context, cfg WebhookSettings, t *hookTarget, hdr *[hookHeaders]string, body []byte) (status, n int, err error) {
	for try := 0; ; try++ {
		var reused, answered bool
		status, n, reused, answered, err = sc.postOnce(ctx, cfg, t, hdr, body)
		if err == nil || !reused || answered || try > 0 || ctx.Err() != nil || !closedUnder(err) {
			break
		}
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
			err = fmt.Errorf("Timeout: no answer within %v (%w)", cfg.Timeout, err)
		}
		err = &url.Error{Op: "Post", URL: t.u.Redacted(), Err: err}
	}
	return status, n, err
}

// closedUnder tells whether err says the connection was closed by the
// other end (and not, say, that the receiver took too long: a delivery
// that timed out is not sent again at once).
func closedUnder(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// hookHeaders are the values of a delivery's headers, in hookHeaderNames'
// order.
const hookHeaders = 6

var hookHeaderNames = [hookHeaders]string{
	webhook.HeaderEvent, webhook.HeaderEventID, webhook.HeaderIdem,
	webhook.HeaderTimestamp, webhook.HeaderSignature, webhook.HeaderAttempt,
}

func (sc *sendScratch) postOnce(ctx context.Context, cfg WebhookSettings, t *hookTarget, hdr *[hookHeaders]string, body []byte) (status, n int, reused, answered bool, err error) {
	now := time.Now()
	c, reused, err := sc.conn(ctx, cfg, t, now)
	if err != nil {
		return 0, 0, false, false, err
	}
	defer func() {
		if err != nil {
			sc.drop(t.key)
		}
	}()
	c.nc.SetDeadline(now.Add(cfg.Timeout))
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(aLongTimeAgo) })
		defer stop()
	}
	w := c.bw
	w.WriteString("POST ")
	w.WriteString(t.path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(t.host)
	w.WriteString("\r\nUser-Agent: ")
	w.WriteString(hookUserAgent[0])
	w.WriteString("\r\nContent-Type: ")
	w.WriteString(hookContentType[0])
	w.WriteString("\r\nContent-Length: ")
	w.Write(strconv.AppendInt(sc.num[:0], int64(len(body)), 10))
	for i, name := range hookHeaderNames {
		w.WriteString("\r\n")
		w.WriteString(name)
		w.WriteString(": ")
		w.WriteString(hdr[i])
	}
	w.WriteString("\r\n\r\n")
	w.Write(body)
	if err = w.Flush(); err != nil {
		return 0, 0, reused, false, ctxErr(ctx, err)
	}
	c.lim.left = hookAnswerMax
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(c.br, nil)
		if err != nil {
			// answered: some byte of an answer came (a connection is
			// kept only when nothing follows its last answer).
			answered = c.lim.left < hookAnswerMax
			return 0, 0, reused, answered, ctxErr(ctx, err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		resp.Body.Close() // an interim answer (103 Early Hints): the final one follows
	}
	// The start of the answer is kept, the rest read so that the
	// connection can carry the next request. An answer cut short, longer
	// than the allowance, or followed by bytes nobody asked for costs the
	// connection; its status stands.
	var berr error
	for n < len(sc.buf) && berr == nil {
		var k int
		k, berr = resp.Body.Read(sc.buf[n:])
		n += k
	}
	if berr == nil {
		_, berr = io.Copy(io.Discard, resp.Body)
	} else if berr == io.EOF {
		berr = nil
	}
	resp.Body.Close()
	if berr != nil || resp.Close || resp.StatusCode == http.StatusSwitchingProtocols || c.br.Buffered() > 0 {
		sc.drop(t.key)
	} else {
		c.used = now
	}
	return resp.StatusCode, n, reused, true, nil
}

var errHookAnswerLong = errors.New("answer longer than 1 MiB")

// ctxErr is ctx's error when ctx ended (its end cut the connection's
// wait), err otherwise.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
