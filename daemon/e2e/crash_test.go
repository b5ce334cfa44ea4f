package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/gokms/gokms/daemon/internal/crashtest"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

const crashBTC = 200

// TestBTCCrashSafety: the real gokms daemon binary drains 200 pending BTC
// transfers (each spending its own output of the segwit private-key wallet
// to its own destination) against btcd regtest, and is SIGKILLed at 10
// random moments and restarted each time. Every pending id must be
// completed with a transaction btcd mined that pays its destination, none
// twice, and the journal must open after every kill.
func TestBTCCrashSafety(t *testing.T) {
	need(t)
	// Fund 200 outputs of pk-segwit from one coinbase, through the daemon.
	srv := w.newStandIn(t)
	cb := w.coinbase(t)
	const each = 100000
	var outs []utxotest.Output
	for i := 0; i < crashBTC; i++ {
		outs = append(outs, utxotest.Output{Script: p2wpkh(w.pkSeg), Satoshis: each})
	}
	outs = append(outs, utxotest.Output{Script: p2wpkh(w.miner), Satoshis: cb.Satoshis - crashBTC*each - 100000})
	fund := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{cb}, outs), Hashes: []string{"miner"}})
	if err := w.runDaemon(t, srv, nil); err != nil {
		t.Fatal(err)
	}
	fundTx := w.accepted(t, srv, fund)
	w.mineAndConfirm(t, fundTx)

	type payment struct {
		id   string
		dest []byte
	}
	var pays []payment
	for i := 0; i < crashBTC; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("btc crash dest %d %d", i, time.Now().UnixNano())))
		k, _ := btcec.PrivKeyFromBytes(h[:])
		dest := p2wpkh(k)
		id := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", Hashes: []string{"pk-segwit"},
			SerializedTransaction: w.bitcore(t, []utxotest.Input{out(fundTx, uint32(i), p2wpkh(w.pkSeg), each)},
				[]utxotest.Output{{Script: dest, Satoshis: each - 2000}})})
		pays = append(pays, payment{id, dest})
	}
	// Slow the broadcasts (after the node took them, before the answer) so
	// the kills land during the drain, many of them in that window.
	srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Delay: 40 * time.Millisecond, AfterHandling: true, Times: -1})
	jpath := journal.PathBeside(w.storePath)
	done := func() bool {
		for _, p := range pays {
			if _, ok := srv.Completed(p.id); !ok {
				return false
			}
		}
		return true
	}
	_, delays := crashtest.Run(t, crashtest.Options{
		Bin: w.gokms, Dir: w.dir,
		Args: []string{"daemon", "--testnet", "--period", "0.1", "--chain", "BTC", "--path", w.storePath, "--concurrency", "2"},
		Env: []string{"HOME=" + w.dir, "PATH=" + os.Getenv("PATH"), "TATUM_API_URL=" + srv.URL,
			"TATUM_API_KEY=" + srv.APIKey, "TATUM_KMS_PASSWORD=" + w.password},
		MinDelay: 100 * time.Millisecond, MaxDelay: 800 * time.Millisecond,
		Done:    done,
		Secrets: append([]string{w.password}, w.secrets...),
		AfterKill: func(t *testing.T, kill int) {
			j, err := journal.OpenFile(jpath, journal.FileOptions{ReadOnly: true})
			if err != nil {
				t.Fatalf("journal does not open after kill %d: %v", kill, err)
			}
			es, err := j.List(context.Background(), false)
			_ = j.Close()
			if err != nil {
				t.Fatalf("journal unreadable after kill %d: %v", kill, err)
			}
			n := 0
			for _, p := range pays {
				if _, ok := srv.Completed(p.id); ok {
					n++
				}
			}
			t.Logf("kill %d: %d journal entries, %d of %d completed at Tatum", kill, len(es), n, len(pays))
		},
	})
	t.Logf("kill delays %v", delays)
	if _, err := w.node.RPC.Generate(1); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pays {
		txid, _ := srv.Completed(p.id)
		if seen[txid] {
			t.Fatalf("two pending ids completed with one transaction %s", txid)
		}
		seen[txid] = true
		h, err := chainhash.NewHashFromStr(txid)
		if err != nil {
			t.Fatal(err)
		}
		v, err := w.node.RPC.GetRawTransactionVerbose(h)
		if err != nil || v.Confirmations < 1 {
			t.Fatalf("pending %s: transaction %s not mined (%v)", p.id, txid, err)
		}
		tx, err := w.node.RPC.GetRawTransaction(h)
		if err != nil {
			t.Fatal(err)
		}
		paid := 0
		for _, o := range tx.MsgTx().TxOut {
			if string(o.PkScript) == string(p.dest) && o.Value == each-2000 {
				paid++
			}
		}
		if paid != 1 || len(tx.MsgTx().TxIn) != 1 || tx.MsgTx().TxIn[0].PreviousOutPoint.Hash != *fundTx {
			t.Fatalf("pending %s: transaction %s does not pay its destination once from its own output", p.id, txid)
		}
	}
	// Each funding output is spent exactly once (by the transaction above).
	for i := 0; i < crashBTC; i++ {
		u, err := w.node.RPC.GetTxOut(fundTx, uint32(i), true)
		if err != nil || u != nil {
			t.Fatalf("funding output %d still unspent (%v)", i, err)
		}
	}
	t.Logf("%d broadcast requests for %d pending ids", srv.CountRequests("POST", "/v3/bitcoin/broadcast"), len(pays))
}
