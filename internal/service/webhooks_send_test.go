package service

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"zhizhi/internal/store"
)

// BenchmarkHookSend measures one delivery attempt on the sender's side
// (request, signature, the answer read) against a local receiver that
// acknowledges at once: allocs/op is the allocations per delivery of the
// sender and the receiver together (both run in this process), CPU per
// delivery is ns/op on one connection at a time. Two ways: own (the
// sender's own connection, hookconn.go) and standard (through an
// http.Client, as where a proxy applies).
func BenchmarkHookSend(b *testing.B) {
	s, _ := keyWorld(b)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	body := []byte(`{"id":"01JEVENT","kind":"report","label":"上报","case":{"id":"C1","number":"500103-20261205-0001","state":"reported","region_path":"/500000/500103/"},"step":{"seq":1,"action":"report","to":"reported","role":"resident"},"pad":"` + strings.Repeat("x", 600) + `"}`)
	d := store.Delivery{SubID: "S1", CaseID: "C1", Seq: 1, EventID: "01JEVENT", Kind: "report", Body: body,
		URL: rcv.URL + "/hook", Secret: s.key.Seal(purposeHookSecret, "a-secret-of-sixteen-or-more")}
	for _, client := range []string{"own", "standard"} {
		b.Run(client, func(b *testing.B) {
			cfg := WebhookSettings{}
			if client == "standard" {
				cfg.Client = &http.Client{}
			}
			cfg.defaults()
			ctx := context.Background()
			sc := newSendScratch()
			defer sc.closeConns()
			if a := s.send(ctx, cfg, sc, d); !a.OK {
				b.Fatalf("first attempt: %+v", a)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if a := s.send(ctx, cfg, sc, d); !a.OK {
					b.Fatalf("attempt: %+v", a)
				}
			}
		})
	}
}
