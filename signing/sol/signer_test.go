package sol

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/sol/soltest"
	"github.com/gokms/gokms/wallet"
)

// recordStore is a signing.KeySource that is a signing.RecordSource, as
// the daemon's chain-bound Resolver view is; it counts the records it hands
// out and remembers them so the test can see they were zeroed.
type recordStore struct {
	recs   map[string]backend.Record
	handed []backend.Record
}

func (r *recordStore) Key(context.Context, string, *uint32) (*btcec.PrivateKey, error) {
	return nil, errors.New("SOL keys are not secp256k1")
}

func (r *recordStore) Record(_ context.Context, id string) (backend.Record, error) {
	rec, ok := r.recs[id]
	if !ok {
		return backend.Record{}, errors.New("no such wallet")
	}
	c := rec.Clone()
	r.handed = append(r.handed, c)
	return c, nil
}

func signerOn(t *testing.T) (*soltest.Node, *Signer) {
	node := soltest.New()
	t.Cleanup(node.Close)
	rpc, err := NewRPC(node.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return node, NewSigner(rpc, testDecode)
}

// testDecode decodes private-key records only; the daemon's decoder is
// kms's key table, whose SOL rules (mnemonic entries, indexes, the stored
// address) kms's tests check.
func testDecode(rec backend.Record, _ *uint32) (ed25519.PrivateKey, error) {
	return wallet.DecodeSolanaPrivateKey(string(rec.Secret))
}

func TestSignerSignSendFind(t *testing.T) {
	node, s := signerOn(t)
	v := byName(t, "native-feepayer-1")
	store := &recordStore{recs: map[string]backend.Record{}}
	for i, id := range v.Pending.Hashes {
		store.recs[id] = backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "SOL", Secret: []byte(v.PrivateKeys[i]), Address: v.Addresses[i]}
	}
	node.SetBlockhash(blockhashOf(t, v).Hash, v.LastValidBlockHeight)
	req := signing.Request{ID: v.Pending.ID, Chain: "SOL", SerializedTransaction: v.Pending.SerializedTransaction, Hashes: v.Pending.Hashes}
	sd, err := s.SignDetailed(context.Background(), req, store)
	if err != nil {
		t.Fatal(err)
	}
	var j journaled
	if err := json.Unmarshal([]byte(sd.Raw), &j); err != nil || j.Transaction != v.Wire || j.LastValidBlockHeight != v.LastValidBlockHeight || sd.TxID != v.TxID {
		t.Fatalf("Raw %s TxID %s: not web3.js's transaction", sd.Raw, sd.TxID)
	}
	wire, _ := base64.StdEncoding.DecodeString(v.Wire)
	msg := wire[1+64*int(wire[0]):]
	if sd.View == nil || sd.View.From != base58.Encode(msg[4:36]) {
		t.Errorf("view %+v: From is not the fee payer", sd.View)
	}
	for _, r := range store.handed {
		if strings.Trim(string(r.Secret), "\x00") != "" {
			t.Error("a record's secret was not zeroed")
		}
	}
	if st, err := s.FindTx(context.Background(), "SOL", true, sd.TxID); err != nil || st != signing.TxNotFound {
		t.Fatalf("before sending: %v %v", st, err)
	}
	got, err := s.Send(context.Background(), "SOL", true, sd.Raw)
	if err != nil || got != v.TxID {
		t.Fatalf("Send = %q, %v", got, err)
	}
	if st, err := s.FindTx(context.Background(), "SOL", true, sd.TxID); err != nil || st != signing.TxMined {
		t.Fatalf("after sending: %v %v", st, err)
	}
	// The same bytes again: the node says it was processed; that is the
	// transaction's signature, not a failure.
	if got, err := s.Send(context.Background(), "SOL", true, sd.Raw); err != nil || got != v.TxID {
		t.Fatalf("second Send = %q, %v", got, err)
	}
	if len(node.Landed()) != 1 {
		t.Fatalf("%d transactions landed", len(node.Landed()))
	}
}

func TestSignerSendOutcomes(t *testing.T) {
	v := byName(t, "native-0")
	raw, _ := json.Marshal(journaled{Transaction: v.Wire, LastValidBlockHeight: 1100})
	t.Run("garbage", func(t *testing.T) {
		_, s := signerOn(t)
		for _, r := range []string{"", "{}", `{"transaction":"AA==","lastValidBlockHeight":1}`, v.Wire, `{"transaction":"` + v.Wire + `","lastValidBlockHeight":1,"x":1}`} {
			if _, err := s.Send(context.Background(), "SOL", true, r); err == nil {
				t.Errorf("%.40q sent", r)
			}
		}
	})
	t.Run("lying node", func(t *testing.T) {
		node, s := signerOn(t)
		node.SetBlockhash(blockhashOf(t, v).Hash, 1100)
		_, _ = s.Node.LatestBlockhash(context.Background()) // the node issues it
		node.AnswerWrongSignature()
		if _, err := s.Send(context.Background(), "SOL", true, string(raw)); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("transport", func(t *testing.T) {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		}))
		defer hs.Close()
		rpc, _ := NewRPC(hs.URL, nil, nil)
		if _, err := NewSigner(rpc, testDecode).Send(context.Background(), "SOL", true, string(raw)); !errors.Is(err, signing.ErrSendAmbiguous) {
			t.Fatalf("a lost answer: %v, want ErrSendAmbiguous", err)
		}
	})
	t.Run("refused, still valid", func(t *testing.T) {
		node, s := signerOn(t)
		node.SetBlockhash(blockhashOf(t, v).Hash, 1100)
		_, _ = s.Node.LatestBlockhash(context.Background())
		node.FailNextSend(-32002, "Transaction simulation failed: insufficient funds", nil)
		_, err := s.Send(context.Background(), "SOL", true, string(raw))
		if err == nil || errors.Is(err, ErrExpired) || errors.Is(err, signing.ErrSendAmbiguous) || !strings.Contains(err.Error(), "insufficient funds") {
			t.Fatalf("%v", err)
		}
		if got, err := s.Send(context.Background(), "SOL", true, string(raw)); err != nil || got != v.TxID {
			t.Fatalf("resend: %q %v", got, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		node, s := signerOn(t)
		node.SetBlockhash(blockhashOf(t, v).Hash, 1100)
		_, _ = s.Node.LatestBlockhash(context.Background())
		node.Advance(101) // height 1101 > 1100
		_, err := s.Send(context.Background(), "SOL", true, string(raw))
		if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "Blockhash not found") {
			t.Fatalf("%v, want ErrExpired", err)
		}
	})
	t.Run("at the last valid height", func(t *testing.T) {
		node, s := signerOn(t)
		node.SetBlockhash(blockhashOf(t, v).Hash, 1100)
		_, _ = s.Node.LatestBlockhash(context.Background())
		node.Advance(100) // height 1100: it can still land
		node.FailNextSend(-32002, "Transaction simulation failed: insufficient funds", nil)
		if _, err := s.Send(context.Background(), "SOL", true, string(raw)); err == nil || errors.Is(err, ErrExpired) {
			t.Fatalf("%v: not expired yet", err)
		}
	})
}
