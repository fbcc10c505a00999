// Package ingest receives sensor readings over MQTT (3.1.1, QoS 1) from a
// broker such as Mosquitto and hands them, in batches, to the service's one
// write path (service.Ingest). A reading is acknowledged to the broker only
// after its batch is committed, the session is persistent (clean session
// off) so what a node had not acknowledged waits for it, and the nodes share
// one subscription ($share/GROUP/...) so the broker splits the load and
// gives each reading to one node.
package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
)

// Sink takes a batch of readings and returns once they are committed.
type Sink interface {
	Ingest(ctx context.Context, in []service.Incoming) (service.IngestResult, error)
}

// Config is an MQTT ingest's settings.
type Config struct {
	Broker   string        // e.g. tcp://127.0.0.1:1883
	ClientID string        // stable per node: the broker keeps its session under it
	Prefix   string        // topics are Prefix/{kind}/{device} (default zhizhi/readings)
	Group    string        // shared-subscription group (default zhizhi); "" with Shared false subscribes plainly
	Batch    int           // most readings in one commit (default 2000)
	Linger   time.Duration // how long a batch waits to fill (default 2 ms)
	// Conns is how many connections (sessions ClientID-0…) the node keeps
	// in the shared subscription (default 4). The broker holds at most
	// max_inflight_messages (Mosquitto: 20) unacknowledged readings per
	// session, and a reading is acknowledged only after its commit, so
	// one session gives at most 20 readings per commit.
	Conns    int
	Username string
	Password string
	Logger   *slog.Logger
}

func (c *Config) defaults() {
	if c.Prefix == "" {
		c.Prefix = "zhizhi/readings"
	}
	if c.Group == "" {
		c.Group = "zhizhi"
	}
	if c.Batch <= 0 {
		c.Batch = 2000
	}
	if c.Linger <= 0 {
		c.Linger = 2 * time.Millisecond
	}
	if c.Conns <= 0 {
		c.Conns = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Filter is the shared subscription's topic filter.
func (c Config) Filter() string { return "$share/" + c.Group + "/" + c.Prefix + "/+/+" }

// MQTT is a running MQTT ingest.
type MQTT struct {
	cfg    Config
	sink   Sink
	conns  []mqtt.Client
	msgs   chan mqtt.Message
	cancel context.CancelFunc
	done   chan struct{}

	received, committed, failed atomic.Int64
}

// Stats are an ingest's counters.
type Stats struct {
	Received  int64 // messages delivered by the broker (redeliveries included)
	Committed int64 // messages committed and acknowledged
	Failed    int64 // batches the sink refused (tried again)
}

// Stats returns the counters.
func (m *MQTT) Stats() Stats {
	return Stats{m.received.Load(), m.committed.Load(), m.failed.Load()}
}

// Start connects, subscribes and begins ingesting until Stop.
func Start(ctx context.Context, cfg Config, sink Sink) (*MQTT, error) {
	cfg.defaults()
	if cfg.Broker == "" || cfg.ClientID == "" {
		return nil, errors.New("mqtt ingest: broker and client ID are required")
	}
	m := &MQTT{cfg: cfg, sink: sink, msgs: make(chan mqtt.Message, 4*cfg.Batch), done: make(chan struct{})}
	for i := 0; i < cfg.Conns; i++ {
		c, err := m.connect(fmt.Sprintf("%s-%d", cfg.ClientID, i))
		if err != nil {
			for _, c := range m.conns {
				c.Disconnect(0)
			}
			return nil, err
		}
		m.conns = append(m.conns, c)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	go m.work(wctx)
	return m, nil
}

// connect opens one session of the node in the shared subscription.
func (m *MQTT) connect(clientID string) (mqtt.Client, error) {
	cfg := m.cfg
	opts := mqtt.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(clientID).
		SetProtocolVersion(4). // MQTT 3.1.1
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetOrderMatters(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password)
	bufferConn(opts, cfg.Broker)
	// Messages the broker resends for the persistent session before the
	// subscription is made again come through the default handler.
	opts.SetDefaultPublishHandler(m.take)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		tok := c.Subscribe(cfg.Filter(), 1, m.take)
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			cfg.Logger.Error("mqtt subscribe", "filter", cfg.Filter(), "err", tok.Error())
		}
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		cfg.Logger.Warn("mqtt connection lost", "client", clientID, "err", err)
	})
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		c.Disconnect(0)
		return nil, fmt.Errorf("mqtt connect %s: timed out", cfg.Broker)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("mqtt connect %s: %w", cfg.Broker, err)
	}
	return c, nil
}

// bufferConn makes a plain TCP connection (tcp:// or mqtt://) read through
// a buffer and write coalesced: paho reads each packet's header a byte at a
// time and writes each packet (every acknowledgement) with its own system
// call, which unbuffered was a third of the ingest's time at thousands of
// readings a second. TLS and WebSocket brokers keep paho's own connection.
func bufferConn(opts *mqtt.ClientOptions, broker string) {
	u, err := url.Parse(broker)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "mqtt") {
		return
	}
	opts.SetCustomOpenConnectionFn(func(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
		d := net.Dialer{Timeout: o.ConnectTimeout}
		c, err := d.Dial("tcp", uri.Host)
		if err != nil {
			return nil, err
		}
		return newBufConn(c), nil
	})
}

// bufConn is a connection whose reads go through a buffer (paho reads it
// from one goroutine) and whose writes are gathered and written by one
// goroutine, in order: a write returns once its bytes are queued, and what
// was queued while the previous system call ran goes out in the next one,
// so under load many acknowledgements share one call and when idle a
// packet goes out at once. A write error is returned by the next write;
// Close writes what is queued first (a DISCONNECT packet is not lost).
type bufConn struct {
	net.Conn
	r *bufio.Reader

	wmu  sync.Mutex // held while taking the queue and writing it: keeps the order
	mu   sync.Mutex // guards buf, err, closed
	room *sync.Cond // signalled when the queue was written
	buf  []byte
	err  error
	kick chan struct{}
	done chan struct{}
	once sync.Once
}

const maxQueuedWrite = 1 << 20

func newBufConn(c net.Conn) *bufConn {
	b := &bufConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), kick: make(chan struct{}, 1), done: make(chan struct{})}
	b.room = sync.NewCond(&b.mu)
	go b.flusher()
	return b
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for len(c.buf) >= maxQueuedWrite && c.err == nil {
		c.room.Wait()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	c.buf = append(c.buf, p...)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return len(p), nil
}

// flush writes what is queued; spare is reused as the next queue.
func (c *bufConn) flush(spare []byte) []byte {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	out := c.buf
	c.buf = spare[:0]
	failed := c.err != nil
	c.mu.Unlock()
	if len(out) > 0 && !failed {
		if _, err := c.Conn.Write(out); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
		}
	}
	c.mu.Lock()
	c.room.Broadcast()
	c.mu.Unlock()
	return out
}

func (c *bufConn) flusher() {
	var spare []byte
	for {
		select {
		case <-c.kick:
			spare = c.flush(spare)
		case <-c.done:
			return
		}
	}
}

func (c *bufConn) Close() error {
	c.once.Do(func() {
		c.flush(nil)
		c.mu.Lock()
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.room.Broadcast()
		c.mu.Unlock()
		close(c.done)
	})
	return c.Conn.Close()
}

// take is paho's handler: it queues the message for the batcher (blocking
// when the queue is full, which holds back the broker).
func (m *MQTT) take(_ mqtt.Client, msg mqtt.Message) {
	m.received.Add(1)
	select {
	case m.msgs <- msg:
	case <-m.done:
	}
}

// work gathers batches, commits them through the sink and acknowledges
// them; a batch the sink refuses is tried again, never acknowledged
// unwritten.
func (m *MQTT) work(ctx context.Context) {
	defer close(m.done)
	var batch []mqtt.Message
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case msg := <-m.msgs:
			batch = append(batch, msg)
		}
		timer := time.NewTimer(m.cfg.Linger)
	fill:
		for len(batch) < m.cfg.Batch {
			select {
			case msg := <-m.msgs:
				batch = append(batch, msg)
			case <-timer.C:
				break fill
			case <-ctx.Done():
				break fill
			}
		}
		timer.Stop()
		in := make([]service.Incoming, len(batch))
		for i, msg := range batch {
			in[i] = incoming(m.cfg.Prefix, msg.Topic(), msg.Payload())
		}
		for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
			_, err := m.sink.Ingest(ctx, in)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return // stopping: not acknowledged, the broker gives them again
			}
			m.failed.Add(1)
			m.cfg.Logger.Error("mqtt ingest batch", "readings", len(in), "err", err)
			select {
			case <-ctx.Done():
				return // not acknowledged: the broker gives them again
			case <-time.After(wait):
			}
		}
		for _, msg := range batch {
			msg.Ack()
		}
		m.committed.Add(int64(len(batch)))
	}
}

// incoming parses one message; a topic that names no kind and device is a
// malformed reading (counted, never a crash).
func incoming(prefix, topic string, payload []byte) service.Incoming {
	raw := string(payload)
	kind, device, err := sensors.SplitTopic(prefix, topic)
	if err != nil {
		return service.Incoming{Problem: sensors.Malformed, Raw: topic + " " + raw}
	}
	r, p := sensors.Parse(kind, device, payload)
	return service.Incoming{Reading: r, Problem: p, Raw: raw}
}

// Stop leaves the shared subscription (the broker gives the other nodes
// every reading from now on), stops taking messages and disconnects; what
// was received but not committed stays unacknowledged in the broker's
// session for this client ID and comes again when a node connects under it.
func (m *MQTT) Stop() {
	for _, c := range m.conns {
		if tok := c.Unsubscribe(m.cfg.Filter()); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			m.cfg.Logger.Warn("mqtt unsubscribe", "filter", m.cfg.Filter(), "err", tok.Error())
		}
	}
	m.Abort()
}

// Abort stops like a node that dies: it stays in the shared subscription,
// so the broker keeps queueing its share in its session until a node
// connects under its client ID again (nothing acknowledged is lost,
// nothing unacknowledged is dropped).
func (m *MQTT) Abort() {
	m.cancel()
	<-m.done
	for _, c := range m.conns {
		c.Disconnect(0)
	}
}

// ForgetSessions ends the broker's sessions of a node's client ID (its conns
// sessions ClientID-0…) for good, dropping what they queued: for tests and
// for a node retired after its queues were drained.
func ForgetSessions(broker, clientID string, conns int) error {
	if conns <= 0 {
		conns = 4
	}
	for i := 0; i < conns; i++ {
		if err := ForgetSession(broker, fmt.Sprintf("%s-%d", clientID, i)); err != nil {
			return err
		}
	}
	return nil
}

// ForgetSession ends the broker's session of one client ID for good (a
// clean session connection), dropping what it queued.
func ForgetSession(broker, clientID string) error {
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).SetProtocolVersion(4).SetCleanSession(true))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return fmt.Errorf("mqtt connect %s: timed out", broker)
	}
	if err := tok.Error(); err != nil {
		return err
	}
	c.Disconnect(0)
	return nil
}

// Run starts an ingest and keeps it until ctx ends (the server's use).
func Run(ctx context.Context, cfg Config, sink Sink) error {
	m, err := Start(ctx, cfg, sink)
	if err != nil {
		return err
	}
	<-ctx.Done()
	m.Stop()
	return nil
}

var _ Sink = (*service.Service)(nil)

// Publisher publishes readings (the simulator and the tests).
type Publisher struct {
	client mqtt.Client
	prefix string
}

// NewPublisher connects a publisher.
func NewPublisher(broker, clientID, prefix string) (*Publisher, error) {
	if prefix == "" {
		prefix = "zhizhi/readings"
	}
	opts := mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).SetProtocolVersion(4).SetCleanSession(true).
		SetAutoReconnect(true)
	bufferConn(opts, broker)
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("mqtt connect %s: timed out", broker)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("mqtt connect %s: %w", broker, err)
	}
	return &Publisher{client: c, prefix: prefix}, nil
}

// Publish sends a payload to a kind and device's topic with QoS 1 and
// returns the token to wait on.
func (p *Publisher) Publish(kind, device string, payload []byte) mqtt.Token {
	return p.client.Publish(sensors.Topic(p.prefix, kind, device), 1, false, payload)
}

// PublishRaw sends a payload to any topic (tests of malformed topics).
func (p *Publisher) PublishRaw(topic string, payload []byte) mqtt.Token {
	return p.client.Publish(topic, 1, false, payload)
}

// Close disconnects.
func (p *Publisher) Close() { p.client.Disconnect(250) }
