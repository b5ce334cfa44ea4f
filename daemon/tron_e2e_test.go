package daemon_test

// TRON through the daemon: the signer kms.Signers wires, tatum-kms's
// vectors (testdata/tron, made with @tatumio/tron 2.2.100 / tronweb 5.3.2),
// every signature recovered with secp256k1 to the stored wallet's address
// by the Tatum stand-in's broadcaster before it accepts the transaction.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/wallet"
)

type tronVector struct {
	Kind, Name, PrivateKey, Address, SerializedTransaction, TxData, TxID string
}

func loadTRONVectors(t *testing.T) []tronVector {
	t.Helper()
	b, err := os.ReadFile("../testdata/tron/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Transactions []tronVector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Transactions
}

// tronVerifier checks a signed TRON transaction as a node would, with code
// of its own: sha256(raw_data_hex) is the txID, the signature recovers to
// the owner_address, and the owner is one of the stored wallets.
type tronVerifier struct {
	mu       sync.Mutex
	owners   map[string]bool // "41" + hex of the 20-byte address
	verified map[string]int  // txID -> times accepted
}

func tronHexAddress(pub []byte) string {
	return "41" + hex.EncodeToString(crypto.Keccak256(pub[1:])[12:])
}

func (v *tronVerifier) broadcast(_ context.Context, txData string) (string, error) {
	var tx struct {
		TxID       string `json:"txID"`
		RawDataHex string `json:"raw_data_hex"`
		RawData    struct {
			Contract []struct {
				Parameter struct {
					Value struct {
						Owner string `json:"owner_address"`
					} `json:"value"`
				} `json:"parameter"`
			} `json:"contract"`
		} `json:"raw_data"`
		Signature []string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(txData), &tx); err != nil || len(tx.Signature) != 1 || len(tx.RawData.Contract) != 1 {
		return "", fmt.Errorf("not a signed TRON transaction: %v", err)
	}
	raw, _ := hex.DecodeString(tx.RawDataHex)
	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) != tx.TxID {
		return "", errors.New("txID is not sha256(raw_data_hex)")
	}
	sig, err := hex.DecodeString(tx.Signature[0])
	if err != nil || len(sig) != 65 {
		return "", errors.New("signature is not 65 bytes of hex")
	}
	compact := append([]byte{sig[64]}, sig[:64]...) // tronweb: r || s || v; btcec: v || r || s
	pub, _, err := ecdsa.RecoverCompact(compact, sum[:])
	if err != nil {
		return "", fmt.Errorf("signature does not recover: %v", err)
	}
	owner := tx.RawData.Contract[0].Parameter.Value.Owner
	if strings.HasPrefix(owner, "T") { // "visible": true writes base58check
		payload, version, err := base58.CheckDecode(owner)
		if err != nil || version != 0x41 {
			return "", fmt.Errorf("owner_address %q is not a TRON address", owner)
		}
		owner = "41" + hex.EncodeToString(payload)
	}
	if got := tronHexAddress(pub.SerializeUncompressed()); got != owner {
		return "", fmt.Errorf("signed by %s, owner is %s", got, owner)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.owners[owner] {
		return "", fmt.Errorf("owner %s is no stored wallet", owner)
	}
	v.verified[tx.TxID]++
	return tx.TxID, nil
}

// tronTransfer builds an unsigned TransferContract as tronweb's
// transactionBuilder.sendTrx returns it, encoding raw_data with protowire
// independently of signing/tron.
func tronTransfer(t *testing.T, ownerHex, toHex string, amount int64) string {
	t.Helper()
	owner, _ := hex.DecodeString(ownerHex)
	to, _ := hex.DecodeString(toHex)
	var val []byte
	val = protowire.AppendTag(val, 1, protowire.BytesType)
	val = protowire.AppendBytes(val, owner)
	val = protowire.AppendTag(val, 2, protowire.BytesType)
	val = protowire.AppendBytes(val, to)
	val = protowire.AppendTag(val, 3, protowire.VarintType)
	val = protowire.AppendVarint(val, uint64(amount))
	const typeURL = "type.googleapis.com/protocol.TransferContract"
	var anyMsg []byte
	anyMsg = protowire.AppendTag(anyMsg, 1, protowire.BytesType)
	anyMsg = protowire.AppendString(anyMsg, typeURL)
	anyMsg = protowire.AppendTag(anyMsg, 2, protowire.BytesType)
	anyMsg = protowire.AppendBytes(anyMsg, val)
	var contract []byte
	contract = protowire.AppendTag(contract, 1, protowire.VarintType)
	contract = protowire.AppendVarint(contract, 1)
	contract = protowire.AppendTag(contract, 2, protowire.BytesType)
	contract = protowire.AppendBytes(contract, anyMsg)
	refBytes, refHash := []byte{0xc9, 0x41}, []byte{1, 2, 3, 4, 5, 6, 7, 8}
	const exp, ts = 1733000060000, 1733000000000
	var raw []byte
	raw = protowire.AppendTag(raw, 1, protowire.BytesType)
	raw = protowire.AppendBytes(raw, refBytes)
	raw = protowire.AppendTag(raw, 4, protowire.BytesType)
	raw = protowire.AppendBytes(raw, refHash)
	raw = protowire.AppendTag(raw, 8, protowire.VarintType)
	raw = protowire.AppendVarint(raw, exp)
	raw = protowire.AppendTag(raw, 11, protowire.BytesType)
	raw = protowire.AppendBytes(raw, contract)
	raw = protowire.AppendTag(raw, 14, protowire.VarintType)
	raw = protowire.AppendVarint(raw, ts)
	id := sha256.Sum256(raw)
	return fmt.Sprintf(`{"visible":false,"txID":"%x","raw_data_hex":"%x","raw_data":{"contract":[{"parameter":{"value":{"to_address":"%s","owner_address":"%s","amount":%d},"type_url":"%s"},"type":"TransferContract"}],"ref_block_bytes":"%x","ref_block_hash":"%x","expiration":%d,"timestamp":%d}}`,
		id, raw, toHex, ownerHex, amount, typeURL, refBytes, refHash, exp, ts)
}

func TestTRONDaemonEndToEnd(t *testing.T) {
	w := newChainWorld(t, "TRON", kms.SignerConfig{})
	ver := &tronVerifier{owners: map[string]bool{}, verified: map[string]int{}}
	w.srv.SetBroadcaster("TRON", ver.broadcast)
	vs := loadTRONVectors(t)

	// tatum-kms's TRON private-key entries: 64 hex digits, no address.
	walletOf := map[string]string{} // private key -> signatureId
	for _, v := range vs {
		if _, ok := walletOf[v.PrivateKey]; ok {
			continue
		}
		id := "tron-" + v.Address
		walletOf[v.PrivateKey] = id
		w.put(backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "TRON", Testnet: true, Secret: []byte(v.PrivateKey)})
		w.secrets = append(w.secrets, v.PrivateKey)
		k, err := wallet.DecodePrivateKey(wallet.TRON, v.PrivateKey, true)
		if err != nil {
			t.Fatal(err)
		}
		ver.owners[tronHexAddress(k.PubKey().SerializeUncompressed())] = true
	}
	// A mnemonic TRON wallet (tatum-kms: {mnemonic, xpub}), signed with the
	// index the pending transaction gives: m/44'/195'/0'/0/3.
	w.put(backend.Record{ID: "tron-mn", Kind: backend.Mnemonic, Chain: "TRON", Testnet: true, Secret: []byte(mnemonic)})
	mk, err := wallet.DeriveKey(wallet.TRON, mnemonic, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	mnOwner := tronHexAddress(mk.PubKey().SerializeUncompressed())
	ver.owners[mnOwner] = true

	var txs []e2eTx
	kinds := map[string]int{}
	var spare []tronVector
	for _, v := range vs {
		if kinds[v.Kind] >= 2 {
			spare = append(spare, v)
			continue
		}
		kinds[v.Kind]++
		txs = append(txs, e2eTx{pt: tatum.PendingTransaction{ID: tid("tron " + v.Name), Chain: "TRON",
			SerializedTransaction: v.SerializedTransaction, Hashes: []string{walletOf[v.PrivateKey]}}, txData: v.TxData})
	}
	three := uint32(3)
	txs = append(txs, e2eTx{pt: tatum.PendingTransaction{ID: tid("tron mnemonic 3"), Chain: "TRON",
		SerializedTransaction: tronTransfer(t, mnOwner, "415cbdd86a2fa8dc4bddd8a8f69dba48572eec07fb", 4242), Hashes: []string{"tron-mn"}, Index: &three}})

	other := spare[0] // signed by another stored wallet than its owner
	var otherWallet string
	for k, id := range walletOf {
		if k != other.PrivateKey {
			otherWallet = id
			break
		}
	}
	var tampered map[string]any
	_ = json.Unmarshal([]byte(spare[1].SerializedTransaction), &tampered)
	rd := tampered["raw_data"].(map[string]any)
	rd["expiration"] = rd["expiration"].(float64) + 3600_000 // raw_data_hex, the signed bytes, unchanged
	tb, _ := json.Marshal(tampered)
	refusals := []e2eRefusal{
		{tatum.PendingTransaction{ID: tid("tron foreign owner"), Chain: "TRON", SerializedTransaction: other.SerializedTransaction, Hashes: []string{otherWallet}},
			"is not the address of the signing wallet"},
		{tatum.PendingTransaction{ID: tid("tron tampered"), Chain: "TRON", SerializedTransaction: string(tb), Hashes: []string{walletOf[spare[1].PrivateKey]}},
			"raw_data_hex is not the protobuf encoding of raw_data"},
		{tatum.PendingTransaction{ID: tid("tron mnemonic without index"), Chain: "TRON", SerializedTransaction: txs[len(txs)-1].pt.SerializedTransaction, Hashes: []string{"tron-mn"}},
			"is a mnemonic wallet, but the transaction gives no index"},
	}
	crash := e2eTx{pt: tatum.PendingTransaction{ID: tid("tron crash"), Chain: "TRON", SerializedTransaction: spare[2].SerializedTransaction,
		Hashes: []string{walletOf[spare[2].PrivateKey]}}, txData: spare[2].TxData}

	runChainE2E(t, w, "/v3/tron/broadcast", txs, refusals, func(t *testing.T) {
		w.crashResend(t, "/v3/tron/broadcast", crash)
	})
	ver.mu.Lock()
	defer ver.mu.Unlock()
	if len(ver.verified) != len(txs)+1 {
		t.Errorf("%d transactions verified, want %d", len(ver.verified), len(txs)+1)
	}
	for id, n := range ver.verified {
		if n != 1 {
			t.Errorf("%s accepted %d times", id, n)
		}
	}
	if !strings.Contains(w.logs.String(), `"chain":"TRON"`) {
		t.Error("no TRON log lines")
	}
}
