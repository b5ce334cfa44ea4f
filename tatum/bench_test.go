package tatum_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// The client against the stand-in, each next to the same request made with
// bare net/http (baseline): the ratio is the client's own cost (headers,
// retry bookkeeping, typed JSON decoding).

func benchServer(b *testing.B) (*tatumtest.Server, []string) {
	s := tatumtest.New(tatumtest.Options{})
	b.Cleanup(s.Close)
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if i%10 == 0 {
			s.Enqueue(tatum.PendingTransaction{ID: fmt.Sprintf("%024x", i), Chain: "BTC", Hashes: []string{ids[i]},
				SerializedTransaction: `{"hash":"81e62bdfbfc7bcb66c2a2f17335d033fd98b84c1188a7bb379a2dce9f1cda989","version":2,"inputs":[{"prevTxId":"121702fd7acd1b2cca6bd19658009140730ba26ca67cd222c00f952a111e11f4","outputIndex":0,"sequenceNumber":4294967295,"script":"","scriptString":"","output":{"satoshis":2000,"script":"76a914c8e668ee829837a2355c1e234a41f53f86b8156c88ac"}}],"outputs":[{"satoshis":1000,"script":"001487c70889f0a1d2f632d216a01472dde71f062aa7"}],"nLockTime":0}`})
		}
	}
	return s, ids
}

func quietClient(s *tatumtest.Server) *tatum.Client {
	return tatum.New(tatum.Options{BaseURL: s.URL, APIKey: s.APIKey, Logger: slog.New(slog.DiscardHandler)})
}

// BenchmarkPending: 1,000 pending transactions for 10,000 signatureIds.
func BenchmarkPending(b *testing.B) {
	s, ids := benchServer(b)
	c := quietClient(s)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := c.Pending(context.Background(), "BTC", ids)
		if err != nil || len(got) != 1000 {
			b.Fatalf("%d, %v", len(got), err)
		}
	}
}

func BenchmarkPendingRawHTTP(b *testing.B) {
	s, ids := benchServer(b)
	body := `{"signatureIds":["` + strings.Join(ids, `","`) + `"]}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", s.URL+"/v3/kms/pending/BTC", strings.NewReader(body))
		req.Header.Set("x-api-key", s.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkBroadcast(b *testing.B) {
	s := tatumtest.New(tatumtest.Options{})
	b.Cleanup(s.Close)
	s.Enqueue(tatum.PendingTransaction{ID: "x", Chain: "BTC", Hashes: []string{"k"}})
	c := quietClient(s)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Broadcast(context.Background(), "BTC", "0100000001", "x"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBroadcastRawHTTP(b *testing.B) {
	s := tatumtest.New(tatumtest.Options{})
	b.Cleanup(s.Close)
	s.Enqueue(tatum.PendingTransaction{ID: "x", Chain: "BTC", Hashes: []string{"k"}})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	hc := &http.Client{Transport: tr}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", s.URL+"/v3/bitcoin/broadcast", strings.NewReader(`{"txData":"0100000001","signatureId":"x"}`))
			req.Header.Set("x-api-key", s.APIKey)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
