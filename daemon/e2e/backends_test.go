package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/all"
	"github.com/gokms/gokms/backend/azure"
	"github.com/gokms/gokms/backend/azure/azuretest"
	"github.com/gokms/gokms/backend/cache"
	_ "github.com/gokms/gokms/backend/hashivault" // vault+http:// for backend.Open
	"github.com/gokms/gokms/backend/hashivault/vaulttest"
	"github.com/gokms/gokms/backend/migrate"
	"github.com/gokms/gokms/backend/vgs"
	"github.com/gokms/gokms/backend/vgs/vgstest"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
)

// One real Vault dev server per package, started by TestMain after btcd.
var (
	vault        *vaulttest.Server
	vaultAudit   *vaulttest.AuditLog // Vault's own log of every request it handled
	vaultSkipWhy string
)

// startVault starts the package's Vault server with a file audit device.
// Without the binary it returns an error under CI=true and otherwise
// leaves a reason for the Vault cases to skip with.
func startVault(dir string) error {
	ci := os.Getenv("CI") == "true"
	// The tests choose every Vault setting: none of the developer's VAULT_*
	// variables may reach the clients.
	vaulttest.UnsetEnv()
	bin, err := vaulttest.Find(ci)
	if err != nil {
		if ci {
			return fmt.Errorf("daemon/e2e needs a Vault server (CI=true makes a missing one a failure): %w", err)
		}
		vaultSkipWhy = "Vault server not available (run scripts/vault.sh): " + err.Error()
		return nil
	}
	vault, err = vaulttest.StartDev(bin)
	if err != nil {
		return fmt.Errorf("start vault server -dev: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if vaultAudit, err = vault.EnableAudit(ctx, dir); err != nil {
		return err
	}
	return nil
}

func stopVault() {
	if vault != nil {
		vault.Stop()
	}
}

func needVault(t *testing.T) {
	t.Helper()
	if vault == nil {
		t.Skip(vaultSkipWhy)
	}
}

// vaultAddr is the --backend address of a KV v2 prefix under secret/.
func vaultAddr(prefix string) string {
	u, _ := url.Parse(vault.Addr)
	return "vault+http://" + u.Host + "/secret/" + prefix
}

// vaultReads counts the secret reads under prefix (optionally of one id)
// that reached Vault, from Vault's audit log.
func vaultReads(t *testing.T, prefix, id string) int {
	t.Helper()
	n, err := vaultAudit.Requests("read", "secret/data/"+prefix+"/"+id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// openVault opens a fresh prefix through the registered opener, as the CLI
// does (token from VAULT_TOKEN), and copies the file store's wallets there.
func openVault(t *testing.T, prefix string) backend.SecretBackend {
	t.Helper()
	t.Setenv("VAULT_TOKEN", vault.RootToken)
	vb, err := all.Registry().Open(context.Background(), vaultAddr(prefix), backend.OpenConfig{Testnet: true, Getenv: os.Getenv, Logger: w.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vb.Close() })
	if _, err := migrate.Copy(context.Background(), w.store, vb, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	return vb
}

// TestDaemonWithRemoteBackends runs the daemon against btcd with the wallets
// moved into HashiCorp Vault (a real dev server), Azure Key Vault and VGS
// (the real clients against their stand-ins), behind the read cache the
// daemon uses for remote stores: a private-key wallet funds a mnemonic
// address, and the mnemonic wallet spends it, every transaction accepted and
// mined by the node.
func TestDaemonWithRemoteBackends(t *testing.T) {
	need(t)
	ctx := context.Background()

	for i, tc := range []struct {
		name string
		// open returns the remote store (the wallets not yet copied in) and
		// a count of the secret reads it served.
		open func(t *testing.T) (remote backend.SecretBackend, gets func() int)
	}{
		{"azure", func(t *testing.T) (backend.SecretBackend, func() int) {
			kv := azuretest.New()
			t.Cleanup(kv.Close)
			az, err := azure.New(azure.Options{VaultURL: kv.URL, Credential: kv.Credential(), ClientOptions: &azsecrets.ClientOptions{
				ClientOptions:                        azcore.ClientOptions{Transport: kv.Client(), Retry: policy.RetryOptions{RetryDelay: time.Millisecond}},
				DisableChallengeResourceVerification: true,
			}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := migrate.Copy(ctx, w.store, az, migrate.Options{}); err != nil {
				t.Fatal(err)
			}
			return az, func() int { return kv.Requests("GET secrets/*") }
		}},
		{"vgs", func(t *testing.T) (backend.SecretBackend, func() int) {
			vs := vgstest.New()
			t.Cleanup(vs.Close)
			vb, err := vgs.New(vgs.Options{IndexPath: filepath.Join(t.TempDir(), "vgs-index.db"),
				Client: &vgs.Client{BaseURL: vs.URL, Username: vs.Username, Password: vs.Password, HTTP: vs.Client(), Retries: 2, Backoff: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := migrate.Copy(ctx, w.store, vb, migrate.Options{}); err != nil {
				t.Fatal(err)
			}
			return vb, func() int { return vs.Requests("GET") }
		}},
		{"vault", func(t *testing.T) (backend.SecretBackend, func() int) {
			needVault(t)
			prefix := "e2e-" + vaulttest.RandHex(4)
			return openVault(t, prefix), func() int { return vaultReads(t, prefix, "") }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			remote, gets := tc.open(t)
			cached := cache.New(remote, cache.Options{TTL: time.Minute})
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
			before := gets()
			if err := w.runDaemon(t, srv, withRemote); err != nil {
				t.Fatal(err)
			}
			var funds []*chainhash.Hash
			for _, id := range ids {
				funds = append(funds, w.accepted(t, srv, id))
			}
			w.mineAndConfirm(t, funds...)
			// Two transactions signed by one wallet: the remote store was read once.
			if n := gets() - before; n != 1 {
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

// TestDaemonBinaryWithVault runs the real `gokms daemon --runOnce --backend
// vault+http://…` with VAULT_TOKEN in its environment: a private-key and a
// mnemonic wallet sign in one cycle, the node accepts both transactions, and
// Vault's audit log shows each wallet read once, the start-up credentials
// check included (the daemon reads a remote store through its cache); with
// --cache-ttl 0 that check costs a second read.
func TestDaemonBinaryWithVault(t *testing.T) {
	need(t)
	needVault(t)
	prefix := "e2e-bin-" + vaulttest.RandHex(4)
	openVault(t, prefix)

	// An output of the mnemonic wallet to spend, funded through the file store.
	const idx = 50
	mnKey := w.mnKey(t, w.mn, idx)
	srv := w.newStandIn(t)
	cb := w.coinbase(t)
	fid := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", Hashes: []string{"miner"},
		SerializedTransaction: w.bitcore(t, []utxotest.Input{cb}, []utxotest.Output{{Script: p2wpkh(mnKey), Satoshis: cb.Satoshis - 10000}})})
	if err := w.runDaemon(t, srv, nil); err != nil {
		t.Fatal(err)
	}
	fund := w.accepted(t, srv, fid)
	w.mineAndConfirm(t, fund)
	v, err := w.node.RPC.GetRawTransaction(fund)
	if err != nil {
		t.Fatal(err)
	}

	srv = w.newStandIn(t)
	a := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{w.coinbase(t)}, nil), Hashes: []string{"miner"}})
	b := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC",
		SerializedTransaction: w.bitcore(t, []utxotest.Input{out(fund, 0, v.MsgTx().TxOut[0].PkScript, v.MsgTx().TxOut[0].Value)}, nil),
		Signatures:            []tatum.Signature{{ID: "mn", Index: u32(idx)}}})
	minerBefore, mnBefore, allBefore := vaultReads(t, prefix, "miner"), vaultReads(t, prefix, "mn"), vaultReads(t, prefix, "")
	token := []string{"VAULT_TOKEN=" + vault.RootToken}
	args := []string{"daemon", "--testnet", "--runOnce", "--chain", "BTC", "--backend", vaultAddr(prefix), "--log-format", "json"}
	stdout, stderr, code := w.gokmsRunEnv(t, srv, token, args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	w.mineAndConfirm(t, w.accepted(t, srv, a), w.accepted(t, srv, b))
	if !strings.Contains(stderr, `"msg":"transaction signed and broadcast"`) {
		t.Fatalf("no JSON log of the broadcast:\n%s", stderr)
	}
	w.noSecrets(t, stdout, stderr)
	if strings.Contains(stdout+stderr, vault.RootToken) {
		t.Fatal("the Vault token is in the daemon's output")
	}
	// Paths are prefixes: "mn" counts "mn-offchain" too, which nothing signs.
	miner, mn, all := vaultReads(t, prefix, "miner")-minerBefore, vaultReads(t, prefix, "mn")-mnBefore, vaultReads(t, prefix, "")-allBefore
	if miner != 1 || mn != 1 || all != 2 {
		t.Errorf("Vault served %d reads of miner, %d of mn, %d in all for one run; want 1 per wallet, 2 in all", miner, mn, all)
	}

	// Without the cache the start-up check and the cycle read "miner" apart.
	srv = w.newStandIn(t)
	c := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{w.coinbase(t)}, nil), Hashes: []string{"miner"}})
	minerBefore = vaultReads(t, prefix, "miner")
	stdout, stderr, code = w.gokmsRunEnv(t, srv, token, append(args, "--cache-ttl", "0")...)
	if code != 0 {
		t.Fatalf("--cache-ttl 0: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	w.mineAndConfirm(t, w.accepted(t, srv, c))
	if n := vaultReads(t, prefix, "miner") - minerBefore; n != 2 {
		t.Errorf("with --cache-ttl 0 Vault served %d reads of miner, want 2 (check + cycle)", n)
	}
}
