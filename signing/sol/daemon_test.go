package sol

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/sol/soltest"
	"github.com/gokms/gokms/wallet"
)

// records is a KeySource over tatum-kms-style SOL entries (privateKey field).
type records map[string]string

func (r records) Ed25519Key(_ context.Context, id string, _ *uint32) (ed25519.PrivateKey, error) {
	pk, ok := r[id]
	if !ok {
		return nil, fmt.Errorf("no wallet %s", id)
	}
	return wallet.DecodeSolanaPrivateKey(pk)
}

func TestPrepareAndSend(t *testing.T) {
	node := soltest.New()
	defer node.Close()
	c, _ := NewRPC(node.URL, nil, nil)
	for _, name := range []string{"native-feepayer-1", "deploy-5", "multi-3"} {
		v := byName(t, name)
		recs := records{}
		for i, id := range v.Pending.Hashes {
			recs[id] = v.PrivateKeys[i]
		}
		node.SetBlockhash(blockhashOf(t, v).Hash, v.LastValidBlockHeight+1000)
		req := signing.Request{ID: v.Pending.ID, Chain: "SOL", SerializedTransaction: v.Pending.SerializedTransaction, Hashes: v.Pending.Hashes}
		s, err := Prepare(context.Background(), c, req, recs)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if base64.StdEncoding.EncodeToString(s.Wire) != v.Wire || s.TxID != v.TxID {
			t.Fatalf("%s: not the SDK's transaction", name)
		}
		if node.Landed()[s.TxID] != nil {
			t.Fatalf("%s: Prepare sent the transaction", name)
		}
		if err := Send(context.Background(), c, s); err != nil {
			t.Fatal(err)
		}
		if node.Landed()[s.TxID] == nil {
			t.Fatalf("%s: not landed", name)
		}
	}
	v := byName(t, "native-0")
	req := signing.Request{ID: v.Pending.ID, Chain: "SOL", SerializedTransaction: v.Pending.SerializedTransaction, Hashes: v.Pending.Hashes}
	if _, err := Prepare(context.Background(), c, req, records{}); err == nil || !strings.Contains(err.Error(), "no wallet") {
		t.Errorf("missing wallet: %v", err)
	}
	req.Chain = "XLM"
	if _, err := Prepare(context.Background(), c, req, records{v.Pending.Hashes[0]: v.PrivateKeys[0]}); !errors.Is(err, ErrRefused) {
		t.Errorf("wrong chain: %v", err)
	}
	// Sending the same signed transaction twice cannot land it twice.
	req.Chain = "SOL"
	s, err := Prepare(context.Background(), c, req, records{v.Pending.Hashes[0]: v.PrivateKeys[0]})
	if err != nil {
		t.Fatal(err)
	}
	if err := Send(context.Background(), c, s); err != nil {
		t.Fatal(err)
	}
	var re *RPCError
	if err := Send(context.Background(), c, s); !errors.As(err, &re) || !strings.Contains(re.Message, "already been processed") {
		t.Errorf("second send: %v", err)
	}
}
