package bench

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"zhizhi/internal/id"
	"zhizhi/internal/webhook"
)

// exchangeSender is the "exchange" case of BenchmarkIntakeWebhooks: a
// process of its own (this test binary started again) that posts to the
// receiver at the delivery budget's rate, in its 50 ms ticks, from 32
// goroutines over kept-alive connections, each request signed and headed
// like a delivery with a body of exchangeBody bytes — while told "on" on
// its input. No subscription exists and the node does nothing for it: what
// intake keeps beside it is what the HTTP exchanges alone, on both ends,
// cost intake on the same cores: the floor under any node's deliveries.
// ZHIZHI_BENCH_EXCHANGE_NICE=N runs the sender at niceness N.
type exchangeSender struct {
	cmd *exec.Cmd
	in  io.WriteCloser
}

const exchangeBody = 1024

func startExchange(url string, rate float64) (*exchangeSender, error) {
	cmd := exec.Command(os.Args[0])
	if n := os.Getenv("ZHIZHI_BENCH_EXCHANGE_NICE"); n != "" { // the sender at a lower priority
		cmd = exec.Command("nice", "-n", n, os.Args[0])
	}
	cmd.Env = append(os.Environ(), "ZHIZHI_BENCH_EXCHANGE="+url, "ZHIZHI_BENCH_EXCHANGE_RATE="+strconv.FormatFloat(rate, 'f', -1, 64))
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &exchangeSender{cmd: cmd, in: in}, nil
}

func (e *exchangeSender) set(on bool) {
	if on {
		io.WriteString(e.in, "on\n")
	} else {
		io.WriteString(e.in, "off\n")
	}
}

func (e *exchangeSender) stop() {
	e.in.Close() // it exits when its input ends
	e.cmd.Wait()
}

// exchangeInProc is the "exchange_inproc" case: the same sender as
// goroutines of the node's own process (sendExchange), so that what it
// costs intake there, against "exchange", is what sharing the node's
// process (its scheduler, its garbage collector) adds to the same
// exchanges.
type exchangeInProc struct {
	on   atomic.Bool
	done chan struct{}
}

func startExchangeInProc(url string, rate float64) *exchangeInProc {
	e := &exchangeInProc{done: make(chan struct{})}
	go sendExchange(url, rate, &e.on, e.done)
	return e
}

func (e *exchangeInProc) set(on bool) { e.on.Store(on) }
func (e *exchangeInProc) stop()       { close(e.done) }

// In the exchange sender's process: send while on, until the input ends.
func init() {
	url := os.Getenv("ZHIZHI_BENCH_EXCHANGE")
	if url == "" {
		return
	}
	rate, err := strconv.ParseFloat(os.Getenv("ZHIZHI_BENCH_EXCHANGE_RATE"), 64)
	if err != nil || rate <= 0 {
		rate = 1000
	}
	var on atomic.Bool
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			on.Store(sc.Text() == "on")
		}
		os.Exit(0)
	}()
	sendExchange(url, rate, &on, nil)
}

// sendExchange posts requests like deliveries to url at rate a second, in
// 50 ms ticks, from 32 goroutines, while on, until done is closed.
func sendExchange(url string, rate float64, on *atomic.Bool, done <-chan struct{}) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	body := []byte(`{"kind":"report","note":"` + strings.Repeat("x", exchangeBody-27) + `"}`)
	turns := make(chan struct{}, 4096)
	defer close(turns)
	for range 32 {
		go func() {
			g := webhook.NewSigner("key-key-key-key-1")
			for range turns {
				ts := time.Now().Unix()
				evt := id.New()
				req, _ := http.NewRequest(http.MethodPost, url+"/fast", bytes.NewReader(body))
				req.Header = http.Header{
					"Content-Type":          {"application/json; charset=utf-8"},
					"User-Agent":            {"zhizhi-webhooks/1"},
					webhook.HeaderEvent:     {"report"},
					webhook.HeaderEventID:   {evt},
					webhook.HeaderIdem:      {evt},
					webhook.HeaderTimestamp: {strconv.FormatInt(ts, 10)},
					webhook.HeaderSignature: {g.Sign(ts, body)},
					webhook.HeaderAttempt:   {"1"},
				}
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	const tick = 50 * time.Millisecond
	per := rate * tick.Seconds()
	owed := 0.0
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if !on.Load() {
			owed = 0
			continue
		}
		owed += per
		for ; owed >= 1; owed-- {
			turns <- struct{}{}
		}
	}
}
