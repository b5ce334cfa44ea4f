package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/azure"
	"github.com/gokms/gokms/backend/azure/azuretest"
	"github.com/gokms/gokms/backend/cache"
	"github.com/gokms/gokms/backend/migrate"
	"github.com/gokms/gokms/backend/vgs"
	"github.com/gokms/gokms/backend/vgs/vgstest"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
)

// TestDaemonWithRemoteBackends runs the daemon against btcd with the wallets
// moved into Azure Key Vault and into VGS (the real clients against their
// stand-ins), behind the read cache the daemon uses for remote stores: a
// private-key wallet funds a mnemonic address, and the mnemonic wallet
// spends it, every transaction accepted and mined by the node.
func TestDaemonWithRemoteBackends(t *testing.T) {
	need(t)
	ctx := context.Background()

	kv := azuretest.New()
	defer kv.Close()
	az, err := azure.New(azure.Options{VaultURL: kv.URL, Credential: kv.Credential(), ClientOptions: &azsecrets.ClientOptions{
		ClientOptions:                        azcore.ClientOptions{Transport: kv.Client(), Retry: policy.RetryOptions{RetryDelay: time.Millisecond}},
		DisableChallengeResourceVerification: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	vs := vgstest.New()
	defer vs.Close()
	vb, err := vgs.New(vgs.Options{IndexPath: filepath.Join(t.TempDir(), "vgs-index.db"),
		Client: &vgs.Client{BaseURL: vs.URL, Username: vs.Username, Password: vs.Password, HTTP: vs.Client(), Retries: 2, Backoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}

	for i, tc := range []struct {
		name   string
		remote backend.SecretBackend
		gets   func() int // reads of secret values the remote store served
	}{
		{"azure", az, func() int { return kv.Requests("GET secrets/*") }},
		{"vgs", vb, func() int { return vs.Requests("GET") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := migrate.Copy(ctx, w.store, tc.remote, migrate.Options{}); err != nil {
				t.Fatal(err)
			}
			cached := cache.New(tc.remote, cache.Options{TTL: time.Minute})
			withRemote := func(c *daemon.Config) { c.Backend = cached }
			idx := uint32(40 + i)
			mnKey := w.mnKey(t, w.mn, idx)

			// 1. The private-key wallet "miner" pays two coinbases to the
			// mnemonic's address at idx, in two pending transactions.
			srv := w.newStandIn(t)
			var ids []string
			for j := 0; j < 2; j++ {
				cb := w.coinbase(t)
				ids = append(ids, srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", Hashes: []string{"miner"},
					SerializedTransaction: w.bitcore(t, []utxotest.Input{cb}, []utxotest.Output{{Script: p2wpkh(mnKey), Satoshis: cb.Satoshis - 10000}})}))
			}
			before := tc.gets()
			if err := w.runDaemon(t, srv, withRemote); err != nil {
				t.Fatal(err)
			}
			var funds []*chainhash.Hash
			for _, id := range ids {
				funds = append(funds, w.accepted(t, srv, id))
			}
			w.mineAndConfirm(t, funds...)
			// Two transactions signed by one wallet: the remote store was read once.
			if n := tc.gets() - before; n != 1 {
				t.Errorf("the remote store served %d secret reads for one wallet in one cycle, want 1", n)
			}

			// 2. The mnemonic wallet spends both outputs in one transaction.
			srv = w.newStandIn(t)
			var ins []utxotest.Input
			for _, f := range funds {
				v, err := w.node.RPC.GetRawTransaction(f)
				if err != nil {
					t.Fatal(err)
				}
				ins = append(ins, out(f, 0, v.MsgTx().TxOut[0].PkScript, v.MsgTx().TxOut[0].Value))
			}
			id := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, ins, nil),
				Signatures: []tatum.Signature{{ID: "mn", Index: u32(idx)}, {ID: "mn", Index: u32(idx)}}})
			if err := w.runDaemon(t, srv, withRemote); err != nil {
				t.Fatal(err)
			}
			w.mineAndConfirm(t, w.accepted(t, srv, id))
			w.noSecrets(t, w.logs.String())
		})
	}
}
