package ingest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestBufConnOrderAndClose: writes from several goroutines arrive whole
// and each goroutine's in order; Close writes what is still queued before
// closing; reads pass through.
func TestBufConnOrderAndClose(t *testing.T) {
	c, peer := tcpPair(t)
	b := newBufConn(c)
	const writers, each = 4, 5000
	done := make(chan struct{})
	for w := range writers {
		go func() {
			for i := range each {
				if _, err := fmt.Fprintf(b, "%d %d\n", w, i); err != nil {
					t.Error(err)
					break
				}
			}
			done <- struct{}{}
		}()
	}
	for range writers {
		<-done
	}
	b.Write([]byte("last\n"))
	b.Close()
	data, err := io.ReadAll(peer)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != writers*each+1 || lines[len(lines)-1] != "last" {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
	next := make([]int, writers)
	for _, l := range lines[:len(lines)-1] {
		var w, i int
		if _, err := fmt.Sscanf(l, "%d %d", &w, &i); err != nil || i != next[w] {
			t.Fatalf("line %q out of order (want %d from writer %d)", l, next[w], w)
		}
		next[w]++
	}
	if _, err := b.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}

	c2, peer2 := tcpPair(t)
	b2 := newBufConn(c2)
	defer b2.Close()
	fmt.Fprint(peer2, "hello\nworld\n")
	r := bufio.NewReader(b2)
	if l, _ := r.ReadString('\n'); l != "hello\n" {
		t.Fatalf("read %q", l)
	}
}

// TestBufConnWriteError: once the peer is gone a write fails (the error of
// the flusher's write is returned by a later write), so paho sees the
// connection lost.
func TestBufConnWriteError(t *testing.T) {
	c, peer := tcpPair(t)
	b := newBufConn(c)
	defer b.Close()
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := b.Write(make([]byte, 4096)); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a closed peer never failed")
		}
		time.Sleep(time.Millisecond)
	}
}
